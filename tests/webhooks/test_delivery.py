"""The outbox: retries on the provider's schedule (by the mock clock), timeouts, the delivery log,
manual redelivery, fault hooks, endpoint scoping, and --webhook-url."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from mock_server.control import Client
from mock_server.control.client import ControlAPIError
from mock_server.providers.dodo.webhooks import SCHEDULE

from .conftest import DODO_KEY, attempts_logged, dodo_session

NAMESPACE = Client.namespace_for("dodo", DODO_KEY)


def test_fails_twice_then_succeeds_three_attempts_one_processed_event(live, mock, receivers, clock):
    receiver = receivers(statuses=[500, 502])
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    mock.pay(dodo_session(live))
    [delivery] = attempts_logged(mock, 1)
    assert delivery["next_attempt_at"] is not None
    clock.advance(4)
    time.sleep(0.3)
    assert len(receiver.requests) == 1, "the 5 s retry must wait for the (mock) clock"
    clock.advance(1)
    attempts_logged(mock, 2)
    clock.advance(5 * 60)
    [delivery] = attempts_logged(mock, 3)
    assert [r["status"] for r in receiver.wait_for(3)] == [500, 502, 200]
    assert delivery["status"] == "delivered" and delivery["next_attempt_at"] is None
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 502, 200]
    assert all(a["latency_ms"] >= 0 and "response_excerpt" in a for a in delivery["attempts"])
    assert delivery["attempts"][0]["response_excerpt"] == "no: 500"
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1
    assert len(receiver.processed) == 1


def test_a_timeout_is_a_failed_attempt(live, mock, receivers):
    receiver = receivers(delays=[1.5])        # the live fixture's timeout is 1 s
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    mock.pay(dodo_session(live))
    [delivery] = attempts_logged(mock, 1)
    assert delivery["attempts"][0]["error"].startswith("timeout")
    assert delivery["status"] == "pending"
    assert mock.webhooks.flush()["idle"]
    [delivery] = attempts_logged(mock, 2)
    assert delivery["status"] == "delivered"


def test_the_dodo_schedule_then_failed(live, mock, receivers, clock):
    receiver = receivers(statuses=[500] * 20)
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    mock.pay(dodo_session(live))
    for attempt, delay in enumerate(SCHEDULE[1:], start=1):
        [delivery] = attempts_logged(mock, attempt)
        due = delivery["next_attempt_at"]
        clock.advance(delay - 1)
        time.sleep(0.1)
        assert len(delivery_of(mock)["attempts"]) == attempt, f"retry {attempt} ran early"
        clock.advance(1)
        assert clock.describe()["now"] == due
    [delivery] = attempts_logged(mock, len(SCHEDULE))
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 8


def delivery_of(mock):
    [delivery] = mock.webhooks.deliveries()
    return delivery


def test_manual_redeliver_sends_the_same_message_again(live, mock, receivers):
    receiver = receivers()
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    mock.pay(dodo_session(live))
    [delivery] = attempts_logged(mock, 1)
    assert mock.webhooks.redeliver(delivery["id"])["status"] == "pending"
    attempts_logged(mock, 2)
    first, second = receiver.wait_for(2)
    assert first["body"] == second["body"]
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == delivery["id"]
    assert len(receiver.processed) == 1
    with pytest.raises(ControlAPIError, match="no delivery"):
        mock.webhooks.redeliver("msg_nope")


def test_fault_drop_and_duplicate(live, mock, receivers):
    receiver = receivers()
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    mock.faults.add(provider="webhook", operation="payment.succeeded", times=1,
                    action={"webhook": "drop"})
    mock.pay(dodo_session(live))
    [dropped] = mock.webhooks.deliveries()
    assert dropped["status"] == "dropped" and dropped["fault"]["mode"] == "drop"
    mock.faults.add(provider="webhook", times=1, action={"webhook": "duplicate"})
    mock.pay(dodo_session(live))
    first, second = receiver.wait_for(2)
    assert first["body"] == second["body"]
    assert len(receiver.processed) == 1
    time.sleep(0.2)
    assert len(receiver.requests) == 2, "the dropped delivery must never be sent"


@pytest.mark.parametrize("action, attempt", [
    ({"status": 503}, {"status_code": 503, "error": None}),
    ({"connection": "reset"}, {"status_code": None, "error": "ConnectionError: connection reset"}),
    ({"connection": "hang"}, {"status_code": None, "error": "timeout after"}),
])
def test_a_webhook_rule_with_an_error_fails_the_first_attempt_then_the_retry_delivers(
        live, mock, receivers, clock, action, attempt):
    receiver = receivers()
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    mock.faults.add(provider="webhook", operation="payment.succeeded", times=1, action=action)
    mock.pay(dodo_session(live))
    [delivery] = attempts_logged(mock, 1)
    first = delivery["attempts"][0]
    assert first["injected"] and not first["ok"] and first["status_code"] == attempt["status_code"]
    assert (first["error"] or "").startswith(attempt["error"] or "")
    assert receiver.requests == [], "an injected failure sends nothing"
    clock.advance(5)  # Dodo's second attempt comes 5 s later
    [delivery] = attempts_logged(mock, 2)
    assert delivery["status"] == "delivered" and len(receiver.wait_for(1)) == 1

def test_fault_delay_and_reorder(live, mock, receivers, clock):
    receiver = receivers()
    mock.webhooks.add_endpoint(receiver.url, namespace=NAMESPACE)
    mock.faults.add(provider="webhook", times=1, action={"webhook": "delay", "webhook_delay": 60})
    mock.pay(dodo_session(live))
    time.sleep(0.3)
    assert receiver.requests == []
    clock.advance(60)
    receiver.wait_for(1)
    mock.faults.add(provider="webhook", times=1, action={"webhook": "reorder"})
    first = dodo_session(live)
    second = dodo_session(live)
    mock.pay(first)
    time.sleep(0.2)
    mock.pay(second)
    got = [json.loads(r["body"])["data"]["checkout_session_id"] for r in receiver.wait_for(3)[1:]]
    assert got == [second, first]


def test_endpoints_are_scoped_to_their_namespace(live, mock, receivers):
    mine, everyone = receivers(), receivers()
    endpoint = mock.webhooks.add_endpoint(mine.url, namespace=NAMESPACE, events=["payment.failed"])
    mock.webhooks.add_endpoint(everyone.url)
    assert [e["id"] for e in mock.webhooks.endpoints(NAMESPACE)] == [endpoint["id"]]
    mock.pay(dodo_session(live, key="sk_test_someone_else"))
    mock.pay(dodo_session(live), "declined")
    mock.pay(dodo_session(live))
    everyone.wait_for(3)
    [only] = mine.wait_for(1)
    assert json.loads(only["body"])["type"] == "payment.failed"
    mock.webhooks.delete_endpoint(endpoint["id"])
    with pytest.raises(ControlAPIError, match="no webhook endpoint"):
        mock.webhooks.delete_endpoint(endpoint["id"])


@pytest.mark.parametrize("body, message", [
    ({"url": "ftp://example.com/x"}, "url must be an http(s) URL"),
    ({}, "url must be an http(s) URL"),
    ({"url": "http://a..b/"}, "url has an invalid host: a label is empty"),
    ({"url": f"http://{'a' * 64}.example/"}, "url has an invalid host: a label is longer than 63"),
    ({"url": f"http://{'a.' * 127}example/"}, "url has an invalid host: it is longer than 253"),
    ({"url": "http://127.0.0.1:99999/x"}, "url has an invalid port"),
    ({"url": "http://127.0.0.1:0/x"}, "url has an invalid port"),
    ({"url": "https://[::1/x"}, "url is not a valid URL"),
    ({"url": "http:///x"}, "url has no host"),
    ({"url": "http://127.0.0.1:1/x", "provider": "stripe"}, "provider must be one of"),
    ({"url": "http://127.0.0.1:1/x", "events": "payment.succeeded"}, "events must be a list"),
    ({"url": "http://127.0.0.1:1/x", "secret": "not-a-secret"}, "secret must be whsec_"),
])
def test_bad_endpoints_are_400s_that_say_why(live, body, message):
    response = requests.post(f"{live.url}/_mock/webhooks/endpoints", json=body, timeout=10)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_bad_secret_and_flush_input(live):
    response = requests.post(f"{live.url}/_mock/webhooks/secret", json={"secret": "whsec_"}, timeout=10)
    assert response.status_code == 400
    response = requests.post(f"{live.url}/_mock/webhooks/flush", json={"wait": "soon"}, timeout=10)
    assert response.status_code == 400


def test_serve_webhook_url_delivers_every_namespace(receivers, tmp_path):
    receiver = receivers()
    proc = subprocess.Popen([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0",
                             "--webhook-url", receiver.url], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = proc.stdout.readline()
        assert "listening on" in first, first
        url = first.split("listening on ")[1].split()[0]
        for key in ("sk_test_a", "sk_test_b"):
            session_id = requests.post(f"{url}/dodo/checkouts", timeout=10,
                                       headers={"Authorization": f"Bearer {key}"},
                                       json={"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM",
                                                               "quantity": 1}]}).json()["session_id"]
            Client(url).pay(session_id)
        types = [json.loads(r["body"])["type"] for r in receiver.wait_for(2)]
        assert types == ["payment.succeeded", "payment.succeeded"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_bad_webhook_url_setting_stops_the_start():
    from mock_server.config import Settings, SettingsError

    with pytest.raises(SettingsError, match=r"^webhook_url = 'http://a\.\.b/' \(from "
                                            r"PAYMOCK_WEBHOOK_URL\): has an invalid host"):
        Settings.load(env={"PAYMOCK_WEBHOOK_URL": "http://a..b/"})
    with pytest.raises(SettingsError, match=r"webhook_url = .*\(from --webhook-url\): has an "
                                            r"invalid port"):
        Settings.load(env={}, flags={"webhook_url": "--webhook-url"},
                      webhook_url="http://127.0.0.1:70000/")
    assert Settings.load(env={}, webhook_url="http://[::1]:9000/hooks").webhook_url


def test_an_attempt_that_raises_fails_that_attempt_and_the_worker_carries_on(
        live, mock, receivers, clock, monkeypatch, caplog):
    """A sender that blows up (anything, not only a network error) is one failed attempt, retried
    on the schedule and logged in one line; the worker neither dies nor spins, and other
    endpoints' deliveries go on."""
    from mock_server.core.webhooks import Outbox

    good, broken = receivers(), receivers()
    real_post = Outbox._post

    def post(self, delivery, headers, attempt):
        if delivery["url"] == broken.url:
            raise RuntimeError("the sender broke")
        return real_post(self, delivery, headers, attempt)

    monkeypatch.setattr(Outbox, "_post", post)
    mock.webhooks.add_endpoint(good.url, namespace=NAMESPACE)
    mock.webhooks.add_endpoint(broken.url, namespace=NAMESPACE)
    with caplog.at_level("WARNING", logger="paymock.webhooks"):
        mock.pay(dodo_session(live))
        attempts_logged(mock, 2)
        time.sleep(0.3)  # a spinning worker would pile up attempts meanwhile
        by_url = {d["url"]: d for d in mock.webhooks.deliveries()}
        failed = by_url[broken.url]
        assert [a["error"] for a in failed["attempts"]] == ["RuntimeError: the sender broke"]
        assert failed["status"] == "pending" and failed["next_attempt_at"] is not None
        assert by_url[good.url]["status"] == "delivered"
        clock.advance(SCHEDULE[1])
        attempts_logged(mock, 3)
        mock.pay(dodo_session(live))  # the worker still delivers to everyone else
        assert len(good.wait_for(2, timeout=10)) == 2
    assert broken.requests == []
    failed = mock.webhooks.delivery(failed["id"])
    assert len(failed["attempts"]) == 2 and failed["status"] == "pending"
    lines = [r for r in caplog.records if r.name == "paymock.webhooks"]
    assert len(lines) >= 2 and "the sender broke" in lines[0].getMessage()
    assert all(r.exc_info is None for r in lines)


def test_an_endpoint_restored_with_a_bad_url_fails_its_attempts_without_spinning(
        live, mock, receivers, clock):
    """A state file may hold an endpoint registered before URLs were checked: its attempts fail
    (the HTTP client refuses the URL) on the schedule; nothing spins."""
    outbox = live.app.extensions["paymock.webhooks"]
    good = receivers()
    outbox.load({"endpoints": [{"id": "ep_bad", "url": "http://a..b/", "namespace": NAMESPACE},
                               {"id": "ep_good", "url": good.url, "namespace": NAMESPACE}]})
    mock.pay(dodo_session(live))
    attempts_logged(mock, 2)
    time.sleep(0.3)
    bad = next(d for d in mock.webhooks.deliveries() if d["endpoint_id"] == "ep_bad")
    assert len(bad["attempts"]) == 1 and bad["status"] == "pending"
    assert "label empty or too long" in bad["attempts"][0]["error"]
    assert len(good.wait_for(1)) == 1
