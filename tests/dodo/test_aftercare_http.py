"""Refunds, disputes and invoices over HTTP (Flask test client, frozen mock clock): Dodo's
envelopes and statuses, the /_mock/dodo control routes, the dispute deadline run by a clock
advance, the PDF invoices. Every JSON answer is checked against the contract and every event
against the vendor's webhook schema."""
import io

import pytest
from pypdf import PdfReader

from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
NS = credential_namespace("dodo", API_KEY)


def conforms(response, operation_id):
    assert CONTRACT.response_errors(operation_id, response.status_code, response.json) == []
    return response.json


def paid(client, outcome="payment.succeeded"):
    made = client.post("/_mock/trigger", json={"provider": "dodo", "event": outcome,
                                               "namespace": NS})
    assert made.status_code == 200, made.json
    return made.json["payment"]


def sent(client, event_type, key, value):
    events = client.get("/_mock/webhooks/events", query_string={"namespace": NS}).json["events"]
    found = [e["payload"] for e in events if e["type"] == event_type
             and e["payload"]["data"][key] == value]
    for payload in found:
        assert CONTRACT.webhook_errors(event_type, payload) == []
    return found


def test_create_get_and_list_refunds(client, auth):
    payment = paid(client)
    item = payment["product_cart"][0]["product_id"]
    created = client.post("/dodo/refunds", headers=auth, json={
        "payment_id": payment["payment_id"], "reason": "damaged", "metadata": {"n": 1},
        "items": [{"item_id": item, "amount": 500, "tax_inclusive": True}]})
    assert created.status_code == 200
    refund = conforms(created, "create_refund_handler")
    assert (refund["status"], refund["amount"], refund["is_partial"]) == ("succeeded", 500, True)
    got = conforms(client.get(f"/dodo/refunds/{refund['refund_id']}", headers=auth),
                   "get_refund_handler")
    assert got == refund
    listed = conforms(client.get("/dodo/refunds", headers=auth,
                                 query_string={"status": "succeeded", "page_size": 100}),
                      "list_refunds")
    assert refund["refund_id"] in [r["refund_id"] for r in listed["items"]]
    shown = conforms(client.get(f"/dodo/payments/{payment['payment_id']}", headers=auth),
                     "get_payment_handler")
    assert shown["refund_status"] == "partial"
    assert shown["refunds"][0]["refund_id"] == refund["refund_id"]
    items = conforms(client.get("/dodo/payments", headers=auth), "list_payments_handler")["items"]
    assert next(p for p in items if p["payment_id"] == payment["payment_id"])["refund_status"] \
        == "partial"
    [event] = sent(client, "refund.succeeded", "refund_id", refund["refund_id"])
    assert event["data"]["payload_type"] == "Refund" and event["data"]["amount"] == 500


@pytest.mark.parametrize("body, status, code, message", [
    ({"payment_id": "pay_missing"}, 404, "NOT_FOUND", "Payment not found"),
    ({"payment_id": "PAID", "reason": "x" * 3001}, 422, "INVALID_REQUEST_BODY", "reason"),
    ({"payment_id": "PAID", "items": [{"item_id": "pdt_nope"}]}, 422, "LINE_ITEM_NOT_FOUND",
     "Line item pdt_nope not found in payment"),
    ({"payment_id": "PAID", "currency": "XYZ"}, 422, "INVALID_REQUEST_BODY", "currency"),
])
def test_refusals_in_dodos_envelope(client, auth, body, status, code, message):
    if body["payment_id"] == "PAID":
        body = dict(body, payment_id=paid(client)["payment_id"])
    response = client.post("/dodo/refunds", headers=auth, json=body)
    assert response.status_code == status
    error = conforms(response, "create_refund_handler")
    assert error["code"] == code and message in error["message"]


@pytest.mark.parametrize("path, operation", [("/dodo/refunds", "list_refunds"),
                                             ("/dodo/disputes", "list_disputes")])
def test_lists_refuse_a_date_that_is_not_rfc_3339(client, auth, path, operation):
    response = client.get(path, headers=auth, query_string={"created_at_lte": "yesterday"})
    assert response.status_code == 422
    assert conforms(response, operation)["code"] == "INVALID_REQUEST_BODY"
    assert "created_at_lte" in response.json["message"]


