"""Waffo's HTTP surface: the gateway (credentials, idempotency, JSON, contract validation) and the
Waffo error envelope. Routes stay thin and hand plain dicts to `WaffoBackend`.
"""
from __future__ import annotations


from flask import Blueprint, Response, current_app, g, request

from ...core import fault_http
from ...core.contracts import RequestInvalid
from ...core.errors import ApiError
from ...core.http import BodyInvalid, json_response, read_json_body
from ...core.idempotency import CachedResponse, KeyInFlight
from .auth import AuthFailed
from .common import error

bp = Blueprint("waffo", __name__)
LAYERS = {"gateway", "user", "store", "product", "order", "ticket", "graphql", "resource", "email"}
# The layer a schema failure is reported from when the contract does not name one.
OPERATION_LAYER = {"issueSessionToken": "user"}
API_KEY, SLUG, TOKEN = "api_key", "store_slug", "session_token"
REPLAY_HEADER = "X-Paymock-Idempotent-Replay"


def render_error(status: int, code: str | None, message: str, headers: dict | None = None):
    layer = code if code in LAYERS else "gateway"
    return json_response({"data": None, "errors": [{"message": message, "layer": layer}]},
                         status, headers)


# Context objects are read once per function on the hot path (flaskapp.py says why).
def _ctx():
    return current_app._get_current_object().extensions["paymock.waffo"]


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return render_error(exc.status, exc.code, exc.message, exc.headers)


@bp.errorhandler(AuthFailed)
def _auth_failed(exc: AuthFailed):
    # One documented wire message; the reason rides in a header so a tester can see why.
    return render_error(401, "gateway", "Authentication failed",
                        {"X-Paymock-Auth-Reason": exc.reason[:300]})


@bp.errorhandler(RequestInvalid)
def _request_invalid(exc: RequestInvalid):
    layer = exc.code or OPERATION_LAYER.get(g.get("operation_id"), "order")
    return render_error(400, layer, exc.message)


@bp.errorhandler(BodyInvalid)
def _body_invalid(_exc: BodyInvalid):
    return render_error(400, "gateway", "Invalid JSON body")


@bp.errorhandler(404)
def _no_route(_exc):
    return render_error(404, "gateway", f"No route for {request.method} {request.path}")


@bp.errorhandler(405)
def _bad_method(_exc):
    return render_error(405, "gateway", f"{request.method} is not allowed on {request.path}")


# -- the gateway ----------------------------------------------------------------------------
def _run(operation_id: str, allowed: tuple[str, ...], action):
    state, req = g._get_current_object(), request._get_current_object()
    state.provider = "waffo"
    state.operation_id = operation_id
    waffo = _ctx()
    caller = waffo.gateway.authenticate(req, allowed)
    state.namespace = namespace = waffo.gateway.namespace_name(caller.merchant_id)
    ns = waffo.core.store.namespace(namespace)
    # Faults hit after authentication.
    fault_http.intercept(current_app._get_current_object().extensions["paymock.provider.waffo"],
                         namespace)
    key = req.environ.get("HTTP_X_IDEMPOTENCY_KEY")
    if key is None:
        return _execute(operation_id, action, ns, caller)
    if not waffo.idempotency.valid_key(key):
        raise error(400, "Invalid X-Idempotency-Key: use at most 256 letters, digits, '-' or '_'",
                    "gateway")
    try:
        slot = waffo.idempotency.reserve(namespace, key)
    except KeyInFlight:
        raise error(409, "A request with this idempotency key is still in progress",
                    "gateway") from None
    if isinstance(slot, CachedResponse):
        return Response(slot.body, status=slot.status, headers={**slot.headers, REPLAY_HEADER: "true"})
    try:
        response = _execute(operation_id, action, ns, caller)
    except BaseException:
        slot.release()  # a non-2xx answer (rendered by the error handlers) frees the key
        raise
    slot.complete(response.status_code, response.get_data(),
                  {"Content-Type": response.headers.get("Content-Type", "application/json")})
    return response


def _execute(operation_id: str, action, ns, caller):
    waffo = _ctx()
    body = read_json_body()
    waffo.core.contracts["waffo"].validate_body(operation_id, body)
    return json_response({"data": action(ns, caller, body)})


@bp.post("/v1/actions/checkout/create-session")
def create_session():
    return _run("createCheckoutSession", (API_KEY, SLUG), _ctx().backend.create_session)


@bp.post("/v1/actions/auth/issue-session-token")
def issue_session_token():
    return _run("issueSessionToken", (API_KEY,), _ctx().backend.issue_session_token)


@bp.post("/v1/actions/onetime-order/create-order")
def create_onetime_order():
    backend = _ctx().backend
    return _run("createOnetimeOrder", (TOKEN,),
                lambda ns, caller, body: backend.create_order(ns, caller, body, "onetime"))


@bp.post("/v1/actions/subscription-order/create-order")
def create_subscription_order():
    backend = _ctx().backend
    return _run("createSubscriptionOrder", (TOKEN,),
                lambda ns, caller, body: backend.create_order(ns, caller, body, "subscription"))


@bp.post("/v1/actions/onetime-order/cancel-order")
def cancel_onetime_order():
    backend = _ctx().backend
    return _run("cancelOnetimeOrder", (TOKEN,),
                lambda ns, caller, body: backend.cancel_order(ns, caller, body, "onetime"))


@bp.post("/v1/actions/subscription-order/cancel-order")
def cancel_subscription_order():
    backend = _ctx().backend
    return _run("cancelSubscriptionOrder", (API_KEY, TOKEN),
                lambda ns, caller, body: backend.cancel_order(ns, caller, body, "subscription"))
