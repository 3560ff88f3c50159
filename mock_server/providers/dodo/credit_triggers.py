"""Credit events on demand (POST /_mock/trigger), each caused through the credit rules.

Every trigger works on a credit entitlement (`credit_entitlement_id`, else a new one with the
settings the event needs) attached to a product (`product_id`, which must attach it, else a new
product): a paid purchase grants credits (credit.added), usage spends them (credit.deducted; past
the balance credit.overage_charged; across the product's low-balance threshold credit.balance_low),
a subscription's renewal closes the cycle (credit.rolled_over, credit.rollover_forfeited,
credit.overage_reset), the merchant's ledger entry adjusts (credit.manual_adjustment: `amount`,
default "10"). credit.expired: the purchase's grant reaches its expiry now, as the scheduler's job
would at its time (the mock clock is the server's, so a trigger does not move it).
Params: `credit_entitlement_id`, `product_id`, `credits_amount` (default "100"), `units`,
`customer` (the checkout's customer object).
"""
from __future__ import annotations

import uuid
from decimal import ROUND_FLOOR, Decimal

from ...core import payments as core_payments
from ...core.errors import ApiError
from ...core.triggers import TriggerError
from .credit_ledger import BALANCE, key
from .credits import DELETED, ENTITLEMENT, text
from .products import PRODUCT
from .subscription_renewals import RENEWAL
from .subscriptions import SUBSCRIPTION

# event -> (entitlement settings, attachment settings, subscription?) a new entitlement gets
NEEDS = {
    "credit.added": ({}, {}, False),
    "credit.deducted": ({}, {}, False),
    "credit.expired": ({}, {}, False),
    "credit.manual_adjustment": ({}, {}, False),
    "credit.overage_charged": ({"overage_enabled": True}, {}, False),
    "credit.balance_low": ({}, {"low_balance_threshold_percent": 20}, False),
    "credit.rolled_over": ({"rollover_enabled": True}, {}, True),
    "credit.rollover_forfeited": ({"rollover_enabled": True, "rollover_percentage": 50}, {}, True),
    "credit.overage_reset": ({"overage_enabled": True, "overage_behavior": "forgive_at_reset"},
                             {}, True),
}


