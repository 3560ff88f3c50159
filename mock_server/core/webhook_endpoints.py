"""What the outbox delivers through: a provider's wire format (`Channel`, with what receivers
verify it with) and a receiver (`Endpoint`)."""
from __future__ import annotations

import abc
import threading
import uuid
from dataclasses import dataclass
from typing import Callable, ClassVar


class SigningSecret(abc.ABC):
    """A shared secret a provider signs webhooks with, changeable while the server runs
    (POST /_mock/webhooks/secret); an endpoint may be registered with its own instead."""

    #: What a valid secret looks like, for the error that refuses another.
    form: ClassVar[str]

    def __init__(self, value: str):
        self._lock = threading.Lock()
        self.set(value)

    @abc.abstractmethod
    def check(self, value: str) -> None:
        """Raise (ValueError, binascii.Error, ...) unless `value` is a secret of this kind."""

    def set(self, value: str) -> None:
        self.check(value)
        with self._lock:
            self.value = value


@dataclass
class Channel:
    """How one provider's webhooks look on the wire."""
    provider: str
    schedule: tuple[float, ...]          # seconds before each attempt; [0] is the first attempt
    body: Callable                       # (payload, delivery_id) -> str (the exact bytes signed)
    sign: Callable                       # (delivery, endpoint) -> headers for this attempt
    new_id: Callable = lambda: f"msg_{uuid.uuid4().hex}"
    stamp: Callable = lambda: None       # fixed once per delivery, repeated by every attempt
    # Every event type the provider emits: fault rules for webhooks may name only these, and
    # emitting another is a bug the outbox refuses (so this list cannot fall behind the code).
    events: frozenset = frozenset()
    # What receivers verify with, as the provider signs: a shared secret (endpoints may bring
    # their own), or a public key (PEM) paymock signs for with its private half. The control
    # API serves them (/_mock/webhooks/secret, /_mock/webhooks/public-key) without knowing who.
    secret: SigningSecret | None = None
    public_key: Callable[[], str] | None = None


@dataclass
class Endpoint:
    id: str
    url: str
    namespace: str | None = None         # None: every namespace
    provider: str | None = None
    events: list | None = None           # None: every event type
    secret: str | None = None            # its own, instead of its channel's shared secret
    created_at: str = ""

    def wants(self, namespace: str, provider: str, event_type: str) -> bool:
        return ((self.namespace is None or self.namespace == namespace)
                and (self.provider is None or self.provider == provider)
                and (self.events is None or event_type in self.events))

    def to_dict(self) -> dict:
        return {"id": self.id, "url": self.url, "namespace": self.namespace,
                "provider": self.provider, "events": self.events, "created_at": self.created_at,
                "has_secret": self.secret is not None}
