"""Who calls Dodo: `Authorization: Bearer <API key>`; each key is its own namespace."""
from __future__ import annotations

import orjson

from ...core.errors import ApiError
from ...core.http import credential_namespace
from ...core.request import KeyCaller
from .license_keys import BY_STRING  # the kind that indexes license keys by their key string

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


def key_end(environ) -> str:
    """The last 4 characters of the bearer key (a test key's end: how a dashboard names it)."""
    return environ.get("HTTP_AUTHORIZATION", "").strip()[-4:]


PUBLIC = "public"
# Where a public call goes when nothing names a namespace (an unknown key): an empty one, so the
# call gets the answer an unknown key gets (404, or `{valid: false}`).
PUBLIC_NAMESPACE = "dodo:public"


def public_operations(document: dict) -> frozenset[str]:
    """The operations the contract declares without security (`security: []`): the vendor's
    public /licenses/* operations, which take no API key."""
    default = document.get("security") or []
    return frozenset(op["operationId"] for item in document["paths"].values()
                     for method, op in item.items()
                     if isinstance(op, dict) and "operationId" in op
                     and not op.get("security", default))


def public_caller(request, store, allowed: frozenset[str]) -> KeyCaller:
    """Who makes a public call: no API key needed, so the namespace is the one that holds what
    the call names: the license key string of a /licenses/* body (the store indexes key
    strings), or the id at the end of the path (an invoice's payment or refund). An API key sent
    anyway (the SDK always sends one) wins when its namespace holds that key string too (two
    merchants may import the same string); an unknown or invalid API key is ignored, as an API
    that does not read it would."""
    if request.method == "GET":
        return _by_path_id(request, store, allowed)
    license_key = _license_key(request.body())
    keyed = _keyed_namespace(request, allowed)
    if license_key is not None:
        own = store.find(keyed) if keyed is not None else None
        if own is not None and own.get(BY_STRING, license_key) is not None:
            return KeyCaller(keyed, PUBLIC, "test_mode")
        for name in store.holding(license_key):
            return KeyCaller(name, PUBLIC, "test_mode")
    return KeyCaller(keyed or PUBLIC_NAMESPACE, PUBLIC, "test_mode")


def _by_path_id(request, store, allowed: frozenset[str]) -> KeyCaller:
    object_id = request.path.rstrip("/").rsplit("/", 1)[-1]
    keyed = _keyed_namespace(request, allowed)
    held = store.holding(object_id)
    if keyed in held or not held:
        return KeyCaller(keyed or PUBLIC_NAMESPACE, PUBLIC, "test_mode")
    return KeyCaller(held[0], PUBLIC, "test_mode")


def _keyed_namespace(request, allowed: frozenset[str]) -> str | None:
    scheme, _, token = request.environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token and (not allowed or token in allowed):
        return credential_namespace("dodo", token)
    return None


def _license_key(raw: bytes) -> str | None:
    """The body's `license_key`, if it has one (validation later refuses a body without)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    key = body.get("license_key") if isinstance(body, dict) else None
    return key if isinstance(key, str) else None
