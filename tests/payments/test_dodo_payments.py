"""Dodo GET /payments/{id} and GET /payments, session status, and the outcome control API.
Every response is checked against the contract (the vendor's PaymentResponse schemas)."""
from __future__ import annotations

import pytest

from mock_server.core.contracts import Contract

CONTRACT = Contract.load("dodo")
EBOOK = "pdt_uGej5ygB4DvTZFDmnvmUM"
MONTHLY = "pdt_T5Kpc8SCR9JBIdPiEvcN1"


def conforms(response, operation_id):
    assert CONTRACT.response_errors(operation_id, response.status_code, response.json) == [], response.json
    return response.json


def session(client, auth, product=EBOOK, **extra):
    body = {"product_cart": [{"product_id": product, "quantity": 1}], **extra}
    response = client.post("/dodo/checkouts", json=body, headers=auth)
    assert response.status_code == 200, response.json
    return response.json["session_id"]


def outcome(client, obj_id, outcome="paid", status=200, **body):
    response = client.post(f"/_mock/payments/{obj_id}/outcome", json={"outcome": outcome, **body})
    assert response.status_code == status, response.json
    return response.json


def test_a_paid_session_reads_back_everywhere(client, auth):
    sid = session(client, auth, customer={"email": "ada@example.com", "name": "Ada"},
                  metadata={"order": "A-1"}, billing_address={"country": "US", "state": "CA"})
    payment = outcome(client, sid)["payment"]
    status = conforms(client.get(f"/dodo/checkouts/{sid}", headers=auth), "get_checkout_sessions_status")
    assert (status["payment_id"], status["payment_status"]) == (payment["id"], "succeeded")
    got = conforms(client.get(f"/dodo/payments/{payment['id']}", headers=auth), "get_payment_handler")
    assert (got["status"], got["checkout_session_id"], got["metadata"]) == ("succeeded", sid, {"order": "A-1"})
    assert (got["total_amount"], got["tax"], got["currency"]) == (2787, 188, "USD")
    assert (got["card_last_four"], got["card_network"], got["payment_method"]) == ("4242", "VISA", "card")
    assert got["customer"]["email"] == "ada@example.com" and got["billing"]["country"] == "US"
    assert got["product_cart"] == [{"product_id": EBOOK, "quantity": 1}]


def test_confirmed_sessions_have_their_payment_from_creation(client, auth):
    body = {"product_cart": [{"product_id": EBOOK, "quantity": 1}], "confirm": True,
            "customer": {"email": "c@example.com", "name": "C"},
            "billing_address": {"country": "US", "street": "1 Main", "city": "SF", "state": "CA",
                                "zipcode": "94105"}}
    created = client.post("/dodo/checkouts", json=body, headers=auth).json
    got = conforms(client.get(f"/dodo/payments/{created['payment_id']}", headers=auth), "get_payment_handler")
    assert got["status"] == "requires_payment_method"
    assert outcome(client, created["payment_id"], "declined", reason="expired_card")["payment"]["reason"] == "EXPIRED_CARD"
    got = conforms(client.get(f"/dodo/payments/{created['payment_id']}", headers=auth), "get_payment_handler")
    assert (got["status"], got["error_code"], got["error_message"]) == (
        "failed", "EXPIRED_CARD", "Your card has expired.")



def test_an_expired_confirmed_session_cancels_its_payment_with_no_webhook_endpoint(client, auth):
    # The scheduler runs expiry whether or not anyone listens for webhooks: 15 minutes after a
    # confirm=true session, its payment is cancelled and payment.cancelled is emitted, before
    # the clock advance answers.
    body = {"product_cart": [{"product_id": EBOOK, "quantity": 1}], "confirm": True,
            "customer": {"email": "c@example.com", "name": "C"},
            "billing_address": {"country": "US", "street": "1 Main", "city": "SF", "state": "CA",
                                "zipcode": "94105"}}
    created = client.post("/dodo/checkouts", json=body, headers=auth).json
    assert client.get("/_mock/webhooks/endpoints").json["endpoints"] == []
    client.post("/_mock/clock/advance", json={"seconds": 14 * 60})
    got = client.get(f"/dodo/payments/{created['payment_id']}", headers=auth).json
    assert got["status"] == "requires_payment_method"
    client.post("/_mock/clock/advance", json={"seconds": 61})
    got = conforms(client.get(f"/dodo/payments/{created['payment_id']}", headers=auth), "get_payment_handler")
    assert got["status"] == "cancelled"
    events = client.get("/_mock/webhooks/events").json["events"]
    assert [(e["type"], e["payload"]["data"]["payment_id"]) for e in events] == [
        ("payment.cancelled", created["payment_id"])]

