"""A Dodo customer's saved payment methods: `GET /customers/{id}/payment-methods` and
`DELETE /customers/{id}/payment-methods/{pm}`.

A card is saved when it starts a subscription (the mandate a paid checkout gives) or replaces a
subscription's method (update-payment-method): one record per card per customer, so that two
subscriptions bought with the same card share one `pm_` id. The records of a customer live in
one stored object (kind `customer_payment_methods`, id = the customer id), so that saving or
finding one never reads every customer's.

Deleting a method that a subscription which can still be charged (not cancelled, expired or
failed) uses is refused with 409, as the spec declares ("Payment method is in use by an active
subscription"); Dodo's error-code list names no code for it, so paymock answers
PAYMENT_METHOD_IN_USE.
"""
from __future__ import annotations

from ...core import ids
from ...core.clock import iso
from ...core.errors import ApiError
from ...core.store import Namespace
from .errors import not_found
from .models import CUSTOMER

METHODS = "customer_payment_methods"
# method id -> {"at": epoch or None} of its last successful charge, apart from the customer's
# book, made with the method: a renewal then writes these few bytes and never decodes the book.
USES = "payment_method_use"
IN_USE_MESSAGE = "Payment method is in use by an active subscription"


class PaymentMethods:
    def __init__(self, backend):
        self.backend = backend
        self.clock = backend.clock

    # -- saving (called by subscriptions, under ns.lock) ---------------------------------------
    def record(self, ns: Namespace, customer_id: str, card: dict, payment: dict | None = None) -> str:
        """The customer's method for `card` (as the PSP reported it): the one saved already, its
        expiry and holder name refreshed from `payment`, or a new one."""
        card = dict(card)
        data = (payment or {}).get("data") or {}
        book = ns.get(METHODS, customer_id) or {"customer_id": customer_id, "methods": {}}
        method_id = next((pm for pm, saved in book["methods"].items() if saved["card"] == card),
                         None)
        now = self.clock.now()
        if method_id is None:
            method_id = ids.prefixed("pm", 21)
            book["methods"][method_id] = {"card": card, "created_at": now,
                                          "expiry": None, "holder": None}
        saved = book["methods"][method_id]
        if data.get("card_expiry"):
            saved["expiry"] = data["card_expiry"]
        if data.get("card_holder_name"):
            saved["holder"] = data["card_holder_name"]
        if not ns.save(METHODS, customer_id, book):
            ns.put(METHODS, customer_id, book)
        if payment is not None and payment.get("status") == "succeeded":
            ns.put(USES, method_id, {"at": now})
        elif not ns.has(USES, method_id):
            ns.put(USES, method_id, {"at": None})  # what on_payment looks for
        return method_id

    def card_of(self, ns: Namespace, customer_id: str, method_id: str) -> dict | None:
        book = ns.get(METHODS, customer_id) or {"methods": {}}
        saved = book["methods"].get(method_id)
        return None if saved is None else dict(saved["card"])

    def on_payment(self, ns: Namespace, payment: dict, previous: str) -> None:
        """DodoPayments.after_emit: a succeeded charge marks its method used (last_used_at)."""
        data = payment.get("data") or {}
        method_id = data.get("payment_method_id")
        if payment["status"] != "succeeded" or not method_id or payment.get("provider") != "dodo":
            return
        if not ns.has(USES, method_id):  # (every method saved has its record: a rare path)
            customer_id = (data.get("customer") or {}).get("customer_id")
            book = ns.read(METHODS, customer_id) if customer_id else None
            if book is None or method_id not in book["methods"]:
                return  # deleted since, or never saved
        ns.put(USES, method_id, {"at": self.clock.now()})

    # -- the operations ------------------------------------------------------------------------
    def list(self, ns: Namespace, customer_id: str) -> dict:
        """Oldest first, as saved."""
        self._customer(ns, customer_id)
        book = ns.get(METHODS, customer_id) or {"methods": {}}
        rows = sorted(book["methods"].items(), key=lambda item: (item[1]["created_at"], item[0]))
        return {"items": [render(method_id, saved, ns.get(USES, method_id))
                          for method_id, saved in rows]}

    def delete(self, ns: Namespace, customer_id: str, method_id: str) -> None:
        subscriptions = self.backend.subscriptions
        with ns.lock:
            self._customer(ns, customer_id)
            book = ns.get(METHODS, customer_id) or {"methods": {}}
            if method_id not in book["methods"]:
                raise not_found("Payment method not found")
            mine = subscriptions.of_customer(ns, customer_id)
            if any(sub["payment_method_id"] == method_id and subscriptions.chargeable(sub)
                   for sub in mine):
                raise ApiError(409, IN_USE_MESSAGE, "PAYMENT_METHOD_IN_USE")
            del book["methods"][method_id]
            ns.save(METHODS, customer_id, book)
            ns.delete(USES, method_id)
            for sub in mine:  # an ended subscription forgets it too: it cannot be reused
                subscriptions.forget_method(ns, sub, method_id)

    @staticmethod
    def _customer(ns: Namespace, customer_id: str) -> None:
        if ns.get(CUSTOMER, customer_id) is None:
            raise not_found("Customer not found")


def render(method_id: str, saved: dict, use: dict | None = None) -> dict:
    """CustomerPaymentMethodItem (spec 1.113.0 = SDK 1.123.0); `use`: its USES record."""
    card, expiry = saved["card"], saved.get("expiry") or {}
    kind = (card.get("type") or "").lower()
    used = use["at"] if use else saved.get("last_used_at")  # (older state files: in the book)
    return {
        "payment_method_id": method_id, "payment_method": "card",
        "payment_method_type": kind if kind in ("credit", "debit") else None,
        "recurring_enabled": True, "last_used_at": iso(used) if used is not None else None,
        "card": {"card_holder_name": saved.get("holder"),
                 "card_issuing_country": card.get("country"),
                 "card_network": card.get("network"), "card_type": card.get("type"),
                 "expiry_month": expiry.get("month"), "expiry_year": expiry.get("year"),
                 "last4_digits": card.get("last4")},
    }
