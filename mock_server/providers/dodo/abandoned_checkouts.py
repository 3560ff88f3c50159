"""Abandoned checkouts: a checkout the buyer started and did not pay (abandoned_checkout.detected),
and the customer coming back to pay (abandoned_checkout.recovered).

Dodo detects an abandoned checkout about 60 minutes after it was started (K; the minutes are
`DodoSettings.abandoned_checkout_minutes`). Its AbandonedCheckout payload names a payment and a
customer, both of which exist once the buyer submitted the details step (or the session was created
with `confirm: true`): a session that never got a payment is never detected, there is nothing to
name (a session created with only a customer email has no payment yet).

Each session that gets a payment is put on a due-time heap at its creation + the minutes; the scheduler's job pops
what is due, in order, and looks at that session only (never a scan of every namespace). At its
time, the session is abandoned when its current payment has not succeeded (nor is processing):
`abandonment_reason` is `payment_failed` when that payment failed, else `checkout_incomplete`;
`abandoned_at` is that moment (creation + the minutes). The session is read as the store keeps it
after expiry (`expired_retention_seconds`, an hour by default, past a confirmed session's 15
minutes): minutes beyond a session's lifetime plus that retention find nothing to detect.

Recovery (paymock's choice): the abandoned checkout is recovered by the next checkout payment of
the SAME CUSTOMER that succeeds, whether it is the same session paid at last or a new checkout
(a checkout by the same email finds the same customer, unless `always_create_new_customer`);
`recovered_payment_id` names that payment. Renewals and other off-session charges recover nothing.
"""
from __future__ import annotations


from ...core import payments as core_payments
from ...core.clock import epoch, iso
from ...core.due_times import DueTimes
from ...core.store import Namespace
from .models import SESSION

ABANDONED = "abandoned_checkout"        # one per abandoned payment, keyed by its payment id
OPEN_BY_CUSTOMER = "abandoned_open"     # customer id -> {"payment_ids": [...]} not yet recovered
NOT_ABANDONED = (core_payments.SUCCEEDED, core_payments.PROCESSING)
FIELDS = ("payment_id", "customer_id", "abandonment_reason", "status", "abandoned_at", "brand_id",
          "recovered_payment_id")


class AbandonedCheckouts:
    def __init__(self, backend, store, minutes: int = 60, wake=lambda: None):
        self.backend = backend  # clock, events, payments, business_id
        self.delay = minutes * 60
        self.due = DueTimes(store, backend.clock, self.detect, wake, "abandoned-checkout session")
        self.run, self.dump, self.load = self.due.run, self.due.dump, self.due.load

    def on_session(self, ns: Namespace, session: dict) -> None:
        """DodoPayments.opened: a session that got its first payment is looked at `delay`
        seconds after its creation. Sessions that never get one (most API-created sessions)
        cost the heap nothing; a payment opened after that moment is one detection would not
        have seen (the session had none then)."""
        due = epoch(session["created_at"]) + self.delay
        if due > self.backend.clock.now():
            self.due.add(ns.name, session["id"], due)

    # -- the rules ---------------------------------------------------------------------------
    def detect(self, ns: Namespace, session_id: str) -> dict | None:
        """The session's checkout is abandoned now, unless paid (or never got a payment, or is
        already detected); sends abandoned_checkout.detected. Under ns.lock."""
        session = ns.get(SESSION, session_id, include_expired=True)
        if session is None or not session.get("payment_id"):
            return None
        payment = self.backend.payments.payments.get(ns, session["payment_id"])
        if payment is None or payment["status"] in NOT_ABANDONED \
                or ns.get(ABANDONED, payment["id"]) is not None:
            return None
        customer_id = (payment["data"].get("customer") or {}).get("customer_id")
        if customer_id is None:
            return None
        record = {
            "payment_id": payment["id"], "customer_id": customer_id, "session_id": session_id,
            "abandonment_reason": "payment_failed" if payment["status"] == core_payments.FAILED
            else "checkout_incomplete",
            "status": "abandoned", "abandoned_at": iso(self.backend.clock.now()),
            "brand_id": self.backend.business_id, "recovered_payment_id": None,
        }
        ns.put(ABANDONED, payment["id"], record)
        index = ns.get(OPEN_BY_CUSTOMER, customer_id) or {"payment_ids": []}
        index["payment_ids"].append(payment["id"])
        ns.put(OPEN_BY_CUSTOMER, customer_id, index)
        self._emit(ns, "abandoned_checkout.detected", record)
        return record

    def on_payment(self, ns: Namespace, payment: dict, previous: str) -> None:
        """DodoPayments.after_emit: a checkout payment that succeeded recovers every abandoned
        checkout of its customer (after its payment.succeeded)."""
        if payment["status"] != core_payments.SUCCEEDED or previous == core_payments.SUCCEEDED \
                or payment["ref"].get("kind") != SESSION:
            return
        customer_id = (payment["data"].get("customer") or {}).get("customer_id")
        index = ns.get(OPEN_BY_CUSTOMER, customer_id) if customer_id else None
        if index is None:
            return
        ns.delete(OPEN_BY_CUSTOMER, customer_id)
        for payment_id in index["payment_ids"]:
            record = ns.get(ABANDONED, payment_id)
            if record is None or record["status"] != "abandoned":
                continue
            record.update(status="recovered", recovered_payment_id=payment["id"])
            ns.save(ABANDONED, payment_id, record)
            self._emit(ns, "abandoned_checkout.recovered", record)

    def get(self, ns: Namespace, payment_id: str) -> dict | None:
        record = ns.get(ABANDONED, payment_id)
        return None if record is None else self.render(record)

    @staticmethod
    def render(record: dict) -> dict:
        """AbandonedCheckoutPayload (the session id is the mock's own bookkeeping)."""
        return {name: record[name] for name in FIELDS}

    def _emit(self, ns: Namespace, event: str, record: dict) -> None:
        self.backend.events.emit(ns, event, "AbandonedCheckout", self.render(record))
