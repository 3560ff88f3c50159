"""Subscription product groups: `subscription-product-group/*` (create, update, delete, publish).

From the SDK's types and waffo-lifecycle.md section 3:
- a group belongs to a store and an environment (the caller's), id a UUID (open question 14);
  its name is unique per store and environment (400 otherwise; the wording is paymock's);
- `rules` are always shown with both switches (`sharedTrial`, `selfServicePlanChange`), off
  unless set; an update merges them switch by switch, while `productIds` replaces the list; each
  id must be a subscription product of the group's store (400, paymock's wording);
- delete is hard; publish upserts the test group into production (by store and name), as often as
  wanted: a production group is refused (400 "Can only publish test environment groups"), an
  empty one too (400 "Cannot publish: product_ids is empty").
What the rules do to customers (shared trials, self-service plan changes) belongs to the
subscription lifecycle, which reads them from here.
"""
from __future__ import annotations

import uuid

from ...core.clock import iso
from ...core.request import Request
from ...core.store import Namespace
from ..base import handler
from .common import PRODUCT, error

GROUP = "product_group"
RULES = ("sharedTrial", "selfServicePlanChange")
SHOWN = ("id", "storeId", "name", "description", "rules", "productIds", "environment",
         "createdAt", "updatedAt")


def render(group: dict) -> dict:
    return {name: group[name] for name in SHOWN}


class ProductGroups:
    def __init__(self, clock, stores):
        self.clock = clock
        self.stores = stores

    def create(self, ns: Namespace, environment: str, body: dict) -> dict:
        self.stores.owned(ns, body["storeId"])
        now = iso(self.clock.now())
        group = {"id": str(uuid.uuid4()), "storeId": body["storeId"], "name": body["name"],
                 "description": body.get("description"),
                 "rules": {rule: bool((body.get("rules") or {}).get(rule)) for rule in RULES},
                 "productIds": [], "environment": environment, "createdAt": now, "updatedAt": now}
        with ns.lock:
            self._check_name(ns, group, body["name"])
            group["productIds"] = self._products(ns, group["storeId"], body.get("productIds") or [])
            ns.put(GROUP, group["id"], group)
        return {"group": render(group)}

    def update(self, ns: Namespace, body: dict) -> dict:
        with ns.lock:
            group = self._owned(ns, body["id"])
            if "name" in body:
                self._check_name(ns, group, body["name"])
                group["name"] = body["name"]
            if "description" in body:
                group["description"] = body["description"]
            if body.get("rules"):
                group["rules"].update({k: bool(v) for k, v in body["rules"].items() if k in RULES})
            if "productIds" in body:
                group["productIds"] = self._products(ns, group["storeId"], body["productIds"])
            group["updatedAt"] = iso(self.clock.now())
            ns.save(GROUP, group["id"], group)
        return {"group": render(group)}

    def delete(self, ns: Namespace, group_id: str) -> dict:
        with ns.lock:
            group = self._owned(ns, group_id)
            ns.delete(GROUP, group_id)
        return {"group": render(group)}

    def publish(self, ns: Namespace, group_id: str) -> dict:
        with ns.lock:
            group = self._owned(ns, group_id)
            if group["environment"] != "test":
                raise error(400, "Can only publish test environment groups", "product")
            if not group["productIds"]:
                raise error(400, "Cannot publish: product_ids is empty", "product")
            now = iso(self.clock.now())
            prod = next((g for g in ns.values(GROUP) if g["environment"] == "prod"
                         and g["storeId"] == group["storeId"] and g["name"] == group["name"]),
                        None) or {"id": str(uuid.uuid4()), "storeId": group["storeId"],
                                  "environment": "prod", "createdAt": now}
            prod.update({name: group[name] for name in ("name", "description", "productIds")},
                        rules=dict(group["rules"]), updatedAt=now)
            ns.put(GROUP, prod["id"], prod)
        return {"group": render(prod)}

    def of_product(self, ns: Namespace, product_id: str, environment: str) -> list[dict]:
        """The groups of an environment that hold a product (for the plan-change rules)."""
        return [g for g in ns.values(GROUP)
                if g["environment"] == environment and product_id in g["productIds"]]

    def _owned(self, ns: Namespace, group_id: str) -> dict:
        group = ns.get(GROUP, group_id)
        if group is None:
            raise error(404, "Group not found", "product")
        self.stores.owned(ns, group["storeId"])
        return group

    @staticmethod
    def _check_name(ns: Namespace, group: dict, name: str) -> None:
        if any(g["id"] != group["id"] and g["storeId"] == group["storeId"]
               and g["environment"] == group["environment"] and g["name"] == name
               for g in ns.values(GROUP)):
            raise error(400, f"A group named {name!r} already exists in this store", "product")

    @staticmethod
    def _products(ns: Namespace, store_id: str, product_ids: list) -> list:
        for product_id in product_ids:
            product = ns.get(PRODUCT, product_id)
            if product is None or product["storeId"] != store_id \
                    or product["type"] != "subscription":
                raise error(400, f"{product_id} is not a subscription product of this store",
                            "product")
        return list(dict.fromkeys(product_ids))


class ProductGroupHandlers:
    def __init__(self, groups: ProductGroups):
        self.groups = groups

    @handler("createSubscriptionProductGroup")
    def create(self, req: Request):
        return self.groups.create(req.ns, req.caller.environment, req.body)

    @handler("updateSubscriptionProductGroup")
    def update(self, req: Request):
        return self.groups.update(req.ns, req.body)

    @handler("deleteSubscriptionProductGroup")
    def delete(self, req: Request):
        return self.groups.delete(req.ns, req.body["id"])

    @handler("publishSubscriptionProductGroup")
    def publish(self, req: Request):
        return self.groups.publish(req.ns, req.body["id"])
