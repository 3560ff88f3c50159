"""Who calls Dodo: `Authorization: Bearer <API key>`; each key is its own namespace."""
from __future__ import annotations

from ...core.errors import ApiError
from ...core.http import credential_namespace
from ...core.request import KeyCaller

API_KEY = "api_key"


def authenticate(environ, allowed: frozenset[str]) -> KeyCaller:
    """The caller a bearer key stands for. `allowed` empty accepts any key (the default: a test
    run makes up its keys), else only those (PAYMOCK_DODO_API_KEYS)."""
    scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise ApiError(401, "Missing or invalid API key: send `Authorization: Bearer <API key>`",
                       "UNAUTHORIZED")
    if allowed and key not in allowed:
        raise ApiError(401, "Invalid API key: this server accepts only the keys it was started "
                       "with (PAYMOCK_DODO_API_KEYS)", "UNAUTHORIZED")
    # The mock plays Dodo's test mode (test.dodopayments.com): every key is a test key.
    return KeyCaller(credential_namespace("dodo", key), API_KEY, "test_mode")
