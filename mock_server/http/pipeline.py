"""The one request pipeline every provider operation runs through.

authenticate (provider) -> namespace -> fault interception -> idempotency (where the provider
declares it) -> body parse -> contract validation -> handler -> render (provider envelope) ->
journal (`finish`, from what the pipeline noted on the request's state).

An API request reaches it straight from the WSGI call (http/dispatch.py), without Flask's request
and application contexts; the Flask view below is the same pipeline for a request that takes
Flask's path (a test's Flask client with dispatch off, say).

What differs between APIs is asked of the provider (providers/base.py); everything else is the
same code for all of them, so a fault, an idempotent replay or a validation error means the same
thing for every provider, a test's toy one included. Handlers get a plain core.request.Request and
never see Flask; the Flask speed tricks (one context lookup per request, flaskapp.py) stay here.
"""
from __future__ import annotations

import logging
import time

from flask import Response, g, request

from .. import server_logs
from ..core import fault_http
from ..core.contracts import RequestInvalid
from ..core.errors import ApiError
from ..core.http import BodyInvalid, json_response, read_json_body
from ..core.idempotency import CachedResponse, KeyInFlight
from ..core.request import Reply, Request

REPLAY_HEADER = "X-Paymock-Idempotent-Replay"
NOT_EMULATED_CODE = "NOT_IMPLEMENTED"


class Incoming:
    """What authentication sees of a request: no Flask, and nothing parsed yet."""

    __slots__ = ("method", "path", "headers", "environ", "operation_id", "_request")

    def __init__(self, req, path: str, operation_id: str):
        self.method = req.method
        self.path = path              # below the provider's mount: what signatures cover
        self.headers = req.headers
        self.environ = req.environ    # to test for a header without building a KeyError
        self.operation_id = operation_id
        self._request = req

    def body(self) -> bytes:
        return self._request.get_data(cache=True)


class Operation:
    """One documented operation of one provider, as routed: everything the pipeline needs per
    request worked out once, at start."""

    def __init__(self, core, provider, contract, operation, handler, idempotent: bool, path_names):
        self.core = core
        self.provider = provider
        self.contract = contract
        self.operation_id = operation.operation_id
        self.handler = handler
        self.idempotent = idempotent
        self.takes_body = operation.body_schema is not None
        self.takes_query = any(p.get("in") == "query" for p in operation.params)
        self.path_names = path_names  # werkzeug-safe name -> the contract's parameter name
        self.mount_length = len(provider.mount)

    def __call__(self, **path_params):
        """The Flask view (the app's after_request then calls `finish`)."""
        return self.respond(request._get_current_object(), g._get_current_object(), path_params)

    def respond(self, req, state, path_params):
        """The answer to `req` (a werkzeug request), noting on `state` what `finish` journals."""
        provider = self.provider
        state.provider = provider.name
        state.operation_id = self.operation_id
        try:
            return self._run(req, state, path_params)
        except ApiError as exc:
            return provider.render_error(exc.status, exc.code, exc.message, exc.headers)

    def _run(self, req, state, path_params):
        provider, core = self.provider, self.core
        caller = provider.authenticate(
            Incoming(req, req.path[self.mount_length:] or "/", self.operation_id))
        state.namespace = namespace = caller.namespace
        if core.faults or "HTTP_X_PAYMOCK_FAULT" in req.environ:  # else nothing can fire
            fault_http.intercept(core, provider, namespace, self.operation_id, req, state)
        if self.handler is None:  # documented, not built yet (a fault rule may target it)
            raise ApiError(501, f"not emulated by paymock: {self.operation_id}", NOT_EMULATED_CODE)
        policy = provider.idempotency if self.idempotent else None
        key = None if policy is None else req.headers.get(policy.header)
        if key is None:
            return self._answer(req, core, caller, path_params)
        book = core.idempotency
        if not book.valid_key(key):
            raise ApiError(400, f"Invalid {policy.header}: use at most 256 letters, digits, '-' "
                           "or '_'", policy.error_code)
        try:
            slot = book.reserve(namespace, key, self.operation_id)
        except KeyInFlight:
            raise ApiError(409, "A request with this idempotency key is still in progress",
                           policy.error_code) from None
        if isinstance(slot, CachedResponse):
            return Response(slot.body, status=slot.status,
                            headers={**slot.headers, REPLAY_HEADER: "true"})
        try:
            response = self._answer(req, core, caller, path_params)
        except BaseException:
            slot.release()  # a non-2xx answer frees the key: the client may fix and retry
            raise
        slot.complete(response.status_code, response.get_data(),
                      {"Content-Type": response.headers.get("Content-Type", "application/json")})
        return response

    def _answer(self, req, core, caller, path_params):
        provider, operation_id = self.provider, self.operation_id
        body = None
        try:
            if self.takes_body:
                try:
                    body = read_json_body(req)
                except BodyInvalid as exc:
                    raise provider.body_error(str(exc), operation_id) from None
                self.contract.validate_body(operation_id, body)
            query = self.contract.parse_query(operation_id, req.args) if self.takes_query else {}
        except RequestInvalid as exc:
            raise provider.validation_error(exc, operation_id) from None
        names = self.path_names
        path = {names.get(name, name): value for name, value in path_params.items()} if names \
            else path_params
        result = self.handler(Request(caller, core.store.namespace(caller.namespace), operation_id,
                                      path, query, body, req.headers))
        if isinstance(result, Reply):
            if result.no_body:
                response = Response(status=result.status, headers=result.headers)
                del response.headers["Content-Type"]  # nothing to type
                return response
            if result.content_type is not None:  # not JSON: the bytes as they are
                return Response(result.data, status=result.status, headers=result.headers,
                                content_type=result.content_type)
            return json_response(provider.envelope(result.data), result.status, result.headers)
        return json_response(provider.envelope(result))


class RequestState:
    """What the pipeline notes about one request for `finish` (Flask's `g` on Flask's path)."""

    __slots__ = ("provider", "operation_id", "namespace", "fault", "fault_rule")

    def __init__(self):
        self.provider = self.operation_id = self.namespace = self.fault = self.fault_rule = None


def finish(core, req, state, response, started: float):
    """Apply the request's fault to its answer, journal it (in its namespace, once known) and
    say it in the access log."""
    fault = getattr(state, "fault", None)
    if fault is not None:
        response = fault_http.after_request(core, response, fault, req.environ)
    namespace = getattr(state, "namespace", None)
    ms = round((time.perf_counter() - started) * 1000, 3)
    if namespace is not None:
        core.journal.record(
            namespace, core.clock.now(), getattr(state, "provider", None),
            getattr(state, "operation_id", None), req.method, req.path, response.status_code,
            ms, req.environ, req.get_data(),
            None if response.direct_passthrough else response.get_data())
    if server_logs.access.isEnabledFor(logging.INFO):
        server_logs.request_line(req.method, req.path, response.status_code, ms,
                                 getattr(state, "provider", None),
                                 getattr(state, "operation_id", None), namespace,
                                 getattr(state, "fault_rule", None))
    return response

