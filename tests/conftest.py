"""Shared fixtures: an app on the Flask test client (fast, per test) and one live waitress server
(per session) for real clients: the official SDKs and Schemathesis."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mock_server import fixtures as catalog_module
from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.core.clock import Clock
from mock_server.server import Server

API_KEY = "sk_test_paymock_suite"
OTHER_API_KEY = "sk_test_paymock_other"
# Schemathesis' own: what fuzzing creates, archives or deletes stays out of the other tests' way.
FUZZ_API_KEY = "sk_test_paymock_fuzz"
# The generic resources' SDK walk makes products, customers and payments: under a key of its
# own, so that tests reading the suite key's catalog see only the fixture's.
WALK_API_KEY = "sk_test_paymock_walk"
SHARED = Path(__file__).resolve().parents[2] / "shared"  # ../shared, beside the checkout
# The vendor's current Dodo spec, which contracts/dodo is derived from.
VENDOR_SPEC = SHARED / "reference" / "dodo-current" / "dodo-openapi-1.113.0.json"


class Catalog:
    def __init__(self, data: dict):
        self.data = data
        self._by_slug = {p["metadata"]["fixture"]: p for p in data["dodo"]["products"]}

    def dodo_product(self, slug: str) -> dict:
        return self._by_slug[slug]

    def dodo_id(self, slug: str) -> str:
        return self._by_slug[slug]["product_id"]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog(catalog_module.load())


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.freeze(1_790_000_000.0)  # 2026-09-21T14:13:20Z; frozen so lifetimes are exact
    return clock


@pytest.fixture
def app(clock):
    app = create_app(Settings(public_url="http://mock.test"), clock=clock)
    yield app
    # Its scheduler thread would keep the whole app alive for the rest of the session.
    app.extensions["paymock"].scheduler.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="session")
def live_server():
    # Only known keys, as on the real API (Schemathesis' ignored_auth check sends made-up ones).
    app = create_app(Settings(port=0, dodo_api_keys=f"{API_KEY},{OTHER_API_KEY},{FUZZ_API_KEY},{WALK_API_KEY}"))
    server = Server(app, "127.0.0.1", 0, threads=8).start()
    yield server
    server.stop()


def beside_the_repo(*parts: str) -> Path:
    """A file of ../shared (the vendor's specs, the seeds), which a clone alone does not have:
    a test that reads one skips, with the reason, in a user's clone, and fails in CI, which sets
    PAYMOCK_REQUIRE_VENDOR_SPEC=1 and has ../shared beside the checkout."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("PAYMOCK_REQUIRE_VENDOR_SPEC") == "1":
            pytest.fail(f"{path} not found beside the repository")
        pytest.skip(f"{path} not found: ../shared is not beside this checkout")
    return path


@pytest.fixture(scope="session")
def vendor_spec() -> dict:
    """The vendor's Dodo OpenAPI document, kept beside the repo (../shared), never copied into it.
    CI sets PAYMOCK_REQUIRE_VENDOR_SPEC=1 so that its absence fails there instead of skipping."""
    path = Path(os.environ.get("PAYMOCK_VENDOR_SPEC", VENDOR_SPEC))
    if not path.exists():
        if os.environ.get("PAYMOCK_REQUIRE_VENDOR_SPEC") == "1":
            pytest.fail(f"vendor spec not found at {path}")
        pytest.skip(f"vendor spec not found at {path} (set PAYMOCK_VENDOR_SPEC)")
    return json.loads(path.read_text())
