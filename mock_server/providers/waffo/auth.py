"""Waffo's three credentials: signed API-key requests, store slugs, and session tokens.

Every failure raises `AuthFailed` with a reason for the server log and the `X-Paymock-Auth-Reason`
header; the wire message stays Waffo's one documented text, `Authentication failed`.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import uuid
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ...core.clock import Clock

MAX_FUTURE_SKEW = 60  # seconds: the documented rule
MAX_AGE = 300  # seconds: unconfirmed past-side window (see docs/waffo.md)
TOKEN_TTL = 300
TOKEN_ALGORITHM = "HS256"
ENVIRONMENTS = ("test", "prod")


class AuthFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def canonical_string(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    body_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return f"{method.upper()}\n{path}\n{timestamp}\n{body_hash}".encode()


def sign(private_key_pem: str | bytes, method: str, path: str, timestamp: str, body: bytes) -> str:
    """What the SDK sends as X-Signature (used by tests and the Schemathesis hook)."""
    key = serialization.load_pem_private_key(
        private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem, None)
    signature = key.sign(canonical_string(method, path, timestamp, body), padding.PKCS1v15(),
                         hashes.SHA256())
    return base64.b64encode(signature).decode()


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Accepts SPKI or PKCS#1 PEM, or bare base64 SPKI (the forms the SDK accepts)."""
    text = pem.replace("\\n", "\n").strip()
    if "-----BEGIN" not in text:
        body = "".join(text.split())
        text = "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----"
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError as exc:
        raise ValueError(f"not an RSA public key in PEM form: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the key is not an RSA key; Waffo signs with RSA-SHA256")
    return key


@dataclass
class Merchant:
    merchant_id: str
    keys: dict[str, list] = field(default_factory=dict)  # environment -> [RSAPublicKey]
    fixture: bool = False
    name: str = ""


class MerchantRegistry:
    """Merchants and their registered public keys, shared by every namespace."""

    def __init__(self):
        self._lock = threading.Lock()
        self._merchants: dict[str, Merchant] = {}

    def add_key(self, merchant_id: str, environment: str, public_key_pem: str,
                fixture: bool = False, name: str = "") -> Merchant:
        if environment not in ENVIRONMENTS:
            raise ValueError(f"environment must be one of {list(ENVIRONMENTS)}, got {environment!r}")
        key = load_public_key(public_key_pem)
        with self._lock:
            merchant = self._merchants.setdefault(merchant_id, Merchant(merchant_id, fixture=fixture,
                                                                         name=name))
            merchant.keys.setdefault(environment, []).append(key)
        return merchant

    def get(self, merchant_id: str) -> Merchant | None:
        return self._merchants.get(merchant_id)

    def all(self) -> list[Merchant]:
        with self._lock:
            return list(self._merchants.values())

    def verify(self, merchant_id: str, timestamp: str, signature: str, path: str, body: bytes,
               now_candidates: tuple[float, ...], lenient: bool) -> str:
        """The environment whose key verifies the request; raises AuthFailed otherwise."""
        if not merchant_id or not timestamp or not signature:
            raise AuthFailed("X-Merchant-Id, X-Timestamp and X-Signature are all required")
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise AuthFailed("X-Timestamp must be unix seconds")
        stamp = int(timestamp)
        # Fresh against any of the candidate clocks (mock clock, wall clock): see docs/waffo.md.
        if not any(now - MAX_AGE <= stamp <= now + MAX_FUTURE_SKEW for now in now_candidates):
            raise AuthFailed(f"X-Timestamp {timestamp} is outside the accepted window "
                             f"({MAX_AGE}s old to {MAX_FUTURE_SKEW}s ahead)")
        merchant = self.get(merchant_id)
        if merchant is None:
            if lenient:
                return "test"  # lenient mode: unknown merchants are taken at their word, in test
            raise AuthFailed(f"unknown merchant {merchant_id}; register its public key at "
                             "/_mock/waffo/merchants")
        try:
            raw = base64.b64decode(signature, validate=True)
        except (ValueError, TypeError):
            raise AuthFailed("X-Signature is not base64") from None
        message = canonical_string("POST", path, timestamp, body)
        for environment in ENVIRONMENTS:
            for key in merchant.keys.get(environment, ()):
                try:
                    key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
                    return environment
                except InvalidSignature:
                    continue
        raise AuthFailed(f"X-Signature does not verify with any key registered for {merchant_id} "
                         f"(canonical path {path!r})")


