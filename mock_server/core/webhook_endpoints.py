"""What the outbox delivers through: a provider's wire format (`Channel`) and a receiver (`Endpoint`)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable


@dataclass
class Channel:
    """How one provider's webhooks look on the wire."""
    provider: str
    schedule: tuple[float, ...]          # seconds before each attempt; [0] is the first attempt
    body: Callable                       # (payload, delivery_id) -> str (the exact bytes signed)
    sign: Callable                       # (delivery, endpoint) -> headers for this attempt
    new_id: Callable = lambda: f"msg_{uuid.uuid4().hex}"
    stamp: Callable = lambda: None       # value fixed once per delivery (Waffo's `t`)
    # Every event type the provider emits: fault rules for webhooks may name only these, and
    # emitting another is a bug the outbox refuses (so this list cannot fall behind the code).
    events: frozenset = frozenset()


@dataclass
class Endpoint:
    id: str
    url: str
    namespace: str | None = None         # None: every namespace
    provider: str | None = None
    events: list | None = None           # None: every event type
    secret: str | None = None            # Dodo: whsec_ secret for this endpoint
    created_at: str = ""

    def wants(self, namespace: str, provider: str, event_type: str) -> bool:
        return ((self.namespace is None or self.namespace == namespace)
                and (self.provider is None or self.provider == provider)
                and (self.events is None or event_type in self.events))

    def to_dict(self) -> dict:
        return {"id": self.id, "url": self.url, "namespace": self.namespace,
                "provider": self.provider, "events": self.events, "created_at": self.created_at,
                "has_secret": self.secret is not None}