def test_list_filters_and_pages(client, auth):
    paid = [outcome(client, session(client, auth))["payment"]["id"] for _ in range(3)]
    failed = outcome(client, session(client, auth), "declined")["payment"]["id"]
    everything = conforms(client.get("/dodo/payments", headers=auth), "list_payments_handler")["items"]
    assert {p["payment_id"] for p in everything} == {*paid, failed}
    only_failed = conforms(client.get("/dodo/payments?status=failed", headers=auth), "list_payments_handler")
    assert [p["payment_id"] for p in only_failed["items"]] == [failed]
    page = client.get("/dodo/payments?page_size=2&page_number=1", headers=auth).json["items"]
    assert len(page) == 2
    customer = everything[0]["customer"]["customer_id"]
    assert len(client.get(f"/dodo/payments?customer_id={customer}", headers=auth).json["items"]) == 4
    assert client.get("/dodo/payments?customer_id=cus_nobody", headers=auth).json["items"] == []
    assert len(client.get("/dodo/payments?created_at_gte=2026-09-21T14:13:20Z", headers=auth).json["items"]) == 4
    assert client.get("/dodo/payments?created_at_lte=2026-09-21T14:13:19Z", headers=auth).json["items"] == []
    assert len(client.get(f"/dodo/payments?product_id={EBOOK}", headers=auth).json["items"]) == 4
    other = client.get("/dodo/payments", headers={"Authorization": "Bearer sk_other"}).json
    assert other == {"items": []}


@pytest.mark.parametrize("query, field", [("status=paid", "status"), ("page_size=x", "page_size"),
                                          ("created_at_gte=yesterday", "created_at_gte")])
def test_bad_list_queries_are_422(client, auth, query, field):
    response = client.get(f"/dodo/payments?{query}", headers=auth)
    assert response.status_code == 422 and field in response.json["message"]
    conforms(response, "list_payments_handler")


def test_unknown_or_foreign_payment_is_404(client, auth):
    pid = outcome(client, session(client, auth))["payment"]["id"]
    for headers, url in ((auth, "/dodo/payments/pay_unknown"),
                         ({"Authorization": "Bearer sk_other"}, f"/dodo/payments/{pid}")):
        response = client.get(url, headers=headers)
        assert conforms(response, "get_payment_handler") == {"code": "NOT_FOUND", "message": "Payment not found"}
    assert client.get(f"/dodo/payments/{pid}").status_code == 401


def test_subscription_payment_gets_a_subscription_id(client, auth):
    sid = session(client, auth, product=MONTHLY)
    payment = outcome(client, sid)["payment"]
    got = conforms(client.get(f"/dodo/payments/{payment['id']}", headers=auth), "get_payment_handler")
    assert got["subscription_id"].startswith("sub_")


def test_outcome_control_api_errors(client, auth):
    sid = session(client, auth)
    assert "outcome must be one of" in outcome(client, sid, "refund", 400)["error"]
    assert "unknown reason" in outcome(client, sid, "declined", 400, reason="stolen")["error"]
    assert "no payment" in outcome(client, "cks_unknown", "paid", 404)["error"]
    outcome(client, sid)
    assert "cannot become" in outcome(client, sid, "paid", 409)["error"]
    expired = session(client, auth)
    client.post(f"/_mock/expire/session/{expired}")
    assert "has expired" in outcome(client, expired, "paid", 409)["error"]


def test_an_expired_session_cancels_its_open_payment(client, auth):
    sid = session(client, auth)
    payment = outcome(client, sid, "3ds_required")["payment"]
    assert payment["status"] == "requires_customer_action"
    client.post("/_mock/clock/advance", json={"seconds": 24 * 3600 - 1})
    got = client.get(f"/_mock/payments/{payment['id']}").json["payment"]
    assert got["status"] == "requires_customer_action"
    # The advance that reaches the session's expiry cancels the payment before it answers.
    client.post("/_mock/clock/advance", json={"seconds": 1})
    got = conforms(client.get(f"/dodo/payments/{payment['id']}", headers=auth), "get_payment_handler")
    assert got["status"] == "cancelled"


def test_control_reads_payments_and_cards(client, auth):
    pid = outcome(client, session(client, auth))["payment"]["id"]
    listed = client.get("/_mock/payments").json["payments"]
    assert [p["id"] for p in listed] == [pid] and listed[0]["provider"] == "dodo"
    assert client.get("/_mock/payments/nope").status_code == 404
    table = client.get("/_mock/cards").json
    assert {c["number"] for c in table["cards"]} >= {"4242424242424242", "4000002500003155"}
    assert "INSUFFICIENT_FUNDS" in table["reasons"]