@dataclass(frozen=True)
class TokenClaims:
    merchant_id: str
    store_id: str
    buyer_identity: str
    issued_at: float
    expires_at: float
    token_id: str


class TokenIssuer:
    """Session tokens: HS256 JWTs signed with a per-server secret, lifetime read from the clock."""

    def __init__(self, clock: Clock, secret: bytes | None = None, ttl: int = TOKEN_TTL):
        self.clock = clock
        self.ttl = ttl
        self._secret = secret or secrets.token_bytes(32)
        self._expired: set[str] = set()  # jti of tokens expired early through the control API
        # Tokens whose signature and claims checked out, with their claims. A buyer's token is
        # sent with each of their requests, and checking it is over a third of an order's time
        # (PyJWT validates the base64 character by character); what can change (expiry, an
        # early expiry) is checked on every request below.
        self._checked: dict[str, dict] = {}

    def issue(self, merchant_id: str, store_id: str, buyer_identity: str) -> tuple[str, float]:
        now = self.clock.now()
        expires_at = now + self.ttl
        claims = {
            "iss": "paymock-waffo", "sub": buyer_identity, "mid": merchant_id, "sto": store_id,
            "role": "customer", "iat": int(now), "exp": expires_at, "jti": str(uuid.uuid4()),
        }
        import jwt  # see _check
        return jwt.encode(claims, self._secret, algorithm=TOKEN_ALGORITHM), expires_at

    # -- persistence (--state-file): the signing key, so that tokens outlive a restart ----------
    def dump(self) -> dict:
        """The signing key and the early-expired token ids (the key goes to the state file only;
        nothing logs a component's dump)."""
        return {"secret": base64.b64encode(self._secret).decode(), "expired": sorted(self._expired)}

    def load(self, data: dict) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("secret"), str):
            raise ValueError("waffo tokens: expected {secret, expired}")
        try:
            secret = base64.b64decode(data["secret"], validate=True)
        except ValueError:
            raise ValueError("waffo tokens: the secret is not base64") from None
        if len(secret) < 32:
            raise ValueError("waffo tokens: the secret is shorter than 32 bytes")
        self._secret = secret
        self._expired = {jti for jti in data.get("expired") or [] if isinstance(jti, str)}
        self._checked.clear()

    def expire(self, token: str) -> None:
        """Make one token answer as expired from now on (POST /_mock/expire/token/{token})."""
        try:
            claims = self.verify(token)
        except AuthFailed as exc:
            raise LookupError(f"not a live session token of this server ({exc.reason})") from None
        self._expired.add(claims.token_id)

    def verify(self, token: str) -> TokenClaims:
        claims = self._checked.get(token)
        if claims is None:
            claims = self._check(token)
            if len(self._checked) >= 4096:
                self._checked.clear()
            self._checked[token] = claims
        if self.clock.now() >= claims["exp"]:
            raise AuthFailed("session token has expired (tokens live 5 minutes)")
        if claims.get("jti") in self._expired:
            raise AuthFailed("session token was expired through /_mock/expire/token")
        return TokenClaims(claims["mid"], claims["sto"], claims["sub"], claims["iat"],
                           claims["exp"], claims.get("jti", ""))

    def _check(self, token: str) -> dict:
        """The token's claims if this server signed it and they have the expected types."""
        # Imported by the first token, not at start: PyJWT brings cryptography.x509 and
        # urllib.request along (about 10 MB of the idle server's 80), which a merchant calling
        # with API keys only never needs.
        import jwt
        try:
            # Expiry is checked against the mock clock in verify(), not the wall clock PyJWT uses.
            claims = jwt.decode(token, self._secret, algorithms=[TOKEN_ALGORITHM],
                                issuer="paymock-waffo",
                                options={"verify_exp": False, "verify_iat": False,
                                         "require": ["exp", "sub", "mid", "sto", "iat"]})
        except jwt.PyJWTError as exc:
            raise AuthFailed(f"session token rejected: {exc}") from None
        if not all(isinstance(claims.get(k), str) for k in ("sub", "mid", "sto")) \
                or not isinstance(claims["exp"], (int, float)):
            raise AuthFailed("session token has malformed claims")
        return claims
