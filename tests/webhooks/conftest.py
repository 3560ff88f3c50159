"""A live server (real sockets, the outbox's worker thread) and local receivers for webhook tests."""
from __future__ import annotations

import pytest
import requests

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control import Client
from mock_server.server import Server
from waffo.helpers import ISSUE_TOKEN, ONETIME_ORDER, PRODUCTS, STORES, WaffoClient

from .receiver import Receiver

DODO_KEY = "sk_test_webhooks"
EBOOK = "pdt_uGej5ygB4DvTZFDmnvmUM"


@pytest.fixture
def live(clock):
    # The suite's frozen clock: retries fall due only when a test moves it (or flushes).
    app = create_app(Settings(port=0, webhook_timeout_seconds=1.0), clock=clock)
    server = Server(app, "127.0.0.1", 0, threads=8).start()
    try:
        yield server
    finally:
        server.stop()
        app.extensions["paymock.webhooks"].stop()


@pytest.fixture
def mock(live) -> Client:
    return Client(live.url)


@pytest.fixture
def receivers():
    made = []

    def make(**kwargs) -> Receiver:
        receiver = Receiver(**kwargs)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()


def dodo_session(live, key: str = DODO_KEY, **fields) -> str:
    body = {"product_cart": [{"product_id": EBOOK, "quantity": 1}],
            "customer": {"email": "ada@example.com", "name": "Ada Lovelace"}, **fields}
    response = requests.post(f"{live.url}/dodo/checkouts", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()["session_id"]


def waffo_order(live, email: str = "buyer@example.com", **fields) -> str:
    """A one-time order placed through the API, as the hosted page would place it."""
    client = WaffoClient(base_url=live.url)
    session_id = client.session("ebook", **fields)
    token = client.token(email)
    status, payload, _ = client.bearer(ONETIME_ORDER, {
        "checkoutSessionId": session_id, "buyerEmail": email,
        "billingDetail": {"country": "US", "state": "CA", "isBusiness": False}}, token)
    assert status == 200, payload
    state = requests.get(f"{live.url}/_mock/state", timeout=10).json()["namespaces"]
    orders = [o for ns in state.values() for o in ns.get("order", {}).values()
              if o["checkoutSessionId"] == session_id]
    return orders[0]["orderId"]


__all__ = ["DODO_KEY", "ISSUE_TOKEN", "PRODUCTS", "STORES"]


def attempts_logged(mock: Client, count: int, timeout: float = 10.0) -> list[dict]:
    """Wait until the delivery log holds `count` attempts: a receiver sees a request a moment
    before the outbox records the answer and schedules the retry, and moving the clock in
    between would shift the retry."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        deliveries = mock.webhooks.deliveries()
        if sum(len(d["attempts"]) for d in deliveries) >= count:
            return deliveries
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} logged attempt(s): {deliveries}")
        time.sleep(0.02)
