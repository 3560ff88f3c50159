"""`POST /_mock/waffo/products`: a product with an id of the user's, in the catalog's shape (one
version, live in both environments), checked against the catalog format
(core/catalog_format.py). Into one namespace, or (no `namespace`) into the catalog: every Waffo
namespace that holds the product's store has it, those that exist now and those made later."""
from __future__ import annotations

from ...core.catalog_format import check_object
from ...core.clock import iso
from ...core.errors import ApiError
from .common import PRODUCT, STORE

FIELDS = ("id", "storeId", "type", "name", "description", "prices", "metadata",
          "billingPeriod", "trialDays")


class OwnProductError(ValueError):
    """A product the catalog format refuses (its message names the field)."""


def add(store, section: dict, body: dict, clock, namespace: str | None = None) -> dict:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise OwnProductError(f"unknown field(s) {unknown}; a product takes {list(FIELDS)}")
    product = {name: body[name] for name in FIELDS if name in body}
    product.setdefault("storeId", _first_store(store, section, namespace))
    product.setdefault("description", None)
    product.setdefault("metadata", {})
    product.update(status="active", version=1, createdAt=iso(clock.now()))
    problem = check_object("waffoProduct", product, ["product"])
    if problem is not None:
        raise OwnProductError(problem)
    product_id = product["id"]
    if namespace is not None:
        ns = store.namespace(namespace)
        with ns.lock:
            if ns.get(STORE, product["storeId"]) is None:
                raise OwnProductError(f"/product/storeId: {namespace} has no store "
                                      f"{product['storeId']}")
            if ns.get(PRODUCT, product_id) is not None:
                raise ApiError(409, f"{namespace} has a product {product_id} already", "conflict")
            ns.put(PRODUCT, product_id, product)
        return {"namespace": namespace, "product": product}
    if product["storeId"] not in {s["id"] for s in section.get("stores", ())}:
        raise OwnProductError(f"/product/storeId: the catalog has no store {product['storeId']}")
    if any(p["id"] == product_id for p in section.get("products", ())):
        raise ApiError(409, f"the catalog has a product {product_id} already", "conflict")
    section.setdefault("products", []).append(product)
    added = 0
    for name in store.names():
        ns = store.find(name) if name.startswith("waffo:") else None
        if ns is not None and ns.get(STORE, product["storeId"]) is not None \
                and ns.get(PRODUCT, product_id) is None:
            ns.put(PRODUCT, product_id, dict(product))
            added += 1
    return {"namespace": None, "namespaces_now": added, "product": product}


def _first_store(store, section: dict, namespace: str | None) -> str | None:
    """The store a product goes to when the body names none: the namespace's first, else the
    catalog's first fixture store."""
    if namespace is not None:
        stores = sorted(store.namespace(namespace).values(STORE), key=lambda s: s["createdAt"])
        return stores[0]["id"] if stores else None
    stores = section.get("stores") or ()
    return stores[0]["id"] if stores else None
