"""Dodo discounts: the merchant's API (create, list, read, patch, delete) and the rules a checkout
redeems codes by.

A discount is stored under its upper-cased code (kind "discount"): a checkout prices by code on
every request, so that is the lookup that must be fast; the API's by-id operations scan the
namespace's few discounts. Amounts are basis points for `percentage`, minor units for `flat`.
"""
from __future__ import annotations

import secrets
import string

from ...core import ids
from ...core.clock import epoch, iso
from ...core.errors import ApiError
from ...core.store import Namespace
from . import paging
from .errors import invalid, not_found
from .products import PRODUCT

DISCOUNT = "discount"
CODE_ALPHABET = string.ascii_uppercase + string.digits
GENERATED_CODE_LENGTH = 16  # Dodo's random code when none is given
MIN_CODE_LENGTH = 3
PERCENT_MAX_BP = 10000


def redeemable(discount: dict, now: float) -> bool:
    """Started, not expired, not used up (the spec's `active`)."""
    starts, expires = discount.get("starts_at"), discount.get("expires_at")
    if starts is not None and epoch(starts) > now:
        return False
    if expires is not None and epoch(expires) <= now:
        return False
    limit = discount.get("usage_limit")
    return limit is None or discount.get("times_used", 0) < limit


class Discounts:
    def __init__(self, clock, business_id: str):
        self.clock = clock
        self.business_id = business_id

    # -- what a checkout redeems ---------------------------------------------------------------
    def redeem(self, ns: Namespace, codes: list[str], cart: list[dict]) -> list[dict]:
        """The discounts a cart's codes name, each refused with Dodo's code and message
        (docs: api-reference/error-codes) when it cannot be used now."""
        if not codes:  # most checkouts redeem none: nothing to look at
            return []
        now = self.clock.now()
        product_ids = {entry["product"]["product_id"] for entry in cart}
        found = []
        for code in codes:
            discount = ns.read(DISCOUNT, code.upper())  # priced, never changed here
            if discount is None:
                raise invalid(f"Discount code {code} is invalid", "INVALID_DISCOUNT_CODE")
            if discount.get("expires_at") and epoch(discount["expires_at"]) <= now:
                raise invalid(f"Discount code {code} has expired", "DISCOUNT_CODE_EXPIRED")
            if discount.get("starts_at") and epoch(discount["starts_at"]) > now:
                raise invalid(f"Discount code {code} is not yet active (starts_at is in the "
                              f"future: {discount['starts_at']})", "DISCOUNT_NOT_YET_ACTIVE")
            limit = discount.get("usage_limit")
            if limit is not None and discount.get("times_used", 0) >= limit:
                raise invalid(f"Discount code {code} hit usage limit ({limit} uses)",
                              "DISCOUNT_CODE_USAGE_LIMIT_EXCEEDED")
            if discount["restricted_to"] and not product_ids & set(discount["restricted_to"]):
                raise invalid(f"Discount code {code} does not apply to any product in the cart",
                              "INVALID_DISCOUNT_CODE")
            minimum = _minimum_subtotal(discount, cart)
            if minimum:
                raise invalid(f"Cart subtotal is below the discount's minimum required subtotal "
                              f"({minimum} in minor units) for code {code}",
                              "DISCOUNT_MINIMUM_SUBTOTAL_NOT_MET")
            found.append(discount)
        return found

    def used(self, ns: Namespace, codes: list[str]) -> None:
        """A payment with these codes succeeded: each counts one more use (under ns.lock)."""
        for code in codes:
            discount = ns.get(DISCOUNT, code.upper())
            if discount is not None:
                discount["times_used"] = discount.get("times_used", 0) + 1
                ns.save(DISCOUNT, code.upper(), discount)

    # -- the merchant's API ----------------------------------------------------------------------
    def create(self, ns: Namespace, body: dict) -> dict:
        code = (body.get("code") or _random_code()).upper()
        with ns.lock:
            self._check(ns, body, code)
            now = iso(self.clock.now())
            discount = {
                "discount_id": ids.prefixed("dsc", 21), "business_id": self.business_id,
                "code": code, "name": body.get("name"), "type": body["type"],
                "amount": body["amount"], "expires_at": body.get("expires_at"),
                "starts_at": body.get("starts_at"), "restricted_to": body.get("restricted_to") or [],
                "times_used": 0, "usage_limit": body.get("usage_limit"),
                "per_customer_usage_limit": body.get("per_customer_usage_limit"),
                "subscription_cycles": body.get("subscription_cycles"), "created_at": now,
                "preserve_on_plan_change": bool(body.get("preserve_on_plan_change")),
                "customer_eligibility": body.get("customer_eligibility") or "any",
                "metadata": body.get("metadata") or {},
            }
            discount["currency_options"] = _currency_options(body.get("currency_options"))
            return ns.put(DISCOUNT, code, discount)

    def patch(self, ns: Namespace, discount_id: str, body: dict) -> dict:
        with ns.lock:
            discount = self.get(ns, discount_id)
            old_code = discount["code"]
            changes = {k: v for k, v in body.items() if v is not None}
            if "currency_options" in changes:
                changes["currency_options"] = _currency_options(changes["currency_options"])
            merged = dict(discount, **changes)
            new_code = merged["code"].upper()
            self._check(ns, merged, new_code, replacing=old_code)
            merged["code"] = new_code
            if new_code != old_code:  # the store keys discounts by code
                ns.delete(DISCOUNT, old_code)
                ns.put(DISCOUNT, new_code, merged)
            else:
                ns.save(DISCOUNT, new_code, merged)
            return merged

    def delete(self, ns: Namespace, discount_id: str) -> None:
        with ns.lock:
            ns.delete(DISCOUNT, self.get(ns, discount_id)["code"])

    def get(self, ns: Namespace, discount_id: str) -> dict:
        for discount in ns.values(DISCOUNT):
            if discount["discount_id"] == discount_id:
                return discount
        raise not_found("Discount not found")

    def by_code(self, ns: Namespace, code: str) -> dict:
        discount = ns.get(DISCOUNT, code.upper())
        if discount is None:
            raise not_found("Discount not found")
        return discount

    def list(self, ns: Namespace, query: dict) -> dict:
        """GET /discounts, filtered as the spec documents each parameter: `code` a partial,
        case-insensitive match; `active` true for a discount redeemable now (started, not
        expired, not used up), false for the others; `product_id` the discounts that apply to
        that product (restricted to it, or restricted to nothing: paymock's reading of "apply")."""
        discounts = sorted(ns.values(DISCOUNT), key=lambda d: d["created_at"])  # as products
        code = query.get("code")
        if code is not None:
            discounts = [d for d in discounts if code.upper() in d["code"].upper()]
        if query.get("discount_type") is not None:
            discounts = [d for d in discounts if d["type"] == query["discount_type"]]
        if query.get("active") is not None:
            now = self.clock.now()
            discounts = [d for d in discounts if redeemable(d, now) == query["active"]]
        product = query.get("product_id")
        if product is not None:
            discounts = [d for d in discounts
                         if not d["restricted_to"] or product in d["restricted_to"]]
        return {"items": paging.page(discounts, query)}

    # -- rules a schema cannot state ---------------------------------------------------------------
    @staticmethod
    def _check(ns: Namespace, body: dict, code: str, replacing: str | None = None) -> None:
        if len(code) < MIN_CODE_LENGTH:
            raise invalid(f"code must be at least {MIN_CODE_LENGTH} characters, got {code!r}")
        if code != replacing and ns.get(DISCOUNT, code) is not None:
            raise ApiError(409, f"Discount Code already exists: {code}", "DISCOUNT_CODE_ALREADY_EXISTS")
        amount = body["amount"]
        if amount <= 0:
            raise invalid("amount must be greater than 0")
        if body["type"] == "percentage" and amount > PERCENT_MAX_BP:
            raise invalid(f"Percentage amount cannot be more than {PERCENT_MAX_BP} (basis "
                          f"points: 100%), got {amount}", "INVALID_PERCENTAGE")
        options = body.get("currency_options") or []
        bad_option = "DISCOUNT_CURRENCY_OPTION_INVALID"
        if body["type"] == "flat" and not any(o.get("max_amount_possible") for o in options):
            raise invalid("A flat discount requires at least one currency option with a "
                          "resolvable default: give the deduction as currency_options[]."
                          "max_amount_possible", bad_option)
        if len({o["currency"] for o in options}) < len(options):
            raise invalid("Duplicate currency options are not allowed", bad_option)
        if sum(1 for o in options if o.get("is_default")) > 1:
            raise invalid("Only one currency option may be marked as default", bad_option)
        for option in options:
            if option.get("max_amount_possible") is not None and option["max_amount_possible"] <= 0:
                raise invalid("currency_options[].max_amount_possible must be greater than 0",
                              bad_option)
        limit, per_customer = body.get("usage_limit"), body.get("per_customer_usage_limit")
        if limit is not None and per_customer is not None and per_customer > limit:
            raise invalid("per_customer_usage_limit must be <= usage_limit")
        for field in ("usage_limit", "per_customer_usage_limit", "subscription_cycles"):
            if body.get(field) is not None and body[field] < 1:
                raise invalid(f"{field} must be at least 1")
        starts, expires = body.get("starts_at"), body.get("expires_at")
        for field, value in (("starts_at", starts), ("expires_at", expires)):
            if value is not None and _moment(value) is None:
                raise invalid(f"{field} must be an RFC 3339 date-time such as "
                              f"2030-01-01T00:00:00Z, got {value[:40]!r}")
        if starts and expires and epoch(expires) <= epoch(starts):
            raise invalid("expires_at must be later than starts_at")
        for product_id in body.get("restricted_to") or []:
            if ns.read(PRODUCT, product_id) is None:
                raise invalid(f"restricted_to names product {product_id}, which does not exist",
                              "NOT_FOUND")


