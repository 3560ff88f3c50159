"""The core payment state machine and the test-card table, in plain Python."""
from __future__ import annotations

import pytest

from mock_server.core import cards
from mock_server.core.clock import Clock
from mock_server.core.payments import Payments, TransitionError
from mock_server.core.store import Store


@pytest.fixture
def env():
    clock = Clock()
    clock.freeze(1_790_000_000.0)
    store = Store(clock)
    payments = Payments(store, clock)
    events = []
    payments.on("test", lambda ns, payment, previous: events.append((previous, payment["status"],
                                                                      payment["reason"])))
    ns = store.namespace("test:1")
    return payments, ns, events


def new(payments, ns, **kw):
    return payments.create(ns, "test", 1000, "USD", {"kind": "thing", "id": "t1"}, **kw)


def card(number):
    return cards.parse_card(number, "06/32", "123", 2026, 9)


@pytest.mark.parametrize("number, status, reason", [
    ("4242424242424242", "succeeded", None),
    ("5555 5555 5555 4444", "succeeded", None),
    ("4000000000000002", "failed", "CARD_DECLINED"),
    ("4000000000009995", "failed", "INSUFFICIENT_FUNDS"),
    ("4000000000000069", "failed", "EXPIRED_CARD"),
    ("4000000000000127", "failed", "INCORRECT_CVC"),
    ("4000000000000119", "failed", "PROCESSING_ERROR"),
    ("4576238912771450", "succeeded", None),
    ("4706131211212123", "failed", "CARD_DECLINED"),
    ("4000002500003155", "requires_customer_action", None),
])
def test_every_test_card(env, number, status, reason):
    payments, ns, events = env
    payment = payments.pay_card(ns, new(payments, ns), card(number))
    assert (payment["status"], payment["reason"]) == (status, reason)
    assert payment["card"]["last4"] == number[-4:]
    assert events == [("pending", status, reason)]
    if reason:
        assert payment["reason_message"] == cards.REASONS[reason]


@pytest.mark.parametrize("number, expiry, cvc, message", [
    ("4242424242424241", "06/32", "123", "invalid"),
    ("abcd", "06/32", "123", "invalid"),
    ("4242424242424242", "13/32", "123", "MM/YY"),
    ("4242424242424242", "01/20", "123", "in the past"),
    ("4242424242424242", "06/32", "12", "security code"),
    ("4111111111111111", "06/32", "123", "test cards"),
])
def test_the_form_refuses_bad_cards(number, expiry, cvc, message):
    with pytest.raises(cards.InstrumentError, match=message):
        cards.parse_card(number, expiry, cvc, 2026, 9)


def test_3ds_challenge_approve_and_fail(env):
    payments, ns, events = env
    approved = payments.pay_card(ns, new(payments, ns), card("4000002500003155"))
    assert payments.challenge(ns, approved, approved=True)["status"] == "succeeded"
    failed = payments.pay_card(ns, new(payments, ns), card("4000002500003155"))
    payments.challenge(ns, failed, approved=False)
    assert (failed["status"], failed["reason"]) == ("failed", "AUTHENTICATION_FAILURE")
    with pytest.raises(TransitionError, match="no 3D Secure challenge"):
        payments.challenge(ns, failed, approved=True)


def test_upi_goes_through_processing(env):
    payments, ns, events = env
    ok = payments.pay_upi(ns, new(payments, ns), cards.parse_vpa("success@upi"))
    assert [h["status"] for h in ok["history"]] == ["pending", "processing", "succeeded"]
    bad = payments.pay_upi(ns, new(payments, ns), cards.parse_vpa("FAILURE@upi"))
    assert (bad["status"], bad["reason"]) == ("failed", "PAYMENT_DECLINED")
    with pytest.raises(cards.InstrumentError):
        cards.parse_vpa("someone@bank")


def test_final_states_are_final_and_failed_can_be_retried(env):
    payments, ns, _ = env
    payment = payments.pay_card(ns, new(payments, ns), card("4000000000000002"))
    payments.pay_card(ns, payment, card("4242424242424242"))
    assert payment["status"] == "succeeded" and payment["reason"] is None
    for outcome in ("paid", "declined", "cancelled"):
        with pytest.raises(TransitionError, match="cannot become"):
            payments.script(ns, payment, outcome)
    cancelled = payments.cancel(ns, new(payments, ns))
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "CUSTOMER_CANCELLED")
    with pytest.raises(TransitionError):
        payments.pay_card(ns, cancelled, card("4242424242424242"))


@pytest.mark.parametrize("outcome, reason, status, code", [
    ("paid", None, "succeeded", None),
    ("declined", None, "failed", "CARD_DECLINED"),
    ("declined", "insufficient_funds", "failed", "INSUFFICIENT_FUNDS"),
    ("3ds_required", None, "requires_customer_action", None),
    ("3ds_passed", None, "succeeded", None),
    ("3ds_failed", None, "failed", "AUTHENTICATION_FAILURE"),
    ("processing", None, "processing", None),
    ("abandoned", None, "cancelled", "SESSION_EXPIRED"),
    ("cancelled", None, "cancelled", "CUSTOMER_CANCELLED"),
])
def test_scripted_outcomes(env, outcome, reason, status, code):
    payments, ns, _ = env
    payment = payments.script(ns, new(payments, ns), outcome, reason)
    assert (payment["status"], payment["reason"]) == (status, code)


def test_bad_outcomes_and_reasons(env):
    payments, ns, _ = env
    with pytest.raises(ValueError, match="outcome must be one of"):
        payments.script(ns, new(payments, ns), "refunded")
    with pytest.raises(ValueError, match="unknown reason"):
        payments.script(ns, new(payments, ns), "declined", "stolen_card")


def test_a_psp_decline_fault_turns_a_success_into_that_failure(env):
    payments, ns, _ = env
    payment = payments.pay_card(ns, new(payments, ns, decline="insufficient_funds"),
                                card("4242424242424242"))
    assert (payment["status"], payment["reason"]) == ("failed", "INSUFFICIENT_FUNDS")


def test_sweep_cancels_payments_whose_checkout_expired(env):
    payments, ns, events = env
    expired = {"flag": False}
    payments.on("test", lambda *a: events.append(a[1]["status"]), lambda _ns, _p: expired["flag"])
    payment = new(payments, ns)
    assert payments.sweep() == 0
    expired["flag"] = True
    assert payments.sweep() == 1
    payment = payments.get(ns, payment["id"])  # the store holds the truth; `payment` was a copy
    assert (payment["status"], payment["reason"]) == ("cancelled", "SESSION_EXPIRED")
    assert payments.sweep() == 0


def test_locate_finds_payments_and_psp_checkouts_in_any_namespace(env):
    payments, ns, _ = env
    payment = new(payments, ns, psp_checkout_id="psp_cs_abc")
    assert payments.locate(payment["id"]) == (ns, payment)
    assert payments.locate("psp_cs_abc") == (ns, payment)
    assert payments.locate("nope") == (None, None)
