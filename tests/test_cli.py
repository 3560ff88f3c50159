"""`paymock serve` as a user runs it: a real process on granian (or waitress), stopped by SIGTERM /
Ctrl-C."""
import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from mock_server import cli, fixtures
from tests.processes import serve


def start(*args):
    return serve(*args)


@pytest.mark.parametrize("server,sig,header", [
    (None, signal.SIGTERM, "granian"), (None, signal.SIGINT, "granian"),
    ("waitress", signal.SIGTERM, "paymock"), ("waitress", signal.SIGINT, "paymock")])  # its ident
def test_serve_prints_mounts_answers_and_stops_cleanly(server, sig, header):
    proc, port = start(*(["--server", server] if server else []))
    try:
        health = requests.get(f"http://127.0.0.1:{port}/_mock/health", timeout=5)
        assert health.headers["Server"] == header  # a production server, not Werkzeug's dev one
        made = requests.post(f"http://127.0.0.1:{port}/dodo/checkouts", timeout=5,
                             headers={"Authorization": "Bearer sk_test_cli"},
                             json={"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]})
        assert made.status_code == 200
        assert made.json()["checkout_url"].startswith(f"http://127.0.0.1:{port}/checkout/dodo/session/cks_")
    finally:
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert f"listening on http://127.0.0.1:{port} ({server or 'granian'}" in out
    assert f"dodo     http://127.0.0.1:{port}/dodo" in out
    assert f"control  http://127.0.0.1:{port}/_mock" in out
    assert f"dashboard http://127.0.0.1:{port}/_mock/ui" in out
    assert "paymock stopped." in out
    assert "Traceback" not in out


def test_public_url_flag_sets_the_hosted_page_base():
    proc, port = start("--public-url", "https://pay.example.test")
    try:
        made = requests.post(f"http://127.0.0.1:{port}/dodo/checkouts", timeout=5,
                             headers={"Authorization": "Bearer k"},
                             json={"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]})
        assert made.json()["checkout_url"].startswith("https://pay.example.test/checkout/dodo/session/")
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def test_a_missing_fixtures_file_stops_with_a_message_not_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0",
                             "--fixtures", str(tmp_path / "nope.json")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "paymock: cannot start" in result.stderr and "nope.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_come_from_the_environment():
    from mock_server.config import Settings
    settings = Settings.load(env={"PAYMOCK_PORT": "9999", "PAYMOCK_STRICT": "true"})
    assert (settings.port, settings.strict) == (9999, True)
    assert Settings.load(env={"PAYMOCK_PORT": "9999"}, port=1234).port == 1234  # flags win


def test_fixtures_generate_is_deterministic_and_matches_the_committed_catalog(tmp_path):
    out = tmp_path / "catalog.json"
    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "fixtures", "generate",
                             "--seed", str(fixtures.DEFAULT_SEED), "--out", str(out)],
                            capture_output=True, text=True, timeout=60, env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert f"serve it with: paymock serve --fixtures {out}" in result.stdout
    generated = json.loads(out.read_text())
    committed = fixtures.load(fixtures.Path(__file__).resolve().parents[1] / "fixtures" / "catalog.json")
    assert generated["dodo"] == committed["dodo"]
    assert fixtures.generate(1)["dodo"] != generated["dodo"]  # the seed matters


def test_fixtures_generate_says_what_each_providers_section_holds():
    catalog = {"seed": 1, "note": "TEST-ONLY", "toy": {"id": "t", "things": [1, 2], "kinds": []},
               "bare": {"id": "b"}}
    assert cli._contents(catalog) == "toy: 2 things, 0 kinds; bare: no objects"


@pytest.mark.parametrize("content, fragment", [
    ('{"rules": [', "is not valid JSON"),
    ('{"rules": [{"action": {"status": 999}}]}', "rules[0]: action.status must be an integer from 100 to 599"),
    ('{"rulez": []}', "unknown field(s) ['rulez']"),
])
def test_a_malformed_scenario_stops_the_server_with_a_clear_message(tmp_path, content, fragment):
    scenario = tmp_path / "broken.json"
    scenario.write_text(content)
    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0",
                             "--scenario", str(scenario)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert str(scenario) in result.stderr and fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_preset_scenarios_load_by_name():
    proc, port = start("--scenario", "rate-limit", "--scenario", "psp-outage")
    try:
        rules = requests.get(f"http://127.0.0.1:{port}/_mock/faults", timeout=5).json()["rules"]
        assert {r["id"] for r in rules} == {"rate-limit", "psp-outage"}
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert "scenario rate-limit: 1 fault rule(s)" in out


def test_contract_without_the_contract_extra_says_which_extra(monkeypatch, capsys):
    # As in an install without paymock[contract]: Schemathesis cannot be imported.
    from mock_server.cli import main

    monkeypatch.setitem(sys.modules, "schemathesis", None)
    monkeypatch.delitem(sys.modules, "mock_server.contract_kit.runner", raising=False)
    assert main(["contract", "dodo"]) == 2
    assert "pip install 'paymock[contract]'" in capsys.readouterr().err


def test_python_dash_m_paymock_is_the_paymock_command():
    result = subprocess.run([sys.executable, "-m", "paymock", "contract", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("usage: python -m paymock contract")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_waitress_answers_a_request_in_flight_before_it_stops(sig):
    """The signal only asks the loop to end: the request being served still gets its answer."""
    import threading
    import time

    proc, port = start("--server", "waitress")
    url = f"http://127.0.0.1:{port}"
    try:
        requests.post(f"{url}/_mock/faults", timeout=5, json={
            "provider": "dodo", "operation": "list_products_handler",
            "action": {"latency_ms": 1500}})
        answers = []
        slow = threading.Thread(target=lambda: answers.append(requests.get(
            f"{url}/dodo/products", timeout=10, headers={"Authorization": "Bearer sk_test_x"})))
        slow.start()
        time.sleep(0.4)  # the request is in its injected wait
    finally:
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=15)
    slow.join(10)
    assert answers and answers[0].status_code == 200, answers
    assert proc.returncode == 0 and "paymock stopped." in out
