"""pytest plugin (entry point `pytest11`): a paymock server for the test session, and a `paymock`
fixture per test.

    def test_checkout_survives_a_conflict(paymock):
        api = paymock.provider(name)   # or paymock.<name>: base_url, credential, namespace
        paymock.fail(f"{name}.<operationId>", status=409, times=1)
        paymock.clock.advance(minutes=46)
        ...

    def test_a_paid_order_says_so(paymock, paymock_inbox):
        waffo = paymock.waffo          # a merchant of the test's own: merchant_id, private_key
        waffo.post("/v1/actions/checkout/create-session", json={...})   # signed as the SDK signs
        ...
        paymock.pay(order_id)
        assert paymock_inbox.wait_for("order.completed")["data"]["orderId"] == order_id

The server runs in a thread of the test process, on a free port, with the default fixtures
(`--paymock-url URL` or PAYMOCK_URL uses a running server instead). Each test gets a credential of
its own from each provider that mints one (Provider.handle_for_test), hence its own namespace
(Waffo: a merchant with a fresh key pair, registered on first use); fault rules and clock changes
a test makes are undone after it. `paymock_inbox` (also `paymock.inbox`) holds the webhooks the
test's namespaces sent, read from the server's event log: no receiver to run.

Quiet: the server the plugin starts prints nothing. Its log records (a failed webhook attempt,
an error) go to pytest's log capture, shown with a failed test's report only, and a test that
fails gets a "paymock" section: the requests the server saw from it and the webhooks it sent.
"""
from __future__ import annotations

import logging
import os

import pytest

from .testing import Paymock, PaymockServer, start_server


def pytest_addoption(parser):
    group = parser.getgroup("paymock")
    group.addoption("--paymock-url", default=os.environ.get("PAYMOCK_URL"),
                    help="use a running paymock server instead of starting one (or PAYMOCK_URL)")
    group.addoption("--paymock-fixtures", default=os.environ.get("PAYMOCK_FIXTURES"),
                    help="catalog JSON for the server the plugin starts")


@pytest.fixture(scope="session")
def paymock_server(request):
    url = request.config.getoption("--paymock-url")
    if url:
        server = PaymockServer(url)
        server.control.health()  # fail early, with the URL in the message, if nothing answers
        yield server
        return
    _quiet()
    server = start_server(request.config.getoption("--paymock-fixtures"))
    yield server
    server.stop()


def _quiet() -> None:
    """The embedded server's loggers print nothing by themselves: without a handler of their
    own, Python's last-resort handler would write their warnings to stderr whenever pytest's log
    capture is not there to take them (`-p no:logging`, between tests). Records still propagate
    to pytest's capture, which shows them with a failed test only."""
    for name in ("paymock", "waitress"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())


@pytest.fixture
def paymock(paymock_server):
    handle = Paymock(paymock_server)
    yield handle
    handle.cleanup()


@pytest.fixture
def paymock_inbox(paymock):
    """The webhooks the test's namespaces sent, Dodo's and Waffo's (webhook_inbox.py):
    `wait_for(event_type, timeout=5)` returns a payload, `events`, `types()`, `payloads(type)`."""
    return paymock.inbox


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    handle = getattr(item, "funcargs", {}).get("paymock")
    if not isinstance(handle, Paymock):
        return
    try:
        summary = handle.failure_summary()
    except Exception as exc:  # the server may be what failed: say so, but keep the report
        summary = f"(the server could not be asked: {type(exc).__name__}: {exc})"
    if summary:
        report.sections.append(("paymock: what the server saw", summary))
