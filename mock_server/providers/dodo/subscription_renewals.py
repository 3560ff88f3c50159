"""Dodo subscriptions on the mock clock: renewals, the end of a term or of a scheduled cancel,
failed renewals and their recovery (dunning), the payment method that pays them.

One scheduler job (`Renewals.run`) keeps a heap of (due time, namespace, subscription id): a pass
pops what is due, in order, and never looks at a subscription that is not, so that a year of
10,000 subscriptions costs their renewals and nothing more. A heap entry is only a hint: the
subscription's own `_paymock.due` decides (an entry whose time no longer matches is dropped).
Each thing due happens AT its own time (`clock.as_of`): a one-year clock advance renews a
monthly subscription twelve times, each payment created at its billing date, in order.

A renewal is a Dodo payment (charge_type renewal) on the core state machine, charged off-session
to the saved card; its outcome comes back through DodoPayments.after_emit, after the payment's own
event: payment.succeeded then subscription.renewed; payment.failed then subscription.on_hold (or
past_due with a grace period) then dunning.started. A payment for the dues (update-payment-method)
that succeeds brings it back: payment.succeeded, subscription.active, dunning.recovered, the
billing anchor kept (choice 4).
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading

from ...core import billing_cycles, ids
from ...core import payments as core_payments
from ...core.clock import iso
from ...core.errors import ApiError
from ...core.psp import PspError
from ...core.store import Namespace
from .models import not_found
from .subscriptions import DAY, INTERNAL, SUBSCRIPTION, inactive

RENEWAL, DUES, METHOD = "renewal", "dues", "update_payment_method"
log = logging.getLogger("paymock.dodo.subscriptions")


class Renewals:
    def __init__(self, backend, subscriptions, store, wake=lambda: None):
        self.backend = backend
        self.subs = subscriptions
        self.store = store
        self.clock = backend.clock
        self._wake = wake  # the scheduler's: an entry due sooner than it thinks
        self._heap: list[tuple[float, int, str, str]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        # The subscription a charge() is for, as stored: its payment's hook takes it from here
        # instead of decoding it again (a year of 10,000 renewals decodes 120,000 fewer).
        self._held = threading.local()
        subscriptions.schedule = self.schedule
        self.plans = None  # subscription_plans.PlanChanges: a scheduled change applies at renewal

    # -- the index ---------------------------------------------------------------------------
    def schedule(self, ns_name: str, sub_id: str, due: float) -> None:
        with self._lock:
            sooner = not self._heap or due < self._heap[0][0]
            heapq.heappush(self._heap, (due, next(self._seq), ns_name, sub_id))
        if sooner:
            self._wake()

    def rebuild(self) -> None:
        """The index from the store (after a --state-file restore): what each subscription
        says is its next due time."""
        entries = []
        for name in self.store.names():
            if not name.startswith("dodo:"):
                continue
            ns = self.store.find(name)
            for sub in ns.values(SUBSCRIPTION) if ns is not None else ():
                due = sub[INTERNAL]["due"]
                if due is not None:
                    entries.append((due, next(self._seq), name, sub["subscription_id"]))
        heapq.heapify(entries)
        with self._lock:
            self._heap = entries
        self._wake()

    def dump(self) -> dict:
        return {"rebuilt_from": "store"}  # the subscriptions carry their due times

    def load(self, _data) -> None:
        self.rebuild()

    # -- the scheduler's job -----------------------------------------------------------------
    def run(self, now: float) -> float | None:
        """Everything due up to `now`, earliest first, each at its own time."""
        while True:
            with self._lock:
                if not self._heap or self._heap[0][0] > now:
                    return self._heap[0][0] if self._heap else None
                due, _, name, sub_id = heapq.heappop(self._heap)
            ns = self.store.find(name)
            if ns is None:
                continue  # the namespace was reset or evicted
            with ns.lock, self.clock.as_of(due):
                sub = ns.get(SUBSCRIPTION, sub_id)
                if sub is None or sub[INTERNAL]["due"] != due:
                    continue  # gone, or moved since (its new time has its own entry)
                try:
                    self.fall_due(ns, sub, due)
                except Exception:  # pragma: no cover - one subscription's bug stops no other
                    log.exception("subscription %s in %s: what fell due at %s failed",
                                  sub_id, name, iso(due))

    def fall_due(self, ns: Namespace, sub: dict, at: float) -> None:
        extra = sub[INTERNAL]
        if extra.get("scheduled_plan") and sub["status"] == "active" and extra["next_at"] <= at \
                and self.plans is not None:  # a plan change scheduled for this renewal
            sub = self.plans.apply_scheduled(ns, sub)
            extra = sub[INTERNAL]
        if sub["status"] == "past_due":  # the grace period is over (choice 6)
            self._hold(ns, sub, "subscription.on_hold")
        elif extra["ends_at"] <= at:
            self.subs.end(ns, sub, "expired", None)
        elif sub["cancel_at_next_billing_date"]:
            self.subs.end(ns, sub, "cancelled", None)  # cancelled_by: who scheduled it
        else:
            self.charge(ns, sub, RENEWAL)

    # -- charging ----------------------------------------------------------------------------
    def charge(self, ns: Namespace, sub: dict, purpose: str, card: dict | None = None,
               retry_attempt: int = 0, invoice_id: str | None = None) -> dict:
        """Charge the period starting at next_billing_date to the saved card (or `card`),
        off-session. The outcome reaches `on_payment` through the payment's hooks."""
        extra = sub[INTERNAL]
        reason = extra["fail_next"]  # a trigger's (subscription.on_hold)
        credit = extra.get("credit", 0)  # a downgrade's, spent first
        amount = extra["amount"] - min(credit, extra["amount"])
        if reason is not None or credit:
            extra["fail_next"] = None
            extra["credit"] = credit - (extra["amount"] - amount)
            self.subs.save(ns, sub)
        payment = self.open_charge(ns, sub, purpose, amount, retry_attempt,
                                   invoice_id or self._invoice(sub), stored=False)
        dodo = self.backend.payments
        reason = reason or dodo.psp.charge_saved(
            {"payment_id": payment["id"], "subscription_id": sub["subscription_id"],
             "amount": payment["amount"], "currency": payment["currency"]}, ns.name)
        self._held.sub = sub  # unchanged since it was read or saved: the store's state
        try:
            return dodo.payments.charge_saved(ns, payment, card or extra["card"], reason)
        finally:
            self._held.sub = None

    @staticmethod
    def _invoice(sub: dict) -> str | None:
        """What pays the dues of a failed renewal pays its invoice; None: a new invoice, which
        open_charge names after its payment."""
        return (sub[INTERNAL].get("dunning") or {}).get("invoice_id")

    def open_charge(self, ns: Namespace, sub: dict, purpose: str, amount: int,
                    retry_attempt: int = 0, invoice_id: str | None = None,
                    stored: bool = True) -> dict:
        """A payment of `amount` for the subscription, not yet charged (charge_type `purpose`);
        `stored=False` when it is charged at once (core Payments.create)."""
        extra = sub[INTERNAL]
        data = {
            "checkout_session_id": None, "customer": sub["customer"], "billing": sub["billing"],
            "metadata": sub["metadata"], "tax": extra["tax"] if amount else 0,
            "is_recurring": True, "payment_link": None,
            "product_cart": [{"product_id": sub["product_id"], "quantity": sub["quantity"]}],
            "product_ids": [sub["product_id"]], "subscription_id": sub["subscription_id"],
            "payment_method_id": sub["payment_method_id"], "retry_attempt": retry_attempt,
            "charge_type": purpose, "period_start": extra["next_at"],
            "is_update_payment_method": purpose == METHOD, "invoice_id": invoice_id,
        }
        payment = self.backend.payments.payments.create(
            ns, "dodo", amount, sub["currency"], {"kind": SUBSCRIPTION, "id": sub["subscription_id"]},
            data=data, stored=stored,
            can_expire=False)  # no checkout to outlive (DodoPayments.expired)
        if purpose in (RENEWAL, DUES) and invoice_id is None:
            # A renewal's own invoice, named after it (saved as the charge moves the payment).
            data["invoice_id"] = "inv_" + payment["id"].partition("_")[2]
        return payment

    # -- outcomes (DodoPayments.after_emit) ----------------------------------------------------
    def on_payment(self, ns: Namespace, payment: dict, previous: str) -> None:
        if payment["ref"]["kind"] != SUBSCRIPTION:
            return
        status = payment["status"]
        if status not in (core_payments.SUCCEEDED, core_payments.FAILED):
            return
        purpose = payment["data"].get("charge_type")
        if purpose not in (RENEWAL, DUES, METHOD):
            return  # a plan change's (subscription_plans.py) or another area's charge
        held = getattr(self._held, "sub", None)
        self._held.sub = None  # used once
        if held is not None and held["subscription_id"] == payment["ref"]["id"]:
            sub = held
        else:
            sub = ns.get(SUBSCRIPTION, payment["ref"]["id"])
        if sub is None:
            return
        if status == core_payments.FAILED:
            if purpose == RENEWAL and sub["status"] == "active":
                self.charge_failed(ns, sub, payment)
            return
        if purpose != RENEWAL and payment.get("card"):  # a method given for this payment
            self._save_method(ns, sub, payment)
        if sub["status"] in ("on_hold", "past_due") and purpose in (RENEWAL, DUES):
            self._recovered(ns, sub, payment)
        elif purpose == RENEWAL and sub["status"] == "active":
            self._renewed(ns, sub, payment)
        elif purpose == METHOD:
            self.subs.save(ns, sub)
            self.subs.announce(ns, "subscription.update_payment_method", sub)

    def _advance(self, sub: dict, start: float) -> None:
        """The period paid for starts at `start` (the old next_billing_date) and ends one cycle
        on, counted from the billing anchor."""
        extra = sub[INTERNAL]
        extra["cycles"] += 1
        end = billing_cycles.after(extra["anchor"], extra["cycles"] * sub["payment_frequency_count"],
                                   sub["payment_frequency_interval"])
        extra["next_at"] = end
        sub["previous_billing_date"], sub["next_billing_date"] = iso(start), iso(end)
        for discount in sub["discounts"] or ():
            if discount.get("cycles_remaining"):
                discount["cycles_remaining"] -= 1
        if sub["discounts"]:
            sub["discount_cycles_remaining"] = sub["discounts"][0]["cycles_remaining"]

    def _renewed(self, ns: Namespace, sub: dict, payment: dict) -> None:
        self._advance(sub, payment["data"]["period_start"])
        self.subs.save(ns, sub)
        self.subs.announce(ns, "subscription.renewed", sub, payment_id=payment["id"])

    def charge_failed(self, ns: Namespace, sub: dict, payment: dict) -> None:
        """on_hold (never renews until paid), or past_due while a grace period runs."""
        grace = self.subs.grace_days
        status = "past_due" if grace else "on_hold"
        if grace:
            sub[INTERNAL]["past_due_ends_at"] = self.clock.now() + grace * DAY
        starts = not sub[INTERNAL].get("dunning")  # one dunning per unpaid invoice
        if starts:
            sub[INTERNAL]["dunning"] = {"payment_id": payment["id"], "trigger": status,
                                        "invoice_id": payment["data"]["invoice_id"], "sends": []}
        self._hold(ns, sub, f"subscription.{status}", status)
        if starts:
            self._dunning(ns, sub, "dunning.started", "recovering", payment["id"])

    def _hold(self, ns: Namespace, sub: dict, event: str, status: str = "on_hold") -> None:
        sub["status"] = status
        if status == "on_hold":
            sub[INTERNAL]["past_due_ends_at"] = None
        self.subs.save(ns, sub)
        self.subs.announce(ns, event, sub)

    def _recovered(self, ns: Namespace, sub: dict, payment: dict) -> None:
        """The dues paid cover the period the recovery falls in, on the original billing anchor
        (choice 4): a subscription held for months is charged once, not for every cycle it spent
        on hold, and renews next on its usual day."""
        sub["status"] = "active"
        extra = sub[INTERNAL]
        extra["past_due_ends_at"] = None
        start, now = payment["data"]["period_start"], self.clock.now()
        self._advance(sub, start)
        while extra["next_at"] <= now:
            start = extra["next_at"]
            self._advance(sub, start)
        dunning = sub[INTERNAL].pop("dunning", None)
        self.subs.save(ns, sub)
        self.subs.announce(ns, "subscription.active", sub)
        if dunning:
            self._dunning(ns, sub, "dunning.recovered", "recovered", payment["id"], dunning)

    def _dunning(self, ns: Namespace, sub: dict, event: str, status: str, payment_id: str,
                 dunning: dict | None = None) -> None:
        dunning = dunning or sub[INTERNAL]["dunning"]
        self.backend.events.emit(ns, event, "DunningAttempt", {
            "subscription_id": sub["subscription_id"],
            "customer_id": sub["customer"]["customer_id"], "brand_id": sub["brand_id"],
            "trigger_state": dunning["trigger"], "status": status, "payment_id": payment_id,
            "created_at": iso(self.clock.now())})

    def _save_method(self, ns: Namespace, sub: dict, payment: dict) -> None:
        """The card paid with becomes the subscription's method, saved on the customer (one
        pm_ per card per customer: payment_methods.py)."""
        extra = sub[INTERNAL]
        card = dict(payment["card"])
        methods = getattr(self.backend, "payment_methods", None)
        if methods is not None:
            method = methods.record(ns, sub["customer"]["customer_id"], card, payment)
        else:
            method = next((pm for pm, known in extra["methods"].items() if known == card), None)
            method = method or ids.prefixed("pm", 21)
        extra["methods"][method] = card
        extra["card"] = card
        sub["payment_method_id"] = method

    # -- POST /subscriptions/{id}/update-payment-method ----------------------------------------
    def update_payment_method(self, ns: Namespace, sub_id: str, body: dict) -> dict:
        """active: the new method replaces the saved one; on_hold / past_due: it pays the dues
        now, which brings the subscription back."""
        answer = {"payment_id": None, "payment_link": None, "client_secret": None,
                  "expires_on": None}
        with ns.lock:
            sub = self.subs.find(ns, sub_id)
            if sub["status"] not in ("active", "on_hold", "past_due"):
                raise inactive(f"Subscription is {sub['status']}; its payment method cannot be "
                               "updated")
            owing = sub["status"] != "active"
            if body["type"] == "existing":
                card = self._method_of(ns, sub, body["payment_method_id"])
                sub[INTERNAL]["card"] = card
                sub[INTERNAL]["methods"][body["payment_method_id"]] = card
                sub["payment_method_id"] = body["payment_method_id"]
                self.subs.save(ns, sub)
                if not owing:
                    self.subs.announce(ns, "subscription.update_payment_method", sub)
                    return answer
                payment = self.charge(ns, sub, DUES, card, retry_attempt=1)
                return dict(answer, payment_id=payment["id"])
            # A new method: the buyer gives it on the payment page, paying the dues if any.
            payment = self.open_charge(ns, sub, DUES if owing else METHOD,
                                       sub[INTERNAL]["amount"] if owing else 0,
                                       retry_attempt=int(owing),
                                       invoice_id=self._invoice(sub) if owing else None)
        dodo = self.backend.payments
        try:
            checkout = dodo.psp.create_checkout(
                {"payment_id": payment["id"], "amount": payment["amount"],
                 "currency": payment["currency"], "subscription_id": sub_id}, ns.name)
        except PspError:  # a PSP fault rule: the API's documented 500
            raise ApiError(500, "Something went wrong :(", "INTERNAL_SERVER_ERROR") from None
        dodo.payments.attach_checkout(ns, payment, checkout["pspCheckoutId"],
                                      checkout["checkoutUrl"], checkout.get("declineReason"))
        return dict(answer, payment_id=payment["id"], payment_link=checkout["checkoutUrl"],
                    client_secret=f"{payment['id']}_secret_{ids.base62(24)}")

    def _method_of(self, ns: Namespace, sub: dict, method: str) -> dict:
        """A payment method saved for this subscription's customer (by any of theirs)."""
        customer = sub["customer"]["customer_id"]
        methods = getattr(self.backend, "payment_methods", None)
        saved = methods.card_of(ns, customer, method) if methods is not None else None
        if saved is not None:
            return saved
        for other in [sub] + ns.values(SUBSCRIPTION):
            if other["customer"]["customer_id"] == customer and method in other[INTERNAL]["methods"]:
                return other[INTERNAL]["methods"][method]
        raise not_found(f"Payment method {method} not found for customer {customer}")
