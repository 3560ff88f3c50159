"""Dodo's credit-entitlement API over HTTP (the Flask test client): every answer checked against
the contract, every refusal by status, code and message."""
import pytest

from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
ENTITLEMENT = {"name": "API Calls", "precision": 0, "unit": "calls", "rollover_enabled": False,
               "overage_enabled": False}


def conforms(response, operation_id, status=200):
    assert response.status_code == status, response.json
    body = response.json if response.data else None
    assert CONTRACT.response_errors(operation_id, status, body) == []
    return body


def refused(response, status, code, message):
    assert (response.status_code, response.json) == (status, {"code": code, "message": message})
    return response.json


def create(client, auth, **fields):
    response = client.post("/dodo/credit-entitlements", json={**ENTITLEMENT, **fields},
                           headers=auth)
    return conforms(response, "create_credit_entitlement", 201)


def customer(client, auth, email="credits@example.com"):
    response = client.post("/dodo/customers", json={"email": email, "name": "C"}, headers=auth)
    return response.json["customer_id"]


def test_create_read_list_patch_delete_undelete(client, auth):
    made = create(client, auth, description="Per call", price_per_unit="0.01", currency="USD")
    assert made["id"].startswith("cde_") and made["overage_behavior"] == "forgive_at_reset"
    assert "deleted" not in made  # the mock's own bookkeeping stays out of the answer
    assert (made["price_per_unit"], made["currency"]) == ("0.01", "USD")
    cde = made["id"]
    got = conforms(client.get(f"/dodo/credit-entitlements/{cde}", headers=auth),
                   "get_credit_entitlement_handler")
    assert got == made
    patched = client.patch(f"/dodo/credit-entitlements/{cde}",
                           json={"name": "Calls", "rollover_enabled": True}, headers=auth)
    assert (patched.status_code, patched.data) == (200, b"")
    got = client.get(f"/dodo/credit-entitlements/{cde}", headers=auth).json
    assert (got["name"], got["rollover_enabled"], got["description"]) == ("Calls", True, "Per call")
    listed = conforms(client.get("/dodo/credit-entitlements", headers=auth),
                      "list_credit_entitlements_handler")
    assert [e["id"] for e in listed["items"]] == [cde]
    assert (client.delete(f"/dodo/credit-entitlements/{cde}", headers=auth).status_code) == 200
    assert client.get("/dodo/credit-entitlements", headers=auth).json["items"] == []
    deleted = client.get("/dodo/credit-entitlements?deleted=true", headers=auth).json["items"]
    assert [e["id"] for e in deleted] == [cde]
    assert client.get(f"/dodo/credit-entitlements/{cde}", headers=auth).status_code == 200
    gone = ("CREDIT_ENTITLEMENT_IS_DELETED", "The credit entitlement has already been deleted")
    refused(client.delete(f"/dodo/credit-entitlements/{cde}", headers=auth), 410, *gone)
    refused(client.patch(f"/dodo/credit-entitlements/{cde}", json={"name": "X"}, headers=auth),
            410, *gone)
    assert client.post(f"/dodo/credit-entitlements/{cde}/undelete", headers=auth).status_code == 200
    assert [e["id"] for e in client.get("/dodo/credit-entitlements", headers=auth).json["items"]] \
        == [cde]


def test_entitlement_refusals(client, auth):
    made = create(client, auth)
    taken = ("CREDIT_ENTITLEMENT_NAME_ALREADY_EXISTS",
             "A credit entitlement with this name already exists")
    refused(client.post("/dodo/credit-entitlements", json=ENTITLEMENT, headers=auth), 409, *taken)
    other = create(client, auth, name="Other")
    refused(client.patch(f"/dodo/credit-entitlements/{other['id']}", json={"name": "API Calls"},
                         headers=auth), 409, *taken)
    client.delete(f"/dodo/credit-entitlements/{made['id']}", headers=auth)
    again = create(client, auth)  # a deleted one's name is free
    refused(client.post(f"/dodo/credit-entitlements/{made['id']}/undelete", headers=auth),
            409, *taken)
    assert again["name"] == "API Calls"
    refused(client.post("/dodo/credit-entitlements", json={**ENTITLEMENT, "name": "P",
                                                           "precision": 11}, headers=auth),
            422, "INVALID_REQUEST_BODY", "precision must be between 0 and 10, got 11")
    refused(client.post("/dodo/credit-entitlements",
                        json={**ENTITLEMENT, "name": "P", "price_per_unit": "1"}, headers=auth),
            422, "INVALID_REQUEST_BODY", "currency is required when price_per_unit is set")
    refused(client.post("/dodo/credit-entitlements",
                        json={**ENTITLEMENT, "name": "P", "rollover_percentage": 101},
                        headers=auth),
            422, "INVALID_REQUEST_BODY", "rollover_percentage must be between 0 and 100, got 101")
    missing = ("NOT_FOUND", "Credit entitlement not found")
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/undelete"),
                         ("GET", "/balances")):
        response = client.open(f"/dodo/credit-entitlements/cde_nope{path}", method=method,
                               json={} if method == "PATCH" else None, headers=auth)
        refused(response, 404, *missing)