def test_a_declined_payment_is_refused_and_unknown_ids_are_404(client, auth):
    payment = paid(client, "payment.failed")
    response = client.post("/dodo/refunds", headers=auth, json={"payment_id": payment["payment_id"]})
    assert response.status_code == 422
    assert conforms(response, "create_refund_handler") == {
        "code": "PAYMENT_NOT_SUCCEEDED", "message": "The provided payment has not succeeded"}
    for path, operation, message in (
            ("/dodo/refunds/ref_missing", "get_refund_handler", "Refund not found"),
            ("/dodo/disputes/dp_missing", "get_dispute_handler", "Dispute not found"),
            ("/dodo/invoices/refunds/ref_missing", "get_refund_invoice_no_auth", "Refund not found"),
            (f"/dodo/invoices/payments/{payment['payment_id']}", "get_payment_invoice_no_auth",
             "Payment not found")):
        response = client.get(path, headers=auth)
        assert response.status_code == 404
        assert conforms(response, operation) == {"code": "NOT_FOUND", "message": message}


def test_control_routes_hold_and_settle_refunds(client, auth):
    payment = paid(client)
    scripted = client.post("/_mock/dodo/refunds/outcome",
                           json={"namespace": NS, "outcome": "pending", "times": 1})
    assert scripted.status_code == 200 and scripted.json["outcome"] == "pending"
    pending = client.post("/dodo/refunds", headers=auth, json={"payment_id": payment["payment_id"]})
    assert pending.json["status"] == "pending"
    again = client.post("/dodo/refunds", headers=auth, json={"payment_id": payment["payment_id"]})
    assert again.status_code == 422 and again.json["code"] == "EXISTING_REFUND_REQUEST_PROCESSING"
    refund_id = pending.json["refund_id"]
    failed = client.post(f"/_mock/dodo/refunds/{refund_id}/fail", json={})
    assert failed.status_code == 200 and failed.json["refund"]["status"] == "failed"
    assert failed.json["namespace"] == NS  # found by the refund's id
    twice = client.post(f"/_mock/dodo/refunds/{refund_id}/succeed", json={})
    assert twice.status_code == 409 and "is failed, not pending" in twice.json["error"]
    [event] = sent(client, "refund.failed", "refund_id", refund_id)
    assert event["data"]["status"] == "failed"
    for body, fragment in (({"outcome": "pending"}, "namespace is required"),
                           ({"namespace": NS, "outcome": "later"}, "outcome must be one of"),
                           ({"namespace": NS, "outcome": "failed", "times": 0}, "times must be")):
        response = client.post("/_mock/dodo/refunds/outcome", json=body)
        assert response.status_code == 400 and fragment in response.json["error"]
    assert client.post("/_mock/dodo/refunds/ref_x/bounce", json={}).status_code == 404


def test_a_dispute_opened_challenged_and_lost_through_the_control_api(client, auth):
    payment = paid(client)
    opened = client.post("/_mock/dodo/disputes", json={
        "payment_id": payment["payment_id"], "amount": 1500, "reason": "fraudulent"})
    assert opened.status_code == 201
    dispute_id = opened.json["dispute"]["dispute_id"]
    for action in ("challenge", "lose"):
        moved = client.post(f"/_mock/dodo/disputes/{dispute_id}/{action}", json={})
        assert moved.status_code == 200
    got = conforms(client.get(f"/dodo/disputes/{dispute_id}", headers=auth), "get_dispute_handler")
    assert (got["dispute_status"], got["amount"], got["reason"]) == ("dispute_lost", "1500",
                                                                     "fraudulent")
    listed = conforms(client.get("/dodo/disputes", headers=auth, query_string={
        "dispute_status": "dispute_lost", "customer_id": got["customer"]["customer_id"]}),
        "list_disputes")
    assert [d["dispute_id"] for d in listed["items"]] == [dispute_id]
    shown = conforms(client.get(f"/dodo/payments/{payment['payment_id']}", headers=auth),
                     "get_payment_handler")
    assert [d["dispute_status"] for d in shown["disputes"]] == ["dispute_lost"]
    for event_type in ("dispute.opened", "dispute.challenged", "dispute.lost"):
        [event] = sent(client, event_type, "dispute_id", dispute_id)
        assert event["data"]["payload_type"] == "Dispute"
        assert event["data"]["customer"]["customer_id"] == got["customer"]["customer_id"]


