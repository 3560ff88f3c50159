"""What every hosted page needs: a blueprint with the pages' security headers and error page,
finding objects by the id in the URL, rendering, redirects. Providers build their checkout pages
on it (providers/<name>/hosted.py); the PSP page (hosted/psp.py) too."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from ..core import payments as core_payments
from ..core.cards import CARDS, UPI
from ..core.urls import url_problem


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "form-action 'self' http: https:; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint for hosted pages, with its package's templates/ folder (the shared layout,
    base.html and message.html, comes from hosted/templates)."""
    bp = Blueprint(name, import_name, template_folder="templates")

    @bp.after_request
    def _security_headers(response):
        for header, value in SECURITY_HEADERS.items():
            response.headers[header] = value
        return response

    @bp.errorhandler(Exception)
    def _unexpected(exc):
        # A buyer sees a page, never a traceback or a JSON body; details go to the server log.
        if isinstance(exc, HTTPException):
            return exc
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_template("message.html", title="Error", theme="system",
                               heading="Something went wrong",
                               message="The checkout hit an unexpected error. Try again."), 500

    return bp


def core():
    return current_app.extensions["paymock"]


def payments() -> core_payments.Payments:
    return current_app.extensions["paymock.payments"]


def countries() -> list[str]:
    """The billing forms' country list: every ISO 3166-1 alpha-2 code some provider lists
    (Provider.billing_countries), worked out once per app."""
    found = current_app.extensions.get("paymock.billing_countries")
    if found is None:
        found = sorted({code for provider in current_app.extensions["paymock.providers"]
                        for code in provider.billing_countries(core())})
        current_app.extensions["paymock.billing_countries"] = found
    return found


def lookup(kind: str, obj_id: str):
    """(namespace, object, expired) for an id from a URL, in whichever namespace holds it."""
    for ns, _, obj in core_payments.find(core().store, (kind,), obj_id, include_expired=True):
        return ns, obj, ns.is_expired(kind, obj_id)
    return None, None, False


def page(template: str, status: int = 200, **context):
    context.setdefault("theme", "light")
    context.setdefault("test_cards", list(CARDS.values()))
    context.setdefault("test_upi", list(UPI))
    return render_template(template, **context), status


def not_found(what: str):
    return page("message.html", 404, title="Not found", heading="Checkout not found",
                message=f"There is no {what} at this address. Check the link you were given.")


def expired(theme: str = "light"):
    return page("message.html", 410, title="Checkout expired", heading="This checkout has expired",
                message="The checkout session expired before the payment was completed. Go back "
                        "to the store and start again.", theme=theme)


def is_web_url(url: str | None) -> bool:
    """An http(s) URL the buyer can be sent to: a valid host and port (core/urls.py). A stored
    URL that is not (a state file from before URLs were checked) is never redirected to."""
    return url_problem(url) is None


def with_params(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def leave(url: str | None, params: dict, heading: str, message: str, theme: str = "light",
          status: int = 200):
    """Send the buyer back to the merchant, but only to a web URL: anything else (javascript:,
    data:, a custom scheme) gets a result page instead, so the page never becomes a redirector
    to arbitrary schemes."""
    if is_web_url(url):
        try:
            return redirect(with_params(url, params), 303)
        except ValueError:  # whatever the URL holds, the buyer gets the result page, not a 500
            current_app.logger.warning("not redirecting to %r: not a usable URL", url)
    return page("message.html", status, title=heading, heading=heading, message=message,
                details=params, theme=theme)
