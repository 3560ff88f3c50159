"""Objects that fall due at a mock time (a session to look at again, a grant that expires, a
dispute's deadline): a heap of (due, namespace, id), run in due order by a scheduler job, so that
a pass never scans every namespace. Each is acted on under its namespace's lock with the clock
reading its due time (core.clock.Clock.as_of), even when one clock advance covers many of them.
What is still pending survives --state-file restarts as [due, namespace, id] rows."""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
from typing import Callable

log = logging.getLogger("paymock.due_times")


class DueTimes:
    def __init__(self, store, clock, act: Callable, wake: Callable = lambda: None,
                 what: str = "object"):
        self.store = store
        self.clock = clock
        self._act = act          # (ns, obj_id) -> None, under ns.lock, the clock at its due time
        self._wake = wake        # the scheduler's wake(): something may now fall due sooner
        self._what = what        # for the log line of a failed act
        self._heap: list[tuple[float, int, str, str]] = []
        self._seq = itertools.count()  # ties keep their order; ids are never compared
        self._lock = threading.Lock()

    def add(self, namespace: str, obj_id: str, due: float) -> None:
        with self._lock:
            sooner = not self._heap or due < self._heap[0][0]
            heapq.heappush(self._heap, (due, next(self._seq), namespace, obj_id))
        if sooner:
            self._wake()

    def run(self, now: float) -> float | None:
        """The scheduler's job: act on everything due up to `now`, in due order; answers when the
        next one falls due (None: nothing pending)."""
        while True:
            with self._lock:
                if not self._heap or self._heap[0][0] > now:
                    return self._heap[0][0] if self._heap else None
                due, _, name, obj_id = heapq.heappop(self._heap)
            ns = self.store.find(name)
            if ns is None:
                continue  # the namespace was reset or evicted
            with ns.lock, self.clock.as_of(due):
                try:
                    self._act(ns, obj_id)
                except Exception:  # one object's failure stops no other
                    log.exception("%s %s in %s: failed when due", self._what, obj_id, name)

    def dump(self) -> list:
        with self._lock:
            return [[due, name, obj_id] for due, _, name, obj_id in sorted(self._heap)]

    def load(self, data: list) -> None:
        with self._lock:
            self._heap = [(float(due), next(self._seq), str(name), str(obj_id))
                          for due, name, obj_id in data or ()]
            heapq.heapify(self._heap)
        self._wake()
