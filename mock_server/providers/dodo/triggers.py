"""Dodo's events on demand (POST /_mock/trigger): each trigger causes what its event reports,
through the rules a real request goes through. This module holds the checkout and payment ones and
the helpers the other areas' triggers share (a paid payment to act on); each area registers its
own triggers next to its rules."""
from __future__ import annotations

from ...core import payments as core_payments
from ...core.triggers import TriggerError
from .models import PRODUCT

# payment.* event -> the scripted outcome that causes it
PAYMENT_OUTCOMES = {"payment.succeeded": "paid", "payment.failed": "declined",
                    "payment.processing": "processing", "payment.cancelled": "cancelled"}
BUYER = {"email": "buyer@example.com", "name": "Test Buyer"}


class CheckoutTriggers:
    def __init__(self, backend):
        self.backend = backend

    def register(self, triggers) -> None:
        for event, outcome in PAYMENT_OUTCOMES.items():
            triggers.register("dodo", event, lambda ns, params, o=outcome: self.payment(ns, params, o))

    def payment(self, ns, params: dict, outcome: str) -> dict:
        """A new checkout (of `product_id`, else the catalog's first one-time product) whose
        payment ends as `outcome`; `reason` picks a decline reason."""
        payment = self.open_payment(ns, params)
        payments = self.backend.payments.payments
        try:
            payments.script(ns, payment, outcome, params.get("reason"))
        except (core_payments.TransitionError, ValueError) as exc:
            raise TriggerError(str(exc), 409) from None
        return {"payment": self.backend.payments.get(ns, payment["id"])}

    def paid_payment(self, ns, params: dict) -> dict:
        """The stored payment `payment_id` names (it must have succeeded), or a new paid one."""
        payment_id = params.get("payment_id")
        payments = self.backend.payments.payments
        if payment_id is None:
            payment = self.open_payment(ns, params)
            return payments.script(ns, payment, "paid")
        payment = payments.get(ns, payment_id)
        if payment is None or payment.get("provider") != "dodo":
            raise TriggerError(f"no payment {payment_id} in {ns.name}", 404)
        if payment["status"] != core_payments.SUCCEEDED:
            raise TriggerError(f"payment {payment_id} is {payment['status']}, not succeeded", 409)
        return payment

    def open_payment(self, ns, params: dict, recurring: bool = False) -> dict:
        """A confirmed checkout session's payment, not yet paid."""
        product_id = params.get("product_id") or self._first_product(ns, recurring)
        body = {"product_cart": [{"product_id": product_id, "quantity": 1}],
                "customer": params.get("customer") or dict(BUYER),
                "billing_address": {"country": "US", "street": "1 Main St", "city": "Springfield",
                                    "state": "CA", "zipcode": "94105"},
                "confirm": True}
        session = self.backend.create_session(ns, body)
        return self.backend.payments.payments.get(ns, session["payment_id"])

    @staticmethod
    def _first_product(ns, recurring: bool) -> str:
        products = sorted((p for p in ns.values(PRODUCT) if p["is_recurring"] == recurring
                           and not p["price"].get("pay_what_you_want")),
                          key=lambda p: p["created_at"])
        if not products:
            kind = "subscription" if recurring else "one-time"
            raise TriggerError(f"no {kind} product in {ns.name}: pass product_id", 409)
        return products[0]["product_id"]
