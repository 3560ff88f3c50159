"""`paymock pay | clock | faults | state | webhooks | logs` as a user runs them: real commands
against a real `paymock serve` process with a control token, tables for people and JSON for
scripts, errors on stderr with an exit status."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from mock_server.control import Client
from tests.processes import serve, stop

TOKEN = "cli-test-token"
KEY = "sk_test_cli_commands"
EBOOK = "pdt_uGej5ygB4DvTZFDmnvmUM"


@pytest.fixture(scope="module")
def server():
    proc, port = serve("--control-token", TOKEN)
    url = f"http://127.0.0.1:{port}"
    try:
        yield url
    finally:
        stop(proc)


def paymock(server, *args, token=TOKEN, check=True):
    env = dict(os.environ, PAYMOCK_URL=server)
    env.pop("PAYMOCK_CONTROL_TOKEN", None)
    extra = ["--control-token", token] if token else []
    run = subprocess.run([sys.executable, "-m", "paymock", *args, *extra], capture_output=True,
                         text=True, timeout=60, env=env)
    if check:
        assert run.returncode == 0, run.stderr
    return run


def session(server) -> dict:
    response = requests.post(f"{server}/dodo/checkouts", timeout=10,
                             headers={"Authorization": f"Bearer {KEY}"},
                             json={"product_cart": [{"product_id": EBOOK, "quantity": 1}],
                                   "customer": {"email": "cli@example.com", "name": "Cli"},
                                   "billing_address": {"country": "US", "zipcode": "94105",
                                                       "state": "CA", "city": "SF",
                                                       "street": "1 Main St"},
                                   "confirm": True})
    assert response.status_code == 200, response.text
    return response.json()


def test_pay_drives_an_outcome_and_prints_a_table_or_json(server):
    made = session(server)
    table = paymock(server, "pay", made["payment_id"], "declined", "--reason",
                    "insufficient_funds")
    assert made["payment_id"] in table.stdout and "failed" in table.stdout
    again = paymock(server, "pay", made["payment_id"], "paid", "--json")
    assert json.loads(again.stdout)["payment"]["status"] == "succeeded"


def test_clock_advance_freeze_resume(server):
    frozen = json.loads(paymock(server, "clock", "freeze", "--json").stdout)
    assert frozen["frozen"] is True
    moved = json.loads(paymock(server, "clock", "advance", "24h", "--json").stdout)
    assert moved["epoch"] - frozen["epoch"] == pytest.approx(86400)
    shown = paymock(server, "clock")
    assert "frozen" in shown.stdout and moved["now"] in shown.stdout
    assert json.loads(paymock(server, "clock", "resume", "--json").stdout)["frozen"] is False
    paymock(server, "clock", "reset")
    bad = paymock(server, "clock", "advance", "soon", check=False)
    assert bad.returncode == 2 and "24h" in bad.stderr


def test_faults_add_list_and_clear(server):
    presets = paymock(server, "faults", "presets")
    assert "rate-limit" in presets.stdout
    added = json.loads(paymock(server, "faults", "add", "--provider", "dodo", "--operation", "create_session",
                               "--preset", "rate-limit", "--times", "1", "--json").stdout)
    [rule] = added
    listed = paymock(server, "faults", "list")
    assert rule["id"] in listed.stdout and "create_session" in listed.stdout
    response = requests.post(f"{server}/dodo/checkouts", headers={"Authorization": f"Bearer {KEY}"},
                             json={"product_cart": [{"product_id": EBOOK, "quantity": 1}]},
                             timeout=10)
    assert response.status_code == 429
    fired = json.loads(paymock(server, "faults", "list", "--json").stdout)
    assert [r["fired"] for r in fired if r["id"] == rule["id"]] == [1]
    scenario = json.loads(paymock(server, "faults", "add", "--scenario", "psp-outage",
                                  "--json").stdout)
    assert scenario and all(r["id"] for r in scenario)
    cleared = paymock(server, "faults", "clear")
    assert "removed" in cleared.stdout
    assert json.loads(paymock(server, "faults", "list", "--json").stdout) == []
    nothing = paymock(server, "faults", "add", "--operation", "x", check=False)
    assert nothing.returncode == 2 and "--preset" in nothing.stderr


def test_state_shows_a_namespace_as_tables(server):
    made = session(server)
    namespace = Client.namespace_for("dodo", KEY)
    shown = paymock(server, "state", "--namespace", namespace, "--kind", "session")
    assert made["session_id"] in shown.stdout and "session" in shown.stdout
    as_json = json.loads(paymock(server, "state", "--namespace", namespace, "--json").stdout)
    assert made["session_id"] in as_json["namespaces"][namespace]["session"]
    none = paymock(server, "state", "--namespace", namespace, "--kind", "nope", check=False)
    assert none.returncode == 2 and "kinds held:" in none.stderr and "session" in none.stderr


def test_webhooks_list_and_redeliver(server):
    client = Client(server, token=TOKEN)
    namespace = Client.namespace_for("dodo", KEY)
    endpoint = client.webhooks.add_endpoint("http://127.0.0.1:9/nowhere", namespace=namespace)
    try:
        made = session(server)
        paymock(server, "pay", made["payment_id"], "paid")
        deadline = time.time() + 10
        deliveries = []
        while time.time() < deadline and not deliveries:
            deliveries = client.webhooks.deliveries(namespace)
            time.sleep(0.1)
        listed = paymock(server, "webhooks", "list", "--namespace", namespace)
        assert deliveries[0]["id"] in listed.stdout and "payment.succeeded" in listed.stdout
        again = paymock(server, "webhooks", "redeliver", deliveries[0]["id"])
        assert "redelivery queued" in again.stdout
    finally:
        client.webhooks.delete_endpoint(endpoint["id"])
    missing = paymock(server, "webhooks", "redeliver", "whd_nope", check=False)
    assert missing.returncode == 1 and "no delivery" in missing.stderr


def test_logs_list_filters_the_journal_and_tail_follows_it(server):
    namespace = Client.namespace_for("dodo", KEY)
    requests.get(f"{server}/dodo/checkouts/cks_missing", headers={"Authorization": f"Bearer {KEY}"},
                 timeout=10)
    listed = paymock(server, "logs", "list", "--namespace", namespace, "--status", "4xx")
    assert "/dodo/checkouts/cks_missing" in listed.stdout and " 200 " not in listed.stdout
    env = dict(os.environ, PAYMOCK_URL=server, PAYMOCK_CONTROL_TOKEN=TOKEN)
    tail = subprocess.Popen([sys.executable, "-m", "paymock", "logs", "tail", "--namespace",
                             namespace, "--json"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        time.sleep(1.5)  # the first look: what is already there
        session(server)
        line = None
        deadline = time.time() + 10
        while time.time() < deadline:
            line = json.loads(tail.stdout.readline())
            if line["path"] == "/dodo/checkouts" and line["method"] == "POST":
                break
        assert line["status"] == 200 and line["operation"]
    finally:
        tail.terminate()
        tail.wait(timeout=10)


def test_a_wrong_control_token_is_an_error_not_a_traceback(server):
    run = paymock(server, "clock", token="wrong", check=False)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "paymock clock:" in run.stderr
