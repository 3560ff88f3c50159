"""Dodo subscriptions without HTTP: made by a paid checkout, changed by PATCH, renewed, failed and
recovered on a frozen mock clock that each test moves itself (every app its own clock)."""
from datetime import datetime, timezone

import pytest

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.core import cards
from mock_server.core.clock import Clock, iso
from mock_server.core.contracts import Contract
from mock_server.core.errors import ApiError
from mock_server.core.http import credential_namespace
from mock_server.providers.dodo.subscriptions import INTERNAL, SUBSCRIPTION, render

CONTRACT = Contract.load("dodo")
START = datetime(2026, 1, 31, 9, 30, tzinfo=timezone.utc).timestamp()
DAY = 86400
GOOD, LATER_DECLINED = "4242424242424242", "4000000000000341"
BILLING = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA",
           "zipcode": "94105"}


def at(*parts) -> str:
    return iso(datetime(*parts, 9, 30, tzinfo=timezone.utc).timestamp())


class World:
    """One app on its own frozen clock; the scheduler's thread is stopped and every move of the
    clock runs what fell due, as POST /_mock/clock/advance does."""

    def __init__(self, **settings):
        self.clock = Clock()
        self.clock.freeze(START)
        self.app = create_app(Settings(port=0, **settings), clock=self.clock)
        self.core = self.app.extensions["paymock"]
        self.core.scheduler.stop()
        self.backend = self.app.extensions["paymock.dodo"]
        self.payments = self.backend.payments.payments
        self.outbox = self.app.extensions["paymock.webhooks"]
        self.ns = self.core.store.namespace(credential_namespace("dodo", "sk_test_rules"))

    def product(self, slug: str) -> dict:
        return next(p for p in self.ns.values("product") if p["metadata"]["fixture"] == slug)

    def buy(self, slug="monthly_plan", card=GOOD, product_id=None, **body) -> dict:
        session = self.backend.create_session(self.ns, dict({
            "product_cart": [{"product_id": product_id or self.product(slug)["product_id"],
                              "quantity": 1}],
            "customer": {"email": "sub@example.com", "name": "Sub Scriber"},
            "billing_address": BILLING, "confirm": True}, **body))
        payment = self.payments.get(self.ns, session["payment_id"])
        payment = self.payments.pay_card(self.ns, payment, cards.CARDS[card])
        assert payment["status"] == "succeeded"
        return self.sub(payment["data"]["subscription_id"])

    def sub(self, sub_id: str) -> dict:
        return render(self.ns.get(SUBSCRIPTION, sub_id))

    def advance(self, days: float) -> None:
        self.clock.advance(days * DAY)
        self.core.scheduler.run_due(everything=True)

    def events(self, since: int = 0) -> list[tuple[str, dict]]:
        return [(e["type"], e["payload"]) for e in self.outbox.events(self.ns.name)][since:]

    def payments_of(self, sub_id: str) -> list[dict]:
        found = [p for p in self.ns.values("payment") if p["data"].get("subscription_id") == sub_id]
        return sorted(found, key=lambda p: p["created_at"])

    def patch(self, sub_id: str, **body) -> dict:
        return self.backend.subscriptions.patch(self.ns, sub_id, body)


@pytest.fixture
def world():
    made = World()
    yield made
    made.core.shutdown.set()


def valid(events):
    for event, payload in events:
        assert CONTRACT.webhook_errors(event, payload) == [], event
    return [event for event, _ in events]


def refused(call, status, code, message):
    with pytest.raises(ApiError) as info:
        call()
    assert (info.value.status, info.value.code) == (status, code)
    assert message in info.value.message
    return info.value


