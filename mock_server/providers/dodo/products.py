"""Dodo products: the merchant's catalog API (create, list, read, patch, archive, unarchive).

A product is usable by checkouts the moment it is created; an archived one stays readable (and
listed with `archived=true`) but a checkout naming it is refused. Credit entitlements must exist
and be live (credits.py), and show as CreditEntitlementMappings. Addons and entitlements must
exist (made through the generic engine: /addons, /entitlements): the product lists its addons' ids
and a summary of each entitlement.
"""
from __future__ import annotations

from ...core import ids
from ...core.clock import iso
from ...core.errors import ApiError
from ...core.resource_engine import kind
from ...core.store import Namespace
from . import paging
from .errors import invalid, not_found

PRODUCT = "product"
ARCHIVED = "archived"  # kept on the stored product, never shown: the API has no such field
ADDONS, ENTITLEMENTS = kind("/addons"), kind("/entitlements")  # the generic engine's objects
LICENSE_FIELDS = ("license_key_enabled", "license_key_activations_limit", "license_key_duration",
                  "license_key_activation_message")
PATCHABLE = ("name", "description", "price", "tax_category", "metadata", "addons", "brand_id",
             "entitlements", "credit_entitlements", "digital_product_delivery", "pricing_mode",
             *LICENSE_FIELDS)


def public(product: dict) -> dict:
    """The product as the API shows it."""
    return {k: v for k, v in product.items() if k != ARCHIVED}


def archived(product: dict) -> bool:
    return bool(product.get(ARCHIVED))


class Products:
    def __init__(self, clock, business_id: str):
        self.clock = clock
        self.business_id = business_id
        self.credits = None  # CreditEntitlements (credits.py), which `credit_entitlements` name

    def list(self, ns: Namespace, query: dict) -> dict:
        """GET /products, oldest first: `recurring`, `archived` (true: only archived ones;
        otherwise the live catalog), `brand_id`."""
        products = sorted(ns.values(PRODUCT), key=lambda p: p["created_at"])
        if query.get("recurring") is not None:
            products = [p for p in products if p["is_recurring"] == query["recurring"]]
        products = [p for p in products if archived(p) == bool(query.get("archived"))]
        if query.get("brand_id") is not None:
            products = [p for p in products if p.get("brand_id") == query["brand_id"]]
        return {"items": [_list_item(p) for p in paging.page(products, query)]}

    def get(self, ns: Namespace, product_id: str) -> dict:
        product = ns.get(PRODUCT, product_id)
        if product is None:
            raise not_found("Product not found")
        return public(product)

    def create(self, ns: Namespace, body: dict, product_id: str | None = None,
               store: bool = True) -> dict:
        """POST /products; `product_id`: an id of the user's (the control API's own products),
        `store=False`: made, not stored (a product for the catalog)."""
        _check_price(body["price"])
        entitlements = _attached(ns, body)
        credits = self._credit_mappings(ns, body.get("credit_entitlements"))
        now = iso(self.clock.now())
        product = {
            "product_id": product_id or ids.prefixed("pdt", 21), "business_id": self.business_id,
            "brand_id": body.get("brand_id") or self._primary_brand(ns) or self.business_id,
            "name": body["name"], "description": body.get("description"),
            "created_at": now, "updated_at": now,
            "is_recurring": body["price"]["type"] != "one_time_price",
            "tax_category": body["tax_category"], "price": body["price"],
            "license_key_enabled": bool(body.get("license_key_enabled")),
            "license_key_activations_limit": body.get("license_key_activations_limit"),
            "license_key_duration": body.get("license_key_duration"),
            "license_key_activation_message": body.get("license_key_activation_message"),
            "metadata": body.get("metadata") or {},
            "credit_entitlements": credits,
            "entitlements": entitlements or [], "addons": body.get("addons") or [],
            "image": None, "digital_product_delivery": _delivery(body.get("digital_product_delivery")),
            "pricing_mode": body.get("pricing_mode"),
        }
        if store:
            ns.put(PRODUCT, product["product_id"], product)
        return product

    def add_own(self, store, section: dict, body: dict, product_id: str,
                namespace: str | None = None) -> dict:
        """`POST /_mock/dodo/products`: a product with the user's own id, made by the rules of
        POST /products. Into one namespace, or (no `namespace`) into the catalog: every Dodo
        namespace has it, those that exist now and those made later."""
        if namespace is not None:
            ns = store.namespace(namespace)
            with ns.lock:
                if ns.get(PRODUCT, product_id) is not None:
                    raise ApiError(409, f"{namespace} has a product {product_id} already",
                                   "CONFLICT")
                return {"namespace": namespace, "product": public(
                    self.create(ns, body, product_id))}
        if any(p["product_id"] == product_id for p in section.get("products", ())):
            raise ApiError(409, f"the catalog has a product {product_id} already", "CONFLICT")
        # Made against an empty namespace: a catalog product names no namespace's addons or
        # entitlements (with `namespace`, it may).
        product = self.create(Namespace("dodo:catalog", self.clock, 0), body, product_id,
                              store=False)
        section.setdefault("products", []).append(product)
        added = 0
        for name in store.names():
            ns = store.find(name) if name.startswith("dodo:") else None
            if ns is not None and ns.get(PRODUCT, product_id) is None:
                ns.put(PRODUCT, product_id, dict(product))
                added += 1
        return {"namespace": None, "namespaces_now": added, "product": public(product)}

    def patch(self, ns: Namespace, product_id: str, body: dict) -> dict:
        """A field given (not null) replaces the stored one; the price keeps its kind (a one-time
        product cannot become a subscription, as on the dashboard)."""
        with ns.lock:
            product = ns.get(PRODUCT, product_id)
            if product is None:
                raise not_found("Product not found")
            changes = {k: v for k, v in body.items() if k in PATCHABLE and v is not None}
            entitlements = _attached(ns, changes)
            if entitlements is not None:
                changes["entitlements"] = entitlements
            if "credit_entitlements" in changes:
                changes["credit_entitlements"] = self._credit_mappings(
                    ns, changes["credit_entitlements"])
            if "digital_product_delivery" in changes:
                changes["digital_product_delivery"] = _delivery(changes["digital_product_delivery"])
            if "price" in changes:
                _check_price(changes["price"])
                if (changes["price"]["type"] == "one_time_price") != (not product["is_recurring"]):
                    raise invalid("price.type cannot change between one-time and recurring: "
                                  "create a new product instead")
            product.update(changes, updated_at=iso(self.clock.now()))
            ns.save(PRODUCT, product_id, product)
            return public(product)

    def archive(self, ns: Namespace, product_id: str) -> None:
        self._set_archived(ns, product_id, True)

    def unarchive(self, ns: Namespace, product_id: str) -> None:
        self._set_archived(ns, product_id, False)

    def _set_archived(self, ns: Namespace, product_id: str, value: bool) -> None:
        with ns.lock:
            product = ns.get(PRODUCT, product_id)
            if product is None:
                raise not_found("Product not found")
            if value and archived(product):  # spec: 410 "Product is deleted"
                raise ApiError(410, f"Product {product_id} is already archived",
                               "PRODUCT_IS_DELETED")
            product[ARCHIVED] = value
            product["updated_at"] = iso(self.clock.now())
            ns.save(PRODUCT, product_id, product)

    def _credit_mappings(self, ns: Namespace, attached: list | None) -> list:
        if not attached:
            return []
        if self.credits is None:  # pragma: no cover - the provider always wires them
            raise invalid(f"Credit entitlement {attached[0]['credit_entitlement_id']} not found",
                          "NOT_FOUND")
        return self.credits.mappings(ns, attached)

    @staticmethod
    def _primary_brand(ns: Namespace) -> str | None:
        """The brand the catalog's products share (the business's primary brand)."""
        for product in ns.values(PRODUCT):
            if product.get("brand_id"):
                return product["brand_id"]
        return None


