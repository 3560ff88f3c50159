"""A merchant's stores: `store/create-store`, `update-store`, `delete-store`, and the store
membership actions the real API does not offer yet (`store-merchant/*`: 501, as documented).

From the SDK's types and docs/api-reference.md:
- a store's slug is made from its name (lower case, runs of other characters a hyphen; `-2`, `-3`
  ... when another store has it: slugs are the anonymous visitor's credential, so they are unique
  across the mock); a new store is active, not production enabled, every notification on, no
  checkout theme;
- at most 20 stores per merchant (Waffo's stores overview; the 21st is a 400);
- update-store is partial: `null` clears `logo`, resets `notificationSettings` to its defaults
  (every switch on) and clears `checkoutSettings`; within the settings, an omitted key keeps its
  value. Only the merchant-writable notification keys are written (every `notify*`,
  `emailUpcomingCharge`, `emailTrialEnding`); other `email*` keys are dropped and named in the
  answer's `warnings`, as is the removed `webhookSettings`; `supportEmail` and `website` are not
  writable here and are ignored;
- delete-store is soft: `deletedAt` is set, the store answers as not found afterwards and its
  slug stops working.
"""
from __future__ import annotations

import re

import orjson

from ...core import ids
from ...core.clock import iso
from ...core.request import Reply, Request
from ...core.store import Namespace
from ..base import handler
from .common import STORE, error

MAX_STORES = 20
# Of the notification switches (the contract's NotificationSettings), the ones a merchant may
# write: every notify*, and these two customer reminders (SDK: MerchantWritableNotificationSettings).
WRITABLE_EMAILS = frozenset({"emailUpcomingCharge", "emailTrialEnding"})
THEME = {"checkoutLogo": None, "checkoutColorPrimary": "#000000",
         "checkoutColorBackground": "#ffffff", "checkoutColorCard": "#f5f5f5",
         "checkoutColorText": "#000000", "checkoutBorderRadius": "8px"}
DARK = dict(THEME, checkoutColorPrimary="#ffffff", checkoutColorBackground="#1a1a1a",
            checkoutColorCard="#2a2a2a", checkoutColorText="#ffffff")
SHOWN = ("id", "name", "status", "logo", "supportEmail", "website", "slug", "prodEnabled",
         "notificationSettings", "checkoutSettings", "deletedAt", "createdAt", "updatedAt")


def render(store: dict, notifications: tuple) -> dict:
    """Store, as the SDK types it (fixture stores lack the fields they never set)."""
    shown = {name: store.get(name) for name in SHOWN}
    shown["prodEnabled"] = bool(store.get("prodEnabled"))
    if "notificationSettings" not in store:
        shown["notificationSettings"] = dict.fromkeys(notifications, True)
    shown["updatedAt"] = store.get("updatedAt") or store.get("createdAt")
    return shown


