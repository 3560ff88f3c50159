"""The plugin is quiet: the server it starts prints nothing, even with pytest's output capture
and log capture off; a failed test's report says what the server saw of that test."""
import subprocess
import sys
import textwrap

SUITE = textwrap.dedent('''
    import requests

    def _checkout(paymock):
        return requests.post(f"{paymock.dodo.base_url}/checkouts", timeout=10,
                             headers={"Authorization": f"Bearer {paymock.dodo.credential}"},
                             json={"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM",
                                                     "quantity": 1}]}).json()

    def test_a_failed_delivery_says_nothing(paymock):
        paymock.webhook_endpoint("http://127.0.0.1:9/closed")  # nothing listens there
        paymock.pay(_checkout(paymock)["session_id"])
        paymock.webhooks.flush(wait=5)
        [delivery] = paymock.inbox.deliveries()
        assert delivery["attempts"][0]["ok"] is False  # it failed (and warned) in this test

    def test_that_fails(paymock, paymock_inbox):
        paymock.pay(_checkout(paymock)["session_id"])
        paymock_inbox.wait_for("payment.succeeded")
        assert False, "on purpose"
''')


def run(tmp_path, *options):
    (tmp_path / "test_suite.py").write_text(SUITE)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *options, "test_suite.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    return proc.stdout + proc.stderr


def test_nothing_from_the_server_even_uncaptured(tmp_path):
    out = run(tmp_path, "-s", "-p", "no:logging", "-k", "says_nothing")
    assert "1 passed" in out, out
    assert "webhook" not in out and "127.0.0.1:9" not in out, out


def test_a_failed_test_shows_what_the_server_saw(tmp_path):
    out = run(tmp_path)
    assert "1 failed, 1 passed" in out, out
    section = out.split("paymock: what the server saw", 1)[1]
    assert "POST /dodo/checkouts -> 200" in section and "webhooks: payment.succeeded" in section
    assert out.count("paymock: what the server saw") == 1  # the passing test has none
