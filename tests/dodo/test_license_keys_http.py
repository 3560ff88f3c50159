"""Dodo license keys over HTTP (Flask test client): issued when a license-key product is paid, the
merchant's /license_keys and /license_key_instances, and the public /licenses/* without an API
key. Every answer is checked against the contract, every event against its webhook schema, and
every refusal by status, Dodo's code and message."""
from urllib.parse import parse_qs, urlsplit

import pytest

from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
ADDRESS = {"country": "US", "street": "1 Main St", "city": "SF", "state": "CA", "zipcode": "94105"}
NS = credential_namespace("dodo", API_KEY)


def conforms(response, operation_id, status=200):
    assert response.status_code == status, response.data
    body = response.json if response.data else None
    assert CONTRACT.response_errors(operation_id, response.status_code, body) == [], body
    return body


def refused(response, operation_id, status, code, message):
    body = conforms(response, operation_id, status)
    assert body == {"code": code, "message": message}


def buy(client, auth, catalog, slug="desktop_app_license", quantity=1):
    body = {"product_cart": [{"product_id": catalog.dodo_id(slug), "quantity": quantity}],
            "customer": {"email": "lic@example.com", "name": "Lic Buyer"},
            "billing_address": ADDRESS, "confirm": True}
    session = client.post("/dodo/checkouts", json=body, headers=auth).json
    paid = client.post(f"/_mock/payments/{session['session_id']}/outcome", json={"outcome": "paid"})
    assert paid.status_code == 200, paid.json
    return session["payment_id"]


def keys_of(client, auth, payment_id):
    listing = conforms(client.get("/dodo/license_keys?page_size=100", headers=auth),
                       "list_license_keys_handler")
    return [k for k in listing["items"] if k["payment_id"] == payment_id]


def events(client, payment_id=None):
    sent = client.get(f"/_mock/webhooks/events?namespace={NS}").json["events"]
    for event in sent:
        assert CONTRACT.webhook_errors(event["type"], event["payload"]) == [], event
    return [(e["type"], e["payload"]["data"]) for e in sent]


def test_a_paid_license_product_issues_a_key_per_unit_after_payment_succeeded(client, auth, catalog):
    payment_id = buy(client, auth, catalog, quantity=2)
    keys = keys_of(client, auth, payment_id)
    assert len(keys) == 2 and len({k["key"] for k in keys}) == 2
    product = catalog.dodo_product("desktop_app_license")
    for key in keys:
        assert key["id"].startswith("lic_") and len(key["key"]) == 36 and key["key"].count("-") == 4
        assert (key["status"], key["source"], key["activations_limit"], key["instances_count"]) == (
            "active", "auto", 3, 0)
        assert (key["product_id"], key["subscription_id"]) == (product["product_id"], None)
        # One year (the entitlement's duration) after the payment, on the frozen mock clock.
        assert (key["created_at"], key["expires_at"]) == ("2026-09-21T14:13:20.000Z",
                                                          "2027-09-21T14:13:20.000Z")
    sent = events(client)
    kinds = [kind for kind, data in sent
             if data.get("payment_id") == payment_id]
    assert kinds == ["payment.succeeded", "license_key.created", "entitlement_grant.created",
                     "entitlement_grant.delivered", "license_key.created",
                     "entitlement_grant.created", "entitlement_grant.delivered"]
    grants = [data for kind, data in sent if kind == "entitlement_grant.delivered"
              and data["payment_id"] == payment_id]
    entitlement = product["entitlements"][0]["id"]
    assert {g["license_key"]["key"] for g in grants} == {k["key"] for k in keys}
    assert all((g["status"], g["entitlement_id"], g["integration_type"]) ==
               ("Delivered", entitlement, "license_key") for g in grants)
    listed = client.get("/dodo/payments?page_size=100", headers=auth).json["items"]
    flags = {p["payment_id"]: p["has_license_key"] for p in listed}
    assert flags[payment_id] is True
    other = buy(client, auth, catalog, slug="ebook_guide")
    assert keys_of(client, auth, other) == []
    listed = client.get("/dodo/payments?page_size=100", headers=auth).json["items"]
    assert {p["payment_id"]: p["has_license_key"] for p in listed}[other] is False


