"""Dodo's hosted checkout: the order summary, a form for whatever the session lacks, then the PSP.

The summary is the session's own price calculation (providers/dodo/pricing.py); after the buyer's
address is in, `DodoPayments.start()` reprices for it with the same rules the API applies.
"""
from __future__ import annotations

import re

from flask import current_app, redirect, request

from ...core.errors import ApiError
from ...core.payments import display_amount
from ...core.psp import PspError
from ...hosted.pages import blueprint, countries, expired, leave, lookup, not_found, page, payments
from ..base import PaymentPages
from . import portal_pages
from .payments import STATUS

bp = blueprint("dodo_hosted", __name__)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ADDRESS = ("street", "city", "state", "zipcode")


def _dodo():
    return current_app.extensions["paymock.dodo"]


def theme_of(session: dict) -> str:
    theme = ((session["request"].get("customization") or {}).get("theme")) or "system"
    return theme if theme in ("dark", "light", "system") else "system"


def _fields(session: dict) -> list[dict]:
    """The form: what the session lacks, plus what its feature flags let the buyer edit."""
    request_body = session["request"]
    flags = request_body.get("feature_flags") or {}
    customer = session.get("customer") or {}
    billing = session.get("billing_address") or request_body.get("billing_address") or {}
    fields = []

    def add(name, label, value, required=True, kind="text", choices=None):
        editable = not value or flags.get(f"allow_customer_editing_{name}", False)
        fields.append({"name": name, "label": label, "value": value or "", "required": required,
                       "editable": editable, "kind": kind, "choices": choices})

    add("email", "Email", customer.get("email"), kind="email")
    add("name", "Full name", customer.get("name"))
    if flags.get("allow_phone_number_collection") or flags.get("require_phone_number"):
        add("phone_number", "Phone number", customer.get("phone_number"),
            required=bool(flags.get("require_phone_number")), kind="tel")
    add("country", "Country", billing.get("country"), kind="select", choices=countries())
    needed = ("zipcode",) if request_body.get("minimal_address") else ADDRESS
    labels = {"street": "Street address", "city": "City", "state": "State / province",
              "zipcode": "ZIP / postal code"}
    for name in ADDRESS:
        if name in needed or billing.get(name):
            add(name, labels[name], billing.get(name), required=name in needed)
    return fields


def _summary(session: dict) -> dict:
    quote = session["pricing"]
    currency = quote["currency"]
    items = [{"name": line.get("name") or line["product_id"], "quantity": line["quantity"],
              "unit": display_amount(line["og_price"], currency),
              "discount": display_amount(line["discount_amount"], currency)
              if line.get("discount_amount") else None,
              "subscription": line["is_subscription"]} for line in quote["product_cart"]]
    breakup = quote["current_breakup"]
    return {"currency": currency, "lines": items,
            "subtotal": display_amount(breakup["subtotal"], currency),
            "discount": display_amount(breakup["discount"], currency) if breakup["discount"] else None,
            "tax": display_amount(breakup["tax"], currency),
            "total": display_amount(breakup["total_amount"], currency),
            "trial_days": quote.get("trial_period_days"),
            "show_details": (session["request"].get("customization") or {}).get(
                "show_order_details", True) is not False,
            "metadata": session["request"].get("metadata") or {}}


def _render(session: dict, fields: list[dict], errors: list[str], status: int = 200):
    return page("dodo_checkout.html", status, title="Checkout", session=session,
                summary=_summary(session), fields=fields, errors=errors, theme=theme_of(session))


def _open(session_id: str):
    """(ns, session, None), or a page answering for an unknown or expired one in the last
    place."""
    ns, session, is_expired = lookup("session", session_id)
    if session is None:
        return None, None, not_found("checkout session")
    return ns, session, expired(theme_of(session)) if is_expired else None


