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
import time

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
access = logging.getLogger("paymock.access")


def configure(level: str = "info", fmt: str = "text", stream=None) -> logging.Handler:
    """Send the `paymock` loggers to `stream` (stderr) at `level`, as `fmt` says."""
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
    root = logging.getLogger("paymock")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    return handler


def request_line(method: str, path: str, status: int, ms: float, provider: str | None,
                 operation: str | None, namespace: str | None, fault: str | None) -> None:
    """The access line of one request (http/pipeline.finish calls it for every answer)."""
    access.info("%s %s %s %.1f ms %s%s%s", method, path, status, ms,
                f"{provider}.{operation}" if operation else (provider or "-"),
                f" {namespace}" if namespace else "", f" fault={fault}" if fault else "",
                extra={"method": method, "path": path, "status": status, "ms": ms,
                       "provider": provider, "operation": operation, "namespace": namespace,
                       "fault": fault})
