"""What an operation handler receives and may return: plain objects, no Flask.

The request pipeline (mock_server/http/pipeline.py) builds a `Request` once it has authenticated
the caller, parsed and validated the body and query against the contract; the handler returns
plain data (the provider puts it in its envelope) or a `Reply` when the status or headers are not
the operation's usual 200, and raises `ApiError` for the provider's own errors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class Caller(Protocol):
    """Who is calling, as the provider's authentication decided.

    `namespace` names the state the credential reaches (one per API key or merchant);
    `kind` the credential kind (a provider's own words: "api_key", "session_token", ...);
    `environment` test or live/prod where the provider has one. A provider's own caller type
    adds what its rules need (a merchant id, the store a token is bound to, ...)."""

    namespace: str
    kind: str
    environment: str | None


class KeyCaller:
    """A Caller with nothing more to say: an API key and the namespace it reaches. (A slotted
    class: one is made per request, and a frozen dataclass or a named tuple costs more.)"""

    __slots__ = ("namespace", "kind", "environment")

    def __init__(self, namespace: str, kind: str, environment: str | None = None):
        self.namespace = namespace
        self.kind = kind
        self.environment = environment

    def __eq__(self, other) -> bool:
        return isinstance(other, KeyCaller) and (
            (self.namespace, self.kind, self.environment)
            == (other.namespace, other.kind, other.environment))

    def __hash__(self) -> int:
        return hash((self.namespace, self.kind, self.environment))

    def __repr__(self) -> str:
        return f"KeyCaller({self.namespace!r}, {self.kind!r}, {self.environment!r})"


class Request:
    """One call of one operation, after authentication and contract validation."""

    __slots__ = ("caller", "ns", "operation_id", "path", "query", "body", "headers")

    def __init__(self, caller: Caller, ns, operation_id: str, path: dict[str, str], query: dict,
                 body: Any, headers):
        self.caller = caller          # a Caller (or the provider's subclass)
        self.ns = ns                  # the caller's store namespace (core/store.py)
        self.operation_id = operation_id
        self.path = path              # path parameters by the contract's names
        self.query = query            # declared query parameters, coerced to their types
        self.body = body              # the validated JSON body, or None for an operation without
        self.headers = headers        # read-only, case-insensitive

    def __repr__(self) -> str:
        return f"Request({self.operation_id}, ns={self.caller.namespace}, path={self.path})"


@dataclass(frozen=True)
class Reply:
    """A handler's answer when 200 with the provider's envelope is not what the API gives.
    `data` None: the answer has no body at all (a 200 or 204 the API sends empty)."""

    data: Any
    status: int = 200
    headers: dict = field(default_factory=dict)
