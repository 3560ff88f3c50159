"""Fixtures for the contract kit's tests: the kit runs in-process through paymock's own CLI entry
point, against mocks started here (a plain one for the broken-mock tests, a strict one that hides
/_mock and stands in for a provider's real API)."""
from __future__ import annotations

import pytest

from mock_server import cli
from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.providers.dodo.contract_support import FIXTURE_DODO_API_KEY
from mock_server.control.client import Client
from mock_server.server import Server

# What a real account's secrets look like to the kit; the tests grep every output for them.
REMOTE_DODO_KEY = "sk_test_REMOTE_SECRET_do_not_print_0123456789"


class Run:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err
        self.text = out + err


@pytest.fixture
def kit(capsys):
    """`kit("contract", "dodo", ...)` runs `paymock contract ...` and returns code and output."""
    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)
    return run


class HideControl:
    """WSGI middleware: /_mock answers 404, as on a provider's real API, so the kit cannot take the
    server for paymock."""

    def __init__(self, app):
        self.app = app
        self.extensions = app.extensions
        self.seen: list[tuple[str, str]] = []   # (method, path) of every request

    def __call__(self, environ, start_response):
        self.seen.append((environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")))
        if environ.get("PATH_INFO", "").startswith("/_mock"):
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"message": "Not Found"}']
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def mock():
    """A running paymock that accepts only the kit's fixture key (so auth checks can fail)."""
    app = create_app(Settings(port=0, dodo_api_keys=FIXTURE_DODO_API_KEY))
    server = Server(app, "127.0.0.1", 0, threads=8).start()
    server.control = Client(server.url)
    yield server
    server.stop()


@pytest.fixture
def broken(mock):
    """Fault rules added through the control API, deleted after the test."""
    added = []

    def add(rule: dict) -> dict:
        added.append(mock.control.faults.add(rule))
        return added[-1]
    yield add
    for rule in added:
        mock.control.faults.delete(rule["id"])


@pytest.fixture(scope="module")
def remote():
    """A strict paymock with an API-key allow-list, /_mock hidden: the stand-in for a real API."""
    app = create_app(Settings(port=0, strict=True, dodo_api_keys=REMOTE_DODO_KEY))
    server = Server(HideControl(app), "127.0.0.1", 0, threads=8).start()
    server.seen = server.app.seen
    yield server
    server.stop()

