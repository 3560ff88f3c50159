"""A small requests-based client for the /_mock control API.

    from mock_server.control import Client
    mock = Client("http://127.0.0.1:8787")
    mock.clock.advance(minutes=46)
    mock.reset()
"""
from __future__ import annotations

import os

import requests

from ..core.http import credential_namespace


class ControlAPIError(RuntimeError):
    pass


class _Clock:
    def __init__(self, client: Client):
        self._client = client

    def get(self) -> dict:
        return self._client._call("GET", "/clock")

    def freeze(self, at: float | None = None) -> dict:
        return self._client._call("POST", "/clock/freeze", {} if at is None else {"at": at})

    def resume(self) -> dict:
        return self._client._call("POST", "/clock/resume")

    def reset(self) -> dict:
        return self._client._call("POST", "/clock/reset")

    def advance(self, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0) -> dict:
        total = seconds + 60 * minutes + 3600 * hours + 86400 * days
        return self._client._call("POST", "/clock/advance", {"seconds": total})


class _Faults:
    def __init__(self, client: Client):
        self._client = client

    def add(self, rule: dict | None = None, **fields) -> dict:
        """Add one rule (see README, "Fault injection"); returns it with its id."""
        return self._client._call("POST", "/faults", {**(rule or {}), **fields})["rules"][0]

    def list(self) -> list[dict]:
        return self._client._call("GET", "/faults")["rules"]

    def get(self, rule_id: str) -> dict:
        return next(r for r in self.list() if r["id"] == rule_id)

    def delete(self, rule_id: str) -> None:
        self._client._call("DELETE", f"/faults/{rule_id}")

    def reset(self) -> int:
        return self._client._call("DELETE", "/faults")["deleted"]


class Client:
    def __init__(self, base_url: str = "http://127.0.0.1:8787", session: requests.Session | None = None,
                 timeout: float = 10.0, token: str | None = None):
        """`token`: the server's --control-token (default: PAYMOCK_CONTROL_TOKEN, if set)."""
        self.base_url = base_url.rstrip("/")
        self.http = session or requests.Session()
        self.timeout = timeout
        self.token = token if token is not None else os.environ.get("PAYMOCK_CONTROL_TOKEN") or None
        self.clock = _Clock(self)
        self.faults = _Faults(self)

    @staticmethod
    def namespace_for(provider: str, credential: str) -> str:
        """The namespace a credential maps to (a Dodo API key, a Waffo merchant id)."""
        return credential_namespace(provider, credential)

    def _call(self, method: str, path: str, body: dict | None = None, params: dict | None = None):
        headers = {"X-Paymock-Control-Token": self.token} if self.token else None
        response = self.http.request(method, f"{self.base_url}/_mock{path}", json=body,
                                     params=params, timeout=self.timeout, headers=headers)
        try:
            payload = response.json()
        except ValueError:
            raise ControlAPIError(f"{method} /_mock{path}: HTTP {response.status_code}, not JSON") from None
        if response.status_code >= 400:
            raise ControlAPIError(f"{method} /_mock{path}: {payload.get('error', payload)}")
        return payload

    def health(self) -> dict:
        return self._call("GET", "/health")

    def reset(self, namespace: str | None = None) -> list[str]:
        return self._call("POST", "/reset", {} if namespace is None else {"namespace": namespace})["reset"]

    def state(self, namespace: str | None = None) -> dict:
        return self._call("GET", "/state", params={"namespace": namespace} if namespace else None)

    def journal(self, namespace: str | None = None, limit: int | None = None) -> list[dict]:
        params = {k: v for k, v in (("namespace", namespace), ("limit", limit)) if v is not None}
        return self._call("GET", "/journal", params=params)["entries"]

    def fail(self, operation: str, status: int = 500, times: int | None = 1, **action) -> dict:
        """Make `operation` ("waffo.createOnetimeOrder", "dodo.create_session", or a bare
        operationId) answer `status` (with the provider's documented body) `times` times."""
        rule_fields = {k: action.pop(k) for k in list(action)
                       if k in ("after", "probability", "seed", "namespace", "body_equals",
                                "for_seconds", "method", "path", "id", "description")}
        provider, _, op = operation.rpartition(".")
        rule = {"operation": op, "action": {"status": status, **action}, **rule_fields}
        if provider:
            rule["provider"] = provider
        if times is not None:
            rule["times"] = times
        return self.faults.add(rule)

    def psp_outage(self, seconds: float | None = None, status: int = 503, times: int | None = None) -> dict:
        """Make the mock PSP fail every checkout creation (for `seconds` of mock time, or `times`)."""
        rule = {"provider": "psp", "action": {"status": status}}
        if seconds is not None:
            rule["for_seconds"] = seconds
        if times is not None:
            rule["times"] = times
        return self.faults.add(rule)

    def expire(self, kind: str, obj_id: str, namespace: str | None = None) -> dict:
        """Expire one thing now: kind "session", "order", "token" or "idempotency-key"."""
        return self._call("POST", f"/expire/{kind}/{obj_id}",
                          {"namespace": namespace} if namespace else {})["expired"]

    def load_scenario(self, scenario: dict) -> list[dict]:
        return self._call("POST", "/scenario", scenario)["rules"]
