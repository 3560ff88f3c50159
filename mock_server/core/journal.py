"""The last N requests of each namespace, for `/_mock/journal` and for debugging failed tests."""
from __future__ import annotations

import itertools
import threading
from collections import deque

import orjson

from .clock import iso

BODY_EXCERPT = 2048
# A journal entry keeps at most this much of one header value, and of all its headers together:
# a request with 180 kB of headers must not be stored whole, once per request, for 200 requests.
HEADER_VALUE_EXCERPT = 512
HEADERS_BUDGET = 8192
REDACTED = "<redacted>"
# Words that make a header a credential: Authorization, Proxy-Authorization, X-Api-Key,
# X-Paymock-Control-Token, Cookie, X-Signature, a session token... are never stored.
_CREDENTIAL_WORDS = ("AUTH", "TOKEN", "KEY", "SECRET", "SIGNATURE", "COOKIE", "PASSWORD",
                     "CREDENTIAL", "SESSION")
_ENVIRON_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}
_is_credential: dict[str, bool] = {}  # environ key -> whether it holds a credential (a cache)


def is_credential(environ_key: str) -> bool:
    """Whether a header (by its WSGI environ key, e.g. HTTP_X_API_KEY) carries a credential."""
    known = _is_credential.get(environ_key)
    if known is None:
        known = any(word in environ_key for word in _CREDENTIAL_WORDS)
        if len(_is_credential) < 1024:  # header names come from clients: keep the cache small
            _is_credential[environ_key] = known
    return known


class Journal:
    """Each entry is kept as one bytes object (JSON of the raw values) and shown only when asked.

    One object, not a dozen: the journal's entries are the newest long-lived objects, and small
    ones end up scattered over the heap, where each keeps a whole allocator arena (1 MiB) from
    going back to the OS after expired sessions are evicted. Most entries are larger than
    pymalloc's 512 bytes, so they come from malloc, which returns freed pages one by one."""

    def __init__(self, size: int = 200):
        self.size = size
        self._entries: dict[str, deque] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def record(self, namespace: str, at: float, provider: str | None, operation: str | None,
               method: str, path: str, status: int, duration_ms: float, environ: dict,
               request_body: bytes, response_body: bytes | None) -> None:
        headers = []
        budget = HEADERS_BUDGET
        known = _is_credential
        for key, value in environ.items():
            # (a slice compare: str.startswith parses its arguments, and costs more per key)
            if key[:5] != "HTTP_" and key not in _ENVIRON_HEADERS:
                continue
            secret = known.get(key)
            if secret is None:
                secret = is_credential(key)
            if secret:
                value = REDACTED  # never stored, so never shown, dumped or logged
            elif len(value) > HEADER_VALUE_EXCERPT:
                value = value[:HEADER_VALUE_EXCERPT] + "…"
            budget -= len(value)
            if budget < 0:
                headers.append(("HTTP_X_PAYMOCK_JOURNAL", "further headers not kept"))
                break
            headers.append((key, value))
        fields = [next(self._seq), at, provider, operation, method, path, status, duration_ms,
                  headers, _excerpt(request_body), _excerpt(response_body)]
        try:
            raw = orjson.dumps(fields)
        except orjson.JSONEncodeError:  # a lone surrogate in a header or path: keep the rest
            raw = orjson.dumps(_scrub(fields))
        entry = bytes(memoryview(raw))  # exact size: orjson's own bytes keep 4 KB of room
        ring = self._entries.get(namespace)
        if ring is None:
            with self._lock:
                ring = self._entries.setdefault(namespace, deque(maxlen=self.size))
        ring.append(entry)

    def entries(self, namespace: str | None = None, limit: int | None = None) -> list[dict]:
        if namespace is not None:
            items = [_show(raw) for raw in list(self._entries.get(namespace, ()))]
        else:
            items = sorted((_show(raw) for ring in list(self._entries.values()) for raw in list(ring)),
                           key=lambda e: e["seq"])
        return items[-limit:] if limit else items

    def reset(self, namespace: str | None = None) -> None:
        with self._lock:
            if namespace is None:
                self._entries.clear()
            else:
                self._entries.pop(namespace, None)


def _show(raw: bytes) -> dict:
    (seq, at, provider, operation, method, path, status, duration_ms, headers, request_body,
     response_body) = orjson.loads(raw)
    return {
        "seq": seq, "at": iso(at), "provider": provider, "operation": operation,
        "method": method, "path": path, "status": status, "duration_ms": duration_ms,
        "request_headers": {_ENVIRON_HEADERS.get(key) or key[5:].replace("_", "-").title(): value
                            for key, value in headers},
        "request_body": request_body, "response_body": response_body,
    }


def _scrub(value):
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return [_scrub(item) for item in value]
    return value


def _excerpt(body: bytes | None) -> str | None:
    return None if body is None else body[:BODY_EXCERPT].decode("utf-8", "replace")
