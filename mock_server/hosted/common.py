"""What every hosted page needs: finding objects by the id in the URL, rendering, redirects."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app, redirect, render_template

from ..core import payments as core_payments
from ..core.cards import CARDS, UPI

# A country list for the billing forms: the Dodo contract's ISO 3166-1 alpha-2 enum.
_COUNTRIES: list[str] | None = None


def core():
    return current_app.extensions["paymock"]


def payments() -> core_payments.Payments:
    return current_app.extensions["paymock.payments"]


def countries() -> list[str]:
    global _COUNTRIES
    if _COUNTRIES is None:
        schemas = core().contracts["dodo"].document["components"]["schemas"]
        _COUNTRIES = sorted(schemas["CountryCodeAlpha2"]["enum"])
    return _COUNTRIES


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
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


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
        return redirect(with_params(url, params), 303)
    return page("message.html", status, title=heading, heading=heading, message=message,
                details=params, theme=theme)
