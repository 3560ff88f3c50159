"""Dodo's HTTP surface: auth, body parsing and validation from the contract, error rendering.

Routes stay thin: they pick the namespace from the API key, let the contract check the request,
and hand plain dicts to `DodoBackend`.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, request
from werkzeug.routing import BaseConverter

from ...core import fault_http
from ...core.contracts import RequestInvalid
from ...core.errors import ApiError
from ...core.http import BodyInvalid, credential_namespace, json_response, read_json_body

bp = Blueprint("dodo", __name__)


class SessionIdConverter(BaseConverter):
    """Any path segment but `preview`, so that /checkouts/preview only ever means the preview
    operation (and OPTIONS on it advertises POST alone)."""

    regex = r"(?!preview$)[^/]+"


# Context objects are read once per function on the hot path (flaskapp.py says why).
def _ctx():
    extensions = current_app._get_current_object().extensions
    return extensions["paymock"], extensions["paymock.dodo"]


def render_error(status: int, code: str, message: str, headers: dict | None = None):
    return json_response({"code": code, "message": message}, status, headers)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return render_error(exc.status, exc.code or "INTERNAL_SERVER_ERROR", exc.message, exc.headers)


@bp.errorhandler(RequestInvalid)
def _request_invalid(exc: RequestInvalid):
    return render_error(422, exc.code or "INVALID_REQUEST_BODY", exc.message)


@bp.errorhandler(BodyInvalid)
def _body_invalid(exc: BodyInvalid):
    return render_error(422, "INVALID_REQUEST_BODY", str(exc))


@bp.errorhandler(404)
def _no_route(_exc):
    return render_error(404, "NOT_FOUND", f"No route for {request.method} {request.path}")


@bp.errorhandler(405)
def _bad_method(_exc):
    return render_error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.path}")


@bp.before_request
def _authenticate():
    state = g._get_current_object()
    state.provider = "dodo"
    header = request._get_current_object().environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "Missing or invalid API key: send `Authorization: Bearer <API key>`",
                       "UNAUTHORIZED")
    key = key.strip()
    extensions = current_app._get_current_object().extensions
    allowed = extensions["paymock.dodo.keys"]
    if allowed and key not in allowed:
        raise ApiError(401, "Invalid API key: this server accepts only the keys it was started "
                       "with (PAYMOCK_DODO_API_KEYS)", "UNAUTHORIZED")
    state.namespace = namespace = credential_namespace("dodo", key)
    fault_http.intercept(extensions["paymock.provider.dodo"], namespace)


def _ns(core=None):
    core = core or _ctx()[0]
    return core.store.namespace(g._get_current_object().namespace)


def _body(operation_id: str, core=None) -> dict:
    core = core or _ctx()[0]
    g._get_current_object().operation_id = operation_id
    body = read_json_body()
    core.contracts["dodo"].validate_body(operation_id, body)
    return body


def _query(operation_id: str) -> dict:
    core, _ = _ctx()
    g.operation_id = operation_id
    return core.contracts["dodo"].parse_query(operation_id, request.args)


def _op(operation_id: str) -> None:
    g.operation_id = operation_id


@bp.post("/checkouts")
def create_session():
    core, dodo = _ctx()
    body = _body("create_session", core)
    return json_response(dodo.create_session(_ns(core), body))


@bp.post("/checkouts/preview")
def preview_session():
    core, dodo = _ctx()
    body = _body("preview_session", core)
    return json_response(dodo.preview_session(_ns(core), body))


@bp.get("/checkouts/<session_id:session_id>")
def get_checkout_sessions_status(session_id: str):
    _op("get_checkout_sessions_status")
    core, dodo = _ctx()
    return json_response(dodo.session_status(_ns(core), session_id))


@bp.get("/products")
def list_products_handler():
    query = _query("list_products_handler")
    return json_response(_ctx()[1].list_products(
        _ns(), page_size=query.get("page_size", 10), page_number=query.get("page_number", 0),
        recurring=query.get("recurring"), archived=query.get("archived"),
    ))


@bp.get("/products/<product_id>")
def get_product_handler(product_id: str):
    _op("get_product_handler")
    return json_response(_ctx()[1].get_product(_ns(), product_id))


@bp.post("/customers")
def create_customer():
    body = _body("create_customer")
    return json_response(_ctx()[1].create_customer(_ns(), body))


@bp.get("/customers/<customer_id>")
def get_customer_handler(customer_id: str):
    _op("get_customer_handler")
    return json_response(_ctx()[1].get_customer(_ns(), customer_id))


@bp.get("/discounts/code/<code>")
def get_discount_by_code_handler(code: str):
    _op("get_discount_by_code_handler")
    return json_response(_ctx()[1].get_discount_by_code(_ns(), code))


@bp.get("/payments")
def list_payments_handler():
    query = _query("list_payments_handler")
    return json_response(_ctx()[1].payments.list(_ns(), query))


@bp.get("/payments/<payment_id>")
def get_payment_handler(payment_id: str):
    _op("get_payment_handler")
    return json_response(_ctx()[1].payments.get(_ns(), payment_id))
