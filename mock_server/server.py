"""Serving the app on waitress (`--server waitress`): a production WSGI server, one process, a
pool of threads.

Why waitress: pure Python with no C build step (installs anywhere pip does), a fixed thread pool
that matches the single-process, in-memory design, clean shutdown on SIGINT/SIGTERM, and an
embeddable API so the pytest plugin can run the same server in a background thread. Its I/O loop
reads whole requests before a thread sees them, so slow clients hold no thread; the limits below
keep them from holding connections: a request head over max_header_bytes gets 431, and a request
not received within read_timeout_seconds (head and body together; waitress' own timeout only
counts silence) is disconnected.

The one extension: fault rules may ask to reset or drop the connection instead of answering. The
app marks the request (`paymock.connection` in the environ); the task below then closes the socket
without a response, with SO_LINGER 0 for a reset (the client sees ECONNRESET).
"""
from __future__ import annotations

import signal
import time
import socket
import struct
import threading

from waitress.adjustments import Adjustments
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask

from .core.fault_http import CONNECTION_ENV
from .serving import Serving


class _ConnectionFault(Exception):
    def __init__(self, mode: str):
        super().__init__(mode)
        self.mode = mode


def _connection_faults(app):
    def middleware(environ, start_response):
        captured = []
        body = app(environ, lambda status, headers, exc_info=None: captured.append((status, headers, exc_info)))
        mode = environ.get(CONNECTION_ENV)
        if mode:
            if hasattr(body, "close"):
                body.close()
            raise _ConnectionFault(mode)
        if captured:
            start_response(*captured[0])
        return body
    return middleware


class _Task(WSGITask):
    def execute(self):
        try:
            super().execute()
        except _ConnectionFault as fault:
            if fault.mode == "reset":
                self.channel.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
            self.close_on_finish = True
            raise ClientDisconnected(f"paymock fault: {fault.mode}") from None


class _Channel(HTTPChannel):
    task_class = _Task
    request_began: float | None = None  # when the request being received began to arrive

    def received(self, data):
        if self.request is None and data:
            self.request_began = time.time()
        result = super().received(data)
        if self.request is None:
            self.request_began = None
        return result


class _WSGIServer(TcpWSGIServer):
    channel_class = _Channel
    read_timeout = 30.0

    def maintenance(self, now):
        super().maintenance(now)
        # A request that has been arriving for longer than read_timeout (a client sending a
        # byte now and then, or stalled half-way) is cut off.
        cutoff = now - self.read_timeout
        for channel in self.active_channels.values():
            began = channel.request_began
            if began is not None and began < cutoff and not channel.requests:
                channel.will_close = True


class Server(Serving):
    name = "waitress"

    def __init__(self, app, host: str = "127.0.0.1", port: int = 8787, threads: int = 16,
                 max_request_body_size: int | None = None):
        self.app = app
        # The app answers bodies over Settings.max_body_bytes with 413 in the provider's envelope;
        # waitress refuses (plain 413) only far larger ones, before buffering them.
        if max_request_body_size is None:
            settings = getattr(app, "extensions", {}).get("paymock.settings")
            limit = getattr(settings, "max_body_bytes", 1024 * 1024)
            max_request_body_size = max(16 * limit, 64 * 1024 * 1024)
        settings = getattr(app, "extensions", {}).get("paymock.settings")
        read_timeout = getattr(settings, "read_timeout_seconds", 30.0)
        # connection_limit: a few hundred slow clients must not lock others out (waitress' 100
        # would); poll() because select() stops at descriptor 1024. The maintenance that cuts
        # slow requests runs every second (cleanup_interval).
        adj = Adjustments(host=host, port=port, threads=threads, ident="paymock",
                          clear_untrusted_proxy_headers=True, channel_timeout=30,
                          max_request_body_size=max_request_body_size,
                          max_request_header_size=getattr(settings, "max_header_bytes", 64 * 1024),
                          connection_limit=1000, asyncore_use_poll=True, cleanup_interval=1)
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(adj.threads)
        self._server = _WSGIServer(_connection_faults(app), {}, True, None, dispatcher=dispatcher,
                                   adj=adj, sockinfo=adj.listen[0])
        self._server.read_timeout = read_timeout
        self.host = host
        self.threads = threads
        self.port = self._server.effective_port
        self._thread: threading.Thread | None = None
        self._point_hosted_pages_here()
        self._keep_a_thread_for_control()

    def serve_forever(self, ready=None) -> None:
        """Block until SIGINT or SIGTERM; then finish in-flight requests and return. `ready` is
        called once the socket listens (here: already, since the constructor binds it).

        A signal only sets an event: a thread then lets in-flight requests finish and ends the
        I/O loop through its trigger, on the loop's own thread between events. (Raising KeyboardInterrupt from the handler, as
        waitress' own serve() does, can land while the loop holds its task queue's lock, and the
        shutdown that follows then waits on that lock for ever: seen once in CI.)"""
        stopping = threading.Event()

        def _stop(_signum, _frame):
            stopping.set()

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        threading.Thread(target=self._end_loop_when, args=(stopping,), name="paymock-stop",
                         daemon=True).start()
        if ready is not None:
            ready()
        try:
            self._server.run()
        finally:
            self.core.shutdown.set()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._server.task_dispatcher.shutdown()  # (done already, unless the loop ended alone)
            self._server.close()

    def _end_loop_when(self, stopping: threading.Event) -> None:
        stopping.wait()
        # In-flight requests finish first (at most 5 s), while the loop still writes their
        # answers; then the loop closes what is left and ends.
        self._server.task_dispatcher.shutdown()
        self._end_loop()

    def _end_loop(self) -> None:
        def close_everything(*_):
            # Runs on the I/O loop's own thread: close idle keep-alive connections, the listener
            # and the trigger; the loop ends once its map is empty.
            for channel in list(self._server._map.values()):
                channel.close()

        try:
            self._server.trigger.pull_trigger(close_everything)
        except OSError:
            # The trigger is already closed (seen once in CI: EBADF here, the race on close that
            # waitress issue #468 shows). Stopping must not raise, in a test's teardown least of
            # all: the loop's thread is waited for, and the shutdown event is set.
            pass

    def start(self) -> Server:
        """Serve from a daemon thread (tests, the pytest plugin)."""
        self._thread = threading.Thread(target=self._server.run, name="paymock-server", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.core.shutdown.set()
        if self._thread is None or not self._thread.is_alive():
            self._server.close()
            return

        self._end_loop()
        self._thread.join(timeout)
        self._server.task_dispatcher.shutdown(timeout=timeout)
