"""Dodo's webhook-endpoints API (`/webhooks`): a merchant registers, reads, changes and removes
the receivers of its API key's events, their custom headers, and reads their signing secret.

An endpoint made here is an endpoint of the outbox (core/webhooks.py), the same model as one
registered through `/_mock/webhooks/endpoints`: it belongs to the key's namespace, receives the
namespace's Dodo events signed with its own `whsec_` secret (made at creation), with its custom
headers on every attempt, only its `filter_types` (none: every event), nothing while disabled,
and at most `rate_limit` first attempts a second of mock time. Such an endpoint is listed by
`GET /_mock/webhooks/endpoints` and its deliveries by `/_mock/webhooks/deliveries`.

Dodo's webhooks run on Svix (its ids, secrets, headers and cursors are Svix's); where the vendor
spec is silent, Svix's behaviour is followed: the headers whose values `GET .../headers` withholds
(listing their names under `sensitive`), cursor paging with `limit` (default 50, at most 250).
The id format (`whk_` + 21 characters) is the spec's example.
"""
from __future__ import annotations

import re

from ...core import ids
from ...core.errors import ApiError
from ...core.request import Reply, Request
from ...core.store import Namespace
from ...core.urls import url_problem
from ..base import handler
from .models import invalid, not_found

# Svix's EndpointHeadersOut.SENSITIVE_HEADERS: configured, sent, never shown back.
SENSITIVE_HEADERS = frozenset({"x-auth-token", "www-authenticate", "authorization",
                               "proxy-authenticate", "proxy-authorization"})
DEFAULT_LIMIT, MAX_LIMIT = 50, 250  # Svix's list limits
IDEMPOTENCY = "webhook_idempotency"  # store kind: a create's idempotency_key -> the webhook made
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)
_ITERATOR = re.compile(r"(-?)it_(\d{1,18})")


def render(endpoint) -> dict:
    """WebhookDetails."""
    return {"id": endpoint.id, "url": endpoint.url, "description": endpoint.description,
            "metadata": dict(endpoint.metadata), "created_at": endpoint.created_at,
            "updated_at": endpoint.updated_at or endpoint.created_at,
            "disabled": endpoint.disabled, "filter_types": list(endpoint.events or []),
            "rate_limit": endpoint.rate_limit}


def _events(filter_types: list | None) -> list | None:
    """The outbox's event filter: None (every event) for an empty list (paymock's choice 7)."""
    return list(dict.fromkeys(filter_types)) or None if filter_types else None


def _check_url(url: str) -> None:
    problem = url_problem(url)
    if problem is not None:
        raise invalid(f"url {problem}")


def _check_headers(headers: dict) -> None:
    """What could not go on the wire as a header is refused before it is stored."""
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise invalid(f"headers: {name!r} is not a valid HTTP header name")
        if any(c in value for c in "\r\n\0"):
            raise invalid(f"headers: the value of {name} must not contain line breaks or NUL")


