"""Dodo's customer portal: `POST /customers/{id}/customer-portal/session` gives a link to a hosted
page (portal_pages.py) where the customer sees their subscriptions and payments, cancels a
subscription (now or at the next billing date) and gives a new card.

A session is a random token stored for 24 hours of mock time (Dodo's links last 24 h:
../shared/reference/dodo-lifecycle.md section 6); the token in the URL is the only credential, as
the checkout pages' session ids are. Everything the portal changes goes through the same domain
code as the API: cancelling is Subscriptions.patch with the customer as `cancelled_by` and
`cancel_reason` cancelled_by_customer, so the same rules refuse and the same events go out; a new
card is Renewals.update_payment_method's PSP page.
"""
from __future__ import annotations

from ...core import ids
from ...core import payments as core_payments
from ...core.clock import iso
from ...core.payments import display_amount
from ...core.store import Namespace
from ...core.urls import url_problem
from .errors import invalid, not_found
from .models import CUSTOMER
from .subscriptions import ENDED, INTERNAL, customer_caller

PORTAL = "portal_session"
LIFETIME = 24 * 3600.0
CUSTOMER_REASON = "cancelled_by_customer"


class CustomerPortal:
    def __init__(self, backend, link):
        self.backend = backend
        self.clock = backend.clock
        self.link = link  # token -> the portal page's absolute URL

    # -- the API -------------------------------------------------------------------------------
    def create_session(self, ns: Namespace, customer_id: str, query: dict) -> dict:
        if ns.get(CUSTOMER, customer_id) is None:
            raise not_found("Customer not found")
        return_url = query.get("return_url")
        if return_url is not None:
            problem = url_problem(return_url)
            if problem is not None:
                raise invalid(f"return_url {problem}", "INVALID_REQUEST_PARAMETERS")
        now = self.clock.now()
        token = ids.base62(32)
        ns.put(PORTAL, token, {"token": token, "customer_id": customer_id,
                               "return_url": return_url,
                               # paymock sends no email; the flag is kept to be seen in state
                               "send_email": bool(query.get("send_email")),
                               "created_at": iso(now)}, expires_at=now + LIFETIME)
        return {"link": self.link(token)}

    # -- what the page shows -------------------------------------------------------------------
    def overview(self, ns: Namespace, session: dict) -> dict:
        customer = ns.get(CUSTOMER, session["customer_id"]) or {"customer_id": session["customer_id"]}
        subs = self.backend.subscriptions.of_customer(ns, session["customer_id"])
        subs.sort(key=lambda s: (s["created_at"], s["subscription_id"]), reverse=True)
        payments = self.backend.payments.list(
            ns, {"customer_id": session["customer_id"], "page_size": 100})["items"]
        return {"customer": customer, "return_url": session.get("return_url"),
                "subscriptions": [_subscription_row(sub) for sub in subs],
                "payments": [_payment_row(p) for p in payments]}

    # -- what the customer does ----------------------------------------------------------------
    def cancel(self, ns: Namespace, session: dict, sub_id: str, at_next_billing_date: bool) -> dict:
        """The API's PATCH, as the customer: cancelled now, or at the next billing date."""
        sub = self._own(ns, session, sub_id)
        body = {"cancel_reason": CUSTOMER_REASON}
        body.update({"cancel_at_next_billing_date": True} if at_next_billing_date
                    else {"status": "cancelled"})
        return self.backend.subscriptions.patch(ns, sub_id, body, by=customer_caller(sub))

    def new_card(self, ns: Namespace, session: dict, sub_id: str) -> str:
        """The update-payment-method flow with a new card: the PSP page's URL. Its result page
        leads back to the portal."""
        self._own(ns, session, sub_id)
        answer = self.backend.renewals.update_payment_method(ns, sub_id, {"type": "new"})
        with ns.lock:
            payment = ns.get(core_payments.PAYMENT, answer["payment_id"])
            if payment is not None:
                payment["data"]["portal_url"] = self.link(session["token"])
                ns.save(core_payments.PAYMENT, payment["id"], payment)
        return answer["payment_link"]

    def invoice(self, ns: Namespace, session: dict, payment_id: str):
        """The invoice PDF (a Reply) of one of this customer's payments."""
        payment = ns.get(core_payments.PAYMENT, payment_id)
        if payment is None or (payment["data"].get("customer") or {}).get("customer_id") \
                != session["customer_id"]:
            raise not_found("Payment not found")
        return self.backend.invoices.for_payment(ns, payment_id)

    @staticmethod
    def _own(ns: Namespace, session: dict, sub_id: str) -> dict:
        sub = ns.get("subscription", sub_id)
        if sub is None or sub["customer"]["customer_id"] != session["customer_id"]:
            raise not_found("Subscription not found")
        return sub


def _subscription_row(sub: dict) -> dict:
    extra = sub[INTERNAL]
    return {"id": sub["subscription_id"], "status": sub["status"],
            "plan": extra.get("product_name") or sub["product_id"],
            "amount": f"{sub['currency']} {display_amount(extra['amount'], sub['currency'])}",
            "every": f"{sub['payment_frequency_count']} {sub['payment_frequency_interval']}",
            "next_billing_date": None if sub["status"] in ENDED else sub["next_billing_date"],
            "cancel_scheduled": sub["cancel_at_next_billing_date"],
            "cancelled_at": sub.get("cancelled_at"),
            "can_cancel": sub["status"] not in ENDED,
            "can_update_method": sub["status"] in ("active", "on_hold", "past_due")}


def _payment_row(payment: dict) -> dict:
    currency = payment["currency"]
    return {"id": payment["payment_id"], "date": payment["created_at"],
            "amount": f"{currency} {display_amount(payment['total_amount'], currency)}",
            "status": payment.get("status") or "processing",
            "invoice": payment.get("status") == "succeeded"}