def test_a_paid_checkout_makes_an_active_subscription_told_before_its_payment(world):
    product = world.product("monthly_plan")
    sub = world.buy()
    price = product["price"]
    assert sub["status"] == "active" and sub["product_id"] == product["product_id"]
    assert (sub["quantity"], sub["currency"], sub["recurring_pre_tax_amount"]) == (
        1, "USD", price["price"])
    assert (sub["payment_frequency_count"], sub["payment_frequency_interval"]) == (1, "Month")
    assert (sub["subscription_period_count"], sub["subscription_period_interval"]) == (10, "Year")
    assert sub["previous_billing_date"] == at(2026, 1, 31)
    assert sub["next_billing_date"] == at(2026, 2, 28)  # a month after January 31
    assert sub["expires_at"] == at(2036, 1, 31)
    assert sub["customer"]["email"] == "sub@example.com" and sub["billing"] == BILLING
    assert sub["payment_method_id"].startswith("pm_") and sub["has_payment_method"]
    assert sub["trial_period_days"] == 0 and sub["cancelled_by"] is None
    assert CONTRACT.response_errors("get_subscription_handler", 200, sub) == []
    events = world.events()
    assert valid(events) == ["subscription.active", "subscription.updated", "payment.succeeded"]
    assert events[2][1]["data"]["subscription_id"] == sub["subscription_id"]
    assert events[2][1]["data"]["payment_method_id"] == sub["payment_method_id"]
    assert events[0][1]["data"]["payment_id"] is None


def test_a_year_renews_twelve_times_in_order_each_at_its_own_date(world):
    sub = world.buy()
    world.advance(366)
    payments = world.payments_of(sub["subscription_id"])
    renewals = payments[1:]
    expected = [at(2026, 2, 28), at(2026, 3, 31), at(2026, 4, 30), at(2026, 5, 31),
                at(2026, 6, 30), at(2026, 7, 31), at(2026, 8, 31), at(2026, 9, 30),
                at(2026, 10, 31), at(2026, 11, 30), at(2026, 12, 31), at(2027, 1, 31)]
    assert [p["created_at"] for p in renewals] == expected
    assert all(p["status"] == "succeeded" and p["amount"] == payments[0]["amount"]
               and p["data"]["charge_type"] == "renewal" for p in renewals)
    events = world.events(3)
    assert valid(events) == ["payment.succeeded", "subscription.renewed",
                             "subscription.updated"] * 12
    for index, payment in enumerate(renewals):
        paid, renewed, updated = events[3 * index: 3 * index + 3]
        assert paid[1]["data"]["payment_id"] == renewed[1]["data"]["payment_id"] == payment["id"]
        assert updated[1]["data"]["payment_id"] is None
        assert paid[1]["timestamp"] == renewed[1]["timestamp"] == payment["created_at"]
        assert renewed[1]["data"]["previous_billing_date"] == payment["created_at"]
    now = world.sub(sub["subscription_id"])
    assert (now["previous_billing_date"], now["next_billing_date"]) == (at(2027, 1, 31),
                                                                       at(2027, 2, 28))


def test_a_free_trial_pays_nothing_now_and_its_end_is_the_first_charge(world):
    product = world.product("yearly_plan")  # 7-day trial
    sub = world.buy("yearly_plan")
    first = world.payments_of(sub["subscription_id"])
    assert [p["amount"] for p in first] == [0] and first[0]["status"] == "succeeded"
    assert sub["trial_period_days"] == 7 and sub["trial_amount"] is None
    assert sub["next_billing_date"] == at(2026, 2, 7)
    assert sub["recurring_pre_tax_amount"] == product["price"]["price"]
    world.advance(8)
    payments = world.payments_of(sub["subscription_id"])
    assert [p["created_at"] for p in payments] == [at(2026, 1, 31), at(2026, 2, 7)]
    assert payments[1]["amount"] > product["price"]["price"]  # with US sales tax
    now = world.sub(sub["subscription_id"])
    assert (now["previous_billing_date"], now["next_billing_date"]) == (at(2026, 2, 7),
                                                                       at(2027, 2, 7))


def test_cancel_at_the_next_billing_date_ends_it_there_without_charging(world):
    sub = world.buy()
    sub_id = sub["subscription_id"]
    scheduled = world.patch(sub_id, cancel_at_next_billing_date=True,
                            cancellation_feedback="too_expensive")
    assert scheduled["status"] == "active" and scheduled["cancel_at_next_billing_date"]
    assert scheduled["cancelled_by"] == {"actor_type": "api_key", "email": None, "name": None}
    assert valid(world.events(3)) == ["subscription.updated"]
    undone = world.patch(sub_id, cancel_at_next_billing_date=False)
    assert not undone["cancel_at_next_billing_date"] and undone["cancelled_by"] is None
    world.patch(sub_id, cancel_at_next_billing_date=True)
    world.advance(40)
    ended = world.sub(sub_id)
    assert ended["status"] == "cancelled" and ended["cancelled_at"] == at(2026, 2, 28)
    assert len(world.payments_of(sub_id)) == 1
    events = world.events(6)  # after the three updates (scheduled, undone, scheduled)
    assert valid(events) == ["subscription.cancelled", "subscription.updated"]
    assert events[0][1]["timestamp"] == at(2026, 2, 28)


