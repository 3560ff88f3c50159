"""Pending deliveries survive a restart through the state file's components (core/persistence.py)."""
from __future__ import annotations

import json
import time

import orjson

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control import Client

from .conftest import DODO_KEY, EBOOK


def test_a_pending_delivery_is_sent_after_a_restore(receivers, clock):
    receiver = receivers(statuses=[500])
    first = create_app(Settings(public_url="http://mock.test", webhook_timeout_seconds=2), clock=clock)
    client = first.test_client()
    outbox = first.extensions["paymock.webhooks"]
    outbox.add_endpoint(receiver.url, namespace=Client.namespace_for("dodo", DODO_KEY),
                        secret="whsec_" + "c2VjcmV0LW5ldmVyLWluLWEtc3RhdGUtZmlsZQ==")
    session_id = client.post("/dodo/checkouts", headers={"Authorization": f"Bearer {DODO_KEY}"},
                             json={"product_cart": [{"product_id": EBOOK, "quantity": 1}]}).json["session_id"]
    assert client.post(f"/_mock/payments/{session_id}/outcome", json={"outcome": "paid"}).status_code == 200
    receiver.wait_for(1)
    deadline = time.monotonic() + 5
    while not outbox.deliveries()[0]["attempts"] and time.monotonic() < deadline:
        time.sleep(0.02)  # the answer is logged a moment after the receiver saw the request
    [delivery] = outbox.deliveries()
    assert delivery["status"] == "pending"
    document = first.extensions["paymock"].persistence.dump()
    outbox.stop()
    saved = orjson.dumps(document).decode()
    assert "whsec_" not in saved, "signing secrets never go into a state file"

    second = create_app(Settings(public_url="http://mock.test"), clock=clock)
    second.extensions["paymock"].persistence.load(json.loads(saved))
    restored = second.extensions["paymock.webhooks"]
    try:
        assert restored.flush(5)
        [after] = restored.deliveries()
        assert after["id"] == delivery["id"] and after["status"] == "delivered"
        assert [a["status_code"] for a in after["attempts"]] == [500, 200]
        assert receiver.wait_for(2)[1]["headers"]["webhook-id"] == delivery["id"]
    finally:
        restored.stop()
