"""Plan changes (POST /subscriptions/{id}/change-plan and /preview) without HTTP, on a frozen
clock: each proration mode's charge, credit, dates, scheduled changes, failed charges."""
import pytest

from mock_server.providers.dodo.subscriptions import INTERNAL, SUBSCRIPTION
from tests.dodo.test_subscription_rules import CONTRACT, World, at, refused, valid


@pytest.fixture
def world():
    made = World()
    yield made
    made.core.shutdown.set()


def amounts(world, sub_id):
    extra = world.ns.get(SUBSCRIPTION, sub_id)[INTERNAL]
    return extra["amount"], extra.get("credit", 0)


def change(world, sub_id, slug, mode, **body):
    body = dict({"product_id": world.product(slug)["product_id"], "quantity": 1,
                 "proration_billing_mode": mode}, **body)
    preview = world.backend.plans.preview(world.ns, sub_id, body)
    assert CONTRACT.response_errors("change_plan_preview_handler", 200, preview) == []
    answer = world.backend.plans.change(world.ns, sub_id, body)
    assert CONTRACT.response_errors("update_subscription_plan_handler", 200, answer) == []
    return preview, answer


def test_prorated_immediately_charges_new_less_unused_old_and_restarts_the_cycle(world):
    sub_id = world.buy("monthly_subscription")["subscription_id"]
    old, _ = amounts(world, sub_id)
    world.advance(14)  # 14 of February's 28 days used: half the period unused
    told = len(world.events())
    preview, answer = change(world, sub_id, "monthly_plan", "prorated_immediately")
    new, _ = amounts(world, sub_id)
    assert preview["immediate_charge"]["summary"]["total_amount"] == new - round(old * 0.5)
    assert preview["new_plan"]["next_billing_date"] == at(2026, 3, 14)
    payment = world.payments.get(world.ns, answer["payment_id"])
    assert (payment["status"], payment["amount"]) == ("succeeded", new - round(old * 0.5))
    assert payment["data"]["charge_type"] == "plan_change"
    sub = world.sub(sub_id)
    assert sub["product_id"] == world.product("monthly_plan")["product_id"]
    assert (sub["previous_billing_date"], sub["next_billing_date"]) == (at(2026, 2, 14),
                                                                       at(2026, 3, 14))
    assert valid(world.events(told)) == ["payment.succeeded", "subscription.plan_changed",
                                         "subscription.updated"]


def test_keep_cycle_charges_the_difference_for_what_is_left(world):
    sub_id = world.buy("monthly_subscription")["subscription_id"]
    old, _ = amounts(world, sub_id)
    world.advance(14)
    _, answer = change(world, sub_id, "monthly_plan", "prorated_immediately_keep_cycle")
    new, _ = amounts(world, sub_id)
    assert world.payments.get(world.ns, answer["payment_id"])["amount"] == round((new - old) * 0.5)
    assert world.sub(sub_id)["next_billing_date"] == at(2026, 2, 28)


def test_a_downgrade_leaves_credit_that_pays_the_next_renewal_first(world):
    sub_id = world.buy("monthly_plan")["subscription_id"]
    old, _ = amounts(world, sub_id)
    preview, answer = change(world, sub_id, "monthly_subscription", "difference_immediately")
    new, credit = amounts(world, sub_id)
    assert answer["payment_id"] is None and credit == old - new
    assert preview["immediate_charge"]["summary"]["customer_credits"] == old - new
    world.advance(29)
    renewal = world.payments_of(sub_id)[-1]
    assert renewal["created_at"] == at(2026, 2, 28)
    assert renewal["amount"] == max(new - (old - new), 0)
    assert amounts(world, sub_id)[1] == max((old - new) - new, 0)


def test_do_not_bill_changes_the_plan_alone(world):
    sub_id = world.buy("monthly_subscription")["subscription_id"]
    world.advance(3)
    _, answer = change(world, sub_id, "monthly_plan", "do_not_bill")
    assert answer["payment_id"] is None and len(world.payments_of(sub_id)) == 1
    sub = world.sub(sub_id)
    assert sub["product_id"] == world.product("monthly_plan")["product_id"]
    assert sub["next_billing_date"] == at(2026, 2, 28)


