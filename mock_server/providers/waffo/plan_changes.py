"""Plan changes: `checkout/create-session` with `originOrderId`, the change page's confirmation,
and the change itself, now or at the next renewal (waffo-lifecycle.md section 4; the SDK's
CreatePlanChangeSessionParams and CustomerPlanChangeParams).

Who may ask: a merchant's API key for any subscription plan of the origin's store; a customer's
session token only for their own subscription, a plan of one of its product groups whose
`selfServicePlanChange` is on, in the subscription's currency (403 / 400 otherwise, in the SDK's
words). A store slug cannot (403). API-key-only fields sent with a token are dropped, as Waffo
drops them.

When: `changeTiming`, or derived from the direction (an upgrade, a dearer plan, now; anything
else at the next period), not echoed. What a change now charges, tax included:
`changeAmount`; the new plan's total less `changeCreditAmount`; or by default the price
difference for the part of the period left (a downgrade now charges nothing and credits
nothing: paymock's choice). The charge goes to the saved card; paid: payment_succeeded then
plan_changed; declined: plan_change_failed and the old plan stays. A change at the next period
sends plan_change_scheduled at once and plan_changed at the renewal, which then charges the new
plan. The period's dates never move for a change.
"""
from __future__ import annotations

import copy
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ...core import payments as core_payments
from ...core.clock import epoch, iso
from ...core.store import Namespace
from . import billing
from .common import ORDER, SESSION, error
from .product_groups import GROUP
from .subscriptions import PAYMENT_SUCCEEDED

PLAN_CHANGED = "subscription.plan_changed"
PLAN_CHANGE_SCHEDULED = "subscription.plan_change_scheduled"
PLAN_CHANGE_FAILED = "subscription.plan_change_failed"
EVENTS = (PLAN_CHANGED, PLAN_CHANGE_SCHEDULED, PLAN_CHANGE_FAILED)
IMMEDIATE, NEXT_PERIOD = "immediate", "next_period"
PLAN_CHANGE = "plan_change"  # the purpose of its charge (subscriptions.charge)
MERCHANT_ONLY = ("changeAmount", "changeCreditAmount", "withTrial", "priceSnapshot",
                 "expiresInSeconds", "metadata", "orderMerchantExternalId",
                 "includePaymentMethods", "excludePaymentMethods")
CHANGEABLE = ("active",)
# What a plan takes onto the order when it applies (the rest is the subscription's own).
PLAN_FIELDS = ("productId", "productVersion", "productName", "billingPeriod", "price")


