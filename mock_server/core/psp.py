"""The mock payment service provider (PSP) both providers hand buyers to.

Creating a PSP checkout is the one call inside an order that can fail on its own (Waffo rolls the
order back when it does). The fault engine reaches it as provider "psp", operation
"createCheckout": a rule with a status >= 400 or a connection fault makes the call fail, latency
makes it slow, and `decline` lets it succeed while the payment page will later decline. Plain
Python tests can also call `fail_next()`.
"""
from __future__ import annotations

import threading

from . import ids
from .faults import RequestInfo

OPERATION = "createCheckout"


class PspError(Exception):
    """The PSP could not create a checkout; the provider surfaces its documented 500."""


class MockPsp:
    def __init__(self, page_url, faults=None, shutdown: threading.Event | None = None):
        self._page_url = page_url  # psp checkout id -> URL of the fake PSP page
        self._faults = faults
        self._shutdown = shutdown or threading.Event()
        self._lock = threading.Lock()
        self._failures = 0
        self.calls = 0

    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._failures = count

    def create_checkout(self, order: dict, namespace: str | None = None) -> dict:
        with self._lock:
            self.calls += 1
            if self._failures > 0:
                self._failures -= 1
                raise PspError("mock PSP: checkout creation failed (injected)")
        decline = None
        if self._faults:
            decided = self._faults.decide(RequestInfo("psp", OPERATION, "POST", "/checkouts",
                                                      namespace, order))
            if decided is not None:
                action = decided[1]
                delay = action.latency_ms / 1000 if not action.latency_range_ms else \
                    (action.latency_ms + sum(action.latency_range_ms) / 2) / 1000
                if delay:
                    self._shutdown.wait(delay)
                if action.connection is not None or (action.status or 0) >= 400:
                    raise PspError(f"mock PSP: checkout creation failed (fault rule {decided[0].id})")
                decline = action.decline
        checkout_id = ids.prefixed("psp_cs", 24)
        checkout = {"pspCheckoutId": checkout_id, "checkoutUrl": self._page_url(checkout_id)}
        if decline:
            checkout["declineReason"] = decline
        return checkout
