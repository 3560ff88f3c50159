"""A store's webhooks: `store/add-webhook`, `update-webhook`, `remove-webhook`.

Each webhook is a receiver of the outbox (core/webhooks.py), like one registered through
`/_mock/webhooks/endpoints`: it gets the merchant's events of its store in its mode (`testMode`
true: test events only, false: prod events), only the event types it lists (an empty list fires
nothing), with every retry and fault rule of the outbox; `http` gets the RSA-signed envelope,
`feishu`, `discord`, `telegram` and `slack` their own unsigned message (webhook_formats.py).

From the SDK's types and Waffo's webhooks pages (waffo-lifecycle.md section 2): the id is a UUID;
at most 20 per store (open question 1); `channel` and `testMode` cannot change; update-webhook
replaces `url`, `events` and `secret` (null clears it); remove-webhook is a hard delete that
answers the webhook as it was. The URL must be HTTPS; paymock also takes plain http to this
machine (localhost, 127.0.0.1, ::1), where test receivers listen, and does not hold the chat
channels to their platforms' hosts (both paymock's choices).
"""
from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from ...core.clock import iso
from ...core.request import Request
from ...core.store import Namespace
from ...core.urls import is_loopback, url_problem
from ..base import handler
from .common import error

WEBHOOK = "store_webhook"
MAX_PER_STORE = 20
SHOWN = ("id", "storeId", "channel", "url", "events", "testMode", "secret", "createdAt",
         "updatedAt")


def render(webhook: dict) -> dict:
    return {name: webhook[name] for name in SHOWN}


def _check_url(url: str) -> None:
    """A URL the outbox can send to (core.urls.url_problem: scheme, host, port), and HTTPS
    unless it is this machine."""
    host = urlsplit(url).hostname if url_problem(url) is None else None
    if host is None or not (url.lower().startswith("https://") or is_loopback(host.lower())):
        raise error(400, "url must be a valid HTTPS URL", "store")


class StoreWebhooks:
    def __init__(self, clock, stores, outbox):
        self.clock = clock
        self.stores = stores
        self.outbox = outbox  # None when the app runs without webhooks (nothing is delivered)

    def add(self, ns: Namespace, body: dict) -> dict:
        _check_url(body["url"])
        now = iso(self.clock.now())
        webhook = {"id": str(uuid.uuid4()), "storeId": body["storeId"],
                   "channel": body["channel"], "url": body["url"],
                   "events": list(dict.fromkeys(body["events"])), "testMode": body["testMode"],
                   "secret": body.get("secret"), "createdAt": now, "updatedAt": now}
        with ns.lock:
            self.stores.owned(ns, body["storeId"])
            if sum(w["storeId"] == body["storeId"] for w in ns.values(WEBHOOK)) >= MAX_PER_STORE:
                raise error(400, f"A store can have at most {MAX_PER_STORE} webhooks", "store")
            ns.put(WEBHOOK, webhook["id"], webhook)
            self._register(ns, webhook)
        return {"webhook": render(webhook)}

    def update(self, ns: Namespace, body: dict) -> dict:
        if "url" in body:
            _check_url(body["url"])
        with ns.lock:
            webhook = self._owned(ns, body["id"])
            for field in ("url", "events", "secret"):
                if field in body:
                    webhook[field] = body[field]
            webhook["events"] = list(dict.fromkeys(webhook["events"]))
            webhook["updatedAt"] = iso(self.clock.now())
            ns.save(WEBHOOK, webhook["id"], webhook)
            if self.outbox is not None:
                self.outbox.update_endpoint(webhook["id"], url=webhook["url"],
                                            events=list(webhook["events"]),
                                            metadata={"secret": webhook["secret"]})
        return {"webhook": render(webhook)}

    def remove(self, ns: Namespace, webhook_id: str) -> dict:
        with ns.lock:
            webhook = self._owned(ns, webhook_id)
            ns.delete(WEBHOOK, webhook_id)
            if self.outbox is not None:
                self.outbox.remove_endpoints(webhook_id)
        return {"webhook": render(webhook)}

    def _register(self, ns: Namespace, webhook: dict) -> None:
        if self.outbox is None:
            return
        self.outbox.add_endpoint(
            webhook["url"], namespace=ns.name, provider="waffo", events=list(webhook["events"]),
            endpoint_id=webhook["id"],
            where={"storeId": webhook["storeId"], "mode": "test" if webhook["testMode"] else "prod"},
            format=None if webhook["channel"] == "http" else webhook["channel"],
            metadata={"secret": webhook["secret"]},
            description=f"Waffo store webhook ({webhook['channel']})")

    def _owned(self, ns: Namespace, webhook_id: str) -> dict:
        webhook = ns.get(WEBHOOK, webhook_id)
        if webhook is None:
            raise error(404, "Webhook not found", "store")
        self.stores.owned(ns, webhook["storeId"])
        return webhook


class StoreWebhookHandlers:
    def __init__(self, webhooks: StoreWebhooks):
        self.webhooks = webhooks

    @handler("addStoreWebhook")
    def add(self, req: Request):
        return self.webhooks.add(req.ns, req.body)

    @handler("updateStoreWebhook")
    def update(self, req: Request):
        return self.webhooks.update(req.ns, req.body)

    @handler("removeStoreWebhook")
    def remove(self, req: Request):
        return self.webhooks.remove(req.ns, req.body["id"])
