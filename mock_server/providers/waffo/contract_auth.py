"""How the contract kit's requests carry Waffo credentials, exactly as @waffo/pancake-ts sends them.

API-key requests are signed by a `requests` auth object, so the signature covers the final body
bytes: base64 RSA-SHA256 over `POST\\n{path}\\n{timestamp}\\n{base64 sha256(body)}`, path without
the mount prefix. Customer operations carry a session token the kit issues through
issue-session-token.
"""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit

import requests

from ..contract_support import CredentialsError
from . import auth as waffo_auth
from .contract_credentials import WaffoCredentials

SIGN_ME = "sign-me"  # placeholder the signer replaces; a request that lost it goes out unsigned
TOKEN_LIFETIME = 240.0  # seconds a session token is reused (Waffo tokens live 5 minutes)

# Operations and the credential each takes (the contract lists the alternatives).
WAFFO_API_KEY_OPS = {"createCheckoutSession", "issueSessionToken", "cancelSubscriptionOrder"}
ISSUE_TOKEN_PATH = "/v1/actions/auth/issue-session-token"


class WaffoSigner(requests.auth.AuthBase):
    """Signs a prepared request, so the signature covers the exact bytes sent.

    Only a request that still carries all three placeholder headers is signed. When a check drops
    one (missing or ignored auth probes), the request goes out unsigned, as it should.
    """

    def __init__(self, creds: WaffoCredentials, base_url: str):
        self.creds = creds
        self.mount = urlsplit(base_url).path.rstrip("/")

    def __call__(self, request):
        headers = request.headers
        if headers.get("X-Signature") != SIGN_ME or headers.get("X-Timestamp") != SIGN_ME \
                or headers.get("X-Merchant-Id") != self.creds.merchant_id:
            return request
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        path = urlsplit(request.url).path[len(self.mount):]
        stamp = str(int(time.time()))
        headers["X-Timestamp"] = stamp
        headers["X-Signature"] = waffo_auth.sign(self.creds.private_key_pem, "POST", path, stamp, body)
        return request

    def headers(self) -> dict:
        """Placeholder API-key headers for a request this signer will sign."""
        return {"X-Merchant-Id": self.creds.merchant_id, "X-Timestamp": SIGN_ME, "X-Signature": SIGN_ME}


def post_with_retry(session: requests.Session, url: str, *, attempts: int = 4, **kwargs):
    """POST, waiting out 429 answers for as long as their Retry-After says (at most 30 s each)."""
    for attempt in range(attempts):
        response = session.post(url, timeout=30, **kwargs)
        if response.status_code != 429 or attempt == attempts - 1:
            return response
        try:
            delay = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            delay = 1.0
        time.sleep(min(max(delay, 0.0), 30.0))
    return response


class WaffoTokens:
    """Issues customer session tokens through the target's own issue-session-token endpoint."""

    def __init__(self, creds: WaffoCredentials, base_url: str, redact=None, on_request=None):
        self.creds = creds
        self.base_url = base_url.rstrip("/")
        self.signer = WaffoSigner(creds, base_url)
        self.redact = redact
        self.on_request = on_request
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None

    def issue(self, identity: str | None = None) -> str:
        if not self.creds.store_id:
            raise CredentialsError("customer operations need a store: set WAFFO_STORE_ID (--store-id)")
        session = requests.Session()
        session.auth = self.signer
        body = {"buyerIdentity": identity or self.creds.buyer_identity, "storeId": self.creds.store_id}
        if self.on_request:
            self.on_request()
        response = post_with_retry(session, self.base_url + ISSUE_TOKEN_PATH, data=json.dumps(body),
                                   headers={"Content-Type": "application/json", **self.signer.headers()})
        if response.status_code != 200:
            raise CredentialsError(f"issue-session-token answered {response.status_code}: "
                                   f"{(self.redact or str)(response.text[:300])}")
        token = response.json()["data"]["token"]
        if self.redact is not None:
            self.redact.add(token)
        return token

    def current(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() - self._token[1] > TOKEN_LIFETIME:
                self._token = (self.issue(), time.monotonic())
            return self._token[0]


def install_waffo_auth(schema, creds: WaffoCredentials, base_url: str, redact=None,
                       on_request=None) -> WaffoTokens:
    """Register Schemathesis' auth hook on `schema`: API-key operations are signed, customer
    operations carry a session token (issued on first need). A token a link already put in the
    case (issueSessionToken -> create-order) is kept."""
    tokens = WaffoTokens(creds, base_url, redact, on_request)
    signer = tokens.signer

    @schema.auth()
    class WaffoAuth:
        def get(self, case, ctx):
            return tokens

        def set(self, case, data, ctx):
            op = case.operation.definition.raw.get("operationId")
            case.headers = case.headers if case.headers is not None else {}
            if op in WAFFO_API_KEY_OPS:
                case.headers.update(signer.headers())
                case._auth = signer
                return
            if not str(case.headers.get("Authorization", "")).startswith("Bearer "):
                case.headers["Authorization"] = f"Bearer {data.current()}"
            case.headers.setdefault("X-Environment", creds.environment)

    return tokens