def test_public_operations_take_no_api_key_and_refuse_as_dodo_does(client, auth, catalog):
    key = keys_of(client, auth, buy(client, auth, catalog))[0]
    activate = {"license_key": key["key"], "name": "laptop"}
    instances = []
    for n in range(3):  # the limit is 3
        made = conforms(client.post("/dodo/licenses/activate", json=dict(activate, name=f"pc{n}")),
                        "activate_license_key", 201)
        assert made["id"].startswith("lki_") and made["license_key_id"] == key["id"]
        assert made["customer"]["email"] == "lic@example.com"
        assert made["product"] == {"product_id": key["product_id"],
                                   "name": "Desktop App License (license key)"}
        instances.append(made["id"])
    refused(client.post("/dodo/licenses/activate", json=activate), "activate_license_key", 422,
            "LICENSE_KEY_LIMIT_REACHED", "License key activation limit reached")
    assert client.get(f"/dodo/license_keys/{key['id']}", headers=auth).json["instances_count"] == 3
    validate = conforms(client.post("/dodo/licenses/validate", json={
        "license_key": key["key"], "license_key_instance_id": instances[0]}), "validate_license_key")
    assert validate == {"valid": True}
    deactivated = client.post("/dodo/licenses/deactivate", json={
        "license_key": key["key"], "license_key_instance_id": instances[0]})
    assert conforms(deactivated, "deactivate_license_key") is None  # 200, no body
    assert client.post("/dodo/licenses/validate", json={
        "license_key": key["key"], "license_key_instance_id": instances[0]}).json == {"valid": False}
    refused(client.post("/dodo/licenses/deactivate", json={
        "license_key": key["key"], "license_key_instance_id": instances[0]}),
        "deactivate_license_key", 403, "LICENSE_KEY_NOT_FOUND",
        "License key instance not found or does not belong to this license key")
    conforms(client.post("/dodo/licenses/activate", json=activate), "activate_license_key", 201)
    # Unknown keys: 404 to activate and deactivate, {valid: false} to validate (choice 9).
    refused(client.post("/dodo/licenses/activate", json={"license_key": "nope", "name": "x"}),
            "activate_license_key", 404, "NOT_FOUND", "License key not found")
    refused(client.post("/dodo/licenses/deactivate", json={
        "license_key": "nope", "license_key_instance_id": instances[1]}),
        "deactivate_license_key", 404, "NOT_FOUND", "License key not found")
    assert conforms(client.post("/dodo/licenses/validate", json={"license_key": "nope"}),
                    "validate_license_key") == {"valid": False}
    # The contract still checks the body of a public call.
    bad = client.post("/dodo/licenses/activate", json={"license_key": key["key"]})
    assert bad.status_code == 422 and bad.json["code"] == "INVALID_REQUEST_BODY"


def test_an_instance_of_another_key_is_not_this_keys(client, auth, catalog):
    first, second = keys_of(client, auth, buy(client, auth, catalog, quantity=2))
    made = client.post("/dodo/licenses/activate", json={"license_key": first["key"],
                                                          "name": "a"}).json
    assert client.post("/dodo/licenses/validate", json={
        "license_key": second["key"], "license_key_instance_id": made["id"]}).json == {"valid": False}
    refused(client.post("/dodo/licenses/deactivate", json={
        "license_key": second["key"], "license_key_instance_id": made["id"]}),
        "deactivate_license_key", 403, "LICENSE_KEY_NOT_FOUND",
        "License key instance not found or does not belong to this license key")


