"""Idempotency keys, provider-agnostic.

The rule most payment APIs (paymock's providers among them) document: the first 2xx answer for a
key is kept (24 hours by the shared clock) and replayed for that key; the same key while the first
request is still running is a conflict; a non-2xx first answer leaves the key free, so a client can
fix its request and retry with the same key. Keys live in scopes (a credential namespace), so two
merchants never see each other's keys, and to an operation, so a key reused on another operation
is another request. Providers decide the header name, the key syntax and the
error envelope; this module only keeps the books.
"""
from __future__ import annotations

import heapq
import itertools
import re
import threading
from dataclasses import dataclass, field

from .clock import Clock

DEFAULT_TTL = 24 * 3600
# Letters, digits, '-' and '_', at most 256: a provider's documented rule, and a sane default for
# others.
DEFAULT_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class KeyInFlight(Exception):
    """Another request holding the same key has not finished yet."""


@dataclass(frozen=True)
class CachedResponse:
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)


class Reservation:
    """The right to run the request for one key. Exactly one of complete() or release() ends it."""

    def __init__(self, owner: Idempotency, slot: tuple[str, str, str], token: object):
        self._owner = owner
        self._slot = slot
        self._token = token
        self.done = False

    def complete(self, status: int, body: bytes, headers: dict | None = None) -> None:
        if self.done:
            return
        self.done = True
        if 200 <= status < 300:
            body = bytes(memoryview(body))  # an exact-size copy: orjson's bytes keep 4 KB of room
            self._owner._store(self._slot, self._token, CachedResponse(status, body, dict(headers or {})))
        else:
            self._owner._free(self._slot, self._token)

    def release(self) -> None:
        if not self.done:
            self.done = True
            self._owner._free(self._slot, self._token)


class Idempotency:
    def __init__(self, clock: Clock, ttl: float = DEFAULT_TTL, sweep_every: int = 512):
        self.clock = clock
        self.ttl = ttl
        self._lock = threading.Lock()
        # (scope, key) -> ("inflight", token) | ("done", CachedResponse, expires_at)
        self._entries: dict[tuple[str, str], tuple] = {}
        self._expiries: list[tuple[float, int, tuple[str, str]]] = []
        self._seq = itertools.count()
        self._sweep_every = sweep_every

    @staticmethod
    def valid_key(key: str, pattern: re.Pattern = DEFAULT_KEY_PATTERN) -> bool:
        return bool(pattern.match(key))

    def reserve(self, scope: str, key: str, operation: str = "") -> CachedResponse | Reservation:
        """A cached answer to replay, or a Reservation to run the request under. A key belongs
        to one operation: the same key sent to another operation is another request (a key
        first used to create a session must not replay that session to create an order).

        Raises KeyInFlight when another request holds the key right now.
        """
        slot = (scope, operation, key)
        now = self.clock.now()
        with self._lock:
            if next(self._seq) % self._sweep_every == 0:
                self._sweep(now)
            entry = self._entries.get(slot)
            if entry is not None:
                if entry[0] == "inflight":
                    raise KeyInFlight(key)
                if entry[2] > now:
                    return entry[1]
            token = object()
            self._entries[slot] = ("inflight", token)
            return Reservation(self, slot, token)

    def _store(self, slot, token, response: CachedResponse) -> None:
        expires_at = self.clock.now() + self.ttl
        with self._lock:
            entry = self._entries.get(slot)
            if entry is not None and entry[0] == "inflight" and entry[1] is token:
                self._entries[slot] = ("done", response, expires_at)
                heapq.heappush(self._expiries, (expires_at, next(self._seq), slot))

    def _free(self, slot, token) -> None:
        with self._lock:
            entry = self._entries.get(slot)
            if entry is not None and entry[0] == "inflight" and entry[1] is token:
                del self._entries[slot]

    def _sweep(self, now: float) -> None:
        heap = self._expiries
        while heap and heap[0][0] <= now:
            _, _, slot = heapq.heappop(heap)
            entry = self._entries.get(slot)
            if entry is not None and entry[0] == "done" and entry[2] <= now:
                del self._entries[slot]

    def sweep(self) -> None:
        with self._lock:
            self._sweep(self.clock.now())

    def expire(self, scope: str, key: str) -> bool:
        """End a cached key now, for every operation (the next request with it runs afresh);
        False if it is unknown."""
        with self._lock:
            slots = [slot for slot in self._entries if slot[0] == scope and slot[2] == key]
            for slot in slots:
                del self._entries[slot]
            return bool(slots)

    def keys(self, scope: str | None = None) -> list[tuple[str, str]]:
        """(scope, key) of the cached answers."""
        with self._lock:
            return sorted({(slot[0], slot[2]) for slot, entry in self._entries.items()
                           if entry[0] == "done" and (scope is None or slot[0] == scope)})

    def forget(self, scope: str | None = None) -> None:
        """Drop every key (of one scope), e.g. when the namespace is reset."""
        with self._lock:
            if scope is None:
                self._entries.clear()
                self._expiries.clear()
            else:
                for slot in [s for s in self._entries if s[0] == scope]:
                    del self._entries[slot]

    def __len__(self) -> int:
        return len(self._entries)

    # -- persistence (core/persistence.py) ---------------------------------------------------
    def dump(self) -> list[dict]:
        """The cached answers still in force; in-flight reservations end with the process."""
        now = self.clock.now()
        with self._lock:
            entries = list(self._entries.items())
        return [{"scope": scope, "operation": operation, "key": key, "status": entry[1].status,
                 "body": entry[1].body.decode("latin-1"), "headers": entry[1].headers,
                 "expires_at": entry[2]}
                for (scope, operation, key), entry in entries
                if entry[0] == "done" and entry[2] > now]

    def load(self, data: list) -> None:
        if not isinstance(data, list):
            raise ValueError("idempotency must be a list of cached answers")
        with self._lock:
            self._entries.clear()
            self._expiries.clear()
            for item in data:
                # (a state file of 0.1.0 names no operation: its keys replay no operation's request)
                slot = (item["scope"], item.get("operation", ""), item["key"])
                cached = CachedResponse(int(item["status"]), item["body"].encode("latin-1"),
                                        dict(item.get("headers") or {}))
                expires_at = float(item["expires_at"])
                self._entries[slot] = ("done", cached, expires_at)
                heapq.heappush(self._expiries, (expires_at, next(self._seq), slot))