def slug_of(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "store"


class Stores:
    def __init__(self, clock, slugs, contract):
        self.clock = clock
        self.slugs = slugs  # the gateway's slug -> (merchant id, store id), across the mock
        # Every notification switch, as the contract's NotificationSettings requires them.
        self.notifications = tuple(
            contract.at("#/components/schemas/NotificationSettings")["required"])
        self.writable = frozenset(k for k in self.notifications if k.startswith("notify")) \
            | WRITABLE_EMAILS

    def owned(self, ns: Namespace, store_id: str) -> dict:
        """A store of the caller's merchant that is not deleted, or Waffo's 404."""
        store = ns.get(STORE, store_id)
        if store is None or store.get("deletedAt") is not None:
            raise error(404, "Store not found", "store")
        return store

    def create(self, ns: Namespace, merchant_id: str, body: dict) -> dict:
        name = body["name"].strip()
        if not 1 <= len(name) <= 48 or any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise error(400, "name must be 1 to 48 characters, without control characters",
                        "store")
        now = iso(self.clock.now())
        with ns.lock:
            live = [s for s in ns.values(STORE) if s.get("deletedAt") is None]
            if len(live) >= MAX_STORES:
                raise error(400, f"A merchant can have at most {MAX_STORES} stores", "store")
            store = {"id": ids.prefixed("STO", 22), "merchantId": merchant_id, "name": name,
                     "status": "active", "logo": None, "supportEmail": None, "website": None,
                     "slug": self._free_slug(slug_of(name)), "prodEnabled": False,
                     "notificationSettings": dict.fromkeys(self.notifications, True),
                     "checkoutSettings": None, "deletedAt": None, "createdAt": now,
                     "updatedAt": now}
            ns.put(STORE, store["id"], store)
            self.slugs[store["slug"]] = (merchant_id, store["id"])
        return {"store": render(store, self.notifications)}

    def _free_slug(self, base: str) -> str:
        slug, n = base, 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        return slug

    def update(self, ns: Namespace, body: dict) -> Reply:
        warnings = []
        with ns.lock:
            store = self.owned(ns, body["id"])
            if "name" in body:
                name = body["name"].strip()
                if not 1 <= len(name) <= 100:
                    raise error(400, "name must be 1 to 100 characters", "store")
                store["name"] = name
            for field in ("status", "logo"):
                if field in body:
                    store[field] = body[field]
            if "notificationSettings" in body:
                warnings += self._notifications(store, body["notificationSettings"])
            if "checkoutSettings" in body:
                store["checkoutSettings"] = _theme(store.get("checkoutSettings"),
                                                   body["checkoutSettings"])
            if "webhookSettings" in body:
                warnings.append({"message": "webhookSettings was removed (2026-05) and is "
                                 "ignored: manage webhooks with store/add-webhook",
                                 "layer": "store", "code": "WEBHOOK_SETTINGS_IGNORED"})
            store["updatedAt"] = iso(self.clock.now())
            ns.save(STORE, store["id"], store)
        answer = {"data": {"store": render(store, self.notifications)}}
        if warnings:  # beside `data` in Waffo's envelope, so the answer is written here whole
            answer["warnings"] = warnings
            return Reply(orjson.dumps(answer), content_type="application/json")
        return answer["data"]

    def _notifications(self, store: dict, given: dict | None) -> list[dict]:
        current = store.get("notificationSettings") or dict.fromkeys(self.notifications, True)
        if given is None:  # back to the defaults: every writable switch on
            current.update(dict.fromkeys(self.writable, True))
            store["notificationSettings"] = current
            return []
        dropped = sorted(k for k in given if k not in self.writable)
        current.update({k: v for k, v in given.items() if k in self.writable})
        store["notificationSettings"] = current
        if not dropped:
            return []
        return [{"message": f"Not writable by merchants, ignored: {', '.join(dropped)}",
                 "layer": "store"}]

    def delete(self, ns: Namespace, store_id: str) -> dict:
        with ns.lock:
            store = self.owned(ns, store_id)
            now = iso(self.clock.now())
            store.update(deletedAt=now, updatedAt=now)
            ns.save(STORE, store_id, store)
            if self.slugs.get(store.get("slug"), (None, None))[1] == store_id:
                del self.slugs[store["slug"]]
        return {"store": render(store, self.notifications)}


def _theme(current: dict | None, given: dict | None) -> dict | None:
    """checkoutSettings merged key by key (`null` clears the whole group)."""
    if given is None:
        return None
    merged = current or {"defaultDarkMode": False, "light": dict(THEME), "dark": dict(DARK)}
    for key, value in given.items():
        if key in ("light", "dark"):
            base = dict(THEME if key == "light" else DARK) if value is None else merged[key]
            base.update({k: v for k, v in (value or {}).items()
                         if v is not None or k == "checkoutLogo"})
            merged[key] = base
        elif value is not None:
            merged[key] = value
    return merged


class StoreHandlers:
    def __init__(self, stores: Stores):
        self.stores = stores

    @handler("createStore")
    def create(self, req: Request):
        return self.stores.create(req.ns, req.caller.merchant_id, req.body)

    @handler("updateStore")
    def update(self, req: Request):
        return self.stores.update(req.ns, req.body)

    @handler("deleteStore")
    def delete(self, req: Request):
        return self.stores.delete(req.ns, req.body["id"])

    # docs/api-reference.md: "Coming soon — endpoints currently return 501." (after the store
    # is found: another merchant's store is a 404 first).
    @handler("addStoreMerchant")
    def add_merchant(self, req: Request):
        return self._not_yet(req)

    @handler("removeStoreMerchant")
    def remove_merchant(self, req: Request):
        return self._not_yet(req)

    @handler("updateStoreMerchantRole")
    def update_role(self, req: Request):
        return self._not_yet(req)

    def _not_yet(self, req: Request):
        self.stores.owned(req.ns, req.body["storeId"])
        raise error(501, "Not implemented", "store")
