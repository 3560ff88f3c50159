"""Payments: one provider-agnostic state machine behind every provider's checkouts.

A payment lives in its namespace (kind "payment") next to the provider objects it belongs to.
Core statuses are pending, processing, requires_customer_action, succeeded, failed and cancelled;
each provider maps them onto its own words (e.g. `requires_payment_method`, `canceled`).
Every transition is validated and handed to the provider's listener, which updates its own
objects (a checkout session, an order) and enqueues webhooks. Failed is not final: the buyer may
try another card on the same payment, as on a real PSP page; succeeded and cancelled are final.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Callable

from . import cards, ids
from .clock import Clock, iso
from .store import Namespace, Store

PAYMENT, PSP_CHECKOUT = "payment", "psp_checkout"
PENDING, PROCESSING, ACTION = "pending", "processing", "requires_customer_action"
SUCCEEDED, FAILED, CANCELLED = "succeeded", "failed", "cancelled"
FINAL = frozenset({SUCCEEDED, CANCELLED})
EXPIRY_CHECK_EVERY = 1.0  # mock seconds between looks for expired checkouts
TRANSITIONS = {
    PENDING: {PROCESSING, ACTION, SUCCEEDED, FAILED, CANCELLED},
    PROCESSING: {SUCCEEDED, FAILED, CANCELLED},
    ACTION: {PROCESSING, SUCCEEDED, FAILED, CANCELLED},
    FAILED: {PROCESSING, ACTION, SUCCEEDED, FAILED, CANCELLED},
    SUCCEEDED: set(),
    CANCELLED: set(),
}
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "IDR", "CLP", "TWD", "XOF", "XAF", "UGX", "RWF"})
# Outcomes the control API (and CI) can script; each is a path through the machine.
OUTCOMES = ("paid", "declined", "3ds_required", "3ds_passed", "3ds_failed", "processing",
            "abandoned", "cancelled")


class TransitionError(ValueError):
    """The payment cannot move there from where it stands (e.g. a second capture)."""


@dataclass
class Listener:
    on_event: Callable      # (ns, payment, previous_status) -> None, called under ns.lock
    expired: Callable | None = None  # (ns, payment) -> bool: has its checkout expired?


def display_amount(minor: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{minor:,}"
    return f"{minor / 100:,.2f}"


class Payments:
    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock
        self._listeners: dict[str, Listener] = {}
        # (namespace, id) of payments not yet final whose checkout can expire (the provider gave
        # an `expired` check): what sweep() walks. Payments that cannot expire (orders that wait)
        # stay out, so that the walk does not grow with every order taken.
        self._open: dict[tuple[str, str], None] = {}
        self._lock = threading.Lock()
        # provider lookups for ids that are not payments: (id, namespace, options) -> (ns, payment)
        self._resolvers: list[Callable] = []

    def on(self, provider: str, on_event: Callable, expired: Callable | None = None) -> None:
        self._listeners[provider] = Listener(on_event, expired)

    # -- records ---------------------------------------------------------------------------
    def create(self, ns: Namespace, provider: str, amount: int, currency: str, ref: dict,
               payment_id: str | None = None, methods=("card",), psp_checkout_id: str | None = None,
               checkout_url: str | None = None, decline: str | None = None,
               data: dict | None = None, can_expire: bool = True, stored: bool = True) -> dict:
        """`can_expire=False` for a payment no checkout limits (an off-session charge): the
        expiry sweep never needs to look at it. `stored=False`: the caller charges it at once
        under ns.lock (charge_saved), which stores it: a renewal's payment is encoded once."""
        now = iso(self.clock.now())
        payment = {
            "id": payment_id or ids.prefixed("pay", 21), "provider": provider, "status": PENDING,
            "amount": amount, "currency": currency, "ref": dict(ref), "methods": list(methods),
            "reason": None, "reason_message": None, "method": None, "card": None, "vpa": None,
            "psp_checkout_id": psp_checkout_id, "checkout_url": checkout_url,
            "forced_decline": cards.reason_code(decline) if decline else None,
            "created_at": now, "updated_at": now,
            "history": [{"status": PENDING, "at": now, "reason": None}],
            "data": data or {},
        }
        with ns.lock:
            if stored:
                ns.put(PAYMENT, payment["id"], payment)
            if psp_checkout_id:
                ns.put(PSP_CHECKOUT, psp_checkout_id, {"id": psp_checkout_id,
                                                       "payment_id": payment["id"]})
        listener = self._listeners.get(provider)
        if can_expire and listener is not None and listener.expired is not None:
            with self._lock:
                self._open[(ns.name, payment["id"])] = None
        return payment

    def attach_checkout(self, ns: Namespace, payment: dict, psp_checkout_id: str, url: str,
                        decline: str | None = None) -> None:
        with ns.lock:
            payment.update(psp_checkout_id=psp_checkout_id, checkout_url=url)
            if decline:
                payment["forced_decline"] = cards.reason_code(decline)
            ns.save(PAYMENT, payment["id"], payment)
            ns.put(PSP_CHECKOUT, psp_checkout_id, {"id": psp_checkout_id, "payment_id": payment["id"]})

    @staticmethod
    def get(ns: Namespace, payment_id: str) -> dict | None:
        return ns.get(PAYMENT, payment_id)

    def locate(self, obj_id: str, kinds=(PAYMENT, PSP_CHECKOUT), namespace: str | None = None):
        """(namespace, payment) for a payment id or PSP checkout id, searching every namespace."""
        for ns, kind, obj in find(self.store, kinds, obj_id, namespace):
            payment = obj if kind == PAYMENT else ns.get(PAYMENT, obj["payment_id"])
            if payment is not None:
                return ns, payment
        return None, None

    def add_resolver(self, resolver: Callable) -> None:
        self._resolvers.append(resolver)

    def resolve(self, obj_id: str, namespace: str | None = None, **options):
        """(namespace, payment) for a payment id, a PSP checkout id, or whatever a provider
        resolves (a checkout session, an order). Resolvers raise TransitionError for ids that
        exist but cannot be paid (an expired session)."""
        ns, payment = self.locate(obj_id, namespace=namespace)
        if payment is not None:
            return ns, payment
        for resolver in self._resolvers:
            found = resolver(obj_id, namespace, options)
            if found is not None:
                return found
        return None, None

    # -- the state machine -------------------------------------------------------------------
    def transition(self, ns: Namespace, payment: dict, status: str, reason: str | None = None,
                   fresh: bool = False, **details) -> dict:
        """Move the payment (a copy from the store) and save it; the provider's listener sees
        it first and may add to it. `fresh`: the caller holds ns.lock since it stored this copy
        (an off-session charge just opened), so it is the stored payment."""
        with ns.lock:
            # The stored payment is the truth: another request may have moved it since this
            # copy was read (two tabs paying one checkout must not both succeed).
            current = None if fresh else ns.get(PAYMENT, payment["id"], include_expired=True)
            if current is not None:
                payment.clear()
                payment.update(current)
            previous = payment["status"]
            if status not in TRANSITIONS[previous]:
                raise TransitionError(f"payment {payment['id']} is {previous}; it cannot become {status}")
            now = iso(self.clock.now())
            payment.update(status=status, updated_at=now, **details)
            payment["reason"] = reason if status in (FAILED, CANCELLED) else None
            payment["reason_message"] = cards.REASONS.get(reason) if payment["reason"] else None
            payment["history"].append({"status": status, "at": now, "reason": payment["reason"]})
            if status in FINAL and self._open:
                with self._lock:
                    self._open.pop((ns.name, payment["id"]), None)
            listener = self._listeners.get(payment["provider"])
            if listener is not None:
                listener.on_event(ns, payment, previous)
            if fresh:  # stored now if its creator left that to this first move
                ns.put(PAYMENT, payment["id"], payment)
            else:
                ns.save(PAYMENT, payment["id"], payment)
        return payment

    def pay_card(self, ns: Namespace, payment: dict, card: cards.Card) -> dict:
        """What the PSP does with a card the buyer typed."""
        details = {"method": "card", "card": {"last4": card.last4, "network": card.network,
                                              "type": "CREDIT", "country": card.country}}
        if card.later_decline:  # kept with the card, for what is charged to it later
            details["card"]["later_decline"] = card.later_decline
        if card.outcome == cards.CHALLENGE:
            return self.transition(ns, payment, ACTION, **details)
        if card.outcome == cards.DECLINE:
            return self.transition(ns, payment, FAILED, card.reason, **details)
        return self._succeed(ns, payment, **details)

    def pay_upi(self, ns: Namespace, payment: dict, vpa: str) -> dict:
        details = {"method": "upi_collect", "vpa": vpa, "card": None}
        self.transition(ns, payment, PROCESSING, **details)  # a collect request is asynchronous
        if cards.UPI[vpa] == cards.DECLINE:
            return self.transition(ns, payment, FAILED, cards.UPI_DECLINE_REASON)
        return self._succeed(ns, payment)

    def challenge(self, ns: Namespace, payment: dict, approved: bool) -> dict:
        payment.update(ns.get(PAYMENT, payment["id"], include_expired=True) or {})
        if payment["status"] != ACTION:
            raise TransitionError(f"payment {payment['id']} is {payment['status']}; there is no "
                                  "3D Secure challenge to answer")
        if not approved:
            return self.transition(ns, payment, FAILED, "AUTHENTICATION_FAILURE")
        return self._succeed(ns, payment)

    def charge_saved(self, ns: Namespace, payment: dict, card: dict,
                     decline: str | None = None) -> dict:
        """An off-session charge of a saved card (a renewal): no page and no challenge; it fails
        with `decline` (a PSP fault's) or the card's own `later_decline`. The caller holds
        ns.lock and `payment` is as it stored it (or created it with stored=False)."""
        reason = decline or card.get("later_decline")
        details = {"method": "card", "card": dict(card)}
        if reason:
            return self.transition(ns, payment, FAILED, cards.reason_code(reason), fresh=True,
                                   **details)
        return self.transition(ns, payment, SUCCEEDED, fresh=True, **details)

    def cancel(self, ns: Namespace, payment: dict, reason: str = "CUSTOMER_CANCELLED") -> dict:
        return self.transition(ns, payment, CANCELLED, reason)

    def _succeed(self, ns: Namespace, payment: dict, **details) -> dict:
        # A PSP fault rule with `decline` lets the checkout exist but makes the payment fail.
        if payment.get("forced_decline"):
            return self.transition(ns, payment, FAILED, payment["forced_decline"], **details)
        return self.transition(ns, payment, SUCCEEDED, **details)

    def script(self, ns: Namespace, payment: dict, outcome: str, reason: str | None = None) -> dict:
        """Drive an outcome without a browser (POST /_mock/payments/{id}/outcome)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {list(OUTCOMES)}, got {outcome!r}")
        card = {"method": "card", "card": {"last4": "4242", "network": "VISA", "type": "CREDIT",
                                           "country": "US"}}
        status = payment["status"]
        if outcome == "paid":
            return self.transition(ns, payment, SUCCEEDED, **card)
        if outcome == "declined":
            return self.transition(ns, payment, FAILED, cards.reason_code(reason), **card)
        if outcome == "processing":
            return self.transition(ns, payment, PROCESSING, **card)
        if outcome in ("3ds_required", "3ds_passed", "3ds_failed"):
            if status != ACTION:
                self.transition(ns, payment, ACTION, **card)
            if outcome == "3ds_required":
                return payment
            return self.challenge(ns, payment, approved=outcome == "3ds_passed")
        # An abandoned checkout ends the way a real one does: its session runs out.
        default = "SESSION_EXPIRED" if outcome == "abandoned" else "CUSTOMER_CANCELLED"
        return self.transition(ns, payment, CANCELLED, cards.reason_code(reason, default))

    # -- expiry ------------------------------------------------------------------------------
    def expire_due(self, now: float) -> float:
        """The scheduler's job: cancel what expired; look again a mock second later (expiry is a
        property of each provider's checkout, so there is no due time to wait for)."""
        self.sweep()
        return now + EXPIRY_CHECK_EVERY

    def sweep(self) -> int:
        """Cancel open payments whose checkout has expired."""
        with self._lock:
            keys = list(self._open)
        done = 0
        for name, payment_id in keys:
            ns = self.store.find(name)
            payment = ns.get(PAYMENT, payment_id) if ns is not None else None
            if payment is None or payment["status"] in FINAL:
                with self._lock:
                    self._open.pop((name, payment_id), None)
                continue
            listener = self._listeners.get(payment["provider"])
            if listener and listener.expired and listener.expired(ns, payment):
                try:
                    self.cancel(ns, payment, "SESSION_EXPIRED")
                    done += 1
                except TransitionError:
                    pass
        return done

    # -- persistence: the payments live in the store; only the index of open ones is ours --------
    def dump(self) -> list:
        with self._lock:
            return [list(key) for key in self._open]

    def load(self, data: list) -> None:
        with self._lock:
            self._open = {(name, payment_id): None for name, payment_id in data}

    def snapshot(self, payment: dict) -> dict:
        return copy.deepcopy(payment)


def find(store: Store, kinds, obj_id: str, namespace: str | None = None, include_expired=False):
    """Yield (namespace, kind, object) for `obj_id` in any namespace: hosted pages and the control
    API get ids from URLs, without the credential that picks the namespace."""
    names = [namespace] if namespace else store.holding(obj_id)
    for name in names:
        ns = store.find(name)
        if ns is None:
            continue
        for kind in kinds:
            obj = ns.get(kind, obj_id, include_expired=include_expired)
            if obj is not None:
                yield ns, kind, obj
