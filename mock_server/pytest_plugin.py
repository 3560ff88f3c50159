"""pytest plugin (entry point `pytest11`): a paymock server for the test session, and a `paymock`
fixture per test.

    def test_checkout_survives_a_conflict(paymock):
        api = paymock.provider(name)   # or paymock.<name>: base_url, credential, namespace
        paymock.fail(f"{name}.<operationId>", status=409, times=1)
        paymock.clock.advance(minutes=46)
        ...

The server runs in a thread of the test process, on a free port, with the default fixtures
(`--paymock-url URL` or PAYMOCK_URL uses a running server instead). Each test gets a credential of
its own from each provider that mints one (Provider.handle_for_test), hence its own namespace;
fault rules and clock changes a test makes are undone after it.
"""
from __future__ import annotations

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
    server = start_server(request.config.getoption("--paymock-fixtures"))
    yield server
    server.stop()


@pytest.fixture
def paymock(paymock_server):
    handle = Paymock(paymock_server)
    yield handle
    handle.cleanup()
