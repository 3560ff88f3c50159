"""Waffo refund tickets over HTTP (Flask test client): a customer's ticket waits for review (the
control API plays Waffo's reviewer), a merchant's executes at once; each executed refund sends
refund.succeeded or refund.failed with its amounts; resubmission after a rejection; and every
refusal by status, message and layer."""
from mock_server.core.contracts import Contract

from .helpers import ONETIME_ORDER, assert_error

CONTRACT = Contract.load("waffo")
CREATE, RESUBMIT = "/v1/actions/refund-ticket/create-ticket", "/v1/actions/refund-ticket/resubmit-ticket"
DE = {"country": "DE", "isBusiness": False}


def ok(result, operation_id="createRefundTicket"):
    status, payload, _ = result
    assert status == 200, payload
    assert CONTRACT.response_errors(operation_id, 200, payload) == [], payload
    return payload["data"]["ticket"]


def paid_order(client, app, identity="refund@example.com"):
    """A completed one-time order (EUR 27.00 + 19% VAT), its payment id and the buyer's token."""
    session = client.session(currency="EUR")
    token = client.token(identity)
    status, payload, _ = client.bearer(ONETIME_ORDER, {"checkoutSessionId": session,
                                                       "buyerEmail": identity,
                                                       "billingDetail": DE}, token)
    assert status == 200, payload
    psp_id = payload["data"]["checkoutUrl"].rsplit("/", 1)[-1]
    http = app.test_client()
    assert http.post(f"/_mock/payments/{psp_id}/outcome", json={"outcome": "paid"}).status_code == 200
    payment = http.get(f"/_mock/payments/{psp_id}").get_json()["payment"]
    return payment["ref"]["id"], payment["id"], token


def refund_events(app):
    events = app.test_client().get("/_mock/webhooks/events").get_json()["events"]
    return [(e["type"], e["payload"]) for e in events if e["type"].startswith("refund.")]


def test_a_customers_ticket_waits_for_review_then_refunds(client, app):
    order_id, payment_id, token = paid_order(client, app)
    ticket = ok(client.bearer(CREATE, {"paymentId": payment_id, "reason": "Not as described",
                                       "requestedAmount": {"amount": "10.00", "currency": "EUR"},
                                       "refundTicketMerchantExternalId": "RT-1"}, token))
    assert (ticket["status"], ticket["submitterType"], ticket["submitterId"]) == (
        "pending", "customer", "refund@example.com")
    assert ticket["versionNumber"] == 1 and ticket["currentVersionId"].startswith("TVER_")
    assert refund_events(app) == []
    assert_error(client.bearer(CREATE, {"paymentId": payment_id, "reason": "again",
                                        "requestedAmount": {"amount": "1.00", "currency": "EUR"}},
                               token), 409, "A refund ticket for this payment is already open",
                 "ticket")
    http = app.test_client()
    reviewed = http.post(f"/_mock/waffo/refund-tickets/{ticket['id']}/approve", json={})
    assert reviewed.status_code == 200, reviewed.get_json()
    assert reviewed.get_json()["ticket"]["status"] == "succeeded"
    [(event, payload)] = refund_events(app)
    assert event == "refund.succeeded" and payload["eventId"].startswith("REF_")
    data = payload["data"]
    assert (data["orderId"], data["refundedAmount"], data["originalChargedAmount"]) == (
        order_id, "10.00", "32.13")
    assert (data["refundStatus"], data["refundReason"]) == ("succeeded", "Not as described")
    assert data["originalPayment"]["total"] == "32.13"
    assert data["refundTicketMerchantExternalId"] == "RT-1"
    again = http.post(f"/_mock/waffo/refund-tickets/{ticket['id']}/approve", json={})
    assert again.status_code == 409
    # What is left can still be asked for; more than that cannot.
    assert_error(client.bearer(CREATE, {"paymentId": payment_id, "reason": "rest",
                                        "requestedAmount": {"amount": "22.14", "currency": "EUR"}},
                               token), 400, "requestedAmount.amount must be above 0 and at most 22.13",
                 "ticket")


def test_a_rejected_ticket_is_resubmitted_by_its_owner_and_can_fail(client, app):
    _, payment_id, token = paid_order(client, app)
    ticket = ok(client.bearer(CREATE, {"paymentId": payment_id, "reason": "first",
                                       "requestedAmount": {"amount": "5.00", "currency": "EUR"}},
                              token))
    http = app.test_client()
    rejected = http.post(f"/_mock/waffo/refund-tickets/{ticket['id']}/reject",
                         json={"reason": "Used product"}).get_json()["ticket"]
    assert (rejected["status"], rejected["rejectReason"]) == ("rejected", "Used product")
    other = client.token("someone-else@example.com")
    body = {"ticketId": ticket["id"], "paymentId": payment_id, "reason": "second",
            "requestedAmount": {"amount": "4.00", "currency": "EUR"}}
    assert_error(client.bearer(RESUBMIT, body, other), 403,
                 "Submitter is not the original ticket owner", "ticket")
    resubmitted = ok(client.bearer(RESUBMIT, body, token), "resubmitRefundTicket")
    assert (resubmitted["id"], resubmitted["status"], resubmitted["versionNumber"]) == (
        ticket["id"], "pending", 2)
    assert resubmitted["currentVersionId"] != ticket["currentVersionId"]
    assert resubmitted["versionData"] == {"reason": "second",
                                          "requestedAmount": {"amount": "4.00", "currency": "EUR"}}
    assert_error(client.bearer(RESUBMIT, body, token), 409,
                 "Ticket status is pending, only rejected/failed can be resubmitted", "ticket")
    failed = http.post(f"/_mock/waffo/refund-tickets/{ticket['id']}/approve",
                       json={"outcome": "failed"}).get_json()["ticket"]
    assert failed["status"] == "failed"
    [(event, payload)] = refund_events(app)
    assert event == "refund.failed" and "refundedAmount" not in payload["data"]
    assert_error(client.api(RESUBMIT, body), 403, "Submitter is not the original ticket owner",
                 "ticket")


