"""The Flask class paymock runs on: Flask, with per-request costs that a profile of
create-session showed and that change nothing for paymock trimmed (benchmarks/README.md).
"""
from __future__ import annotations

import time

from flask import Flask, Request
from flask.sessions import NullSession, SecureCookieSessionInterface


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
        return super().get_data(cache, as_text, parse_form_data)


STARTED_ENV = "paymock.started"


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
        self._sync: dict = {}

    def wsgi_app(self, environ, start_response):
        environ[STARTED_ENV] = time.perf_counter()  # the journal's duration_ms
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
