"""Dodo credit rules on an app of the test's own, on a frozen clock it moves itself: purchases
grant credits, usage spends them FIFO and into overage, renewals roll them over (or forfeit or
expire them) and reset overage, grants expire on the mock clock. Every event is checked against
the vendor's webhook schema."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.core.clock import Clock
from mock_server.core.contracts import Contract
from mock_server.core.errors import ApiError
from mock_server.core.http import credential_namespace

CONTRACT = Contract.load("dodo")
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc).timestamp()
DAY = 86400
BILLING = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA",
           "zipcode": "94105"}
ONE_TIME = {"type": "one_time_price", "price": 1000, "currency": "USD", "discount": 0,
            "purchasing_power_parity": False}
MONTHLY = dict(ONE_TIME, type="recurring_price", payment_frequency_count=1,
               payment_frequency_interval="Month", subscription_period_count=10,
               subscription_period_interval="Year", trial_period_days=0)


class World:
    def __init__(self):
        self.clock = Clock()
        self.clock.freeze(START)
        self.app = create_app(Settings(port=0), clock=self.clock)
        self.core = self.app.extensions["paymock"]
        self.core.scheduler.stop()
        self.backend = self.app.extensions["paymock.dodo"]
        self.ledger = self.backend.credit_ledger
        self.outbox = self.app.extensions["paymock.webhooks"]
        self.ns = self.core.store.namespace(credential_namespace("dodo", "sk_test_credits"))
        self.seen = 0

    def entitlement(self, **settings) -> str:
        body = {"name": f"Credits {len(self.ns.values('credit_entitlement'))}", "precision": 0,
                "unit": "credits", "rollover_enabled": False, "overage_enabled": False, **settings}
        return self.backend.credits.create(self.ns, body)["id"]

    def product(self, entitlement_id: str, recurring=False, amount="100", **attach) -> str:
        return self.backend.products.create(self.ns, {
            "name": "Credits", "tax_category": "saas", "price": MONTHLY if recurring else ONE_TIME,
            "credit_entitlements": [{"credit_entitlement_id": entitlement_id,
                                     "credits_amount": amount, **attach}]})["product_id"]

    def buy(self, product_id: str, quantity=1, email="credits@example.com") -> dict:
        session = self.backend.create_session(self.ns, {
            "product_cart": [{"product_id": product_id, "quantity": quantity}],
            "customer": {"email": email, "name": "Credit Buyer"}, "billing_address": BILLING,
            "confirm": True})
        payments = self.backend.payments.payments
        return payments.script(self.ns, payments.get(self.ns, session["payment_id"]), "paid")

    def customer(self, payment: dict) -> str:
        return payment["data"]["customer"]["customer_id"]

    def advance(self, days: float) -> None:
        self.clock.advance(days * DAY)
        self.core.scheduler.run_due(everything=True)

    def balance(self, entitlement_id: str, customer_id: str) -> tuple[str, str]:
        found = self.ledger.get_balance(self.ns, entitlement_id, customer_id)
        return found["balance"], found["overage"]

    def new_events(self) -> list[tuple[str, dict]]:
        """The credit.* events sent since the last call, each checked against the contract."""
        events = [e for e in self.outbox.events(self.ns.name) if e["type"].startswith("credit.")]
        fresh, self.seen = events[self.seen:], len(events)
        for event in fresh:
            assert CONTRACT.webhook_errors(event["type"], event["payload"]) == [], event["type"]
        return [(e["type"], e["payload"]["data"]) for e in fresh]


@pytest.fixture
def world():
    made = World()
    yield made
    made.core.shutdown.set()


def test_a_one_time_purchase_grants_its_credits_which_expire_after_30_days(world):
    cde = world.entitlement()
    payment = world.buy(world.product(cde, amount="100"), quantity=2)
    cus = world.customer(payment)
    [(event, entry)] = world.new_events()
    assert event == "credit.added"
    assert (entry["amount"], entry["balance_before"], entry["balance_after"]) == ("200", "0", "200")
    assert (entry["reference_type"], entry["reference_id"]) == ("payment", payment["id"])
    [grant] = world.ledger.list_grants(world.ns, cde, cus, {})["items"]
    assert grant["source_type"] == "one_time" and grant["remaining_amount"] == "200"
    world.advance(29.9)
    assert world.new_events() == []
    world.advance(0.1)  # 30 days: the default expiry
    [(event, entry)] = world.new_events()
    assert (event, entry["transaction_type"], entry["amount"]) == \
        ("credit.expired", "credit_expired", "200")
    assert world.balance(cde, cus) == ("0", "0")
    assert world.ledger.list_grants(world.ns, cde, cus, {"status": "expired"})["items"][0][
        "is_expired"] is True


def test_usage_spends_the_grant_that_expires_first(world):
    cde = world.entitlement(expires_after_days=60)
    cus = world.customer(world.buy(world.product(cde, amount="10")))  # expires in 60 days
    soon = world.ledger.create_entry(world.ns, cde, cus, {
        "entry_type": "credit", "amount": "5",
        "expires_at": datetime.fromtimestamp(START + 5 * DAY, timezone.utc).isoformat()})
    never = world.ledger.create_entry(world.ns, cde, cus, {"entry_type": "credit", "amount": "7"})
    world.new_events()
    entries = world.ledger.deduct(world.ns, cus, cde, "8")
    assert [(e["transaction_type"], e["amount"], e["balance_after"]) for e in entries] == \
        [("credit_deducted", "8", "14")]
    left = {g["id"]: g["remaining_amount"]
            for g in world.ledger.list_grants(world.ns, cde, cus, {})["items"]}
    assert left[soon["grant_id"]] == "0" and left[never["grant_id"]] == "7"
    assert sorted(left.values()) == ["0", "7", "7"]  # the purchase's 10 gave 3
    assert [e for e, _ in world.new_events()] == ["credit.deducted"]


def test_overage_is_charged_when_allowed_up_to_its_limit(world):
    cde = world.entitlement(overage_enabled=True, overage_limit=5)
    cus = world.customer(world.buy(world.product(cde, amount="10")))
    world.new_events()
    entries = world.ledger.deduct(world.ns, cus, cde, "13")
    assert [(e["transaction_type"], e["amount"], e["balance_after"], e["overage_after"])
            for e in entries] == [("credit_deducted", "10", "0", "0"),
                                  ("overage_charged", "3", "0", "3")]
    assert [e for e, _ in world.new_events()] == ["credit.deducted", "credit.overage_charged"]
    with pytest.raises(ApiError) as refused:
        world.ledger.deduct(world.ns, cus, cde, "3")
    assert (refused.value.status, refused.value.code, refused.value.message) == \
        (400, "OVERAGE_LIMIT_EXCEEDED", "Overage limit exceeded")
    assert world.balance(cde, cus) == ("0", "3") and world.new_events() == []


def test_without_overage_a_spend_beyond_the_balance_is_refused(world):
    cde = world.entitlement()
    cus = world.customer(world.buy(world.product(cde, amount="10")))
    with pytest.raises(ApiError) as refused:
        world.ledger.deduct(world.ns, cus, cde, "11")
    assert (refused.value.status, refused.value.code, refused.value.message) == \
        (400, "INSUFFICIENT_CREDIT_BALANCE", "Insufficient credit balance: 10 available, "
         "11 requested")
    assert world.balance(cde, cus) == ("10", "0")


def test_balance_low_fires_once_when_the_balance_crosses_the_threshold(world):
    cde = world.entitlement()
    cus = world.customer(world.buy(world.product(cde, amount="100",
                                                 low_balance_threshold_percent=25)))
    world.new_events()
    world.ledger.deduct(world.ns, cus, cde, "75")  # 25 left: not below 25
    assert [e for e, _ in world.new_events()] == ["credit.deducted"]
    world.ledger.deduct(world.ns, cus, cde, "1")
    events = world.new_events()
    assert [e for e, _ in events] == ["credit.deducted", "credit.balance_low"]
    low = events[1][1]
    assert (low["available_balance"], low["threshold_amount"], low["threshold_percent"],
            low["subscription_credits_amount"], low["customer_id"]) == ("24", "25", 25, "100", cus)
    world.ledger.deduct(world.ns, cus, cde, "1")  # already below: no second notice
    assert [e for e, _ in world.new_events()] == ["credit.deducted"]


def test_renewals_roll_credits_over_by_percentage_then_forfeit_past_the_count(world):
    cde = world.entitlement(rollover_enabled=True, rollover_percentage=50, max_rollover_count=1,
                            expires_after_days=90)
    payment = world.buy(world.product(cde, recurring=True, amount="100"))
    cus, sub = world.customer(payment), payment["data"]["subscription_id"]
    world.ledger.deduct(world.ns, cus, cde, "40")  # 60 left
    world.new_events()
    world.advance(31)  # March has 31 days: the first renewal
    events = world.new_events()
    assert [(e, d["transaction_type"], d["amount"], d["balance_after"]) for e, d in events] == [
        ("credit.rollover_forfeited", "rollover_forfeited", "30", "30"),
        ("credit.rolled_over", "credit_rolled_over", "30", "30"),
        ("credit.added", "credit_added", "100", "130")]
    grants = world.ledger.list_grants(world.ns, cde, cus, {})["items"]
    rolled = next(g for g in grants if g["source_type"] == "rollover")
    assert (rolled["rollover_count"], rolled["remaining_amount"], rolled["source_id"]) == \
        (1, "30", sub)
    world.advance(30)  # April: the rolled grant has rolled once (the max), the new one rolls
    events = world.new_events()
    assert sorted((e, d["amount"]) for e, d in events) == [
        ("credit.added", "100"), ("credit.rolled_over", "50"),
        ("credit.rollover_forfeited", "30"), ("credit.rollover_forfeited", "50")]
    assert world.balance(cde, cus) == ("150", "0")


def test_without_rollover_a_cycles_credits_expire_at_renewal(world):
    cde = world.entitlement(expires_after_days=90)
    cus = world.customer(world.buy(world.product(cde, recurring=True, amount="100")))
    world.new_events()
    world.advance(31)
    assert [(e, d["amount"]) for e, d in world.new_events()] == [("credit.expired", "100"),
                                                                ("credit.added", "100")]
    assert world.balance(cde, cus) == ("100", "0")


@pytest.mark.parametrize("behavior, events, after", [
    ("forgive_at_reset", ["credit.overage_reset", "credit.added"], ("100", "0")),
    ("invoice_at_billing", ["credit.overage_reset", "credit.added"], ("100", "0")),
    ("carry_deficit", ["credit.added"], ("100", "7")),
    ("carry_deficit_auto_repay", ["credit.added"], ("93", "0")),
])
def test_overage_at_the_cycles_end_follows_the_overage_behavior(world, behavior, events, after):
    cde = world.entitlement(overage_enabled=True, overage_behavior=behavior, expires_after_days=90)
    cus = world.customer(world.buy(world.product(cde, recurring=True, amount="100")))
    world.ledger.deduct(world.ns, cus, cde, "107")
    world.new_events()
    world.advance(31)
    assert [e for e, _ in world.new_events()] == events
    assert world.balance(cde, cus) == after


def test_a_deleted_entitlement_grants_nothing_and_cannot_be_attached(world):
    cde = world.entitlement()
    product = world.product(cde)
    world.backend.credits.delete(world.ns, cde)
    world.buy(product)
    assert world.new_events() == []
    with pytest.raises(ApiError) as refused:
        world.product(cde)
    assert (refused.value.status, refused.value.code, refused.value.message) == \
        (422, "CREDIT_ENTITLEMENT_IS_DELETED", "The credit entitlement has already been deleted")


def test_the_expiry_heap_survives_a_state_dump(world):
    cde = world.entitlement(expires_after_days=2)
    cus = world.customer(world.buy(world.product(cde, amount="4")))
    cycles = world.backend.credit_cycles
    dumped = cycles.dump()
    assert [row[1:] for row in dumped] == [[world.ns.name, dumped[0][2]]]
    assert dumped[0][0] == START + 2 * DAY
    cycles.load([])
    world.advance(3)
    assert world.balance(cde, cus) == ("4", "0")  # nothing scheduled: nothing expired
    cycles.load(dumped)
    world.advance(0)
    assert world.balance(cde, cus) == ("0", "0")
    assert Decimal(world.new_events()[-1][1]["amount"]) == 4
