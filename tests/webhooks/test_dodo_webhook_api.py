"""Dodo's /webhooks end to end with the official SDK (1.123.0): an endpoint made with
`client.webhooks.create` receives the namespace's events, verified by the SDK's own
`client.webhooks.unwrap` with the key `retrieve_secret` gives, with its custom headers, only its
filter_types, nothing while disabled; changes and deletion apply to later deliveries; a rotation
(mock-only control route) signs with the old and the new secret for 24 h of mock time."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from dodopayments import DodoPayments, NotFoundError, UnprocessableEntityError
from standardwebhooks import WebhookVerificationError

from mock_server.control import Client
from mock_server.control.client import ControlAPIError
from mock_server.core.contracts import Contract
from mock_server.providers.dodo.webhooks import DEFAULT_SECRET

from .conftest import attempts_logged

CONTRACT = Contract.load("dodo")


@pytest.fixture
def key():
    return f"sk_test_hooks_{uuid.uuid4().hex[:12]}"  # a namespace of the test's own


@pytest.fixture
def ns(key):
    return Client.namespace_for("dodo", key)


@pytest.fixture
def sdk(live, key):
    return DodoPayments(bearer_token=key, base_url=f"{live.url}/dodo", max_retries=0)


def checked(raw, operation_id: str):
    """A `with_raw_response` call's answer, checked against the contract, then parsed."""
    body = raw.http_response.json() if raw.http_response.content else None
    assert CONTRACT.response_errors(operation_id, raw.status_code, body) == []
    return raw.parse()


def create(sdk, **fields):
    return checked(sdk.webhooks.with_raw_response.create(**fields), "create_webhook")


def unwrap(sdk, request: dict, key: str):
    return sdk.webhooks.unwrap(request["body"], headers=request["headers"], key=key)


def refusal(exc_info, operation_id: str, status: int, code: str, message: str) -> None:
    error = exc_info.value
    assert error.status_code == status
    assert (error.body["code"], error.body["message"]) == (code, message)
    assert CONTRACT.response_errors(operation_id, status, error.body) == []


def events_of(receiver) -> list[str]:
    return [json.loads(r["body"])["type"] for r in receiver.requests]


def test_an_sdk_made_webhook_receives_signed_events_with_its_headers(live, mock, sdk, ns, receivers):
    made = create(sdk, url="http://127.0.0.1:1/later", description="orders",
                  metadata={"team": "billing"},
                  headers={"X-Tenant": "acme", "Authorization": "Bearer receiver-token"})
    assert made.id.startswith("whk_")
    assert (made.description, made.metadata, made.disabled, made.filter_types) == (
        "orders", {"team": "billing"}, False, [])
    secret = checked(sdk.webhooks.with_raw_response.retrieve_secret(made.id),
                     "get_webhook_secret").secret
    assert secret.startswith("whsec_") and secret != DEFAULT_SECRET
    receiver = receivers(verify=lambda body, headers: sdk.webhooks.unwrap(
        body, headers=headers, key=secret))
    checked(sdk.webhooks.with_raw_response.update(made.id, url=receiver.url), "patch_webhook")

    paid = mock.trigger("payment.succeeded", namespace=ns)["payment"]
    [request] = receiver.wait_for(1)
    assert request["status"] == 200, request["error"]  # the receiver verified it with the SDK
    event = unwrap(sdk, request, secret)
    assert (event.type, event.data.payment_id) == ("payment.succeeded", paid["payment_id"])
    assert CONTRACT.webhook_errors("payment.succeeded", json.loads(request["body"])) == []
    assert request["headers"]["x-tenant"] == "acme"
    assert request["headers"]["authorization"] == "Bearer receiver-token"
    with pytest.raises(WebhookVerificationError):
        unwrap(sdk, request, DEFAULT_SECRET)  # its own secret, not the shared one

    # The same endpoint as the control API's: listed there, its deliveries logged there.
    [listed] = mock.webhooks.endpoints(ns)
    assert (listed["id"], listed["url"], listed["header_names"]) == (
        made.id, receiver.url, ["Authorization", "X-Tenant"])
    for _ in range(100):  # the receiver has answered; the outbox records it just after
        [delivery] = mock.webhooks.deliveries(ns)
        if delivery["status"] != "pending":
            break
        time.sleep(0.05)
    assert (delivery["endpoint_id"], delivery["status"]) == (made.id, "delivered")
    headers = checked(sdk.webhooks.headers.with_raw_response.retrieve(made.id),
                      "get_webhook_headers")
    assert (headers.headers, headers.sensitive) == ({"X-Tenant": "acme"}, ["Authorization"])
    got = checked(sdk.webhooks.with_raw_response.retrieve(made.id), "get_webhook")
    assert (got.id, got.url, got.metadata) == (made.id, receiver.url, {"team": "billing"})


