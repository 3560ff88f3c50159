"""Abandoned checkouts on an app of the test's own, on a frozen clock it moves itself: detected
`abandoned_checkout_minutes` after the session's creation unless paid, recovered by the customer's
next paid checkout; and both triggers through the control client of a live server."""
from datetime import datetime, timezone

import pytest
import requests
from dodopayments import DodoPayments

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control.client import Client, ControlAPIError
from mock_server.core.clock import Clock, iso
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from mock_server.providers.dodo.abandoned_checkouts import ABANDONED
from mock_server.server import Server
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc).timestamp()
BILLING = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA",
           "zipcode": "94105"}


class World:
    def __init__(self, **settings):
        self.clock = Clock()
        self.clock.freeze(START)
        self.app = create_app(Settings(port=0, **settings), clock=self.clock)
        self.core = self.app.extensions["paymock"]
        self.core.scheduler.stop()
        self.backend = self.app.extensions["paymock.dodo"]
        self.payments = self.backend.payments.payments
        self.outbox = self.app.extensions["paymock.webhooks"]
        self.ns = self.core.store.namespace(credential_namespace("dodo", "sk_test_abandon"))

    def product_id(self) -> str:
        return next(p["product_id"] for p in self.ns.values("product")
                    if p["metadata"]["fixture"] == "premium_course")

    def checkout(self, email="gone@example.com", confirm=True) -> dict:
        body = {"product_cart": [{"product_id": self.product_id(), "quantity": 1}],
                "customer": {"email": email, "name": "Gone Buyer"}}
        if confirm:
            body.update(billing_address=BILLING, confirm=True)
        return self.backend.create_session(self.ns, body)

    def settle(self, payment_id: str, outcome: str) -> dict:
        return self.payments.script(self.ns, self.payments.get(self.ns, payment_id), outcome)

    def advance(self, minutes: float) -> None:
        self.clock.advance(minutes * 60)
        self.core.scheduler.run_due(everything=True)

    def events(self, prefix="abandoned_checkout.") -> list[tuple[str, dict]]:
        return [(e["type"], e["payload"]) for e in self.outbox.events(self.ns.name)
                if e["type"].startswith(prefix)]


@pytest.fixture
def world():
    made = World()
    yield made
    made.core.shutdown.set()


def valid(events):
    for event, payload in events:
        assert CONTRACT.webhook_errors(event, payload) == [], event
    return [event for event, _ in events]


def test_an_unpaid_checkout_is_detected_at_sixty_minutes_and_recovered_by_a_new_checkout(world):
    session = world.checkout()
    world.advance(59)
    assert world.events() == []
    world.advance(1)
    assert valid(world.events()) == ["abandoned_checkout.detected"]
    data = world.events()[0][1]["data"]
    customer_id = world.payments.get(world.ns, session["payment_id"])["data"]["customer"]["customer_id"]
    assert data == {"payload_type": "AbandonedCheckout", "payment_id": session["payment_id"],
                    "customer_id": customer_id, "abandonment_reason": "checkout_incomplete",
                    "status": "abandoned", "abandoned_at": iso(START + 3600),
                    "brand_id": world.backend.business_id, "recovered_payment_id": None}
    world.advance(120)
    assert len(world.events()) == 1  # detected once
    # The same customer (found by email) pays a new checkout: the abandoned one is recovered.
    again = world.checkout()
    world.settle(again["payment_id"], "paid")
    events = world.events()
    assert valid(events) == ["abandoned_checkout.detected", "abandoned_checkout.recovered"]
    assert events[1][1]["data"]["status"] == "recovered"
    assert events[1][1]["data"]["recovered_payment_id"] == again["payment_id"]
    assert events[1][1]["data"]["payment_id"] == session["payment_id"]
    assert world.ns.get(ABANDONED, session["payment_id"])["status"] == "recovered"
    # The next paid checkout of that customer recovers nothing more.
    world.settle(world.checkout()["payment_id"], "paid")
    assert len(world.events()) == 2
    # Nor is the paid checkout detected when its own time comes.
    world.advance(60)
    assert len(world.events()) == 2


def test_a_failed_payment_is_abandoned_as_payment_failed_and_a_paid_one_not_at_all(world):
    failed = world.checkout("failed@example.com")
    world.settle(failed["payment_id"], "declined")
    paid = world.checkout("paid@example.com")
    world.settle(paid["payment_id"], "paid")
    world.advance(60)
    events = world.events()
    assert valid(events) == ["abandoned_checkout.detected"]
    assert events[0][1]["data"]["payment_id"] == failed["payment_id"]
    assert events[0][1]["data"]["abandonment_reason"] == "payment_failed"


def test_a_session_without_a_payment_is_never_detected_and_another_customer_recovers_nothing(world):
    world.checkout("browser@example.com", confirm=False)  # the buyer never reached the details step
    left = world.checkout("left@example.com")
    world.advance(60)
    assert [e["data"]["payment_id"] for _, e in world.events()] == [left["payment_id"]]
    world.settle(world.checkout("someone.else@example.com")["payment_id"], "paid")
    assert len(world.events()) == 1


def test_the_minutes_are_a_setting_and_the_heap_survives_a_state_dump():
    world = World(dodo_abandoned_checkout_minutes=15)
    try:
        session = world.checkout()
        saved = world.backend.abandoned.dump()
        assert saved == [[START + 900, world.ns.name, session["session_id"]]]
        world.backend.abandoned.load([])
        world.advance(15)
        assert world.events() == []  # the heap was emptied: nothing is looked at
        world.backend.abandoned.load(saved)
        world.advance(0)
        assert valid(world.events()) == ["abandoned_checkout.detected"]
    finally:
        world.core.shutdown.set()


