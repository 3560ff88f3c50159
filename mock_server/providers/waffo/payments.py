"""Waffo orders on the core payment state machine, and the webhooks they send.

An order's payment becomes a core payment once the PSP checkout exists. Waffo's rules, from the
reference: a one-time order moves pending -> completed when its payment succeeds and stays pending
when a payment fails (the payment reads `failed`, the buyer may try again); a subscription order
becomes active (subscriptions.py takes it from there: its periods, renewals and events). A buyer cancelling on the PSP page cancels the pending
order, as cancel-order would.
"""
from __future__ import annotations

from ...core import payments as core_payments
from ...core.clock import iso
from ...core.store import Namespace
from . import billing
from .common import ORDER, STORE

# core status -> Waffo payment status
PAYMENT_STATUS = {"pending": "pending", "processing": "pending", "requires_customer_action": "pending",
                  "succeeded": "succeeded", "failed": "failed", "cancelled": "canceled"}
ORDER_COMPLETED = "order.completed"
SUBSCRIPTION_ACTIVATED = "subscription.activated"
REFUND_SUCCEEDED, REFUND_FAILED = "refund.succeeded", "refund.failed"  # refund_tickets.py


class WaffoPayments:
    def __init__(self, payments: core_payments.Payments, clock, webhooks=None,
                 failed_event: str | None = None):
        self.payments = payments
        self.clock = clock
        self.webhooks = webhooks
        self.failed_event = failed_event or None
        self.subscriptions = None  # subscriptions.Subscriptions: renewals, cancels, their events
        # What this emits, for the webhook channel (fault rules may name only these).
        self.events = frozenset(e for e in (ORDER_COMPLETED, SUBSCRIPTION_ACTIVATED,
                                            REFUND_SUCCEEDED, REFUND_FAILED,
                                            self.failed_event) if e)
        payments.on("waffo", self.on_event)
        payments.add_resolver(self.resolve)

    def resolve(self, obj_id: str, namespace: str | None, options: dict):
        """An order id names its payment (one per order, created with the PSP checkout)."""
        for ns, _, order in core_payments.find(self.payments.store, (ORDER,), obj_id, namespace):
            payment = self.payments.get(ns, order["payment"]["paymentId"])
            if payment is None:
                raise core_payments.TransitionError(
                    f"order {obj_id} has no PSP payment (status {order['status']})")
            return ns, payment
        return None

    def open(self, ns: Namespace, order: dict, session: dict) -> dict:
        pay = order["payment"]
        # A trial's first charge is its own price: the paid trial's, or a zero-amount card check.
        first = order.get("firstCharge") or order
        return self.payments.create(
            ns, "waffo", billing.to_minor(first["total"], order["currency"]), order["currency"],
            {"kind": ORDER, "id": order["orderId"]}, payment_id=pay["paymentId"],
            methods=["card"], psp_checkout_id=pay.get("pspCheckoutId"),
            checkout_url=pay.get("checkoutUrl"), decline=pay.get("declineReason"),
            data={"successUrl": order.get("successUrl"), "sessionId": session["sessionId"],
                  "storeSlug": session.get("storeSlug")})

    def on_event(self, ns: Namespace, payment: dict, previous: str) -> None:
        order = ns.get(ORDER, payment["ref"]["id"])
        if order is None:
            return
        if payment["data"].get("purpose"):  # a charge of the saved card (subscriptions.py)
            events = self.subscriptions.on_charge(ns, order, payment)
            ns.save(ORDER, order["orderId"], order)
            self.subscriptions.send(ns, events)
            return
        status = payment["status"]
        pay = order["payment"]
        pay["status"] = PAYMENT_STATUS[status]
        if payment.get("method"):
            pay["paymentMethod"] = payment["method"]
        if payment.get("card"):
            pay["paymentLast4"] = payment["card"]["last4"]
        pay["failureReason"] = payment["reason"] if status == "failed" else None
        order["updatedAt"] = iso(self.clock.now())
        event, events = None, []
        if status == "succeeded" and pay.get("paidAt") is None:
            pay["paidAt"] = iso(self.clock.now())  # the refund window counts from here
            first = order.get("firstCharge") or order
            pay["chargedAmount"] = first["total"]
            # What this payment was charged for, kept apart from the order's price, which a
            # plan change may later move.
            pay["amount"] = {"total": first["total"], "subtotal": first["subtotal"],
                             "taxAmount": first["taxAmount"], "taxRate": float(first["taxRate"])}
        if status == "succeeded" and order["status"] == "pending":
            if order["type"] == "onetime":
                order["status"], event = "completed", ORDER_COMPLETED
            else:
                events = self.subscriptions.activate(ns, order, payment)
        elif status == "cancelled" and order["status"] == "pending":
            order["status"] = "canceled"
        elif status == "failed":
            event = self.failed_event
        ns.save(ORDER, order["orderId"], order)
        if event and self.webhooks is not None:
            self.webhooks.emit(ns.name, "waffo", event, self.envelope(ns, order, event, payment))
        self.subscriptions.send(ns, events)

    def envelope(self, ns: Namespace, order: dict, event: str, payment: dict) -> dict:
        """The reference's envelope; `id` (the delivery id) is added per delivery when signed."""
        store = ns.get(STORE, order["storeId"]) or {}
        pay = order["payment"]
        list_price = {"total": order["total"], "subtotal": order["subtotal"],
                      "taxAmount": order["taxAmount"], "taxRate": float(order["taxRate"])}
        data = {
            "orderId": order["orderId"], "orderStatus": order["status"],
            "buyerEmail": order["buyerEmail"],
            "merchantProvidedBuyerIdentity": order.get("buyerIdentity"),
            "orderMerchantExternalId": order.get("orderMerchantExternalId"),
            "currency": order["currency"], "amount": order["total"],
            "taxAmount": order["taxAmount"], "taxRate": float(order["taxRate"]) / 100,
            "subtotal": order["subtotal"], "total": order["total"], "listPrice": list_price,
            "productName": order["productName"], "paymentId": pay["paymentId"],
            "paymentStatus": pay["status"], "paymentMethod": pay.get("paymentMethod"),
            "paymentLast4": pay.get("paymentLast4"), "billingDetail": order["billingDetail"],
            "orderMetadata": order.get("metadata") or {},
            "paymentDate": iso(self.clock.now())[:10],
        }
        if payment["status"] == "succeeded":
            data["chargedAmount"] = pay.get("chargedAmount") or order["total"]
        if payment["status"] == "failed":
            data["paymentFailureReason"] = payment["reason"]
        if order["type"] == "subscription":
            data["billingPeriod"] = order.get("billingPeriod")
        return {"timestamp": iso(self.clock.now()), "eventType": event, "eventId": pay["paymentId"],
                "storeId": order["storeId"], "storeName": store.get("name", ""),
                "mode": order["environment"],
                "data": {k: v for k, v in data.items() if v is not None}}
