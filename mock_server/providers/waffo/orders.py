"""Order rules: create-order (the seed's behaviour and error table) and the cancel actions."""
from __future__ import annotations

import re

from ...core import ids
from ...core.clock import iso
from ...core.store import Namespace
from . import billing
from .common import ORDER, SESSION, check_success_url, error, normalise_email
from .product_groups import GROUP
from ...core.psp import PspError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Cancel rules: current status -> resulting status. Anything else cannot be canceled.
CANCEL_RULES = {
    "onetime": {"pending": "canceled"},
    "subscription": {"pending": "canceled", "active": "canceling", "past_due": "canceling"},
}


class OrderBook:
    def __init__(self, backend):
        self.backend = backend

    def create(self, ns: Namespace, caller, body: dict, kind: str) -> dict:
        backend = self.backend
        check_success_url(body)
        session = backend.open_session(ns, body["checkoutSessionId"])
        if session.get("mode") == "plan_change":  # confirmed on its change page, not ordered
            raise error(400, "Session is a plan change: confirm it on its change page", "order")
        if session["storeId"] != caller.store_id:
            raise error(403, "Session does not belong to this store", "order")
        if session["productType"] != kind:
            raise error(400, f"Session product type mismatch: expected {kind}", "order")
        if session["environment"] != caller.environment:
            raise error(400, "Environment mismatch between request and session", "order")
        detail = body.get("billingDetail") or session.get("billingDetail")
        if not detail:
            raise error(400, "Missing billingDetail: provide in request body or pre-fill in "
                             "checkout session", "order")
        email = self._buyer_email(caller, body, session)
        if email is None:
            raise error(400, "Missing buyerEmail: provide in request body or pre-fill in checkout "
                             "session", "order")
        price = session["price"]  # frozen when the session was created
        amounts = billing.quote(price["amount"], session["currency"], detail)
        now = backend.clock.now()
        order = {
            "orderId": ids.prefixed("ORD", 22), "type": kind, "status": "pending",
            "environment": session["environment"], "merchantId": session["merchantId"],
            "storeId": session["storeId"], "productId": session["productId"],
            "productVersion": session["productVersion"], "productName": session["productName"],
            "checkoutSessionId": session["sessionId"], "buyerIdentity": caller.buyer_identity,
            "buyerEmail": email, "buyerIp": body.get("buyerIp"), "billingDetail": dict(detail),
            "price": dict(price), "amount": price["amount"], **amounts,
            "successUrl": body.get("successUrl") or session.get("successUrl"),
            "metadata": dict(session.get("metadata") or {}),
            "orderMerchantExternalId": session.get("orderMerchantExternalId"),
            "createdAt": iso(now), "updatedAt": iso(now),
            "payment": {"paymentId": ids.prefixed("PAY", 22), "status": "pending",
                        "paymentMethod": None},
        }
        if kind == "subscription":
            order.update(billingPeriod=session.get("billingPeriod"), trialDays=session.get("trialDays"))
            if order["trialDays"] and session.get("withTrial") is None \
                    and self._shared_trial_used(ns, order):
                order["trialDays"] = None  # the group's shared trial was had already
            if order["trialDays"]:  # the first charge is the trial's: its price, or a card check
                order["firstCharge"] = billing.quote(price.get("trialAmount") or "0",
                                                     session["currency"], detail)
        ns.put(ORDER, order["orderId"], order)
        try:
            checkout = backend.psp.create_checkout(order, ns.name)
        except PspError:
            self._undo(ns, order)
            raise error(500, "Internal server error", "order") from None
        with ns.lock:
            order["payment"]["pspCheckoutId"] = checkout.get("pspCheckoutId")
            if checkout.get("declineReason"):  # a PSP fault: the payment page will decline
                order["payment"]["declineReason"] = checkout["declineReason"]
            order["payment"]["checkoutUrl"] = checkout["checkoutUrl"]
            ns.save(ORDER, order["orderId"], order)
            # Write-back: the session remembers the (normalised) buyer and billing for re-entry
            # (read again: another order of this session may have been taken meanwhile).
            session = ns.get(SESSION, session["sessionId"], include_expired=True) or session
            session["buyerEmail"] = email
            session["billingDetail"] = dict(detail)
            session["orderIds"].append(order["orderId"])
            ns.save(SESSION, session["sessionId"], session)
            if backend.payments is not None:  # the PSP page and webhooks run on core payments
                backend.payments.open(ns, order, session)
        return {"checkoutUrl": checkout["checkoutUrl"]}

    @staticmethod
    def _shared_trial_used(ns: Namespace, order: dict) -> bool:
        """A product group with `sharedTrial` on gives a buyer one trial across its plans: a
        trial had on any of them (an order that got past pending) ends the eligibility. Only
        when the session leaves `withTrial` out: true or false overrides the group's rule."""
        plans = {order["productId"]}
        for group in ns.values(GROUP):
            if group["environment"] == order["environment"] and group["rules"]["sharedTrial"] \
                    and order["productId"] in group["productIds"]:
                plans.update(group["productIds"])
        if len(plans) == 1:
            return False
        return any(o["type"] == "subscription" and o.get("trialDays") and o["status"] != "pending"
                   and o["buyerEmail"] == order["buyerEmail"] and o["productId"] in plans
                   and o["environment"] == order["environment"] for o in ns.values(ORDER))

    @staticmethod
    def _buyer_email(caller, body: dict, session: dict) -> str | None:
        # A token whose buyer identity is an e-mail address fixes the buyer: the body's
        # buyerEmail is then ignored, as documented. A merchant-defined identity ("user-123")
        # carries no address, so the body or the session must supply one.
        identity = normalise_email(caller.buyer_identity)
        if identity and EMAIL.match(identity):
            return identity
        return normalise_email(body.get("buyerEmail")) or normalise_email(session.get("buyerEmail"))

    @staticmethod
    def _undo(ns: Namespace, order: dict) -> None:
        """PSP failure: one-time orders vanish (retry is safe); subscriptions stay, canceled."""
        if order["type"] == "onetime":
            ns.delete(ORDER, order["orderId"])
            return
        with ns.lock:
            order["status"] = "canceled"
            order["payment"]["status"] = "failed"
            order["payment"]["failureReason"] = "psp_checkout_failed"
            ns.save(ORDER, order["orderId"], order)

    def cancel(self, ns: Namespace, caller, order_id: str, kind: str) -> dict:
        with ns.lock:
            order = ns.get(ORDER, order_id)
            if order is None or order["type"] != kind:
                raise error(404, "Order not found", "order")
            if caller.kind == "session_token" and (
                    order["storeId"] != caller.store_id
                    or order["buyerIdentity"] != caller.buyer_identity):
                raise error(403, "Order does not belong to user", "order")
            current = order["status"]
            result = CANCEL_RULES[kind].get(current)
            if result is None:
                noun = "Subscription" if kind == "subscription" else "Order"
                raise error(400, f"{noun} cannot be canceled, current status: {current}", "order")
            order["status"] = result
            # What reactivation needs to know: a cancel while past due leaves an unpaid balance.
            order["canceledFrom"] = current
            order["updatedAt"] = iso(self.backend.clock.now())
            if result == "canceled" and order["payment"]["status"] == "pending":
                order["payment"]["status"] = "canceled"
            events = self._subscriptions().canceled(ns, order, current) if kind == "subscription" \
                else []
            ns.save(ORDER, order_id, order)
        self._subscriptions().send(ns, events)
        return {"orderId": order_id, "status": result}

    def _subscriptions(self):
        return self.backend.subscriptions

    def reactivate(self, ns: Namespace, caller, order_id: str) -> dict:
        """subscription-order/reactivate-order (the customer's token): a cancel that has not
        taken effect yet is undone; the subscription is active again, its dates as they were,
        nothing charged. A cancel made while past due cannot be undone (unpaid balance)."""
        with ns.lock:
            order = ns.get(ORDER, order_id)
            if order is None or order["type"] != "subscription":
                raise error(404, "Order not found", "order")
            if order["storeId"] != caller.store_id \
                    or order["buyerIdentity"] != caller.buyer_identity:
                raise error(403, "Order does not belong to user", "order")
            if order["status"] != "canceling":
                raise error(400, "Only canceling subscriptions can be reactivated", "order")
            if order.get("canceledFrom") == "past_due":
                raise error(400, "Subscription with an unpaid balance cannot be reactivated",
                            "order")
            order["status"] = "active"
            order["canceledFrom"] = None
            order["updatedAt"] = iso(self.backend.clock.now())
            events = self._subscriptions().reactivated(ns, order)
            ns.save(ORDER, order_id, order)
        self._subscriptions().send(ns, events)
        return {"orderId": order_id, "status": "active"}