def test_filter_types_and_disabled_decide_what_is_sent(live, mock, sdk, ns, receivers):
    failures, off, everything = receivers(), receivers(), receivers()
    only_failed = create(sdk, url=failures.url, filter_types=["payment.failed"])
    disabled = create(sdk, url=off.url, disabled=True)
    assert (only_failed.filter_types, disabled.disabled) == (["payment.failed"], True)
    create(sdk, url=everything.url)
    mock.trigger("payment.succeeded", namespace=ns)
    mock.trigger("payment.failed", namespace=ns)
    assert sorted(json.loads(r["body"])["type"] for r in everything.wait_for(2)) == [
        "payment.failed", "payment.succeeded"]
    assert mock.webhooks.flush()["idle"]
    assert events_of(failures) == ["payment.failed"]
    assert off.requests == [] and not [d for d in mock.webhooks.deliveries(ns)
                                      if d["endpoint_id"] == disabled.id]

    enabled = checked(sdk.webhooks.with_raw_response.update(
        disabled.id, disabled=False, filter_types=["payment.succeeded"]), "patch_webhook")
    assert (enabled.disabled, enabled.filter_types) == (False, ["payment.succeeded"])
    checked(sdk.webhooks.with_raw_response.update(only_failed.id, filter_types=[]), "patch_webhook")
    mock.trigger("payment.succeeded", namespace=ns)
    everything.wait_for(3)
    assert mock.webhooks.flush()["idle"]
    assert events_of(off) == ["payment.succeeded"]
    assert events_of(failures) == ["payment.failed", "payment.succeeded"]


def test_header_changes_apply_to_later_deliveries(live, mock, sdk, ns, receivers):
    receiver = receivers()
    made = create(sdk, url=receiver.url, headers={"X-Tenant": "acme"})
    mock.trigger("payment.succeeded", namespace=ns)
    assert receiver.wait_for(1)[0]["headers"]["x-tenant"] == "acme"
    raw = sdk.webhooks.headers.with_raw_response.update(made.id, headers={"x-tenant": "beta",
                                                                          "X-Extra": "1"})
    assert checked(raw, "patch_webhook_headers") is None and raw.http_response.content == b""
    assert sdk.webhooks.headers.retrieve(made.id).headers == {"x-tenant": "beta", "X-Extra": "1"}
    mock.trigger("payment.succeeded", namespace=ns)
    second = receiver.wait_for(2)[1]["headers"]
    assert (second["x-tenant"], second["x-extra"]) == ("beta", "1")


def test_delete_stops_deliveries(live, mock, sdk, ns, receivers):
    receiver = receivers(statuses=[500])
    made = create(sdk, url=receiver.url)
    mock.trigger("payment.succeeded", namespace=ns)
    [pending] = attempts_logged(mock, 1)
    assert pending["status"] == "pending"  # a retry is due in 5 s
    raw = sdk.webhooks.with_raw_response.delete(made.id)
    assert checked(raw, "delete_webhook") is None and raw.status_code == 200
    assert mock.webhooks.delivery(pending["id"])["status"] == "cancelled"
    mock.trigger("payment.succeeded", namespace=ns)
    mock.clock.advance(minutes=10)
    assert mock.webhooks.flush()["idle"]
    assert len(receiver.requests) == 1
    assert [d["id"] for d in mock.webhooks.deliveries(ns)] == [pending["id"]]
    assert mock.webhooks.endpoints(ns) == []
    for call, operation_id in ((sdk.webhooks.retrieve, "get_webhook"),
                               (sdk.webhooks.delete, "delete_webhook"),
                               (sdk.webhooks.retrieve_secret, "get_webhook_secret"),
                               (sdk.webhooks.headers.retrieve, "get_webhook_headers")):
        with pytest.raises(NotFoundError) as caught:
            call(made.id)
        refusal(caught, operation_id, 404, "NOT_FOUND", "Webhook not found")


