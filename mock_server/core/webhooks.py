"""The webhook outbox: endpoints, deliveries with every attempt, sent when they fall due.

Providers shape and sign (providers/*/webhooks.py register a `Channel`); this module only queues,
sends, retries and records. Delivery never runs on a request thread: `emit()` appends to the
outbox and wakes the scheduler (core/scheduler.py), whose job `dispatch()` hands what is due to a
small pool of senders. Due times are read from the mock clock, so advancing the clock (or
`flush()`) runs retries that would take hours for real.
Fault rules with provider "webhook" (operation = event type) can drop, delay, duplicate or
reorder a delivery; the engine decides at emit time, like any other rule. Other actions mean what
they mean at an API answer: latency delays the delivery, and an error status or a connection
fault makes its first attempt fail (recorded as that status, a reset or a timeout, with no
request sent), so the provider's retry schedule takes over.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import logging
import random
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import orjson

from .clock import Clock, iso
from .faults import RequestInfo
from .webhook_endpoints import ROTATION_GRACE, Channel, Endpoint, EndpointBook

__all__ = ["Channel", "Endpoint", "Outbox", "ROTATION_GRACE"]

EXCERPT = 500
MAX_FINISHED = 2000     # finished deliveries kept for the log (pending ones are never dropped)
FINISHED = ("delivered", "failed", "dropped", "cancelled")
REORDER_HOLD = 30.0     # mock seconds a "reorder" delivery waits for a later one to overtake it

log = logging.getLogger("paymock.webhooks")


def _frozen(payload: dict):
    """The event log's copy of a payload: its JSON text (bytes), decoded only when the log is
    read. A year of renewals emits hundreds of thousands of events, and encoding one is several
    times cheaper than copy.deepcopy (or a decoded copy, whose objects the full log must also
    free one by one as it drops its oldest)."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return copy.deepcopy(payload)


def _thawed(event: tuple) -> dict:
    namespace, provider, event_type, at, payload = event[:5]
    return {"namespace": namespace, "provider": provider, "type": event_type, "at": at,
            "payload": orjson.loads(payload) if isinstance(payload, bytes)
            else copy.deepcopy(payload)}


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


