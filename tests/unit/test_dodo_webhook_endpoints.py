"""Dodo's webhook-endpoint rules (providers/dodo/webhook_endpoints.py) over a real outbox, without
HTTP: paging, header merges, filters, rate-limit pacing, rotation and what a state file keeps."""
from __future__ import annotations

import base64

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from mock_server.core.clock import Clock, iso
from mock_server.core.contracts import Contract
from mock_server.core.errors import ApiError
from mock_server.core.store import Store
from mock_server.core.webhooks import Outbox
from mock_server.providers.dodo import webhooks
from mock_server.providers.dodo.events import event_types
from mock_server.providers.dodo.webhook_endpoints import DodoWebhookEndpoints

EVENT_TYPES = event_types(Contract.load("dodo"))  # what the channel accepts

URL = "http://127.0.0.1:9/hooks"


@pytest.fixture
def clock():
    clock = Clock()
    clock.freeze(1_790_000_000.0)
    return clock


@pytest.fixture
def outbox(clock):
    outbox = Outbox(clock)
    outbox.channels["dodo"] = webhooks.channel(webhooks.Secret(), EVENT_TYPES, clock)
    yield outbox
    outbox.stop()


@pytest.fixture
def rules(outbox):
    return DodoWebhookEndpoints(outbox, outbox.channels["dodo"].secret)


@pytest.fixture
def ns(clock):
    return Store(clock).namespace("dodo:unit")


