"""The mock payment service provider (PSP) the providers hand buyers to.

Creating a PSP checkout is the one call inside an order that can fail on its own (a provider may
document rolling the order back when it does). The fault engine reaches it as provider "psp",
operation "createCheckout". A fault action means what it means at an API answer: latency (fixed or
a range) delays the call, an error status or a connection fault makes it fail (a hang first waits
`hang_seconds`, as a client would before its timeout), and `decline` lets it succeed while the
payment page will later decline. Plain Python tests can also call `fail_next()`.
"""
from __future__ import annotations

import random
import threading

from . import ids
from .faults import RequestInfo
from .waits import Waits

OPERATION = "createCheckout"
# An off-session charge of a saved payment method (a subscription's renewal): a rule with
# `decline` (or an error status) makes it fail.
CHARGE_SAVED = "chargeSavedMethod"
OPERATIONS = (OPERATION, CHARGE_SAVED)


class PspError(Exception):
    """The PSP could not create a checkout; the provider surfaces its documented 500."""


class MockPsp:
    def __init__(self, page_url, faults=None, waits: Waits | None = None):
        self._page_url = page_url  # psp checkout id -> URL of the fake PSP page
        self._faults = faults
        self._waits = waits or Waits(threading.Event())
        self._lock = threading.Lock()
        self._failures = 0
        self._rng = random.Random()
        self.calls = 0

    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._failures = count

    def charge_saved(self, charge: dict, namespace: str | None = None) -> str | None:
        """The decline reason a fault rule gives this off-session charge, or None. No latency:
        the scheduler makes these charges, and nobody waits on them."""
        if not self._faults:
            return None
        decided = self._faults.decide(RequestInfo("psp", CHARGE_SAVED, "POST", "/charges",
                                                  namespace, charge))
        if decided is None:
            return None
        rule, action = decided
        if action.decline:
            return action.decline
        return "PROCESSING_ERROR" if action.fails() else None

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
                rule, action = decided
                delay = action.delay_seconds(self._rng)
                if action.connection == "hang":
                    delay += action.hang_seconds
                if delay:
                    if not self._waits.begin():
                        raise PspError("mock PSP: checkout creation failed (injected waits hold "
                                       "every thread but the control API's; not delayed)")
                    try:
                        self._waits.wait(delay)
                    finally:
                        self._waits.end()
                if action.fails():
                    raise PspError(f"mock PSP: checkout creation failed (fault rule {rule.id})")
                decline = action.decline
        checkout_id = ids.prefixed("psp_cs", 24)
        checkout = {"pspCheckoutId": checkout_id, "checkoutUrl": self._page_url(checkout_id)}
        if decline:
            checkout["declineReason"] = decline
        return checkout
