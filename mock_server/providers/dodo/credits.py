"""Dodo credit entitlements (credit-based billing): the merchant's API over the entitlements
themselves (create, read, list, patch, soft delete, undelete) and what a product attaches of one.

An entitlement (`cde_` ids: the docs' text, open question 10 in dodo-lifecycle.md) names a unit
of credits and its rules: expiry, rollover, overage. A product attaches entitlements with an amount
per purchase; the product shows each as a CreditEntitlementMapping, whose settings (left null)
fall back to the entitlement's own. The balances, grants and ledger are credit_ledger.py's.

Refusals, with Dodo's codes (docs: api-reference/error-codes): a second live entitlement with the
same name is 409 CREDIT_ENTITLEMENT_NAME_ALREADY_EXISTS; deleting (or changing) a deleted one is
410 CREDIT_ENTITLEMENT_IS_DELETED; a product naming a deleted one is 422 with the same code.
"""
from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from ...core import ids
from ...core.clock import iso
from ...core.errors import ApiError
from ...core.store import Namespace
from . import paging
from .errors import invalid, not_found

ENTITLEMENT = "credit_entitlement"
DELETED = "deleted"  # kept on the stored entitlement, never shown: the API has no such field
DEFAULT_OVERAGE = "forgive_at_reset"  # the spec: "Defaults to forgive_at_reset"
SETTINGS = ("currency", "expires_after_days", "max_rollover_count", "overage_behavior",
            "overage_enabled", "overage_limit", "price_per_unit", "rollover_enabled",
            "rollover_percentage", "rollover_timeframe_count", "rollover_timeframe_interval")
FIELDS = ("name", "description", "precision", "unit", *SETTINGS)
MISSING = "The credit entitlement has already been deleted"
MAX_PER_PRODUCT = 5  # the spec's CreateProductRequest: "(max 5)"