def test_cancel_now_and_an_ended_subscription_changes_no_more(world):
    sub_id = world.buy()["subscription_id"]
    world.advance(3)
    cancelled = world.patch(sub_id, status="cancelled", cancel_reason="cancelled_by_customer",
                            cancellation_feedback="unused", cancellation_comment="not needed")
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] == at(2026, 2, 3)
    assert (cancelled["cancellation_feedback"], cancelled["cancellation_comment"]) == (
        "unused", "not needed")
    assert valid(world.events(3)) == ["subscription.cancelled", "subscription.updated"]
    refused(lambda: world.patch(sub_id, metadata={"a": "b"}), 422, "SUBSCRIPTION_INACTIVE",
            "Subscription is cancelled; it can no longer be changed")
    world.advance(100)
    assert len(world.payments_of(sub_id)) == 1


def test_patch_refusals_carry_dodos_codes(world):
    sub_id = world.buy()["subscription_id"]
    refused(lambda: world.patch("sub_missing"), 404, "NOT_FOUND", "Subscription not found")
    refused(lambda: world.patch(sub_id, pause=True), 422, "INVALID_REQUEST_BODY",
            "pause was removed")
    refused(lambda: world.patch(sub_id, status="paused", metadata={"a": "b"}), 422,
            "INVALID_REQUEST_BODY", "status paused must be sent alone; the request also has metadata")
    refused(lambda: world.patch(sub_id, status="on_hold"), 422, "INVALID_REQUEST_BODY",
            "status can be set to cancelled, paused or active, not on_hold")
    refused(lambda: world.patch(sub_id, cancellation_comment="why"), 422, "INVALID_REQUEST_BODY",
            "cancellation_comment only valid when cancelling")
    refused(lambda: world.patch(sub_id, next_billing_date=at(2026, 1, 30)), 422,
            "INVALID_REQUEST_PARAMETERS", "next_billing_date must be in the future")
    refused(lambda: world.patch(sub_id, subscription_period_count=1), 422,
            "INVALID_REQUEST_PARAMETERS", "the subscription period can only be extended")
    refused(lambda: world.patch(sub_id, status="active"), 422, "SUBSCRIPTION_INACTIVE",
            "Only a paused subscription can be resumed; this one is active")
    assert world.events(3) == []  # nothing changed, nothing told


def test_fields_change_and_say_so_once(world):
    sub_id = world.buy()["subscription_id"]
    changed = world.patch(sub_id, metadata={"plan": "pro"}, tax_id="DE123456789",
                          billing=dict(BILLING, city="Shelbyville"),
                          subscription_period_count=20, customer_name="New Name")
    assert changed["metadata"] == {"plan": "pro"} and changed["tax_id"] == "DE123456789"
    assert changed["billing"]["city"] == "Shelbyville" and changed["expires_at"] == at(2046, 1, 31)
    assert changed["customer"]["name"] == "New Name"
    assert valid(world.events(3)) == ["subscription.updated"]
    world.patch(sub_id, metadata={"plan": "pro"})
    assert world.events(4) == []  # the same value is no change


def test_a_new_next_billing_date_is_when_it_renews_and_anchors_the_next_ones(world):
    sub_id = world.buy()["subscription_id"]
    moved = world.patch(sub_id, next_billing_date=at(2026, 2, 10))
    assert moved["next_billing_date"] == at(2026, 2, 10)
    world.advance(40)
    assert [p["created_at"] for p in world.payments_of(sub_id)][1:] == [at(2026, 2, 10),
                                                                       at(2026, 3, 10)]


