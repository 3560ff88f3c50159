"""Serving the app on granian: what `paymock serve` starts by default.

Why granian: it parses and writes HTTP in Rust (tokio and hyper), so the one Python thread spends
its time on paymock itself; waitress parses HTTP in Python and tops out at about 3,400 requests/s
on a 2-core machine for an app that does nothing (benchmarks/README.md has the comparison).

How: one process, one worker, granian's RSGI interface with one event-loop thread (rloop, a
Rust loop, when installed) that runs the app for every request in turn (rsgi_bridge.py). A request reaches the
app only once its head and body have arrived, so slow or stalled clients cost a coroutine, never
the thread; injected waits are awaited on the loop, and connection faults cut the socket from
outside granian (connection_cut.py). The app and its in-memory state stay in this process, so
--state-file is saved after the last request.

The limits: a request head larger than max_header_bytes gets 431 (hyper's read buffer), one that
takes longer than read_timeout_seconds to arrive is disconnected (hyper's header read timeout),
and a body gets the same time (408) and max_body_bytes (413, chunked bodies included).
"""
from __future__ import annotations

import logging
import socket
import threading
import time

from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.server import MTServer

from . import connection_cut
from .rsgi_bridge import WsgiOnRsgi
from .serving import Serving

CONNECTION_FAULTS_REFUSED = (
    "connection faults (reset, drop, hang) need a server that can reach its sockets; on this "
    "platform granian's cannot be (they live in Rust). Start paymock with --server waitress, "
    "which owns its sockets, for these faults")


class _Granian(MTServer):
    def __init__(self, *args, on_interrupt=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._on_interrupt = on_interrupt

    def _check_gil(self):
        pass  # one worker thread: the GIL costs nothing (granian asks for a free-threaded Python)

    def signal_handler_interrupt(self, *args, **kwargs):
        # End injected waits before granian waits for the requests in them.
        if self._on_interrupt is not None:
            self._on_interrupt()
        super().signal_handler_interrupt(*args, **kwargs)


class GranianServer(Serving):
    """Same surface as server.Server for `paymock serve`: url, core, serve_forever()."""

    name = "granian"
    threads = 1  # the event loop's; rsgi_bridge.py says why one is enough

    def __init__(self, app, host: str = "127.0.0.1", port: int = 8787):
        self.app = app
        self.host = host
        self.port = port or _free_port(host)
        _check_bindable(host, self.port)  # granian would only log it, from its own thread
        settings = app.extensions.get("paymock.settings")
        max_body = getattr(settings, "max_body_bytes", 1024 * 1024)
        timeout = getattr(settings, "read_timeout_seconds", 30.0)
        max_header = getattr(settings, "max_header_bytes", 64 * 1024)
        if not connection_cut.supported():
            self.core.faults.refuse_connection_faults(CONNECTION_FAULTS_REFUSED)
        self._point_hosted_pages_here()
        self.bridge = WsgiOnRsgi(app, self.core, self.port, max_body, timeout)
        self._server = _Granian(
            target="paymock", address=host, port=self.port, interface=Interfaces.RSGI, workers=1,
            http1_settings=HTTP1Settings(header_read_timeout=int(timeout * 1000),
                                         max_buffer_size=max_header),
            log_enabled=False, on_interrupt=self.core.shutdown.set)

    def serve_forever(self, ready=None) -> None:
        """Block until SIGINT or SIGTERM; then finish in-flight requests and return. `ready` is
        called once, when the port is known to listen: a connection to it succeeded, or a request
        arrived, whichever comes first (granian's worker opens its own socket, so no hook of
        granian's marks that moment, and a polling thread alone can lose the race to a client
        that connects and stops the server at once, as a test does)."""
        logging.getLogger("granian").setLevel(logging.ERROR)
        if ready is not None:
            once = _Once(ready)
            threading.Thread(target=self._when_listening, args=(once,), daemon=True).start()
            app = self.bridge.app

            def first(environ, start_response):
                once()  # (a no-op if the polling thread got there first)
                self.bridge.app = app  # the first request only
                return app(environ, start_response)
            self.bridge.app = first
        try:
            self._server.serve(target_loader=lambda *_args, **_kw: self.bridge, wrap_loader=False)
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
