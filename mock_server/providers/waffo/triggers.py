"""Waffo's 14 documented events on demand (POST /_mock/trigger, `paymock trigger`, the pytest
plugin's `trigger`). Each causes its event through the same rules a request or the clock would,
so the events that come with it follow too (a renewal's payment_succeeded before its renewed):

- `order_id` names the order to act on; without it, one is bought: a checkout session of
  `product_id` (else the store's first product of the kind) in `currency` (USD), an order by
  `buyer_email` (trigger@example.com), paid by the PSP;
- subscription events that need a state first get it the way a customer would (uncanceled
  cancels first, recovered fails a renewal first), then the event's own cause;
- a renewal, a retry or a plan change happens now, not at the period's end (the clock does not
  move): the period's dates move as they would have;
- `refund.succeeded|failed`: a customer's refund ticket for `payment_id` (else the order's
  first payment), `amount` (else all of it), approved by the review, ending as the event says.
"""
from __future__ import annotations

from ...core import payments as core_payments
from ...core.errors import ApiError
from ...core.triggers import TriggerError
from . import plan_changes as changes
from . import products
from . import subscriptions as subs
from .common import ORDER, PRODUCT, Caller
from .payments import ORDER_COMPLETED, REFUND_FAILED, REFUND_SUCCEEDED

BILLING = {"country": "US", "state": "CA", "isBusiness": False}


