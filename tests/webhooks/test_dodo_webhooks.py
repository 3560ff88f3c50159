"""Dodo webhooks: Standard Webhooks signatures that the official SDK and `standardwebhooks` accept,
envelopes shaped as the vendor spec's payloads."""
from __future__ import annotations

import json

import pytest
from dodopayments import DodoPayments
from standardwebhooks import Webhook, WebhookVerificationError

from mock_server.control import Client
from mock_server.core.contracts import Contract
from mock_server.providers.dodo.webhooks import DEFAULT_SECRET

from .conftest import DODO_KEY, dodo_session

CONTRACT = Contract.load("dodo")
NAMESPACE = Client.namespace_for("dodo", DODO_KEY)


def unwrap(body: str, headers: dict, secret: str = DEFAULT_SECRET):
    sdk = DodoPayments(bearer_token="unused", base_url="http://127.0.0.1:9/dodo")
    return sdk.webhooks.unwrap(body, headers=headers, key=secret)


def check_envelope(event: dict, event_type: str, payment_id: str) -> dict:
    assert set(event) == {"business_id", "type", "timestamp", "data"}
    assert event["type"] == event_type
    data = dict(event["data"])
    assert data.pop("payload_type") == "Payment"
    assert data["payment_id"] == payment_id
    assert CONTRACT.response_errors("get_payment_handler", 200, data) == []
    return data


def test_success_webhook_verifies_with_the_sdk_and_standardwebhooks(live, mock, receivers):
    receiver = receivers(verify=lambda body, headers: unwrap(body, headers))
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    session_id = dodo_session(live, metadata={"order": "42"})
    payment = mock.pay(session_id)
    [request] = receiver.wait_for(1)
    assert request["status"] == 200, request["error"]
    headers = request["headers"]
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(DEFAULT_SECRET).verify(request["body"], headers)["type"] == "payment.succeeded"
    event = unwrap(request["body"], headers)
    assert event.type == "payment.succeeded" and event.data.payment_id == payment["id"]
    data = check_envelope(json.loads(request["body"]), "payment.succeeded", payment["id"])
    assert (data["status"], data["total_amount"], data["currency"]) == ("succeeded", 2599, "USD")
    assert data["checkout_session_id"] == session_id
    assert data["metadata"] == {"order": "42"}
    assert data["customer"]["email"] == "ada@example.com"
    assert data["customer"]["customer_id"].startswith("cus_")


def test_a_tampered_body_or_another_secret_fails_verification(live, mock, receivers):
    receiver = receivers()
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    mock.pay(dodo_session(live))
    [request] = receiver.wait_for(1)
    tampered = request["body"].replace('"total_amount":2599', '"total_amount":1')
    assert tampered != request["body"]
    with pytest.raises(WebhookVerificationError):
        Webhook(DEFAULT_SECRET).verify(tampered, request["headers"])
    with pytest.raises(Exception, match="signature"):
        unwrap(tampered, request["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==").verify(request["body"],
                                                                           request["headers"])


def test_failed_processing_and_cancelled_events(live, mock, receivers):
    receiver = receivers()
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    first = dodo_session(live)
    mock.pay(first, "processing")
    payment = mock.pay(first, "declined", "insufficient_funds")
    mock.pay(dodo_session(live), "cancelled")
    requests_ = receiver.wait_for(3)
    events = sorted((json.loads(r["body"]) for r in requests_), key=lambda e: e["type"])
    assert [e["type"] for e in events] == ["payment.cancelled", "payment.failed", "payment.processing"]
    failed = check_envelope(events[1], "payment.failed", payment["id"])
    assert (failed["error_code"], failed["status"]) == ("INSUFFICIENT_FUNDS", "failed")
    assert failed["error_message"] == "Your card has insufficient funds."
    assert events[0]["data"]["status"] == "cancelled"


def test_secret_from_the_control_api_and_per_endpoint(live, mock, receivers):
    secret = "whsec_" + "c2hvcC1zZWNyZXQtZm9yLXRlc3RzLW9ubHk="
    assert mock.webhooks.set_secret(secret) == secret
    assert mock.webhooks.secret() == secret
    shared, own = receivers(), receivers()
    mock.webhooks.add_endpoint(shared.url, namespace=NAMESPACE)
    own_secret = "whsec_" + "ZW5kcG9pbnQtb3duLXNlY3JldC0xMjM0NQ=="
    mock.webhooks.add_endpoint(own.url, namespace=NAMESPACE, secret=own_secret)
    mock.pay(dodo_session(live))
    [a], [b] = shared.wait_for(1), own.wait_for(1)
    assert unwrap(a["body"], a["headers"], secret).type == "payment.succeeded"
    assert unwrap(b["body"], b["headers"], own_secret).type == "payment.succeeded"
    with pytest.raises(WebhookVerificationError):
        Webhook(DEFAULT_SECRET).verify(a["body"], a["headers"])
