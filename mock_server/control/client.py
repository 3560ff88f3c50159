"""A small requests-based client for the /_mock control API.

    from mock_server.control import Client
    mock = Client("http://127.0.0.1:8787")
    mock.clock.advance(minutes=46)
    mock.reset()
"""
from __future__ import annotations

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


class Client:
    def __init__(self, base_url: str = "http://127.0.0.1:8787", session: requests.Session | None = None,
                 timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.http = session or requests.Session()
        self.timeout = timeout
        self.clock = _Clock(self)

    @staticmethod
    def namespace_for(provider: str, credential: str) -> str:
        """The namespace a credential maps to (a Dodo API key, a Waffo merchant id)."""
        return credential_namespace(provider, credential)

    def _call(self, method: str, path: str, body: dict | None = None, params: dict | None = None):
        response = self.http.request(method, f"{self.base_url}/_mock{path}", json=body,
                                     params=params, timeout=self.timeout)
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
