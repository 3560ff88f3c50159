"""A Waffo subscription's life through the official @waffo/pancake-ts SDK, Debian's chromium and
the mock clock: the SDK makes a store, two plans in a self-service group and a webhook; the buyer
pays on the hosted page; the clock renews it; the customer cancels, reactivates and changes plan
(confirmed on the change page); a refund ticket for the renewal is approved; the SDK reads it all
back through GraphQL, as the merchant and as the buyer, and verifies every webhook the store
received with its own verify()."""
from __future__ import annotations

import json

from waffo.helpers import MERCHANTS, private_key
from waffo.test_sdk import _run, _tools
from webhooks.receiver import Receiver

from .conftest import screenshot
from .test_waffo_checkout import pay

BUYER = "life@example.com"


def test_a_subscription_bought_renewed_changed_and_refunded(page, live, mock):
    node, _ = _tools()
    receiver = Receiver()
    try:
        base = {"baseUrl": f"{live.url}/waffo", "controlUrl": live.url,
                "merchantId": MERCHANTS["acme"]["merchantId"], "privateKey": private_key("acme"),
                "webhookPublicKey": mock.webhooks.public_key("waffo"), "buyer": BUYER}
        setup = _run(node, dict(base, hookUrl=receiver.url, successUrl=f"{receiver.base}/thanks"),
                     "lifecycleSetup")
        assert "#token=" in setup["link"]["checkoutUrl"]

        # The buyer pays on the hosted page.
        page.goto(setup["link"]["checkoutUrl"])
        page.fill("#f-email", BUYER)
        page.select_option("#f-country", "US")
        page.fill("#f-state", "NY")
        page.click("#continue")
        page.wait_for_url("**/psp/waffo/**")
        pay(page, "4242424242424242")
        page.wait_for_url(f"{receiver.base}/thanks**")
        receiver.wait_for(2)

        # A month on the mock clock: the saved card pays the second period.
        moved = mock.clock.advance(days=31)
        assert moved is not None
        receiver.wait_for(4)

        # The customer cancels, changes their mind, and asks to move to Plus.
        customer = _run(node, dict(base, storeId=setup["store"]["id"],
                                   plusId=setup["plus"]["id"]), "lifecycleCustomer")
        assert customer["canceling"]["status"] == "canceling"
        assert customer["reactivated"] == {"orderId": customer["orderId"], "status": "active"}
        change_url = customer["change"]["checkoutUrl"]
        assert f"/checkout/waffo/store/{setup['store']['slug']}/change/" in change_url
        receiver.wait_for(6)
        page.goto(change_url)
        assert page.inner_text("#product") == "Plus"
        assert page.inner_text("#current-plan") == "Basic"
        screenshot(page, "waffo-plan-change")
        page.click("#confirm")
        page.wait_for_selector("text=Plan changed")
        receiver.wait_for(8)

        # A refund of part of the renewal, approved by Waffo's review (the control API).
        refund = _run(node, dict(base, token=customer["token"], orderId=customer["orderId"]),
                      "lifecycleRefund")
        assert refund["approved"]["ticket"]["status"] == "succeeded"
        received = receiver.wait_for(9)
        readback = _run(node, dict(base, token=customer["token"], orderId=customer["orderId"],
                                   received=[{"body": r["body"],
                                              "signature": r["headers"]["x-waffo-signature"]}
                                             for r in received]), "lifecycleReadback")
    finally:
        receiver.stop()

    events = readback["events"]  # each verified by the SDK's own verify()
    # Each step's events, in the order the steps ran (deliveries of one step may overtake each
    # other: webhooks promise no order, and receivers dedupe and order by the payload).
    steps = [sorted(e["eventType"] for e in events[a:b])
             for a, b in ((0, 2), (2, 4), (4, 6), (6, 8), (8, 9))]
    assert steps == [
        ["subscription.activated", "subscription.payment_succeeded"],
        ["subscription.payment_succeeded", "subscription.renewed"],
        ["subscription.canceling", "subscription.uncanceled"],
        ["subscription.payment_succeeded", "subscription.plan_changed"],
        ["refund.succeeded"]]
    assert {e["storeId"] for e in events} == {setup["store"]["id"]}
    assert {e["data"]["orderId"] for e in events} == {customer["orderId"]}
    by_type = {e["eventType"]: e["data"] for e in events}  # the last of each type
    activated, renewed, changed = (by_type["subscription.activated"],
                                   by_type["subscription.renewed"],
                                   by_type["subscription.plan_changed"])
    assert (activated["periodNumber"], renewed["periodNumber"]) == (1, 2)
    assert renewed["currentPeriodStart"] == activated["currentPeriodEnd"]
    assert (activated["productName"], changed["productName"]) == ("Basic", "Plus")
    assert changed["planPrice"]["subtotal"] == "19.00"
    refunded = by_type["refund.succeeded"]
    assert (refunded["paymentId"], refunded["refundedAmount"]) == (refund["renewal"]["id"], "2.00")

    order = readback["merchantView"]["data"]["subscriptionOrder"]
    assert (order["status"], order["subscriptionProduct"]["name"]) == ("active", "Plus")
    assert order["currentPeriodStart"] == renewed["currentPeriodStart"]
    assert [p["status"] for p in order["payments"]] == ["succeeded"] * 3
    assert [p["refundStatus"] for p in order["payments"]] == ["none", "refunded", "none"]
    buyer = readback["buyerView"]["data"]
    assert buyer["subscriptionOrders"] == [{"id": customer["orderId"], "status": "active"}]
    assert [t["status"] for t in buyer["refundTickets"]] == ["succeeded"]
    assert [json.loads(r["body"])["id"] for r in received] == [e["id"] for e in events]