def test_another_keys_webhook_is_not_found(live, sdk, receivers):
    made = create(sdk, url=receivers().url)
    other = DodoPayments(bearer_token="sk_test_hooks_someone_else",
                         base_url=sdk.base_url, max_retries=0)
    with pytest.raises(NotFoundError) as caught:
        other.webhooks.update(made.id, description="mine now")
    refusal(caught, "patch_webhook", 404, "NOT_FOUND", "Webhook not found")
    assert made.id not in [w.id for w in other.webhooks.list()]


def test_listing_pages_with_the_iterator(live, sdk):
    made = [create(sdk, url=f"http://127.0.0.1:1/{n}").id for n in range(5)]
    first = checked(sdk.webhooks.with_raw_response.list(limit=2), "list_webhooks")
    assert [w.id for w in first.data] == made[:2] and first.done is False
    assert [w.id for w in sdk.webhooks.list(limit=2)] == made  # the SDK follows the iterator
    sdk.webhooks.delete(made[2])
    second = checked(sdk.webhooks.with_raw_response.list(limit=2, iterator=first.iterator),
                     "list_webhooks")
    assert [w.id for w in second.data] == made[3:] and second.done is True
    with pytest.raises(UnprocessableEntityError) as caught:
        sdk.webhooks.list(limit=0)
    refusal(caught, "list_webhooks", 422, "INVALID_REQUEST_BODY", "limit must be at least 1")
    with pytest.raises(UnprocessableEntityError) as caught:
        sdk.webhooks.list(iterator="nope")
    refusal(caught, "list_webhooks", 422, "INVALID_REQUEST_BODY",
            "iterator 'nope' is not one this API returned")


def test_bad_webhooks_are_refused(live, sdk):
    with pytest.raises(UnprocessableEntityError) as caught:
        sdk.webhooks.create(url="ftp://example.com/hooks")
    refusal(caught, "create_webhook", 422, "INVALID_REQUEST_BODY",
            "url must be an http(s) URL (http:// or https://)")
    with pytest.raises(UnprocessableEntityError) as caught:
        sdk.webhooks.create(url="http://127.0.0.1:1/x", headers={"Bad Header": "x"})
    refusal(caught, "create_webhook", 422, "INVALID_REQUEST_BODY",
            "headers: 'Bad Header' is not a valid HTTP header name")
    with pytest.raises(UnprocessableEntityError) as caught:
        sdk.webhooks.create(url="http://127.0.0.1:1/x", rate_limit=-1)
    assert caught.value.body["code"] == "INVALID_REQUEST_BODY"
    assert "rate_limit" in caught.value.body["message"]
    with pytest.raises(UnprocessableEntityError) as caught:
        sdk.webhooks.create(url="http://127.0.0.1:1/x", filter_types=["payment.teleported"])
    assert caught.value.body["code"] == "INVALID_REQUEST_BODY"
    assert "filter_types" in caught.value.body["message"]
    # The SDK's newer event type is taken (spec 1.113.0's enum lacks it).
    assert create(sdk, url="http://127.0.0.1:1/x",
                  filter_types=["subscription.past_due"]).filter_types == ["subscription.past_due"]


def test_an_idempotency_key_makes_one_webhook(live, sdk):
    first = create(sdk, url="http://127.0.0.1:1/x", idempotency_key="once")
    assert create(sdk, url="http://127.0.0.1:1/x", idempotency_key="once").id == first.id
    assert [w.id for w in sdk.webhooks.list()] == [first.id]


def test_a_rate_limit_spaces_first_attempts_on_the_mock_clock(live, mock, sdk, ns, receivers):
    receiver = receivers()
    made = create(sdk, url=receiver.url, rate_limit=1, filter_types=["payment.succeeded"])
    assert made.rate_limit == 1
    for _ in range(3):
        mock.trigger("payment.succeeded", namespace=ns)
    receiver.wait_for(1)
    attempts_logged(mock, 1)
    waiting = sorted(d["next_attempt_at"] for d in mock.webhooks.deliveries(ns, status="pending"))
    assert len(waiting) == 2 and waiting[0] < waiting[1]  # one second apart, in mock time
    assert len(receiver.requests) == 1  # the frozen clock holds them
    mock.clock.advance(seconds=2)
    assert len(receiver.wait_for(3)) == 3


