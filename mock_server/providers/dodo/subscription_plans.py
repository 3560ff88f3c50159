"""Dodo plan changes: `POST /subscriptions/{id}/change-plan` and its `/preview`.

What a change costs now, by proration mode (paymock's choices 1 and 5 of
../shared/reference/dodo-lifecycle.md; amounts are the plans' recurring totals, tax included, and
`f` the unused share of the current period):
  prorated_immediately             new - old x f, the cycle restarts now (choice 1)
  prorated_immediately_keep_cycle  (new - old) x f, the billing date kept (SDK only)
  full_immediately                 new, the cycle restarts now
  difference_immediately           new - old, the billing date kept
  do_not_bill                      nothing, the billing date kept
A negative amount becomes a credit kept on the subscription; credit pays later charges first
(renewals included). `effective_at: next_billing_date` (full_immediately only: choice 5)
schedules the change; the renewal at that date charges the new plan.
A charge is made off-session to the saved card; if it fails, `on_payment_failure` decides:
apply_change (the default, choice 13) changes the plan and puts the subscription on hold,
prevent_change keeps the old plan.
"""
from __future__ import annotations


from ...core import billing_cycles, ids
from ...core import payments as core_payments
from ...core.clock import epoch, iso
from ...core.errors import ApiError
from ...core.store import Namespace
from . import pricing
from .models import DISCOUNT, PRODUCT, invalid
from .subscriptions import INTERNAL, SUBSCRIPTION, inactive, render

PLAN_CHANGE = "plan_change"
RESTART = frozenset({"prorated_immediately", "full_immediately"})


