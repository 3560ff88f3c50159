"""Waffo orders on core payments: pending -> completed on success, pending (payment failed) on
failure, the outcome control API by order id, and PSP decline faults."""
from __future__ import annotations

from mock_server.core.clock import epoch
from mock_server.providers.waffo import billing
from waffo.helpers import ONETIME_ORDER, SUBSCRIPTION_ORDER, WaffoClient

BILLING = {"country": "US", "state": "CA", "isBusiness": False}


def place(app, kind="onetime", product="ebook", **session_fields):
    client = WaffoClient(app.test_client())
    session_id = client.session(product, **session_fields)
    token = client.token("buyer@example.com")
    path = ONETIME_ORDER if kind == "onetime" else SUBSCRIPTION_ORDER
    status, payload, _ = client.bearer(path, {"checkoutSessionId": session_id,
                                              "billingDetail": BILLING}, token)
    assert status == 200, payload
    order = next(o for ns in app.extensions["paymock"].store.snapshot().values()
                 for o in ns.get("order", {}).values() if o["checkoutSessionId"] == session_id)
    return order["orderId"]


def order_of(app, order_id):
    return next(ns.get("order", order_id) for ns in
                (app.extensions["paymock"].store.find(n) for n in app.extensions["paymock"].store.names())
                if ns.get("order", order_id))


def drive(app, obj_id, outcome, status=200, **body):
    response = app.test_client().post(f"/_mock/payments/{obj_id}/outcome",
                                      json={"outcome": outcome, **body})
    assert response.status_code == status, response.json
    return response.json


def test_order_completes_when_paid(app):
    order_id = place(app)
    payment = drive(app, order_id, "paid")["payment"]
    order = order_of(app, order_id)
    assert (order["status"], order["payment"]["status"]) == ("completed", "succeeded")
    assert payment["id"] == order["payment"]["paymentId"] and payment["amount"] == 3110
    assert order["payment"]["paymentLast4"] == "4242"


def test_failure_leaves_the_order_pending_and_a_retry_can_pay(app):
    order_id = place(app)
    drive(app, order_id, "declined", reason="insufficient_funds")
    order = order_of(app, order_id)
    assert (order["status"], order["payment"]["status"]) == ("pending", "failed")
    assert order["payment"]["failureReason"] == "INSUFFICIENT_FUNDS"
    drive(app, order["payment"]["paymentId"], "paid")
    assert order_of(app, order_id)["status"] == "completed"


def test_cancel_on_the_psp_cancels_the_pending_order(app):
    order_id = place(app)
    drive(app, order_id, "cancelled")
    order = order_of(app, order_id)
    assert (order["status"], order["payment"]["status"]) == ("canceled", "canceled")


def test_subscription_order_becomes_active_and_a_trial_charges_a_card_check(app):
    monthly = place(app, "subscription", "pro_monthly")
    first = drive(app, monthly, "paid")["payment"]
    order = order_of(app, monthly)
    assert (order["status"], order["periodNumber"]) == ("active", 1)
    assert first["amount"] == billing.to_minor(order["total"], order["currency"])
    yearly = place(app, "subscription", "team_yearly")  # a 7-day free trial
    trial = drive(app, yearly, "paid")["payment"]
    order = order_of(app, yearly)
    # Waffo has no trialing status: the trial is the first period, number 0, charged nothing.
    assert (order["status"], order["periodNumber"], trial["amount"]) == ("active", 0, 0)
    assert order["payment"]["chargedAmount"] == "0.00"
    assert epoch(order["currentPeriodEnd"]) - epoch(order["currentPeriodStart"]) == \
        order["trialDays"] * 86400


def test_psp_decline_fault_fails_a_success_card(app):
    client = app.test_client()
    assert client.post("/_mock/faults", json={"provider": "psp", "times": 1,
                                               "action": {"decline": "insufficient_funds"}}).status_code == 201
    order_id = place(app)
    payment = drive(app, order_id, "3ds_passed")["payment"]
    assert (payment["status"], payment["reason"]) == ("failed", "INSUFFICIENT_FUNDS")


def test_a_waffo_session_has_no_payment_until_an_order(app):
    client = WaffoClient(app.test_client())
    session_id = client.session("ebook")
    assert "create-order" in drive(app, session_id, "paid", 404)["error"]
