"""One injectable clock for the whole server.

Every expiry (sessions, tokens, idempotency keys, webhook retries) reads `Clock.now()`, so a test
can freeze time or jump it forward instead of sleeping.
"""
from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timezone


class Clock:
    """Real time plus an offset, or a frozen instant.

    `advance()` works in both modes: frozen time moves to a new frozen instant, running time gains
    an offset and keeps running.
    """

    def __init__(self, source=time.time):
        self._source = source
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None
        # as_of(): the instant one thread's work is dated at (a renewal the scheduler runs late,
        # after a clock advance, happens at its own billing date). `_dated` counts the threads
        # inside one, so that now() looks at the thread-local only while one is.
        self._local = threading.local()
        self._dated = 0

    def now(self) -> float:
        if self._dated:
            at = getattr(self._local, "at", None)
            if at is not None:
                return at
        frozen = self._frozen_at
        if frozen is not None:
            return frozen
        return self._source() + self._offset

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    @property
    def offset(self) -> float:
        """Seconds between the clock and real time."""
        return self.now() - self._source()

    def freeze(self, at: float | None = None) -> None:
        with self._lock:
            self._frozen_at = self.now() if at is None else float(at)

    def resume(self) -> None:
        """Let time run again from where it stands now (the offset is kept)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - self._source()
                self._frozen_at = None

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward; seconds must be >= 0")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def as_of(self, at: float) -> _AsOf:
        """`with clock.as_of(at):` within the block, this thread's now() is `at` (other threads
        keep the real clock): what the scheduler runs for a moment the clock has already passed
        (the twelve renewals of a one-year advance) is dated, evented and logged at that moment,
        in order."""
        return _AsOf(self, at)

    # -- persistence (core/persistence.py) ---------------------------------------------------
    def dump(self) -> dict:
        return {"frozen": self.frozen, "now": self.now(), "offset_seconds": self.offset}

    def load(self, data: dict) -> None:
        if data.get("frozen"):
            self.freeze(float(data["now"]))
        else:
            self.set_offset(float(data.get("offset_seconds", 0.0)))

    def set_offset(self, seconds: float) -> None:
        with self._lock:
            self._frozen_at = None
            self._offset = float(seconds)

    def reset(self) -> None:
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0

    def describe(self) -> dict:
        now = self.now()
        return {
            "now": iso(now),
            "epoch": now,
            "frozen": self.frozen,
            "offset_seconds": round(self.offset, 3),
        }


class _AsOf:
    """Clock.as_of's context manager (a plain class: a renewal enters one, and a generator-based
    one costs several times more)."""

    __slots__ = ("clock", "at", "previous")

    def __init__(self, clock: Clock, at: float):
        self.clock, self.at, self.previous = clock, at, None

    def __enter__(self) -> float:
        clock = self.clock
        self.previous = getattr(clock._local, "at", None)
        with clock._lock:
            clock._dated += 1
        clock._local.at = self.at
        return self.at

    def __exit__(self, *_exc) -> None:
        clock = self.clock
        clock._local.at = self.previous
        with clock._lock:
            clock._dated -= 1


def iso(epoch: float) -> str:
    """RFC 3339 in UTC with milliseconds, the form both providers use.

    The same text as datetime.fromtimestamp(epoch, utc).isoformat(timespec="milliseconds") (the
    microseconds rounded half-even, then cut to milliseconds), without making a datetime: on
    every request, datetime kept a few of its objects alive, scattered over the heap, where they
    stopped the allocator from returning memory after expired sessions were evicted."""
    global _LAST
    last = _LAST
    if last[0] == epoch:  # one piece of work stamps one instant many times (a renewal: ten)
        return last[1]
    seconds = math.floor(epoch)
    micro = round((epoch - seconds) * 1e6)
    if micro >= 1_000_000:
        seconds += 1
        micro -= 1_000_000
    # A request stamps a few distinct seconds (now, an expiry), so each second's text is kept.
    # Only a handful: each kept string pins the allocator arena it landed in, and arenas pinned
    # among expired sessions are memory that eviction cannot return.
    prefix = _SECONDS.get(seconds)
    if prefix is None:
        if len(_SECONDS) >= 4:
            _SECONDS.clear()
        prefix = _SECONDS[seconds] = "%04d-%02d-%02dT%02d:%02d:%02d." % time.gmtime(seconds)[:6]
    text = f"{prefix}{micro // 1000:03d}Z"
    _LAST = (epoch, text)  # one tuple, replaced whole: threads see either the old or the new
    return text


_SECONDS: dict[int, str] = {}
_LAST: tuple[float, str] = (math.nan, "")  # nan equals nothing


def epoch(text: str) -> float:
    """Epoch seconds of an RFC 3339 / ISO 8601 date-time (iso()'s inverse); one without an
    offset is taken as UTC. Raises ValueError for anything else."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