def _attached(ns: Namespace, body: dict) -> list[dict] | None:
    """The addons and entitlements a product names must exist (the generic engine's /addons and
    /entitlements); returns the entitlements as the product shows them (ProductEntitlementSummary,
    as they are when attached), or None when the body names none."""
    addons = body.get("addons") or []
    missing = [a for a in addons if ns.get(ADDONS, a) is None]
    if missing:
        raise invalid(f"One or more product IDs do not exist: {', '.join(missing)}",
                      "MISSING_ADDON_IDS")
    if body.get("entitlements") is None:
        return None
    summaries = []
    for attach in body["entitlements"]:
        entitlement = ns.get(ENTITLEMENTS, attach["entitlement_id"])
        if entitlement is None:
            raise invalid(f"Entitlement {attach['entitlement_id']} not found", "NOT_FOUND")
        summaries.append({key: entitlement.get(key) for key in (
            "id", "name", "description", "integration_type", "integration_config")})
    return summaries


def _delivery(request: dict | None) -> dict | None:
    """A delivery as the product shows it (the request's two fields, and no files uploaded)."""
    if request is None:
        return None
    return {"external_url": request.get("external_url"), "instructions": request.get("instructions"),
            "files": []}


def _check_price(price: dict) -> None:
    if price["type"] == "usage_based_price":
        return
    if price.get("pay_what_you_want") and price.get("suggested_price") is not None \
            and price["suggested_price"] < price["price"]:
        raise invalid("Suggested Price cannot be lower than minimum price. In case of pay what "
                      "you want, price is considered as minimum accepted amount",
                      "INVALID_SUGGESTED_PRICE")
    if price["type"] == "recurring_price" and price.get("trial_amount") \
            and not price.get("trial_period_days"):
        raise invalid("price.trial_amount needs price.trial_period_days > 0 (a paid trial)")


def _list_item(product: dict) -> dict:
    price = product["price"]
    return {
        "product_id": product["product_id"], "business_id": product["business_id"],
        "name": product["name"], "description": product.get("description"),
        "created_at": product["created_at"], "updated_at": product["updated_at"],
        "is_recurring": product["is_recurring"], "tax_category": product["tax_category"],
        "metadata": product["metadata"], "entitlements": product["entitlements"],
        "image": product.get("image"), "price": price.get("price", price.get("fixed_price")),
        "currency": price["currency"], "tax_inclusive": price.get("tax_inclusive"),
        "price_detail": price,
    }
