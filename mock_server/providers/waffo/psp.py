"""The payment service provider seam.

Waffo creates a PSP checkout for every order; when that call fails the order is rolled back. The
mock's PSP is this plain object: it answers with a URL on the mock's own `/psp/` page. Tests (and,
later, the fault-injection control API) swap it or call `fail_next()` to make the call fail.
"""
from __future__ import annotations

import threading

from ...core import ids


class PspError(Exception):
    """The PSP could not create a checkout; Waffo surfaces it as its 500."""


class MockPsp:
    def __init__(self, page_url):
        self._page_url = page_url  # psp checkout id -> URL of the fake PSP page
        self._lock = threading.Lock()
        self._failures = 0
        self.calls = 0

    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._failures = count

    def create_checkout(self, order: dict) -> dict:
        with self._lock:
            self.calls += 1
            if self._failures > 0:
                self._failures -= 1
                raise PspError("mock PSP: checkout creation failed (injected)")
        checkout_id = ids.prefixed("psp_cs", 24)
        return {"pspCheckoutId": checkout_id, "checkoutUrl": self._page_url(checkout_id)}
