"""One-time and subscription products with immutable versions, per environment:
`onetime-product/*` and `subscription-product/*` (create-product, update-product,
publish-product, update-status).

From docs/api-reference.md and the SDK's types (waffo-lifecycle.md section 3):
- create-product makes version 1 in the test environment, active; there is no production version
  until publish-product copies the test version there (once: a second publish is 400 "Product
  already has a production version", the reference's suggested wording);
- update-product writes a new version in the caller's environment (the API key's): the fields
  given replace the current version's, the others are kept; a body that changes nothing writes
  no version and answers the current one. A version once written never changes: a checkout
  session keeps the version it was created with (its price, name, trial);
- update-status activates or deactivates the caller's environment's version; an inactive product
  cannot be checked out (404 Product not found), existing orders are unaffected;
- a subscription's trial is `metadata.trialDays`; a `trialAmount` (a paid trial) needs it and must
  be lower than the amount (400).
Catalog products (fixtures/catalog.json) have no versions of their own: they are live, version 1,
in both environments.
"""
from __future__ import annotations

from decimal import Decimal

from ...core import ids
from ...core.clock import iso
from ...core.request import Request
from ...core.store import Namespace
from ..base import handler
from .common import PRODUCT, error

FIELDS = ("name", "description", "prices", "media", "successUrl", "metadata", "billingPeriod")
DETAIL = ("id", "storeId", "name", "description", "prices", "media", "successUrl", "metadata",
          "status", "createdAt", "updatedAt")


def view(product: dict, environment: str) -> dict | None:
    """The product as the environment sees it (its current version there), or None when it has
    no version there."""
    if "versions" not in product:  # a catalog product: one version, live everywhere
        return product
    current = product["current"].get(environment)
    if current is None:
        return None
    version = next(v for v in product["versions"]
                   if v["environment"] == environment and v["versionNumber"] == current)
    shown = {name: version[name] for name in FIELDS if name in version}
    shown.update(id=product["id"], storeId=product["storeId"], type=product["type"],
                 status=product["status"][environment], version=current,
                 versionId=version["id"], createdAt=product["createdAt"],
                 updatedAt=version["createdAt"], trialDays=_trial_days(version))
    return shown


def render(shown: dict) -> dict:
    """OnetimeProductDetail / SubscriptionProductDetail."""
    detail = {name: shown.get(name) for name in DETAIL}
    detail.update(media=shown.get("media") or [], metadata=shown.get("metadata") or {},
                  updatedAt=shown.get("updatedAt") or shown["createdAt"])
    if shown["type"] == "subscription":
        detail["billingPeriod"] = shown["billingPeriod"]
    return detail


def _trial_days(version: dict) -> int | None:
    raw = (version.get("metadata") or {}).get("trialDays")
    try:
        days = int(raw)
    except (TypeError, ValueError):
        return None
    return days if days > 0 else None