def test_disabled_and_expired_keys_are_inactive(client, auth, catalog, clock):
    key = keys_of(client, auth, buy(client, auth, catalog))[0]
    body = {"license_key": key["key"], "name": "pc"}
    patched = conforms(client.patch(f"/dodo/license_keys/{key['id']}", json={"disabled": True},
                                    headers=auth), "update_license_key")
    assert patched["status"] == "disabled"
    refused(client.post("/dodo/licenses/activate", json=body), "activate_license_key", 403,
            "INACTIVE_LICENSE_KEY", "License key is not active")
    assert client.post("/dodo/licenses/validate", json={"license_key": key["key"]}).json == {
        "valid": False}
    revoked = [d for kind, d in events(client) if kind == "entitlement_grant.revoked"
               and d["license_key"]["key"] == key["key"]]
    assert [(g["status"], g["revocation_reason"]) for g in revoked] == [
        ("Revoked", "license_key_disabled")]
    enabled = client.patch(f"/dodo/license_keys/{key['id']}", json={"disabled": False}, headers=auth)
    assert enabled.json["status"] == "active"
    redelivered = [d for kind, d in events(client) if kind == "entitlement_grant.delivered"
                   and d["license_key"]["key"] == key["key"]]
    assert [g["status"] for g in redelivered] == ["Delivered", "Delivered"]
    conforms(client.post("/dodo/licenses/activate", json=body), "activate_license_key", 201)
    clock.advance(366 * 24 * 3600)  # past the one-year duration
    assert client.get(f"/dodo/license_keys/{key['id']}", headers=auth).json["status"] == "expired"
    refused(client.post("/dodo/licenses/activate", json=body), "activate_license_key", 403,
            "INACTIVE_LICENSE_KEY", "License key is not active")
    assert client.post("/dodo/licenses/validate", json={"license_key": key["key"]}).json == {
        "valid": False}
    expired = client.get("/dodo/license_keys?status=expired", headers=auth).json["items"]
    assert key["id"] in {k["id"] for k in expired}
    later = client.patch(f"/dodo/license_keys/{key['id']}",
                         json={"expires_at": "2030-01-01T00:00:00Z"}, headers=auth).json
    assert (later["status"], later["expires_at"]) == ("active", "2030-01-01T00:00:00.000Z")
    never = client.patch(f"/dodo/license_keys/{key['id']}", json={"expires_at": None},
                         headers=auth).json
    assert (never["status"], never["expires_at"]) == ("active", None)


def test_patch_limits_and_subscription_keys(client, auth, catalog):
    key = keys_of(client, auth, buy(client, auth, catalog))[0]
    for name in ("a", "b"):
        client.post("/dodo/licenses/activate", json={"license_key": key["key"], "name": name})
    refused(client.patch(f"/dodo/license_keys/{key['id']}", json={"activations_limit": 1},
                         headers=auth), "update_license_key", 422,
            "ACTIVATION_LIMIT_LESS_THAN_CURRENT_AMOUNT",
            "New activation limit cannot be less than current instances count")
    same = conforms(client.patch(f"/dodo/license_keys/{key['id']}", json={"activations_limit": 2},
                                 headers=auth), "update_license_key")
    assert same["activations_limit"] == 2
    unlimited = client.patch(f"/dodo/license_keys/{key['id']}", json={"activations_limit": None},
                             headers=auth).json
    assert unlimited["activations_limit"] is None and unlimited["expires_at"] is not None
    refused(client.patch("/dodo/license_keys/lic_missing", json={}, headers=auth),
            "update_license_key", 404, "NOT_FOUND", "License key not found")
    refused(client.get("/dodo/license_keys/lic_missing", headers=auth),
            "get_license_key_handler", 404, "NOT_FOUND", "License key not found")
    seats = keys_of(client, auth, buy(client, auth, catalog, slug="team_seats_plan", quantity=2))
    assert len(seats) == 2 and all(k["subscription_id"] and k["expires_at"] is None for k in seats)
    refused(client.patch(f"/dodo/license_keys/{seats[0]['id']}",
                         json={"expires_at": "2030-01-01T00:00:00Z"}, headers=auth),
            "update_license_key", 400, "NO_EXPIRY_ON_SUBSCRIPTION_LICENSE_KEYS",
            "Cannot set expiry date for subscription-based license key")


def test_instances_list_read_and_rename(client, auth, catalog):
    key = keys_of(client, auth, buy(client, auth, catalog))[0]
    made = [client.post("/dodo/licenses/activate", json={"license_key": key["key"], "name": n}).json
            for n in ("one", "two")]
    listing = conforms(client.get(f"/dodo/license_key_instances?license_key_id={key['id']}",
                                  headers=auth), "list_license_key_instances")
    assert {i["id"] for i in listing["items"]} == {m["id"] for m in made}
    paged = client.get(f"/dodo/license_key_instances?license_key_id={key['id']}&page_size=1"
                       "&page_number=1", headers=auth).json["items"]
    assert len(paged) == 1
    grant = [d for kind, d in events(client) if kind == "entitlement_grant.created"
             and d["license_key"]["key"] == key["key"]][0]
    by_grant = client.get(f"/dodo/license_key_instances?grant_id={grant['id']}", headers=auth).json
    assert {i["id"] for i in by_grant["items"]} == {m["id"] for m in made}
    renamed = conforms(client.patch(f"/dodo/license_key_instances/{made[0]['id']}",
                                    json={"name": "renamed"}, headers=auth),
                       "update_license_key_instance")
    assert renamed["name"] == "renamed"
    got = conforms(client.get(f"/dodo/license_key_instances/{made[0]['id']}", headers=auth),
                   "get_license_key_instance")
    assert got == renamed
    refused(client.get("/dodo/license_key_instances/lki_missing", headers=auth),
            "get_license_key_instance", 404, "NOT_FOUND", "License key instance not found")
    refused(client.patch("/dodo/license_key_instances/lki_missing", json={"name": "x"},
                         headers=auth), "update_license_key_instance", 404, "NOT_FOUND",
            "License key instance not found")


