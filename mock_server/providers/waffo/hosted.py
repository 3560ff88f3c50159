"""Waffo's hosted checkout: the product and its frozen price, a billing form, then the order; and
the plan-change page, where the customer confirms a change (`.../store/{slug}/change/{id}`).

Submitting runs the real create-order rules (`WaffoBackend.create_order`) as the session's buyer,
with a session token the page issues for itself: the SDK's `#token=` fragment never reaches a
server, so the page cannot depend on it.
"""
from __future__ import annotations

import re

from flask import current_app, redirect, request

from ...core.contracts import RequestInvalid
from ...core.errors import ApiError
from ...hosted.pages import blueprint, countries, expired, leave, lookup, not_found, page
from ..base import PaymentPages
from .common import Caller

bp = blueprint("waffo_hosted", __name__)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OPERATIONS = {"onetime": "createOnetimeOrder", "subscription": "createSubscriptionOrder"}


def _waffo():
    return current_app.extensions["paymock.waffo"]


def theme_of(session: dict) -> str:
    return {True: "dark", False: "light"}.get(session.get("darkMode"), "system")


def _form_values(session: dict, form=None) -> dict:
    detail = session.get("billingDetail") or {}
    values = {"buyerEmail": session.get("buyerEmail") or "", "country": detail.get("country", ""),
              "state": detail.get("state", ""), "postcode": detail.get("postcode", ""),
              "isBusiness": bool(detail.get("isBusiness")),
              "businessName": detail.get("businessName", ""), "taxId": detail.get("taxId", "")}
    if form is not None:
        for name in ("buyerEmail", "country", "state", "postcode", "businessName", "taxId"):
            if name != "buyerEmail" or not session.get("buyerEmail"):
                values[name] = form.get(name, "").strip()[:200]
        values["isBusiness"] = form.get("isBusiness") == "on"
    return values


def _render(session: dict, values: dict, errors: list[str], status: int = 200):
    return page("waffo_checkout.html", status, title=f"Checkout: {session['productName']}",
                session=session, values=values, errors=errors, countries=countries(),
                theme=theme_of(session), email_locked=bool(session.get("buyerEmail")))


def _live_session(slug: str, session_id: str):
    ns, session, is_expired = lookup("checkout_session", session_id)
    if session is None or session.get("storeSlug") != slug:
        return None, None, not_found("checkout session")
    if is_expired:
        return None, None, expired(theme_of(session))
    return ns, session, None


@bp.get("/checkout/waffo/store/<slug>/checkout/<session_id>")
def waffo_checkout(slug: str, session_id: str):
    ns, session, answer = _live_session(slug, session_id)
    if answer is not None:
        return answer
    return _render(session, _form_values(session), [])


@bp.post("/checkout/waffo/store/<slug>/checkout/<session_id>")
def waffo_checkout_submit(slug: str, session_id: str):
    ns, session, answer = _live_session(slug, session_id)
    if answer is not None:
        return answer
    values = _form_values(session, request.form)
    email = values["buyerEmail"]
    if not EMAIL.match(email or ""):
        return _render(session, values, ["Enter a valid email address."], 422)
    detail = {"country": values["country"], "isBusiness": values["isBusiness"]}
    for name in ("state", "postcode", "businessName", "taxId"):
        if values[name]:
            detail[name] = values[name]
    body = {"checkoutSessionId": session_id, "billingDetail": detail, "buyerEmail": email}
    waffo = _waffo()
    kind = session["productType"]
    try:
        waffo.core.contracts["waffo"].validate_body(OPERATIONS[kind], body)
        result = waffo.backend.create_order(ns, _caller(session, email), body, kind)
    except RequestInvalid as exc:
        return _render(session, values, [exc.message], 422)
    except ApiError as exc:
        return _render(session, values, [exc.message], 502 if exc.status >= 500 else 422)
    return redirect(result["checkoutUrl"], 303)


