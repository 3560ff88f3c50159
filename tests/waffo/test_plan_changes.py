"""Waffo plan changes: create-session with originOrderId (who may, which plan, which fields), the
change page, and the change now (its charge, plan_changed or plan_change_failed) or at the next
renewal (plan_change_scheduled, then plan_changed and the new plan's charge)."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from mock_server.providers.waffo import billing

from .helpers import CREATE_SESSION, PRODUCTS, STORES, assert_error
from .test_subscription_lifecycle import World, at

GROUP = "/v1/actions/subscription-product-group/create-group"
SUBSCRIPTION_ORDER = "/v1/actions/subscription-order/create-order"
PRO, TEAM = PRODUCTS["pro_monthly"]["id"], PRODUCTS["team_yearly"]["id"]
STORE = STORES["acme-digital"]["id"]


@pytest.fixture
def world():
    made = World()
    yield made
    made.core.shutdown.set()


def change(world, order, product=TEAM, **fields):
    status, payload, _ = world.client.api(CREATE_SESSION, {
        "originOrderId": order["orderId"], "productId": product, "currency": "USD", **fields})
    assert status == 200, payload
    return payload["data"]


def confirm(world, session_id, status=200):
    response = world.app.test_client().post(f"/_mock/waffo/plan-changes/{session_id}/confirm")
    assert response.status_code == status, response.json
    return response.json


def customer_change(world, order, product=TEAM, **fields):
    world.token = world.client.token("buyer@example.com")
    return world.client.bearer(CREATE_SESSION, {"originOrderId": order["orderId"],
                                                "productId": product, "currency": "USD",
                                                **fields}, world.token)


def group(world, products, self_service=True):
    status, payload, _ = world.client.api(GROUP, {
        "storeId": STORE, "name": f"plans {len(world.ns.values('product_group'))}",
        "productIds": products, "rules": {"selfServicePlanChange": self_service}})
    assert status == 200, payload


def test_an_upgrade_is_made_now_and_charges_the_difference_for_the_period_left(world):
    order = world.buy()  # pro monthly, January 31 to February 28
    world.advance(7)  # 21 of 28 days left
    session = change(world, order)
    assert re.fullmatch(rf"http://mock.test/checkout/waffo/store/acme-digital/change/"
                        rf"{session['sessionId']}", session["checkoutUrl"])
    before = len(world.events())
    confirm(world, session["sessionId"])
    changed = world.order(order["orderId"])
    assert (changed["productId"], changed["billingPeriod"]) == (TEAM, "yearly")
    old = billing.to_minor(order["total"], "USD")
    new = billing.to_minor(changed["total"], "USD")
    expected = int((Decimal(new - old) * Decimal(21) / Decimal(28)).to_integral_value(ROUND_HALF_UP))
    [charge] = changed["charges"]
    assert (charge["purpose"], charge["amount"]["total"]) == (
        "plan_change", billing.to_display(expected, "USD"))
    assert world.types(before) == ["subscription.payment_succeeded", "subscription.plan_changed"]
    plan_changed = world.events(before)[1][1]["data"]
    assert plan_changed["planPrice"]["total"] == changed["total"]
    assert plan_changed["productName"] == PRODUCTS["team_yearly"]["name"]
    # The period's dates stay; the next renewal charges the new plan for its own period.
    assert (changed["currentPeriodStart"], changed["currentPeriodEnd"]) == (at(2026, 1, 31),
                                                                            at(2026, 2, 28))
    world.advance(21)
    renewed = world.order(order["orderId"])
    assert renewed["charges"][-1]["amount"]["total"] == changed["total"]
    assert renewed["currentPeriodEnd"] == at(2027, 2, 28)


def test_a_change_for_the_next_period_is_scheduled_then_made_at_the_renewal(world):
    order = world.buy("team_yearly")  # a trial, then yearly; downgrade to monthly
    session = change(world, order, PRO)  # cheaper: the next period by default
    before = len(world.events())
    assert confirm(world, session["sessionId"])["scheduledProductId"] == PRO
    assert world.types(before) == ["subscription.plan_change_scheduled"]
    assert world.order(order["orderId"])["productId"] == TEAM
    world.advance(7)  # the trial ends: the renewal is on the new plan
    assert world.types(before + 1) == ["subscription.plan_changed",
                                       "subscription.payment_succeeded", "subscription.renewed"]
    after = world.order(order["orderId"])
    assert (after["productId"], after["billingPeriod"]) == (PRO, "monthly")
    assert after["charges"][-1]["amount"]["total"] == after["total"]
    assert after["currentPeriodEnd"] == at(2026, 3, 7)


def test_a_declined_change_charge_keeps_the_old_plan(world):
    order = world.buy()
    session = change(world, order, changeTiming="immediate", changeAmount="12.00")
    world.app.test_client().post("/_mock/faults", json={
        "provider": "psp", "operation": "chargeSavedMethod", "times": 1,
        "action": {"decline": "card_declined"}})
    before = len(world.events())
    confirm(world, session["sessionId"])
    assert world.types(before) == ["subscription.plan_change_failed"]
    failed = world.events(before)[0][1]["data"]
    assert failed["orderStatus"] == "active" and "periodNumber" not in failed
    after = world.order(order["orderId"])
    assert after["productId"] == PRO and after["charges"][0]["status"] == "failed"


def test_change_amount_and_credit_are_what_the_merchant_says(world):
    order = world.buy()
    confirm(world, change(world, order, changeAmount="12.00")["sessionId"])
    assert world.order(order["orderId"])["charges"][0]["amount"]["total"] == "12.00"
    second = world.buy()
    confirm(world, change(world, second, changeCreditAmount="100.00")["sessionId"])
    changed = world.order(second["orderId"])
    credit = billing.to_minor(changed["total"], "USD") - 10000
    assert changed["charges"][0]["amount"]["total"] == billing.to_display(credit, "USD")


def test_a_credit_larger_than_the_price_charges_nothing_and_changes_at_once(world):
    order = world.buy()
    before = len(world.events())
    confirm(world, change(world, order, changeTiming="immediate",
                          changeCreditAmount="10000.00")["sessionId"])
    assert world.types(before) == ["subscription.plan_changed"]
    assert world.order(order["orderId"])["charges"] == []


def test_merchant_refusals(world):
    order = world.buy()
    result = world.client.api(CREATE_SESSION, {"originOrderId": order["orderId"],
                                               "productId": TEAM, "currency": "USD",
                                               "changeAmount": "1.00",
                                               "changeCreditAmount": "1.00"})
    assert_error(result, 400, "changeAmount and changeCreditAmount are mutually exclusive")
    result = world.client.api(CREATE_SESSION, {"originOrderId": order["orderId"],
                                               "productId": PRO, "currency": "USD"})
    assert_error(result, 400, "Target plan must be a subscription product other than the "
                              "current one")
    result = world.client.api(CREATE_SESSION, {"originOrderId": "ORD_" + "x" * 22,
                                               "productId": TEAM, "currency": "USD"})
    assert_error(result, 404, "Order not found")
    result = world.client.slug(CREATE_SESSION, {"originOrderId": order["orderId"],
                                                "productId": TEAM, "currency": "USD"})
    assert result[0] == 403
    world.customer("/v1/actions/subscription-order/cancel-order", order["orderId"])
    world.advance(28)
    result = world.client.api(CREATE_SESSION, {"originOrderId": order["orderId"],
                                               "productId": TEAM, "currency": "USD"})
    assert_error(result, 400, "Subscription cannot be changed, current status: canceled")


def test_a_customer_needs_the_group_and_its_switch(world):
    order = world.buy()
    assert_error(customer_change(world, order), 403,
                 "Target plan is not in the same product group as the current plan")
    group(world, [PRO, TEAM], self_service=False)
    assert_error(customer_change(world, order), 403,
                 "Self-service plan change is not enabled for this product group")
    group(world, [PRO, TEAM], self_service=True)
    assert_error(customer_change(world, order, currency="EUR"), 400,
                 "Currency must match the subscription's (USD)")
    # API-key-only fields are dropped, as Waffo drops them: the default proration applies.
    status, payload, _ = customer_change(world, order, changeAmount="0.01")
    assert status == 200, payload
    session = world.ns.get("checkout_session", payload["data"]["sessionId"])
    assert session["changeAmount"] is None and session["changeTiming"] == "immediate"
    stranger = world.client.token("someone@example.com")
    result = world.client.bearer(CREATE_SESSION, {"originOrderId": order["orderId"],
                                                  "productId": TEAM, "currency": "USD"}, stranger)
    assert_error(result, 403, "Subscription order does not belong to this credential")


def test_the_change_page_shows_the_change_and_confirms_it(world):
    order = world.buy()
    session = change(world, order)
    client = world.app.test_client()
    path = session["checkoutUrl"].removeprefix("http://mock.test")
    page = client.get(path).get_data(as_text=True)
    assert PRODUCTS["team_yearly"]["name"] in page and PRODUCTS["pro_monthly"]["name"] in page
    assert "You are charged" in page
    done = client.post(path)
    assert done.status_code == 200 and "Plan changed" in done.get_data(as_text=True)
    assert world.order(order["orderId"])["productId"] == TEAM
    again = client.post(path)
    assert again.status_code == 409 and "confirmed already" in again.get_data(as_text=True)


def test_a_plan_change_session_cannot_be_ordered(world):
    order = world.buy()
    session = change(world, order)
    result = world.client.bearer(SUBSCRIPTION_ORDER, {
        "checkoutSessionId": session["sessionId"],
        "billingDetail": {"country": "US", "state": "CA", "isBusiness": False}}, world.token)
    assert_error(result, 400, "Session is a plan change: confirm it on its change page")