def test_pause_holds_renewals_and_resume_moves_the_dates_by_the_pause(world):
    sub_id = world.buy()["subscription_id"]
    paused = world.patch(sub_id, status="paused")
    assert paused["status"] == "paused" and paused["paused_at"] == at(2026, 1, 31)
    refused(lambda: world.patch(sub_id, status="paused"), 422, "SUBSCRIPTION_INACTIVE",
            "Only an active subscription can be paused; this one is paused")
    world.advance(60)
    assert len(world.payments_of(sub_id)) == 1
    resumed = world.patch(sub_id, status="active")
    assert resumed["status"] == "active" and resumed["paused_at"] is None
    assert resumed["next_billing_date"] == iso(datetime(2026, 2, 28, 9, 30, tzinfo=timezone.utc)
                                               .timestamp() + 60 * DAY)
    assert valid(world.events(3)) == ["subscription.paused", "subscription.updated",
                                      "subscription.unpaused", "subscription.updated"]


def test_the_term_ends_the_subscription_as_expired(world):
    product = dict(world.product("monthly_plan"), product_id="pdt_quarter")
    product["price"] = dict(product["price"], subscription_period_count=3,
                            subscription_period_interval="Month")
    world.ns.put("product", "pdt_quarter", product)
    sub_id = world.buy(product_id="pdt_quarter")["subscription_id"]
    world.advance(120)
    assert [p["created_at"] for p in world.payments_of(sub_id)] == [
        at(2026, 1, 31), at(2026, 2, 28), at(2026, 3, 31)]
    ended = world.sub(sub_id)
    assert ended["status"] == "expired" and ended["expires_at"] == at(2026, 4, 30)
    assert valid(world.events())[-2:] == ["subscription.expired", "subscription.updated"]


def test_a_card_that_fails_later_charges_puts_the_subscription_on_hold(world):
    sub_id = world.buy(card=LATER_DECLINED)["subscription_id"]
    world.advance(30)
    failed = world.payments_of(sub_id)[1]
    assert failed["status"] == "failed" and failed["reason"] == "CARD_DECLINED"
    assert failed["created_at"] == at(2026, 2, 28)
    assert world.sub(sub_id)["status"] == "on_hold"
    events = world.events(3)
    assert valid(events) == ["payment.failed", "subscription.on_hold", "subscription.updated",
                             "dunning.started"]
    dunning = events[3][1]["data"]
    assert (dunning["status"], dunning["trigger_state"], dunning["payment_id"]) == (
        "recovering", "on_hold", failed["id"])
    world.advance(90)  # on_hold never renews, nor is its failed payment expired
    assert len(world.payments_of(sub_id)) == 2
    assert world.payments.get(world.ns, failed["id"])["status"] == "failed"


def test_paying_the_dues_with_a_new_card_recovers_it_on_its_anchor(world):
    sub_id = world.buy(card=LATER_DECLINED)["subscription_id"]
    world.advance(40)
    renewals = world.backend.renewals
    # The same (saved) card fails again: still on hold, no second dunning.
    again = renewals.update_payment_method(
        world.ns, sub_id, {"type": "existing", "payment_method_id": world.sub(sub_id)["payment_method_id"]})
    assert world.payments.get(world.ns, again["payment_id"])["status"] == "failed"
    assert world.sub(sub_id)["status"] == "on_hold"
    told = len(world.events())
    link = renewals.update_payment_method(world.ns, sub_id, {"type": "new"})
    assert link["payment_link"].startswith("http") and link["payment_id"]
    assert CONTRACT.response_errors("update", 200, link) == []
    dues = world.payments.get(world.ns, link["payment_id"])
    world.payments.pay_card(world.ns, dues, cards.CARDS[GOOD])
    sub = world.sub(sub_id)
    assert sub["status"] == "active"
    assert (sub["previous_billing_date"], sub["next_billing_date"]) == (at(2026, 2, 28),
                                                                       at(2026, 3, 31))
    assert valid(world.events(told)) == ["payment.succeeded", "subscription.active",
                                         "subscription.updated", "dunning.recovered"]
    world.advance(30)  # renews again, with the new card
    last = world.payments_of(sub_id)[-1]
    assert (last["status"], last["created_at"]) == ("succeeded", at(2026, 3, 31))


