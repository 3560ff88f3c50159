"""The customer portal's hosted pages (`/customer-portal/dodo/session/<token>`), on the Dodo
hosted blueprint; what they show and do is customer_portal.py's.

Forms are plain POSTs, like the checkout pages', protected the same way: the unguessable session
token in the URL is the credential (never sent elsewhere: Referrer-Policy no-referrer, no external
asset), and a POST a browser says comes from another site (`Sec-Fetch-Site`, else `Origin`) is
refused (403), so a page elsewhere cannot make the customer's browser cancel a subscription.
Every value is escaped by Jinja.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, redirect, request, url_for

from ...core.errors import ApiError
from ...hosted.pages import core, is_web_url, lookup, page
from .customer_portal import PORTAL

NOTICES = {"cancelled": "The subscription is cancelled.",
           "scheduled": "The subscription will be cancelled at its next billing date."}


def _portal():
    return current_app.extensions["paymock.dodo"].portal


def _gone(heading: str, message: str):
    return page("message.html", 404, title="Customer portal", heading=heading, message=message)


def _open(token: str):
    """(ns, session, None), or (None, None, a 404 page saying why)."""
    ns, session, is_expired = lookup(PORTAL, token)
    if session is None:
        return None, None, _gone("Portal link not found",
                                 "This customer portal link is not valid. Ask the merchant for "
                                 "a new one.")
    if is_expired:
        return None, None, _gone("Portal link expired",
                                 "This customer portal link has expired (links last 24 hours). "
                                 "Ask the merchant for a new one.")
    return ns, session, None


def _foreign() -> bool:
    """A POST sent by a page of another site. Browsers say so in `Sec-Fetch-Site`; `Origin`
    is the fallback for those that do not (these pages' no-referrer policy makes a browser send
    `Origin: null` on their own forms, so null alone proves nothing either way)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = (request.headers.get("Origin") or "null").strip().lower()
    if origin == "null":
        return False
    public = urlsplit(core().url("/"))
    own = {request.host_url.rstrip("/").lower(), f"{public.scheme}://{public.netloc}".lower()}
    return origin not in own


def _render(ns, session, status: int = 200, error: str | None = None, notice: str | None = None):
    view = _portal().overview(ns, session)
    return page("dodo_portal.html", status, title="Customer portal", view=view,
                token=session["token"], error=error, notice=notice,
                return_url=view["return_url"] if is_web_url(view["return_url"]) else None)


def _refused():
    return page("message.html", 403, title="Refused", heading="Request refused",
                message="The customer portal accepts forms from its own pages only.")


def register(bp) -> None:
    """Add the portal's routes to the Dodo hosted blueprint (hosted.py calls it)."""
    for rule, methods, view in ROUTES:
        bp.add_url_rule(rule, view.__name__, view, methods=methods)


def dodo_portal(token: str):
    ns, session, answer = _open(token)
    if answer is not None:
        return answer
    return _render(ns, session, notice=NOTICES.get(request.args.get("done", "")))


def dodo_portal_cancel(token: str, sub_id: str):
    if _foreign():
        return _refused()
    ns, session, answer = _open(token)
    if answer is not None:
        return answer
    later = request.form.get("when") == "next_billing_date"
    try:
        _portal().cancel(ns, session, sub_id, at_next_billing_date=later)
    except ApiError as exc:
        return _render(ns, session, 404 if exc.status == 404 else 422, error=exc.message)
    return redirect(url_for("dodo_hosted.dodo_portal", token=token,
                            done="scheduled" if later else "cancelled"), 303)


def dodo_portal_new_card(token: str, sub_id: str):
    if _foreign():
        return _refused()
    ns, session, answer = _open(token)
    if answer is not None:
        return answer
    try:
        link = _portal().new_card(ns, session, sub_id)
    except ApiError as exc:
        return _render(ns, session, 404 if exc.status == 404 else 422, error=exc.message)
    return redirect(link, 303)


def dodo_portal_invoice(token: str, payment_id: str):
    ns, session, answer = _open(token)
    if answer is not None:
        return answer
    try:
        reply = _portal().invoice(ns, session, payment_id)
    except ApiError as exc:
        return _gone("Invoice not found", exc.message)
    return Response(reply.data, 200, content_type=reply.content_type, headers=reply.headers)


SESSION = "/customer-portal/dodo/session/<token>"
ROUTES = [(SESSION, ["GET"], dodo_portal),
          (f"{SESSION}/subscriptions/<sub_id>/cancel", ["POST"], dodo_portal_cancel),
          (f"{SESSION}/subscriptions/<sub_id>/payment-method", ["POST"], dodo_portal_new_card),
          (f"{SESSION}/invoices/<payment_id>", ["GET"], dodo_portal_invoice)]