def amount(text, field: str = "amount") -> Decimal:
    """A credit amount (the API sends decimal strings); refused when not a number >= 0."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise invalid(f"{field} must be a decimal number, got {text!r}") from None
    if not value.is_finite() or value < 0:
        raise invalid(f"{field} must be a number >= 0, got {text!r}")
    if value >= Decimal(10) ** 10:  # the spec: NUMERIC(38,28), integer part < 10^10
        raise invalid(f"{field} must be below 10000000000, got {text!r}")
    return value


def text(value: Decimal) -> str:
    """A decimal as the API writes it: no exponent, no trailing zeros."""
    if value == 0:
        return "0"
    out = format(value.normalize(), "f")
    return out


def public(entitlement: dict) -> dict:
    return {k: v for k, v in entitlement.items() if k != DELETED}


class CreditEntitlements:
    def __init__(self, clock, business_id: str):
        self.clock = clock
        self.business_id = business_id

    # -- the merchant's API ----------------------------------------------------------------------
    def create(self, ns: Namespace, body: dict) -> dict:
        with ns.lock:
            _check(body)
            self._unique_name(ns, body["name"])
            now = iso(self.clock.now())
            entitlement = {"id": ids.prefixed("cde", 21), "business_id": self.business_id,
                           **{name: body.get(name) for name in FIELDS},
                           "created_at": now, "updated_at": now, DELETED: False}
            entitlement["overage_behavior"] = body.get("overage_behavior") or DEFAULT_OVERAGE
            ns.put(ENTITLEMENT, entitlement["id"], entitlement)
            return public(entitlement)

    def get(self, ns: Namespace, entitlement_id: str) -> dict:
        return public(self._stored(ns, entitlement_id))

    def list(self, ns: Namespace, query: dict) -> dict:
        """Oldest first; `deleted=true` lists the deleted ones only, else the live ones."""
        rows = sorted(ns.values(ENTITLEMENT), key=lambda e: e["created_at"])
        rows = [e for e in rows if e[DELETED] == bool(query.get("deleted"))]
        return {"items": [public(e) for e in paging.page(rows, query)]}

    def patch(self, ns: Namespace, entitlement_id: str, body: dict) -> dict:
        """A field given (not null) replaces the stored one."""
        with ns.lock:
            entitlement = self._stored(ns, entitlement_id)
            if entitlement[DELETED]:
                raise ApiError(410, MISSING, "CREDIT_ENTITLEMENT_IS_DELETED")
            changes = {k: v for k, v in body.items() if k in FIELDS and v is not None}
            merged = dict(entitlement, **changes)
            _check(merged)
            if changes.get("name", entitlement["name"]) != entitlement["name"]:
                self._unique_name(ns, changes["name"])
            merged["updated_at"] = iso(self.clock.now())
            ns.save(ENTITLEMENT, entitlement_id, merged)
            return public(merged)

    def delete(self, ns: Namespace, entitlement_id: str) -> None:
        self._set_deleted(ns, entitlement_id, True)

    def undelete(self, ns: Namespace, entitlement_id: str) -> None:
        self._set_deleted(ns, entitlement_id, False)

    def _set_deleted(self, ns: Namespace, entitlement_id: str, value: bool) -> None:
        with ns.lock:
            entitlement = self._stored(ns, entitlement_id)
            if value and entitlement[DELETED]:
                raise ApiError(410, MISSING, "CREDIT_ENTITLEMENT_IS_DELETED")
            if not value and entitlement[DELETED]:  # its name must still be free
                self._unique_name(ns, entitlement["name"])
            entitlement[DELETED] = value
            entitlement["updated_at"] = iso(self.clock.now())
            ns.save(ENTITLEMENT, entitlement_id, entitlement)

    def _stored(self, ns: Namespace, entitlement_id: str) -> dict:
        entitlement = ns.get(ENTITLEMENT, entitlement_id)
        if entitlement is None:
            raise not_found("Credit entitlement not found")
        return entitlement

    @staticmethod
    def _unique_name(ns: Namespace, name: str) -> None:
        if any(e["name"] == name and not e[DELETED] for e in ns.values(ENTITLEMENT)):
            raise ApiError(409, "A credit entitlement with this name already exists",
                           "CREDIT_ENTITLEMENT_NAME_ALREADY_EXISTS")

    # -- what products attach --------------------------------------------------------------------
    def mappings(self, ns: Namespace, attached: list[dict]) -> list[dict]:
        """A product's `credit_entitlements` request, checked against the live entitlements, as
        the product shows it (CreditEntitlementMapping, one new id per attachment)."""
        if len(attached) > MAX_PER_PRODUCT:
            raise invalid(f"A product can attach at most {MAX_PER_PRODUCT} credit entitlements, "
                          f"got {len(attached)}")
        seen, out = set(), []
        for index, item in enumerate(attached):
            entitlement = ns.get(ENTITLEMENT, item["credit_entitlement_id"])
            if entitlement is None:
                raise invalid(f"Credit entitlement {item['credit_entitlement_id']} not found",
                              "NOT_FOUND")
            if entitlement[DELETED]:
                raise invalid(MISSING, "CREDIT_ENTITLEMENT_IS_DELETED")
            if entitlement["id"] in seen:
                raise invalid(f"credit_entitlements[{index}]: credit entitlement "
                              f"{entitlement['id']} is attached twice")
            seen.add(entitlement["id"])
            amount(item["credits_amount"], f"credit_entitlements[{index}].credits_amount")
            _check_percent(item, "low_balance_threshold_percent")
            _check_percent(item, "rollover_percentage")
            out.append(_mapping(entitlement, item))
        return out


def _mapping(entitlement: dict, item: dict) -> dict:
    """CreditEntitlementMappingResponse: the attachment's own settings over the entitlement's."""
    def pick(name):
        return item.get(name) if item.get(name) is not None else entitlement.get(name)

    limit = pick("overage_limit")
    return {
        "id": str(uuid.uuid4()), "credit_entitlement_id": entitlement["id"],
        "credit_entitlement_name": entitlement["name"],
        "credit_entitlement_unit": entitlement["unit"],
        "credits_amount": text(amount(item["credits_amount"])),
        **{name: pick(name) for name in SETTINGS if name != "overage_limit"},
        "overage_limit": None if limit is None else str(limit),
        "rollover_enabled": bool(pick("rollover_enabled")),
        "overage_enabled": bool(pick("overage_enabled")),
        "overage_behavior": pick("overage_behavior") or DEFAULT_OVERAGE,
        "low_balance_threshold_percent": item.get("low_balance_threshold_percent"),
        "proration_behavior": item.get("proration_behavior") or "prorate",
        "trial_credits": item.get("trial_credits"),
        "trial_credits_expire_after_trial": bool(item.get("trial_credits_expire_after_trial")),
    }


def cart_items(product: dict) -> list[dict]:
    """A checkout preview's `product_cart[].credit_entitlements` (CheckoutCreditEntitlementItem:
    what one unit of the product grants)."""
    return [{"credit_entitlement_id": m["credit_entitlement_id"],
             "credit_entitlement_name": m["credit_entitlement_name"],
             "credit_entitlement_unit": m["credit_entitlement_unit"],
             "credits_amount": m["credits_amount"]}
            for m in product.get("credit_entitlements") or []]


def _check(body: dict) -> None:
    if not 0 <= body["precision"] <= 10:
        raise invalid(f"precision must be between 0 and 10, got {body['precision']}")
    if not str(body["name"]).strip():
        raise invalid("name must not be empty")
    _check_percent(body, "rollover_percentage")
    for name in ("expires_after_days", "max_rollover_count", "overage_limit",
                 "rollover_timeframe_count"):
        if body.get(name) is not None and body[name] < 0:
            raise invalid(f"{name} must be >= 0, got {body[name]}")
    if body.get("price_per_unit") is not None:
        amount(body["price_per_unit"], "price_per_unit")
        if body.get("currency") is None:
            raise invalid("currency is required when price_per_unit is set")


def _check_percent(body: dict, name: str) -> None:
    if body.get(name) is not None and not 0 <= body[name] <= 100:
        raise invalid(f"{name} must be between 0 and 100, got {body[name]}")
