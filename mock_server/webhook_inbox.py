"""A test's webhook inbox (`paymock.inbox`, the `paymock_inbox` fixture): the webhooks its
namespaces sent, for any provider, without the test running a receiver.

    paymock.pay(order_id)
    assert paymock.inbox.wait_for("order.completed")["data"]["orderId"] == order_id

Where the events come from, and why: the outbox (core/webhooks.py) logs every event a provider
emits, per namespace, before it looks for an endpoint (`GET /_mock/webhooks/events?namespace=`),
with the payload the delivered body is made of (Dodo: the body itself; Waffo: the body without
its per-delivery `id`). The inbox reads that log. Compared with a receiver of the test's own
(an HTTP server in a thread, registered as the namespace's endpoint), this needs no port, no
thread and no extra delivery; it leaves the test's own endpoints, their delivery log and
webhook fault rules as they are; and it works against a server started elsewhere
(`--paymock-url` to a container, which could not reach a receiver on the test's loopback).
What it does not give is the signed HTTP request: a test of its own receiver's signature check
registers that receiver (`paymock.webhook_endpoint(url)`) and reads `inbox.deliveries()`.
A webhook fault rule that drops a delivery drops the delivery, not the event: the inbox still
shows what the provider emitted.

The server's event log keeps the last 2000 events of all namespaces together; a test that
makes more (a year of renewals) sees the newest.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from typing import Callable, Iterable


class WebhookNotSent(AssertionError):
    """wait_for() timed out: no such event in the test's namespaces."""


class WebhookInbox:
    """The events of a test's namespaces (`namespaces`: a list, or a callable naming them when
    asked, so a namespace minted later, such as a Waffo merchant's, is read too)."""

    def __init__(self, control, namespaces: Iterable[str] | Callable[[], Iterable[str]],
                 poll: float = 0.02):
        self._control = control
        self._namespaces = namespaces if callable(namespaces) else (lambda fixed=tuple(namespaces): fixed)
        self._extra: list[str] = []
        self._poll = poll
        self._returned: Counter = Counter()  # events wait_for() has handed out

    def watch(self, namespace: str) -> None:
        """Read `namespace` too (e.g. a second API key the test made)."""
        if namespace not in self._extra:
            self._extra.append(namespace)

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self._namespaces(), *self._extra]))

    @property
    def events(self) -> list[dict]:
        """Every event so far, oldest first: {"namespace", "provider", "type", "at", "payload"}."""
        names = self.namespaces
        if not names:
            return []
        if len(names) == 1:
            return self._control.webhooks.events(names[0])
        # One read of the whole log keeps the server's order across the namespaces.
        wanted = set(names)
        return [e for e in self._control.webhooks.events() if e["namespace"] in wanted]

    def types(self) -> list[str]:
        """The event types so far, oldest first (repeats included)."""
        return [event["type"] for event in self.events]

    def payloads(self, event_type: str | None = None) -> list[dict]:
        """The payloads so far (of `event_type` only, if given), oldest first."""
        return [e["payload"] for e in self.events if event_type in (None, e["type"])]

    def wait_for(self, event_type: str, timeout: float = 5.0,
                 where: Callable[[dict], bool] | None = None) -> dict:
        """The payload of the first `event_type` event (for which `where(payload)` holds, if
        given) that an earlier wait_for has not returned, waiting up to `timeout` seconds of
        wall time for it; two waits for the same type return two events. Raises
        WebhookNotSent (an AssertionError) saying what was sent instead."""
        deadline = time.monotonic() + timeout
        pause = self._poll
        while True:
            events = self.events
            seen = Counter()
            for event in events:
                if event["type"] != event_type or (where is not None and not where(event["payload"])):
                    continue
                key = _key(event)
                seen[key] += 1
                if seen[key] > self._returned[key]:
                    self._returned[key] += 1
                    return event["payload"]
            if time.monotonic() >= deadline:
                raise WebhookNotSent(
                    f"no {event_type} webhook{' matching where=' if where else ''} within "
                    f"{timeout}s in {list(self.namespaces) or 'no namespace'}; sent: "
                    f"{[e['type'] for e in events] or 'nothing'}")
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 0.2)

    def deliveries(self, status: str | None = None, event_type: str | None = None) -> list[dict]:
        """The delivery records (with each attempt) of the test's namespaces, to endpoints the
        test registered: for tests of a receiver, e.g. its answers to signed requests."""
        return [d for namespace in self.namespaces
                for d in self._control.webhooks.deliveries(namespace, status, event_type)]

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        return f"WebhookInbox({list(self.namespaces)})"


def _key(event: dict) -> str:
    return json.dumps([event["namespace"], event["type"], event["at"], event["payload"]],
                      sort_keys=True)
