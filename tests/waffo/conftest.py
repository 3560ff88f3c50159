from __future__ import annotations

import pytest

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.server import Server

from .helpers import WaffoClient


@pytest.fixture
def app(clock):
    # `clock` is the suite's frozen clock (tests/conftest.py): lifetimes are exact, and API-key
    # timestamps stay valid because the gateway also accepts wall-clock-fresh ones.
    return create_app(Settings(port=0, public_url="http://mock.test"), clock=clock)


@pytest.fixture
def core(app):
    return app.extensions["paymock"]


@pytest.fixture
def waffo(app):
    return app.extensions["paymock.waffo"]


@pytest.fixture
def client(app):
    return WaffoClient(app.test_client())


@pytest.fixture
def live(app):
    """The same app on a real server (threads, sockets) for concurrency, SDK and Schemathesis."""
    server = Server(app, port=0, threads=16).start()
    app.extensions["paymock"].public_url = server.url
    try:
        yield server
    finally:
        server.stop()