def test_a_change_scheduled_for_the_next_billing_date_applies_at_that_renewal(world):
    sub_id = world.buy("monthly_subscription")["subscription_id"]
    refused(lambda: change(world, sub_id, "monthly_plan", "prorated_immediately",
                           effective_at="next_billing_date"),
            422, "INVALID_PRORATION_MODE_WITH_NEXT_BILLING_DATE", "full_immediately only")
    told = len(world.events())
    _, answer = change(world, sub_id, "monthly_plan", "full_immediately",
                       effective_at="next_billing_date")
    scheduled = world.sub(sub_id)["scheduled_change"]
    assert answer["payment_id"] is None and scheduled["effective_at"] == at(2026, 2, 28)
    assert scheduled["product_id"] == world.product("monthly_plan")["product_id"]
    assert CONTRACT.response_errors("get_subscription_handler", 200, world.sub(sub_id)) == []
    refused(lambda: change(world, sub_id, "monthly_plan", "full_immediately"), 409,
            "SCHEDULED_PLAN_CHANGE_EXISTS", "send cancel_scheduled_change_plan true")
    world.advance(30)
    new, _ = amounts(world, sub_id)
    renewal = world.payments_of(sub_id)[-1]
    assert (renewal["created_at"], renewal["amount"]) == (at(2026, 2, 28), new)
    sub = world.sub(sub_id)
    assert sub["scheduled_change"] is None and sub["next_billing_date"] == at(2026, 3, 31)
    assert valid(world.events(told)) == [
        "subscription.updated", "subscription.plan_changed", "subscription.updated",
        "payment.succeeded", "subscription.renewed", "subscription.updated"]


def test_a_failed_plan_charge_applies_the_change_on_hold_or_prevents_it(world):
    rule = {"provider": "psp", "operation": "chargeSavedMethod", "times": 1,
            "action": {"decline": "insufficient_funds"}}
    kept = world.buy("monthly_subscription")["subscription_id"]
    world.core.faults.add(dict(rule))
    _, answer = change(world, kept, "monthly_plan", "full_immediately",
                       on_payment_failure="prevent_change")
    assert world.payments.get(world.ns, answer["payment_id"])["status"] == "failed"
    assert world.sub(kept)["status"] == "active"
    assert world.sub(kept)["product_id"] == world.product("monthly_subscription")["product_id"]
    applied = world.buy("monthly_subscription")["subscription_id"]
    world.core.faults.add(dict(rule))
    told = len(world.events())
    change(world, applied, "monthly_plan", "full_immediately")  # apply_change, the default
    sub = world.sub(applied)
    assert sub["status"] == "on_hold"
    assert sub["product_id"] == world.product("monthly_plan")["product_id"]
    assert valid(world.events(told)) == [
        "payment.failed", "subscription.plan_changed", "subscription.updated",
        "subscription.on_hold", "subscription.updated", "dunning.started"]


def test_plan_change_refusals(world):
    sub_id = world.buy("monthly_subscription")["subscription_id"]
    refused(lambda: change(world, "sub_nope", "monthly_plan", "do_not_bill"), 404, "NOT_FOUND",
            "Subscription not found")
    refused(lambda: change(world, sub_id, "ebook_guide", "do_not_bill"), 422,
            "INVALID_REQUEST_BODY", "is not a subscription product")
    refused(lambda: change(world, sub_id, "monthly_plan", "do_not_bill", quantity=0), 422,
            "INVALID_REQUEST_BODY", "quantity must be at least 1")
    refused(lambda: change(world, sub_id, "monthly_plan", "do_not_bill",
                           discount_codes=["NOPE"]), 422, "INVALID_DISCOUNT_CODE",
            "Discount code NOPE is invalid")
    world.patch(sub_id, cancel_at_next_billing_date=True)
    refused(lambda: change(world, sub_id, "monthly_plan", "do_not_bill"), 422,
            "PLAN_CHANGE_NOT_ALLOWED_FOR_SCHEDULED_CANCELLATION", "scheduled to cancel")
    world.patch(sub_id, status="cancelled")
    refused(lambda: change(world, sub_id, "monthly_plan", "do_not_bill"), 422,
            "SUBSCRIPTION_INACTIVE", "Subscription is cancelled; its plan cannot be changed")


def test_a_scheduled_change_can_be_cancelled(world):
    sub_id = world.buy("monthly_subscription")["subscription_id"]
    plans = world.backend.plans
    refused(lambda: plans.cancel_scheduled(world.ns, sub_id), 404, "NOT_FOUND",
            "No scheduled plan change found")
    refused(lambda: plans.cancel_scheduled(world.ns, "sub_nope"), 422, "NOT_FOUND",
            "Subscription not found")
    change(world, sub_id, "monthly_plan", "full_immediately", effective_at="next_billing_date")
    told = len(world.events())
    plans.cancel_scheduled(world.ns, sub_id)
    assert world.sub(sub_id)["scheduled_change"] is None
    assert valid(world.events(told)) == ["subscription.updated"]
    world.advance(30)  # renews on the old plan
    renewal = world.payments_of(sub_id)[-1]
    assert renewal["amount"] == amounts(world, sub_id)[0]
    assert world.sub(sub_id)["product_id"] == world.product("monthly_subscription")["product_id"]