def test_products_attach_entitlements_and_the_preview_shows_them(client, auth):
    cde = create(client, auth, rollover_enabled=True, rollover_percentage=50)["id"]
    body = {"name": "Pack", "tax_category": "saas", "price": {
        "type": "one_time_price", "price": 500, "currency": "USD", "discount": 0,
        "purchasing_power_parity": False},
        "credit_entitlements": [{"credit_entitlement_id": cde, "credits_amount": "250",
                                 "low_balance_threshold_percent": 10, "rollover_percentage": 80}]}
    product = conforms(client.post("/dodo/products", json=body, headers=auth), "create_product")
    [mapping] = product["credit_entitlements"]
    assert (mapping["credit_entitlement_id"], mapping["credit_entitlement_name"],
            mapping["credit_entitlement_unit"], mapping["credits_amount"]) == \
        (cde, "API Calls", "calls", "250")
    assert (mapping["rollover_enabled"], mapping["rollover_percentage"],
            mapping["low_balance_threshold_percent"]) == (True, 80, 10)
    got = conforms(client.get(f"/dodo/products/{product['product_id']}", headers=auth),
                   "get_product_handler")
    assert got["credit_entitlements"] == [mapping]
    preview = conforms(client.post("/dodo/checkouts/preview", json={
        "product_cart": [{"product_id": product["product_id"], "quantity": 1}]}, headers=auth),
        "preview_session")
    [line] = preview["product_cart"][0]["credit_entitlements"]
    assert line == {"credit_entitlement_id": cde, "credit_entitlement_name": "API Calls",
                    "credit_entitlement_unit": "calls", "credits_amount": "250"}
    patched = conforms(client.patch(f"/dodo/products/{product['product_id']}", json={
        "credit_entitlements": [{"credit_entitlement_id": cde, "credits_amount": "5"}]},
        headers=auth), "patch_product")
    assert patched["credit_entitlements"][0]["credits_amount"] == "5"
    refused(client.post("/dodo/products", json=dict(body, credit_entitlements=[
        {"credit_entitlement_id": "cde_nope", "credits_amount": "1"}]), headers=auth),
        422, "NOT_FOUND", "Credit entitlement cde_nope not found")
    refused(client.post("/dodo/products", json=dict(body, credit_entitlements=[
        {"credit_entitlement_id": cde, "credits_amount": "1"}] * 2), headers=auth),
        422, "INVALID_REQUEST_BODY",
        f"credit_entitlements[1]: credit entitlement {cde} is attached twice")
    client.delete(f"/dodo/credit-entitlements/{cde}", headers=auth)
    refused(client.post("/dodo/products", json=body, headers=auth), 422,
            "CREDIT_ENTITLEMENT_IS_DELETED", "The credit entitlement has already been deleted")


def test_ledger_entries_balances_grants_and_the_ledger(client, auth):
    cde = create(client, auth)["id"]
    cus = customer(client, auth)
    base = f"/dodo/credit-entitlements/{cde}/balances/{cus}"
    empty = conforms(client.get(base, headers=auth), "get_customer_balance_handler")
    assert (empty["balance"], empty["overage"]) == ("0", "0")
    entry = {"entry_type": "credit", "amount": "12.5", "idempotency_key": "k1", "reason": "gift"}
    made = conforms(client.post(f"{base}/ledger-entries", json=entry, headers=auth),
                    "create_ledger_entry_handler", 201)
    assert (made["entry_type"], made["amount"], made["balance_after"], made["reason"]) == \
        ("credit", "12", "12", "gift")  # precision 0: whole credits
    again = conforms(client.post(f"{base}/ledger-entries", json=entry, headers=auth),
                     "create_ledger_entry_handler", 201)
    assert again == made  # the same key and body: the first entry, nothing new
    refused(client.post(f"{base}/ledger-entries", json=dict(entry, amount="3"), headers=auth),
            409, "IDEMPOTENCY_KEY_ALREADY_EXISTS",
            "Idempotency key k1 already exists with a different request")
    debit = conforms(client.post(f"{base}/ledger-entries",
                                 json={"entry_type": "debit", "amount": "2"}, headers=auth),
                     "create_ledger_entry_handler", 201)
    assert (debit["is_credit"], debit["balance_before"], debit["balance_after"]) == \
        (False, "12", "10")
    refused(client.post(f"{base}/ledger-entries", json={"entry_type": "debit", "amount": "11"},
                        headers=auth), 400, "INSUFFICIENT_CREDIT_BALANCE",
            "Insufficient credit balance: 10 available, 11 requested")
    refused(client.post(f"{base}/ledger-entries", json={"entry_type": "debit", "amount": "0"},
                        headers=auth), 400, "INVALID_REQUEST_BODY",
            "amount must be greater than 0, got '0'")
    balance = conforms(client.get(base, headers=auth), "get_customer_balance_handler")
    assert balance["balance"] == "10" and balance["last_transaction_at"] is not None
    listed = conforms(client.get(f"/dodo/credit-entitlements/{cde}/balances?customer_id={cus}",
                                 headers=auth), "list_balances_handler")
    assert [b["customer_id"] for b in listed["items"]] == [cus]
    grants = conforms(client.get(f"{base}/grants", headers=auth), "list_customer_grants_handler")
    assert [(g["source_type"], g["initial_amount"], g["remaining_amount"])
            for g in grants["items"]] == [("api", "12", "10")]
    assert client.get(f"{base}/grants?status=depleted", headers=auth).json["items"] == []
    ledger = conforms(client.get(f"{base}/ledger", headers=auth), "list_customer_ledger_handler")
    assert [(e["transaction_type"], e["is_credit"], e["amount"]) for e in ledger["items"]] == \
        [("manual_adjustment", False, "2"), ("manual_adjustment", True, "12")]
    only = client.get(f"{base}/ledger?transaction_type=credit_added", headers=auth).json
    assert only["items"] == []
    held = conforms(client.get(f"/dodo/customers/{cus}/credit-entitlements", headers=auth),
                    "get_customer_credit_entitlements")
    assert held["items"] == [{"credit_entitlement_id": cde, "name": "API Calls", "unit": "calls",
                              "description": None, "balance": "10", "overage": "0"}]


