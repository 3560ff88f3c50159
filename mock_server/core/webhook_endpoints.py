"""What the outbox delivers through: a provider's wire format (`Channel`, with what receivers
verify it with) and a receiver (`Endpoint`)."""
from __future__ import annotations

import abc
import threading
import uuid
from dataclasses import dataclass, field
from typing import Callable, ClassVar

from .clock import iso


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

    def generate(self) -> str:
        """A new random secret of this kind, for an endpoint of its own (rotation, an endpoint
        made through a provider's API). A provider whose endpoints cannot get one says so."""
        raise NotImplementedError(f"{type(self).__name__} cannot make new secrets")


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
    """A receiver. The outbox replaces an endpoint whole when it changes (`Outbox.update_endpoint`),
    so a sender holding one sees a consistent set of fields."""
    id: str
    url: str
    namespace: str | None = None         # None: every namespace
    provider: str | None = None
    events: list | None = None           # None: every event type
    secret: str | None = None            # its own, instead of its channel's shared secret
    created_at: str = ""
    # Added to every attempt (the signature's own headers win over a header of the same name).
    headers: dict = field(default_factory=dict)
    disabled: bool = False               # nothing is delivered to it while set
    description: str = ""
    metadata: dict = field(default_factory=dict)
    rate_limit: int | None = None        # deliveries a second of mock time; None or 0: no limit
    updated_at: str = ""
    # After a rotation the secret it had still signs (beside the new one) until this mock time.
    previous_secret: str | None = None
    previous_until: float | None = None
    # Whether its secrets go into a state file: yes for a secret paymock made for it and the
    # provider's API serves (the receiver holds that one; a restart must not change it), no for
    # one a user brought through the control API (it may be real).
    keep_secret: bool = False
    seq: int = 0                         # creation order, for cursors over a list of endpoints

    def wants(self, namespace: str, provider: str, event_type: str) -> bool:
        return (not self.disabled
                and (self.namespace is None or self.namespace == namespace)
                and (self.provider is None or self.provider == provider)
                and (self.events is None or event_type in self.events))

    def signing_secrets(self, now: float) -> list[str]:
        """Its own secrets that sign an attempt made at `now` (mock time), newest first; empty
        when it signs with its channel's shared secret."""
        if self.secret is None:
            return []
        previous = self.previous_secret
        if previous is not None and self.previous_until is not None and now < self.previous_until:
            return [self.secret, previous]
        return [self.secret]

    def to_dict(self) -> dict:
        # Header names only: their values may be credentials of the receiver's.
        return {"id": self.id, "url": self.url, "namespace": self.namespace,
                "provider": self.provider, "events": self.events, "created_at": self.created_at,
                "updated_at": self.updated_at or self.created_at,
                "has_secret": self.secret is not None, "disabled": self.disabled,
                "description": self.description, "metadata": self.metadata,
                "rate_limit": self.rate_limit, "header_names": sorted(self.headers),
                "previous_secret_until": None if self.previous_until is None
                else iso(self.previous_until)}
