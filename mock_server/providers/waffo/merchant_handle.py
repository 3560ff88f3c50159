"""A Waffo merchant of one test's own (`paymock.waffo` in the pytest plugin, `Paymock(server).waffo`
outside it): a fresh RSA key pair and `MER_` id, registered with the server through
`POST /_mock/waffo/merchants` the first time the test asks for any of them, hence a namespace no
other test reaches; and a signer for its API-key calls that signs exactly as @waffo/pancake-ts.

    waffo = paymock.waffo
    waffo.post("/v1/actions/checkout/create-session",
               json={"productId": "PROD_n9BAyublbbOLvbySWsH7zx", "currency": "USD"})
    waffo.headers("/v1/actions/checkout/create-session", raw_body)   # for your own HTTP client
    WaffoPancake(**waffo.sdk_options())                              # the Node SDK's options

The new merchant's namespace starts with copies of the first fixture merchant's stores and
products (providers/waffo/models.seed_objects), so the documented fixture ids work in it.
Minting waits until first use: a test that never touches Waffo costs nothing, and one that does
pays a key generation (usually already made ahead by merchant_keys.POOL) and one control call.
"""
from __future__ import annotations

import json as jsonlib
import os
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ...core.http import credential_namespace
from . import auth
from .merchant_keys import POOL, KeyPool, new_merchant_id

ENVIRONMENT = "test"  # the environment the test merchant's key is registered for


@dataclass(frozen=True)
class _Merchant:
    merchant_id: str
    private_key: str
    public_key: str
    namespace: str


