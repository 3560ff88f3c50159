"""A merchant's brands: the primary one, which is the business itself, and the ones made through
`POST /brands` (stored by the generic resource engine, which also answers the create and the
image upload URL).

What the spec says of them, held here:
- the primary brand's id is the business id (ArchiveBrandRequest); it is listed first, cannot be
  updated through `PATCH /brands/{id}` (403) nor archived (403);
- `PATCH` of an archived brand is 422 "Brand is archived"; archiving twice is 409;
- archiving moves the brand's products, live subscriptions and product collections to the
  `move_products_to` brand (the primary brand, or another brand that is not archived); a brand
  that holds any of them needs one (422 "Invalid or missing move_products_to target");
- `GET /brands` leaves archived brands out unless `include_archived=true`; `GET /brands/{id}`
  reads them, with `archived_at`.
The codes of these errors are not documented; paymock uses Dodo's generic ones (FORBIDDEN,
CONFLICT, INVALID_REQUEST_BODY, NOT_FOUND).
"""
from __future__ import annotations

from ...core.clock import iso
from ...core.errors import ApiError
from ...core.request import Request
from ...core.resource_engine import INTERNAL, kind
from ...core.store import Namespace
from ..base import handler
from .errors import invalid, not_found
from .products import PRODUCT
from .subscriptions import SUBSCRIPTION

BRANDS, COLLECTIONS = kind("/brands"), kind("/product-collections")  # the engine's objects
LIVE = frozenset({"active", "on_hold", "paused", "past_due", "pending"})  # subscriptions that move
PATCHABLE = ("name", "description", "url", "statement_descriptor", "support_email", "image")


class Brands:
    def __init__(self, backend):
        self.backend = backend  # clock, business_id

    def primary(self) -> dict:
        business = self.backend.business_id
        return {"brand_id": business, "business_id": business, "name": "Primary brand",
                "description": None, "url": None, "image": None, "support_email": None,
                "statement_descriptor": "PAYMOCK", "enabled": True,
                "verification_enabled": True, "verification_status": "Success",
                "reason_for_hold": None, "archived_at": None}

    def list(self, ns: Namespace, query: dict) -> dict:
        made = [b for b in ns.values(BRANDS)
                if query.get("include_archived") or not b[INTERNAL]["archived"]]
        made.sort(key=lambda b: b[INTERNAL]["created"])
        return {"items": [self.primary()] + [_render(b) for b in made]}

    def get(self, ns: Namespace, brand_id: str) -> dict:
        if brand_id == self.backend.business_id:
            return self.primary()
        return _render(self._stored(ns, brand_id))

    def update(self, ns: Namespace, brand_id: str, body: dict) -> dict:
        if brand_id == self.backend.business_id:
            raise ApiError(403, "Primary brand cannot be updated via this API endpoint",
                           "FORBIDDEN")
        with ns.lock:
            brand = self._stored(ns, brand_id)
            if brand[INTERNAL]["archived"]:
                raise invalid("Brand is archived")
            brand.update({name: body[name] for name in PATCHABLE
                          if body.get(name) is not None})
            ns.save(BRANDS, brand_id, brand)
        return _render(brand)

    def archive(self, ns: Namespace, brand_id: str, body: dict) -> dict:
        if brand_id == self.backend.business_id:
            raise ApiError(403, "The primary brand cannot be archived", "FORBIDDEN")
        target = body.get("move_products_to")
        with ns.lock:
            brand = self._stored(ns, brand_id)
            if brand[INTERNAL]["archived"]:
                raise ApiError(409, "Brand is already archived", "CONFLICT")
            products = [p for p in ns.values(PRODUCT) if p.get("brand_id") == brand_id]
            subscriptions = [s for s in ns.values(SUBSCRIPTION)
                             if s.get("brand_id") == brand_id and s["status"] in LIVE]
            collections = [c for c in ns.values(COLLECTIONS) if c.get("brand_id") == brand_id]
            if target is None and (products or subscriptions or collections):
                raise invalid("Invalid or missing move_products_to target: the brand holds "
                              f"{len(products)} products, {len(subscriptions)} live "
                              f"subscriptions and {len(collections)} product collections")
            if target is not None and not self._can_take(ns, target, brand_id):
                raise invalid(f"Invalid or missing move_products_to target: {target}")
            for made_kind, rows, key in ((PRODUCT, products, "product_id"),
                                         (SUBSCRIPTION, subscriptions, "subscription_id"),
                                         (COLLECTIONS, collections, "id")):
                for row in rows:
                    row["brand_id"] = target
                    ns.save(made_kind, row[key], row)
            now = iso(self.backend.clock.now())
            brand[INTERNAL]["archived"] = True
            brand["archived_at"] = now
            ns.save(BRANDS, brand_id, brand)
        return {"brand_id": brand_id, "archived_at": now, "moved_to_brand_id": target,
                "products_moved": len(products), "subscriptions_moved": len(subscriptions),
                "collections_moved": len(collections)}

    def _can_take(self, ns: Namespace, target: str, archiving: str) -> bool:
        if target == self.backend.business_id:
            return True
        brand = ns.get(BRANDS, target)
        return target != archiving and brand is not None and not brand[INTERNAL]["archived"]

    @staticmethod
    def _stored(ns: Namespace, brand_id: str) -> dict:
        brand = ns.get(BRANDS, brand_id)
        if brand is None:
            raise not_found("Brand not found")
        return brand


def _render(brand: dict) -> dict:
    shown = {k: v for k, v in brand.items() if k != INTERNAL}
    shown.setdefault("archived_at", None)
    return shown


class BrandHandlers:
    def __init__(self, brands: Brands):
        self.brands = brands

    @handler("list_brands_handler")
    def list(self, req: Request):
        return self.brands.list(req.ns, req.query)

    @handler("get_brand_handler")
    def get(self, req: Request):
        return self.brands.get(req.ns, req.path["id"])

    @handler("patch_brand_handler")
    def update(self, req: Request):
        return self.brands.update(req.ns, req.path["id"], req.body)

    @handler("archive_brand_handler")
    def archive(self, req: Request):
        return self.brands.archive(req.ns, req.path["id"], req.body or {})
