"""What the outbox delivers through: a provider's wire format (`Channel`, with what receivers
verify it with), a receiver (`Endpoint`), and the outbox's book of receivers (`EndpointBook`)."""
from __future__ import annotations

import abc
import dataclasses
import threading
import uuid
from dataclasses import dataclass, field
from typing import Callable, ClassVar

from .clock import iso
from .urls import url_problem

ROTATION_GRACE = 24 * 3600.0  # mock seconds a rotated-out secret still signs (Dodo's dashboard)


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
    # Other wire formats an endpoint may ask for (Endpoint.format): name -> body(payload,
    # delivery_id, endpoint), e.g. a chat channel's message for a Waffo store webhook on Slack.
    formats: dict = field(default_factory=dict)


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
    # Payload fields an event must have to come here (a Waffo store webhook: its store and
    # mode); empty: any.
    where: dict = field(default_factory=dict)
    format: str | None = None            # one of its channel's `formats`; None: the channel's own

    def wants(self, namespace: str, provider: str, event_type: str, payload=None) -> bool:
        return (not self.disabled
                and (self.namespace is None or self.namespace == namespace)
                and (self.provider is None or self.provider == provider)
                and (self.events is None or event_type in self.events)
                and (not self.where or (payload is not None and all(
                    payload.get(name) == value for name, value in self.where.items()))))

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
                "where": dict(self.where), "format": self.format,
                "previous_secret_until": None if self.previous_until is None
                else iso(self.previous_until)}


class EndpointBook:
    """The endpoints part of `core.webhooks.Outbox` (which it is a base of): registering,
    changing, rotating and removing receivers, and pacing deliveries to those with a rate limit.
    It works on the outbox's state under the outbox's lock (`_lock`, `endpoints`, `_deliveries`,
    `_slots`), because removing or disabling an endpoint cancels its deliveries not yet sent."""

    def add_endpoint(self, url: str, namespace=None, provider=None, events=None, secret=None,
                     endpoint_id: str | None = None, **details) -> Endpoint:
        """Register a receiver; a URL the sender could not use is refused (ValueError).
        `endpoint_id`: a provider's own id format (default `ep_...`); `details`: the other
        fields of `Endpoint` (headers, disabled, description, metadata, rate_limit, keep_secret)."""
        problem = url_problem(url)
        if problem is not None:
            raise ValueError(f"webhook endpoint url {problem}")
        with self._lock:
            self._ids += 1
            now = iso(self.clock.now())
            endpoint = Endpoint(endpoint_id or f"ep_{self._ids}_{uuid.uuid4().hex[:8]}", url,
                                namespace, provider, events, secret, now, updated_at=now,
                                seq=self._ids, **details)
            self.endpoints[endpoint.id] = endpoint
        return endpoint

    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        with self._lock:
            return self.endpoints.get(endpoint_id)

    def endpoints_of(self, namespace: str) -> list[Endpoint]:
        """The namespace's own endpoints (not those of every namespace), oldest first."""
        with self._lock:
            return [e for e in self.endpoints.values() if e.namespace == namespace]

    def update_endpoint(self, endpoint_id: str, **changes) -> Endpoint:
        """Change some of an endpoint's fields (LookupError if it is gone). Later deliveries
        follow; pending ones of an endpoint now disabled are cancelled (nothing is sent while
        disabled), and a new URL takes effect from the next event."""
        if "url" in changes:
            problem = url_problem(changes["url"])
            if problem is not None:
                raise ValueError(f"webhook endpoint url {problem}")
        with self._lock:
            current = self.endpoints.get(endpoint_id)
            if current is None:
                raise LookupError(f"no webhook endpoint {endpoint_id!r}")
            changed = self._replace(current, **changes)
            if changed.disabled:
                self._cancel_pending({endpoint_id}, "endpoint disabled")
            self._lock.notify_all()
        return changed

    def rotate_secret(self, endpoint_id: str, new_secret: str, shared_secret: str | None,
                      grace: float = ROTATION_GRACE, keep_secret: bool | None = None) -> Endpoint:
        """Give the endpoint `new_secret`; the one it signed with until now (its own, else
        `shared_secret`, its channel's) still signs beside it for `grace` mock seconds, so that
        receivers can switch without losing a delivery (Standard Webhooks verifiers accept a
        message when any of its signatures matches)."""
        with self._lock:
            current = self.endpoints.get(endpoint_id)
            if current is None:
                raise LookupError(f"no webhook endpoint {endpoint_id!r}")
            return self._replace(current, secret=new_secret,
                                 previous_secret=current.secret or shared_secret,
                                 previous_until=self.clock.now() + grace,
                                 keep_secret=current.keep_secret if keep_secret is None
                                 else keep_secret)

    def _replace(self, current: Endpoint, **changes) -> Endpoint:
        """The endpoint with `changes`, in place of `current` (lock held)."""
        changed = dataclasses.replace(current, **changes, updated_at=iso(self.clock.now()))
        self.endpoints[current.id] = changed
        return changed

    def remove_endpoints(self, endpoint_id: str | None = None, namespace: str | None = None) -> int:
        with self._lock:
            doomed = [e.id for e in self.endpoints.values()
                      if (endpoint_id is None or e.id == endpoint_id)
                      and (namespace is None or e.namespace == namespace)]
            for eid in doomed:
                del self.endpoints[eid]
                self._slots.pop(eid, None)
            self._cancel_pending(set(doomed), "endpoint deleted")
            self._lock.notify_all()
        return len(doomed)

    def _cancel_pending(self, endpoint_ids: set[str], why: str) -> None:
        """Deliveries not yet made to these endpoints are never sent (lock held)."""
        for delivery in self._deliveries.values():
            if delivery["endpoint_id"] in endpoint_ids and delivery["status"] in ("pending", "held") \
                    and delivery["id"] not in self._in_flight:
                delivery["status"] = "cancelled"
                delivery["cancelled"] = why
                self._finish(delivery["id"])

    def _pace(self, delivery: dict, endpoint: Endpoint, now: float) -> None:
        """An endpoint with a rate limit gets its first attempts at most `rate_limit` a second of
        mock time: each new delivery takes the next free slot (lock held). Retries are not
        paced; `flush()` makes everything due at once."""
        if not endpoint.rate_limit or delivery["status"] != "pending":
            return
        slot = max(delivery["next_at"], self._slots.get(endpoint.id, now))
        self._slots[endpoint.id] = slot + 1.0 / endpoint.rate_limit
        delivery["next_at"] = slot

