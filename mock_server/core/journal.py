"""The last N requests of each namespace, for `/_mock/journal` and for debugging failed tests."""
from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import NamedTuple

from .clock import iso

REDACTED_HEADERS = {"authorization", "x-signature", "cookie"}
BODY_EXCERPT = 2048
_ENVIRON_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


class Entry(NamedTuple):
    """What record() keeps: raw values, cheap to take on every request. entries() turns them into
    the JSON the control API shows (names, redaction, text) only when someone asks."""
    seq: int
    at: float
    provider: str | None
    operation: str | None
    method: str
    path: str
    status: int
    duration_ms: float
    environ_headers: list  # [(WSGI environ key, value)]
    request_body: str
    response_body: str | None


class Journal:
    def __init__(self, size: int = 200):
        self.size = size
        self._entries: dict[str, deque] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def record(self, namespace: str, at: float, provider: str | None, operation: str | None,
               method: str, path: str, status: int, duration_ms: float, environ: dict,
               request_body: bytes, response_body: bytes | None) -> None:
        headers = [(key, value) for key, value in environ.items()
                   if key[:5] == "HTTP_" or key in _ENVIRON_HEADERS]
        # Bodies are kept as text of their own: a bytes object from orjson.dumps has room for
        # 4 KB whatever it holds, and 200 entries a namespace would keep all of that room.
        entry = Entry(next(self._seq), at, provider, operation, method, path, status, duration_ms,
                      headers, _excerpt(request_body), _excerpt(response_body))
        ring = self._entries.get(namespace)
        if ring is None:
            with self._lock:
                ring = self._entries.setdefault(namespace, deque(maxlen=self.size))
        ring.append(entry)

    def entries(self, namespace: str | None = None, limit: int | None = None) -> list[dict]:
        if namespace is not None:
            items = list(self._entries.get(namespace, ()))
        else:
            items = sorted((e for ring in list(self._entries.values()) for e in list(ring)),
                           key=lambda e: e.seq)
        items = items[-limit:] if limit else items
        return [_show(entry) for entry in items]

    def reset(self, namespace: str | None = None) -> None:
        with self._lock:
            if namespace is None:
                self._entries.clear()
            else:
                self._entries.pop(namespace, None)


def _show(entry: Entry) -> dict:
    return {
        "seq": entry.seq, "at": iso(entry.at), "provider": entry.provider,
        "operation": entry.operation, "method": entry.method, "path": entry.path,
        "status": entry.status, "duration_ms": entry.duration_ms,
        "request_headers": redact_headers(
            (_ENVIRON_HEADERS.get(key) or key[5:].replace("_", "-").title(), value)
            for key, value in entry.environ_headers),
        "request_body": entry.request_body, "response_body": entry.response_body,
    }


def _excerpt(body: bytes | None) -> str | None:
    return None if body is None else body[:BODY_EXCERPT].decode("utf-8", "replace")


def redact_headers(headers) -> dict:
    """Request headers (a mapping or (name, value) pairs) as a dict, credentials replaced so the
    journal never shows a secret."""
    pairs = headers.items() if hasattr(headers, "items") else headers
    return {name: ("<redacted>" if name.lower() in REDACTED_HEADERS else value)
            for name, value in pairs}
