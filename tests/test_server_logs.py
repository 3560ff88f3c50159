"""What `paymock serve` says while it works (server_logs.py): an access line per request with
its provider, operation, namespace and the fault that fired; each webhook attempt; each fault
firing; each clock move; text or JSON lines on stderr, at the level asked."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import requests

from mock_server.control import Client
from tests.processes import free_port

KEY = "sk_test_logs"
CART = {"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]}


def run_server(*flags):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port),
                             *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            requests.get(f"{url}/_mock/health", timeout=0.5)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError(proc.stderr.read())


def stopped(proc) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    return err


def some_traffic(url: str) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    made = requests.post(f"{url}/dodo/checkouts", json=CART, headers=auth, timeout=10).json()
    requests.get(f"{url}/dodo/products/pdt_nope", headers=auth, timeout=10)
    requests.post(f"{url}/dodo/checkouts", json=CART, timeout=10,
                  headers={**auth, "X-Paymock-Fault": "503"})
    mock = Client(url)
    mock.webhooks.add_endpoint("http://127.0.0.1:9/closed", namespace=Client.namespace_for("dodo", KEY))
    mock.pay(made["session_id"])
    mock.webhooks.flush(wait=5)
    mock.clock.advance(seconds=30)


def test_json_lines_carry_each_fact_as_a_key():
    proc, url = run_server("--log-format", "json")
    some_traffic(url)
    lines = [json.loads(line) for line in stopped(proc).splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "paymock.access"]
    created = next(line for line in access if line["path"] == "/dodo/checkouts"
                   and line["status"] == 200)
    assert (created["method"], created["provider"], created["operation"]) == (
        "POST", "dodo", "create_session")
    assert created["namespace"] == Client.namespace_for("dodo", KEY)
    assert created["ms"] > 0 and created["level"] == "INFO" and created["time"]
    faulted = next(line for line in access if line["status"] == 503)
    assert faulted["fault"] == "X-Paymock-Fault"
    assert any(line["status"] == 404 and line["operation"] for line in access)
    fired = [line for line in lines if line["logger"] == "paymock.faults"]
    assert fired and fired[0]["rule"] == "X-Paymock-Fault"
    hooks = [line for line in lines if line["logger"] == "paymock.webhooks"]
    assert hooks and hooks[0]["event"] == "payment.succeeded" and hooks[0]["ok"] is False
    assert hooks[0]["level"] == "WARNING" and "retry at" in hooks[0]["message"]
    clock = [line for line in lines if line["logger"] == "paymock.clock"]
    assert clock and clock[0]["clock"] == "advanced 30 s"


def test_text_lines_for_people_and_warning_keeps_failures_only():
    proc, url = run_server()
    some_traffic(url)
    requests.get(f"{url}/_mock/ui/live/clock", timeout=10)  # a dashboard tab's poll: debug only
    text = stopped(proc)
    assert "paymock.access  POST /dodo/checkouts 200" in text
    assert "dodo.create_session" in text and "fault=X-Paymock-Fault" in text
    assert "paymock.clock  clock advanced 30 s" in text
    assert "/_mock/ui/live/clock" not in text
    proc, url = run_server("--log-level", "warning")
    some_traffic(url)
    quiet = stopped(proc)
    assert "paymock.access" not in quiet and "paymock.clock" not in quiet
    assert "paymock.webhooks" in quiet and "WARNING" in quiet


def test_a_line_shows_while_the_server_runs_not_only_at_exit():
    """Lines are written in batches (a write per request would cost throughput), yet a quiet
    server's line reaches `tail -f` within a fraction of a second."""
    proc, url = run_server()
    try:
        os.set_blocking(proc.stderr.fileno(), False)
        requests.get(f"{url}/dodo/products/pdt_waiting", timeout=10,
                     headers={"Authorization": f"Bearer {KEY}"})
        seen, deadline = "", time.time() + 3
        while "/dodo/products/pdt_waiting 404" not in seen and time.time() < deadline:
            try:
                seen += os.read(proc.stderr.fileno(), 65536).decode()
            except BlockingIOError:
                pass
            time.sleep(0.05)
        assert "GET /dodo/products/pdt_waiting 404" in seen
    finally:
        proc.kill()
        proc.communicate(timeout=20)