def test_a_merchants_ticket_executes_at_once(client, app):
    _, payment_id, _ = paid_order(client, app)
    ticket = ok(client.api(CREATE, {"paymentId": payment_id, "reason": "Goodwill",
                                    "requestedAmount": {"amount": "32.13", "currency": "EUR"}}))
    assert (ticket["status"], ticket["submitterType"]) == ("succeeded", "merchant")
    assert [e for e, _ in refund_events(app)] == ["refund.succeeded"]
    assert_error(client.api(CREATE, {"paymentId": payment_id, "reason": "more",
                                     "requestedAmount": {"amount": "0.01", "currency": "EUR"}}),
                 400, "requestedAmount.amount must be above 0 and at most 0.00", "ticket")


def test_tickets_need_a_succeeded_recent_payment_of_the_caller(client, app, clock):
    session = client.session(currency="EUR")
    token = client.token()
    client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "buyerEmail": "b@example.com",
                                  "billingDetail": DE}, token)
    pending = next(o for ns in app.test_client().get("/_mock/state").get_json()[
        "namespaces"].values() for o in ns.get("order", {}).values())
    body = {"paymentId": pending["payment"]["paymentId"], "reason": "x",
            "requestedAmount": {"amount": "1.00", "currency": "EUR"}}
    assert_error(client.bearer(CREATE, body, token), 409,
                 "Payment status is pending, must be succeeded", "ticket")
    assert_error(client.bearer(CREATE, dict(body, paymentId="PAY_" + "0" * 22), token), 404,
                 "Payment not found", "ticket")
    _, payment_id, token = paid_order(client, app, "late@example.com")
    assert_error(client.bearer(CREATE, dict(body, paymentId=payment_id,
                                            requestedAmount={"amount": "1", "currency": "USD"}),
                               token), 400, "requestedAmount.currency must be the payment's "
                 "currency EUR", "ticket")
    assert_error(client.bearer(CREATE, dict(body, paymentId=payment_id,
                                            requestedAmount={"amount": "1,00", "currency": "EUR"}),
                               token), 400, "Invalid requestedAmount.amount format", "ticket")
    clock.advance(15 * 24 * 3600)
    token = client.token("late@example.com")
    assert_error(client.bearer(CREATE, dict(body, paymentId=payment_id), token), 400,
                 "Refund window has passed: tickets may be opened within 14 days of the payment",
                 "ticket")


def test_a_review_rule_answers_customers_tickets_as_they_are_made(client, app):
    http = app.test_client()
    _, payment_id, token = paid_order(client, app)
    namespace = http.get("/_mock/waffo/merchants").get_json()["merchants"][0]["namespace"]
    rule = http.post("/_mock/waffo/refund-review", json={"action": "approve", "outcome": "failed",
                                                         "namespace": namespace})
    assert rule.status_code == 200 and rule.get_json()["outcome"] == "failed"
    ticket = ok(client.bearer(CREATE, {"paymentId": payment_id, "reason": "broken",
                                       "requestedAmount": {"amount": "5.00", "currency": "EUR"}},
                              token))
    assert (ticket["status"], ticket["reviewerId"]) == ("failed", "waffo-review")
    assert [event for event, _ in refund_events(app)] == ["refund.failed"]
    http.post("/_mock/waffo/refund-review", json={"action": "reject", "reason": "No proof"})
    ticket = ok(client.bearer(RESUBMIT, {"ticketId": ticket["id"], "paymentId": payment_id,
                                         "reason": "broken, photo attached",
                                         "requestedAmount": {"amount": "5.00", "currency": "EUR"}},
                              token), "resubmitRefundTicket")
    # The namespace's own rule wins over the default for every namespace.
    assert ticket["status"] == "failed"
    http.post("/_mock/waffo/refund-review", json={"action": "manual", "namespace": namespace})
    second = ok(client.bearer(RESUBMIT, {"ticketId": ticket["id"], "paymentId": payment_id,
                                         "reason": "third time",
                                         "requestedAmount": {"amount": "5.00", "currency": "EUR"}},
                              token), "resubmitRefundTicket")
    assert (second["status"], second["rejectReason"]) == ("rejected", "No proof")
    http.post("/_mock/waffo/refund-review", json={"action": "manual"})
    bad = http.post("/_mock/waffo/refund-review", json={"action": "maybe"})
    assert bad.status_code == 400 and "approve, reject or manual" in bad.get_json()["error"]