def test_import_a_key(client, auth, catalog):
    customer = catalog.data["dodo"]["customers"][0]["customer_id"]
    product = catalog.dodo_id("desktop_app_license")
    body = {"key": "LEGACY-0001", "customer_id": customer, "product_id": product,
            "activations_limit": 1, "expires_at": "2030-01-01T00:00:00Z"}
    made = conforms(client.post("/dodo/license_keys", json=body, headers=auth),
                    "create_license_key", 201)
    assert (made["key"], made["source"], made["payment_id"], made["activations_limit"],
            made["expires_at"], made["status"]) == (
        "LEGACY-0001", "import", None, 1, "2030-01-01T00:00:00.000Z", "active")
    refused(client.post("/dodo/license_keys", json=body, headers=auth), "create_license_key", 409,
            "LICENSE_KEY_ALREADY_EXISTS", "License key already exists")
    refused(client.post("/dodo/license_keys", json=dict(body, key="K2", customer_id="cus_nope"),
                        headers=auth), "create_license_key", 404, "NOT_FOUND", "Customer not found")
    refused(client.post("/dodo/license_keys", json=dict(body, key="K2", product_id="pdt_nope"),
                        headers=auth), "create_license_key", 404, "NOT_FOUND", "Product not found")
    imported = client.get("/dodo/license_keys?source=import", headers=auth).json["items"]
    assert [k["id"] for k in imported] == [made["id"]]
    created = [d for kind, d in events(client) if kind == "license_key.created"
               and d["id"] == made["id"]]
    assert len(created) == 1
    assert client.post("/dodo/licenses/activate", json={"license_key": "LEGACY-0001",
                                                        "name": "x"}).status_code == 201


def test_list_filters(client, auth, catalog):
    payment_id = buy(client, auth, catalog)
    key = keys_of(client, auth, payment_id)[0]
    query = (f"customer_id={key['customer_id']}&product_id={key['product_id']}&status=active"
             "&source=auto&created_at_gte=2026-09-21T14:13:20Z&created_at_lte=2026-09-21T14:13:21Z")
    found = conforms(client.get(f"/dodo/license_keys?{query}", headers=auth),
                     "list_license_keys_handler")["items"]
    assert key["id"] in {k["id"] for k in found}
    none = client.get("/dodo/license_keys?created_at_gte=2027-01-01T00:00:00Z", headers=auth)
    assert none.json["items"] == []
    bad = client.get("/dodo/license_keys?status=sleeping", headers=auth)
    assert bad.status_code == 422 and bad.json["code"] == "INVALID_REQUEST_BODY"


@pytest.mark.parametrize("method, path", [("get", "/dodo/license_keys"),
                                          ("get", "/dodo/license_keys/lic_x"),
                                          ("get", "/dodo/license_key_instances")])
