"""Thread-safe in-memory state, partitioned by namespace, with expiry and eviction.

A namespace belongs to one credential (an API key, a merchant), so parallel test runs
never see each other's objects. Objects are plain JSON-able dicts grouped by kind ("session",
"product", ...). An object may carry an expiry: once past it, `get()` no longer returns it; it is
kept for `retention` seconds more (so an expired session can be told from an unknown one) and then
evicted, which keeps memory bounded in long runs.

Objects are stored packed, every kind alike: each as its JSON text in one bytes object. That is
smaller than the same data as Python objects (1.8 KB against 2.4 KB a checkout session, with
its index entries), and nothing in it is tracked by the garbage collector: with 100,000
live sessions a full collection takes tens of milliseconds instead of a second
(docs/architecture.md has the measurement). Hence the rule every caller follows: `get()` and
`values()` return copies; a changed object is written back with `save()` (or `put()`). That is
also the contract a shared backend (Redis) will keep.
"""
from __future__ import annotations

import copy
import ctypes
import ctypes.util
import heapq
import itertools
import threading
from collections.abc import Callable, Iterable

import orjson

from .clock import Clock

Seeder = Callable[[str], Iterable[tuple[str, str, dict]]]
# After a sweep or reset drops this many objects, free heap pages go back to the OS.
RELEASE_AFTER = 1000
# Decoded objects Namespace.read() keeps per namespace (a catalog's worth).
READ_CACHE = 256
# Distinct seed objects the store shares between namespaces before it starts over.
SHARED_SEEDS = 4096