class CreditTriggers:
    def __init__(self, backend):
        self.backend = backend

    def register(self, triggers) -> None:
        for event in NEEDS:
            triggers.register("dodo", event, lambda ns, params, e=event: self.fire(ns, params, e))

    def fire(self, ns, params: dict, event: str) -> dict:
        try:
            return getattr(self, event.split(".")[1])(ns, params, event)
        except ApiError as exc:
            raise TriggerError(f"{exc.code}: {exc.message}", 409) from None

    # -- the triggers --------------------------------------------------------------------------
    def added(self, ns, params: dict, event: str) -> dict:
        return self._buy(ns, params, event)

    def deducted(self, ns, params: dict, event: str) -> dict:
        made = self._buy(ns, params, event)
        return self._use(ns, made, params.get("units") or "1")

    def overage_charged(self, ns, params: dict, event: str) -> dict:
        made = self._buy(ns, params, event)
        if not self._settings(ns, made)["overage_enabled"]:
            raise TriggerError(f"credit entitlement {made['credit_entitlement_id']} allows no "
                               "overage", 409)
        return self._use(ns, made, params.get("units")
                         or text(Decimal(made["balance"]["balance"]) + 1))

    def balance_low(self, ns, params: dict, event: str) -> dict:
        made = self._buy(ns, params, event)
        terms = ns.get(BALANCE, key(made["credit_entitlement_id"], made["customer_id"]))["terms"]
        percent = terms.get("low_balance_threshold_percent")
        if percent is None:
            raise TriggerError(f"product {made['product_id']} sets no "
                               "low_balance_threshold_percent", 409)
        threshold = Decimal(terms["credits_amount"]) * percent / 100
        # one whole credit more than takes the balance down to the threshold
        below = (Decimal(made["balance"]["balance"]) - threshold).to_integral_value(ROUND_FLOOR)
        return self._use(ns, made, params.get("units") or text(below + 1))

    def expired(self, ns, params: dict, event: str) -> dict:
        made = self._buy(ns, params, event)
        with ns.lock:
            made["expired"] = self.backend.credit_cycles.expire(ns, made["entries"][-1]["grant_id"])
        return self._read(ns, made)

    def manual_adjustment(self, ns, params: dict, event: str) -> dict:
        made = self._buy(ns, params, event)
        made["entry"] = self.backend.credit_ledger.create_entry(
            ns, made["credit_entitlement_id"], made["customer_id"],
            {"entry_type": "credit", "amount": str(params.get("amount") or "10"),
             "reason": "paymock trigger"})
        return self._read(ns, made)

    def rolled_over(self, ns, params: dict, event: str) -> dict:
        return self._renew(ns, params, event)

    def rollover_forfeited(self, ns, params: dict, event: str) -> dict:
        return self._renew(ns, params, event)

    def overage_reset(self, ns, params: dict, event: str) -> dict:
        made = self._buy(ns, params, event)
        if self._settings(ns, made)["overage_behavior"] not in ("forgive_at_reset",
                                                                "invoice_at_billing"):
            raise TriggerError(f"credit entitlement {made['credit_entitlement_id']} keeps its "
                               "overage at reset", 409)
        self._use(ns, made, text(Decimal(made["balance"]["balance"]) + 1))
        return self._renew(ns, params, event, made)

    # -- making what they need -----------------------------------------------------------------
    def _renew(self, ns, params: dict, event: str, made: dict | None = None) -> dict:
        made = made or self._buy(ns, params, event)
        if made.get("subscription_id") is None:
            raise TriggerError(f"product {made['product_id']} is not a subscription: its credits "
                               "have no cycle", 409)
        sub = ns.get(SUBSCRIPTION, made["subscription_id"])
        with ns.lock:
            payment = self.backend.renewals.charge(ns, sub, RENEWAL)
        if payment["status"] != core_payments.SUCCEEDED:
            raise TriggerError(f"the renewal payment {payment['id']} is {payment['status']}", 409)
        made["renewal_payment_id"] = payment["id"]
        return self._read(ns, made)

    def _buy(self, ns, params: dict, event: str) -> dict:
        """A paid checkout of a product attaching the entitlement: the grant is credit.added."""
        settings, attachment, recurring = NEEDS[event]
        entitlement_id, product_id = self._product(ns, params, settings, attachment, recurring)
        payment = self.backend.triggers.open_payment(ns, dict(params, product_id=product_id))
        try:
            payment = self.backend.payments.payments.script(ns, payment, "paid")
        except (core_payments.TransitionError, ValueError) as exc:
            raise TriggerError(str(exc), 409) from None
        made = {"credit_entitlement_id": entitlement_id, "product_id": product_id,
                "payment_id": payment["id"],
                "customer_id": payment["data"]["customer"]["customer_id"],
                "subscription_id": payment["data"].get("subscription_id")}
        return self._read(ns, made)

    def _product(self, ns, params: dict, settings: dict, attachment: dict,
                 recurring: bool) -> tuple[str, str]:
        entitlement_id = params.get("credit_entitlement_id")
        if entitlement_id is not None:
            found = ns.get(ENTITLEMENT, entitlement_id)
            if found is None:
                raise TriggerError(f"no credit entitlement {entitlement_id} in {ns.name}", 404)
            if found[DELETED]:
                raise TriggerError(f"credit entitlement {entitlement_id} is deleted", 409)
        else:
            entitlement_id = self.backend.credits.create(ns, {
                "name": f"Trigger credits {uuid.uuid4().hex[:8]}", "precision": 0,
                "unit": "credits", "rollover_enabled": False, "overage_enabled": False,
                **settings})["id"]
        product_id = params.get("product_id")
        if product_id is not None:
            product = ns.read(PRODUCT, product_id)
            if product is None:
                raise TriggerError(f"no product {product_id} in {ns.name}", 404)
            if not any(m["credit_entitlement_id"] == entitlement_id
                       for m in product.get("credit_entitlements") or []):
                raise TriggerError(f"product {product_id} does not attach credit entitlement "
                                   f"{entitlement_id}", 409)
            return entitlement_id, product_id
        price = {"type": "one_time_price", "price": 1000, "currency": "USD", "discount": 0,
                 "purchasing_power_parity": False}
        if recurring:
            price.update(type="recurring_price", payment_frequency_count=1,
                         payment_frequency_interval="Month", subscription_period_count=10,
                         subscription_period_interval="Year", trial_period_days=0)
        product = self.backend.products.create(ns, {
            "name": "Credits", "tax_category": "saas", "price": price,
            "credit_entitlements": [{"credit_entitlement_id": entitlement_id,
                                     "credits_amount": str(params.get("credits_amount") or "100"),
                                     **attachment}]})
        return entitlement_id, product["product_id"]

    def _use(self, ns, made: dict, units) -> dict:
        made["usage"] = self.backend.credit_ledger.deduct(
            ns, made["customer_id"], made["credit_entitlement_id"], units, "paymock trigger")
        return self._read(ns, made)

    def _settings(self, ns, made: dict) -> dict:
        balance = ns.get(BALANCE, key(made["credit_entitlement_id"], made["customer_id"]))
        return self.backend.credit_ledger.settings(ns, balance)

    def _read(self, ns, made: dict) -> dict:
        ledger = self.backend.credit_ledger
        made["balance"] = ledger.get_balance(ns, made["credit_entitlement_id"],
                                             made["customer_id"])
        made["entries"] = ledger.list_ledger(ns, made["credit_entitlement_id"],
                                             made["customer_id"], {"page_size": 100})["items"][::-1]
        return made
