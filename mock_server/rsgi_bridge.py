"""The WSGI app served on granian's RSGI interface (granian_server.py): what lets one event-loop
thread serve every client, however slow some of them are.

On granian's WSGI interface a request takes a Python thread as soon as its head has arrived, and
the app then reads the body in that thread: a client that stops sending its body holds the thread
(with one thread, the whole server) until it gives up. Here the body is awaited on the loop, with
a time limit and a size limit, and the app runs only once the request is complete; the app itself
is called synchronously (it never blocks: an injected wait is owed, core/waits.py, and awaited
here before the answer is sent), so one loop thread serves every request in turn, and a stalled
client costs a coroutine, not a thread.

Faults that act on the connection (reset, drop, and hang: held, then dropped) cut it through
connection_cut.py, since the socket lives in granian's Rust side.
"""
from __future__ import annotations

import asyncio
import io
import sys

from . import connection_cut
from .core import waits
from .core.fault_http import CONNECTION_ENV
from .guards import INCOMPLETE_BODY_ENV

_SPECIAL = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
_keys: dict[str, str] = {}


def _environ_key(name: str) -> str:
    key = _keys.get(name)
    if key is None:
        key = _SPECIAL.get(name) or "HTTP_" + name.upper().replace("-", "_")
        if len(_keys) < 4096:  # header names are the client's: a bounded cache
            _keys[name] = key
    return key


class WsgiOnRsgi:
    # How often overdue body reads are looked for: a late body is answered within read_timeout
    # plus this.
    SWEEP_SECONDS = 0.5

    def __init__(self, app, core, port: int, max_body: int, read_timeout: float):
        self.app = app
        self.core = core
        self.port = port
        self.max_body = max_body
        self.read_timeout = read_timeout
        # Body reads in progress (task -> deadline) and those cut for being late. One periodic
        # sweep instead of asyncio.wait_for per request: wait_for wraps the read in a task of its
        # own and arms a timer, two more loop turns and a fifth of a request's time.
        self._reading: dict[asyncio.Task, float] = {}
        self._late: set[asyncio.Task] = set()
        self._loop = None
        self._base = {
            "GATEWAY_INTERFACE": "CGI/1.1", "SCRIPT_NAME": "", "SERVER_SOFTWARE": "granian",
            "wsgi.errors": sys.stderr, "wsgi.input_terminated": True, "wsgi.multiprocess": False,
            "wsgi.multithread": False, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }

    def __rsgi_init__(self, loop) -> None:
        """granian calls this on its event loop's thread before serving."""
        self._loop = loop
        loop.call_later(self.SWEEP_SECONDS, self._sweep)

    def _sweep(self) -> None:
        now = self._loop.time()
        for task, deadline in list(self._reading.items()):
            if deadline <= now:
                del self._reading[task]
                self._late.add(task)
                task.cancel()
        if not self.core.shutdown.is_set():
            self._loop.call_later(self.SWEEP_SECONDS, self._sweep)

    async def __rsgi__(self, scope, proto):
        environ = self._environ(scope)
        if "CONTENT_LENGTH" in environ or "HTTP_TRANSFER_ENCODING" in environ:
            body = await self._body(proto, environ)
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        owed, token = waits.owing()
        try:
            status, headers, data = self._call(environ)
        finally:
            waits.settle(token)
        if owed.seconds and not await self._wait(proto, owed.seconds):
            return  # the client left during the wait: nobody to answer
        mode = environ.get(CONNECTION_ENV)
        if mode is not None and connection_cut.cut(scope.client, self.port, mode):
            proto.response_empty(status, headers)  # written to a cut socket: never arrives
            return
        proto.response_bytes(status, headers, data)

    def _environ(self, scope) -> dict:
        environ = self._base.copy()
        for name, value in scope.headers.items():
            key = _environ_key(name)
            if key in environ:  # a repeated header: one value, as PEP 3333 (RFC 9110 5.3)
                environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + value
            else:
                environ[key] = value
        path = scope.path  # percent-decoded text; WSGI wants its UTF-8 bytes as latin-1
        environ["PATH_INFO"] = path if path.isascii() else path.encode().decode("latin-1")
        environ["REQUEST_METHOD"] = scope.method
        environ["QUERY_STRING"] = scope.query_string
        environ["SERVER_PROTOCOL"] = "HTTP/" + scope.http_version
        environ["wsgi.url_scheme"] = scope.scheme
        host, _, port = scope.server.rpartition(":")
        environ["SERVER_NAME"], environ["SERVER_PORT"] = host, port
        host, _, port = scope.client.rpartition(":")
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = host, port
        return environ

    async def _body(self, proto, environ) -> bytes:
        """The whole body, awaited for at most read_timeout seconds. A body declared larger than
        max_body is not read (the app refuses it by its Content-Length); a chunked one is read up
        to max_body and one byte more, which the app refuses (flaskapp.PaymockRequest)."""
        length = environ.get("CONTENT_LENGTH", "")
        if length.isdigit() and int(length) > self.max_body:
            return b""
        task = asyncio.current_task()
        self._reading[task] = self._loop.time() + self.read_timeout
        try:
            if length.isdigit():
                return await proto()
            return await self._at_most(proto)
        except asyncio.CancelledError:
            if task not in self._late:
                raise  # the server is stopping
            self._late.discard(task)
            task.uncancel()
            environ[INCOMPLETE_BODY_ENV] = self.read_timeout
            environ.pop("CONTENT_LENGTH", None)
            return b""
        finally:
            self._reading.pop(task, None)

    async def _at_most(self, proto) -> bytes:
        chunks, size = [], 0
        async for chunk in proto:
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body:
                break
        return b"".join(chunks)

    def _call(self, environ) -> tuple[int, list, bytes]:
        started = []

        def start_response(status, headers, exc_info=None):
            started[:] = (status, headers)

        body = self.app(environ, start_response)
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        return int(started[0][:3]), started[1], data

    async def _wait(self, proto, seconds: float) -> bool:
        """Wait an owed injected wait on the loop; False if the client left meanwhile. Ends early
        when the server stops (a hang is then dropped at once)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        gone = asyncio.ensure_future(proto.client_disconnect())
        try:
            while not self.core.shutdown.is_set():
                left = deadline - loop.time()
                if left <= 0:
                    return True
                done, _ = await asyncio.wait((gone,), timeout=min(left, 0.1))
                if done:
                    return False
            return True
        finally:
            gone.cancel()
