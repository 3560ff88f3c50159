"""Waffo's 14 documented events on demand (POST /_mock/trigger): each happens through its cause,
with the state it reports, and the events that come with that cause in order."""
from __future__ import annotations

import pytest

from mock_server.core.clock import epoch

from .test_subscription_lifecycle import World

EXPECTED = {
    # event: (what the trigger's cause sends, after whatever made the order it acts on)
    "order.completed": ["order.completed"],
    "subscription.activated": ["subscription.payment_succeeded", "subscription.activated"],
    "subscription.payment_succeeded": ["subscription.payment_succeeded",
                                       "subscription.activated"],
    "subscription.renewed": ["subscription.payment_succeeded", "subscription.renewed"],
    "subscription.past_due": ["subscription.past_due"],
    "subscription.recovered": ["subscription.past_due", "subscription.payment_succeeded",
                               "subscription.recovered"],
    "subscription.canceling": ["subscription.canceling"],
    "subscription.uncanceled": ["subscription.canceling", "subscription.uncanceled"],
    "subscription.canceled": ["subscription.canceling", "subscription.canceled"],
    "subscription.plan_changed": ["subscription.payment_succeeded", "subscription.plan_changed"],
    "subscription.plan_change_scheduled": ["subscription.plan_change_scheduled"],
    "subscription.plan_change_failed": ["subscription.plan_change_failed"],
    "refund.succeeded": ["order.completed", "refund.succeeded"],
    "refund.failed": ["order.completed", "refund.failed"],
}


@pytest.fixture
def world():
    made = World()
    yield made
    made.core.shutdown.set()


def trigger(world, event, status=200, **params):
    response = world.app.test_client().post("/_mock/trigger", json={
        "provider": "waffo", "event": event, "namespace": world.ns.name, **params})
    assert response.status_code == status, response.json
    return response.json


def test_every_documented_event_can_be_triggered(world):
    listed = world.app.test_client().get("/_mock/trigger").json["providers"]["waffo"]
    assert sorted(listed) == sorted(EXPECTED)


@pytest.mark.parametrize("event", sorted(set(EXPECTED) - {"refund.succeeded", "refund.failed",
                                                          "order.completed"}))
def test_a_subscription_event_on_an_existing_subscription(world, event):
    order = world.buy()
    before = len(world.events())
    made = trigger(world, event, order_id=order["orderId"]) if event not in (
        "subscription.activated", "subscription.payment_succeeded") else trigger(world, event)
    assert world.types(before) == EXPECTED[event]
    assert world.events()[-1][1]["data"]["orderId"] == made["order"]["orderId"]
    status = {"subscription.past_due": "past_due", "subscription.canceling": "canceling",
              "subscription.canceled": "canceled"}.get(event, "active")
    assert made["order"]["status"] == status


def test_renewed_moves_the_period_on_now(world):
    order = world.buy()
    made = trigger(world, "subscription.renewed", order_id=order["orderId"])["order"]
    assert made["currentPeriodStart"] == order["currentPeriodEnd"]
    assert made["periodNumber"] == 2
    assert epoch(made["currentPeriodEnd"]) > epoch(order["currentPeriodEnd"])


def test_refund_events_refund_a_new_or_given_payment(world):
    made = trigger(world, "refund.succeeded")
    assert made["ticket"]["status"] == "succeeded"
    assert made["order"]["payment"]["refundStatus"] == "refunded"
    refunded = world.events()[-1][1]
    assert refunded["eventId"].startswith("REF_")
    assert refunded["data"]["refundedAmount"] == made["order"]["total"]
    paid = trigger(world, "order.completed")["order"]
    failed = trigger(world, "refund.failed", payment_id=paid["payment"]["paymentId"],
                     amount="1.00")
    assert (failed["ticket"]["status"], failed["order"]["orderId"]) == ("failed",
                                                                        paid["orderId"])
    assert world.types()[-1] == "refund.failed"


def test_wrong_states_and_unknown_orders_are_refused(world):
    order = world.buy()
    trigger(world, "subscription.canceled", order_id=order["orderId"])
    answer = trigger(world, "subscription.renewed", 409, order_id=order["orderId"])
    assert "is canceled, not active" in answer["error"]
    trigger(world, "subscription.renewed", 404, order_id="ORD_" + "x" * 22)
    trigger(world, "refund.succeeded", 404, payment_id="PAY_" + "x" * 22)
    answer = trigger(world, "subscription.plan_changed", 409, order_id=world.buy("team_yearly")[
        "orderId"], to_product_id="PROD_nope")
    assert "Product not found" in answer["error"]


def test_the_cli_and_the_pytest_handle_trigger_waffo_events(live, paymock):
    import subprocess
    import sys

    from mock_server.core.http import credential_namespace

    from .helpers import merchant_id

    namespace = credential_namespace("waffo", merchant_id())
    run = subprocess.run([sys.executable, "-m", "paymock", "trigger", "subscription.past_due",
                          "--provider", "waffo", "--namespace", namespace, "--url", live.url],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert '"status": "past_due"' in run.stdout
    # The plugin's handle, in a namespace of the suite's own server.
    ours = credential_namespace("waffo", merchant_id("beta"))
    made = paymock.trigger("refund.failed", namespace=ours)
    assert (made["namespace"], made["ticket"]["status"]) == (ours, "failed")


def test_the_provider_is_found_when_a_trigger_names_none(world):
    """Dodo and Waffo share event names (refund.succeeded, subscription.renewed, ...): without a
    provider, the namespace says, or the object a parameter names."""
    client = world.app.test_client()
    order = world.buy()
    made = client.post("/_mock/trigger", json={"event": "subscription.renewed",
                                                "order_id": order["orderId"]})
    assert made.status_code == 200 and made.json["provider"] == "waffo"
    made = client.post("/_mock/trigger", json={"event": "refund.succeeded",
                                                "namespace": world.ns.name})
    assert made.status_code == 200 and made.json["provider"] == "waffo"
    refused = client.post("/_mock/trigger", json={"event": "refund.succeeded"})
    assert refused.status_code == 400 and "say which provider" in refused.json["error"]
    assert client.post("/_mock/trigger", json={"event": "nope.never"}).status_code == 404
