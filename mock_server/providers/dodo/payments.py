"""Dodo payments: a checkout session's payment on the core state machine, read back as the vendor's
PaymentResponse (GET /payments/{id}, GET /payments, webhook `data`).

The hosted page (providers/dodo/hosted.py) calls `start()` once the buyer's details are in;
`confirm=true` sessions get their payment at creation. Transitions come back through `on_event`,
which keeps the session's `payment_status` in step and emits payment.* webhooks.
"""
from __future__ import annotations

import copy
from typing import Callable

from ...core import ids
from ...core import payments as core_payments
from ...core.errors import ApiError
from ...core.store import Namespace
from . import paging
from .events import DodoEvents
from .models import CUSTOMER, SESSION, not_found

# core status -> Dodo IntentStatus
STATUS = {"pending": "requires_payment_method", "processing": "processing",
          "requires_customer_action": "requires_customer_action", "succeeded": "succeeded",
          "failed": "failed", "cancelled": "cancelled"}
EVENTS = {"succeeded": "payment.succeeded", "failed": "payment.failed",
          "processing": "payment.processing", "cancelled": "payment.cancelled"}
DEFAULT_BUYER = {"email": "buyer@example.com", "name": "Test Buyer"}  # headless outcomes only


class DodoPayments:
    def __init__(self, backend, payments: core_payments.Payments, psp, events: DodoEvents):
        self.backend = backend
        self.payments = payments
        self.psp = psp              # core.psp.MockPsp whose pages live under /psp/dodo/
        self.events = events
        # What else a payment's move sets off, each `(ns, payment, previous_status)` under
        # ns.lock: `before_emit` may still change the payment (a subscription names itself on it
        # before payment.succeeded goes out), `after_emit` follows the payment's own event
        # (license keys are issued once the payment is told).
        self.before_emit: list[Callable] = []
        self.after_emit: list[Callable] = []
        # What other areas add to the rendered Payment, each `(ns, payment, rendered)` changing
        # `rendered` in place (refunds[] and refund_status, disputes[]).
        self.renderers: list[Callable] = []
        # Each `(ns, session)` whose checkout got its first payment (abandoned checkouts look
        # again later: a session without a payment has nothing to abandon).
        self.opened: list[Callable] = []
        payments.on("dodo", self.on_event, self.expired)
        payments.add_resolver(self.resolve)

    # -- opening a payment -------------------------------------------------------------------
    def open_confirmed(self, ns: Namespace, session: dict, payment_id: str) -> dict:
        """confirm=true: the payment exists from creation, every detail already given."""
        return self._create(ns, session, payment_id)

    def start(self, ns: Namespace, session: dict, customer: dict, billing: dict | None) -> dict:
        """The buyer submitted the details form: reprice for their address, open the payment and
        its PSP checkout. Raises ApiError (Dodo's rules) or core.psp.PspError."""
        with ns.lock:
            _refreshed(ns, session)
            body = copy.deepcopy(session["request"])  # what the buyer typed reprices; the
            if not (body.get("customer") or {}).get("customer_id"):  # request stays as sent
                body["customer"] = {k: v for k, v in customer.items() if v is not None}
            if billing is not None:
                body["billing_address"] = billing
            session["pricing"] = self.backend.preview_session(ns, body)
            session["customer"] = dict(session["customer"] or {}, **{
                k: v for k, v in customer.items() if v is not None})
            session["billing_address"] = body.get("billing_address")
            payment = self.payments.get(ns, session["payment_id"]) if session["payment_id"] else None
            if payment is None or payment["status"] == core_payments.CANCELLED:
                payment = self._create(ns, session, ids.prefixed("pay", 21))
            elif payment["status"] != core_payments.SUCCEEDED:
                self._refresh(ns, session, payment)
            ns.save(SESSION, session["id"], session)
        if payment["psp_checkout_id"] is None:
            checkout = self.psp.create_checkout(
                {"payment_id": payment["id"], "amount": payment["amount"],
                 "currency": payment["currency"], "checkout_session_id": session["id"]}, ns.name)
            self.payments.attach_checkout(ns, payment, checkout["pspCheckoutId"],
                                          checkout["checkoutUrl"], checkout.get("declineReason"))
        return payment

    def ensure(self, ns: Namespace, session: dict, customer: dict | None = None) -> dict:
        """The session's live payment, opened with what is known (headless outcome scripting)."""
        _refreshed(ns, session)
        payment = self.payments.get(ns, session["payment_id"]) if session["payment_id"] else None
        if payment is not None and payment["status"] != core_payments.CANCELLED:
            return payment  # a paid session stays paid: scripting it again is a 409
        given = session["customer"] or {}
        known = dict(DEFAULT_BUYER, **{k: v for k, v in given.items() if v})
        known.update({k: v for k, v in (customer or {}).items() if v})
        with ns.lock:
            session["customer"] = dict(given, **known)
            payment = self._create(ns, session, ids.prefixed("pay", 21))
            ns.save(SESSION, session["id"], session)
            return payment

    def resolve(self, obj_id: str, namespace: str | None, options: dict):
        """A checkout session id names its payment (opened now if the buyer never got that far)."""
        for ns, _, session in core_payments.find(self.payments.store, (SESSION,), obj_id, namespace,
                                                 include_expired=True):
            if ns.is_expired(SESSION, obj_id):
                raise core_payments.TransitionError(f"checkout session {obj_id} has expired")
            return ns, self.ensure(ns, session, options.get("customer"))
        return None

    def _create(self, ns: Namespace, session: dict, payment_id: str) -> dict:
        """Open a payment for the session; the caller saves the session (now naming it)."""
        quote = session["pricing"]
        payment = self.payments.create(
            ns, "dodo", quote["total_price"], quote["currency"],
            {"kind": SESSION, "id": session["id"]}, payment_id=payment_id,
            methods=_methods(session["request"]), data={})
        self._refresh(ns, session, payment)
        first = session["payment_status"] is None  # (a confirmed session names its id early)
        session["payment_id"] = payment["id"]
        session["payment_status"] = STATUS[payment["status"]]
        if first:
            for hook in self.opened:
                hook(ns, session)
        return payment

    def _refresh(self, ns: Namespace, session: dict, payment: dict) -> None:
        """Bring the payment in line with the session's price and buyer, and save it."""
        request, quote = session["request"], session["pricing"]
        payment.update(amount=quote["total_price"], currency=quote["currency"])
        billing = session.get("billing_address") or request.get("billing_address") \
            or {"country": quote["billing_country"]}
        payment["data"].update(
            checkout_session_id=session["id"], customer=self._customer(ns, session),
            billing=dict(billing), metadata=dict(request.get("metadata") or {}),
            tax=quote["total_tax"], is_recurring=any(i["is_subscription"] for i in quote["product_cart"]),
            product_cart=[{"product_id": i["product_id"], "quantity": i["quantity"]}
                          for i in quote["product_cart"]],
            product_ids=[i["product_id"] for i in quote["product_cart"]],
            payment_link=self.backend._checkout_url(session["id"]))
        ns.save(core_payments.PAYMENT, payment["id"], payment)

    def _customer(self, ns: Namespace, session: dict) -> dict:
        """Dodo attaches every payment to a customer: the given one, or one found or made by email."""
        given = dict(session["customer"] or {})
        if given.get("customer_id"):
            found = ns.get(CUSTOMER, given["customer_id"])
            if found is not None:
                return _limited(found)
        email = given.get("email") or DEFAULT_BUYER["email"]
        flags = session["request"].get("feature_flags") or {}
        if not flags.get("always_create_new_customer"):
            for existing in ns.values(CUSTOMER):
                if existing["email"].lower() == email.lower():
                    return _limited(existing)
        created = self.backend.create_customer(ns, {
            "email": email, "name": given.get("name") or email.split("@")[0],
            "phone_number": given.get("phone_number")})
        given["customer_id"] = created["customer_id"]
        session["customer"] = given  # the next payment of this session finds them
        ns.save(SESSION, session["id"], session)
        return _limited(created)

    # -- the state machine's events ----------------------------------------------------------
    def on_event(self, ns: Namespace, payment: dict, previous: str) -> None:
        # The hooks first: a paid subscription checkout names its subscription on the payment
        # (saved by transition()), which the session then reports too.
        for hook in self.before_emit:
            hook(ns, payment, previous)
        if payment["ref"]["kind"] == SESSION:
            session = ns.get(SESSION, payment["ref"]["id"], include_expired=True)
            if session is not None and session.get("payment_id") == payment["id"]:
                session["payment_status"] = STATUS[payment["status"]]
                session["subscription_id"] = payment["data"].get("subscription_id")
                ns.save(SESSION, session["id"], session)
        event = EVENTS.get(payment["status"])
        if event:
            self.events.emit(ns, event, "Payment", self.render(ns, payment))
        for hook in self.after_emit:
            hook(ns, payment, previous)

    def expired(self, ns: Namespace, payment: dict) -> bool:
        """A checkout's payment ends with its session; any other (a subscription's renewal,
        charged off-session and left failed until recovered) has no session to outlive."""
        if payment["ref"]["kind"] != SESSION:
            return False
        return ns.get(SESSION, payment["ref"]["id"]) is None

    # -- reading -----------------------------------------------------------------------------
    def get(self, ns: Namespace, payment_id: str) -> dict:
        payment = self.payments.get(ns, payment_id)
        if payment is None or payment.get("provider") != "dodo":
            raise not_found("Payment not found")
        return self.render(ns, payment)

    def list(self, ns: Namespace, query: dict) -> dict:
        created_between = paging.created_between(query)
        rows = []
        for payment in ns.values(core_payments.PAYMENT):
            if payment.get("provider") != "dodo":
                continue
            data = payment["data"]
            if (query.get("status") not in (None, STATUS[payment["status"]])
                    or query.get("customer_id") not in (None, data["customer"]["customer_id"])
                    or query.get("subscription_id") not in (None, data.get("subscription_id"))
                    or query.get("currency") not in (None, payment["currency"])
                    or query.get("brand_id") not in (None, self.backend.business_id)
                    or (query.get("product_id") and query["product_id"] not in data["product_ids"])
                    or not created_between(payment["created_at"])):
                continue
            rows.append(payment)
        rows.sort(key=lambda p: (p["created_at"], p["id"]), reverse=True)
        return {"items": [self._list_item(ns, p) for p in paging.page(rows, query)]}

    def render(self, ns: Namespace, payment: dict) -> dict:
        data, card = payment["data"], payment.get("card") or {}
        business = self.backend.business_id
        rendered = {
            "payment_id": payment["id"], "business_id": business, "brand_id": business,
            "status": STATUS[payment["status"]], "total_amount": payment["amount"],
            "currency": payment["currency"], "tax": data.get("tax"),
            "settlement_amount": payment["amount"], "settlement_currency": payment["currency"],
            "settlement_tax": data.get("tax"), "customer": data["customer"],
            "billing": data["billing"], "metadata": data["metadata"], "disputes": [],
            "refunds": [], "refund_status": None,
            "is_update_payment_method": bool(data.get("is_update_payment_method")),
            "digital_products_delivered": False, "payment_provider": "dodo",
            "retry_attempt": data.get("retry_attempt", 0),
            "checkout_session_id": data.get("checkout_session_id"),
            "created_at": payment["created_at"], "updated_at": payment["updated_at"],
            "error_code": payment["reason"] if payment["status"] == "failed" else None,
            "error_message": payment["reason_message"] if payment["status"] == "failed" else None,
            "payment_method": _method(payment), "payment_method_id": data.get("payment_method_id"),
            "payment_method_type": card.get("network", "").lower() or None,
            "card_last_four": card.get("last4"), "card_network": card.get("network"),
            "card_type": card.get("type"), "card_issuing_country": card.get("country"),
            "card_holder_name": data.get("card_holder_name"),
            "payment_link": data.get("payment_link"), "product_cart": data["product_cart"],
            "subscription_id": data.get("subscription_id"), "discount_id": None,
            "discounts": None, "custom_field_responses": None, "invoice_id": data.get("invoice_id"),
            "invoice_url": None,
        }
        for extend in self.renderers:
            extend(ns, payment, rendered)
        return rendered

    def _list_item(self, ns: Namespace, payment: dict) -> dict:
        full = self.render(ns, payment)
        keep = ("payment_id", "total_amount", "currency", "customer", "created_at", "brand_id",
                "digital_products_delivered", "metadata", "payment_provider", "status",
                "subscription_id", "card_last_four", "card_network", "payment_method",
                "payment_method_type", "invoice_id", "invoice_url", "refund_status")
        disputes = full["disputes"]  # the most recent one's status, None without any
        # has_license_key: set by license_keys.LicenseKeys.mark_payment when it bought keys
        return dict({k: full[k] for k in keep},
                    has_license_key=bool(payment["data"].get("has_license_key")),
                    dispute_status=disputes[-1]["dispute_status"] if disputes else None)


def _refreshed(ns: Namespace, session: dict) -> None:
    """Bring a copy of the session up to date (under ns.lock: another request may have opened
    its payment since the copy was read)."""
    current = ns.get(SESSION, session["id"], include_expired=True)
    if current is not None:
        session.clear()
        session.update(current)


def _limited(customer: dict) -> dict:
    return {"customer_id": customer["customer_id"], "name": customer["name"],
            "email": customer["email"], "phone_number": customer.get("phone_number"),
            "metadata": customer.get("metadata") or {}}


def _method(payment: dict) -> str | None:
    return {"card": "card", "upi_collect": "upi_collect"}.get(payment.get("method"))


def _methods(request: dict) -> list[str]:
    allowed = request.get("allowed_payment_method_types")
    methods = ["card"]
    if allowed is None or any(m in allowed for m in ("upi_collect", "upi_intent")):
        methods.append("upi")
    return methods


__all__ = ["DodoPayments", "STATUS", "EVENTS", "ApiError"]