def test_the_merchant_operations_still_need_the_api_key(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 401 and response.json["code"] == "UNAUTHORIZED"


def test_a_public_call_finds_the_namespace_that_issued_the_key(client, auth, catalog):
    key = keys_of(client, auth, buy(client, auth, catalog))[0]
    # No key, another merchant's key, a malformed header: the key string decides.
    for headers in ({}, {"Authorization": "Bearer sk_test_someone_else"}, {"Authorization": "x"}):
        assert client.post("/dodo/licenses/validate", json={"license_key": key["key"]},
                           headers=headers).json == {"valid": True}
    # The same string imported by another merchant: that merchant's API key finds theirs.
    other = {"Authorization": "Bearer sk_test_other_merchant"}
    customer = client.post("/dodo/customers", json={"email": "o@example.com", "name": "O"},
                           headers=other).json["customer_id"]
    client.post("/dodo/license_keys", headers=other, json={
        "key": key["key"], "customer_id": customer, "product_id": key["product_id"]})
    client.patch(f"/dodo/license_keys/{key['id']}", json={"disabled": True}, headers=auth)
    assert client.post("/dodo/licenses/validate", json={"license_key": key["key"]},
                       headers=other).json == {"valid": True}
    assert client.post("/dodo/licenses/validate", json={"license_key": key["key"]},
                       headers=auth).json == {"valid": False}


def test_the_return_url_names_the_keys_and_the_email(client, auth, catalog):
    body = {"product_cart": [{"product_id": catalog.dodo_id("desktop_app_license"), "quantity": 2}],
            "return_url": "https://shop.example/thanks"}
    sid = client.post("/dodo/checkouts", json=body, headers=auth).json["session_id"]
    response = client.post(f"/checkout/dodo/session/{sid}", data={
        "email": "ada@example.com", "name": "Ada", **ADDRESS})
    psp = response.headers["Location"].removeprefix("http://mock.test")
    done = client.post(psp, data={"method": "card", "expiry": "06/32", "cvc": "123",
                                  "number": "4242424242424242"})
    location = urlsplit(done.headers["Location"])
    params = parse_qs(location.query)
    keys = client.get("/dodo/license_keys?page_size=100", headers=auth).json["items"]
    mine = {k["key"] for k in keys if k["payment_id"] == params["payment_id"][0]}
    assert len(mine) == 2
    assert set(params["license_key"][0].split(",")) == mine
    assert (params["email"], params["status"]) == (["ada@example.com"], ["succeeded"])
    plain = client.post("/dodo/checkouts", headers=auth, json={
        "product_cart": [{"product_id": catalog.dodo_id("ebook_guide"), "quantity": 1}],
        "return_url": "https://shop.example/thanks"}).json["session_id"]
    psp = client.post(f"/checkout/dodo/session/{plain}", data={
        "email": "ada@example.com", "name": "Ada", **ADDRESS}).headers["Location"]
    done = client.post(psp.removeprefix("http://mock.test"), data={
        "method": "card", "expiry": "06/32", "cvc": "123", "number": "4242424242424242"})
    assert "license_key" not in parse_qs(urlsplit(done.headers["Location"]).query)


def _status(client, auth, key_id):
    return conforms(client.get(f"/dodo/license_keys/{key_id}", headers=auth), "get_license_key_handler")["status"]


def test_a_refund_of_a_one_time_purchase_disables_its_keys(client, auth, catalog):
    payment_id = buy(client, auth, catalog)
    [key] = keys_of(client, auth, payment_id)
    assert _status(client, auth, key["id"]) == "active"
    refund = client.post("/dodo/refunds", json={"payment_id": payment_id}, headers=auth)
    assert refund.status_code == 200, refund.json
    assert _status(client, auth, key["id"]) == "disabled"
    activate = client.post("/dodo/licenses/activate", json={"license_key": key["key"], "name": "pc"})
    assert activate.status_code == 403 and activate.json["code"] == "INACTIVE_LICENSE_KEY"


def test_a_subscriptions_keys_follow_it_paused_resumed_and_cancelled(client, auth, catalog):
    payment_id = buy(client, auth, catalog, slug="team_seats_plan", quantity=2)
    keys = keys_of(client, auth, payment_id)
    sub_id = keys[0]["subscription_id"]
    assert len(keys) == 2 and sub_id.startswith("sub_")

    def statuses():
        return {_status(client, auth, k["id"]) for k in keys}

    assert client.patch(f"/dodo/subscriptions/{sub_id}", json={"status": "paused"}, headers=auth).status_code == 200
    assert statuses() == {"disabled"}
    assert client.patch(f"/dodo/subscriptions/{sub_id}", json={"status": "active"}, headers=auth).status_code == 200
    assert statuses() == {"active"}
    # a key the merchant disabled stays so when the subscription comes back
    client.patch(f"/dodo/license_keys/{keys[0]['id']}", json={"disabled": True}, headers=auth)
    client.patch(f"/dodo/subscriptions/{sub_id}", json={"status": "paused"}, headers=auth)
    client.patch(f"/dodo/subscriptions/{sub_id}", json={"status": "active"}, headers=auth)
    assert [_status(client, auth, k["id"]) for k in keys] == ["disabled", "active"]
    assert client.patch(f"/dodo/subscriptions/{sub_id}", json={"status": "cancelled"}, headers=auth).status_code == 200
    assert statuses() == {"disabled"}