def test_ledger_refusals(client, auth):
    cde = create(client, auth)["id"]
    cus = customer(client, auth)
    entry = {"entry_type": "credit", "amount": "1"}
    refused(client.post(f"/dodo/credit-entitlements/{cde}/balances/cus_nope/ledger-entries",
                        json=entry, headers=auth), 404, "NOT_FOUND", "Customer not found")
    refused(client.get(f"/dodo/credit-entitlements/{cde}/balances/cus_nope", headers=auth),
            404, "NOT_FOUND", "Customer not found")
    refused(client.get("/dodo/customers/cus_nope/credit-entitlements", headers=auth),
            404, "NOT_FOUND", "Customer not found")
    refused(client.post(f"/dodo/credit-entitlements/{cde}/balances/{cus}/ledger-entries",
                        json={"entry_type": "credit", "amount": "ten"}, headers=auth),
            422, "INVALID_REQUEST_BODY", "amount must be a decimal number, got 'ten'")
    refused(client.post(f"/dodo/credit-entitlements/{cde}/balances/{cus}/ledger-entries",
                        json={"entry_type": "credit", "amount": "10000000000"}, headers=auth),
            422, "INVALID_REQUEST_BODY", "amount must be below 10000000000, got '10000000000'")
    refused(client.post(f"/dodo/credit-entitlements/{cde}/balances/{cus}/ledger-entries",
                        json={"entry_type": "debit", "amount": "1",
                              "expires_at": "2030-01-01T00:00:00Z"}, headers=auth),
            400, "INVALID_REQUEST_BODY", "expires_at is only allowed for credit entries")
    client.delete(f"/dodo/credit-entitlements/{cde}", headers=auth)
    refused(client.post(f"/dodo/credit-entitlements/{cde}/balances/{cus}/ledger-entries",
                        json=entry, headers=auth), 410, "CREDIT_ENTITLEMENT_IS_DELETED",
            "The credit entitlement has already been deleted")


def test_usage_through_the_control_api(client, auth):
    cde = create(client, auth, overage_enabled=True)["id"]
    cus = customer(client, auth)
    ns = credential_namespace("dodo", API_KEY)  # the `auth` fixture's key
    client.post(f"/dodo/credit-entitlements/{cde}/balances/{cus}/ledger-entries",
                json={"entry_type": "credit", "amount": "3"}, headers=auth)
    used = client.post("/_mock/dodo/credits/usage", json={
        "namespace": ns, "customer_id": cus, "credit_entitlement_id": cde, "units": 5})
    assert used.status_code == 200, used.json
    assert [(e["transaction_type"], e["amount"]) for e in used.json["entries"]] == \
        [("credit_deducted", "3"), ("overage_charged", "2")]
    assert (used.json["balance"]["balance"], used.json["balance"]["overage"]) == ("0", "2")
    for body, status, fragment in (
            ({"customer_id": cus, "credit_entitlement_id": cde, "units": 1}, 400,
             "namespace is required"),
            ({"namespace": ns, "credit_entitlement_id": cde, "units": 1}, 400,
             "customer_id is required"),
            ({"namespace": ns, "customer_id": cus, "credit_entitlement_id": cde}, 400,
             "units is required"),
            ({"namespace": ns, "customer_id": "cus_nope", "credit_entitlement_id": cde,
              "units": 1}, 404, "Customer not found"),
            ({"namespace": ns, "customer_id": cus, "credit_entitlement_id": "cde_nope",
              "units": 1}, 404, "Credit entitlement not found")):
        response = client.post("/_mock/dodo/credits/usage", json=body)
        assert response.status_code == status and fragment in str(response.json), response.json


@pytest.mark.parametrize("path", ["/dodo/credit-entitlements", "/dodo/customers/cus_x/credit-entitlements"])
def test_the_api_key_is_required(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.json["code"] == "UNAUTHORIZED"
