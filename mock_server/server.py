"""Serving the app on waitress: a production WSGI server, one process, a pool of threads.

Why waitress: pure Python with no C build step (installs anywhere pip does), a fixed thread pool
that matches the single-process, in-memory design, clean shutdown on SIGINT/SIGTERM, and an
embeddable API so the pytest plugin can run the same server in a background thread.
"""
from __future__ import annotations

import signal
import threading

from waitress.server import create_server


class Server:
    def __init__(self, app, host: str = "127.0.0.1", port: int = 8787, threads: int = 16):
        self.app = app
        # The app's public URL may depend on the port the OS picked (port 0), so it is fixed
        # after binding.
        self._server = create_server(app, host=host, port=port, threads=threads,
                                     ident="paymock", clear_untrusted_proxy_headers=True,
                                     channel_timeout=30)
        self.host = host
        self.port = self._server.effective_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Block until SIGINT or SIGTERM; then finish in-flight requests and return."""
        def _stop(_signum, _frame):
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            self._server.run()  # returns after KeyboardInterrupt, shutting its task pool down
        finally:
            signal.signal(signal.SIGTERM, previous)
            self._server.close()

    def start(self) -> Server:
        """Serve from a daemon thread (tests, the pytest plugin)."""
        self._thread = threading.Thread(target=self._server.run, name="paymock-server", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        # Close idle keep-alive connections too, or the I/O loop keeps serving them.
        for channel in list(self._server._map.values()):
            channel.close()
        self._server.task_dispatcher.shutdown(timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout)