class WaffoTriggers:
    def __init__(self, waffo):
        self.waffo = waffo
        self.backend = waffo.backend

    def register(self, triggers) -> None:
        for event, fn in {
            ORDER_COMPLETED: self.completed, subs.ACTIVATED: self.activated,
            subs.PAYMENT_SUCCEEDED: self.activated, subs.RENEWED: self.renewed,
            subs.PAST_DUE: self.past_due, subs.RECOVERED: self.recovered,
            subs.CANCELING: self.canceling, subs.UNCANCELED: self.uncanceled,
            subs.CANCELED: self.canceled, changes.PLAN_CHANGED: self.plan_changed,
            changes.PLAN_CHANGE_SCHEDULED: self.plan_change_scheduled,
            changes.PLAN_CHANGE_FAILED: self.plan_change_failed,
            REFUND_SUCCEEDED: self.refund_succeeded, REFUND_FAILED: self.refund_failed,
        }.items():
            triggers.register("waffo", event, fn)

    # -- finding or making one ---------------------------------------------------------------
    def _merchant(self, ns, environment: str = "test") -> Caller:
        merchant_id = self.waffo.gateway.merchant_of(ns.name)
        if merchant_id is None:
            raise TriggerError(f"{ns.name} is not a Waffo merchant's namespace", 404)
        return Caller("api_key", merchant_id, environment)

    @staticmethod
    def _products(ns):
        """The products a test-mode checkout can sell, oldest first."""
        for stored in sorted(ns.values(PRODUCT), key=lambda p: p["createdAt"]):
            shown = products.view(stored, "test")
            if shown is not None and shown.get("status") == "active":
                yield shown

    @staticmethod
    def _buyer(order: dict) -> Caller:
        return Caller("session_token", order["merchantId"], order["environment"],
                      store_id=order["storeId"], buyer_identity=order["buyerIdentity"])

    def _new(self, ns, params: dict, kind: str) -> dict:
        merchant = self._merchant(ns)
        product_id = params.get("product_id") or next(
            (p["id"] for p in self._products(ns) if p["type"] == kind), None)
        if product_id is None:
            raise TriggerError(f"no {kind} product to buy: pass product_id", 409)
        email = params.get("buyer_email") or "trigger@example.com"
        try:
            session = self.backend.create_session(ns, merchant, {
                "productId": product_id, "currency": params.get("currency") or "USD"})
            buyer = Caller("session_token", merchant.merchant_id, "test",
                           store_id=ns.get(PRODUCT, product_id)["storeId"], buyer_identity=email)
            self.backend.create_order(ns, buyer, {"checkoutSessionId": session["sessionId"],
                                                  "billingDetail": BILLING,
                                                  "buyerEmail": email}, kind)
        except ApiError as exc:
            raise TriggerError(f"{exc.code}: {exc.message}", 409) from None
        order = next(o for o in ns.values(ORDER) if o["checkoutSessionId"] == session["sessionId"])
        payments = self.backend.payments.payments
        try:
            payments.script(ns, payments.get(ns, order["payment"]["paymentId"]), "paid")
        except (core_payments.TransitionError, ValueError) as exc:
            raise TriggerError(str(exc), 409) from None
        return ns.get(ORDER, order["orderId"])

    def _order(self, ns, params: dict, kind: str = "subscription", *statuses: str) -> dict:
        order_id = params.get("order_id")
        if order_id is None:
            order = self._new(ns, params, kind)
        else:
            order = ns.get(ORDER, order_id)
            if order is None or order["type"] != kind:
                raise TriggerError(f"no {kind} order {order_id} in {ns.name}", 404)
        if statuses and order["status"] not in statuses:
            raise TriggerError(f"order {order['orderId']} is {order['status']}, not "
                               f"{' or '.join(statuses)}", 409)
        return order

    def _read(self, ns, order_id: str, **more) -> dict:
        order = ns.get(ORDER, order_id)
        shown = {k: v for k, v in order.items() if k != "renewal"}
        return dict({"order": shown}, **more)

    def _charge(self, ns, order: dict, purpose: str, fail: str | None = None) -> None:
        with ns.lock:
            order = ns.get(ORDER, order["orderId"])
            if fail is not None:
                order["renewal"]["failNext"] = fail
            try:
                self.backend.subscriptions.charge(ns, order, purpose)
            except ValueError as exc:  # an unknown decline reason
                raise TriggerError(str(exc)) from None

    # -- orders and the first charge -----------------------------------------------------------
    def completed(self, ns, params: dict) -> dict:
        return self._read(ns, self._order(ns, params, "onetime")["orderId"])

    def activated(self, ns, params: dict) -> dict:
        """A new subscription, bought and paid (payment_succeeded, activated)."""
        return self._read(ns, self._new(ns, params, "subscription")["orderId"])

    # -- the clock's events, now ---------------------------------------------------------------
    def renewed(self, ns, params: dict) -> dict:
        order = self._order(ns, params, "subscription", "active")
        self._charge(ns, order, subs.RENEWAL)
        return self._read(ns, order["orderId"])

    def past_due(self, ns, params: dict) -> dict:
        """Its renewal is declined now (`reason`, default card_declined)."""
        order = self._order(ns, params, "subscription", "active")
        self._charge(ns, order, subs.RENEWAL, params.get("reason") or "CARD_DECLINED")
        return self._read(ns, order["orderId"])

    def recovered(self, ns, params: dict) -> dict:
        """A past-due subscription (made so first if active) pays on a retry now."""
        order = self._order(ns, params, "subscription", "active", "past_due")
        if order["status"] == "active":
            self.past_due(ns, {"order_id": order["orderId"]})
        with ns.lock:
            order = ns.get(ORDER, order["orderId"])
            order["renewal"]["card"].pop("later_decline", None)  # the buyer's bank relented
            ns.save(ORDER, order["orderId"], order)
        self._charge(ns, order, subs.RETRY)
        return self._read(ns, order["orderId"])

    # -- the customer's cancel and reactivation ------------------------------------------------
    def canceling(self, ns, params: dict) -> dict:
        order = self._order(ns, params, "subscription", "active", "past_due")
        self.backend.orders.cancel(ns, self._buyer(order), order["orderId"], "subscription")
        return self._read(ns, order["orderId"])

    def uncanceled(self, ns, params: dict) -> dict:
        order = self._order(ns, params, "subscription", "active", "canceling")
        if order["status"] == "active":
            self.canceling(ns, {"order_id": order["orderId"]})
        self.backend.orders.reactivate(ns, self._buyer(order), order["orderId"])
        return self._read(ns, order["orderId"])

    def canceled(self, ns, params: dict) -> dict:
        """It ends now: canceled first if it was not (canceling), then its end."""
        order = self._order(ns, params, "subscription", "active", "past_due", "canceling")
        if order["status"] != "canceling":
            self.canceling(ns, {"order_id": order["orderId"]})
        with ns.lock:
            self.backend.subscriptions.end(ns, ns.get(ORDER, order["orderId"]))
        return self._read(ns, order["orderId"])

    # -- plan changes --------------------------------------------------------------------------
    def _change(self, ns, params: dict, timing: str, fail: str | None = None) -> dict:
        order = self._order(ns, params, "subscription", "active")
        target = params.get("to_product_id") or next(
            (p["id"] for p in self._products(ns)
             if p["type"] == "subscription" and p["id"] != order["productId"]
             and p["storeId"] == order["storeId"] and order["currency"] in p.get("prices", {})),
            None)
        if target is None:
            raise TriggerError("no other subscription plan of the store to change to: pass "
                               "to_product_id", 409)
        body = {"originOrderId": order["orderId"], "productId": target,
                "currency": order["currency"], "changeTiming": timing}
        if params.get("change_amount"):
            body["changeAmount"] = params["change_amount"]
        try:
            session = self.backend.plan_changes.create_session(
                ns, self._merchant(ns, order["environment"]), body)
            if fail is not None:
                with ns.lock:
                    stored = ns.get(ORDER, order["orderId"])
                    stored["renewal"]["failNext"] = fail
                    ns.save(ORDER, order["orderId"], stored)
            self.backend.plan_changes.confirm(ns, session["sessionId"])
        except ApiError as exc:
            raise TriggerError(f"{exc.code}: {exc.message}", 409) from None
        except (LookupError, ValueError) as exc:
            raise TriggerError(str(exc), 409) from None
        return self._read(ns, order["orderId"], sessionId=session["sessionId"])

    def plan_changed(self, ns, params: dict) -> dict:
        return self._change(ns, params, changes.IMMEDIATE)

    def plan_change_scheduled(self, ns, params: dict) -> dict:
        return self._change(ns, params, changes.NEXT_PERIOD)

    def plan_change_failed(self, ns, params: dict) -> dict:
        """A change now whose charge is declined (`reason`); a change that costs nothing cannot
        fail, so it charges `change_amount` (default 1.00)."""
        return self._change(ns, dict(params, change_amount=params.get("change_amount") or "1.00"),
                            changes.IMMEDIATE, params.get("reason") or "CARD_DECLINED")

    # -- refunds -------------------------------------------------------------------------------
    def _refund(self, ns, params: dict, outcome: str) -> dict:
        tickets = self.backend.refund_tickets
        payment_id = params.get("payment_id")
        if payment_id is None:
            order = self._order(ns, params, params.get("kind") or "onetime")
            payment_id = order["payment"]["paymentId"]
        else:
            order = next((o for o in ns.values(ORDER)
                          if o["payment"]["paymentId"] == payment_id), None)
            if order is None:
                raise TriggerError(f"no Waffo payment {payment_id} in {ns.name}", 404)
        amount = params.get("amount") or order["total"]
        try:
            ticket = tickets.create(ns, self._buyer(order), {
                "paymentId": payment_id, "reason": params.get("reason") or "Triggered refund",
                "requestedAmount": {"amount": amount, "currency": order["currency"]}})["ticket"]
            ticket = tickets.review(ns, ticket["id"], "approve", None, outcome)
        except ApiError as exc:
            raise TriggerError(f"{exc.code}: {exc.message}", 409) from None
        return self._read(ns, order["orderId"], ticket=ticket)

    def refund_succeeded(self, ns, params: dict) -> dict:
        return self._refund(ns, params, "succeeded")

    def refund_failed(self, ns, params: dict) -> dict:
        return self._refund(ns, params, "failed")