class Products:
    def __init__(self, clock, stores):
        self.clock = clock
        self.stores = stores  # stores.Stores: a product's store must be the merchant's

    def create(self, ns: Namespace, kind: str, body: dict) -> dict:
        self.stores.owned(ns, body["storeId"])
        fields = {name: body.get(name) for name in FIELDS}
        fields.update(media=body.get("media") or [], metadata=body.get("metadata") or {})
        if kind != "subscription":
            fields.pop("billingPeriod")
        _check(fields, kind)
        now = iso(self.clock.now())
        product = {"id": ids.prefixed("PROD", 22), "storeId": body["storeId"], "type": kind,
                   "createdAt": now, "current": {"test": 1},
                   "status": {"test": "active"},
                   "versions": [_version("test", 1, fields, now)]}
        ns.put(PRODUCT, product["id"], product)
        return {"product": render(view(product, "test"))}

    def update(self, ns: Namespace, kind: str, environment: str, body: dict) -> dict:
        with ns.lock:
            product = self._owned(ns, kind, body["id"])
            shown = view(product, environment)
            if shown is None:
                raise error(404, "Product not found", "product")
            fields = {name: shown.get(name) for name in FIELDS if name in shown}
            changed = {name: body[name] for name in FIELDS if name in body
                       and body[name] != fields.get(name)}
            if kind != "subscription":
                changed.pop("billingPeriod", None)
            if not changed:  # nothing new: no version (the docs' "skips if unchanged")
                return {"product": render(shown)}
            fields.update(changed)
            _check(fields, kind)
            number = max(v["versionNumber"] for v in product["versions"]
                         if v["environment"] == environment) + 1
            product["versions"].append(_version(environment, number, fields,
                                                iso(self.clock.now())))
            product["current"][environment] = number
            ns.save(PRODUCT, product["id"], product)
        return {"product": render(view(product, environment))}

    def publish(self, ns: Namespace, kind: str, product_id: str) -> dict:
        with ns.lock:
            product = self._owned(ns, kind, product_id)
            test = view(product, "test")
            if test is None:
                raise error(400, "No test version found", "product")
            if product["current"].get("prod") is not None:
                raise error(400, "Product already has a production version", "product")
            if test["status"] != "active":
                raise error(400, "Cannot publish an inactive test version", "product")
            fields = {name: test[name] for name in FIELDS if name in test}
            product["versions"].append(_version("prod", 1, fields, iso(self.clock.now())))
            product["current"]["prod"] = 1
            product["status"]["prod"] = "active"
            ns.save(PRODUCT, product_id, product)
        return {"product": render(view(product, "prod"))}

    def set_status(self, ns: Namespace, kind: str, environment: str, body: dict) -> dict:
        with ns.lock:
            product = self._owned(ns, kind, body["id"])
            if view(product, environment) is None:
                raise error(404, "Product not found", "product")
            product["status"][environment] = body["status"]
            ns.save(PRODUCT, product["id"], product)
        return {"product": render(view(product, environment))}

    def _owned(self, ns: Namespace, kind: str, product_id: str) -> dict:
        product = ns.get(PRODUCT, product_id)
        if product is None or product["type"] != kind:
            raise error(404, "Product not found", "product")
        if "versions" not in product:  # a catalog product: versioned from its first change
            product = _versioned(product)
        self.stores.owned(ns, product["storeId"])
        return product


def _version(environment: str, number: int, fields: dict, now: str) -> dict:
    return dict(fields, id=ids.prefixed("PVER", 22), environment=environment,
                versionNumber=number, createdAt=now)


def _versioned(product: dict) -> dict:
    """A catalog product in the versioned form: its one version in both environments."""
    fields = {name: product.get(name) for name in FIELDS}
    fields.update(media=product.get("media") or [], metadata=dict(product.get("metadata") or {}))
    if product.get("trialDays"):
        fields["metadata"].setdefault("trialDays", product["trialDays"])
    status = product.get("status", "active")
    return {"id": product["id"], "storeId": product["storeId"], "type": product["type"],
            "createdAt": product["createdAt"], "current": {"test": 1, "prod": 1},
            "status": {"test": status, "prod": status},
            "versions": [_version(env, 1, fields, product["createdAt"]) for env in ("test", "prod")]}


def _check(fields: dict, kind: str) -> None:
    """What the schema cannot say: a paid trial needs trial days and costs less than the plan."""
    for currency, price in (fields.get("prices") or {}).items():
        trial = price.get("trialAmount")
        if trial is None:
            continue
        if kind != "subscription":
            raise error(400, "trialAmount is only for subscription products", "product")
        if _trial_days(fields) is None:
            raise error(400, "trialAmount requires metadata.trialDays", "product")
        if Decimal(trial) >= Decimal(price["amount"]):
            raise error(400, f"trialAmount must be lower than amount ({currency})", "product")


class ProductHandlers:
    def __init__(self, products: Products):
        self.products = products

    @handler("createOnetimeProduct")
    def create_onetime(self, req: Request):
        return self.products.create(req.ns, "onetime", req.body)

    @handler("updateOnetimeProduct")
    def update_onetime(self, req: Request):
        return self.products.update(req.ns, "onetime", req.caller.environment, req.body)

    @handler("publishOnetimeProduct")
    def publish_onetime(self, req: Request):
        return self.products.publish(req.ns, "onetime", req.body["id"])

    @handler("updateOnetimeProductStatus")
    def status_onetime(self, req: Request):
        return self.products.set_status(req.ns, "onetime", req.caller.environment, req.body)

    @handler("createSubscriptionProduct")
    def create_subscription(self, req: Request):
        return self.products.create(req.ns, "subscription", req.body)

    @handler("updateSubscriptionProduct")
    def update_subscription(self, req: Request):
        return self.products.update(req.ns, "subscription", req.caller.environment, req.body)

    @handler("publishSubscriptionProduct")
    def publish_subscription(self, req: Request):
        return self.products.publish(req.ns, "subscription", req.body["id"])

    @handler("updateSubscriptionProductStatus")
    def status_subscription(self, req: Request):
        return self.products.set_status(req.ns, "subscription", req.caller.environment, req.body)
