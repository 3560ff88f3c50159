"""Credentials for contract runs: where they come from, how requests carry them, and how they are
kept out of everything the kit prints or writes.

Dodo: `Authorization: Bearer <API key>` (Schemathesis' own bearer auth, so its auth checks know
what was sent). Waffo: API-key requests are signed exactly as @waffo/pancake-ts signs them
(base64 RSA-SHA256 over `POST\\n{path}\\n{timestamp}\\n{base64 sha256(body)}`, path without the
mount prefix) by a `requests` auth object, so the signature covers the final body bytes; customer
operations carry a session token the kit issues through issue-session-token.

Sources, highest first: flags, environment variables (`DODO_PAYMENTS_API_KEY`; `WAFFO_MERCHANT_ID`
with `WAFFO_PRIVATE_KEY` (PEM text) or `WAFFO_PRIVATE_KEY_FILE`, optional `WAFFO_STORE_ID`), and,
only when the target is paymock, the TEST-ONLY fixture credentials.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from .. import fixtures, resources
from ..providers.waffo import auth as waffo_auth

# TEST-ONLY: accepted by a mock the kit starts itself (its API-key allow-list), never by a real API.
FIXTURE_DODO_API_KEY = "sk_test_paymock_contract_kit_TEST_ONLY"
FIXTURE_WAFFO_MERCHANT = "acme"
FIXTURE_WAFFO_STORE_SLUG = "acme-digital"
BUYER_IDENTITY = "contract-kit@example.com"
SIGN_ME = "sign-me"  # placeholder the signer replaces; a request that lost it goes out unsigned
TOKEN_LIFETIME = 240.0  # seconds a session token is reused (Waffo tokens live 5 minutes)

# Operations and the credential each takes (the contract lists the alternatives).
WAFFO_API_KEY_OPS = {"createCheckoutSession", "issueSessionToken", "cancelSubscriptionOrder"}
ISSUE_TOKEN_PATH = "/v1/actions/auth/issue-session-token"


class CredentialsError(ValueError):
    """Credentials are missing or unreadable; the message says which flag or variable to set."""


class Redactor:
    """Knows every secret of a run (keys, issued tokens) and scrubs them from any text."""

    MASK = "[REDACTED]"
    # Session tokens (JWTs), whole or cut short by a report's truncation.
    JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}(?:\.\.\.)?")

    def __init__(self, secrets=()):
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 6:
            return
        with self._lock:
            self._secrets.add(secret)
            # A PEM is also scrubbed line by line (a report might wrap it differently).
            for line in secret.splitlines():
                if len(line.strip()) >= 16 and "-----" not in line:
                    self._secrets.add(line.strip())

    def __call__(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, self.MASK)
        return self.JWT.sub("[REDACTED JWT]", text)


@dataclass
class DodoCredentials:
    api_key: str
    source: str

    def secrets(self) -> list[str]:
        return [self.api_key]


@dataclass
class WaffoCredentials:
    merchant_id: str
    private_key_pem: str = field(repr=False)
    store_id: str | None
    source: str
    environment: str = "test"
    buyer_identity: str = BUYER_IDENTITY

    def secrets(self) -> list[str]:
        return [self.private_key_pem]


def fixture_dodo() -> DodoCredentials:
    return DodoCredentials(FIXTURE_DODO_API_KEY, "TEST-ONLY fixture key")


def fixture_waffo() -> WaffoCredentials:
    waffo = fixtures.load()["waffo"]
    merchant = next(m for m in waffo["merchants"] if m["fixture"] == FIXTURE_WAFFO_MERCHANT)
    key = next(k for k in merchant["keys"] if k["environment"] == "test")
    store = next(s for s in waffo["stores"] if s["slug"] == FIXTURE_WAFFO_STORE_SLUG)
    pem = (resources.fixtures() / key["privateKeyFile"]).read_text()
    return WaffoCredentials(merchant["merchantId"], pem, store["id"], "TEST-ONLY fixture merchant acme")


def load_dodo(api_key: str | None, env, allow_fixture: bool) -> DodoCredentials:
    if api_key:
        return DodoCredentials(api_key, "--api-key")
    if env.get("DODO_PAYMENTS_API_KEY"):
        return DodoCredentials(env["DODO_PAYMENTS_API_KEY"], "DODO_PAYMENTS_API_KEY")
    if allow_fixture:
        return fixture_dodo()
    raise CredentialsError("no Dodo API key: pass --api-key or set DODO_PAYMENTS_API_KEY "
                           "(use a test-mode key: https://test.dodopayments.com)")


def load_waffo(merchant_id: str | None, private_key_file: str | None, store_id: str | None, env,
               allow_fixture: bool) -> WaffoCredentials:
    merchant_id = merchant_id or env.get("WAFFO_MERCHANT_ID")
    store_id = store_id or env.get("WAFFO_STORE_ID")
    pem, source = None, None
    key_file = private_key_file or env.get("WAFFO_PRIVATE_KEY_FILE")
    if private_key_file:
        source = "--private-key-file"
    elif env.get("WAFFO_PRIVATE_KEY"):
        pem, source = env["WAFFO_PRIVATE_KEY"].replace("\\n", "\n"), "WAFFO_PRIVATE_KEY"
    elif key_file:
        source = "WAFFO_PRIVATE_KEY_FILE"
    if pem is None and key_file:
        try:
            pem = Path(key_file).read_text()
        except OSError as exc:
            raise CredentialsError(f"cannot read the Waffo private key file: {exc.strerror}") from None
    if merchant_id and pem:
        try:
            waffo_auth.sign(pem, "POST", "/", "0", b"")
        except (ValueError, TypeError):
            raise CredentialsError(f"the Waffo private key ({source}) is not a PEM private key") from None
        return WaffoCredentials(merchant_id, pem, store_id, f"WAFFO_MERCHANT_ID + {source}")
    if allow_fixture and not merchant_id and not pem:
        creds = fixture_waffo()
        creds.store_id = store_id or creds.store_id
        return creds
    missing = [name for name, value in (("WAFFO_MERCHANT_ID (--merchant-id)", merchant_id),
               ("WAFFO_PRIVATE_KEY or WAFFO_PRIVATE_KEY_FILE (--private-key-file)", pem)) if not value]
    raise CredentialsError("Waffo credentials incomplete: set " + " and ".join(missing))


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

    def __init__(self, creds: WaffoCredentials, base_url: str, redact: Redactor | None = None,
                 on_request=None):
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


def install_waffo_auth(schema, creds: WaffoCredentials, base_url: str, redact: Redactor | None = None,
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


def dodo_auth_config(creds: DodoCredentials) -> dict:
    """Schemathesis config: the API key through its OpenAPI-aware bearer auth."""
    return {"openapi": {"API_KEY": {"bearer": creds.api_key}}}

