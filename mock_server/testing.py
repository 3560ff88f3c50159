"""Test helpers without pytest: a paymock server in a thread of the test process, and the
per-test handle the pytest plugin's `paymock` fixture yields (also usable from unittest or a
script). `import paymock` re-exports them.

    from paymock import start_server, Paymock

    server = start_server()            # a free port on 127.0.0.1, the packaged fixtures
    handle = Paymock(server)           # its own Dodo key, hence its own namespace
    ...
    handle.cleanup(); server.stop()
"""
from __future__ import annotations

import uuid
from pathlib import Path

from .control.client import Client


class PaymockServer:
    """The session's server: its base URL and a control client."""

    def __init__(self, url: str, server=None):
        self.url = url.rstrip("/")
        self.control = Client(self.url)
        self._server = server

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


class _TestClock:
    def __init__(self, handle: Paymock):
        self._handle = handle

    def __getattr__(self, name):
        self._handle._clock_touched = True
        return getattr(self._handle.control.clock, name)


class Paymock:
    """What one test uses: base URLs, its own credentials, and helpers that undo themselves."""

    def __init__(self, server: PaymockServer):
        self.server = server
        self.url = server.url
        self.control = server.control
        self.dodo_base_url = f"{self.url}/dodo"
        self.waffo_base_url = f"{self.url}/waffo"
        self.dodo_api_key = f"sk_test_{uuid.uuid4().hex}"
        self.dodo_namespace = Client.namespace_for("dodo", self.dodo_api_key)
        self.clock = _TestClock(self)
        self._rules: list[str] = []
        self._endpoints: list[str] = []
        self._clock_touched = False

    def fail(self, operation: str, status: int = 500, times: int | None = 1, **action) -> dict:
        rule = self.control.fail(operation, status=status, times=times, **action)
        self._rules.append(rule["id"])
        return rule

    def add_fault(self, rule: dict | None = None, **fields) -> dict:
        added = self.control.faults.add(rule, **fields)
        self._rules.append(added["id"])
        return added

    def psp_outage(self, seconds: float | None = None, **kwargs) -> dict:
        rule = self.control.psp_outage(seconds, **kwargs)
        self._rules.append(rule["id"])
        return rule

    def pay(self, obj_id: str, outcome: str = "paid", reason: str | None = None, **kwargs) -> dict:
        """Script a payment outcome: a Dodo session id, a payment id or a Waffo order id."""
        return self.control.pay(obj_id, outcome, reason, **kwargs)

    def webhook_endpoint(self, url: str, namespace: str | None = None, **fields) -> dict:
        """Deliver this test's webhooks (its Dodo namespace unless told otherwise) to `url`;
        the endpoint is removed after the test."""
        endpoint = self.control.webhooks.add_endpoint(url, namespace or self.dodo_namespace, **fields)
        self._endpoints.append(endpoint["id"])
        return endpoint

    @property
    def webhooks(self):
        return self.control.webhooks

    def fault(self, rule_id: str) -> dict:
        """A rule as the server sees it now (with `matched` and `fired` counts)."""
        return self.control.faults.get(rule_id)

    def expire(self, kind: str, obj_id: str) -> dict:
        return self.control.expire(kind, obj_id)

    def state(self, namespace: str | None = None) -> dict:
        return self.control.state(namespace or self.dodo_namespace)

    def journal(self, namespace: str | None = None) -> list[dict]:
        return self.control.journal(namespace or self.dodo_namespace)

    def cleanup(self) -> None:
        for rule_id in self._rules:
            try:
                self.control.faults.delete(rule_id)
            except Exception:  # already deleted by the test itself
                pass
        for endpoint_id in self._endpoints:
            try:
                self.control.webhooks.delete_endpoint(endpoint_id)
            except Exception:  # already deleted by the test itself
                pass
        if self._clock_touched:
            self.control.clock.reset()
        try:
            self.control.reset(self.dodo_namespace)
        except Exception:
            pass


def start_server(fixtures: str | Path | None = None, threads: int = 8) -> PaymockServer:
    """Serve paymock (waitress, every fault available) on a free port of 127.0.0.1 in background
    threads of this process; `fixtures` is a catalog JSON (default: the packaged one)."""
    from .app import create_app
    from .config import Settings
    from .server import Server

    app = create_app(Settings.load(port=0, fixtures=fixtures))
    running = Server(app, "127.0.0.1", 0, threads=threads).start()
    return PaymockServer(running.url, running)
