"""Waffo subscriptions on the mock clock: the first charge, renewals, a failed renewal and its
retries, cancel at the period's end, reactivation, and the events each sends, in order, with the
fields the SDK's WebhookEventData documents. Every app has its own frozen clock that each test
moves itself (the scheduler's thread is stopped; a move runs what fell due, as
POST /_mock/clock/advance does)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.core import cards
from mock_server.core.clock import Clock, epoch, iso
from mock_server.providers.waffo import billing
from mock_server.providers.waffo.subscriptions import RETRIES, RETRY_EVERY

from .helpers import CANCEL_SUBSCRIPTION, SUBSCRIPTION_ORDER, WaffoClient, merchant_id

START = datetime(2026, 1, 31, 9, 30, tzinfo=timezone.utc).timestamp()
DAY = 86400
GOOD, LATER_DECLINED = "4242424242424242", "4000000000000341"
BILLING = {"country": "US", "state": "CA", "isBusiness": False}
REACTIVATE = "/v1/actions/subscription-order/reactivate-order"


class World:
    def __init__(self):
        self.clock = Clock()
        self.clock.freeze(START)
        self.app = create_app(Settings(port=0, public_url="http://mock.test"), clock=self.clock)
        self.core = self.app.extensions["paymock"]
        self.core.scheduler.stop()
        self.waffo = self.app.extensions["paymock.waffo"]
        self.outbox = self.app.extensions["paymock.webhooks"]
        self.payments = self.waffo.backend.payments.payments
        self.client = WaffoClient(self.app.test_client())
        self.ns = self.core.store.namespace(self.waffo.gateway.namespace_name(merchant_id()))
        self.token = self.client.token("buyer@example.com")

    def buy(self, product="pro_monthly", card=GOOD) -> dict:
        session_id = self.client.session(product)
        status, payload, _ = self.client.bearer(SUBSCRIPTION_ORDER, {
            "checkoutSessionId": session_id, "billingDetail": BILLING}, self.token)
        assert status == 200, payload
        order = next(o for o in self.ns.values("order") if o["checkoutSessionId"] == session_id)
        payment = self.payments.get(self.ns, order["payment"]["paymentId"])
        assert self.payments.pay_card(self.ns, payment, cards.CARDS[card])["status"] == "succeeded"
        return self.order(order["orderId"])

    def order(self, order_id: str) -> dict:
        return self.ns.get("order", order_id)

    def advance(self, days: float) -> None:
        self.clock.advance(days * DAY)
        self.core.scheduler.run_due(everything=True)

    def events(self, since: int = 0) -> list[tuple[str, dict]]:
        return [(e["type"], e["payload"]) for e in self.outbox.events(self.ns.name)][since:]

    def types(self, since: int = 0) -> list[str]:
        return [name for name, _ in self.events(since)]

    def customer(self, path: str, order_id: str):
        self.token = self.client.token("buyer@example.com")  # tokens live 5 minutes
        return self.client.bearer(path, {"orderId": order_id}, self.token)


@pytest.fixture
def world():
    made = World()
    yield made
    made.core.shutdown.set()


def at(*parts) -> str:
    return iso(datetime(*parts, 9, 30, tzinfo=timezone.utc).timestamp())


def test_first_charge_sends_payment_succeeded_then_activated(world):
    order = world.buy()
    assert (order["status"], order["periodNumber"]) == ("active", 1)
    # A monthly period after January 31 ends on the last day of February.
    assert (order["currentPeriodStart"], order["currentPeriodEnd"]) == (at(2026, 1, 31),
                                                                        at(2026, 2, 28))
    [(paid, payment), (activated, status)] = world.events()
    assert (paid, activated) == ("subscription.payment_succeeded", "subscription.activated")
    assert payment["eventId"] == order["payment"]["paymentId"]
    data = payment["data"]
    assert "orderStatus" not in data and "currentPeriodEnd" not in data  # one charge only
    assert (data["chargedAmount"], data["periodNumber"]) == (order["total"], 1)
    assert data["listPrice"] == {"total": order["total"], "subtotal": order["subtotal"],
                                 "taxAmount": order["taxAmount"],
                                 "taxRate": float(order["taxRate"])}
    assert status["eventId"] == order["orderId"]
    data = status["data"]
    assert (data["orderStatus"], data["periodNumber"], data["billingPeriod"]) == (
        "active", 1, "monthly")
    assert (data["currentPeriodStart"], data["currentPeriodEnd"]) == (
        order["currentPeriodStart"], order["currentPeriodEnd"])
    assert data["planPrice"]["total"] == order["total"] and "chargedAmount" not in data


def test_each_period_renews_at_its_billing_day_with_its_own_charge(world):
    order = world.buy()
    before = len(world.events())
    world.advance(120)  # February 28, March 31, April 30, May 31
    order = world.order(order["orderId"])
    assert [name for name in world.types(before)] == [
        "subscription.payment_succeeded", "subscription.renewed"] * 4
    renewed = [payload for name, payload in world.events(before) if name.endswith("renewed")]
    assert [r["data"]["currentPeriodStart"] for r in renewed] == [
        at(2026, 2, 28), at(2026, 3, 28), at(2026, 4, 28), at(2026, 5, 28)]
    assert [r["data"]["periodNumber"] for r in renewed] == [2, 3, 4, 5]
    assert [r["timestamp"] for r in renewed] == [at(2026, 2, 28), at(2026, 3, 28),
                                                at(2026, 4, 28), at(2026, 5, 28)]
    assert (order["status"], order["periodNumber"], order["currentPeriodEnd"]) == (
        "active", 5, at(2026, 6, 28))
    charges = order["charges"]
    assert [c["status"] for c in charges] == ["succeeded"] * 4
    assert len({c["paymentId"] for c in charges} | {order["payment"]["paymentId"]}) == 5
    core = [world.payments.get(world.ns, c["paymentId"]) for c in charges]
    assert {p["amount"] for p in core} == {billing.to_minor(order["total"], "USD")}


def test_a_free_trial_is_period_zero_and_its_end_is_the_first_charge(world):
    order = world.buy("team_yearly")  # a 7-day free trial
    assert (order["periodNumber"], order["payment"]["chargedAmount"]) == (0, "0.00")
    [(_, paid), (_, activated)] = world.events()
    assert (paid["data"]["chargedAmount"], paid["data"]["periodNumber"]) == ("0.00", 0)
    assert activated["data"]["currentPeriodEnd"] == iso(START + 7 * DAY)
    world.advance(7)
    assert world.types(2) == ["subscription.payment_succeeded", "subscription.renewed"]
    order = world.order(order["orderId"])
    assert order["periodNumber"] == 1 and order["charges"][0]["chargedAmount"] == order["total"]
    assert order["currentPeriodEnd"] == at(2027, 2, 7)


def test_a_declined_renewal_is_past_due_and_a_paid_retry_recovers_it(world):
    order = world.buy(card=LATER_DECLINED)  # pays today, declines later charges
    world.advance(28)
    assert world.types(2) == ["subscription.past_due"]
    order = world.order(order["orderId"])
    assert (order["status"], order["periodNumber"]) == ("past_due", 2)
    assert order["charges"][-1]["failureReason"] == "CARD_DECLINED"
    past_due = world.events(2)[0][1]["data"]
    assert (past_due["orderStatus"], past_due["periodNumber"]) == ("past_due", 2)
    # The next retry pays (the buyer's bank relented): recovered, the billing day kept.
    order["renewal"]["card"].pop("later_decline")
    world.ns.save("order", order["orderId"], order)
    world.advance(RETRY_EVERY / DAY)
    assert world.types(3) == ["subscription.payment_succeeded", "subscription.recovered"]
    order = world.order(order["orderId"])
    assert (order["status"], order["currentPeriodStart"], order["currentPeriodEnd"]) == (
        "active", at(2026, 2, 28), at(2026, 3, 28))


def test_retries_that_all_fail_end_the_subscription(world):
    order = world.buy(card=LATER_DECLINED)
    world.advance(28 + RETRIES * RETRY_EVERY / DAY)
    assert world.types(2) == ["subscription.past_due", "subscription.canceled"]
    order = world.order(order["orderId"])
    assert order["status"] == "canceled" and order["canceledAt"] == iso(
        epoch(at(2026, 2, 28)) + RETRIES * RETRY_EVERY)
    assert len(order["charges"]) == 1 + RETRIES
    world.advance(60)
    assert world.types(4) == []  # nothing falls due any more


def test_psp_fault_on_saved_card_charges_fails_a_renewal(world):
    order = world.buy()
    client = world.app.test_client()
    assert client.post("/_mock/faults", json={"provider": "psp", "operation": "chargeSavedMethod",
                                               "times": 1, "action": {"decline": "insufficient_funds"}
                                               }).status_code == 201
    world.advance(28)
    assert world.types(2) == ["subscription.past_due"]
    assert world.order(order["orderId"])["charges"][0]["failureReason"] == "INSUFFICIENT_FUNDS"


def test_cancel_is_canceling_now_and_canceled_at_the_period_end(world):
    order = world.buy()
    status, payload, _ = world.customer(CANCEL_SUBSCRIPTION, order["orderId"])
    assert (status, payload["data"]) == (200, {"orderId": order["orderId"], "status": "canceling"})
    [(name, canceling)] = world.events(2)
    assert name == "subscription.canceling"
    assert canceling["data"]["orderStatus"] == "canceling"
    assert "periodNumber" not in canceling["data"] and "canceledAt" not in canceling["data"]
    assert canceling["data"]["currentPeriodEnd"] == at(2026, 2, 28)
    world.advance(27)
    assert world.types(3) == []
    world.advance(1)
    [(name, canceled)] = world.events(3)
    assert name == "subscription.canceled"
    assert (canceled["data"]["orderStatus"], canceled["data"]["canceledAt"]) == (
        "canceled", at(2026, 2, 28))
    order = world.order(order["orderId"])
    assert order["charges"] == []  # nothing was charged for a period it will not have


def test_reactivation_sends_uncanceled_and_the_renewal_goes_on(world):
    order = world.buy()
    world.customer(CANCEL_SUBSCRIPTION, order["orderId"])
    status, payload, _ = world.customer(REACTIVATE, order["orderId"])
    assert (status, payload["data"]["status"]) == (200, "active")
    assert world.types(2) == ["subscription.canceling", "subscription.uncanceled"]
    uncanceled = world.events(3)[0][1]["data"]
    assert uncanceled["orderStatus"] == "active" and "periodNumber" not in uncanceled
    world.advance(28)
    assert world.types(4) == ["subscription.payment_succeeded", "subscription.renewed"]


def test_cancel_while_past_due_ends_it_at_once_and_cannot_be_undone(world):
    order = world.buy(card=LATER_DECLINED)
    world.advance(28)
    status, payload, _ = world.customer(CANCEL_SUBSCRIPTION, order["orderId"])
    assert (status, payload["data"]["status"]) == (200, "canceling")
    status, payload, _ = world.customer(REACTIVATE, order["orderId"])
    assert (status, payload["errors"][0]["message"]) == (
        400, "Subscription with an unpaid balance cannot be reactivated")
    world.advance(0)  # the PSP's cancel arrives on the scheduler's next pass
    assert world.types(2) == ["subscription.past_due", "subscription.canceling",
                              "subscription.canceled"]
    assert world.order(order["orderId"])["status"] == "canceled"


def test_a_pending_order_canceled_sends_nothing(world):
    session_id = world.client.session("pro_monthly")
    world.client.bearer(SUBSCRIPTION_ORDER, {"checkoutSessionId": session_id,
                                             "billingDetail": BILLING}, world.token)
    [order] = [o for o in world.ns.values("order")]
    status, payload, _ = world.customer(CANCEL_SUBSCRIPTION, order["orderId"])
    assert (status, payload["data"]["status"]) == (200, "canceled")
    assert world.events() == []


def test_a_renewal_due_before_a_restart_happens_after_it(tmp_path):
    first = World()
    order = first.buy()
    state = first.core.persistence.save(tmp_path / "state.json")
    first.core.shutdown.set()
    second = World()
    second.core.persistence.restore(state)
    second.ns = second.core.store.namespace(second.ns.name)  # the restored one
    assert second.clock.now() == START  # the restored clock, as the first left it
    since = len(second.events())  # the event log is not part of the state file
    second.advance(28)
    assert second.types(since) == ["subscription.payment_succeeded", "subscription.renewed"]
    assert second.order(order["orderId"])["periodNumber"] == 2
    second.core.shutdown.set()


def test_a_renewal_payment_can_be_refunded_and_the_event_names_its_period(world):
    order = world.buy()
    world.advance(28 + 10)  # the first payment is past the 14-day window, the renewal not
    renewal = world.order(order["orderId"])["charges"][0]
    world.token = world.client.token("buyer@example.com")
    status, payload, _ = world.client.bearer("/v1/actions/refund-ticket/create-ticket", {
        "paymentId": order["payment"]["paymentId"], "reason": "late",
        "requestedAmount": {"amount": "1.00", "currency": "USD"}}, world.token)
    assert status == 400 and "Refund window" in payload["errors"][0]["message"]
    status, payload, _ = world.client.bearer("/v1/actions/refund-ticket/create-ticket", {
        "paymentId": renewal["paymentId"], "reason": "forgot to cancel",
        "requestedAmount": {"amount": renewal["amount"]["total"], "currency": "USD"}}, world.token)
    assert status == 200, payload
    ticket = payload["data"]["ticket"]
    response = world.app.test_client().post(f"/_mock/waffo/refund-tickets/{ticket['id']}/approve")
    assert response.status_code == 200, response.json
    name, refunded = world.events()[-1]
    assert name == "refund.succeeded"
    data = refunded["data"]
    assert (data["paymentId"], data["periodNumber"], data["refundedAmount"]) == (
        renewal["paymentId"], 2, renewal["amount"]["total"])
    assert data["originalPayment"] == renewal["amount"]
    after = world.order(order["orderId"])["charges"][0]
    assert (after["refundStatus"], after["refundedAmount"]) == ("refunded",
                                                                renewal["amount"]["total"])


def test_a_shared_trial_is_had_once_across_the_group(world):
    from .helpers import PRODUCTS, STORES

    plans = [PRODUCTS["pro_monthly"]["id"], PRODUCTS["team_yearly"]["id"]]
    status, payload, _ = world.client.api("/v1/actions/subscription-product-group/create-group", {
        "storeId": STORES["acme-digital"]["id"], "name": "Tiers", "productIds": plans,
        "rules": {"sharedTrial": True}})
    assert status == 200, payload
    first = world.buy("team_yearly")
    assert first["periodNumber"] == 0  # the trial
    again = world.buy("team_yearly")
    assert (again["trialDays"], again["periodNumber"]) == (None, 1)
    assert again["payment"]["chargedAmount"] == again["total"]
    # withTrial overrides the group's rule; another buyer has their own trial.
    session_id = world.client.session("team_yearly", withTrial=True)
    world.client.bearer(SUBSCRIPTION_ORDER, {"checkoutSessionId": session_id,
                                             "billingDetail": BILLING}, world.token)
    forced = next(o for o in world.ns.values("order") if o["checkoutSessionId"] == session_id)
    assert forced["trialDays"] == 7
    world.token = world.client.token("other@example.com")
    other = world.buy("team_yearly")
    assert other["periodNumber"] == 0