@bp.get("/checkout/dodo/session/<session_id>")
def dodo_checkout(session_id: str):
    payments().sweep()
    ns, session, answer = _open(session_id)
    if answer is not None:
        return answer
    payment = payments().get(ns, session["payment_id"]) if session.get("payment_id") else None
    if payment is not None and payment["status"] == "succeeded":
        return PAGES.finish(ns, payment)
    return _render(session, _fields(session), [])


@bp.post("/checkout/dodo/session/<session_id>")
def dodo_checkout_submit(session_id: str):
    ns, session, answer = _open(session_id)
    if answer is not None:
        return answer
    fields = _fields(session)
    errors, values = [], {}
    for field in fields:
        value = request.form.get(field["name"], "").strip() if field["editable"] else field["value"]
        field["value"] = value
        if field["required"] and not value:
            errors.append(f"{field['label']} is required.")
        elif len(value) > 200:
            errors.append(f"{field['label']} is too long.")
        values[field["name"]] = value or None
    if values.get("email") and not EMAIL.match(values["email"]):
        errors.append("Enter a valid email address.")
    if values.get("country") and values["country"] not in countries():
        errors.append("Choose a country from the list.")
    if errors:
        return _render(session, fields, errors, 422)
    customer = {k: values.get(k) for k in ("email", "name", "phone_number")}
    billing = {k: values[k] for k in ("country", *ADDRESS) if values.get(k)}
    try:
        payment = _dodo().payments.start(ns, session, customer, billing)
    except ApiError as exc:
        return _render(session, fields, [exc.message], 422)
    except PspError:
        return _render(session, fields, ["The payment provider is unavailable. Try again in a "
                                         "moment."], 502)
    return redirect(payment["checkout_url"], 303)


# -- what the PSP page asks of Dodo -----------------------------------------------------------
def _session(ns, payment: dict) -> dict:
    session = ns.get("session", payment["ref"]["id"], include_expired=True)
    return {"request": {}} if session is None else session


class DodoPaymentPages(PaymentPages):
    """What the PSP page (hosted/psp.py) asks of Dodo's checkout."""

    def describe(self, ns, payment: dict) -> dict:
        session = _session(ns, payment)
        quote = session.get("pricing") or {"product_cart": []}
        return {"merchant": "Dodo Payments checkout", "theme": theme_of(session) if "id" in session
                else "system",
                "lines": [f"{line.get('name') or line['product_id']} × {line['quantity']}"
                          for line in quote["product_cart"]],
                "customer": (payment["data"].get("customer") or {}).get("name"),
                "metadata": payment["data"].get("metadata") or {}}

    def finish(self, ns, payment: dict):
        """After a final (or failed) outcome: Dodo sends the buyer to return_url with the status."""
        session = _session(ns, payment)
        status = payment["status"]
        params = {"payment_id": payment["id"], "status": STATUS[status]}
        if status == "succeeded" and payment["data"].get("subscription_id"):
            params = {"subscription_id": payment["data"]["subscription_id"], "status": "active"}
        license_keys = getattr(_dodo(), "license_keys", None)
        if license_keys is not None:  # a purchase that issued license keys names them
            params.update(license_keys.return_params(ns, payment))
        heading = {"succeeded": "Payment successful", "failed": "Payment failed",
                   "cancelled": "Payment cancelled"}.get(status, "Payment in progress")
        # A card given in the customer portal leads back to the portal.
        back = session["request"].get("return_url") or payment["data"].get("portal_url")
        return leave(back, params, heading,
                     payment.get("reason_message") or "You can close this page.", theme_of(session)
                     if "id" in session else "system")

    def cancelled(self, ns, payment: dict):
        session = _session(ns, payment)
        cancel_url = session["request"].get("cancel_url")
        if cancel_url:
            return leave(cancel_url, {}, "Payment cancelled", "You cancelled the payment.")
        return self.finish(ns, payment)

    def after_failure(self, ns, payment: dict):
        return self.finish(ns, payment)


PAGES = DodoPaymentPages()

portal_pages.register(bp)  # the customer portal's pages share this blueprint
