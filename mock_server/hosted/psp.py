"""The fake PSP payment page both providers hand buyers to: test cards, UPI, 3DS, cancel.

The page speaks only to core payments; where the buyer goes afterwards is the provider's call
(its `Provider.payment_pages`: describe, finish, after_failure, cancelled).
"""
from __future__ import annotations

from flask import current_app, redirect, request, url_for

from ..core import cards
from ..core.payments import PAYMENT, PSP_CHECKOUT, TransitionError, display_amount
from . import bp
from .pages import core, expired, not_found, page, payments


def _pages_of(provider: str):
    for candidate in current_app.extensions["paymock.providers"]:
        if candidate.name == provider:
            return candidate.payment_pages
    return None


def _load(provider: str, checkout_id: str):
    pages = _pages_of(provider)
    if pages is None:
        return None, None, None, not_found("payment page")
    payments().sweep()
    ns, payment = payments().locate(checkout_id, kinds=(PSP_CHECKOUT,))
    if payment is None or payment["provider"] != provider:
        return None, None, None, not_found("payment page")
    return pages, ns, payment, None


def _after(pages, ns, payment: dict, checkout_id: str, provider: str):
    """Where the buyer goes once the PSP has an answer."""
    status = payment["status"]
    if status == "requires_customer_action":
        return redirect(url_for("hosted.psp_challenge", provider=provider, checkout_id=checkout_id), 303)
    if status == "cancelled":
        if payment["reason"] == "SESSION_EXPIRED":
            return expired(pages.describe(ns, payment)["theme"])
        return pages.cancelled(ns, payment)
    if status == "succeeded":
        return pages.finish(ns, payment) or _back(provider, checkout_id)
    if status == "failed":
        return pages.after_failure(ns, payment) or _back(provider, checkout_id)
    return _back(provider, checkout_id)


def _back(provider: str, checkout_id: str):
    return redirect(url_for("hosted.psp_page", provider=provider, checkout_id=checkout_id), 303)


def _render(pages, ns, payment: dict, provider: str, checkout_id: str, error: str | None = None,
            status: int = 200, template: str = "psp.html"):
    info = pages.describe(ns, payment)
    if error is None and payment["status"] == "failed":
        error = f"{payment['reason_message']} Try another card."
    return page(template, status, title="Pay", info=info, payment=payment, error=error,
                provider=provider, checkout_id=checkout_id, theme=info["theme"],
                amount=display_amount(payment["amount"], payment["currency"]),
                upi="upi" in payment["methods"])


@bp.get("/psp/<provider>/<checkout_id>")
def psp_page(provider: str, checkout_id: str):
    pages, ns, payment, answer = _load(provider, checkout_id)
    if answer is not None:
        return answer
    if payment["status"] in ("succeeded", "cancelled", "requires_customer_action"):
        return _after(pages, ns, payment, checkout_id, provider)
    return _render(pages, ns, payment, provider, checkout_id)


@bp.post("/psp/<provider>/<checkout_id>")
def psp_pay(provider: str, checkout_id: str):
    pages, ns, payment, answer = _load(provider, checkout_id)
    if answer is not None:
        return answer
    form = request.form
    now = core().clock.now_datetime()
    try:
        if form.get("method") == "upi" and "upi" in payment["methods"]:
            payments().pay_upi(ns, payment, cards.parse_vpa(form.get("vpa", "")))
        else:
            card = cards.parse_card(form.get("number", ""), form.get("expiry", ""),
                                    form.get("cvc", ""), now.year, now.month)
            # The expiry and holder name are kept for the saved payment method (Dodo lists
            # both). Stored before paying: the payment moves from its stored copy.
            month, year = cards.expiry_of(form["expiry"])
            extra = {"card_expiry": {"month": f"{month:02d}", "year": str(year)}}
            if form.get("name", "").strip():
                extra["card_holder_name"] = form["name"].strip()[:100]
            _keep(ns, payment, extra)
            payments().pay_card(ns, payment, card)
    except cards.InstrumentError as exc:
        return _render(pages, ns, payment, provider, checkout_id, str(exc), 422)
    except TransitionError:
        pass  # a second submit of a paid page: show where the payment stands
    return _after(pages, ns, payment, checkout_id, provider)


def _keep(ns, payment: dict, extra: dict) -> None:
    """Add `extra` to the stored payment's data (and to this copy)."""
    with ns.lock:
        current = ns.get(PAYMENT, payment["id"], include_expired=True)
        if current is not None:
            current["data"].update(extra)
            ns.save(PAYMENT, payment["id"], current)
    payment["data"].update(extra)


@bp.get("/psp/<provider>/<checkout_id>/3ds")
def psp_challenge(provider: str, checkout_id: str):
    pages, ns, payment, answer = _load(provider, checkout_id)
    if answer is not None:
        return answer
    if payment["status"] != "requires_customer_action":
        return _after(pages, ns, payment, checkout_id, provider)
    return _render(pages, ns, payment, provider, checkout_id, template="challenge.html")


@bp.post("/psp/<provider>/<checkout_id>/3ds")
def psp_challenge_answer(provider: str, checkout_id: str):
    pages, ns, payment, answer = _load(provider, checkout_id)
    if answer is not None:
        return answer
    try:
        payments().challenge(ns, payment, approved=request.form.get("decision") == "approve")
    except TransitionError:
        pass
    return _after(pages, ns, payment, checkout_id, provider)


@bp.post("/psp/<provider>/<checkout_id>/cancel")
def psp_cancel(provider: str, checkout_id: str):
    pages, ns, payment, answer = _load(provider, checkout_id)
    if answer is not None:
        return answer
    try:
        payments().cancel(ns, payment)
    except TransitionError:
        pass
    return _after(pages, ns, payment, checkout_id, provider)
