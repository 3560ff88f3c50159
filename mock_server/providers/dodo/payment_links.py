"""`POST /payments` and `POST /subscriptions`: the API's older way to start a checkout, kept by the
vendor (the SDK's `payments.create` and `subscriptions.create`, both deprecated in favour of
checkout sessions).

Each is a confirmed checkout session underneath: the same rules (products, discounts, billing,
tax, the buyer attached or made by email), the same payment, the same hosted page, which is the
`payment_link` when the request asks for one (`payment_link: true`). The payment exists at once,
unpaid (`requires_payment_method` until the buyer pays on the link or the control API settles
it). A subscription's id is given now and kept for the subscription its first payment makes
(paymock's choice: there is no pending subscription to read before that payment; `GET
/subscriptions/{id}` answers 404 until it is paid).
"""
from __future__ import annotations

from ...core import ids
from ...core.request import Request
from ..base import handler
from .discounts import DISCOUNT
from .models import PAYMENT, SESSION

RESERVED = "reserved_subscription_id"  # on the session: the id its subscription will take


class PaymentLinks:
    def __init__(self, backend):
        self.backend = backend  # create_session, clock

    def create_payment(self, ns, body: dict) -> dict:
        session, answer = self._open(ns, body, {"product_cart": body["product_cart"]})
        return {
            "payment_id": answer["payment_id"], "client_secret": answer["client_secret"],
            "customer": self._customer(ns, answer["payment_id"]),
            "total_amount": session["pricing"]["total_price"],
            "payment_link": answer["checkout_url"] if body.get("payment_link") else None,
            "expires_on": session["expires_at"], "metadata": body.get("metadata") or {},
            "product_cart": [{k: item[k] for k in ("product_id", "quantity", "amount") if k in item}
                             for item in body["product_cart"]],
            **_discounts(ns, body),
        }

    def create_subscription(self, ns, body: dict) -> dict:
        line = {"product_id": body["product_id"], "quantity": body["quantity"]}
        if body.get("addons"):
            line["addons"] = body["addons"]
        cart = [line] + list(body.get("one_time_product_cart") or [])
        extra = {"product_cart": cart}
        if body.get("trial_period_days") is not None:
            extra["subscription_data"] = {"trial_period_days": body["trial_period_days"]}
        subscription_id = ids.prefixed("sub", 21)
        session, answer = self._open(ns, body, extra, subscription_id)
        quote = session["pricing"]
        recurring = quote["recurring_breakup"] or {"subtotal": 0, "discount": 0}
        return {
            "subscription_id": subscription_id, "payment_id": answer["payment_id"],
            "client_secret": answer["client_secret"],
            "customer": self._customer(ns, answer["payment_id"]),
            "recurring_pre_tax_amount": recurring["subtotal"] - recurring["discount"],
            "trial_amount": quote["trial_amount"],
            "payment_link": answer["checkout_url"] if body.get("payment_link") else None,
            "expires_on": session["expires_at"], "metadata": body.get("metadata") or {},
            "addons": [{"addon_id": a["addon_id"], "quantity": a["quantity"]}
                       for a in body.get("addons") or []],
            "one_time_product_cart": [{"product_id": i["product_id"], "quantity": i["quantity"]}
                                      for i in body.get("one_time_product_cart") or []] or None,
            **_discounts(ns, body),
        }

    def _open(self, ns, body: dict, extra: dict, subscription_id: str | None = None):
        """A confirmed checkout session for the request: (the stored session, create's answer)."""
        request = {key: body[key] for key in (
            "customer", "metadata", "return_url", "discount_code", "discount_codes", "tax_id",
            "allowed_payment_method_types", "billing_currency", "payment_method_id",
            "customer_business_name", "force_3ds", "show_saved_payment_methods") if key in body}
        request.update(extra, billing_address=body["billing"], confirm=True)
        answer = self.backend.create_session(ns, request)
        with ns.lock:
            session = ns.get(SESSION, answer["session_id"])
            if subscription_id is not None:
                session[RESERVED] = subscription_id
                ns.save(SESSION, session["id"], session)
        return session, answer

    @staticmethod
    def _customer(ns, payment_id: str) -> dict:
        """CustomerLimitedDetailsResponse of the payment's buyer."""
        payment = ns.get(PAYMENT, payment_id)
        customer = (payment or {}).get("data", {}).get("customer") or {}
        return {"customer_id": customer.get("customer_id"), "email": customer.get("email"),
                "name": customer.get("name"), "phone_number": customer.get("phone_number"),
                "metadata": customer.get("metadata") or {}}


def _discounts(ns, body: dict) -> dict:
    """discount_ids (and the deprecated discount_id, the first) of the codes the checkout took."""
    codes = body.get("discount_codes") or ([body["discount_code"]] if body.get("discount_code")
                                           else [])
    found = [ns.get(DISCOUNT, code.upper()) for code in codes]
    applied = [d["discount_id"] for d in found if d is not None]
    return {"discount_id": applied[0] if applied else None, "discount_ids": applied or None}


class PaymentLinkHandlers:
    def __init__(self, links: PaymentLinks):
        self.links = links

    @handler("create_one_time_payment_handler")
    def create_payment(self, req: Request):
        return self.links.create_payment(req.ns, req.body)

    @handler("create_subscription_handler")
    def create_subscription(self, req: Request):
        return self.links.create_subscription(req.ns, req.body)
