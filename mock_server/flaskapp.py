"""The Flask class paymock runs on: Flask, with per-request costs that a profile of
create-session showed and that change nothing for paymock trimmed (benchmarks/README.md).

Code on the hot path reads each Flask context object once (`request._get_current_object()`):
every attribute read through the `request`, `g` and `current_app` proxies costs about a
microsecond, and a create-session made 16 of them.
"""
from __future__ import annotations

import time

from flask import Flask, Request
from werkzeug.exceptions import RequestEntityTooLarge
from flask.sessions import NullSession, SecureCookieSessionInterface
from werkzeug.routing import MapAdapter


class PaymockRequest(Request):
    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False):
        # A body with a Content-Length is read straight from the server's input stream (werkzeug
        # wraps it in a LimitedStream and reads it in chunks: a tenth of a request's time).
        if cache and not as_text and not parse_form_data and getattr(self, "_cached_data", None) is None:
            length = self.environ.get("CONTENT_LENGTH", "")
            # (bodies over Settings.max_body_bytes were refused before this; the bound keeps a
            # lying Content-Length from making any server reserve that much)
            if length.isdigit() and int(length) <= 1 << 24:
                self._cached_data = self.environ["wsgi.input"].read(int(length))
            elif not length and self.max_content_length is not None:
                # No length (a chunked body, as granian hands it over): read the limit and one
                # byte more, so that a body over it is refused (werkzeug's own limited stream
                # would cut it short silently) and never held whole.
                self._cached_data = b""  # what is kept of a refused body (the journal reads it)
                self._cached_data = _read_at_most(self.environ["wsgi.input"],
                                                  self.max_content_length)
        return super().get_data(cache, as_text, parse_form_data)


def _read_at_most(stream, limit: int) -> bytes:
    """The stream's bytes, or RequestEntityTooLarge (413) once there are more than `limit`."""
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


STARTED_ENV = "paymock.started"


def _wsgi_text(value: str) -> str:
    """A WSGI environ string (bytes as latin-1, PEP 3333) as the text werkzeug routes on."""
    return value.encode("latin-1").decode("utf-8", "replace")


class _NoSessions(SecureCookieSessionInterface):
    """paymock keeps no cookie sessions: every request shares one empty, read-only session
    instead of making one (Flask makes a NullSession per request when no secret key is set)."""

    _null = NullSession()

    def open_session(self, app, request):
        return self._null


class PaymockFlask(Flask):
    request_class = PaymockRequest
    session_interface = _NoSessions()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # http/dispatch.py's ApiDispatcher, set by create_app: provider operations skip Flask's
        # request machinery. None: every request takes Flask's path.
        self.api_dispatch = None
        self._sync: dict = {}
        self._bound: dict = {}  # what werkzeug works out from a request's host, by that host

    def create_url_adapter(self, request):
        # Flask binds the URL map to each request's host: Host parsing and validation, an IDNA
        # encoding, subdomain splitting (a twentieth of a request). Their outcome depends only on
        # the host fields, so it is worked out once per host. Configurations that change how
        # hosts are matched, and WebSocket upgrades, take Flask's own path.
        if (request is None or self.config["SERVER_NAME"] is not None or self.url_map.host_matching
                or self.subdomain_matching or self.config["TRUSTED_HOSTS"] is not None
                or "HTTP_UPGRADE" in request.environ):
            return super().create_url_adapter(request)
        environ = request.environ
        key = (environ.get("HTTP_HOST"), environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
               environ["wsgi.url_scheme"], environ.get("SCRIPT_NAME"))
        bound = self._bound.get(key)
        if bound is None:
            adapter = super().create_url_adapter(request)
            bound = (request.host, adapter.server_name, adapter.script_name, adapter.subdomain,
                     adapter.url_scheme)
            if len(self._bound) < 256:  # the Host header is the client's: keep the cache small
                self._bound[key] = bound
            return adapter
        request.host, server_name, script_name, subdomain, url_scheme = bound
        path, query = environ.get("PATH_INFO"), environ.get("QUERY_STRING")
        return MapAdapter(self.url_map, server_name, script_name, subdomain, url_scheme,
                          "/" if path is None else _wsgi_text(path), environ["REQUEST_METHOD"],
                          None if query is None else _wsgi_text(query))

    def wsgi_app(self, environ, start_response):
        started = environ[STARTED_ENV] = time.perf_counter()  # the journal's duration_ms
        dispatch = self.api_dispatch
        if (dispatch is not None and self.config["SERVER_NAME"] is None
                and not self.url_map.host_matching and not self.subdomain_matching
                and self.config["TRUSTED_HOSTS"] is None and "HTTP_UPGRADE" not in environ):
            path = environ.get("PATH_INFO") or "/"
            response = dispatch(environ, path if path.isascii() else _wsgi_text(path), started)
            if response is not None:
                return response(environ, start_response)
        return super().wsgi_app(environ, start_response)

    def ensure_sync(self, func):
        # Flask asks this of every hook and view on every request (an inspect call each); none of
        # paymock's is a coroutine, and the answer for a function never changes.
        try:
            return self._sync[func]
        except KeyError:
            wrapped = super().ensure_sync(func)
            if len(self._sync) < 4096:
                self._sync[func] = wrapped
            return wrapped
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)
