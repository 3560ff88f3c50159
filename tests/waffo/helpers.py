"""A small Waffo client for tests: signs API-key requests exactly as @waffo/pancake-ts does."""
from __future__ import annotations

import json
import time
from pathlib import Path

from mock_server.providers.waffo import auth

REPO = Path(__file__).resolve().parents[2]
CATALOG = json.loads((REPO / "fixtures" / "catalog.json").read_text())["waffo"]
MERCHANTS = {m["fixture"]: m for m in CATALOG["merchants"]}
STORES = {s["slug"]: s for s in CATALOG["stores"]}
PRODUCTS = {p["metadata"]["fixture"]: p for p in CATALOG["products"]}

CREATE_SESSION = "/v1/actions/checkout/create-session"
ISSUE_TOKEN = "/v1/actions/auth/issue-session-token"
ONETIME_ORDER = "/v1/actions/onetime-order/create-order"
SUBSCRIPTION_ORDER = "/v1/actions/subscription-order/create-order"
CANCEL_ONETIME = "/v1/actions/onetime-order/cancel-order"
CANCEL_SUBSCRIPTION = "/v1/actions/subscription-order/cancel-order"


def private_key(merchant: str = "acme", environment: str = "test") -> str:
    entry = next(k for k in MERCHANTS[merchant]["keys"] if k["environment"] == environment)
    return (REPO / "fixtures" / entry["privateKeyFile"]).read_text()


def merchant_id(merchant: str = "acme") -> str:
    return MERCHANTS[merchant]["merchantId"]


def signed_headers(path: str, raw: bytes, merchant: str = "acme", environment: str = "test",
                   timestamp: str | None = None, key: str | None = None,
                   merchant_id_override: str | None = None) -> dict:
    timestamp = timestamp or str(int(time.time()))
    signature = auth.sign(key or private_key(merchant, environment), "POST", path, timestamp, raw)
    return {"Content-Type": "application/json",
            "X-Merchant-Id": merchant_id_override or merchant_id(merchant),
            "X-Timestamp": timestamp, "X-Signature": signature}


class WaffoClient:
    """Wraps a Flask test client or a base URL (requests) behind one small interface."""

    def __init__(self, flask_client=None, base_url: str | None = None, mount: str = "/waffo"):
        self.flask = flask_client
        self.base_url = base_url
        self.mount = mount

    def _post(self, path: str, raw: bytes, headers: dict):
        if self.flask is not None:
            resp = self.flask.post(self.mount + path, data=raw, headers=headers)
            return resp.status_code, resp.get_json(silent=True), resp.headers
        import requests
        resp = requests.post(self.base_url + self.mount + path, data=raw, headers=headers, timeout=30)
        try:
            payload = resp.json()
        except ValueError:
            payload = None
        return resp.status_code, payload, resp.headers

    @staticmethod
    def _raw(body) -> bytes:
        return body if isinstance(body, bytes) else json.dumps(body).encode()

    def api(self, path: str, body, merchant: str = "acme", environment: str = "test",
            headers: dict | None = None, **sign_kw):
        raw = self._raw(body)
        all_headers = signed_headers(path, raw, merchant, environment, **sign_kw)
        all_headers.update(headers or {})
        return self._post(path, raw, all_headers)

    def slug(self, path: str, body, slug: str = "acme-digital", environment: str = "test",
             headers: dict | None = None):
        return self._post(path, self._raw(body), {"Content-Type": "application/json",
                                                  "X-Store-Slug": slug, "X-Environment": environment,
                                                  **(headers or {})})

    def bearer(self, path: str, body, token: str, environment: str | None = "test",
               headers: dict | None = None):
        all_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        if environment is not None:
            all_headers["X-Environment"] = environment
        all_headers.update(headers or {})
        return self._post(path, self._raw(body), all_headers)

    # -- conveniences -------------------------------------------------------------------------
    def session(self, product: str = "ebook", currency: str = "USD", merchant: str = "acme",
                environment: str = "test", **fields) -> str:
        status, payload, _ = self.api(CREATE_SESSION, {"productId": PRODUCTS[product]["id"],
                                                       "currency": currency, **fields},
                                      merchant=merchant, environment=environment)
        assert status == 200, payload
        return payload["data"]["sessionId"]

    def token(self, identity: str = "buyer@example.com", store: str = "acme-digital",
              merchant: str = "acme") -> str:
        status, payload, _ = self.api(ISSUE_TOKEN, {"storeId": STORES[store]["id"],
                                                    "buyerIdentity": identity}, merchant=merchant)
        assert status == 200, payload
        return payload["data"]["token"]


def assert_error(result, status: int, message: str, layer: str | None = None) -> None:
    got_status, payload, _ = result
    assert (got_status, payload) == (status, {"data": None, "errors": [
        {"message": message, "layer": layer or payload["errors"][0]["layer"]}]}), payload
