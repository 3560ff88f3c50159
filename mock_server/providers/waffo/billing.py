"""Money, the currency x payment-method matrix, and tax for Waffo orders.

Waffo amounts are decimal display strings ("29.00", "4500" for JPY). Arithmetic happens in integer
minor units; the tax table is the shared one in `core.tax`.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ...core import tax

# The documented matrix: which methods each (product type, currency) pair offers.
_ALL = ("card", "applepay", "googlepay")
PAYMENT_METHODS = {
    "onetime": {"USD": _ALL + ("wechat",), "EUR": _ALL, "GBP": _ALL, "HKD": _ALL, "JPY": _ALL,
                "CNY": ("wechat",)},
    "subscription": {"USD": _ALL, "EUR": _ALL, "GBP": _ALL, "HKD": _ALL, "JPY": _ALL},
}
ZERO_DECIMAL = {"JPY", "KRW", "VND", "IDR", "CLP", "TWD"}


def exponent(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 2


def to_minor(amount: str, currency: str) -> int:
    return int((Decimal(amount) * (10 ** exponent(currency))).to_integral_value(ROUND_HALF_UP))


def to_display(minor: int, currency: str) -> str:
    places = exponent(currency)
    if places == 0:
        return str(minor)
    return f"{Decimal(minor) / (10 ** places):.{places}f}"


def payment_methods(product_type: str, currency: str, include: list | None,
                    exclude: list | None) -> tuple[str, ...] | None:
    """Methods the session offers; None when the currency cannot be charged for this type.

    A whitelisted method the pair does not support makes the whole list invalid (returned as an
    empty tuple); blacklisted methods the pair does not offer are ignored, as documented.
    """
    offered = PAYMENT_METHODS.get(product_type, {}).get(currency)
    if offered is None:
        return None
    if include is not None:
        if any(method not in offered for method in include):
            return ()
        return tuple(m for m in offered if m in include)
    if exclude is not None:
        return tuple(m for m in offered if m not in exclude)
    return offered


def quote(amount: str, currency: str, billing: dict) -> dict:
    """Tax on a tax-exclusive price, from the buyer's billing detail.

    Only a business purchase can claim the EU reverse charge, so a consumer's taxId is ignored.
    """
    country = billing["country"]
    business_tax_id = billing.get("taxId") if billing.get("isBusiness") else None
    rate = tax.quote(country, billing.get("state"), business_tax_id)
    subtotal = to_minor(amount, currency)
    tax_minor = tax.split(subtotal, rate.rate_bp, inclusive=False)
    return {
        "currency": currency,
        "subtotal": to_display(subtotal, currency),
        "taxAmount": to_display(tax_minor, currency),
        "taxRate": rate.rate_percent,
        "reverseCharge": rate.reverse_charge,
        "total": to_display(subtotal + tax_minor, currency),
    }