def test_a_rotation_signs_with_both_secrets_for_24_hours(live, mock, sdk, ns, receivers):
    receiver = receivers()
    made = create(sdk, url=receiver.url, filter_types=["payment.succeeded"])
    old = sdk.webhooks.retrieve_secret(made.id).secret
    rotated = mock.webhooks.rotate_secret(made.id)
    new = sdk.webhooks.retrieve_secret(made.id).secret
    assert rotated["secret"] == new and new != old and new.startswith("whsec_")
    mock.trigger("payment.succeeded", namespace=ns)
    [during] = receiver.wait_for(1)
    assert len(during["headers"]["webhook-signature"].split(" ")) == 2
    for key in (old, new):
        assert unwrap(sdk, during, key).type == "payment.succeeded"

    mock.clock.advance(hours=24, seconds=1)
    mock.trigger("payment.succeeded", namespace=ns)
    after = receiver.wait_for(2)[1]
    assert unwrap(sdk, after, new).type == "payment.succeeded"
    with pytest.raises(WebhookVerificationError):
        unwrap(sdk, after, old)


def test_rotating_a_control_endpoint_moves_it_off_the_shared_secret(live, mock, sdk, ns, receivers):
    receiver = receivers()
    endpoint = mock.webhooks.add_endpoint(receiver.url, namespace=ns)
    chosen = "whsec_" + "cm90YXRlZC1zZWNyZXQtZm9yLXRlc3Rz"
    assert mock.webhooks.rotate_secret(endpoint["id"], secret=chosen, grace_seconds=60)["secret"] \
        == chosen
    assert sdk.webhooks.retrieve_secret(endpoint["id"]).secret == chosen  # same model
    mock.trigger("payment.succeeded", namespace=ns)
    [request] = receiver.wait_for(1)
    for key in (DEFAULT_SECRET, chosen):
        assert unwrap(sdk, request, key).type == "payment.succeeded"
    with pytest.raises(ControlAPIError, match="no webhook endpoint 'whk_missing'"):
        mock.webhooks.rotate_secret("whk_missing")
    with pytest.raises(ControlAPIError, match="secret must be whsec_ followed by base64"):
        mock.webhooks.rotate_secret(endpoint["id"], secret="not-a-secret")
    with pytest.raises(ControlAPIError, match="grace_seconds must be a number of seconds, 0 or more"):
        mock.webhooks.rotate_secret(endpoint["id"], grace_seconds=-1)


def test_a_webhook_and_its_secret_survive_a_restart(clock):
    from mock_server.app import create_app
    from mock_server.config import Settings

    auth = {"Authorization": "Bearer sk_test_hooks_restart"}
    first = create_app(Settings(public_url="http://mock.test"), clock=clock)
    client = first.test_client()
    made = client.post("/dodo/webhooks", headers=auth, json={
        "url": "http://127.0.0.1:1/x", "headers": {"X-Tenant": "acme"}, "rate_limit": 3,
        "filter_types": ["refund.succeeded"], "description": "kept"}).json
    secret = client.get(f"/dodo/webhooks/{made['id']}/secret", headers=auth).json["secret"]
    saved = json.dumps(first.extensions["paymock"].persistence.dump())
    first.extensions["paymock.webhooks"].stop()

    second = create_app(Settings(public_url="http://mock.test"), clock=clock)
    second.extensions["paymock"].persistence.load(json.loads(saved))
    try:
        client = second.test_client()
        assert client.get(f"/dodo/webhooks/{made['id']}", headers=auth).json == made
        assert client.get(f"/dodo/webhooks/{made['id']}/secret", headers=auth).json == {
            "secret": secret}
        assert client.get(f"/dodo/webhooks/{made['id']}/headers", headers=auth).json == {
            "headers": {"X-Tenant": "acme"}, "sensitive": []}
    finally:
        second.extensions["paymock.webhooks"].stop()