class DodoWebhookEndpoints:
    def __init__(self, outbox, secret):
        self.outbox = outbox  # core.webhooks.Outbox, or None when webhooks are off
        self.secret = secret  # webhooks.Secret: the shared one, and the maker of new ones

    def _outbox(self):
        if self.outbox is None:
            raise ApiError(501, "webhooks are off on this paymock server", "NOT_IMPLEMENTED")
        return self.outbox

    def _find(self, ns: Namespace, webhook_id: str):
        endpoint = self._outbox().endpoint(webhook_id)
        if endpoint is None or endpoint.namespace != ns.name:
            raise not_found("Webhook not found")
        return endpoint

    # -- endpoints ---------------------------------------------------------------------------
    def create(self, ns: Namespace, body: dict) -> dict:
        outbox = self._outbox()
        _check_url(body["url"])
        headers = body.get("headers") or {}
        _check_headers(headers)
        key = body.get("idempotency_key")
        with ns.lock:
            if key is not None:
                made = ns.get(IDEMPOTENCY, key)
                endpoint = made and outbox.endpoint(made["webhook_id"])
                if endpoint is not None and endpoint.namespace == ns.name:
                    return render(endpoint)  # the same request again: the webhook it made
            endpoint = outbox.add_endpoint(
                body["url"], ns.name, "dodo", _events(body.get("filter_types")),
                self.secret.generate(), endpoint_id=ids.prefixed("whk", 21),
                headers=dict(headers), disabled=bool(body.get("disabled")),
                description=body.get("description") or "", metadata=body.get("metadata") or {},
                rate_limit=body.get("rate_limit"), keep_secret=True)
            if key is not None:
                ns.put(IDEMPOTENCY, key, {"webhook_id": endpoint.id})
        return render(endpoint)

    def list(self, ns: Namespace, query: dict) -> dict:
        """Oldest first, `limit` at a time. `iterator` continues after a page; `prev_iterator`
        (a `-` in front) goes back before one. A cursor is a place in the creation order, so
        that deleting an endpoint never makes a page skip another."""
        limit = query.get("limit")
        limit = DEFAULT_LIMIT if limit is None else limit
        if limit < 1:
            raise invalid("limit must be at least 1")
        limit = min(limit, MAX_LIMIT)
        rows = sorted(self._outbox().endpoints_of(ns.name), key=lambda e: e.seq)
        iterator = query.get("iterator")
        if not iterator:
            page = rows[:limit]
        else:
            found = _ITERATOR.fullmatch(iterator)
            if found is None:
                raise invalid(f"iterator {iterator!r} is not one this API returned")
            place = int(found.group(2))
            if found.group(1):
                page = [e for e in rows if e.seq < place][-limit:]
            else:
                page = [e for e in rows if e.seq > place][:limit]
        first, last = (page[0].seq, page[-1].seq) if page else (None, None)
        return {"data": [render(e) for e in page],
                "done": not page or not any(e.seq > last for e in rows),
                "iterator": None if last is None else f"it_{last}",
                "prev_iterator": f"-it_{first}" if page and any(e.seq < first for e in rows)
                else None}

    def get(self, ns: Namespace, webhook_id: str) -> dict:
        return render(self._find(ns, webhook_id))

    def update(self, ns: Namespace, webhook_id: str, body: dict) -> dict:
        """A field given (not null) replaces the stored one; `filter_types: []` means every
        event again. Deliveries made after this follow the change."""
        self._find(ns, webhook_id)
        changes = {}
        if body.get("url") is not None:
            _check_url(body["url"])
            changes["url"] = body["url"]
        if body.get("filter_types") is not None:
            changes["events"] = _events(body["filter_types"])
        for name in ("description", "disabled", "metadata", "rate_limit"):
            if body.get(name) is not None:
                changes[name] = body[name]
        try:
            return render(self._outbox().update_endpoint(webhook_id, **changes))
        except LookupError:  # deleted meanwhile
            raise not_found("Webhook not found") from None

    def delete(self, ns: Namespace, webhook_id: str) -> None:
        """Gone at once: deliveries not yet made to it are cancelled."""
        self._find(ns, webhook_id)
        if not self._outbox().remove_endpoints(endpoint_id=webhook_id):
            raise not_found("Webhook not found")

    # -- headers and secret -------------------------------------------------------------------
    def headers(self, ns: Namespace, webhook_id: str) -> dict:
        headers = self._find(ns, webhook_id).headers
        return {"headers": {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS},
                "sensitive": sorted(k for k in headers if k.lower() in SENSITIVE_HEADERS)}

    def update_headers(self, ns: Namespace, webhook_id: str, body: dict) -> None:
        """Adds the headers given, or replaces those of the same name (names are
        case-insensitive); the others stay."""
        _check_headers(body["headers"])
        with ns.lock:
            endpoint = self._find(ns, webhook_id)
            given = {name.lower() for name in body["headers"]}
            merged = {k: v for k, v in endpoint.headers.items() if k.lower() not in given}
            merged.update(body["headers"])
            try:
                self._outbox().update_endpoint(webhook_id, headers=merged)
            except LookupError:
                raise not_found("Webhook not found") from None

    def signing_secret(self, ns: Namespace, webhook_id: str) -> dict:
        """The secret the endpoint signs with now (after a rotation, the new one)."""
        endpoint = self._find(ns, webhook_id)
        return {"secret": endpoint.secret or self.secret.value}


class WebhookHandlers:
    """The operations of `/webhooks` (contracts/dodo/openapi.json)."""

    def __init__(self, endpoints: DodoWebhookEndpoints):
        self.endpoints = endpoints

    @handler("create_webhook")
    def create(self, req: Request):
        return self.endpoints.create(req.ns, req.body)

    @handler("list_webhooks")
    def list(self, req: Request):
        return self.endpoints.list(req.ns, req.query)

    @handler("get_webhook")
    def get(self, req: Request):
        return self.endpoints.get(req.ns, req.path["webhook_id"])

    @handler("patch_webhook")
    def patch(self, req: Request):
        return self.endpoints.update(req.ns, req.path["webhook_id"], req.body)

    @handler("delete_webhook")
    def delete(self, req: Request):
        self.endpoints.delete(req.ns, req.path["webhook_id"])
        return Reply(None, no_body=True)  # the spec's 200 has no content

    @handler("get_webhook_headers")
    def headers(self, req: Request):
        return self.endpoints.headers(req.ns, req.path["webhook_id"])

    @handler("patch_webhook_headers")
    def patch_headers(self, req: Request):
        self.endpoints.update_headers(req.ns, req.path["webhook_id"], req.body)
        return Reply(None, no_body=True)

    @handler("get_webhook_secret")
    def secret(self, req: Request):
        return self.endpoints.signing_secret(req.ns, req.path["webhook_id"])
