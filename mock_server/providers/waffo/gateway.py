"""The Waffo gateway: which credential a request carries, and whose namespace it reaches.

Data is partitioned per merchant (`credential_namespace("waffo", merchant_id)`). API-key requests
name the merchant; store-slug requests reach the merchant owning the store; session tokens carry
the merchant that issued them.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace

from ...core.http import credential_namespace
from .auth import ENVIRONMENTS, AuthFailed, MerchantRegistry, TokenIssuer
from .common import Caller, error

API_KEY, SLUG, TOKEN = "api_key", "store_slug", "session_token"


class Gateway:
    def __init__(self, core, registry: MerchantRegistry, tokens: TokenIssuer,
                 slugs: dict[str, tuple[str, str]], lenient: bool = False):
        self.core = core
        self.registry = registry
        self.tokens = tokens
        self.slugs = slugs  # store slug -> (owning merchant id, store id)
        self._lenient = lenient
        self._namespaces: dict[str, str] = {}  # namespace name -> merchant id (for seeding)
        self._lock = threading.Lock()

    # -- lenient mode -------------------------------------------------------------------------
    @property
    def lenient(self) -> bool:
        return self._lenient and not self.core.strict

    def set_lenient(self, enabled: bool) -> None:
        if enabled and self.core.strict:
            raise ValueError("lenient mode is not available when the server runs with --strict")
        self._lenient = enabled

    # -- namespaces ---------------------------------------------------------------------------
    def namespace_name(self, merchant_id: str) -> str:
        name = credential_namespace("waffo", merchant_id)
        if name not in self._namespaces:
            with self._lock:
                self._namespaces[name] = merchant_id
        return name

    def merchant_of(self, namespace_name: str) -> str | None:
        found = self._namespaces.get(namespace_name)
        if found is None:
            # A namespace named before its merchant's first request (the control API, a trigger):
            # a registered merchant's, so that it is seeded with that merchant's own stores.
            found = next((m.merchant_id for m in self.registry.all()
                          if credential_namespace("waffo", m.merchant_id) == namespace_name), None)
            if found is not None:
                self.namespace_name(found)
        return found

    # -- credentials --------------------------------------------------------------------------
    def authenticate(self, request, allowed: tuple[str, ...]) -> Caller:
        """The caller of a request (the pipeline's Incoming) presenting one of the `allowed`
        credential kinds (from the operation's `security` in the contract)."""
        headers = request.headers
        sent = request.environ  # which headers came: werkzeug's `headers` raises inside for a miss
        presented = []
        if "HTTP_X_SIGNATURE" in sent or "HTTP_X_MERCHANT_ID" in sent:
            presented.append(API_KEY)
        if "HTTP_AUTHORIZATION" in sent:
            presented.append(TOKEN)
        if "HTTP_X_STORE_SLUG" in sent:
            presented.append(SLUG)
        usable = [kind for kind in presented if kind in allowed]
        if not usable:
            if presented:
                raise AuthFailed(f"{presented[0]} credentials are not accepted here; this endpoint "
                                 f"takes {' or '.join(allowed)}")
            raise AuthFailed(f"no credentials; this endpoint takes {' or '.join(allowed)}")
        kind = usable[0]
        if kind == API_KEY:
            caller = self._api_key(request)
        # The credential is judged before the header: a bad token is a 401 with or without it.
        elif kind == TOKEN:
            caller = self._session_token(headers)
        else:
            caller = self._store_slug(headers)
        return replace(caller, namespace=self.namespace_name(caller.merchant_id))

    def _api_key(self, request) -> Caller:
        headers = request.headers
        merchant_id = headers.get("X-Merchant-Id", "")
        path = request.path  # below the mount: what the SDK signs
        # The mock clock decides freshness, but the SDK stamps wall-clock time, so a timestamp
        # fresh by the wall clock is accepted too after a test has moved the mock clock.
        candidates = (self.core.clock.now(), time.time())
        environment = self.registry.verify(
            merchant_id, headers.get("X-Timestamp", ""), headers.get("X-Signature", ""), path,
            request.body(), candidates, self.lenient)
        # The key decides the environment; an X-Environment sent anyway must still be a real one.
        if "HTTP_X_ENVIRONMENT" in request.environ:
            self._environment(headers)
        return Caller(API_KEY, merchant_id, environment)

    @staticmethod
    def _environment(headers) -> str:
        environment = headers.get("X-Environment")
        if environment is None:
            raise error(400, "Missing X-Environment header: send test or prod", "gateway")
        if environment not in ENVIRONMENTS:
            raise error(400, "Invalid X-Environment header: expected test or prod", "gateway")
        return environment

    def _session_token(self, headers) -> Caller:
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthFailed("Authorization must be `Bearer <session token>`")
        claims = self.tokens.verify(token.strip())
        return Caller(TOKEN, claims.merchant_id, self._environment(headers),
                      store_id=claims.store_id, buyer_identity=claims.buyer_identity)

    def _store_slug(self, headers) -> Caller:
        slug = headers.get("X-Store-Slug", "")
        owner = self.slugs.get(slug)
        if owner is None:  # a slug is a credential: an unknown one is a 401, as documented
            raise AuthFailed(f"no store with slug {slug[:80]!r}")
        merchant_id, store_id = owner
        return Caller(SLUG, merchant_id, self._environment(headers), store_id=store_id)
