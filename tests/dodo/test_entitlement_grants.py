"""Entitlement grants over HTTP (Flask test client): what a paid purchase grants of each
entitlement attached to its products, per integration; the grants API that reads, revokes and
fulfils them; the control API playing the customer who connects an account; revocation when a
subscription ends or a one-time payment is refunded. Every answer is checked against the
contract, every event against its webhook schema, every refusal by status, code and message.
Short links, the other small rule of the same change, close the file."""
import pytest

from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace

CONTRACT = Contract.load("dodo")
ADDRESS = {"country": "US", "street": "1 Main St", "city": "SF", "state": "CA", "zipcode": "94105"}
KEY = "sk_test_grants"
NS = credential_namespace("dodo", KEY)
AUTH = {"Authorization": f"Bearer {KEY}"}
ONE_TIME = {"type": "one_time_price", "price": 900, "currency": "USD", "discount": 0,
            "purchasing_power_parity": False}
MONTHLY = {"type": "recurring_price", "price": 900, "currency": "USD", "discount": 0,
           "purchasing_power_parity": False, "payment_frequency_count": 1,
           "payment_frequency_interval": "Month", "subscription_period_count": 1,
           "subscription_period_interval": "Year"}


def ok(response, operation_id, status=200):
    assert response.status_code == status, response.data
    body = response.json if response.data else None
    assert CONTRACT.response_errors(operation_id, status, body) == [], body
    return body


def refused(response, status, code, message):
    assert (response.status_code, response.json) == (status, {"code": code, "message": message})


def entitlement(client, integration_type, config, name="Perk"):
    return ok(client.post("/dodo/entitlements", json={
        "name": name, "integration_type": integration_type, "integration_config": config},
        headers=AUTH), "create_entitlement_public_handler")


def product(client, *entitlement_ids, price=ONE_TIME):
    return ok(client.post("/dodo/products", json={
        "name": "Granting product", "tax_category": "saas", "price": price,
        "entitlements": [{"entitlement_id": e} for e in entitlement_ids]}, headers=AUTH),
        "create_product")["product_id"]


def buy(client, product_id, quantity=1, email="grants@example.com"):
    session = client.post("/dodo/checkouts", json={
        "product_cart": [{"product_id": product_id, "quantity": quantity}],
        "customer": {"email": email, "name": "Grant Buyer"}, "billing_address": ADDRESS,
        "confirm": True}, headers=AUTH).json
    paid = client.post(f"/_mock/payments/{session['session_id']}/outcome", json={"outcome": "paid"})
    assert paid.status_code == 200, paid.json
    return client.get(f"/dodo/checkouts/{session['session_id']}", headers=AUTH).json


def grants_of(client, entitlement_id, query=""):
    return ok(client.get(f"/dodo/entitlements/{entitlement_id}/grants{query}", headers=AUTH),
              "list_grants_public_handler")["items"]


def grant_events(client):
    sent = client.get(f"/_mock/webhooks/events?namespace={NS}").json["events"]
    for event in sent:
        assert CONTRACT.webhook_errors(event["type"], event["payload"]) == [], event
    return [(e["type"], e["payload"]["data"]) for e in sent
            if e["type"].startswith("entitlement_grant.")]


def test_a_feature_flag_and_digital_files_are_delivered_with_the_purchase(client):
    flag = entitlement(client, "feature_flag", {"feature_type": "boolean", "feature_id": "pro"})
    files = entitlement(client, "digital_files", {"digital_file_ids": [],
                                                  "instructions": "Unzip it"})
    upload = ok(client.post(f"/dodo/entitlements/{files['id']}/files", headers=AUTH),
                "post_entitlement_file", 201)
    bought = buy(client, product(client, flag["id"], files["id"]), quantity=3)
    [flag_grant] = grants_of(client, flag["id"])
    assert (flag_grant["status"], flag_grant["feature"]) == (
        "Delivered", {"feature_type": "boolean", "feature_id": "pro"})
    assert flag_grant["payment_id"] == bought["payment_id"]  # one grant, whatever the quantity
    [files_grant] = grants_of(client, files["id"])
    delivery = files_grant["digital_product_delivery"]
    assert delivery["instructions"] == "Unzip it"
    assert [f["file_id"] for f in delivery["files"]] == [upload["file_id"]]
    sent = grant_events(client)
    assert [(t, d["entitlement_id"]) for t, d in sent] == [
        ("entitlement_grant.created", flag["id"]), ("entitlement_grant.delivered", flag["id"]),
        ("entitlement_grant.created", files["id"]), ("entitlement_grant.delivered", files["id"])]


