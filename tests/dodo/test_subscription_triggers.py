"""POST /_mock/trigger for Dodo's subscription.* and dunning.* events: each causes its event through
the subscription rules (no trigger moves the clock, so these share the live server)."""
import pytest
from dodopayments import DodoPayments

from mock_server.control.client import Client, ControlAPIError
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
NS = credential_namespace("dodo", API_KEY)


@pytest.fixture
def control(live_server):
    return Client(live_server.url)


@pytest.fixture
def sdk(live_server):
    return DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)


def told(control, sub_id: str) -> list[str]:
    """The events about this subscription, in order, each valid against its schema."""
    found = []
    for event in control.webhooks.events(NS):
        data = event["payload"]["data"]
        if data.get("subscription_id") == sub_id:
            assert CONTRACT.webhook_errors(event["type"], event["payload"]) == [], event["type"]
            found.append(event["type"])
    return found


def test_every_subscription_and_dunning_event_can_be_triggered(control):
    listed = control.triggers()["dodo"]
    for event in ("subscription.active", "subscription.renewed", "subscription.on_hold",
                  "subscription.past_due", "subscription.paused", "subscription.unpaused",
                  "subscription.cancelled", "subscription.expired", "subscription.updated",
                  "subscription.update_payment_method", "dunning.started", "dunning.recovered"):
        assert event in listed


def test_active_makes_a_subscription_and_renewed_renews_it_now(control, sdk):
    made = control.trigger("subscription.active", namespace=NS)
    sub_id = made["subscription"]["subscription_id"]
    assert sdk.subscriptions.retrieve(sub_id).status == "active"
    renewed = control.trigger("subscription.renewed", namespace=NS, subscription_id=sub_id)
    assert renewed["payment"]["status"] == "succeeded"
    assert renewed["subscription"]["previous_billing_date"] == made["subscription"]["next_billing_date"]
    assert told(control, sub_id) == ["subscription.active", "subscription.updated",
                                     "payment.succeeded", "payment.succeeded",
                                     "subscription.renewed", "subscription.updated"]


def test_on_hold_fails_a_renewal_and_recovered_pays_it(control, sdk):
    held = control.trigger("subscription.on_hold", namespace=NS, reason="insufficient_funds")
    sub_id = held["subscription"]["subscription_id"]
    assert held["subscription"]["status"] == "on_hold"
    assert held["payment"]["error_code"] == "INSUFFICIENT_FUNDS"
    back = control.trigger("dunning.recovered", namespace=NS, subscription_id=sub_id)
    assert back["subscription"]["status"] == "active" and back["update"]["payment_id"]
    assert told(control, sub_id)[3:] == [
        "payment.failed", "subscription.on_hold", "subscription.updated", "dunning.started",
        "payment.succeeded", "subscription.active", "subscription.updated", "dunning.recovered"]
    assert sdk.subscriptions.retrieve(sub_id).status == "active"


def test_state_triggers_go_through_patch(control):
    paused = control.trigger("subscription.paused", namespace=NS)
    sub_id = paused["subscription"]["subscription_id"]
    assert paused["subscription"]["status"] == "paused"
    assert control.trigger("subscription.unpaused", namespace=NS,
                           subscription_id=sub_id)["subscription"]["status"] == "active"
    updated = control.trigger("subscription.updated", namespace=NS, subscription_id=sub_id,
                              metadata={"tier": "gold"})
    assert updated["subscription"]["metadata"]["tier"] == "gold"
    control.trigger("subscription.update_payment_method", namespace=NS, subscription_id=sub_id)
    cancelled = control.trigger("subscription.cancelled", namespace=NS, subscription_id=sub_id)
    assert cancelled["subscription"]["status"] == "cancelled"
    assert told(control, sub_id)[3:] == [
        "subscription.paused", "subscription.updated", "subscription.unpaused",
        "subscription.updated", "subscription.updated", "subscription.update_payment_method",
        "subscription.updated", "subscription.cancelled", "subscription.updated"]
    with pytest.raises(ControlAPIError, match=f"subscription {sub_id} is cancelled, not active"):
        control.trigger("subscription.renewed", namespace=NS, subscription_id=sub_id)


def test_expired_ends_the_term_now(control):
    ended = control.trigger("subscription.expired", namespace=NS)
    assert ended["subscription"]["status"] == "expired"
    assert told(control, ended["subscription"]["subscription_id"])[-2:] == [
        "subscription.expired", "subscription.updated"]


def test_bad_params_are_refused(control):
    with pytest.raises(ControlAPIError, match="no subscription sub_nope in"):
        control.trigger("subscription.paused", namespace=NS, subscription_id="sub_nope")
    with pytest.raises(ControlAPIError, match="dodo_subscription_grace_days"):
        control.trigger("subscription.past_due", namespace=NS)


def test_plan_changed_moves_it_to_another_product(control, sdk):
    made = control.trigger("subscription.plan_changed", namespace=NS,
                           proration_billing_mode="do_not_bill")
    sub = made["subscription"]
    assert made["change"]["payment_id"] is None
    assert told(control, sub["subscription_id"])[-2:] == ["subscription.plan_changed",
                                                          "subscription.updated"]
    assert sdk.subscriptions.retrieve(sub["subscription_id"]).product_id == sub["product_id"]


def test_failed_is_a_declined_subscription_checkout(control):
    made = control.trigger("subscription.failed", namespace=NS, reason="insufficient_funds")
    assert made["subscription"]["status"] == "failed"
    assert made["payment"]["error_code"] == "INSUFFICIENT_FUNDS"
    assert told(control, made["subscription"]["subscription_id"]) == [
        "subscription.failed", "subscription.updated", "payment.failed"]