def test_a_psp_fault_rule_fails_a_renewal(world):
    world.core.faults.add({"provider": "psp", "operation": "chargeSavedMethod", "times": 1,
                           "action": {"decline": "insufficient_funds"}})
    sub_id = world.buy()["subscription_id"]
    world.advance(30)
    failed = world.payments_of(sub_id)[1]
    assert (failed["status"], failed["reason"]) == ("failed", "INSUFFICIENT_FUNDS")
    assert world.sub(sub_id)["status"] == "on_hold"


def test_the_existing_payment_method_of_an_active_subscription_is_swapped(world):
    sub = world.buy()
    renewals = world.backend.renewals
    answer = renewals.update_payment_method(
        world.ns, sub["subscription_id"], {"type": "existing",
                                           "payment_method_id": sub["payment_method_id"]})
    assert answer == {"payment_id": None, "payment_link": None, "client_secret": None,
                      "expires_on": None}
    assert valid(world.events(3)) == ["subscription.update_payment_method", "subscription.updated"]
    refused(lambda: renewals.update_payment_method(
        world.ns, sub["subscription_id"], {"type": "existing", "payment_method_id": "pm_nope"}),
        404, "NOT_FOUND", "Payment method pm_nope not found")
    world.patch(sub["subscription_id"], status="cancelled")
    refused(lambda: renewals.update_payment_method(world.ns, sub["subscription_id"], {"type": "new"}),
            422, "SUBSCRIPTION_INACTIVE", "Subscription is cancelled; its payment method cannot")


def test_a_grace_period_keeps_it_past_due_until_the_deadline():
    world = World(dodo_subscription_grace_days=3)
    try:
        sub_id = world.buy(card=LATER_DECLINED)["subscription_id"]
        world.advance(29)
        past_due = world.sub(sub_id)
        assert past_due["status"] == "past_due"
        events = world.events(3)
        assert valid(events) == ["payment.failed", "subscription.past_due",
                                 "subscription.updated", "dunning.started"]
        assert events[1][1]["data"]["past_due_ends_at"] == at(2026, 3, 3)
        assert events[3][1]["data"]["trigger_state"] == "past_due"
        world.advance(5)
        assert world.sub(sub_id)["status"] == "on_hold"
        assert valid(world.events(7)) == ["subscription.on_hold", "subscription.updated"]
        assert world.events(7)[0][1]["timestamp"] == at(2026, 3, 3)
    finally:
        world.core.shutdown.set()


def test_renewals_go_on_after_a_state_file_restore(world):
    sub_id = world.buy()["subscription_id"]
    saved = world.core.persistence.dump()
    later = World()
    try:
        later.core.persistence.load(saved)
        later.ns = later.core.store.namespace(world.ns.name)  # the restored one
        later.advance(60)
        assert [p["created_at"] for p in later.payments_of(sub_id)] == [
            at(2026, 1, 31), at(2026, 2, 28), at(2026, 3, 31)]
    finally:
        later.core.shutdown.set()


def test_list_filters_and_pages(world):
    first = world.buy()
    world.advance(0.5)
    second = world.buy("monthly_subscription")
    world.patch(second["subscription_id"], cancel_at_next_billing_date=True)
    subs = world.backend.subscriptions
    listed = subs.list(world.ns, {})
    assert [s["subscription_id"] for s in listed["items"]] == [second["subscription_id"],
                                                               first["subscription_id"]]
    assert CONTRACT.response_errors("list_subscriptions_handler", 200, listed) == []
    assert listed["items"][0]["product_name"] == world.product("monthly_subscription")["name"]
    only = subs.list(world.ns, {"cancel_at_next_billing_date": True})
    assert [s["subscription_id"] for s in only["items"]] == [second["subscription_id"]]
    by_product = subs.list(world.ns, {"product_id": first["product_id"]})
    assert [s["subscription_id"] for s in by_product["items"]] == [first["subscription_id"]]
    assert subs.list(world.ns, {"status": "cancelled"})["items"] == []
    assert len(subs.list(world.ns, {"customer_id": first["customer"]["customer_id"]})["items"]) == 2
    assert len(subs.list(world.ns, {"page_size": 1, "page_number": 1})["items"]) == 1
    assert subs.list(world.ns, {"created_at_gte": at(2026, 2, 1)})["items"] == []
    assert [s["subscription_id"] for s in subs.list(
        world.ns, {"created_at_lte": at(2026, 1, 31)})["items"]] == [first["subscription_id"]]
    refused(lambda: subs.list(world.ns, {"created_at_lte": "yesterday"}), 422,
            "INVALID_REQUEST_BODY", "query parameter created_at_lte: 'yesterday' is not")
    assert world.ns.get(SUBSCRIPTION, first["subscription_id"])[INTERNAL]["due"] is not None