def refused(call, status: int, code: str, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        call()
    assert (caught.value.status, caught.value.code, caught.value.message) == (status, code, message)


def test_a_new_webhook_has_its_own_secret_and_the_details_given(rules, ns, outbox):
    made = rules.create(ns, {"url": URL, "description": "orders", "metadata": {"team": "a"},
                             "filter_types": ["payment.failed", "payment.failed"],
                             "rate_limit": 5, "headers": {"X-Tenant": "acme"}})
    assert made["id"].startswith("whk_") and len(made["id"]) == 25
    assert (made["description"], made["metadata"], made["filter_types"], made["rate_limit"],
            made["disabled"]) == ("orders", {"team": "a"}, ["payment.failed"], 5, False)
    secret = rules.signing_secret(ns, made["id"])["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    assert secret != rules.signing_secret(ns, rules.create(ns, {"url": URL})["id"])["secret"]
    endpoint = outbox.endpoint(made["id"])
    assert (endpoint.namespace, endpoint.provider, endpoint.headers) == ("dodo:unit", "dodo",
                                                                        {"X-Tenant": "acme"})
    assert not endpoint.wants("dodo:unit", "dodo", "payment.succeeded")
    assert endpoint.wants("dodo:unit", "dodo", "payment.failed")
    assert not endpoint.wants("dodo:other", "dodo", "payment.failed")


def test_no_filter_means_every_event_and_disabled_means_none(rules, ns, outbox):
    every = outbox.endpoint(rules.create(ns, {"url": URL, "filter_types": []})["id"])
    assert all(every.wants("dodo:unit", "dodo", e) for e in EVENT_TYPES)
    off = rules.create(ns, {"url": URL, "disabled": True})
    assert not any(outbox.endpoint(off["id"]).wants("dodo:unit", "dodo", e) for e in EVENT_TYPES)
    back = rules.update(ns, off["id"], {"disabled": False, "filter_types": ["refund.failed"]})
    assert (back["disabled"], back["filter_types"]) == (False, ["refund.failed"])
    assert rules.update(ns, off["id"], {"filter_types": []})["filter_types"] == []
    assert rules.update(ns, off["id"], {"description": None})["filter_types"] == []


def test_an_idempotency_key_makes_one_webhook(rules, ns, outbox):
    first = rules.create(ns, {"url": URL, "idempotency_key": "k1"})
    assert rules.create(ns, {"url": URL, "idempotency_key": "k1"}) == first
    assert rules.create(ns, {"url": URL, "idempotency_key": "k2"})["id"] != first["id"]
    assert len(outbox.endpoints_of("dodo:unit")) == 2


def test_paging_follows_creation_order_and_survives_deletions(rules, ns):
    made = [rules.create(ns, {"url": URL, "description": str(n)})["id"] for n in range(5)]
    first = rules.list(ns, {"limit": 2})
    assert [w["id"] for w in first["data"]] == made[:2]
    assert (first["done"], first["prev_iterator"]) == (False, None)
    rules.delete(ns, made[2])  # the next page's first: the cursor still knows where it was
    second = rules.list(ns, {"limit": 2, "iterator": first["iterator"]})
    assert [w["id"] for w in second["data"]] == made[3:5] and second["done"] is True
    back = rules.list(ns, {"limit": 2, "iterator": second["prev_iterator"]})
    assert [w["id"] for w in back["data"]] == made[:2] and back["done"] is False
    assert rules.list(ns, {"limit": 2, "iterator": second["iterator"]}) == {
        "data": [], "done": True, "iterator": None, "prev_iterator": None}
    assert len(rules.list(ns, {})["data"]) == 4  # default limit 50
    refused(lambda: rules.list(ns, {"limit": 0}), 422, "INVALID_REQUEST_BODY",
            "limit must be at least 1")
    refused(lambda: rules.list(ns, {"iterator": "whk_nope"}), 422, "INVALID_REQUEST_BODY",
            "iterator 'whk_nope' is not one this API returned")


def test_headers_merge_case_insensitively_and_sensitive_ones_are_withheld(rules, ns, outbox):
    made = rules.create(ns, {"url": URL, "headers": {"X-Tenant": "acme", "Authorization": "t"}})
    assert rules.headers(ns, made["id"]) == {"headers": {"X-Tenant": "acme"},
                                             "sensitive": ["Authorization"]}
    rules.update_headers(ns, made["id"], {"headers": {"x-tenant": "beta", "X-Auth-Token": "s"}})
    assert outbox.endpoint(made["id"]).headers == {"Authorization": "t", "x-tenant": "beta",
                                                   "X-Auth-Token": "s"}
    assert rules.headers(ns, made["id"]) == {"headers": {"x-tenant": "beta"},
                                             "sensitive": ["Authorization", "X-Auth-Token"]}
    refused(lambda: rules.update_headers(ns, made["id"], {"headers": {"Bad Name": "x"}}), 422,
            "INVALID_REQUEST_BODY", "headers: 'Bad Name' is not a valid HTTP header name")
    refused(lambda: rules.create(ns, {"url": URL, "headers": {"X-A": "1\r\nX-B: 2"}}), 422,
            "INVALID_REQUEST_BODY", "headers: the value of X-A must not contain line breaks or NUL")


def test_refusals(rules, ns, clock):
    refused(lambda: rules.create(ns, {"url": "ftp://example.com/x"}), 422, "INVALID_REQUEST_BODY",
            "url must be an http(s) URL (http:// or https://)")
    made = rules.create(ns, {"url": URL})
    other = Store(clock).namespace("dodo:other")
    for call in (lambda: rules.get(other, made["id"]), lambda: rules.delete(other, made["id"]),
                 lambda: rules.update(other, made["id"], {"disabled": True}),
                 lambda: rules.headers(other, made["id"]),
                 lambda: rules.signing_secret(other, made["id"]),
                 lambda: rules.get(ns, "whk_missing")):
        refused(call, 404, "NOT_FOUND", "Webhook not found")
    rules.delete(ns, made["id"])
    refused(lambda: rules.delete(ns, made["id"]), 404, "NOT_FOUND", "Webhook not found")
    off = DodoWebhookEndpoints(None, None)
    refused(lambda: off.list(ns, {}), 501, "NOT_IMPLEMENTED", "webhooks are off on this paymock server")


def _pending(outbox, ns, event="payment.succeeded"):
    return outbox.emit(ns.name, "dodo", event, {"type": event})


def test_a_rate_limit_paces_first_attempts_on_the_mock_clock(rules, ns, outbox, clock):
    rules.create(ns, {"url": URL, "rate_limit": 2})
    now = clock.now()
    due = [_pending(outbox, ns)[0]["next_attempt_at"] for _ in range(3)]
    assert due == [iso(now), iso(now + 0.5), iso(now + 1.0)]
    clock.freeze(now + 10)  # a quiet spell: the next one goes at once again
    assert _pending(outbox, ns)[0]["next_attempt_at"] == iso(now + 10)


def test_disabling_or_deleting_cancels_what_was_not_sent(rules, ns, outbox):
    made = rules.create(ns, {"url": URL})
    [first] = _pending(outbox, ns)
    rules.update(ns, made["id"], {"disabled": True})
    assert outbox.delivery(first["id"])["status"] == "cancelled"
    assert outbox.delivery(first["id"])["cancelled"] == "endpoint disabled"
    assert _pending(outbox, ns) == []
    rules.update(ns, made["id"], {"disabled": False})
    [second] = _pending(outbox, ns)
    rules.delete(ns, made["id"])
    assert (outbox.delivery(second["id"])["status"],
            outbox.delivery(second["id"])["cancelled"]) == ("cancelled", "endpoint deleted")
    assert _pending(outbox, ns) == []


def test_a_rotation_signs_with_both_secrets_for_its_grace(rules, ns, outbox, clock):
    made = rules.create(ns, {"url": URL})
    old = rules.signing_secret(ns, made["id"])["secret"]
    secret = outbox.channels["dodo"].secret
    outbox.rotate_secret(made["id"], secret.generate(), secret.value, grace=3600)
    new = rules.signing_secret(ns, made["id"])["secret"]
    assert new != old
    sign = outbox.channels["dodo"].sign
    delivery = {"id": "msg_1", "body": '{"type":"payment.succeeded"}'}
    headers = sign(delivery, outbox.endpoint(made["id"]))
    assert len(headers["webhook-signature"].split(" ")) == 2
    for key in (old, new):
        Webhook(key).verify(delivery["body"], headers)
    clock.freeze(clock.now() + 3600)
    headers = sign(delivery, outbox.endpoint(made["id"]))
    assert len(headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(delivery["body"], headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(delivery["body"], headers)


def test_a_state_file_keeps_made_secrets_and_never_brought_ones(rules, ns, outbox, clock):
    made = rules.create(ns, {"url": URL, "headers": {"X-Tenant": "acme"}, "metadata": {"a": "b"}})
    secret = rules.signing_secret(ns, made["id"])["secret"]
    brought = "whsec_" + base64.b64encode(b"a secret the user brought!").decode()
    mine = outbox.add_endpoint(URL, ns.name, "dodo", secret=brought)
    state = outbox.dump()
    restored = Outbox(clock)
    restored.channels["dodo"] = outbox.channels["dodo"]
    restored.load(state)
    again = DodoWebhookEndpoints(restored, outbox.channels["dodo"].secret)
    assert again.get(ns, made["id"]) == made
    assert again.signing_secret(ns, made["id"]) == {"secret": secret}
    assert again.headers(ns, made["id"])["headers"] == {"X-Tenant": "acme"}
    assert restored.endpoint(mine.id).secret is None  # signs with the shared secret again
    assert brought not in str(state)
    # A new endpoint after the restore continues the creation order (cursors stay valid).
    later = again.create(ns, {"url": URL})
    assert [w["id"] for w in again.list(ns, {})["data"]][-1] == later["id"]
    restored.stop()