class WaffoHandle:
    """What one test gets for Waffo: `base_url`, and (minted on first read) `merchant_id`,
    `private_key` (PKCS#8 PEM), `public_key`, `namespace`, with `credential` the merchant id
    (the credential the namespace is named after). `headers()` signs a request, `post()` signs
    and sends one, `sdk_options()` configures the official SDK."""

    name = "waffo"

    def __init__(self, server_url: str, mount: str = "/waffo", pool: KeyPool = POOL):
        self.server_url = server_url.rstrip("/")
        self.base_url = self.server_url + mount
        self._mount = urlsplit(self.base_url).path
        self._pool = pool
        self._merchant: _Merchant | None = None
        self._lock = threading.Lock()
        self._http = None  # a requests.Session, made on first use (and closed by close())
        self._webhook_key: str | None = None

    # -- the merchant, minted on first use -----------------------------------------------------
    @property
    def minted(self) -> bool:
        """Whether this test's merchant exists yet (reading any of its attributes makes it)."""
        return self._merchant is not None

    def _ensure(self) -> _Merchant:
        merchant = self._merchant
        if merchant is None:
            with self._lock:
                if self._merchant is None:
                    self._merchant = self._register()
                merchant = self._merchant
        return merchant

    def _register(self) -> _Merchant:
        keys = self._pool.take()
        merchant_id = new_merchant_id()
        response = self._session().post(
            f"{self.server_url}/_mock/waffo/merchants", timeout=10, headers=_control_headers(),
            json={"merchantId": merchant_id, "publicKey": keys.public_pem,
                  "environment": ENVIRONMENT})
        if response.status_code != 201:
            raise RuntimeError(f"paymock at {self.server_url} refused the test's Waffo merchant "
                               f"(POST /_mock/waffo/merchants: HTTP {response.status_code}): "
                               f"{response.text[:300]}")
        namespace = response.json().get("namespace") or credential_namespace("waffo", merchant_id)
        return _Merchant(merchant_id, keys.private_pem, keys.public_pem, namespace)

    @property
    def merchant_id(self) -> str:
        return self._ensure().merchant_id

    @property
    def credential(self) -> str:
        """The merchant id: Waffo's namespaces are per merchant (Client.namespace_for("waffo",
        credential) == namespace)."""
        return self._ensure().merchant_id

    @property
    def private_key(self) -> str:
        """The merchant's private key, PKCS#8 PEM: `privateKey` for @waffo/pancake-ts."""
        return self._ensure().private_key

    @property
    def public_key(self) -> str:
        """The public half, SPKI PEM, as registered with the server."""
        return self._ensure().public_key

    @property
    def namespace(self) -> str:
        return self._ensure().namespace

    def namespaces_used(self) -> tuple[str, ...]:
        """The merchant's namespace once minted, () before (asking does not mint it)."""
        merchant = self._merchant
        return (merchant.namespace,) if merchant is not None else ()

    # -- signing -------------------------------------------------------------------------------
    def path_of(self, path: str) -> str:
        """The path the SDK signs, below the mount: "/v1/actions/..." as given, or cut out of a
        full URL under `base_url` or of a path under the mount ("/waffo/v1/...")."""
        if path.startswith(self.base_url + "/"):
            return path[len(self.base_url):]
        if self._mount and path.startswith(self._mount + "/"):
            return path[len(self._mount):]
        if not path.startswith("/"):
            raise ValueError(f"give the API path, e.g. /v1/actions/checkout/create-session, "
                             f"not {path!r}")
        return path

    def headers(self, path: str, body: bytes | str = b"", timestamp: int | str | None = None,
                merchant_id: str | None = None) -> dict:
        """The headers of an API-key request with exactly `body` (the raw bytes you send):
        Content-Type, X-Merchant-Id, X-Timestamp (unix seconds, now unless given) and
        X-Signature (RSA-SHA256 over "POST\\n{path}\\n{timestamp}\\n{base64 sha256(body)}")."""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, (bytes, bytearray)):
            raise TypeError("headers() signs the exact bytes you send: pass the encoded body "
                            "(bytes or str), or let post(path, json=...) encode and send it")
        merchant = self._ensure()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {"Content-Type": "application/json",
                "X-Merchant-Id": merchant_id or merchant.merchant_id, "X-Timestamp": stamp,
                "X-Signature": auth.sign(merchant.private_key, "POST", self.path_of(path), stamp,
                                         bytes(body))}

    def post(self, path: str, json=None, data: bytes | str | None = None,
             headers: dict | None = None, timeout: float = 10):
        """Sign and send one API-key request (a requests.Response): `json` is encoded as the SDK
        does (JSON.stringify: no spaces), `data` is sent as is; `headers` are added after
        signing (X-Idempotency-Key, X-Environment, or a header to break on purpose)."""
        if json is not None and data is not None:
            raise TypeError("give json or data, not both")
        raw = data if data is not None else (
            b"{}" if json is None else jsonlib.dumps(json, separators=(",", ":"),
                                                     ensure_ascii=False).encode())
        if isinstance(raw, str):
            raw = raw.encode()
        sent = {**self.headers(path, raw), **(headers or {})}
        return self._session().post(self.base_url + self.path_of(path), data=raw, headers=sent,
                                    timeout=timeout)

    # -- the official SDK ------------------------------------------------------------------------
    def sdk_options(self) -> dict:
        """`new WaffoPancake(options)` for @waffo/pancake-ts, pointed at this test's merchant:
        merchantId, privateKey, baseUrl, and webhookPublicKey (the key paymock signs webhooks
        with, for `verifyWebhook`). Pass it to a Node process as JSON, e.g. in an env var."""
        return {"merchantId": self.merchant_id, "privateKey": self.private_key,
                "baseUrl": self.base_url, "webhookPublicKey": self.webhook_public_key()}

    def webhook_public_key(self) -> str:
        """The PEM public key that verifies paymock's Waffo webhook signatures."""
        if self._webhook_key is None:
            response = self._session().get(f"{self.server_url}/_mock/waffo/webhook-public-key",
                                           headers=_control_headers(), timeout=10)
            response.raise_for_status()
            self._webhook_key = response.text
        return self._webhook_key

    # -- plumbing ------------------------------------------------------------------------------
    def _session(self):
        if self._http is None:
            import requests  # not at import: the server imports this package too

            self._http = requests.Session()
        return self._http

    def close(self) -> None:
        """Close the handle's HTTP connections (the test's cleanup does)."""
        if self._http is not None:
            self._http.close()
            self._http = None

    def __repr__(self) -> str:
        merchant = self._merchant
        who = merchant.merchant_id if merchant else "not minted yet"
        return f"WaffoHandle({self.base_url}, merchant {who})"


def _control_headers() -> dict:
    token = os.environ.get("PAYMOCK_CONTROL_TOKEN")  # as the control client reads it
    return {"X-Paymock-Control-Token": token} if token else {}
