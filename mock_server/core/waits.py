"""Injected waits (a fault's latency or hang): slept by the request's thread, or owed to the server.

A thread-per-request server (waitress) sleeps the wait in the request's own thread, so a wait
holds a thread: at most `limit` requests may sleep at once and the rest are answered at once, so
that one thread is always left for the control API.

An event-loop server (granian_server.py) holds no thread for a wait: the request runs to its
answer at once, and the wait is *owed*: added up here while the request runs (`owing()` marks
it) and waited by the server before it sends the answer or cuts the connection, on its loop,
alongside every other request. A client then sees what it would see from a slow PSP or a slow
network: the answer late; only the work is done before the wait rather than after it.
"""
from __future__ import annotations

import threading
from contextvars import ContextVar


class Owed:
    """What one request owes: seconds to wait before answering."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds = 0.0


_owed: ContextVar[Owed | None] = ContextVar("paymock_owed_wait", default=None)


class Waits:
    def __init__(self, shutdown: threading.Event):
        self._shutdown = shutdown
        self._slots: threading.BoundedSemaphore | None = None
        self.limit: int | None = None

    def limit_to(self, count: int) -> None:
        """At most `count` requests sleep in a wait at once (a thread-per-request server)."""
        self.limit = count
        self._slots = threading.BoundedSemaphore(count)

    def begin(self) -> bool:
        """Take a place for a wait; False when `limit` requests hold them all (the caller answers
        at once instead). Give it back with end(). Always True when the wait will be owed."""
        if _owed.get() is not None or self._slots is None:
            return True
        return self._slots.acquire(blocking=False)

    def end(self) -> None:
        if _owed.get() is None and self._slots is not None:
            self._slots.release()

    def wait(self, seconds: float) -> None:
        """Wait `seconds` (ended early by shutdown), or owe them when the server waits."""
        if seconds <= 0:
            return
        owed = _owed.get()
        if owed is not None:
            owed.seconds += seconds
        else:
            self._shutdown.wait(seconds)


def owing() -> tuple[Owed, object]:
    """For the server: from now on, waits in this context are owed to the returned Owed. Pass the
    token to `settle()` when the request is done."""
    owed = Owed()
    return owed, _owed.set(owed)


def settle(token) -> None:
    _owed.reset(token)
