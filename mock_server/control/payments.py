"""/_mock/payments: drive a payment's outcome without a browser, read payments, list test cards.

    POST /_mock/payments/{id}/outcome {"outcome": "declined", "reason": "insufficient_funds"}

`id` is a payment id, a PSP checkout id, or the id of what a provider's payment is for, which the
provider resolves (core/payments.py, `Payments.resolve`): a checkout session (its payment opened
if the buyer never reached the payment step), an order.
"""
from __future__ import annotations

from flask import Blueprint, current_app, request

from ..core import cards
from ..core.http import json_response
from ..core.payments import OUTCOMES, PAYMENT, TransitionError
from .routes import ControlError, _json

bp = Blueprint("control_payments", __name__)


def _payments():
    return current_app.extensions["paymock.payments"]


def _describe(ns, payment: dict) -> dict:
    out = _payments().snapshot(payment)
    out["namespace"] = ns.name
    return out


def _find(obj_id: str, namespace: str | None, **options):
    try:
        ns, payment = _payments().resolve(obj_id, namespace, **options)
    except TransitionError as exc:
        raise ControlError(str(exc), 409) from None
    if payment is None:
        raise ControlError(f"no payment, checkout session or order {obj_id!r}"
                           + (f" in {namespace}" if namespace else "") + "; a checkout session "
                           "may have no payment until create-order places an order", 404)
    return ns, payment


@bp.post("/payments/<obj_id>/outcome")
def outcome(obj_id: str):
    body = _json()
    wanted = body.get("outcome")
    if wanted not in OUTCOMES:
        raise ControlError(f"outcome must be one of {list(OUTCOMES)}, got {wanted!r}")
    reason = body.get("reason")
    if reason is not None:
        if not isinstance(reason, str):
            raise ControlError("reason must be a string such as \"insufficient_funds\"")
        try:
            cards.reason_code(reason)
        except ValueError as exc:
            raise ControlError(str(exc)) from None
    customer = body.get("customer")
    if customer is not None and (not isinstance(customer, dict) or not all(
            isinstance(customer.get(k), str) for k in ("email", "name") if k in customer)):
        raise ControlError("customer must be an object such as {\"email\": ..., \"name\": ...}")
    namespace = body.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise ControlError("namespace must be a string")
    payments = _payments()
    payments.sweep()  # an expired checkout is cancelled before anyone can pay it
    ns, payment = _find(obj_id, namespace, customer=customer)
    try:
        payments.script(ns, payment, wanted, reason)
    except TransitionError as exc:
        raise ControlError(str(exc), 409) from None
    return json_response({"payment": _describe(ns, payment)})


@bp.get("/payments")
def list_payments():
    core = current_app.extensions["paymock"]
    namespace = request.args.get("namespace")
    names = [namespace] if namespace else core.store.names()
    found = []
    for name in names:
        ns = core.store.find(name)
        if ns is not None:
            found.extend(_describe(ns, p) for p in ns.values(PAYMENT) if "provider" in p)
    found.sort(key=lambda p: p["created_at"])
    return json_response({"payments": found})


@bp.get("/payments/<obj_id>")
def get_payment(obj_id: str):
    ns, payment = _payments().locate(obj_id, namespace=request.args.get("namespace"))
    if payment is None:  # reading never opens a payment, unlike scripting an outcome
        raise ControlError(f"no payment or PSP checkout {obj_id!r}", 404)
    return json_response({"payment": _describe(ns, payment)})


@bp.get("/cards")
def test_cards():
    return json_response({
        "cards": [{"number": c.number, "network": c.network, "outcome": c.outcome,
                   "reason": c.reason, "country": c.country, "label": c.label}
                  for c in cards.CARDS.values()],
        "upi": [{"vpa": vpa, "outcome": outcome} for vpa, outcome in cards.UPI.items()],
        "reasons": cards.REASONS, "outcomes": list(OUTCOMES),
    })
