"""What the core gives off-session charges (a subscription's renewals): a clock dated per thread,
calendar cycles, payments the expiry sweep never sees, the card that fails later charges, the
PSP's chargeSavedMethod fault target, and the outbox's event log kept as JSON."""
import threading
from datetime import datetime, timezone

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings, strategies as st

from mock_server.core import billing_cycles, cards
from mock_server.core.clock import Clock
from mock_server.core.faults import FaultEngine
from mock_server.core.payments import Payments
from mock_server.core.psp import CHARGE_SAVED, OPERATIONS, MockPsp
from mock_server.core.store import Store
from mock_server.core.webhook_endpoints import Channel
from mock_server.core.webhooks import Outbox


def test_as_of_dates_this_threads_work_only():
    clock = Clock()
    clock.freeze(1000.0)
    seen = {}
    with clock.as_of(50.0):
        assert clock.now() == 50.0
        other = threading.Thread(target=lambda: seen.update(other=clock.now()))
        other.start()
        other.join()
        with clock.as_of(60.0):
            assert clock.now() == 60.0
        assert clock.now() == 50.0
    assert clock.now() == 1000.0 and seen["other"] == 1000.0


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 4e9), st.integers(0, 600), st.sampled_from(["Month", "Year"]))
def test_months_and_years_land_where_relativedelta_puts_them(epoch, count, interval):
    start = datetime.fromtimestamp(epoch, timezone.utc)
    unit = {"Month": "months", "Year": "years"}[interval]
    assert billing_cycles.after(epoch, count, interval) == \
        (start + relativedelta(**{unit: count})).timestamp()


def test_a_month_after_january_31_is_februarys_last_day():
    jan31 = datetime(2028, 1, 31, tzinfo=timezone.utc).timestamp()
    assert billing_cycles.after(jan31, 1, "Month") == \
        datetime(2028, 2, 29, tzinfo=timezone.utc).timestamp()
    with pytest.raises(ValueError, match="unknown billing interval"):
        billing_cycles.after(jan31, 1, "Fortnight")


def test_an_off_session_charge_never_joins_the_expiry_sweep_and_fails_with_the_cards_reason():
    clock = Clock()
    store = Store(clock)
    payments = Payments(store, clock)
    payments.on("p", lambda *_: None, lambda *_: True)  # every checkout "expired"
    ns = store.namespace("p:one")
    checkout = payments.create(ns, "p", 100, "USD", {"kind": "session", "id": "s"})
    charge = payments.create(ns, "p", 100, "USD", {"kind": "sub", "id": "x"}, can_expire=False)
    assert payments.dump() == [["p:one", checkout["id"]]]
    later = {"last4": "0341", "network": "VISA", "type": "CREDIT", "country": "US",
             "later_decline": cards.CARDS["4000000000000341"].later_decline}
    with ns.lock:
        failed = payments.charge_saved(ns, charge, later)
    assert (failed["status"], failed["reason"]) == ("failed", "CARD_DECLINED")
    payments.sweep()
    assert payments.get(ns, charge["id"])["status"] == "failed"  # not cancelled as expired
    assert payments.get(ns, checkout["id"])["status"] == "cancelled"


def test_the_0341_card_pays_now_and_is_saved_with_its_later_decline():
    clock = Clock()
    store = Store(clock)
    payments = Payments(store, clock)
    ns = store.namespace("p:two")
    payment = payments.create(ns, "p", 100, "USD", {"kind": "session", "id": "s"})
    paid = payments.pay_card(ns, payment, cards.CARDS["4000000000000341"])
    assert paid["status"] == "succeeded" and paid["card"]["later_decline"] == "CARD_DECLINED"
    plain = payments.pay_card(ns, payments.create(ns, "p", 100, "USD", {"kind": "session", "id": "t"}),
                              cards.CARDS["4242424242424242"])
    assert "later_decline" not in plain["card"]


@pytest.mark.parametrize("action, reason", [({"decline": "insufficient_funds"}, "insufficient_funds"),
                                            ({"status": 503}, "PROCESSING_ERROR")])
def test_the_psp_fails_a_saved_method_charge_by_fault_rule(action, reason):
    engine = FaultEngine(Clock())
    engine.declare("psp", OPERATIONS)
    psp = MockPsp(lambda checkout_id: f"http://psp.test/{checkout_id}", engine)
    assert psp.charge_saved({"payment_id": "pay_1"}) is None
    engine.add({"provider": "psp", "operation": CHARGE_SAVED, "times": 1, "action": action})
    assert psp.charge_saved({"payment_id": "pay_1"}) == reason
    assert psp.charge_saved({"payment_id": "pay_2"}) is None


def test_the_event_log_gives_each_reader_its_own_copy():
    outbox = Outbox(Clock())
    outbox.channels["p"] = Channel(provider="p", schedule=(), body=lambda p, _i: "", sign=None,
                                   new_id=lambda: "m", events=frozenset({"e.x"}), secret=None)
    payload = {"data": {"nested": [1, 2]}}
    outbox.emit("ns", "p", "e.x", payload)
    payload["data"]["nested"].append(3)  # the emitter's later changes are not the event's
    first = outbox.events("ns")[0]
    first["payload"]["data"]["nested"].clear()
    assert outbox.events("ns")[0]["payload"] == {"data": {"nested": [1, 2]}}