# -- the plan-change confirmation page (plan_changes.py) ---------------------------------------
def _live_change(slug: str, session_id: str):
    ns, session, answer = _live_session(slug, session_id)
    if answer is None and session.get("mode") != "plan_change":
        return None, None, not_found("plan change")
    return ns, session, answer


def _render_change(ns, session: dict, errors: list[str], status: int = 200):
    preview = _waffo().backend.plan_changes.preview(ns, session)
    origin = preview["origin"]
    if not origin:
        return not_found("subscription")
    return page("waffo_change.html", status, title=f"Change plan: {session['productName']}",
                session=session, origin=origin, new_plan=preview["newPlan"],
                charge=preview["charge"], errors=errors, theme=theme_of(session),
                last4=(origin.get("renewal") or {}).get("card", {}).get("last4"))


@bp.get("/checkout/waffo/store/<slug>/change/<session_id>")
def waffo_change(slug: str, session_id: str):
    ns, session, answer = _live_change(slug, session_id)
    if answer is not None:
        return answer
    return _render_change(ns, session, [])


@bp.post("/checkout/waffo/store/<slug>/change/<session_id>")
def waffo_change_confirm(slug: str, session_id: str):
    ns, session, answer = _live_change(slug, session_id)
    if answer is not None:
        return answer
    try:
        order = _waffo().backend.plan_changes.confirm(ns, session_id)
    except (LookupError, ValueError) as exc:
        return _render_change(ns, session, [str(exc).strip("'\"")], 409)
    if session["changeTiming"] == "immediate" and order["productId"] != session["productId"]:
        return _render_change(ns, ns.get("checkout_session", session_id) or session,
                              ["Your card was declined; your plan has not changed."], 402)
    return leave(session.get("successUrl"), {}, "Plan changed" if order["productId"] ==
                 session["productId"] else "Plan change scheduled",
                 f"Subscription {order['orderId']} is on {order['productName']}"
                 + ("." if order["productId"] == session["productId"] else
                    f" until {order['currentPeriodEnd'][:10]}, then {session['productName']}."),
                 theme_of(session))


def _caller(session: dict, email: str) -> Caller:
    """The buyer, as a customer session token for this store would present them."""
    tokens = _waffo().backend.tokens
    token, _ = tokens.issue(session["merchantId"], session["storeId"], email)
    claims = tokens.verify(token)
    return Caller("session_token", claims.merchant_id, session["environment"],
                  store_id=claims.store_id, buyer_identity=claims.buyer_identity)


# -- what the PSP page asks of Waffo ----------------------------------------------------------
def _order(ns, payment: dict) -> dict:
    return ns.get("order", payment["ref"]["id"]) or {}


class WaffoPaymentPages(PaymentPages):
    """What the PSP page (hosted/psp.py) asks of Waffo's checkout."""

    def describe(self, ns, payment: dict) -> dict:
        order = _order(ns, payment)
        session = ns.get("checkout_session", payment["data"].get("sessionId"), include_expired=True) or {}
        return {"merchant": (ns.get("store", order.get("storeId", "")) or {}).get("name", "Waffo store"),
                "theme": theme_of(session), "lines": [order.get("productName", "")],
                "customer": order.get("buyerEmail"), "metadata": order.get("metadata") or {}}

    def finish(self, ns, payment: dict):
        order = _order(ns, payment)
        if payment["status"] == "succeeded":
            return leave(order.get("successUrl"), {}, "Payment successful",
                         f"Order {order.get('orderId')} is {order.get('status')}. You can close this page.")
        return None  # anything else: back to the PSP page, which says what happened

    def cancelled(self, ns, payment: dict):
        """Back to the store's checkout page, where the buyer may place a new order."""
        data = payment["data"]
        session = ns.get("checkout_session", data.get("sessionId"))
        if session is None:
            return expired()
        url = _waffo().backend._hosted_url(data.get("storeSlug"), data.get("sessionId"))
        return redirect(url, 303)

    def after_failure(self, ns, payment: dict):
        return None