def test_an_account_integration_waits_for_the_customer_played_by_the_control_api(client):
    discord = entitlement(client, "discord", {"guild_id": "42"}, name="Discord")
    github = entitlement(client, "github", {"target_id": "acme/app", "permission": "pull"},
                         name="GitHub")
    buy(client, product(client, discord["id"], github["id"]))
    [first] = grants_of(client, discord["id"])
    [second] = grants_of(client, github["id"])
    assert first["status"] == second["status"] == "Pending"
    customer = first["customer_id"]
    mine = ok(client.get(f"/dodo/customers/{customer}/entitlements", headers=AUTH),
              "get_customer_entitlements")["items"]
    assert sorted((i["entitlement_name"], i["status"]) for i in mine) == [
        ("Discord", "pending"), ("GitHub", "pending")]
    delivered = client.post(f"/_mock/dodo/entitlement_grants/{first['id']}/deliver", json={})
    assert delivered.json["entitlement_grant"]["status"] == "Delivered"
    failed = client.post(f"/_mock/dodo/entitlement_grants/{second['id']}/fail", json={})
    assert failed.json["entitlement_grant"]["error_code"] == "DELIVERY_FAILED"
    again = client.post(f"/_mock/dodo/entitlement_grants/{first['id']}/deliver", json={})
    assert again.status_code == 409
    assert [t for t, _ in grant_events(client)][-2:] == [
        "entitlement_grant.delivered", "entitlement_grant.failed"]
    by_status = ok(client.get(f"/dodo/customers/{customer}/entitlement-grants?status=Failed",
                              headers=AUTH), "list_customer_grants_public_handler")["items"]
    assert [g["id"] for g in by_status] == [second["id"]]
    by_type = client.get(f"/dodo/customers/{customer}/entitlement-grants?integration_type=discord",
                         headers=AUTH).json["items"]
    assert [g["id"] for g in by_type] == [first["id"]]
    # The failed one is neither delivered nor in flight.
    mine = client.get(f"/dodo/customers/{customer}/entitlements", headers=AUTH).json["items"]
    assert [(i["grant_id"], i["status"]) for i in mine] == [(first["id"], "delivered")]


def test_revoking_is_idempotent_and_a_keys_grant_disables_the_key(client):
    flag = entitlement(client, "feature_flag", {"feature_type": "boolean", "feature_id": "x"})
    keys = entitlement(client, "license_key", {"activations_limit": 2}, name="Keys")
    buy(client, product(client, flag["id"], keys["id"]))
    [grant] = grants_of(client, flag["id"])
    path = f"/dodo/entitlements/{flag['id']}/grants/{grant['id']}"
    revoked = ok(client.delete(path, headers=AUTH), "revoke_grant_public_handler")
    assert (revoked["status"], revoked["revocation_reason"]) == ("Revoked", "revoked_by_merchant")
    assert client.delete(path, headers=AUTH).json == revoked  # idempotent: no second event
    assert [t for t, d in grant_events(client) if d["id"] == grant["id"]].count(
        "entitlement_grant.revoked") == 1
    [key_grant] = grants_of(client, keys["id"])
    assert key_grant["license_key"]["activations_limit"] == 2
    client.delete(f"/dodo/entitlements/{keys['id']}/grants/{key_grant['id']}", headers=AUTH)
    key = client.get(f"/dodo/license_keys?customer_id={key_grant['customer_id']}",
                     headers=AUTH).json["items"][0]
    assert key["status"] == "disabled"
    refused(client.delete(f"/dodo/entitlements/{keys['id']}/grants/{grant['id']}", headers=AUTH),
            404, "NOT_FOUND", "Grant not found")  # another entitlement's grant
    refused(client.delete(f"/dodo/entitlements/ent_nothing/grants/{grant['id']}", headers=AUTH),
            404, "NOT_FOUND", "Entitlement not found")