class PlanChanges:
    def __init__(self, backend, subscriptions):
        self.backend = backend
        self.subs = subscriptions
        self.clock = backend.clock
        subscriptions.plan_changes = self

    # -- the session -------------------------------------------------------------------------
    def create_session(self, ns: Namespace, caller, body: dict) -> dict:
        backend = self.backend
        if caller.kind == "store_slug":
            raise error(403, "Plan change requires an API key or a customer session token",
                        "order")
        if caller.kind != "api_key":
            body = {k: v for k, v in body.items() if k not in MERCHANT_ONLY}
        if body.get("changeAmount") is not None and body.get("changeCreditAmount") is not None:
            raise error(400, "changeAmount and changeCreditAmount are mutually exclusive", "order")
        origin = ns.get(ORDER, body["originOrderId"])
        if origin is None or origin["type"] != "subscription" \
                or origin["environment"] != caller.environment:
            raise error(404, "Order not found", "order")
        customer = caller.kind == "session_token"
        if customer and (origin["storeId"] != caller.store_id
                         or origin["buyerIdentity"] != caller.buyer_identity):
            raise error(403, "Subscription order does not belong to this credential", "order")
        if origin["status"] not in CHANGEABLE:
            raise error(400, f"Subscription cannot be changed, current status: {origin['status']}",
                        "order")
        product = backend.product(ns, body["productId"], caller.environment)
        if product["type"] != "subscription" or product["id"] == origin["productId"]:
            raise error(400, "Target plan must be a subscription product other than the current "
                             "one", "product")
        if product["storeId"] != origin["storeId"]:
            raise error(403, "Product not in store", "product")
        if customer:
            self._check_self_service(ns, origin, product["id"])
            if body["currency"] != origin["currency"]:
                raise error(400, f"Currency must match the subscription's ({origin['currency']})",
                            "order")
        price = self._price(product, body)
        for name in ("changeAmount", "changeCreditAmount"):
            if body.get(name) is not None:
                _amount(body[name], name)
        now = self.clock.now()
        new_total = billing.quote(price["amount"], body["currency"], origin["billingDetail"])["total"]
        timing = body.get("changeTiming") or (
            IMMEDIATE if Decimal(new_total) > Decimal(origin["total"]) else NEXT_PERIOD)
        store = backend.store(ns, product["storeId"])
        expires_at = now + body.get("expiresInSeconds", 45 * 60)
        session_id = f"cs_{uuid.uuid4()}"
        session = {
            "sessionId": session_id, "mode": "plan_change", "originOrderId": origin["orderId"],
            "environment": caller.environment, "merchantId": caller.merchant_id,
            "createdVia": caller.kind, "storeId": store["id"], "storeSlug": store["slug"],
            "productId": product["id"], "productVersion": product.get("version", 1),
            "productName": product["name"], "productType": "subscription",
            "billingPeriod": product.get("billingPeriod"), "currency": body["currency"],
            "price": price, "changeTiming": timing,
            "changeAmount": body.get("changeAmount"),
            "changeCreditAmount": body.get("changeCreditAmount"),
            "successUrl": body.get("successUrl"), "darkMode": body.get("darkMode"),
            "language": body.get("language"), "metadata": dict(body.get("metadata") or {}),
            "buyerEmail": origin["buyerEmail"], "createdAt": iso(now),
            "expiresAt": iso(expires_at), "orderIds": [], "confirmedAt": None,
        }
        ns.put(SESSION, session_id, session, expires_at=expires_at)
        return {"sessionId": session_id, "expiresAt": session["expiresAt"],
                "checkoutUrl": self.backend.change_url(store["slug"], session_id)}

    def _check_self_service(self, ns: Namespace, origin: dict, target: str) -> None:
        groups = [g for g in ns.values(GROUP) if g["environment"] == origin["environment"]
                  and origin["productId"] in g["productIds"] and target in g["productIds"]]
        if not groups:
            raise error(403, "Target plan is not in the same product group as the current plan",
                        "order")
        if not any(g["rules"]["selfServicePlanChange"] for g in groups):
            raise error(403, "Self-service plan change is not enabled for this product group",
                        "order")

    @staticmethod
    def _price(product: dict, body: dict) -> dict:
        snapshot = body.get("priceSnapshot")
        if snapshot is not None:
            return {"amount": snapshot["amount"], "taxCategory": snapshot["taxCategory"]}
        if body["currency"] not in product["prices"]:
            raise error(400, f"Product has no price in {body['currency']}", "product")
        return dict(product["prices"][body["currency"]])

    # -- what the change page shows and does -----------------------------------------------------
    def preview(self, ns: Namespace, session: dict) -> dict:
        """The change as the page shows it: the current and the new plan, when, what it costs."""
        origin = ns.get(ORDER, session["originOrderId"]) or {}
        new = billing.quote(session["price"]["amount"], session["currency"],
                            origin.get("billingDetail") or {"country": "US"})
        charge = self._charge(origin, session, new) if origin and \
            session["changeTiming"] == IMMEDIATE else None
        return {"origin": origin, "newPlan": new, "charge": charge}

    def confirm(self, ns: Namespace, session_id: str) -> dict:
        """The customer confirmed on the change page (or a test through the control API)."""
        with ns.lock:
            session = ns.get(SESSION, session_id)
            if session is None or session.get("mode") != "plan_change":
                raise LookupError(f"no live plan-change session {session_id}")
            if session["confirmedAt"] is not None:
                raise ValueError("this plan change was confirmed already")
            order = ns.get(ORDER, session["originOrderId"])
            if order is None or order["status"] not in CHANGEABLE:
                raise ValueError(f"the subscription is {order and order['status']}; it cannot "
                                 "change plan now")
            session["confirmedAt"] = iso(self.clock.now())
            ns.save(SESSION, session_id, session)
            plan = self._plan(session, order)
            if session["changeTiming"] == NEXT_PERIOD:
                order["renewal"]["scheduledPlan"] = plan
                order["updatedAt"] = session["confirmedAt"]
                events = [(PLAN_CHANGE_SCHEDULED,
                           self.subs.status_event(ns, order, PLAN_CHANGE_SCHEDULED))]
                ns.save(ORDER, order["orderId"], order)
                self.subs.send(ns, events)
                return ns.get(ORDER, order["orderId"])
            charge = self._charge(order, session, plan["quote"])
            if Decimal(charge["total"]) == 0:
                self._apply(order, plan)
                ns.save(ORDER, order["orderId"], order)
                self.subs.send(ns, [(PLAN_CHANGED, self.subs.status_event(ns, order, PLAN_CHANGED))])
            else:
                self.subs.charge(ns, order, PLAN_CHANGE, amount=charge, data={"plan": plan})
            return ns.get(ORDER, order["orderId"])

    def on_charge(self, ns: Namespace, order: dict, payment: dict, pay: dict) -> list:
        """The change's charge ended (Subscriptions.on_charge hands it here)."""
        if payment["status"] != core_payments.SUCCEEDED:
            return [(PLAN_CHANGE_FAILED, self.subs.status_event(ns, order, PLAN_CHANGE_FAILED,
                                                                numbered=False))]
        self._apply(order, payment["data"]["plan"])
        return [(PAYMENT_SUCCEEDED, self.subs.payment_event(ns, order, pay)),
                (PLAN_CHANGED, self.subs.status_event(ns, order, PLAN_CHANGED))]

    def apply_scheduled(self, ns: Namespace, order: dict) -> dict:
        """At the renewal a change was scheduled for: the new plan, then its charge."""
        plan = order["renewal"].pop("scheduledPlan")
        self._apply(order, plan)
        ns.save(ORDER, order["orderId"], order)
        self.subs.send(ns, [(PLAN_CHANGED, self.subs.status_event(ns, order, PLAN_CHANGED))])
        return order

    # -- the plan and its price ----------------------------------------------------------------
    @staticmethod
    def _plan(session: dict, order: dict) -> dict:
        plan = {name: copy.deepcopy(session[name]) for name in PLAN_FIELDS}
        plan["quote"] = billing.quote(session["price"]["amount"], order["currency"],
                                      order["billingDetail"])
        return plan

    def _charge(self, order: dict, session: dict, new: dict) -> dict:
        """What a change now charges, as a webhook amount block (tax included)."""
        currency = order["currency"]
        new_total = billing.to_minor(new["total"], currency)
        if session.get("changeAmount") is not None:
            total = billing.to_minor(session["changeAmount"], currency)
        elif session.get("changeCreditAmount") is not None:
            total = new_total - billing.to_minor(session["changeCreditAmount"], currency)
        else:  # the difference, for the part of the period left
            start, end = epoch(order["currentPeriodStart"]), epoch(order["currentPeriodEnd"])
            left = Decimal(max(0.0, end - self.clock.now())) / Decimal(max(1.0, end - start))
            difference = new_total - billing.to_minor(order["total"], currency)
            total = int((difference * left).to_integral_value(ROUND_HALF_UP))
        total = max(0, total)
        rate = Decimal(str(new["taxRate"]))
        tax = int((Decimal(total) * rate / (100 + rate)).to_integral_value(ROUND_HALF_UP))
        return {"total": billing.to_display(total, currency),
                "subtotal": billing.to_display(total - tax, currency),
                "taxAmount": billing.to_display(tax, currency), "taxRate": float(rate)}

    def _apply(self, order: dict, plan: dict) -> None:
        for name in PLAN_FIELDS:
            order[name] = copy.deepcopy(plan[name])
        order["amount"] = plan["price"]["amount"]
        order.update(plan["quote"])
        order["updatedAt"] = iso(self.clock.now())


def _amount(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise error(400, f"Invalid {name} format", "order") from None
    if not value.is_finite() or value < 0:
        raise error(400, f"Invalid {name} format", "order")
    return value

