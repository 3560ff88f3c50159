"""Dodo price calculation: quantities, stacked discounts, tax inclusive or exclusive.

Amounts are integer minor units. A percentage discount's `amount` is basis points (2000 = 20%),
a flat discount's is minor units of the cart currency, as in Dodo's discount objects.
"""
from __future__ import annotations

from ...core import billing_cycles, tax
from ...core.clock import iso

DEFAULT_BILLING_COUNTRY = "US"  # the real API geolocates the buyer; the mock assumes the US


def _line_discount(unit_total: int, discounts: list[dict], product_id: str) -> int:
    remaining = unit_total
    for discount in discounts:
        if discount["restricted_to"] and product_id not in discount["restricted_to"]:
            continue
        if discount["type"] == "percentage":
            cut = round(remaining * discount["amount"] / 10000)
        else:
            cut = min(discount["amount"], remaining)
        remaining -= cut
    return unit_total - remaining


def calculate(cart: list[dict], discounts: list[dict], billing: dict | None, tax_id: str | None,
              trial_days: int | None, now: float | None = None) -> dict:
    """`cart` holds resolved items: {product, quantity, amount}. Returns the preview body;
    `now` (the mock clock) dates a subscription's first renewal."""
    billing = billing or {}
    country = billing.get("country") or DEFAULT_BILLING_COUNTRY
    quote = tax.quote(country, billing.get("state"), tax_id)
    items, subtotal, discount_total, tax_total, total = [], 0, 0, 0, 0
    currency = cart[0]["product"]["price"]["currency"]
    for entry in cart:
        product, quantity = entry["product"], entry["quantity"]
        price = product["price"]
        unit = entry.get("amount") if entry.get("amount") is not None else price["price"]
        gross = unit * quantity
        cut = _line_discount(gross, discounts, product["product_id"])
        net = gross - cut
        inclusive = bool(price.get("tax_inclusive"))
        line_tax = tax.split(net, quote.rate_bp, inclusive)
        subtotal += gross
        discount_total += cut
        tax_total += line_tax
        total += net if inclusive else net + line_tax
        items.append({
            "product_id": product["product_id"], "name": product.get("name"),
            "quantity": quantity, "og_price": unit, "og_currency": price["currency"],
            "currency": price["currency"],
            "discounted_price": (net // quantity) if quantity else 0,
            "discount_amount": cut or None, "discount_cycle": None,
            "tax": line_tax, "tax_rate": quote.rate_bp, "tax_inclusive": inclusive,
            "tax_category": product["tax_category"], "is_subscription": product["is_recurring"],
            "is_usage_based": False, "meters": [], "credit_entitlements": [], "addons": None,
        })
    breakup = {"subtotal": subtotal, "discount": discount_total, "tax": tax_total,
               "total_amount": total}
    recurring = any(entry["product"]["is_recurring"] for entry in cart)
    current = breakup
    if recurring and trial_days:
        current = {"subtotal": 0, "discount": 0, "tax": 0, "total_amount": 0}
    return {
        "billing_country": country.upper(), "currency": currency, "is_byop": False,
        "product_cart": items, "current_breakup": current,
        "recurring_breakup": breakup if recurring else None,
        "total_price": current["total_amount"], "total_tax": current["tax"],
        "trial_period_days": trial_days if recurring else None,
        # Only a paid trial has a trial amount (spec: None for a free trial or no trial); the
        # catalog's trials are free: nothing is due now, and the trial's end is the first charge.
        "trial_amount": None,
        "tax_id_business_name": None, "tax_id_err_msg": None, "tax_id_format_name": None,
        "next_billing_date": _next_billing_date(cart, trial_days, now) if recurring else None,
    }


def _next_billing_date(cart: list[dict], trial_days: int | None, now: float | None) -> str | None:
    """As the vendor describes the estimate: with a trial, now + trial_period_days; otherwise now
    plus the price's payment frequency (the earliest of the cart's subscriptions)."""
    if now is None:
        return None
    if trial_days:
        return iso(now + trial_days * 86400)
    return iso(min(billing_cycles.after(now, price.get("payment_frequency_count") or 1,
                                        price.get("payment_frequency_interval") or "Month")
                   for price in (entry["product"]["price"] for entry in cart
                                 if entry["product"]["is_recurring"])))
