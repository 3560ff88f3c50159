"""`paymock serve` on both servers: granian (the default: Rust HTTP, one event-loop thread) and
waitress (pure Python, a pool of threads). Each injects every fault, holds every limit (body size,
chunked included; header size; time to receive a request) and lets no client stall another.

No figure here is a speed target (benchmarks/ measure speed): a waiting time is only ever compared
with what a blocked server would take (a read timeout or a hang ten times longer)."""
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.processes import serve, stop

CART = {"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]}
AUTH = {"Authorization": "Bearer sk_test_servers"}
SERVERS = ["granian", "waitress"]


@pytest.fixture(scope="module", params=SERVERS)
def server(request):
    # A long read timeout: a stalled client would hold a blocked server for a minute, far past
    # any client timeout below.
    proc, port = serve("--server", request.param, "--read-timeout-seconds", "60",
                       "--max-header-bytes", "16384")
    yield request.param, port
    stop(proc)


def _call(port, method, path, headers=None, body=None, timeout=10):
    """(status, body), or the exception's class name: ConnectionResetError for a reset,
    RemoteDisconnected for a connection closed with no answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__, b""
    finally:
        conn.close()


def _rule(port, action, **match):
    made = requests.post(f"http://127.0.0.1:{port}/_mock/faults", timeout=5, json={
        "provider": "dodo", "operation": "list_products_handler", "times": 1, "action": action,
        **match})
    assert made.status_code == 201, made.text


@pytest.mark.parametrize("mode,seen", [("reset", "ConnectionResetError"),
                                       ("drop", "RemoteDisconnected")])
def test_connection_faults_by_rule_and_by_header(server, mode, seen):
    _, port = server
    _rule(port, {"connection": mode})
    assert _call(port, "GET", "/dodo/products", AUTH)[0] == seen
    assert _call(port, "GET", "/dodo/products", AUTH)[0] == 200  # the rule fired once
    by_header = _call(port, "GET", "/dodo/products", {**AUTH, "X-Paymock-Fault": mode})
    assert by_header[0] == seen
    assert _call(port, "GET", "/_mock/health")[0] == 200


def test_a_hang_holds_the_connection_then_drops_it(server):
    _, port = server
    _rule(port, {"connection": "hang", "hang_seconds": 1})
    started = time.monotonic()
    assert _call(port, "GET", "/dodo/products", AUTH)[0] == "RemoteDisconnected"
    assert time.monotonic() - started >= 1


def test_latency_delays_the_answer(server):
    _, port = server
    _rule(port, {"latency_ms": 700})
    started = time.monotonic()
    status, body = _call(port, "GET", "/dodo/products", AUTH)
    assert status == 200 and json.loads(body)["items"]
    assert time.monotonic() - started >= 0.7


def test_stalled_clients_stall_no_one(server):
    """Two hundred clients stop half-way (half in their request head, half in their body) and
    stay connected; every other client and the control API are still answered (a blocked server
    would only answer after the 60 s read timeout, past this test's 10 s client timeout)."""
    _, port = server
    stalled = []
    try:
        for number in range(200):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            if number % 2:
                sock.sendall(b"POST /dodo/checkouts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                             b"sk_test_servers\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 1000\r\n\r\n{\"product_cart\"")
            else:
                sock.sendall(b"POST /dodo/checkouts HTTP/1.1\r\nHost: x\r\nAuthoriz")
            stalled.append(sock)
        for _ in range(5):
            assert _call(port, "GET", "/_mock/health")[0] == 200
            assert _call(port, "POST", "/dodo/checkouts", {**AUTH, "Content-Type": "application/json"},
                         json.dumps(CART))[0] == 200
            assert _call(port, "GET", "/_mock/faults")[0] == 200
    finally:
        for sock in stalled:
            sock.close()


def test_a_request_head_over_the_limit_gets_431(server):
    _, port = server
    status, _ = _call(port, "GET", "/dodo/products", {**AUTH, "X-Padding": "a" * 20000})
    assert status == 431
    assert _call(port, "GET", "/dodo/products", {**AUTH, "X-Padding": "a" * 2000})[0] == 200


@pytest.mark.parametrize("name", SERVERS)
def test_a_request_that_does_not_arrive_in_time_is_refused(name):
    """--read-timeout-seconds 1: a body still missing after it gets granian's 408 in the provider's
    envelope (waitress disconnects); a head still missing is disconnected on both."""
    proc, port = serve("--server", name, "--read-timeout-seconds", "1")
    try:
        body = socket.create_connection(("127.0.0.1", port), timeout=15)
        body.sendall(b"POST /dodo/checkouts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nAuthorization: Bearer k\r\nContent-Length: 100\r\n\r\n{")
        head = socket.create_connection(("127.0.0.1", port), timeout=15)
        head.sendall(b"GET /dodo/products HTTP/1.1\r\nHost: x\r\n")
        answer = body.recv(4096)
        if name == "granian":
            assert answer.startswith(b"HTTP/1.1 408 ")
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {
                "code": "REQUEST_TIMEOUT", "message": "Request body not received within 1 seconds"}
        else:
            assert answer == b""  # closed
        assert head.recv(4096) == b""  # closed
        body.close()
        head.close()
        assert _call(port, "GET", "/_mock/health")[0] == 200
    finally:
        stop(proc)


def test_granian_holds_no_thread_for_injected_waits():
    """Forty requests hang (30 s) and forty more are delayed (30 s); the control API and every
    other operation answer meanwhile, and clearing the rules is heard at once."""
    proc, port = serve()
    outcomes = []

    def call(headers):
        outcomes.append(_call(port, "GET", "/dodo/products", headers, timeout=60)[0])

    requests.post(f"http://127.0.0.1:{port}/_mock/faults", timeout=5, json={
        "provider": "dodo", "operation": "list_products_handler", "times": 40,
        "action": {"latency_ms": 30000}}).raise_for_status()
    waiting = [threading.Thread(target=call, args=(AUTH,)) for _ in range(40)]
    waiting += [threading.Thread(target=call, args=({**AUTH, "X-Paymock-Fault": "timeout"},))
                for _ in range(40)]
    try:
        for thread in waiting:
            thread.start()
        while _call(port, "GET", "/_mock/faults")[1].count(b'"fired":40') == 0:
            time.sleep(0.05)  # all forty delayed requests are in the server
        assert _call(port, "GET", "/_mock/health", timeout=5)[0] == 200
        assert _call(port, "POST", "/dodo/checkouts", {**AUTH, "Content-Type": "application/json"},
                     json.dumps(CART), timeout=5)[0] == 200
        assert requests.delete(f"http://127.0.0.1:{port}/_mock/faults", timeout=5).ok
        assert not outcomes  # still waiting: nothing was refused with 503 as on waitress
    finally:
        out = stop(proc)  # stopping ends the waits: a hang is dropped, a delay answered
        for thread in waiting:
            thread.join(timeout=30)
    assert "(granian, 1 thread)" in out
    assert sorted(set(outcomes), key=str) == [200, "RemoteDisconnected"]


def test_granian_reads_chunked_bodies_and_journals_requests():
    proc, port = serve()
    try:
        url = f"http://127.0.0.1:{port}"
        chunks = iter([json.dumps(CART)[:20].encode(), json.dumps(CART)[20:].encode()])
        made = requests.post(f"{url}/dodo/checkouts", data=chunks, timeout=5,
                             headers={**AUTH, "Content-Type": "application/json"})
        assert made.status_code == 200, made.text
        assert made.json()["checkout_url"].startswith(f"{url}/checkout/dodo/session/cks_")
        journal = requests.get(f"{url}/_mock/journal", timeout=5).json()["entries"]
        last = journal[-1]
        assert (last["operation"], last["status"]) == ("create_session", 200)
        assert last["request_headers"]["Authorization"] == "<redacted>"
        assert json.loads(last["request_body"]) == CART and "sk_test_servers" not in str(journal)
    finally:
        stop(proc)


def test_granian_keeps_the_request_as_sent():
    """Repeated headers are joined, a percent-encoded UTF-8 path is routed as text, and the
    shell's variables are not request headers."""
    shell = {"HTTP_X_PAYMOCK_FAULT": "500", "HTTP_X_FROM_THE_SHELL": "1"}
    proc, port = serve(env={**os.environ, **shell})
    try:
        url = f"http://127.0.0.1:{port}"
        made = requests.post(f"{url}/dodo/checkouts", json=CART, headers=AUTH, timeout=5)
        assert made.status_code == 200, made.text  # HTTP_X_PAYMOCK_FAULT=500 in its env is no header
        headers = requests.get(f"{url}/_mock/journal", timeout=5).json()["entries"][-1]["request_headers"]
        assert "X-From-The-Shell" not in headers and "X-Paymock-Fault" not in headers
        assert headers["Content-Type"] == "application/json"
        missing = requests.get(f"{url}/dodo/checkouts/cks_%C3%A9t%C3%A9", headers=AUTH, timeout=5)
        assert missing.status_code == 404 and missing.json()["message"] == "Checkout session not found"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.putrequest("GET", "/dodo/products")
        for value in ("first", "second"):
            conn.putheader("X-Repeated", value)
        conn.putheader("Authorization", AUTH["Authorization"])
        conn.endheaders()
        assert conn.getresponse().status == 200
        entry = requests.get(f"{url}/_mock/journal", timeout=5).json()["entries"][-1]
        assert entry["request_headers"]["X-Repeated"] == "first, second"
    finally:
        stop(proc)


@pytest.mark.parametrize("server", SERVERS)
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


def test_threads_are_for_waitress():
    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0",
                             "--threads", "4"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "threads sets waitress' thread pool" in result.stderr and "--threads" in result.stderr


def test_an_unknown_server_name_is_refused_with_the_choices():

    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0"],
                            capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PAYMOCK_SERVER": "gunicorn"})
    assert result.returncode == 2
    assert "unknown server 'gunicorn'" in result.stderr and "waitress" in result.stderr


@pytest.mark.parametrize("server", SERVERS)
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


@pytest.mark.parametrize("server", SERVERS)
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
