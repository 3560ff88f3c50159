"""What the server says while it works: a line per request it answers (`paymock.access`), each
webhook delivery attempt and failure (`paymock.webhooks`), each fault rule that fires
(`paymock.faults`) and each move of the clock (`paymock.clock`), on stderr, as text for people
or JSON lines for log collectors (python-json-logger), at the level asked.

Only `paymock serve` configures this (`configure`): a server embedded in a test leaves these
loggers to the test runner (the pytest plugin hands them to pytest's log capture, shown with a
failed test).

Each line's fields ride on the record (`extra`): the text format writes them in the message, the
JSON format as keys, e.g. {"time": ..., "level": "INFO", "logger": "paymock.access",
"message": "POST /dodo/checkouts 200", "method": "POST", "path": "/dodo/checkouts",
"status": 200, "ms": 1.8, "provider": "dodo", "operation": "create_session",
"namespace": "dodo:1f2e3d4c5b6a7988", "fault": null}.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from logging.handlers import MemoryHandler

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
access = logging.getLogger("paymock.access")

# Lines wait in memory at most this long (or until 256 of them, or a warning) before they are
# written: a write per request costs a server under load a quarter of its throughput, mostly
# because each write lets granian's threads take the GIL from the request thread and back.
FLUSH_EVERY_S = 0.2
QUIET_PATHS = ("/_mock/ui/live/", "/_mock/ui/static/")
BATCH = 256


def configure(level: str = "info", fmt: str = "text", stream=None) -> logging.Handler:
    """Send the `paymock` loggers to `stream` (stderr) at `level`, as `fmt` says, in batches
    written at least every FLUSH_EVERY_S, at once for a warning or worse, and at exit (logging's
    shutdown closes, and so flushes, the batch)."""
    # Records need no caller frame, thread, or process names (the logging HOWTO's
    # "Optimization"): this process is `paymock serve`, whose loggers these are.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(
            "{asctime}{levelname}{name}{message}", style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        text = logging.Formatter("%(asctime)s.%(msecs)03dZ %(levelname)-7s %(name)s  %(message)s",
                                 datefmt="%Y-%m-%dT%H:%M:%S")
        text.converter = time.gmtime  # UTC, as every time paymock shows
        handler.setFormatter(text)
    batch = _Batch(BATCH, logging.WARNING, handler)
    threading.Thread(target=_flush_often, args=(batch,), name="paymock-log-flush",
                     daemon=True).start()
    root = logging.getLogger("paymock")
    root.handlers[:] = [batch]
    root.setLevel(level.upper())
    root.propagate = False
    return batch


class _Batch(MemoryHandler):
    """Records held until a flush, then formatted by the target and written in one write
    (the target's own handle() would write, and flush, each line alone)."""

    def flush(self) -> None:
        with self.lock:
            if not self.buffer or self.target is None:
                return
            target, records = self.target, self.buffer
            self.buffer = []
            try:
                target.stream.write("".join(target.format(record) + target.terminator
                                            for record in records))
                target.stream.flush()
            except Exception:  # as logging does: a broken stream costs the lines, not the server
                target.handleError(records[-1])


def _flush_often(batch: MemoryHandler) -> None:
    """Write what waits in `batch` every FLUSH_EVERY_S, so `tail -f` sees a quiet server's
    lines at once (a handler closed at exit writes nothing more)."""
    while batch.target is not None:
        time.sleep(FLUSH_EVERY_S)
        if batch.buffer:
            batch.flush()


def request_line(method: str, path: str, status: int, ms: float, provider: str | None,
                 operation: str | None, namespace: str | None, fault: str | None) -> None:
    """The access line of one request (http/pipeline.finish calls it for every answer); the
    dashboard's polls and files at debug level, or an open tab would fill the log."""
    level = logging.DEBUG if path.startswith(QUIET_PATHS) else logging.INFO
    access.log(level, "%s %s %s %.1f ms %s%s%s", method, path, status, ms,
                f"{provider}.{operation}" if operation else (provider or "-"),
                f" {namespace}" if namespace else "", f" fault={fault}" if fault else "",
                extra={"method": method, "path": path, "status": status, "ms": ms,
                       "provider": provider, "operation": operation, "namespace": namespace,
                       "fault": fault})
