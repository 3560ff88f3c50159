"""Small HTTP helpers both providers use: JSON in and out, and credential namespaces."""
from __future__ import annotations

import hashlib
from functools import lru_cache

import orjson
from flask import Response, request


class BodyInvalid(Exception):
    """The body is not a JSON document; providers render this in their own envelope."""


def read_json_body(req=None, max_depth: int = 64):
    """The request's body as JSON (`req`: the request, when the caller has it at hand)."""
    raw = (req or request._get_current_object()).get_data(cache=True)
    if not raw.strip():
        raise BodyInvalid("request body is empty; send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BodyInvalid(f"request body is not valid JSON ({exc.args[0]})") from None
    # A document cannot nest deeper than it has brackets: most bodies skip the walk.
    if max_depth and raw.count(b"[") + raw.count(b"{") > max_depth and too_deep(body, max_depth):
        raise BodyInvalid(f"request body nests deeper than {max_depth} levels")
    return body


def too_deep(value, limit: int) -> bool:
    """True when arrays and objects nest deeper than `limit` (checked without recursion, so that
    no validator or error message recurses into a hostile document)."""
    if not isinstance(value, (dict, list)):
        return False
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


class JsonResponse(Response):
    """A buffered JSON answer. Sent without werkzeug's general-purpose header rewriting (a copy
    of the headers, Location and Content-Location fix-ups, status-dependent removals), which is
    a tenth of a request's time and changes nothing for such an answer; anything else (a HEAD
    request, a status without a body, a Location header, a streamed body) goes the usual way."""

    def __call__(self, environ, start_response):
        status = self.status_code
        if (self.direct_passthrough or not isinstance(self.response, list) or status < 200
                or status in (204, 304) or environ.get("REQUEST_METHOD") == "HEAD"):
            return super().__call__(environ, start_response)
        headers = []
        # One pass over the headers (`name in self.headers` builds a KeyError for each miss).
        for name, value in self.headers.items():
            lowered = name.lower()
            if lowered in _REWRITTEN:
                return super().__call__(environ, start_response)
            if lowered != "content-length":
                headers.append((name, value))
        body = b"".join(self.response)
        headers.append(("Content-Length", str(len(body))))
        start_response(self.status, headers)
        return [body]


_REWRITTEN = frozenset({"location", "content-location"})  # werkzeug may make these absolute


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    return JsonResponse(orjson.dumps(payload), status=status, headers=headers,
                        content_type="application/json")


@lru_cache(maxsize=4096)  # a hash per request otherwise; a test run uses a handful of keys
def credential_namespace(provider: str, credential: str) -> str:
    """`<provider>:1f2e...`: stable per credential, and never the credential itself (it is a
    secret)."""
    digest = hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{provider}:{digest}"