def _moment(text: str) -> float | None:
    """Epoch seconds of a date-time (the contract's `format: date-time`, which the schema check
    leaves to the rules), else None: a date alone is not one."""
    if "T" not in text.upper():
        return None
    try:
        return epoch(text)
    except ValueError:
        return None


def _minimum_subtotal(discount: dict, cart: list[dict]) -> int | None:
    """The minimum the cart's subtotal misses for this code, in the cart's currency, or None."""
    currency = cart[0]["product"]["price"]["currency"]
    row = next((o for o in discount.get("currency_options") or [] if o["currency"] == currency), None)
    if row is None or not row.get("minimum_subtotal"):
        return None
    subtotal = sum((e.get("amount") or e["product"]["price"].get("price", 0)) * e["quantity"]
                   for e in cart)
    return row["minimum_subtotal"] if subtotal < row["minimum_subtotal"] else None


def _currency_options(options: list[dict] | None) -> list[dict]:
    """The request's rows in the response's shape (every field present)."""
    return [{"currency": o["currency"], "is_default": bool(o.get("is_default")),
             "max_amount_possible": o.get("max_amount_possible"),
             "minimum_subtotal": o.get("minimum_subtotal") or 0} for o in options or []]


def _random_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(GENERATED_CODE_LENGTH))
