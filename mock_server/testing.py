"""Test helpers without pytest: a paymock server in a thread of the test process, and the
per-test handle the pytest plugin's `paymock` fixture yields (also usable from unittest or a
script). `import paymock` re-exports them.

    from paymock import start_server, Paymock

    server = start_server()            # a free port on 127.0.0.1, the packaged fixtures
    handle = Paymock(server)           # the test's own credentials, hence namespaces
    api = handle.provider(name)        # or handle.<name>: .base_url, .credential, .namespace
    handle.waffo.post(path, json=...)  # a Waffo merchant of the test's own signs and sends
    handle.inbox.wait_for("order.completed")   # the webhooks the test's namespaces sent
    ...
    handle.cleanup(); server.stop()
"""
from __future__ import annotations

from pathlib import Path

from .control.client import Client
from .webhook_inbox import WebhookInbox


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
    """What one test uses: for each registered provider a handle (`provider(name)`, or
    `handle.<name>`) with its base URL and, where the provider mints one, a credential of the
    test's own and its namespace (Waffo: a merchant with its own key pair, and a signer); an
    `inbox` of the webhooks the test's namespaces sent; and helpers that undo themselves after
    the test."""

    def __init__(self, server: PaymockServer, namespace: str | None = None):
        """`namespace`: where `webhook_endpoint`, `state` and `journal` look by default; None:
        the test's own namespace at the first provider that gives it one."""
        from .providers import registered  # the server's modules, loaded only once a test needs them

        self.server = server
        self.url = server.url
        self.control = server.control
        self.providers = {p.name: p.handle_for_test(self.url) for p in registered()}
        self.namespace = namespace or next(
            (handle.namespace for handle in self.providers.values() if handle.namespace), None)
        self.clock = _TestClock(self)
        self._given_namespace = namespace
        #: The webhooks of the test's namespaces (webhook_inbox.py): `inbox.wait_for(type)`.
        self.inbox = WebhookInbox(self.control, self.namespaces_used)
        self._rules: list[str] = []
        self._endpoints: list[str] = []
        self._clock_touched = False

    def namespaces_used(self) -> tuple[str, ...]:
        """The test's namespaces so far: each provider handle's (a Waffo merchant's once it is
        minted) and the one given to the constructor."""
        from .providers.handles import namespaces_used

        names = [n for handle in self.providers.values() for n in namespaces_used(handle)]
        if self._given_namespace:
            names.append(self._given_namespace)
        return tuple(dict.fromkeys(names))

    def provider(self, name: str):
        """The test's handle for one provider (providers/handles.py): `base_url`, `credential`,
        `namespace`."""
        try:
            return self.providers[name]
        except KeyError:
            raise KeyError(f"no provider {name!r}; paymock serves {sorted(self.providers)}") from None

    def __getattr__(self, name: str):
        # `handle.<provider>` reads as `handle.provider(<provider>)`; only names nothing else took
        # get here, so an attribute of the handle always wins over a provider's name.
        providers = self.__dict__.get("providers", {})
        if name in providers:
            return providers[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r} (nor a provider: "
                             f"{sorted(providers)})")

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
        """Script a payment outcome: a payment id, or the id of what a provider's payment is for
        (a checkout session, an order)."""
        return self.control.pay(obj_id, outcome, reason, **kwargs)

    def trigger(self, event: str, namespace: str | None = None, **params) -> dict:
        """Make `event` happen in this test's namespace (`trigger("dispute.opened")`; params
        name the object to act on, e.g. `payment_id=`)."""
        namespace = namespace or self.namespace
        provider = namespace.split(":", 1)[0] if namespace else None  # "<provider>:<hash>"
        return self.control.trigger(event, provider, namespace, **params)

    @property
    def disputes(self):
        """Open and move Dodo disputes (`disputes.open(payment_id)`, `disputes.move(id,
        "challenge")`): the control client's, which finds the namespace by the id."""
        return self.control.disputes

    def refund_outcome(self, outcome: str, times: int | None = None) -> dict:
        """How this test's next Dodo refunds end: succeeded, failed, or pending / review (then
        `control.refunds.settle(refund_id, ...)`)."""
        return self.control.refunds.outcome(self.provider("dodo").namespace, outcome, times)

    def webhook_endpoint(self, url: str, namespace: str | None = None, **fields) -> dict:
        """Deliver this test's webhooks (its `namespace` unless told otherwise) to `url`; the
        endpoint is removed after the test."""
        endpoint = self.control.webhooks.add_endpoint(url, namespace or self.namespace, **fields)
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
        return self.control.state(namespace or self.namespace)

    def journal(self, namespace: str | None = None) -> list[dict]:
        return self.control.journal(namespace or self.namespace)

    def failure_summary(self, limit: int = 20) -> str:
        """What the server saw of this test, for the report of a test that failed: the last
        `limit` requests of each of its namespaces, and the webhooks they sent."""
        lines = []
        for name in self.namespaces_used():
            entries = self.control.journal(name, limit=limit)
            events = self.control.webhooks.events(name)
            if not entries and not events:
                continue
            lines.append(f"{name}:")
            lines += [f"  {e['method']} {e['path']} -> {e['status']}"
                      + (f" ({e['operation']})" if e.get("operation") else "") for e in entries]
            if events:
                lines.append("  webhooks: " + ", ".join(e["type"] for e in events))
        return "\n".join(lines)

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
        from .providers.handles import namespaces_used as handle_namespaces

        for handle in self.providers.values():
            for name in handle_namespaces(handle):  # a Waffo merchant never minted: nothing
                try:
                    self.control.reset(name)
                except Exception:
                    pass
            close = getattr(handle, "close", None)
            if close is not None:
                close()


def start_server(fixtures: str | Path | None = None, threads: int = 8) -> PaymockServer:
    """Serve paymock (waitress, every fault available) on a free port of 127.0.0.1 in background
    threads of this process; `fixtures` is a catalog JSON (default: the packaged one)."""
    from .app import create_app
    from .config import Settings
    from .server import Server

    app = create_app(Settings.load(port=0, fixtures=fixtures))
    running = Server(app, "127.0.0.1", 0, threads=threads).start()
    return PaymockServer(running.url, running)
