"""/_mock/waffo: register merchant public keys, list merchants, switch lenient mode, the public
key receivers verify paymock's webhooks with, Waffo's review of refund tickets, and the
customer's confirmation of a plan change."""
from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, request

from ...control.routes import ControlError
from ...core.errors import ApiError
from ...core.http import json_response
from . import own_products, webhooks

bp = Blueprint("waffo_control", __name__)
MERCHANT_ID = re.compile(r"^MER_[0-9A-Za-z]{22}$")


def _waffo():
    return current_app.extensions["paymock.waffo"]


def _body() -> dict:
    body = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _describe(merchant) -> dict:
    waffo = _waffo()
    return {"merchantId": merchant.merchant_id, "name": merchant.name, "fixture": merchant.fixture,
            "environments": sorted(merchant.keys),
            "namespace": waffo.gateway.namespace_name(merchant.merchant_id)}


@bp.get("/merchants")
def list_merchants():
    return json_response({"merchants": [_describe(m) for m in _waffo().registry.all()],
                         "lenient": _waffo().gateway.lenient})


@bp.post("/merchants")
def add_merchant():
    """{"merchantId": "MER_...", "publicKey": "<PEM>", "environment": "test"|"prod"}"""
    body = _body()
    merchant_id = body.get("merchantId")
    if not isinstance(merchant_id, str) or not MERCHANT_ID.match(merchant_id):
        raise ControlError("merchantId must be MER_ followed by 22 letters or digits "
                           "(the SDK refuses any other form)")
    public_key = body.get("publicKey")
    if not isinstance(public_key, str) or not public_key.strip():
        raise ControlError("publicKey must be the merchant's RSA public key in PEM form")
    environment = body.get("environment", "test")
    try:
        merchant = _waffo().registry.add_key(merchant_id, environment, public_key)
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    return json_response(_describe(merchant), 201)


@bp.get("/merchants/<merchant_id>")
def get_merchant(merchant_id: str):
    merchant = _waffo().registry.get(merchant_id)
    if merchant is None:
        raise ControlError(f"no merchant {merchant_id!r}", 404)
    return json_response(_describe(merchant))


@bp.post("/lenient")
def set_lenient():
    """{"enabled": true}: accept API-key requests from unknown merchants (never with --strict)."""
    enabled = _body().get("enabled")
    if not isinstance(enabled, bool):
        raise ControlError("enabled must be true or false")
    try:
        _waffo().gateway.set_lenient(enabled)
    except ValueError as exc:
        raise ControlError(str(exc), 409) from None
    return json_response({"lenient": _waffo().gateway.lenient})


@bp.get("/webhook-public-key")
def webhook_public_key():
    # Also GET /_mock/webhooks/public-key, for clients that know no provider's own URLs.
    return Response(webhooks.public_key_pem(), mimetype="application/x-pem-file")


@bp.post("/products")
def add_product():
    """A product with an id of the user's: {"id": "PROD_" + 22 letters or digits, "type":
    "onetime" | "subscription", "name", "prices": {"USD": {"amount": "29.00", "taxCategory":
    "ebook"}}, "billingPeriod" (subscription), "trialDays", "description", "metadata",
    "storeId" (default: the first store), "namespace" (default: the catalog, so every
    namespace with that store has it)}."""
    body = _body()
    namespace = body.pop("namespace", None)
    if namespace is not None and (not isinstance(namespace, str)
                                  or not namespace.startswith("waffo:")):
        raise ControlError("namespace must be a Waffo namespace (\"waffo:...\"; GET "
                           "/_mock/waffo/merchants lists them)")
    core = current_app.extensions["paymock"]
    waffo = _waffo()
    try:
        made = own_products.add(core.store, waffo.catalog, body, core.clock, namespace)
    except own_products.OwnProductError as exc:
        raise ControlError(str(exc)) from None
    except ApiError as exc:
        raise ControlError(exc.message, exc.status) from None
    return json_response(made, 201)


@bp.post("/plan-changes/<session_id>/confirm")
def confirm_plan_change(session_id: str):
    """The customer's click on the change page, for tests without a browser: the change is made
    now (its charge to the saved card) or scheduled for the next period, as the session says."""
    store = current_app.extensions["paymock"].store
    held = [n for n in store.holding(session_id) if n.startswith("waffo:")]
    if not held:
        raise ControlError(f"no Waffo namespace holds plan-change session {session_id!r}", 404)
    try:
        order = _waffo().backend.plan_changes.confirm(store.namespace(held[0]), session_id)
    except LookupError as exc:
        raise ControlError(str(exc).strip("'\""), 404) from None
    except ValueError as exc:
        raise ControlError(str(exc), 409) from None
    return json_response({"namespace": held[0], "orderId": order["orderId"],
                          "status": order["status"], "productId": order["productId"],
                          "scheduledProductId": (order["renewal"].get("scheduledPlan") or {})
                          .get("productId")})


@bp.post("/refund-review")
def set_refund_review():
    """How Waffo's review answers customers' refund tickets from now on, as each is made:
    {"action": "approve" (with "outcome": succeeded | failed) | "reject" (with "reason") |
    "manual" (the default: tickets wait for /refund-tickets/{id}/approve|reject),
    "namespace": one merchant's (default: every Waffo namespace)}."""
    body = _body()
    namespace = body.get("namespace") or "*"
    if namespace != "*" and (not isinstance(namespace, str) or not namespace.startswith("waffo:")):
        raise ControlError("namespace must be a Waffo namespace (\"waffo:...\"; GET "
                           "/_mock/waffo/merchants lists them)")
    try:
        rule = _waffo().backend.refund_tickets.set_rule(
            namespace, body.get("action"), body.get("outcome") or "succeeded", body.get("reason"))
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    return json_response({"namespace": namespace, **rule})


@bp.post("/refund-tickets/<ticket_id>/<action>")
def review_refund_ticket(ticket_id: str, action: str):
    """Waffo's review of a customer's refund ticket: `approve` (the refund executes and ends
    `outcome`: succeeded, the default, or failed) or `reject` (with `reason`)."""
    body = _body()
    store = current_app.extensions["paymock"].store
    name = body.get("namespace")
    if name is None:
        held = [n for n in store.holding(ticket_id) if n.startswith("waffo:")]
        if not held:
            raise ControlError(f"no Waffo namespace holds refund ticket {ticket_id!r}", 404)
        name = held[0]
    tickets = _waffo().backend.refund_tickets
    try:
        ticket = tickets.review(store.namespace(name), ticket_id, action, body.get("reason"),
                                body.get("outcome") or "succeeded")
    except LookupError as exc:
        raise ControlError(str(exc).strip("'\""), 404) from None
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    except ApiError as exc:
        raise ControlError(exc.message, exc.status) from None
    return json_response({"namespace": name, "ticket": ticket})