@dataclass
class Outbox(EndpointBook):
    clock: Clock
    faults: object = None
    timeout: float = 15.0
    senders: int = 4
    channels: dict = field(default_factory=dict)
    endpoints: dict = field(default_factory=dict)
    shutdown: threading.Event | None = None   # the server's: sending ends with it
    # Called when a delivery may be due sooner than the scheduler thinks (set by create_app).
    wake: Callable[[], None] = lambda: None

    def __post_init__(self):
        self._lock = threading.Condition()
        self._deliveries: dict[str, dict] = {}
        self._finished: deque[str] = deque()
        self._events: deque[tuple] = deque(maxlen=MAX_FINISHED)
        # Each logged event's number (the tuple's last item), so a caller can ask what was
        # emitted since a moment (`events_since`): a clock advance lists what fell due.
        self._event_seq = itertools.count(1)
        self.last_event = 0
        self._in_flight: set[str] = set()
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._http = None  # a requests.Session, made on the first delivery (importing requests
        # costs a tenth of paymock's start-up)
        self._ids = 0
        self._rng = random.Random()  # latency ranges of fault rules
        self._slots: dict[str, float] = {}  # endpoint id -> its next free send time (rate_limit)

    def event_types(self) -> set[str]:
        """Every event type some provider emits."""
        return {event for channel in self.channels.values() for event in channel.events}

    # -- emitting ----------------------------------------------------------------------------
    def emit(self, namespace: str, provider: str, event_type: str, payload: dict) -> list[dict]:
        channel = self.channels[provider]
        if event_type not in channel.events:
            raise ValueError(f"{provider} declares no webhook event {event_type!r} (Channel.events)")
        now = self.clock.now()
        created = []
        # The log's entry: a tuple (cheaper to make and to drop than a dict, and the log drops
        # one per event once full), appended without the lock (a deque's append is atomic).
        seq = next(self._event_seq)
        self._events.append((namespace, provider, event_type, iso(now), _frozen(payload), seq))
        self.last_event = seq
        if not self.endpoints:  # logged only (no receiver): nothing to queue or wake
            return []
        with self._lock:
            targets = [e for e in self.endpoints.values()
                       if e.wants(namespace, provider, event_type, payload)]
        if not targets:
            return []
        for endpoint in targets:
            delivery_id = channel.new_id()
            delivery = {
                "id": delivery_id, "namespace": namespace, "provider": provider, "type": event_type,
                "endpoint_id": endpoint.id, "url": endpoint.url,
                "body": channel.formats[endpoint.format](payload, delivery_id, endpoint)
                if endpoint.format else channel.body(payload, delivery_id),
                "stamp": channel.stamp(),
                "status": "pending", "attempts": [], "created_at": iso(now), "next_at": now,
                "schedule_pos": 0, "fault": None, "extra_sends": 0,
            }
            self._apply_fault(delivery, payload)
            created.append(delivery)
        with self._lock:
            for delivery, endpoint in zip(created, targets):
                self._pace(delivery, endpoint, now)
            for delivery in created:
                self._deliveries[delivery["id"]] = delivery
                if delivery["status"] != "pending":
                    self._finish(delivery["id"])
            self._lock.notify_all()
        if created:
            self.wake()
        return [self.describe(d) for d in created]

    def _apply_fault(self, delivery: dict, payload: dict) -> None:
        if not self.faults:
            return
        decided = self.faults.decide(RequestInfo("webhook", delivery["type"], "POST", delivery["url"],
                                                 delivery["namespace"], payload))
        if decided is None:
            return
        rule, action = decided
        mode = action.webhook or ("drop" if action.connection == "drop" else
                                  "fail" if action.fails() else None)
        delay = action.webhook_delay or action.delay_seconds(self._rng)
        delivery["fault"] = {"rule": rule.id, "mode": mode or "delay"}
        if mode == "fail":
            delivery["fault"].update(status=action.status, connection=action.connection)
        if mode == "drop":
            delivery["status"] = "dropped"
        elif mode == "duplicate":
            delivery["extra_sends"] = 1
        elif mode == "reorder":
            delivery["status"] = "held"
            delivery["next_at"] += delay or REORDER_HOLD
        elif delay:
            delivery["next_at"] += delay

    # -- sending (a job of the scheduler) ---------------------------------------------------
    def _senders(self) -> ThreadPoolExecutor:
        with self._lock:  # made on the first due delivery: apps that never send run no pool
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.senders, thread_name_prefix="paymock-webhook")
            return self._pool

    def _stopping(self) -> bool:
        return self._stop.is_set() or (self.shutdown is not None and self.shutdown.is_set())

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def dispatch(self, now: float) -> float | None:
        """Hand every due delivery to the senders, earliest first; when the next one falls due."""
        if self._stopping():
            return None
        due = self._due(now)
        if due:
            pool = self._senders()
            for delivery in due:
                pool.submit(self._attempt, delivery)
        with self._lock:
            waiting = [d["next_at"] for d in self._deliveries.values()
                       if d["status"] in ("pending", "held") and d["id"] not in self._in_flight]
        return min(waiting) if waiting else None

    def _due(self, now: float) -> list[dict]:
        with self._lock:
            due = []
            for delivery in self._deliveries.values():
                if delivery["id"] in self._in_flight or delivery["next_at"] > now:
                    continue
                if delivery["status"] in ("pending", "held"):
                    self._in_flight.add(delivery["id"])
                    due.append(delivery)
            return sorted(due, key=lambda d: d["next_at"])

    def _attempt(self, delivery: dict) -> None:
        try:
            self._send(delivery)
            while delivery["extra_sends"] > 0 and delivery["status"] == "delivered":
                delivery["extra_sends"] -= 1  # the duplicate fault: same message, sent again
                self._send(delivery, duplicate=True)
        except Exception as exc:  # a bug in the bookkeeping itself: still one failed attempt
            log.error("webhook %s to %s: attempt failed: %s", delivery["id"], delivery["url"],
                      _error_text(exc))
            if delivery["status"] == "pending" and delivery["next_at"] <= self.clock.now():
                self._give_up(delivery, exc)  # never left due: that would spin the scheduler
        finally:
            with self._lock:
                self._in_flight.discard(delivery["id"])
                if delivery["status"] == "delivered":
                    self._release_held(delivery)
                self._lock.notify_all()
            self.wake()  # a retry or a released delivery now has a due time

    def _give_up(self, delivery: dict, exc: Exception) -> None:
        attempt = {"n": len(delivery["attempts"]) + 1, "at": iso(self.clock.now()),
                   "duplicate": False, "status_code": None, "error": _error_text(exc), "ok": False}
        with self._lock:
            delivery["attempts"].append(attempt)
            delivery["status"] = "failed"
            self._finish(delivery["id"])

    def _injected_failure(self, delivery: dict) -> dict | None:
        """The attempt a "fail" fault stands in for (once per delivery): no request is sent."""
        fault = delivery.get("fault") or {}
        if fault.get("mode") != "fail" or fault.get("spent") or delivery["attempts"]:
            return None
        fault["spent"] = True
        connection = fault.get("connection")
        error = None if connection is None else (
            f"timeout after {self.timeout}s (injected by rule {fault['rule']})" if connection == "hang"
            else f"ConnectionError: connection {connection} (injected by rule {fault['rule']})")
        return {"status_code": None if connection else fault.get("status"), "error": error,
                "response_excerpt": "" if connection is None else None}

    def _new_attempt(self, delivery: dict, duplicate: bool) -> dict:
        return {"n": len(delivery["attempts"]) + 1, "at": iso(self.clock.now()),
                "duplicate": duplicate, "status_code": None, "error": None}

    def _send(self, delivery: dict, duplicate: bool = False) -> None:
        attempt = self._new_attempt(delivery, duplicate)
        started = time.perf_counter()
        try:
            ok = self._try(delivery, attempt, duplicate)
        except Exception as exc:  # anything: this attempt failed, the schedule retries it
            attempt["error"] = _error_text(exc)
            ok = False
        attempt["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        attempt["ok"] = ok
        self._record(delivery, attempt, ok, duplicate)
        self._say(delivery, attempt, ok)

    @staticmethod
    def _say(delivery: dict, attempt: dict, ok: bool) -> None:
        """The log line of an attempt: delivered at info; a failure at warning, with what comes
        next (a retry at its time, or nothing: failed for good)."""
        if ok:
            level, outcome = logging.INFO, "delivered"
        elif delivery["status"] == "failed":
            level, outcome = logging.WARNING, "failed for good (no retry left)"
        else:
            level, outcome = logging.WARNING, f"failed, retry at {iso(delivery['next_at'])}"
        if not log.isEnabledFor(level):
            return
        answer = attempt.get("status_code") or attempt.get("error")
        log.log(level, "webhook %s %s %s -> %s: attempt %d %s (%s)", delivery["id"],
                delivery["provider"], delivery["type"], delivery["url"], attempt["n"], outcome,
                answer, extra={"delivery": delivery["id"], "provider": delivery["provider"],
                               "event": delivery["type"], "url": delivery["url"],
                               "namespace": delivery["namespace"], "attempt": attempt["n"],
                               "answer": answer, "ok": ok})

    def _try(self, delivery: dict, attempt: dict, duplicate: bool) -> bool:
        """Sign and send one attempt (or stand in for it with an injected failure)."""
        channel = self.channels[delivery["provider"]]
        endpoint = self.endpoints.get(delivery["endpoint_id"]) or Endpoint("gone", delivery["url"])
        headers = {"Content-Type": "application/json", "User-Agent": "paymock-webhooks",
                   **endpoint.headers, **channel.sign(delivery, endpoint)}
        attempt["request_headers"] = headers  # what was signed and sent, to debug a verifier
        import requests

        if self._http is None:
            self._http = requests.Session()
        injected = None if duplicate else self._injected_failure(delivery)
        if injected is not None:
            attempt.update(injected, injected=True)
            return False
        return self._post(delivery, headers, attempt)

    def _record(self, delivery: dict, attempt: dict, ok: bool, duplicate: bool) -> None:
        """Add the attempt to the delivery; delivered, or the next retry, or failed for good."""
        channel = self.channels[delivery["provider"]]
        with self._lock:
            delivery["attempts"].append(attempt)
            if duplicate:
                return
            if ok:
                delivery["status"] = "delivered"
                self._finish(delivery["id"])
                return
            delivery["status"] = "pending"
            delivery["schedule_pos"] += 1
            if delivery["schedule_pos"] >= len(channel.schedule):
                delivery["status"] = "failed"
                self._finish(delivery["id"])
            else:
                delivery["next_at"] = self.clock.now() + channel.schedule[delivery["schedule_pos"]]

    def _post(self, delivery: dict, headers: dict, attempt: dict) -> bool:
        """Send one attempt; record the answer (or the error) in `attempt`; whether it was 2xx."""
        import requests

        try:
            response = self._http.post(delivery["url"], data=delivery["body"].encode(),
                                       headers=headers, timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            attempt["error"] = f"timeout after {self.timeout}s"
            return False
        except requests.RequestException as exc:
            attempt["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
            return False
        attempt["status_code"] = response.status_code
        attempt["response_excerpt"] = response.text[:EXCERPT]
        return 200 <= response.status_code < 300

    def _release_held(self, delivered: dict) -> None:
        for other in self._deliveries.values():
            if other["status"] == "held" and other["endpoint_id"] == delivered["endpoint_id"]:
                other["status"] = "pending"
                other["next_at"] = self.clock.now()

    def _finish(self, delivery_id: str) -> None:
        self._finished.append(delivery_id)
        while len(self._finished) > MAX_FINISHED:
            old = self._finished.popleft()
            gone = self._deliveries.get(old)
            if gone is not None and gone["status"] in FINISHED:
                del self._deliveries[old]

    # -- control -----------------------------------------------------------------------------
    def redeliver(self, delivery_id: str) -> dict:
        with self._lock:
            delivery = self._deliveries.get(delivery_id)
            if delivery is None:
                raise LookupError(f"no delivery {delivery_id!r}")
            channel = self.channels[delivery["provider"]]
            delivery.update(status="pending", next_at=self.clock.now(), schedule_pos=0,
                            stamp=channel.stamp())  # a manual resend is a fresh signature
            self._lock.notify_all()
            described = self.describe(delivery)
        self.wake()
        return described

    def flush(self, wait: float = 10.0) -> bool:
        """Make every pending or held delivery due now; wait until none is due or in flight."""
        with self._lock:
            now = self.clock.now()
            for delivery in self._deliveries.values():
                if delivery["status"] in ("pending", "held"):
                    delivery["status"], delivery["next_at"] = "pending", min(delivery["next_at"], now)
            self._lock.notify_all()
        self.wake()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with self._lock:
                now = self.clock.now()
                busy = self._in_flight or any(d["status"] == "pending" and d["next_at"] <= now
                                              for d in self._deliveries.values())
                if not busy:
                    return True
                self._lock.wait(0.02)
        return False

    def deliveries(self, namespace=None, status=None, event_type=None) -> list[dict]:
        with self._lock:
            return [self.describe(d) for d in self._deliveries.values()
                    if (namespace is None or d["namespace"] == namespace)
                    and (status is None or d["status"] == status)
                    and (event_type is None or d["type"] == event_type)]

    def deliveries_page(self, offset: int, limit: int, namespace=None, status=None,
                        text: str | None = None) -> tuple[int, list[dict]]:
        """(how many match, a page of them newest first): `text` in the id, event type, URL or
        body (an object's id finds the deliveries about it). Only the page is copied out, so a
        dashboard polling a full log costs little."""
        with self._lock:
            found = [d for d in reversed(self._deliveries.values())
                     if (namespace is None or d["namespace"] == namespace)
                     and (status is None or d["status"] == status)
                     and (not text or text in d["id"] or text in d["type"] or text in d["url"]
                          or text in d["body"])]
            return len(found), [self.describe(d) for d in found[offset:offset + limit]]

    def status_counts(self) -> dict[str, int]:
        """{status: how many deliveries}."""
        with self._lock:
            counts: dict[str, int] = {}
            for delivery in self._deliveries.values():
                counts[delivery["status"]] = counts.get(delivery["status"], 0) + 1
            return counts

    def delivery(self, delivery_id: str) -> dict | None:
        with self._lock:
            found = self._deliveries.get(delivery_id)
            return None if found is None else self.describe(found)

    def events(self, namespace=None) -> list[dict]:
        logged = self._events.copy()  # at once: emit() appends without the lock
        return [_thawed(e) for e in logged if namespace is None or e[0] == namespace]

    def events_about(self, namespace: str, text: str) -> list[dict]:
        """The namespace's logged events whose payload holds `text` (an object's id)."""
        needle = text.encode()
        logged = self._events.copy()
        return [_thawed(e) for e in logged if e[0] == namespace and (
            needle in e[4] if isinstance(e[4], bytes) else needle in orjson.dumps(e[4], default=str))]

    def events_since(self, mark: int) -> list[dict]:
        """The events logged after `mark` (a `last_event` read earlier), oldest first."""
        logged = self._events.copy()
        return [_thawed(e) for e in logged if e[5] > mark]

    def describe(self, delivery: dict) -> dict:
        out = copy.deepcopy(delivery)
        out["next_attempt_at"] = iso(out.pop("next_at")) if out["status"] in ("pending", "held") else None
        out.pop("schedule_pos")
        out.pop("extra_sends")
        return out

    # -- persistence (core/persistence.py registers these when it exists) --------------------
    def dump(self) -> dict:
        # Signing secrets a user brought never go into a state file: such an endpoint signs with
        # the server's secret after a restore. A secret paymock made (keep_secret) is kept: its
        # receiver was given it by the provider's API and still verifies with it.
        with self._lock:
            return {"endpoints": [dataclasses.asdict(e) if e.keep_secret
                                  else dict(dataclasses.asdict(e), secret=None, previous_secret=None)
                                  for e in self.endpoints.values()],
                    "deliveries": copy.deepcopy(list(self._deliveries.values())),
                    "ids": self._ids}

    def load(self, state: dict) -> None:
        with self._lock:
            self.endpoints = {e["id"]: Endpoint(**e) for e in state.get("endpoints", [])}
            self._deliveries = {d["id"]: d for d in state.get("deliveries", [])
                                if d.get("provider") in self.channels}
            self._finished = deque(i for i, d in self._deliveries.items()
                                   if d["status"] not in ("pending", "held"))
            self._ids = state.get("ids", 0)
            self._lock.notify_all()
        self.wake()