def test_control_refusals_for_disputes(client):
    payment = paid(client)
    declined = paid(client, "payment.failed")
    for body, status, fragment in (
            ({}, 400, "payment_id must name"),
            ({"payment_id": "pay_nowhere"}, 404, "no Dodo namespace holds 'pay_nowhere'"),
            ({"payment_id": declined["payment_id"]}, 409, "only a succeeded payment"),
            ({"payment_id": payment["payment_id"], "stage": "court"}, 400, "stage must be one of"),
            ({"payment_id": payment["payment_id"], "namespace": "waffo:x"}, 400, "Dodo namespace")):
        response = client.post("/_mock/dodo/disputes", json=body)
        assert response.status_code == status and fragment in response.json["error"], response.json
    opened = client.post("/_mock/dodo/disputes", json={"payment_id": payment["payment_id"]})
    dispute_id = opened.json["dispute"]["dispute_id"]
    wrong = client.post(f"/_mock/dodo/disputes/{dispute_id}/win", json={})
    assert wrong.status_code == 409
    assert wrong.json["error"] == (f"dispute {dispute_id} is dispute_opened; win needs it "
                                   "dispute_challenged")
    unknown = client.post(f"/_mock/dodo/disputes/{dispute_id}/appeal", json={})
    assert unknown.status_code == 400 and "action must be one of" in unknown.json["error"]


def test_a_clock_advance_expires_an_unanswered_dispute(client, auth):
    payment = paid(client)
    opened = client.post("/_mock/dodo/disputes", json={"payment_id": payment["payment_id"]})
    dispute_id = opened.json["dispute"]["dispute_id"]
    client.post("/_mock/clock/advance", json={"seconds": 10 * 86400 - 1})
    assert sent(client, "dispute.expired", "dispute_id", dispute_id) == []
    client.post("/_mock/clock/advance", json={"seconds": 1})
    # the advance ran the deadline before answering: the event is out before any read
    [event] = sent(client, "dispute.expired", "dispute_id", dispute_id)
    assert event["data"]["dispute_status"] == "dispute_expired"
    got = client.get(f"/dodo/disputes/{dispute_id}", headers=auth).json
    assert got["dispute_status"] == "dispute_expired"


def test_invoices_are_pdfs_naming_the_payment_and_the_refund(client, auth):
    payment = paid(client)
    response = client.get(f"/dodo/invoices/payments/{payment['payment_id']}", headers=auth)
    assert response.status_code == 200 and response.content_type == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert payment["payment_id"] in text and "USD 27.87" in text
    refund = client.post("/dodo/refunds", headers=auth, json={
        "payment_id": payment["payment_id"], "reason": "late delivery"}).json
    response = client.get(f"/dodo/invoices/refunds/{refund['refund_id']}", headers=auth)
    assert response.status_code == 200 and response.content_type == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert refund["refund_id"] in text and payment["payment_id"] in text
    assert "USD 27.87" in text and "late delivery" in text


def test_invoices_need_no_api_key_as_the_vendor_declares(client, auth):
    """The spec declares the invoice operations without security (the links go out in emails):
    the payment's or refund's id finds the namespace; an unknown one is a 404."""
    payment = paid(client)
    response = client.get(f"/dodo/invoices/payments/{payment['payment_id']}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    refund = client.post("/dodo/refunds", headers=auth, json={"payment_id": payment["payment_id"]}).json
    assert client.get(f"/dodo/invoices/refunds/{refund['refund_id']}").data.startswith(b"%PDF")
    missing = client.get("/dodo/invoices/payments/pay_missing")
    assert missing.status_code == 404 and missing.json["code"] == "NOT_FOUND"
    other = client.get(f"/dodo/invoices/payments/{payment['payment_id']}",
                       headers={"Authorization": "Bearer sk_test_someone_else"})
    assert other.status_code == 200  # a key the object's namespace does not have is not read
