"""/_mock/dodo: what the card network and the bank do that Dodo's API cannot ask for.

    POST /_mock/dodo/disputes {payment_id, amount?, reason?, stage?, remarks?, namespace?}
         -> 201 {"dispute": GetDispute}: the customer disputes a succeeded payment
    POST /_mock/dodo/disputes/{dispute_id}/{challenge|accept|cancel|expire|win|lose}
         {stage?, remarks?, namespace?} -> 200 {"dispute": ...}
    POST /_mock/dodo/refunds/outcome {outcome: succeeded|failed|pending|review, times?, namespace}
         -> how the namespace's next refunds end (default: succeeded at once)
    POST /_mock/dodo/refunds/{refund_id}/{succeed|fail} {namespace?} -> a pending (or review) refund ends
    POST /_mock/dodo/entitlement_grants/outcome {namespace, outcome: failed|delivered, times?,
         error_code?, error_message?} -> how the namespace's next automatic deliveries end
    POST /_mock/dodo/entitlement_grants/{grant_id}/{deliver|fail} {namespace?}
         -> 200 {"entitlement_grant": ...}: the customer connected their Discord, GitHub, ...
         account to a pending grant (or could not): entitlement_grant.delivered / .failed
    GET  /_mock/dodo/payouts/balance?namespace=&currency= -> what a payout would pay now
    POST /_mock/dodo/payouts {namespace, amount?, currency?, remarks?}
         -> 201 {"payout": PayoutsResponse}: Dodo pays the balance (or amount) out (payout.created)
    POST /_mock/dodo/payouts/{payout_id}/{hold|process|fail|succeed} {remarks?, namespace?}
         -> 200 {"payout": ...}: on_hold, in_progress, failed, success (payout.<status>)
    POST /_mock/dodo/credits/usage {namespace, customer_id, credit_entitlement_id, units, reason?}
         -> 200 {"entries": [CreditLedgerEntry], "balance": ...}: usage spends the customer's
         credits (credit.deducted, credit.overage_charged, credit.balance_low)

`namespace` may be left out when the payment, dispute or refund id names an object the server
holds. Bad input is a 400, an unknown object a 404, a move the state refuses a 409.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, request

from ...control.routes import ControlError
from ...core.contracts import RequestInvalid
from ...core.errors import ApiError
from ...core.http import json_response
from .disputes import DisputeError
from .payouts import PayoutError
from .refunds import RefundStateError

bp = Blueprint("dodo_control", __name__)
PRODUCT_ID = re.compile(r"^pdt_[0-9A-Za-z]{1,64}$")
SETTLE = {"succeed": "succeeded", "fail": "failed"}


def _backend():
    return current_app.extensions["paymock.dodo"]


def _body() -> dict:
    body = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _namespace(body: dict, obj_id: str | None):
    store = current_app.extensions["paymock"].store
    name = body.get("namespace")
    if name is not None:
        if not isinstance(name, str) or not name.startswith("dodo:"):
            raise ControlError("namespace must be a Dodo namespace such as "
                               "\"dodo:1f2e3d4c5b6a7988\" (GET /_mock/namespaces lists them)")
        return store.namespace(name)
    held = [n for n in store.holding(obj_id) if n.startswith("dodo:")] if obj_id else []
    if not held:
        raise ControlError(f"no Dodo namespace holds {obj_id!r}: give namespace", 404)
    return store.namespace(held[0])


def _run(call):
    try:
        return call()
    except (DisputeError, RefundStateError, PayoutError) as exc:
        raise ControlError(str(exc), 409) from None
    except LookupError as exc:
        raise ControlError(str(exc).strip("'\""), 404) from None
    except ApiError as exc:
        raise ControlError(f"{exc.code}: {exc.message}", exc.status) from None
    except ValueError as exc:
        raise ControlError(str(exc)) from None


def _optional_str(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ControlError(f"{name} must be a string")
    return value


@bp.post("/products")
def add_product():
    """A product with an id of the user's: the body of Dodo's POST /products (checked by its
    contract), with `product_id` (pdt_...) and `namespace` (one namespace; without it the
    catalog, so every Dodo namespace has it, those that exist and those made later)."""
    body = _body()
    product_id = body.pop("product_id", None)
    if not isinstance(product_id, str) or not PRODUCT_ID.match(product_id):
        raise ControlError("product_id must be pdt_ followed by letters or digits, e.g. "
                           "\"pdt_MyEbook2026\": the id your code uses")
    namespace = body.pop("namespace", None)
    if namespace is not None and (not isinstance(namespace, str)
                                  or not namespace.startswith("dodo:")):
        raise ControlError("namespace must be a Dodo namespace such as \"dodo:1f2e3d4c5b6a7988\"")
    core = current_app.extensions["paymock"]
    try:
        core.contracts["dodo"].validate_body("create_product", body)
    except RequestInvalid as exc:
        raise ControlError(f"not a product Dodo's POST /products would take: {exc.message}") \
            from None
    backend = _backend()
    made = _run(lambda: backend.products.add_own(core.store, backend.catalog, body, product_id,
                                                  namespace))
    return json_response(made, 201)


@bp.post("/disputes")
def open_dispute():
    body = _body()
    payment_id = body.get("payment_id")
    if not isinstance(payment_id, str):
        raise ControlError("payment_id must name a succeeded payment, e.g. \"pay_...\"")
    ns = _namespace(body, payment_id)
    dispute = _run(lambda: _backend().disputes.open(
        ns, payment_id, body.get("amount"), _optional_str(body, "reason"),
        body.get("stage") or "dispute", _optional_str(body, "remarks")))
    return json_response({"namespace": ns.name, "dispute": dispute}, 201)


@bp.post("/disputes/<dispute_id>/<action>")
def move_dispute(dispute_id: str, action: str):
    body = _body()
    ns = _namespace(body, dispute_id)
    dispute = _run(lambda: _backend().disputes.move(
        ns, dispute_id, action, body.get("stage"), _optional_str(body, "remarks")))
    return json_response({"namespace": ns.name, "dispute": dispute})


@bp.post("/refunds/outcome")
def refund_outcome():
    body = _body()
    if body.get("namespace") is None:
        raise ControlError("namespace is required: the outcome holds for that namespace's refunds")
    ns = _namespace(body, None)
    scripted = _run(lambda: _backend().refunds.script_outcome(ns, body.get("outcome"),
                                                              body.get("times")))
    return json_response({"namespace": ns.name, **scripted})


@bp.post("/refunds/<refund_id>/<action>")
def settle_refund(refund_id: str, action: str):
    if action not in SETTLE:
        raise ControlError(f"unknown refund action {action!r}; use succeed or fail", 404)
    body = _body()
    ns = _namespace(body, refund_id)
    refund = _run(lambda: _backend().refunds.settle(ns, refund_id, SETTLE[action]))
    return json_response({"namespace": ns.name, "refund": refund})


@bp.get("/payouts/balance")
def payout_balance():
    args = {"namespace": request.args.get("namespace")}
    if args["namespace"] is None:
        raise ControlError("namespace is required: a balance is a namespace's")
    ns = _namespace(args, None)
    balance = _run(lambda: _backend().payouts.balance(ns, request.args.get("currency") or "USD"))
    return json_response({"namespace": ns.name, **balance})


@bp.post("/payouts")
def create_payout():
    body = _body()
    if body.get("namespace") is None:
        raise ControlError("namespace is required: the payout pays that namespace's balance")
    ns = _namespace(body, None)
    payout = _run(lambda: _backend().payouts.create(
        ns, body.get("amount"), body.get("currency"), _optional_str(body, "remarks")))
    return json_response({"namespace": ns.name, "payout": payout}, 201)


@bp.post("/payouts/<payout_id>/<action>")
def move_payout(payout_id: str, action: str):
    body = _body()
    ns = _namespace(body, payout_id)
    payout = _run(lambda: _backend().payouts.move(ns, payout_id, action,
                                                  _optional_str(body, "remarks")))
    return json_response({"namespace": ns.name, "payout": payout})


@bp.post("/entitlement_grants/outcome")
def grant_outcome():
    body = _body()
    if body.get("namespace") is None:
        raise ControlError("namespace is required: the outcome holds for that namespace's grants")
    ns = _namespace(body, None)
    scripted = _run(lambda: _backend().license_keys.grants.script_outcome(
        ns, body.get("outcome"), body.get("times"), body.get("error_code"),
        body.get("error_message")))
    return json_response({"namespace": ns.name, **scripted})


@bp.post("/entitlement_grants/<grant_id>/<action>")
def settle_grant(grant_id: str, action: str):
    body = _body()
    ns = _namespace(body, grant_id)
    grant = _run(lambda: _backend().license_keys.grants.settle(ns, grant_id, action))
    return json_response({"namespace": ns.name, "entitlement_grant": grant})


@bp.post("/credits/usage")
def spend_credits():
    body = _body()
    if body.get("namespace") is None:
        raise ControlError("namespace is required: the credits are that namespace's")
    ns = _namespace(body, None)
    for name in ("customer_id", "credit_entitlement_id"):
        if not isinstance(body.get(name), str):
            raise ControlError(f"{name} is required (a string)")
    if not isinstance(body.get("units"), (str, int, float)) or isinstance(body["units"], bool):
        raise ControlError("units is required: a number or a decimal string")
    ledger = _backend().credit_ledger
    entries = _run(lambda: ledger.deduct(ns, body["customer_id"], body["credit_entitlement_id"],
                                         body["units"], _optional_str(body, "reason")))
    balance = ledger.get_balance(ns, body["credit_entitlement_id"], body["customer_id"])
    return json_response({"namespace": ns.name, "entries": entries, "balance": balance})
