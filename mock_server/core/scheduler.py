"""The one background worker on the mock clock: whatever falls due (the store sweep, payment
expiry, webhook attempts and retries; later renewals and dunning) runs here.

A job is a function of the mock time `now` that does what is due and answers when it next wants
to run (mock epoch seconds), or None when nothing is pending. The mock clock can be frozen, moved
or reset without telling anyone, so the worker never sleeps longer than `max_sleep` real seconds
before it looks again, and `wake()` cuts a sleep short when new work arrives. `run_due()` runs
every job once, synchronously, in the order of their due times: `POST /_mock/clock/advance` calls
it before it answers, so what an advance made due has happened by then.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("paymock.scheduler")


@dataclass
class _Job:
    name: str
    run: Callable[[float], float | None]
    due: float | None = 0.0   # mock time it wants to run next; 0 runs it on the first pass


class Scheduler:
    def __init__(self, clock, shutdown: threading.Event | None = None, max_sleep: float = 0.25):
        self.clock = clock
        self.shutdown = shutdown or threading.Event()
        self.max_sleep = max_sleep
        self._jobs: list[_Job] = []
        self._wakeup = threading.Condition()
        self._woken = False
        # One pass at a time: the worker and a clock advance never run a job concurrently.
        self._running = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, name: str, run: Callable[[float], float | None]) -> None:
        """Register a job; it runs on the next pass and then whenever it says."""
        with self._running:
            self._jobs.append(_Job(name, run))
        self.wake()

    def wake(self) -> None:
        """New work may be due sooner than the worker thinks: every job looks now."""
        with self._wakeup:
            self._woken = True
            self._wakeup.notify_all()

    def run_due(self, everything: bool = False) -> list[str]:
        """Run the jobs that are due (every job with `everything`), earliest first; the names of
        those that ran. A job that fails is logged and retried on the next pass, never fatal."""
        ran = []
        with self._running:
            now = self.clock.now()
            due = [job for job in self._jobs
                   if everything or (job.due is not None and job.due <= now)]
            for job in sorted(due, key=lambda j: j.due or 0.0):
                try:
                    job.due = job.run(now)
                except Exception:  # pragma: no cover - a job's bug must not stop the others
                    log.exception("scheduled job %s failed", job.name)
                    job.due = now + 1.0
                ran.append(job.name)
        return ran

    def next_due(self) -> float | None:
        with self._running:
            times = [job.due for job in self._jobs if job.due is not None]
        return min(times) if times else None

    # -- the worker ------------------------------------------------------------------------------
    def start(self) -> Scheduler:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="paymock-scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        everything = True
        while not self.shutdown.is_set():
            # After a wake every job looks: one with nothing pending (due None) may have work now.
            self.run_due(everything)
            upcoming = self.next_due()
            wait = self.max_sleep if upcoming is None else upcoming - self.clock.now()
            with self._wakeup:
                if not self._woken and wait > 0:
                    self._wakeup.wait(min(wait, self.max_sleep))
                everything, self._woken = self._woken, False
