"""Dodo's side of the generic resource engine (core/resource_engine.py): the operations of the
spec that have no business rule of their own here (brands, addons, meters, product collections,
entitlements, localized prices, short links, wallets, the documentation pages, ...) answered from
the contract, statefully.

What is Dodo's about them: ids `<prefix>_` + 21 base62 characters (the prefixes the vendor's spec
shows in its examples, else paymock's choice, listed in PREFIXES), lists paged by `page_size` /
`page_number` inside `{"items": [...]}`, `404 NOT_FOUND "<Thing> not found"`, the merchant's
business id (also its default brand) wherever an object names one, and which parents are the
hand-written objects (a localized price needs its product, a wallet its customer).
"""
from __future__ import annotations

from ...core import ids
from ...core.resource_engine import ResourceStyle, kind
from . import paging
from .discounts import DISCOUNT
from .errors import invalid, not_found
from .models import CUSTOMER, PAYMENT
from .payouts import PAYOUT
from .products import PRODUCT
from .subscriptions import SUBSCRIPTION

# collection -> id prefix. From the spec's examples: adn_ (addons), brnd_ (brands), entg_
# (entitlement grants), mtr_ (meters, in the events filter's description). The rest are paymock's
# choice, in the same style.
PREFIXES = {
    "/addons": "adn", "/brands": "brnd", "/meters": "mtr", "/entitlements": "ent",
    "/entitlements/{id}/grants": "entg", "/entitlements/{id}/files": "file",
    "/product-collections": "pcol", "/product-collections/{id}/groups": "pcg",
    "/product-collections/{id}/groups/{group_id}/items": "pcgi",
    "/products/{product_id}/localized-prices": "lcp", "/events": "evt",
    "/customers/{customer_id}/wallets/ledger-entries": "cwl",
}

# A parent path -> the kind the hand-written code stores it under (None: looked up otherwise).
HAND_WRITTEN = {"/products": PRODUCT, "/customers": CUSTOMER, "/payouts": PAYOUT,
                "/subscriptions": SUBSCRIPTION, "/payments": PAYMENT, "/discounts": None}

# A field naming a hand-written object -> its kind: such an object must exist, and its fields
# fill the same-named fields of the object that names it.
REFERENCES = {"product_id": PRODUCT, "customer_id": CUSTOMER}
BRANDS = kind("/brands")

# Values a Dodo object holds where the request says nothing (the rest: engine defaults).
TRUE_FLAGS = {"enabled", "is_active", "verification_enabled", "recurring_enabled"}


class DodoResourceStyle(ResourceStyle):
    def __init__(self, backend):
        self.backend = backend  # business_id

    def prefix(self, collection: str) -> str:
        return PREFIXES.get(collection) or super().prefix(collection)

    def new_id(self, collection: str) -> str:
        return ids.prefixed(self.prefix(collection), 21)

    def value(self, ns, collection, name, schema):
        if name in ("business_id", "brand_id"):
            return self.backend.business_id
        if name == "currency":
            return "USD"
        if name in TRUE_FLAGS:
            return True
        if name == "statement_descriptor":
            return "PAYMOCK"
        return NotImplemented

    def page(self, objects, query, collection, schema):
        return {"items": paging.page(objects, query)}

    def bad_body(self, field, message):
        return invalid(message)

    def bad_query(self, name, raw):
        return paging.not_a_date(name, raw)

    def not_found(self, collection: str):
        return not_found(f"{_label(collection)} not found")

    def referenced(self, ns, name, value):
        if name == "brand_id":  # the business is its own first brand
            return value == self.backend.business_id or ns.get(BRANDS, value) is not None
        kind = REFERENCES.get(name)
        if kind is None:
            return None
        found = ns.get(kind, value)
        return found if found is not None else False

    def missing_reference(self, name, value):
        return invalid(f"{_label('/' + name[:-3] + 's')} {value} not found", "NOT_FOUND")

    def parent_exists(self, ns, owner, param, value):
        if owner not in HAND_WRITTEN:
            return None
        if owner == "/discounts":
            return any(d["discount_id"] == value for d in ns.values(DISCOUNT))
        return ns.get(HAND_WRITTEN[owner], value) is not None


def _label(collection: str) -> str:
    """"/products/{product_id}/localized-prices" -> "Localized price"."""
    words = [w for w in collection.strip("/").split("/") if not w.startswith("{")]
    last = (words[-1] if words else "resource").replace("-", " ").replace("_", " ")
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return last[:1].upper() + last[1:]