class PlanChanges:
    def __init__(self, backend):
        self.backend = backend
        self.clock = backend.clock

    # -- the operations ----------------------------------------------------------------------
    def preview(self, ns: Namespace, sub_id: str, body: dict) -> dict:
        with ns.lock:
            sub = self.backend.subscriptions.find(ns, sub_id)
            plan = self._plan(ns, sub, body)
            return {"immediate_charge": plan["charge"], "new_plan": render(plan["sub"])}

    def change(self, ns: Namespace, sub_id: str, body: dict) -> dict:
        answer = {"payment_id": None, "payment_link": None, "client_secret": None,
                  "expires_on": None}
        subs = self.backend.subscriptions
        with ns.lock:
            sub = subs.find(ns, sub_id)
            plan = self._plan(ns, sub, body)
            if plan["scheduled"] is not None:
                sub["scheduled_change"] = plan["scheduled"]
                sub[INTERNAL]["scheduled_plan"] = plan["fields"]
                subs.save(ns, sub)
                subs.announce(ns, "subscription.updated", sub)
                return answer
            amount, credit = plan["amount"], plan["credit"]
            if amount == 0:
                self._apply(ns, sub, plan["fields"], credit)
                return answer
            renewals = self.backend.renewals
            payment = renewals.open_charge(ns, sub, PLAN_CHANGE, amount,
                                           invoice_id=ids.prefixed("inv", 21))
            payment["data"].update(plan=plan["fields"], credit=credit,
                                   on_payment_failure=body.get("on_payment_failure") or "apply_change")
            ns.save(core_payments.PAYMENT, payment["id"], payment)
            dodo = self.backend.payments
            decline = dodo.psp.charge_saved({"payment_id": payment["id"], "subscription_id": sub_id,
                                             "amount": amount, "currency": payment["currency"]},
                                            ns.name)
            dodo.payments.charge_saved(ns, payment, sub[INTERNAL]["card"], decline)
            return dict(answer, payment_id=payment["id"])

    def cancel_scheduled(self, ns: Namespace, sub_id: str) -> None:
        """DELETE .../change-plan/scheduled. As the spec declares: an unknown subscription is a
        422, a subscription without a scheduled change a 404."""
        subs = self.backend.subscriptions
        with ns.lock:
            sub = ns.get(SUBSCRIPTION, sub_id)
            if sub is None:
                raise invalid("Subscription not found", "NOT_FOUND")
            if sub["scheduled_change"] is None:
                raise ApiError(404, "No scheduled plan change found", "NOT_FOUND")
            sub["scheduled_change"] = None
            sub[INTERNAL].pop("scheduled_plan", None)
            subs.save(ns, sub)
            subs.announce(ns, "subscription.updated", sub)

    # -- the plan's charge's outcome (DodoPayments.after_emit) ----------------------------------
    def on_payment(self, ns: Namespace, payment: dict, previous: str) -> None:
        data = payment["data"]
        if payment["ref"]["kind"] != SUBSCRIPTION or data.get("charge_type") != PLAN_CHANGE:
            return
        if payment["status"] not in (core_payments.SUCCEEDED, core_payments.FAILED):
            return
        sub = ns.get(SUBSCRIPTION, payment["ref"]["id"])
        if sub is None:
            return
        if payment["status"] == core_payments.SUCCEEDED:
            self._apply(ns, sub, data["plan"], data["credit"])
        elif data["on_payment_failure"] == "apply_change":
            self._apply(ns, sub, data["plan"], data["credit"])
            self.backend.renewals.charge_failed(ns, ns.get(SUBSCRIPTION, sub["subscription_id"]), payment)

    def apply_scheduled(self, ns: Namespace, sub: dict) -> dict:
        """At the renewal the change was scheduled for: the new plan, which that renewal charges."""
        fields = sub[INTERNAL].pop("scheduled_plan", None)
        if fields is None:
            return sub
        fields = dict(fields, restart=False)  # the cycle goes on from this date
        self._apply(ns, sub, fields, 0)
        return ns.get(SUBSCRIPTION, sub["subscription_id"])

    def _apply(self, ns: Namespace, sub: dict, fields: dict, credit: int) -> None:
        extra = sub[INTERNAL]
        now = self.clock.now()
        for name in ("product_id", "quantity", "recurring_pre_tax_amount", "tax_inclusive",
                     "payment_frequency_count", "payment_frequency_interval", "discounts",
                     "discount_id", "discount_cycles_remaining"):
            sub[name] = fields[name]
        extra.update(amount=fields["amount"], tax=fields["tax"], product_name=fields["product_name"])
        extra["credit"] = extra.get("credit", 0) + credit
        if fields["restart"]:
            first = billing_cycles.after(now, fields["payment_frequency_count"],
                                         fields["payment_frequency_interval"])
            extra.update(anchor=now, cycles=1, next_at=first)
            sub.update(previous_billing_date=iso(now), next_billing_date=iso(first))
        sub["scheduled_change"] = None
        self.backend.subscriptions.save(ns, sub)
        self.backend.subscriptions.announce(ns, "subscription.plan_changed", sub)

    # -- the rules ---------------------------------------------------------------------------
    def _plan(self, ns: Namespace, sub: dict, body: dict) -> dict:
        if sub["status"] != "active":
            raise inactive(f"Subscription is {sub['status']}; its plan cannot be changed")
        if sub["cancel_at_next_billing_date"]:
            raise invalid("The subscription is scheduled to cancel at its next billing date; "
                          "its plan cannot be changed",
                          "PLAN_CHANGE_NOT_ALLOWED_FOR_SCHEDULED_CANCELLATION")
        if sub["scheduled_change"] is not None and not body.get("cancel_scheduled_change_plan"):
            raise ApiError(409, "A scheduled plan change exists for this subscription; send "
                           "cancel_scheduled_change_plan true to replace it",
                           "SCHEDULED_PLAN_CHANGE_EXISTS")
        if body["quantity"] < 1:
            raise invalid("quantity must be at least 1")
        if body.get("addons"):
            raise invalid(f"Addon {body['addons'][0]['addon_id']} does not exist", "NOT_FOUND")
        product = ns.read(PRODUCT, body["product_id"])
        if product is None:
            raise invalid("Product does not exist", "NOT_FOUND")
        if not product["is_recurring"]:
            raise invalid(f"Product {product['product_id']} is not a subscription product")
        if product["price"]["currency"] != sub["currency"]:
            raise invalid(f"Product {product['product_id']} is priced in "
                          f"{product['price']['currency']}, the subscription in {sub['currency']}")
        mode, when = body["proration_billing_mode"], body.get("effective_at") or "immediately"
        if when == "next_billing_date" and mode != "full_immediately":
            raise invalid("effective_at next_billing_date takes proration_billing_mode "
                          "full_immediately only", "INVALID_PRORATION_MODE_WITH_NEXT_BILLING_DATE")
        discounts = self._discounts(ns, sub, body, product)
        quote = pricing.calculate([{"product": product, "quantity": body["quantity"], "amount": None}],
                                  discounts, sub["billing"], sub["tax_id"], None, self.clock.now())
        fields = self._fields(sub, product, body["quantity"], quote, discounts, mode)
        now, extra = self.clock.now(), sub[INTERNAL]
        if when == "next_billing_date":
            scheduled = {"id": ids.prefixed("spc", 21), "product_id": product["product_id"],
                         "quantity": body["quantity"], "addons": [], "created_at": iso(now),
                         "effective_at": sub["next_billing_date"],
                         "product_name": product.get("name"),
                         "product_description": product.get("description")}
            return {"scheduled": scheduled, "fields": fields, "amount": 0, "credit": 0,
                    "sub": dict(sub, scheduled_change=scheduled),
                    "charge": _charge(sub, product, fields, 0, 0, 1.0, scheduled["effective_at"])}
        start = epoch(sub["previous_billing_date"])
        unused = min(max((extra["next_at"] - now) / ((extra["next_at"] - start) or 1), 0.0), 1.0)
        old, new = extra["amount"], fields["amount"]
        due, factor = {
            "prorated_immediately": (new - round(old * unused), unused),
            "prorated_immediately_keep_cycle": (round((new - old) * unused), unused),
            "full_immediately": (new, 1.0), "difference_immediately": (new - old, 1.0),
            "do_not_bill": (0, 0.0)}[mode]
        credit = -due if due < 0 else 0       # a downgrade leaves credit for later charges
        used = min(extra.get("credit", 0), max(due, 0))  # credit pays first
        amount = max(due, 0) - used
        preview = dict(sub, **{k: v for k, v in fields.items() if k in sub})
        if fields["restart"]:
            first = billing_cycles.after(now, fields["payment_frequency_count"],
                                         fields["payment_frequency_interval"])
            preview.update(previous_billing_date=iso(now), next_billing_date=iso(first))
        return {"scheduled": None, "fields": fields, "amount": amount, "credit": credit - used,
                "sub": preview,
                "charge": _charge(sub, product, fields, amount, credit - used, factor, iso(now))}

    def _discounts(self, ns: Namespace, sub: dict, body: dict, product: dict) -> list[dict]:
        if body.get("discount_code") is not None and body.get("discount_codes") is not None:
            raise invalid("discount_code and discount_codes cannot be used together; send "
                          "discount_codes only (discount_code is deprecated)")
        codes = body.get("discount_codes")
        if codes is None and body.get("discount_code") is not None:
            codes = [body["discount_code"]]
        if codes is None:  # kept: those that say so
            return [d for d in sub["discounts"] or () if d.get("preserve_on_plan_change")]
        found = []
        for position, code in enumerate(codes):
            discount = ns.get(DISCOUNT, code.upper())
            if discount is None:
                raise invalid(f"Discount code {code} is invalid", "INVALID_DISCOUNT_CODE")
            if discount["restricted_to"] and product["product_id"] not in discount["restricted_to"]:
                raise invalid(f"Discount code {code} does not apply to {product['product_id']}",
                              "INVALID_DISCOUNT_CODE")
            found.append(dict(discount, position=position,
                              cycles_remaining=discount.get("subscription_cycles")))
        return found

    @staticmethod
    def _fields(sub: dict, product: dict, quantity: int, quote: dict, discounts: list[dict],
                mode: str) -> dict:
        price, breakup = product["price"], quote["recurring_breakup"]
        return {
            "product_id": product["product_id"], "quantity": quantity,
            "recurring_pre_tax_amount": breakup["subtotal"] - breakup["discount"],
            "tax_inclusive": bool(price.get("tax_inclusive")),
            "payment_frequency_count": price.get("payment_frequency_count") or 1,
            "payment_frequency_interval": price.get("payment_frequency_interval") or "Month",
            "discounts": discounts,
            "discount_id": discounts[0]["discount_id"] if discounts else None,
            "discount_cycles_remaining": discounts[0]["cycles_remaining"] if discounts else None,
            "amount": breakup["total_amount"], "tax": breakup["tax"],
            "tax_rate": quote["product_cart"][0]["tax_rate"],
            "product_name": product.get("name"), "restart": mode in RESTART}


def _charge(sub: dict, product: dict, fields: dict, amount: int, credits: int, factor: float,
            effective_at: str) -> dict:
    """The preview's `immediate_charge`: one subscription line and the summary."""
    tax = round(amount * fields["tax"] / fields["amount"]) if fields["amount"] else 0
    return {
        "effective_at": effective_at,
        "line_items": [{
            "type": "subscription", "id": sub["subscription_id"], "product_id": product["product_id"],
            "name": product.get("name"), "description": product.get("description"),
            "unit_price": product["price"]["price"], "quantity": fields["quantity"],
            "tax_inclusive": fields["tax_inclusive"], "currency": sub["currency"],
            "proration_factor": factor, "tax": tax, "tax_rate": fields["tax_rate"] / 100}],
        "summary": {"total_amount": amount, "tax": tax, "currency": sub["currency"],
                    "settlement_amount": amount, "settlement_currency": sub["currency"],
                    "settlement_tax": tax, "customer_credits": credits},
    }


