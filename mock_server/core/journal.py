"""The last N requests of each namespace, for `/_mock/journal` and for debugging failed tests."""
from __future__ import annotations

import itertools
import threading
from collections import deque

REDACTED_HEADERS = {"authorization", "x-signature", "cookie"}


class Journal:
    def __init__(self, size: int = 200):
        self.size = size
        self._entries: dict[str, deque] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def record(self, namespace: str, entry: dict) -> None:
        entry = {"seq": next(self._seq), **entry}
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
                           key=lambda e: e["seq"])
        return items[-limit:] if limit else items

    def reset(self, namespace: str | None = None) -> None:
        with self._lock:
            if namespace is None:
                self._entries.clear()
            else:
                self._entries.pop(namespace, None)


def redact_headers(headers) -> dict:
    """Request headers as a dict, credentials replaced so the journal never holds a secret."""
    return {
        name: ("<redacted>" if name.lower() in REDACTED_HEADERS else value)
        for name, value in headers.items()
    }