def test_a_failed_renewal_is_retried_by_hand_three_times_a_day_apart(world):
    sub_id = world.buy(card=LATER_DECLINED)["subscription_id"]
    world.advance(29)
    failed = world.payments_of(sub_id)[1]
    retries = world.backend.retries
    state = retries.state(world.ns, failed["id"])
    assert (state["can_retry"], state["reason"], state["sends_used"]) == (True, None, 0)
    assert CONTRACT.response_errors("get_payment_retry_state_handler", 200, state) == []
    first = retries.retry(world.ns, failed["id"])
    assert CONTRACT.response_errors("retry_payment_handler", 200, first) == []
    assert (first["status"], first["sends_used"], first["retry_attempt"]) == ("failed", 1, 1)
    assert first["invoice_id"] == failed["data"]["invoice_id"] and first["is_manual_retry"]
    assert first["retry_available_at"] == iso(world.clock.now() + DAY)
    refused(lambda: retries.retry(world.ns, failed["id"]), 422,
            "SUBSCRIPTION_PAYMENT_RETRY_COOLDOWN", "The next retry of this invoice is available at")
    waiting = retries.state(world.ns, failed["id"])
    assert (waiting["can_retry"], waiting["reason"]) == (False, "SUBSCRIPTION_PAYMENT_RETRY_COOLDOWN")
    for expected in (2, 3):
        world.advance(1)
        assert retries.retry(world.ns, first["payment_id"])["sends_used"] == expected
    world.advance(1)
    refused(lambda: retries.retry(world.ns, failed["id"]), 422,
            "SUBSCRIPTION_PAYMENT_RETRY_LIMIT_EXCEEDED", "retried 3 times, the most allowed")
    assert retries.state(world.ns, failed["id"])["retry_available_at"] is None
    assert world.sub(sub_id)["status"] == "on_hold"
    assert [e for e, _ in world.events(3)].count("dunning.started") == 1


def test_a_manual_retry_that_succeeds_recovers_the_subscription(world):
    world.core.faults.add({"provider": "psp", "operation": "chargeSavedMethod", "times": 1,
                           "action": {"decline": "insufficient_funds"}})
    sub_id = world.buy()["subscription_id"]
    world.advance(29)
    failed = world.payments_of(sub_id)[1]
    told = len(world.events())
    retried = world.backend.retries.retry(world.ns, failed["id"])
    assert retried["status"] == "succeeded"
    assert world.sub(sub_id)["status"] == "active"
    assert valid(world.events(told)) == ["payment.succeeded", "subscription.active",
                                         "subscription.updated", "dunning.recovered"]
    refused(lambda: world.backend.retries.retry(world.ns, failed["id"]), 422,
            "INVALID_REQUEST_PARAMETERS", "is active; there are no dues to retry")
    paid = world.payments_of(sub_id)[0]["id"]
    refused(lambda: world.backend.retries.retry(world.ns, paid), 422,
            "INVALID_REQUEST_PARAMETERS", "is not a failed subscription renewal")
    refused(lambda: world.backend.retries.state(world.ns, "pay_nope"), 404, "NOT_FOUND",
            "Payment not found")


