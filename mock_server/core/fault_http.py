"""Carrying out fault actions on an API request.

The request pipeline calls `intercept(core, provider, namespace, operation, req, state)` once it
knows who is calling; the engine decides, and this module sleeps, answers with the documented body, arms a post-action ("commit then fail",
mangled bodies) for `after_request`, or asks the server to reset or drop the connection.
Documented bodies come from the contract: the `example` of the operation's response for that
status. Undocumented statuses get the provider's envelope with the HTTP reason phrase.
"""
from __future__ import annotations

import logging
import random
import threading
from http import HTTPStatus

import orjson
from flask import Response

from .fault_actions import Action, FaultRuleError
from .faults import RequestInfo, set_pointer

log = logging.getLogger("paymock.faults")

FAULT_HEADER = "X-Paymock-Fault"
CONNECTION_ENV = "paymock.connection"   # read by the server (server.py) after the app returns
NON_JSON_BODY = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
_rng = random.Random()
_rng_lock = threading.Lock()


class InjectedResponse(Exception):
    """Raised to answer right away with a fault response (rendered by an app error handler)."""

    def __init__(self, response: Response):
        super().__init__("injected fault")
        self.response = response


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


def default_code(status: int) -> str:
    """`TOO_MANY_REQUESTS`, `SERVICE_UNAVAILABLE`, ...: an error code from the reason phrase."""
    return _reason(status).upper().replace(" ", "_").replace("-", "_")


def render(core, provider, operation: str | None, action: Action) -> Response:
    status = action.status
    if action.body is not None:
        response = Response(orjson.dumps(action.body), status=status, mimetype="application/json")
    else:
        example = None
        if operation is not None and action.message is None:
            example = core.contracts[provider.name].example(operation, status)
        if example is not None:
            response = Response(orjson.dumps(example), status=status, mimetype="application/json")
        else:
            response = provider.render_error(
                status, default_code(status), action.message or _reason(status))
    for name, value in action.headers.items():
        response.headers[name] = value
    response.headers["X-Paymock-Injected"] = "true"
    return mangle(response, action)


def mangle(response: Response, action: Action) -> Response:
    if action.body_mode == "non_json":
        response.set_data(NON_JSON_BODY)
        response.mimetype = "text/html"
    elif action.body_mode == "truncated":
        data = response.get_data()
        response.set_data(data[: max(1, len(data) // 2)])
    elif action.body_mode == "empty":
        response.set_data(b"")
    return response


def intercept(core, provider, namespace: str | None, operation: str | None, req, state) -> None:
    """Apply the fault that fires for this request (`req`, a werkzeug request) of `operation`, if
    any, noting it on `state` (the request's pipeline state) for `after_request`. Called by the
    request pipeline after authentication."""
    header = core.fault_header and "HTTP_X_PAYMOCK_FAULT" in req.environ
    if not core.faults and not header:
        return  # the common case: no rules and no header, nothing to match the request against
    subpath = req.path[len(provider.mount):] or "/"
    action = _header_action(core, provider, req) if header else None
    if action is None and core.faults:
        body = _lenient_json(req) if core.faults.needs_body else None
        decided = core.faults.decide(RequestInfo(provider.name, operation, req.method, subpath,
                                                 namespace, body))
        action = decided[1] if decided else None
        if decided is not None:
            state.fault_rule = decided[0].id
    if action is None:
        return
    state.fault = (provider, operation, action)
    if getattr(state, "fault_rule", None) is None:
        state.fault_rule = "X-Paymock-Fault"  # the request's own header, not a rule
    log.info("fault %s fires on %s %s (%s.%s, %s): %s", state.fault_rule, req.method, req.path,
             provider.name, operation or "-", namespace or "-",
             orjson.dumps(action.to_dict()).decode(),
             extra={"rule": state.fault_rule, "provider": provider.name, "operation": operation,
                    "namespace": namespace})
    with _rng_lock:
        delay = action.delay_seconds(_rng)
    hang = action.hang_seconds if action.connection == "hang" else 0
    if delay or hang:
        _wait(core, provider, delay, hang, state)
    if action.connection is not None:
        req.environ[CONNECTION_ENV] = "drop" if action.connection == "hang" else action.connection
        raise InjectedResponse(Response(b"", status=200, headers={"X-Paymock-Connection": action.connection}))
    if action.status is not None and not action.commit:
        raise InjectedResponse(render(core, provider, operation, action))
    # otherwise the real request runs; after_request applies the rest


def _wait(core, provider, delay: float, hang: float, state) -> None:
    """Sleep an injected latency and hang, unless the requests already sleeping in one hold every
    thread but the control API's: then answer 503 at once."""
    waits = core.waits
    if not waits.begin():
        state.fault = None
        response = provider.render_error(
            503, default_code(503),
            f"paymock: {waits.limit} requests are already held by injected latency "
            "or hangs, all the server's threads but the one kept for the control API; this one "
            "is answered at once instead")
        response.headers["X-Paymock-Injected"] = "true"
        response.headers["Retry-After"] = "1"
        raise InjectedResponse(response)
    try:
        waits.wait(delay + hang)
    finally:
        waits.end()


def after_request(core, response: Response, fault: tuple | None, environ) -> Response:
    """Apply what the request's fault (`state.fault`, set by `intercept`) does to the real
    answer."""
    if fault is None or environ.get(CONNECTION_ENV):
        return response
    provider, operation, action = fault
    if action.commit and action.status >= 300:
        return render(core, provider, operation, action)
    if action.commit:  # a success status: keep the real answer, then mangle it
        response.status_code = action.status
    if action.status is None or action.commit:
        for name, value in action.headers.items():
            response.headers[name] = value
        if action.patch:
            _patch(response, action.patch)
        return mangle(response, action)
    return response


def _patch(response: Response, patch: dict) -> None:
    """Break the real answer on purpose (e.g. flip a field's type to test a contract checker)."""
    try:
        body = orjson.loads(response.get_data())
    except orjson.JSONDecodeError:
        return
    for pointer, value in patch.items():
        set_pointer(body, pointer, value)
    response.set_data(orjson.dumps(body))
    response.headers["X-Paymock-Injected"] = "true"


def _header_action(core, provider, req) -> Action | None:
    if not core.fault_header:
        return None  # strict mode or fault_header=false: no test back doors
    raw = req.headers[FAULT_HEADER].strip()
    try:
        action = Action.parse(int(raw) if raw.isdigit() else raw, FAULT_HEADER)
        core.faults.check_supported(action)
        return action
    except FaultRuleError as exc:
        raise InjectedResponse(provider.render_error(400, default_code(400), str(exc))) from None


def _lenient_json(req):
    try:
        return orjson.loads(req.get_data(cache=True))
    except orjson.JSONDecodeError:
        return None
