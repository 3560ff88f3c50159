"""A tool that runs on developer machines: loopback by default, a control token (constant-time
compared) before /_mock/ answers anyone else, and no secret in logs, the journal or state files."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from mock_server import guards
from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control.client import Client, ControlAPIError
from mock_server.server import Server
from tests.waffo.helpers import ONETIME_ORDER, WaffoClient, private_key

from tests.processes import serve, stop

TOKEN = "ctl_TEST_ONLY_5f1d2c"
US = {"country": "US", "isBusiness": False, "state": "CA"}


def test_the_default_host_is_loopback():
    assert Settings().host == "127.0.0.1" and Settings.load(env={}).host == "127.0.0.1"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.test"])
def test_serve_refuses_a_non_loopback_host_without_a_token(host):
    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--host", host,
                             "--port", "0"], capture_output=True, text=True, timeout=30,
                            env={k: v for k, v in os.environ.items() if k != "PAYMOCK_CONTROL_TOKEN"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"refusing to listen on {host} without a control token" in result.stderr
    assert "--control-token" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
                                           ("localhost", True), ("0.0.0.0", False), ("10.1.2.3", False)])
def test_loopback_detection(host, loopback):
    assert guards.is_loopback(host) is loopback


def test_a_token_lets_a_non_loopback_host_start_and_says_so():
    settings = Settings(host="0.0.0.0", control_token=TOKEN)
    guards.check_exposure(settings)  # no error
    lines = "\n".join(guards.startup_lines(settings, None))
    assert "control API needs the token" in lines and "reachable from other machines" in lines
    assert TOKEN not in lines


@pytest.fixture(scope="module")
def guarded():
    app = create_app(Settings(port=0, control_token=TOKEN))
    server = Server(app, "127.0.0.1", 0, threads=4).start()
    yield server
    server.stop()


@pytest.mark.parametrize("headers,status", [
    ({}, 401),
    ({"Authorization": "Bearer wrong"}, 401),
    ({"Authorization": f"Bearer {TOKEN}x"}, 401),
    ({"Authorization": f"Basic {TOKEN}"}, 401),
    ({"X-Paymock-Control-Token": ""}, 401),
    ({"X-Paymock-Control-Token": "\u00e9"}, 401),
    ({"Authorization": f"Bearer {TOKEN}"}, 200),
    ({"authorization": f"bearer {TOKEN}"}, 200),
    ({"X-Paymock-Control-Token": TOKEN}, 200),
])
def test_the_control_api_needs_the_token(guarded, headers, status):
    for path in ("/_mock/health", "/_mock/state", "/_mock/faults", "/_mock/waffo/merchants"):
        got = requests.get(guarded.url + path, headers=headers, timeout=5)
        assert got.status_code == status, (path, got.text)
        if status == 401:
            assert "control token" in got.json()["error"] and TOKEN not in got.text
    refused = requests.post(guarded.url + "/_mock/reset", headers=headers, timeout=5)
    assert refused.status_code == (200 if status == 200 else 401)


def test_provider_routes_do_not_need_the_token(guarded):
    got = requests.post(guarded.url + "/dodo/checkouts", timeout=5, headers={"Authorization": "Bearer k"},
                        json={"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]})
    assert got.status_code == 200


def test_the_control_client_sends_the_token(guarded, monkeypatch):
    monkeypatch.delenv("PAYMOCK_CONTROL_TOKEN", raising=False)
    with pytest.raises(ControlAPIError, match="control token"):
        Client(guarded.url).health()
    assert Client(guarded.url, token=TOKEN).health()["status"] == "ok"
    monkeypatch.setenv("PAYMOCK_CONTROL_TOKEN", TOKEN)
    assert Client(guarded.url).clock.get()["frozen"] is False


def test_the_token_comes_from_the_environment_too(tmp_path):
    env = {**os.environ, "PAYMOCK_CONTROL_TOKEN": TOKEN}
    proc, port = serve(env=env)
    try:
        url = f"http://127.0.0.1:{port}/_mock/health"
        assert requests.get(url, timeout=5).status_code == 401
        assert requests.get(url, headers={"X-Paymock-Control-Token": TOKEN}, timeout=5).status_code == 200
    finally:
        out = stop(proc)
    assert "control API needs the token" in out and TOKEN not in out


def test_no_secret_in_the_log_the_journal_or_the_state_file(tmp_path):
    """Drive both providers with real credentials, then grep everything paymock wrote."""
    dodo_key = "sk_test_SECRET_a8f3e1c9b7d5"
    webhook_secret = "whsec_TEST_ONLY_c2VjcmV0LXNob3VsZC1uZXZlci1sZWFr"
    state = tmp_path / "state.json"
    env = {**os.environ, "PAYMOCK_DODO_WEBHOOK_SECRET": webhook_secret,
           "PAYMOCK_CONTROL_TOKEN": TOKEN}
    proc, port = serve("--state-file", state, "--state-interval", "0", env=env)
    url = f"http://127.0.0.1:{port}"
    control = {"X-Paymock-Control-Token": TOKEN}
    try:
        dodo = {"Authorization": f"Bearer {dodo_key}"}
        cart = {"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]}
        assert requests.post(f"{url}/dodo/checkouts", headers=dodo, json=cart, timeout=5).status_code == 200
        requests.post(f"{url}/dodo/checkouts", headers=dodo, data=b"{oops", timeout=5)
        requests.get(f"{url}/dodo/checkouts/cks_nope", headers=dodo, timeout=5)
        requests.post(f"{url}/dodo/checkouts", headers={**dodo, "X-Paymock-Fault": "500"}, json=cart,
                      timeout=5)
        waffo = WaffoClient(base_url=url)
        session = waffo.session("ebook")
        token = waffo.token()
        status, _, _ = waffo.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US,
                                                    "buyerEmail": "a@b.co"}, token)
        assert status == 200
        waffo.api("/v1/actions/checkout/create-session", {"productId": "x"}, key=private_key("beta"))
        journal = requests.get(f"{url}/_mock/journal", headers=control, timeout=5).text
        dump = requests.get(f"{url}/_mock/state", headers=control, timeout=5).text
        assert json.loads(journal)["entries"], journal[:200]
    finally:
        log = stop(proc, signal.SIGTERM)
    saved = state.read_text()
    pem_lines = [line for line in private_key("acme").splitlines() if "-----" not in line]
    secrets = {"Dodo API key": dodo_key, "webhook secret": webhook_secret,
               "control token": TOKEN, "Waffo private key": pem_lines[3][:40]}
    for where, text in (("journal", journal), ("state dump", dump), ("state file", saved),
                        ("server log", log)):
        for name, secret in secrets.items():
            assert secret not in text, f"{name} found in the {where}"
    # A session token is an answer (the journal keeps answers), but never logged.
    assert token not in log
    assert "<redacted>" in journal


def test_a_generated_token_is_made_at_start_and_printed_once():
    """`--control-token generate` (the image's default, PAYMOCK_CONTROL_TOKEN=generate): a server
    bound beyond this machine gets a random token, said once in its start-up lines, and each
    start makes its own."""
    tokens = []
    for _ in range(2):
        proc, port = serve("--host", "0.0.0.0", "--control-token", "generate")
        try:
            lines = []
            while not lines or not lines[-1].startswith("Ctrl-C"):
                lines.append(proc.stdout.readline())
            token = "".join(lines).split("control token (generated): ")[1].split()[0]
            url = f"http://127.0.0.1:{port}/_mock/health"
            assert requests.get(url, timeout=5).status_code == 401
            assert requests.get(url, headers={"Authorization": "Bearer generate"},
                                timeout=5).status_code == 401
            assert requests.get(url, headers={"Authorization": f"Bearer {token}"},
                                timeout=5).status_code == 200
        finally:
            rest = stop(proc)
        assert len(token) >= 32 and token not in rest
        tokens.append(token)
    assert tokens[0] != tokens[1]
