"""API requests dispatched straight to the pipeline, without Flask's request machinery.

Flask pushes an application and a request context for every request, sends six signals, runs
its before/after/teardown hooks and closes both contexts again: about a fifth of a
create-session's time, none of it needed by a provider operation, whose pipeline
(http/pipeline.py) takes its request and state as arguments. So the app's WSGI entry
(flaskapp.PaymockFlask.wsgi_app) first asks `ApiDispatcher` whether the request is a provider
operation; if it is, the pipeline answers it here with the same guards, the same error envelopes
and the same journal as on Flask's path. Anything else (control API, hosted pages, a path or
method no operation has, OPTIONS, a redirect) takes Flask's path, which answers it as before.
"""
from __future__ import annotations

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..core.fault_http import InjectedResponse, default_code
from ..guards import INCOMPLETE_BODY_ENV, too_large, too_slow
from ..providers.base import for_path
from .pipeline import Operation, RequestState, finish


class ApiDispatcher:
    def __init__(self, app, core, providers, max_body: int):
        self.core = core
        self.providers = list(providers)
        self.max_body = max_body
        self.request_class = app.request_class
        self.view_functions = app.view_functions
        self.logger = app.logger
        # No host or subdomain matching (PaymockFlask checks that before using this): one
        # binding of the URL map serves every request.
        self.adapter = app.url_map.bind("paymock.invalid")
        # (method, path) -> endpoint for the rules without parameters (create, list): matching
        # the URL map is a twentieth of such a request. Bounded by the number of such rules.
        self._static: dict[tuple[str, str], str] = {}

    def __call__(self, environ, path: str, started: float):
        """The answer to an API request (a werkzeug Response), or None for Flask's path."""
        method = environ["REQUEST_METHOD"]
        if method == "OPTIONS":
            return None  # Flask's automatic answer (Allow)
        provider = for_path(self.providers, path)
        if provider is None:
            return None
        endpoint = self._static.get((method, path))
        if endpoint is not None:
            args = {}
        else:
            try:
                endpoint, args = self.adapter.match(path, method)
            except HTTPException:  # 404, 405, a redirect: Flask's path says it the usual way
                return None
            if not args:
                self._static[(method, path)] = endpoint
        operation = self.view_functions.get(endpoint)
        if not isinstance(operation, Operation):
            return None
        req = self.request_class(environ)
        req.max_content_length = self.max_body  # no app context to read it from
        length = environ.get("CONTENT_LENGTH", "")
        if length.isdigit() and int(length) > self.max_body:
            return too_large(self.max_body, provider)
        if INCOMPLETE_BODY_ENV in environ:
            return too_slow(environ[INCOMPLETE_BODY_ENV], provider)
        state = RequestState()
        try:
            response = operation.respond(req, state, args)
        except InjectedResponse as exc:
            response = exc.response
        except RequestEntityTooLarge:  # a chunked body past the limit
            response = too_large(self.max_body, provider)
        except HTTPException as exc:
            response = provider.render_error(exc.code, default_code(exc.code), exc.description)
        except Exception:  # never a traceback on the wire: the provider's own 500 envelope
            self.logger.exception("unhandled error on %s %s", method, path)
            response = provider.render_error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
        return finish(self.core, req, state, response, started)