def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Hand free heap memory back to the OS. Python frees its own arenas when they empty, but
    larger objects (dict tables) come from malloc, whose per-thread arenas keep freed pages
    until asked; without this, RSS stays near its peak after a mass eviction."""
    if _TRIM is not None:
        _TRIM(0)


def pack(obj: dict) -> bytes:
    """An object as the store keeps it: its JSON, in an exact-size bytes (the bytes orjson
    returns keep up to 4 KB of spare room)."""
    return bytes(memoryview(orjson.dumps(obj)))


def unpack(blob: bytes) -> dict:
    return orjson.loads(blob)


class Namespace:
    def __init__(self, name: str, clock: Clock, retention: float, index: dict | None = None):
        self.name = name
        # The store's id -> namespace index (what a hosted page or the control API finds an id
        # by, without the credential that picks the namespace), kept for what put() stores.
        self._index = index
        self.lock = threading.RLock()  # domain code holds it across read-modify-write sequences
        self._clock = clock
        self._retention = retention
        # kind -> id -> (packed, expires_at). Tuples, not lists: a tuple of bytes and a float
        # drops out of the garbage collector's view; a list never does.
        self._kinds: dict[str, dict[str, tuple]] = {}
        self._expiries: list[tuple[float, int, str, str]] = []  # heap of (evict_at, seq, kind, id)
        self._seq = itertools.count()
        self.used = 0  # when the store last handed it out (its operation counter)
        # read(): (kind, id) -> (the packed bytes it was decoded from, the decoded object)
        self._decoded: dict[tuple[str, str], tuple[bytes, dict]] = {}

    def put(self, kind: str, obj_id: str, obj: dict, expires_at: float | None = None) -> dict:
        """Store `obj` (a copy of it: later changes need save()); returns `obj`."""
        packed = pack(obj)
        with self.lock:
            self._kinds.setdefault(kind, {})[obj_id] = (packed, expires_at)
            if self._index is not None:
                self._index[obj_id] = self.name
            if expires_at is not None:
                heapq.heappush(
                    self._expiries, (expires_at + self._retention, next(self._seq), kind, obj_id)
                )
        return obj

    def seed(self, kind: str, obj_id: str, packed: bytes) -> None:
        """Add an already packed object with no expiry (the store's seeding)."""
        with self.lock:
            self._kinds.setdefault(kind, {})[obj_id] = (packed, None)

    def save(self, kind: str, obj_id: str, obj: dict) -> bool:
        """Write back a changed object, keeping its expiry. False (and nothing stored) when it
        is gone meanwhile: evicted or deleted objects stay gone."""
        packed = pack(obj)
        with self.lock:
            objs = self._kinds.get(kind)
            entry = objs.get(obj_id) if objs else None
            if entry is None:
                return False
            objs[obj_id] = (packed, entry[1])
            return True

    def get(self, kind: str, obj_id: str, include_expired: bool = False) -> dict | None:
        """A copy of the object (save() writes changes back), or None."""
        entry = self._kinds.get(kind, {}).get(obj_id)
        if entry is None:
            return None
        packed, expires_at = entry
        if not include_expired and expires_at is not None and self._clock.now() >= expires_at:
            return None
        return unpack(packed)

    def _unindex(self, obj_id: str) -> None:
        """Under self.lock: the id leaves the store's index unless another kind here keeps it."""
        if self._index is not None and self._index.get(obj_id) == self.name and \
                not any(obj_id in objs for objs in self._kinds.values()):
            del self._index[obj_id]

    def unindex_all(self) -> None:
        """The namespace is being dropped: none of its ids is found through the index."""
        if self._index is None:
            return
        with self.lock:
            for objs in self._kinds.values():
                for obj_id in objs:
                    if self._index.get(obj_id) == self.name:
                        del self._index[obj_id]

    def read(self, kind: str, obj_id: str) -> dict | None:
        """The object to look at, NOT to change: one decoded copy shared by every read() until
        the object is stored again (get() for a copy to change). For what a request reads on
        every call and never writes, such as the products and discounts a checkout prices."""
        entry = self._kinds.get(kind, {}).get(obj_id)
        if entry is None:
            return None
        packed, expires_at = entry
        if expires_at is not None and self._clock.now() >= expires_at:
            return None
        cached = self._decoded.get((kind, obj_id))
        if cached is not None and cached[0] is packed:  # stored again since: decode afresh
            return cached[1]
        obj = unpack(packed)
        if len(self._decoded) >= READ_CACHE:  # hot objects come back at once; the rest go
            self._decoded.clear()
        self._decoded[(kind, obj_id)] = (packed, obj)
        return obj

    def is_expired(self, kind: str, obj_id: str) -> bool:
        """True when the object existed and has expired (but is not yet evicted)."""
        entry = self._kinds.get(kind, {}).get(obj_id)
        return entry is not None and entry[1] is not None and self._clock.now() >= entry[1]

    def expires_at(self, kind: str, obj_id: str) -> float | None:
        entry = self._kinds.get(kind, {}).get(obj_id)
        return None if entry is None else entry[1]

    def set_expiry(self, kind: str, obj_id: str, expires_at: float | None) -> bool:
        with self.lock:
            objs = self._kinds.get(kind, {})
            entry = objs.get(obj_id)
            if entry is None:
                return False
            objs[obj_id] = (entry[0], expires_at)
            if expires_at is not None:
                heapq.heappush(
                    self._expiries, (expires_at + self._retention, next(self._seq), kind, obj_id)
                )
            return True

    def has(self, kind: str, obj_id: str) -> bool:
        """Whether the object is stored (expired or not), without decoding it."""
        return obj_id in self._kinds.get(kind, ())

    def kinds_of(self, obj_id: str) -> list[str]:
        with self.lock:
            return [kind for kind, objs in self._kinds.items() if obj_id in objs]

    def delete(self, kind: str, obj_id: str) -> dict | None:
        with self.lock:
            entry = self._kinds.get(kind, {}).pop(obj_id, None)
            if entry is not None:
                self._unindex(obj_id)
        return None if entry is None else unpack(entry[0])

    def values(self, kind: str, include_expired: bool = False) -> list[dict]:
        """Copies of the objects of one kind."""
        now = self._clock.now()
        with self.lock:
            entries = list(self._kinds.get(kind, {}).values())
        return [
            unpack(packed) for packed, exp in entries
            if include_expired or exp is None or now < exp
        ]

    def counts(self) -> dict[str, int]:
        """{kind: how many objects} (expired-but-retained ones included)."""
        with self.lock:
            return {kind: len(objs) for kind, objs in self._kinds.items() if objs}

    def browse(self, kind: str, offset: int = 0, limit: int = 50,
               text: str | None = None) -> tuple[int, list[tuple[str, dict, float | None]]]:
        """A page of one kind, newest first: (how many match, [(id, object, expires_at)]).
        `text` keeps the objects whose id or JSON holds it, any case (an email, a name, an
        id). Only the page's objects are decoded, and a search reads the stored bytes, so a
        kind of 10,000 objects pages in milliseconds."""
        with self.lock:
            entries = list(self._kinds.get(kind, {}).items())
        entries.reverse()  # dicts keep insertion order: the newest last
        if text:
            needle = text.lower().encode("utf-8", "surrogatepass")
            entries = [(obj_id, entry) for obj_id, entry in entries
                       if needle in obj_id.lower().encode("utf-8", "surrogatepass")
                       or needle in entry[0].lower()]
        page = entries[offset:offset + limit]
        return len(entries), [(obj_id, unpack(packed), exp) for obj_id, (packed, exp) in page]

    def count(self, kind: str | None = None) -> int:
        with self.lock:
            if kind is not None:
                return len(self._kinds.get(kind, {}))
            return sum(len(objs) for objs in self._kinds.values())

    def evict(self) -> int:
        """Drop objects whose retention has passed; returns how many were dropped."""
        now = self._clock.now()
        dropped = 0
        with self.lock:
            heap = self._expiries
            while heap and heap[0][0] <= now:
                _, _, kind, obj_id = heapq.heappop(heap)
                objs = self._kinds.get(kind)
                entry = objs.get(obj_id) if objs else None
                # The heap may hold stale items for objects whose expiry was moved or removed.
                if entry is not None and entry[1] is not None and entry[1] + self._retention <= now:
                    del objs[obj_id]
                    self._unindex(obj_id)
                    dropped += 1
        return dropped

    def dump(self) -> dict:
        """Every object with its expiry (expired-but-retained ones too), as JSON-able data:
        {kind: {id: [object, expires_at]}}. A consistent copy, taken under the lock."""
        with self.lock:
            kinds = {kind: {obj_id: [unpack(packed), exp]
                            for obj_id, (packed, exp) in objs.items()}
                     for kind, objs in self._kinds.items()}
            try:
                return orjson.loads(orjson.dumps(kinds, option=orjson.OPT_NON_STR_KEYS))
            except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
                return copy.deepcopy(kinds)

    def load(self, kinds: dict, upgrades: dict[str, Callable[[dict], dict]] | None = None) -> None:
        """Add the objects of a dump() (replacing objects with the same kind and id);
        `upgrades` maps a kind to what brings an object of an older state file to today's
        shape."""
        upgrades = upgrades or {}
        if not isinstance(kinds, dict):
            raise ValueError(f"namespace {self.name}: expected an object of kinds")
        for kind, objs in kinds.items():
            if not isinstance(objs, dict):
                raise ValueError(f"namespace {self.name}, kind {kind}: expected an object of ids")
            for obj_id, entry in objs.items():
                if not isinstance(entry, list) or len(entry) != 2 or not (
                        entry[1] is None or isinstance(entry[1], (int, float))):
                    raise ValueError(f"namespace {self.name}, {kind} {obj_id}: expected "
                                     "[object, expires_at]")
                obj = upgrades[kind](entry[0]) if kind in upgrades else entry[0]
                self.put(kind, obj_id, obj, expires_at=None if entry[1] is None else float(entry[1]))

    def snapshot(self) -> dict:
        """Live objects as copies."""
        now = self._clock.now()
        with self.lock:
            return {
                kind: {
                    obj_id: unpack(packed)
                    for obj_id, (packed, exp) in objs.items()
                    if exp is None or now < exp
                }
                for kind, objs in self._kinds.items()
            }


class Store:
    """All namespaces. A namespace is created (and seeded) the first time it is asked for."""

    def __init__(self, clock: Clock, seeders: dict[str, Seeder] | None = None,
                 retention: float = 3600.0, sweep_every: int = 1024,
                 max_namespaces: int | None = None):
        self.clock = clock
        # Past this many namespaces, the least recently used tenth are evicted, as if reset:
        # a shared server that sees a new key per test run would otherwise grow for ever.
        self.max_namespaces = max_namespaces
        self._on_drop: list[Callable[[str], None]] = []
        self._seeders = dict(seeders or {})
        self._upgrades: dict[str, dict[str, Callable[[dict], dict]]] = {}
        self._seeds: dict[bytes, bytes] = {}  # packed seed objects, shared by the namespaces
        self._index: dict[str, str] = {}  # object id -> the namespace that stored it
        self._retention = retention
        self._namespaces: dict[str, Namespace] = {}
        self._lock = threading.Lock()
        self._sweep_every = sweep_every
        self._ops = itertools.count()

    def add_seeder(self, prefix: str, seeder: Seeder) -> None:
        """Seed every namespace whose name starts with `prefix` (e.g. "<provider>:")."""
        self._seeders[prefix] = seeder

    def add_upgrade(self, prefix: str, kind: str, upgrade: Callable[[dict], dict]) -> None:
        """How objects of `kind` from an older state file, in namespaces starting with
        `prefix`, are brought to today's shape as they load."""
        self._upgrades.setdefault(prefix, {})[kind] = upgrade

    def on_drop(self, callback: Callable[[str], None]) -> None:
        """Call `callback(name)` for every namespace reset or evicted (what else keeps
        per-namespace state, such as the journal or idempotency keys, forgets it too)."""
        self._on_drop.append(callback)

    def namespace(self, name: str) -> Namespace:
        ns = self._namespaces.get(name)
        tick = next(self._ops)
        if ns is not None:
            ns.used = tick
            if tick % self._sweep_every == 0:
                self.sweep()
            return ns
        evicted = []
        with self._lock:
            ns = self._namespaces.get(name)
            if ns is None:
                if self.max_namespaces is not None and len(self._namespaces) >= self.max_namespaces:
                    evicted = self._evict_least_used()
                ns = Namespace(name, self.clock, self._retention, self._index)
                for prefix, seeder in self._seeders.items():
                    if name.startswith(prefix):
                        for kind, obj_id, obj in seeder(name):
                            ns.seed(kind, obj_id, self._shared(pack(obj)))
                self._namespaces[name] = ns
            ns.used = tick
        self._dropped(evicted)
        return ns

    def _evict_least_used(self) -> list[Namespace]:
        """Under self._lock: remove the least recently used tenth of the namespaces."""
        by_use = sorted(self._namespaces.values(), key=lambda ns: ns.used)
        gone = by_use[:max(1, len(by_use) // 10)]
        for ns in gone:
            del self._namespaces[ns.name]
        return gone

    def _dropped(self, gone: list[Namespace]) -> None:
        if not gone:
            return
        objects = sum(ns.count() for ns in gone)
        for ns in gone:
            ns.unindex_all()
            for callback in self._on_drop:
                callback(ns.name)
        gone.clear()  # the last references: the objects are freed here
        if objects >= RELEASE_AFTER:
            release_memory()

    def _shared(self, packed: bytes) -> bytes:
        """One bytes object for every namespace seeded with the same object: a new credential
        costs its index entries, not a copy of the catalog (writes replace an entry's bytes,
        so sharing is copy-on-write by construction)."""
        shared = self._seeds.get(packed)
        if shared is None:
            if len(self._seeds) >= SHARED_SEEDS:  # seeds that differ per namespace: no sharing
                self._seeds.clear()
            shared = self._seeds[packed] = packed
        return shared

    def find(self, name: str) -> Namespace | None:
        """The namespace if it exists; never creates one."""
        return self._namespaces.get(name)

    def names(self) -> list[str]:
        return sorted(self._namespaces)

    def holding(self, obj_id: str) -> list[str]:
        """The namespace that stored `obj_id` (an indexed lookup, not a scan of every namespace;
        seeded catalog objects, which every namespace holds, are not indexed)."""
        name = self._index.get(obj_id)
        return [] if name is None or name not in self._namespaces else [name]

    def reset(self, name: str | None = None) -> list[str]:
        """Forget one namespace (re-seeded on next use) or all; returns the names dropped."""
        with self._lock:
            if name is None:
                gone = list(self._namespaces.values())
                self._namespaces.clear()
            else:
                gone = [ns for ns in [self._namespaces.pop(name, None)] if ns is not None]
        dropped = [ns.name for ns in gone]
        self._dropped(gone)
        return dropped

    def sweep(self) -> int:
        dropped = sum(ns.evict() for ns in list(self._namespaces.values()))
        if dropped >= RELEASE_AFTER:
            release_memory()
        return dropped

    def dump(self) -> dict:
        """All namespaces for a state file: {name: Namespace.dump()}. Seeded objects included,
        so a restored namespace is not seeded again."""
        return {name: ns.dump() for name, ns in list(self._namespaces.items())}

    def load(self, data: dict) -> None:
        """Replace every namespace with those of a dump()."""
        if not isinstance(data, dict):
            raise ValueError("store: expected an object of namespaces")
        spaces, index = {}, {}
        for name, kinds in data.items():
            ns = Namespace(name, self.clock, self._retention, index)
            ns.load(kinds, {kind: upgrade for prefix, by_kind in self._upgrades.items()
                            if name.startswith(prefix) for kind, upgrade in by_kind.items()})
            spaces[name] = ns
        with self._lock:
            self._namespaces.clear()
            self._namespaces.update(spaces)
            self._index = index

    def snapshot(self, name: str | None = None, names: list[str] | None = None) -> dict:
        """Copies of the live objects of one namespace, of `names`, or of all."""
        if name is not None:
            names = [name]
        spaces = list(self._namespaces.items()) if names is None else \
            [(n, self._namespaces[n]) for n in names if n in self._namespaces]
        return {ns_name: ns.snapshot() for ns_name, ns in spaces}