def test_a_manual_license_key_is_fulfilled_by_the_merchant(client):
    manual = entitlement(client, "license_key", {"fulfillment_mode": "manual",
                                                 "activations_limit": 5}, name="Manual")
    flag = entitlement(client, "feature_flag", {"feature_type": "boolean", "feature_id": "y"})
    bought = buy(client, product(client, manual["id"], flag["id"]), quantity=2)
    pending = grants_of(client, manual["id"], "?status=Pending")
    assert len(pending) == 2 and all(g["license_key"] is None for g in pending)
    assert client.get("/dodo/license_keys", headers=AUTH).json["items"] == []  # none issued
    url = f"/dodo/grants/{pending[0]['id']}/license-key"
    refused(client.post(url, json={"key": "  "}, headers=AUTH), 400, "INVALID_REQUEST_BODY",
            "key must not be empty")
    done = ok(client.post(url, json={"key": "SEAT-1"}, headers=AUTH),
              "fulfill_license_key_grant_handler")
    assert (done["status"], done["license_key"]["key"], done["license_key"]["activations_limit"]) \
        == ("Delivered", "SEAT-1", 5)
    [key] = client.get("/dodo/license_keys", headers=AUTH).json["items"]
    assert (key["key"], key["source"], key["payment_id"]) == ("SEAT-1", "manual",
                                                              bought["payment_id"])
    refused(client.post(url, json={"key": "SEAT-2"}, headers=AUTH), 409, "CONFLICT",
            "Grant is not awaiting fulfillment")
    refused(client.post(f"/dodo/grants/{pending[1]['id']}/license-key", json={"key": "SEAT-1"},
                        headers=AUTH), 409, "LICENSE_KEY_ALREADY_EXISTS", "License key already exists")
    [flag_grant] = grants_of(client, flag["id"])
    refused(client.post(f"/dodo/grants/{flag_grant['id']}/license-key", json={"key": "K"},
                        headers=AUTH), 400, "INVALID_REQUEST_BODY", "Grant is not a license-key grant")
    refused(client.post("/dodo/grants/entg_nothing/license-key", json={"key": "K"}, headers=AUTH),
            404, "NOT_FOUND", "Grant not found")
    delivered = [d for t, d in grant_events(client)
                 if t == "entitlement_grant.delivered" and d["id"] == pending[0]["id"]]
    assert [d["license_key"]["key"] for d in delivered] == ["SEAT-1"]


def test_an_ended_subscription_and_a_refund_take_back_what_they_granted(client):
    flag = entitlement(client, "feature_flag", {"feature_type": "boolean", "feature_id": "z"})
    bought = buy(client, product(client, flag["id"], price=MONTHLY))
    once = buy(client, product(client, flag["id"]), email="once@example.com")
    [for_once, for_sub] = grants_of(client, flag["id"])
    assert for_sub["subscription_id"] is not None and for_once["subscription_id"] is None
    sub_id = for_sub["subscription_id"]
    client.post("/_mock/clock/advance", json={"days": 40})  # a renewal grants nothing new
    assert len(grants_of(client, flag["id"])) == 2
    client.patch(f"/dodo/subscriptions/{sub_id}", json={"status": "cancelled"}, headers=AUTH)
    refund = client.post("/dodo/refunds", json={"payment_id": once["payment_id"]}, headers=AUTH)
    assert refund.status_code == 200, refund.json
    reasons = {g["id"]: (g["status"], g["revocation_reason"]) for g in grants_of(client, flag["id"])}
    assert reasons == {for_sub["id"]: ("Revoked", "subscription_ended"),
                       for_once["id"]: ("Revoked", "refunded")}
    assert bought["payment_id"] != once["payment_id"]


def test_grant_lists_need_their_entitlement_and_customer(client):
    refused(client.get("/dodo/entitlements/ent_nothing/grants", headers=AUTH), 404, "NOT_FOUND",
            "Entitlement not found")
    refused(client.get("/dodo/customers/cus_nothing/entitlement-grants", headers=AUTH), 404,
            "NOT_FOUND", "Customer not found")
    refused(client.get("/dodo/customers/cus_nothing/entitlements", headers=AUTH), 404,
            "NOT_FOUND", "Customer not found")


@pytest.fixture
def product_id(client):
    return product(client)


def test_short_links_are_remembered_per_merchant(client, product_id):
    made = ok(client.post(f"/dodo/products/{product_id}/short_links",
                          json={"slug": "summer", "static_checkout_params": {"quantity": "2"}},
                          headers=AUTH), "create_short_link_handler")
    assert made["short_url"].endswith("/checkout/dodo/l/summer")
    assert made["full_url"].endswith(f"/checkout/dodo/buy/{product_id}?quantity=2")
    refused(client.post(f"/dodo/products/{product_id}/short_links", json={"slug": "summer"},
                        headers=AUTH), 409, "CONFLICT", "Slug is already taken")
    refused(client.post("/dodo/products/pdt_nothing/short_links", json={"slug": "winter"},
                        headers=AUTH), 404, "NOT_FOUND", "Product not found")
    listed = ok(client.get(f"/dodo/products/short_links?product_id={product_id}", headers=AUTH),
                "list_all_short_links_handler")["items"]
    assert [(i["product_id"], i["short_url"]) for i in listed] == [(product_id, made["short_url"])]
    assert client.get("/dodo/products/short_links?product_id=pdt_other",
                      headers=AUTH).json["items"] == []
    # Another merchant has slugs of its own.
    other = {"Authorization": "Bearer sk_test_grants_other"}
    other_product = client.post("/dodo/products", json={
        "name": "Theirs", "tax_category": "saas", "price": ONE_TIME}, headers=other).json
    assert client.post(f"/dodo/products/{other_product['product_id']}/short_links",
                       json={"slug": "summer"}, headers=other).status_code == 200
    assert client.get("/dodo/products/short_links", headers=other).json["items"][0][
        "product_id"] == other_product["product_id"]