def test_an_on_demand_charge_is_one_payment_told_by_payment_events_only(world):
    sub_id = world.buy()["subscription_id"]
    charges = world.backend.charges
    told = len(world.events())
    answer = charges.charge(world.ns, sub_id, {"product_price": 1000, "metadata": {"for": "api"}})
    assert CONTRACT.response_errors("create_subscription_charge", 200, answer) == []
    payment = world.payments.get(world.ns, answer["payment_id"])
    assert payment["status"] == "succeeded" and payment["data"]["charge_type"] == "on_demand"
    assert payment["amount"] == 1000 + payment["data"]["tax"] and payment["data"]["tax"] > 0
    assert payment["data"]["metadata"] == {"for": "api"}
    assert valid(world.events(told)) == ["payment.succeeded"]
    assert world.sub(sub_id)["next_billing_date"] == at(2026, 2, 28)  # the plan's dates stay
    refused(lambda: charges.charge(world.ns, sub_id, {"product_price": 10}), 422,
            "TOTAL_PAYMENT_AMOUNT_BELOW_MINIMUM_AMOUNT", "below the minimum amount of 0.50")
    refused(lambda: charges.charge(world.ns, sub_id, {"product_price": 1000,
                                                      "product_currency": "EUR"}),
            422, "INVALID_REQUEST_BODY", "product_currency EUR differs")
    world.patch(sub_id, cancel_at_next_billing_date=True)
    refused(lambda: charges.charge(world.ns, sub_id, {"product_price": 1000}), 422,
            "CHARGE_NOT_ALLOWED_FOR_SCHEDULED_CANCELLATION", "it cannot be charged")
    world.advance(40)
    refused(lambda: charges.charge(world.ns, sub_id, {"product_price": 1000}), 422,
            "SUBSCRIPTION_INACTIVE", "Subscription is cancelled; it cannot be charged")


def test_usage_history_lists_each_billing_period_newest_first(world):
    sub_id = world.buy()["subscription_id"]
    world.advance(62)
    history = world.backend.charges.usage_history(world.ns, sub_id, {})
    assert CONTRACT.response_errors("list_usage_history_handler", 200, history) == []
    assert [(p["start_date"], p["end_date"]) for p in history["items"]] == [
        (at(2026, 3, 31), at(2026, 4, 30)), (at(2026, 2, 28), at(2026, 3, 31)),
        (at(2026, 1, 31), at(2026, 2, 28))]
    assert all(p["meters"] == [] for p in history["items"])
    late = world.backend.charges.usage_history(world.ns, sub_id, {"start_date": at(2026, 4, 1)})
    assert len(late["items"]) == 1
    refused(lambda: world.backend.charges.usage_history(world.ns, "sub_nope", {}), 404,
            "NOT_FOUND", "Subscription not found")


def test_a_declined_subscription_checkout_leaves_a_failed_subscription(world):
    session = world.backend.create_session(world.ns, {
        "product_cart": [{"product_id": world.product("monthly_plan")["product_id"], "quantity": 1}],
        "customer": {"email": "sub@example.com", "name": "Sub Scriber"},
        "billing_address": BILLING, "confirm": True})
    payment = world.payments.get(world.ns, session["payment_id"])
    payment = world.payments.pay_card(world.ns, payment, cards.CARDS["4000000000000002"])
    failed_id = payment["data"]["subscription_id"]
    assert world.sub(failed_id)["status"] == "failed"
    events = world.events()
    assert valid(events) == ["subscription.failed", "subscription.updated", "payment.failed"]
    assert events[2][1]["data"]["subscription_id"] == failed_id
    world.payments.pay_card(world.ns, payment, cards.CARDS["4000000000009995"])  # fails again
    assert [e for e, _ in world.events(3)] == ["payment.failed"]
    paid = world.payments.pay_card(world.ns, payment, cards.CARDS[GOOD])  # then pays
    assert paid["data"]["subscription_id"] != failed_id
    assert world.sub(paid["data"]["subscription_id"])["status"] == "active"
    assert world.sub(failed_id)["status"] == "failed"
    assert valid(world.events(4)) == ["subscription.active", "subscription.updated",
                                      "payment.succeeded"]
    world.advance(40)  # a failed one never renews
    assert world.payments_of(failed_id) == []


def test_a_psp_outage_fails_a_new_method_link_with_dodos_500(world):
    sub_id = world.buy()["subscription_id"]
    world.core.faults.add({"provider": "psp", "operation": "createCheckout", "times": 1,
                           "action": {"status": 503}})
    refused(lambda: world.backend.renewals.update_payment_method(world.ns, sub_id, {"type": "new"}),
            500, "INTERNAL_SERVER_ERROR", "Something went wrong")
    assert world.backend.renewals.update_payment_method(
        world.ns, sub_id, {"type": "new"})["payment_link"].startswith("http")