# -- triggers, on the session-wide live server (no clock moves) -------------------------------
def test_the_triggers_detect_and_recover_with_consistent_state(live_server):
    control = Client(live_server.url)
    ns = credential_namespace("dodo", API_KEY)
    made = control.trigger("abandoned_checkout.detected", namespace=ns,
                           customer={"email": "trigger.abandon@example.com", "name": "T A"})
    record = made["abandoned_checkout"]
    assert record["status"] == "abandoned" and record["abandonment_reason"] == "checkout_incomplete"
    payment = control.payments.get(record["payment_id"])
    assert payment["status"] != "succeeded"
    sent = [e for e in control.webhooks.events(ns) if e["type"] == "abandoned_checkout.detected"
            and e["payload"]["data"]["payment_id"] == record["payment_id"]]
    assert len(sent) == 1 and CONTRACT.webhook_errors(sent[0]["type"], sent[0]["payload"]) == []
    with pytest.raises(ControlAPIError, match="already detected as abandoned"):
        control.trigger("abandoned_checkout.detected", namespace=ns, session_id=made["session_id"])

    recovered = control.trigger("abandoned_checkout.recovered", namespace=ns,
                                payment_id=record["payment_id"])
    assert recovered["abandoned_checkout"]["status"] == "recovered"
    assert recovered["payment"]["status"] == "succeeded"
    assert recovered["payment"]["customer"]["customer_id"] == record["customer_id"]
    assert recovered["abandoned_checkout"]["recovered_payment_id"] == \
        recovered["payment"]["payment_id"]
    sent = [e for e in control.webhooks.events(ns) if e["type"] == "abandoned_checkout.recovered"
            and e["payload"]["data"]["payment_id"] == record["payment_id"]]
    assert len(sent) == 1 and CONTRACT.webhook_errors(sent[0]["type"], sent[0]["payload"]) == []
    with pytest.raises(ControlAPIError, match="is recovered"):
        control.trigger("abandoned_checkout.recovered", namespace=ns,
                        payment_id=record["payment_id"])
    with pytest.raises(ControlAPIError, match="no abandoned checkout of payment pay_nope"):
        control.trigger("abandoned_checkout.recovered", namespace=ns, payment_id="pay_nope")

    # Without params, .recovered abandons a new checkout first.
    fresh = control.trigger("abandoned_checkout.recovered", namespace=ns)
    assert fresh["abandoned_checkout"]["status"] == "recovered"


def test_the_detected_trigger_refuses_what_cannot_be_abandoned(live_server, catalog):
    control = Client(live_server.url)
    ns = credential_namespace("dodo", API_KEY)
    paid = control.trigger("payment.succeeded", namespace=ns)["payment"]
    sdk = DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)
    browsing = sdk.checkout_sessions.create(
        product_cart=[{"product_id": catalog.dodo_id("premium_course"), "quantity": 1}])
    for session_id, status, words in (
            (paid["checkout_session_id"], 409, "is paid"),
            (browsing.session_id, 409, "has no payment yet"),
            ("cks_nope", 404, "no checkout session cks_nope")):
        answer = requests.post(f"{live_server.url}/_mock/trigger", timeout=10, json={
            "provider": "dodo", "event": "abandoned_checkout.detected", "namespace": ns,
            "session_id": session_id})
        assert answer.status_code == status and words in answer.json()["error"], session_id


# -- end to end: the SDK's checkout, the hosted details step, the mock clock of a server of its own
SDK_KEY = "sk_test_abandoned_sdk"


@pytest.fixture
def server():
    running = Server(create_app(Settings(port=0)), "127.0.0.1", 0, threads=4).start()
    yield running
    running.stop()


def test_a_buyer_who_left_after_the_details_step_is_detected_then_recovered(server, catalog):
    sdk = DodoPayments(bearer_token=SDK_KEY, base_url=f"{server.url}/dodo", max_retries=0)
    control = Client(server.url)
    ns = credential_namespace("dodo", SDK_KEY)
    browsing = sdk.checkout_sessions.create(
        product_cart=[{"product_id": catalog.dodo_id("premium_course"), "quantity": 1}])
    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": catalog.dodo_id("premium_course"), "quantity": 1}])
    details = requests.post(f"{server.url}/checkout/dodo/session/{session.session_id}", timeout=10,
                            allow_redirects=False, data={
                                "email": "left.after.details@example.com", "name": "Left Buyer",
                                **BILLING})
    assert details.status_code == 303  # on to the PSP page: the payment exists, unpaid
    payment_id = sdk.checkout_sessions.retrieve(session.session_id).payment_id
    assert payment_id and sdk.checkout_sessions.retrieve(browsing.session_id).payment_id is None

    control.clock.advance(minutes=59)
    assert [e for e in control.webhooks.events(ns) if e["type"].startswith("abandoned")] == []
    control.clock.advance(minutes=1)
    sent = [e for e in control.webhooks.events(ns) if e["type"].startswith("abandoned")]
    assert [e["type"] for e in sent] == ["abandoned_checkout.detected"]
    assert sent[0]["payload"]["data"]["payment_id"] == payment_id
    customer_id = sdk.payments.retrieve(payment_id).customer.customer_id
    assert sent[0]["payload"]["data"]["customer_id"] == customer_id

    assert control.pay(session.session_id)["status"] == "succeeded"  # came back, same session
    sent = [e for e in control.webhooks.events(ns) if e["type"].startswith("abandoned")]
    assert [e["type"] for e in sent] == ["abandoned_checkout.detected",
                                         "abandoned_checkout.recovered"]
    assert sent[1]["payload"]["data"]["recovered_payment_id"] == payment_id
    for event in sent:
        assert CONTRACT.webhook_errors(event["type"], event["payload"]) == []
