"""`paymock serve` on both servers: waitress (the default, which can also reset and drop
connections) and granian (about 3x the throughput). What differs between them is stated, not
silently dropped."""
import json
import os
import socket
import subprocess
import sys

import pytest
import requests

from tests.processes import serve, stop

CART = {"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]}
AUTH = {"Authorization": "Bearer sk_test_servers"}


@pytest.fixture(scope="module")
def granian():
    # Variables of the shell that started paymock are not request headers (granian's own WSGI
    # glue copies os.environ into every request's environ).
    shell = {"HTTP_X_PAYMOCK_FAULT": "500", "HTTP_X_FROM_THE_SHELL": "1"}
    proc, port = serve("--server", "granian", env={**os.environ, **shell})
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def test_granian_refuses_connection_faults_and_says_which_server_can(granian):
    for mode in ("reset", "drop", "hang"):
        refused = requests.post(f"{granian}/_mock/faults", json={"action": {"connection": mode}},
                                timeout=5)
        assert refused.status_code == 400
        assert "--server waitress" in refused.json()["error"]
    by_header = requests.post(f"{granian}/dodo/checkouts", json=CART, timeout=5,
                              headers={**AUTH, "X-Paymock-Fault": "reset"})
    assert by_header.status_code == 400 and "--server waitress" in by_header.json()["message"]
    assert requests.get(f"{granian}/_mock/faults", timeout=5).json()["rules"] == []
    # Everything else still works: a documented error status, then a real answer.
    requests.post(f"{granian}/_mock/faults", timeout=5, json={
        "operation": "create_session", "times": 1, "action": 429}).raise_for_status()
    assert requests.post(f"{granian}/dodo/checkouts", json=CART, headers=AUTH, timeout=5).status_code == 429
    assert requests.post(f"{granian}/dodo/checkouts", json=CART, headers=AUTH, timeout=5).status_code == 200


def test_granian_reads_chunked_bodies_and_journals_requests(granian):
    chunks = iter([json.dumps(CART)[:20].encode(), json.dumps(CART)[20:].encode()])
    made = requests.post(f"{granian}/dodo/checkouts", data=chunks, timeout=5,
                         headers={**AUTH, "Content-Type": "application/json"})
    assert made.status_code == 200, made.text
    assert made.json()["checkout_url"].startswith(f"{granian}/checkout/dodo/session/cks_")
    journal = requests.get(f"{granian}/_mock/journal", timeout=5).json()["entries"]
    last = journal[-1]
    assert (last["operation"], last["status"]) == ("create_session", 200)
    assert last["request_headers"]["Authorization"] == "<redacted>"
    assert json.loads(last["request_body"]) == CART and "sk_test_servers" not in str(journal)


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_the_body_limit_holds_for_chunked_bodies_on_every_server(server):
    """A chunked body carries no length: the limit holds while it is read (granian hands such a
    body over undecoded; a 100 MB one used to be stored)."""
    proc, port = serve("--server", server, "--max-body-bytes", "4096")
    try:
        url = f"http://127.0.0.1:{port}/dodo/checkouts"
        big = iter([b'{"product_cart": [', b" " * 8192 * 4, b"]}"])
        refused = requests.post(url, data=big, timeout=10,
                                headers={**AUTH, "Content-Type": "application/json"})
        assert refused.status_code == 413, refused.text
        assert refused.json()["code"] == "REQUEST_ENTITY_TOO_LARGE" and "4096" in refused.json()["message"]
        small = iter([json.dumps(CART).encode()])
        assert requests.post(url, data=small, timeout=10,
                             headers={**AUTH, "Content-Type": "application/json"}).status_code == 200
    finally:
        stop(proc)


def test_granian_environ_holds_the_request_not_the_shell(granian):
    made = requests.post(f"{granian}/dodo/checkouts", json=CART, headers=AUTH, timeout=5)
    assert made.status_code == 200, made.text  # HTTP_X_PAYMOCK_FAULT=500 in its env is no header
    headers = requests.get(f"{granian}/_mock/journal", timeout=5).json()["entries"][-1]["request_headers"]
    assert "X-From-The-Shell" not in headers and "X-Paymock-Fault" not in headers
    assert headers["Content-Type"] == "application/json"


def test_waitress_the_default_resets_connections_on_request():
    proc, port = serve()
    try:
        url = f"http://127.0.0.1:{port}"
        requests.post(f"{url}/_mock/faults", timeout=5, json={
            "operation": "create_session", "times": 1,
            "action": {"connection": "reset"}}).raise_for_status()
        with pytest.raises(requests.ConnectionError):
            requests.post(f"{url}/dodo/checkouts", json=CART, headers=AUTH, timeout=5)
        assert requests.post(f"{url}/dodo/checkouts", json=CART, headers=AUTH, timeout=5).ok
    finally:
        out = stop(proc)
    assert "(waitress, 16 threads)" in out


def test_an_unknown_server_name_is_refused_with_the_choices():

    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0"],
                            capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PAYMOCK_SERVER": "gunicorn"})
    assert result.returncode == 2
    assert "unknown server 'gunicorn'" in result.stderr and "waitress" in result.stderr


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_a_port_in_use_is_a_message_not_a_traceback(server):

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--server",
                                 server, "--port", str(port)], capture_output=True, text=True,
                                timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_the_first_line_is_printed_once_the_server_accepts_connections(server):
    """Scripts (and docker-compose health checks) read "listening on URL" and connect at once."""

    proc = subprocess.Popen([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0",
                             "--server", server], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = proc.stdout.readline()
        url = first.split("listening on ")[1].split()[0]
        made = requests.post(f"{url}/dodo/checkouts", json=CART, headers=AUTH, timeout=10)
        assert made.status_code == 200 and f"({server}, " in first
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert proc.returncode == 0


def test_stopping_a_server_whose_trigger_is_already_closed_does_not_raise():
    from mock_server.app import create_app
    from mock_server.config import Settings
    from mock_server.server import Server

    app = create_app(Settings(port=0))
    server = Server(app, "127.0.0.1", 0, threads=2).start()
    server._server.trigger.close()  # as when waitress's loop closed it on its way out
    server.stop(timeout=0.5)
    assert app.extensions["paymock"].shutdown.is_set()
