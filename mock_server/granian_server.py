"""Serving the app on granian: `paymock serve --server granian`, for throughput.

Why granian: waitress parses HTTP in Python and tops out at about 3,400 requests/s on a 2-core
machine for an app that does nothing; granian parses and writes HTTP in Rust (about 40,000/s for
the same app), so the Python thread spends its time on paymock itself (benchmarks/README.md).

How: one process, the app built here and served by granian's thread-based server with one worker
thread and, by default, one Python thread running the app (`blocking_threads`, --threads). The app
and its in-memory state stay in this process, so --state-file is saved after the last request, and
there is no second copy of the state in a worker process. granian's thread server insists on a free-threaded Python; with
one worker thread the GIL costs nothing, so that check is skipped.

What it cannot do: reset or drop a connection (the socket lives in Rust). Connection faults are
refused with a pointer to `--server waitress` (server.py), which the pytest plugin always uses.
"""
from __future__ import annotations

import logging
import socket
import sys
import threading
import time

import granian.server.mt
from granian.constants import Interfaces
from granian.server import MTServer
from granian.wsgi import Response, ResponseIterWrap

from .serving import Serving

CONNECTION_FAULTS_REFUSED = (
    "connection faults (reset, drop, hang) need a server that owns its sockets; this one runs on "
    "granian, which keeps them in Rust. Start paymock with --server waitress (the default, and "
    "what the pytest plugin uses) for these faults")


def _wsgi_runner(app, scope_opts: dict, access_log_fmt=None):
    """granian's WSGI glue (granian.wsgi._callback_wrapper) without its copy of os.environ in
    every request's environ: the shell's variables are not request data (an `HTTP_*` one would
    read as a header), and merging them costs each request a dict of the whole environment."""
    base = {
        "GATEWAY_INTERFACE": "CGI/1.1", "SCRIPT_NAME": "", "SERVER_SOFTWARE": "Granian",
        "wsgi.errors": sys.stderr, "wsgi.input_terminated": True, "wsgi.multiprocess": False,
        "wsgi.multithread": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }

    def run(proto, scope):
        response = Response()
        body = app(base | scope, response)
        if isinstance(body, list):
            proto.response_bytes(response.status, response.headers, b"".join(body))
        else:
            proto.response_iter(response.status, response.headers, ResponseIterWrap(body))
        return response.status

    return run


# The thread server looks the glue up here when it starts a WSGI worker (pinned granian 2.8).
granian.server.mt._wsgi_call_wrap = _wsgi_runner


class _Granian(MTServer):
    def __init__(self, *args, on_interrupt=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._on_interrupt = on_interrupt

    def _check_gil(self):
        pass  # one worker thread: see the module docstring

    def signal_handler_interrupt(self, *args, **kwargs):
        # Wake requests sleeping on an injected latency before granian waits for them.
        if self._on_interrupt is not None:
            self._on_interrupt()
        super().signal_handler_interrupt(*args, **kwargs)


class GranianServer(Serving):
    """Same surface as server.Server for `paymock serve`: url, core, serve_forever()."""

    name = "granian"

    def __init__(self, app, host: str = "127.0.0.1", port: int = 8787, threads: int = 1):
        self.app = app
        self.host = host
        self.port = port or _free_port(host)
        _check_bindable(host, self.port)  # granian would only log it, from its own thread
        # One Python thread is the fastest (more only take turns on the GIL: 7,900 against 5,200
        # requests/s with two, benchmarks/README.md), but a request held by an injected latency
        # holds it: with --threads N, N - 1 others are answered meanwhile.
        self.threads = max(1, threads)
        self.core.faults.refuse_connection_faults(CONNECTION_FAULTS_REFUSED)
        self._point_hosted_pages_here()
        self._keep_a_thread_for_control()
        self._server = _Granian(
            target="paymock", address=host, port=self.port, interface=Interfaces.WSGI, workers=1,
            blocking_threads=self.threads, log_enabled=False, on_interrupt=self.core.shutdown.set)

    def serve_forever(self, ready=None) -> None:
        """Block until SIGINT or SIGTERM; then finish in-flight requests and return. `ready` is
        called once, when the port is known to listen: a connection to it succeeded, or a request
        arrived, whichever comes first (granian's worker opens its own socket, so no hook of
        granian's marks that moment, and a polling thread alone can lose the race to a client
        that connects and stops the server at once, as a test does)."""
        logging.getLogger("granian").setLevel(logging.ERROR)
        app = self.app
        if ready is not None:
            once = _Once(ready)
            threading.Thread(target=self._when_listening, args=(once,), daemon=True).start()

            def app(environ, start_response):
                if not once.done:
                    once()
                return self.app(environ, start_response)
        try:
            self._server.serve(target_loader=lambda *_args, **_kw: app, wrap_loader=False)
        finally:
            self.core.shutdown.set()

    def _when_listening(self, ready, timeout: float = 30.0) -> None:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.core.shutdown.is_set() and not ready.done:
            try:
                socket.create_connection((host, self.port), timeout=0.5).close()
            except OSError:
                time.sleep(0.01)
                continue
            ready()
            return


class _Once:
    """Call `fn` the first time only, whichever thread gets there first."""

    def __init__(self, fn):
        self._fn = fn
        self._lock = threading.Lock()
        self.done = False

    def __call__(self) -> None:
        with self._lock:
            if not self.done:
                self.done = True
                self._fn()


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _free_port(host: str) -> int:
    with socket.socket(_family(host)) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _check_bindable(host: str, port: int) -> None:
    """Raise OSError now (address in use, no such interface) instead of inside granian."""
    with socket.socket(_family(host)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
