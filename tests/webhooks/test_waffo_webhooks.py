"""Waffo webhooks: X-Waffo-Signature with paymock's TEST-ONLY key, verified by the official
@waffo/pancake-ts verifyWebhook given the public key paymock serves."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control import Client
from mock_server.server import Server

from .conftest import attempts_logged, waffo_order
from .receiver import verify_waffo


def test_public_key_is_served_at_a_documented_url(live, mock):
    response = requests.get(f"{live.url}/_mock/waffo/webhook-public-key", timeout=10)
    assert response.status_code == 200
    committed = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks" / "waffo-webhook.TEST-ONLY.public.pem"
    assert response.text == committed.read_text()
    assert response.text.startswith("-----BEGIN PUBLIC KEY-----")
    assert mock.webhooks.public_key("waffo") == response.text


def test_order_completed_verifies_with_the_sdk_and_tampering_fails(live, mock, receivers):
    receiver = receivers()
    mock.webhooks.add_endpoint(receiver.url, provider="waffo")
    order_id = waffo_order(live)
    mock.pay(order_id)
    [request] = receiver.wait_for(1)
    signature = request["headers"]["x-waffo-signature"]
    assert signature.startswith("t=") and ",v1=" in signature
    tampered = request["body"].replace('"orderStatus":"completed"', '"orderStatus":"refunded"')
    assert tampered != request["body"]
    good, bad = verify_waffo(mock.webhooks.public_key("waffo"), [
        {"body": request["body"], "signature": signature},
        {"body": tampered, "signature": signature}])
    assert good["ok"], good
    assert not bad["ok"] and "signature" in bad["error"].lower()
    event = good["event"]
    assert event["eventType"] == "order.completed"
    assert set(event) >= {"id", "timestamp", "eventType", "eventId", "storeId", "storeName", "mode", "data"}
    assert event["mode"] == "test" and event["storeName"]
    data = event["data"]
    assert (data["orderId"], data["orderStatus"], data["paymentStatus"]) == (order_id, "completed", "succeeded")
    assert (data["currency"], data["subtotal"], data["taxAmount"], data["total"]) == ("USD", "29.00", "2.10", "31.10")
    assert data["buyerEmail"] == "buyer@example.com" and data["paymentLast4"] == "4242"
    assert event["eventId"] == data["paymentId"]


def test_a_failed_payment_sends_no_event_by_default(live, mock, receivers):
    """Waffo documents no event for a failed payment: the buyer may try again, and the order's
    first webhook is order.completed when one succeeds."""
    receiver = receivers()
    mock.webhooks.add_endpoint(receiver.url, provider="waffo")
    order_id = waffo_order(live)
    mock.pay(order_id, "declined", "card_declined")
    mock.pay(order_id, "paid")
    [request] = receiver.wait_for(1)
    assert json.loads(request["body"])["eventType"] == "order.completed"
    assert [e["type"] for e in mock.webhooks.events()
            if e["provider"] == "waffo"] == ["order.completed"]


@pytest.fixture
def live_with_failed_event(clock):
    app = create_app(Settings(port=0, webhook_timeout_seconds=1.0,
                              waffo_payment_failed_event="order.payment_failed"), clock=clock)
    server = Server(app, "127.0.0.1", 0, threads=4).start()
    try:
        yield server
    finally:
        server.stop()
        app.extensions["paymock.webhooks"].stop()


def test_failed_payment_event_when_configured_keeps_the_order_pending(live_with_failed_event,
                                                                      receivers):
    live, mock = live_with_failed_event, Client(live_with_failed_event.url)
    receiver = receivers()
    mock.webhooks.add_endpoint(receiver.url, provider="waffo")
    order_id = waffo_order(live)
    mock.pay(order_id, "declined", "card_declined")
    [request] = receiver.wait_for(1)
    event = json.loads(request["body"])
    assert event["eventType"] == "order.payment_failed"
    data = event["data"]
    assert (data["orderStatus"], data["paymentStatus"], data["paymentFailureReason"]) == (
        "pending", "failed", "CARD_DECLINED")
    [result] = verify_waffo(mock.webhooks.public_key("waffo"),
                            [{"body": request["body"], "signature": request["headers"]["x-waffo-signature"]}])
    assert result["ok"], result


def test_t_is_stamped_once_and_reused_on_every_retry(live, mock, receivers, clock):
    receiver = receivers(statuses=[500, 503])
    mock.webhooks.add_endpoint(receiver.url, provider="waffo")
    mock.pay(waffo_order(live))
    attempts_logged(mock, 1)
    clock.advance(5 * 60)      # Waffo's schedule: 5, 10, 20 minutes
    attempts_logged(mock, 2)
    clock.advance(10 * 60)
    attempts = receiver.wait_for(3)
    assert [a["status"] for a in attempts] == [500, 503, 200]
    signatures = {a["headers"]["x-waffo-signature"] for a in attempts}
    bodies = {a["body"] for a in attempts}
    assert len(signatures) == 1 and len(bodies) == 1
    assert len(receiver.processed) == 1
