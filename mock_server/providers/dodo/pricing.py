"""Dodo price calculation: quantities, stacked discounts, tax inclusive or exclusive.

Amounts are integer minor units. A percentage discount's `amount` is basis points (2000 = 20%),
a flat discount's is minor units of the cart currency, as in Dodo's discount objects.
"""
from __future__ import annotations

from ...core import billing_cycles, tax
from ...core.clock import iso
from . import credits

DEFAULT_BILLING_COUNTRY = "US"  # the real API geolocates the buyer; the mock assumes the US


def flat_deduction(discount: dict, currency: str) -> int:
    """A flat code's deduction in the cart's currency: its `currency_options` row for that
    currency, else its default row (spec 1.113.0); a catalog discount without rows keeps the
    older single `amount` in minor units."""
    return _currency_row(discount, currency).get("max_amount_possible") or discount["amount"]


def _currency_row(discount: dict, currency: str) -> dict:
    rows = discount.get("currency_options") or []
    return next((r for r in rows if r["currency"] == currency), None) \
        or next((r for r in rows if r.get("is_default")), None) or {}


def _line_discount(unit_total: int, discounts: list[dict], product_id: str, currency: str) -> int:
    remaining = unit_total
    for discount in discounts:
        if discount["restricted_to"] and product_id not in discount["restricted_to"]:
            continue
        if discount["type"] == "percentage":
            cut = round(remaining * discount["amount"] / 10000)
            cap = _currency_row(discount, currency).get("max_amount_possible")
            if cap:
                cut = min(cut, cap)
        else:
            cut = min(flat_deduction(discount, currency), remaining)
        remaining -= cut
    return unit_total - remaining


def calculate(cart: list[dict], discounts: list[dict], billing: dict | None, tax_id: str | None,
              trial_days: int | None, now: float | None = None) -> dict:
    """`cart` holds resolved items: {product, quantity, amount}; one-time and subscription
    products may mix (SDK 1.123.0). `trial_days` is the checkout's `subscription_data` override;
    without one, each subscription has its price's own trial. Returns the preview body; `now`
    (the mock clock) dates each subscription's first renewal."""
    billing = billing or {}
    country = billing.get("country") or DEFAULT_BILLING_COUNTRY
    quote = tax.quote(country, billing.get("state"), tax_id)
    currency = cart[0]["product"]["price"]["currency"]
    items, due_now, recurring, subscriptions = [], [], [], []  # lines of the two breakups
    for entry in cart:
        product, quantity = entry["product"], entry["quantity"]
        price = product["price"]
        # a usage-based price charges its fixed part per cycle; usage is billed in arrears
        unit = entry.get("amount") if entry.get("amount") is not None \
            else price.get("price", price.get("fixed_price", 0))
        line = _Line(unit * quantity, _line_discount(unit * quantity, discounts, product["product_id"], price["currency"]),
                     quote.rate_bp, bool(price.get("tax_inclusive")))
        items.append({
            "product_id": product["product_id"], "name": product.get("name"),
            "quantity": quantity, "og_price": unit, "og_currency": price["currency"],
            "currency": price["currency"],
            "discounted_price": (line.net // quantity) if quantity else 0,
            "discount_amount": line.cut or None, "discount_cycle": None,
            "tax": line.tax, "tax_rate": quote.rate_bp, "tax_inclusive": line.inclusive,
            "tax_category": product["tax_category"], "is_subscription": product["is_recurring"],
            "is_usage_based": False, "meters": [],
            "credit_entitlements": credits.cart_items(product)
            if product.get("credit_entitlements") else [], "addons": None,
            # The hosted checkout alone sets it (SDK 1.123.0: "only for display"); the API's
            # preview, which the mock answers, leaves it null.
            "monthly_equivalent": None,
        })
        if not product["is_recurring"]:
            due_now.append(line)
            continue
        recurring.append(line)
        days = trial_days if trial_days is not None else (price.get("trial_period_days") or 0)
        now_line = line if not days else _trial_line(price, quantity, discounts, product, quote)
        due_now.append(now_line)
        subscriptions.append({
            "product_id": product["product_id"], "amount_due_now": now_line.total,
            "tax_due_now": now_line.tax, "recurring_amount": line.total,
            "recurring_tax": line.tax, "trial_period_days": days or None,
            "next_billing_date": _next_billing_date(price, days, now),
            "_no_card": _card_optional(price, days, now_line.total)})
    single = subscriptions[0] if len(subscriptions) == 1 else None
    trial_amount = None
    if single and single["trial_period_days"] and cart_price(cart, single["product_id"]).get("trial_amount"):
        trial_amount = _trial_unit(cart_price(cart, single["product_id"]), discounts, single["product_id"])
    current = _breakup(due_now)
    return {
        "billing_country": country.upper(), "currency": currency, "is_byop": False,
        "product_cart": items, "current_breakup": current,
        "recurring_breakup": _breakup(recurring) if subscriptions else None,
        "total_price": current["total_amount"], "total_tax": current["tax"],
        # With more than one subscription each has its own trial and date: see `subscriptions`.
        "trial_period_days": single["trial_period_days"] if single else None,
        "trial_amount": trial_amount,
        "tax_id_business_name": None, "tax_id_err_msg": None, "tax_id_format_name": None,
        "next_billing_date": min((s["next_billing_date"] for s in subscriptions
                                  if s["next_billing_date"]), default=None)
        if subscriptions else None,
        "subscriptions": [{k: v for k, v in s.items() if not k.startswith("_")}
                          for s in subscriptions] if len(subscriptions) > 1 else None,
        # A card is needed unless every subscription may start without one and nothing else
        # is due (SDK 1.123.0: "True for every other cart, including a one-time cart").
        "payment_method_required": not (subscriptions and len(subscriptions) == len(cart)
                                        and all(s["_no_card"] for s in subscriptions)),
    }


class _Line:
    """One cart line's money: gross, the discount cut from it, its tax and what is charged."""

    __slots__ = ("gross", "cut", "inclusive", "net", "tax", "total")

    def __init__(self, gross: int, cut: int, rate_bp: int, inclusive: bool):
        self.gross, self.cut, self.inclusive = gross, cut, inclusive
        self.net = gross - cut
        self.tax = tax.split(self.net, rate_bp, inclusive)
        self.total = self.net if inclusive else self.net + self.tax


def _breakup(lines: list[_Line]) -> dict:
    """A breakup (current or recurring): the sums of its lines."""
    subtotal = discount = tax_total = total = 0
    for line in lines:
        subtotal += line.gross
        discount += line.cut
        tax_total += line.tax
        total += line.total
    return {"subtotal": subtotal, "discount": discount, "tax": tax_total, "total_amount": total}


def cart_price(cart: list[dict], product_id: str) -> dict:
    return next(e["product"]["price"] for e in cart if e["product"]["product_id"] == product_id)


def _trial_unit(price: dict, discounts: list[dict], product_id: str) -> int:
    """A paid trial's per-unit charge: the price's `trial_amount`, cut by discounts only when
    `trial_apply_discounts` says so (default false)."""
    amount = price.get("trial_amount") or 0
    if price.get("trial_apply_discounts"):
        amount -= _line_discount(amount, discounts, product_id, price["currency"])
    return amount


def _trial_line(price: dict, quantity: int, discounts: list[dict], product: dict, quote) -> _Line:
    """What a subscription in trial charges today: nothing for a free trial, the trial amount
    for a paid one."""
    unit = _trial_unit(price, discounts, product["product_id"])
    return _Line(unit * quantity, 0, quote.rate_bp, bool(price.get("tax_inclusive")))


def _card_optional(price: dict, days: int, due_now: int) -> bool:
    if due_now:
        return False
    if days and price.get("trial_payment_method_optional"):
        return True
    return bool(price.get("zero_amount_payment_method_optional"))


def _next_billing_date(price: dict, trial_days: int, now: float | None) -> str | None:
    """As the vendor describes the estimate: with a trial, now + trial_period_days; otherwise now
    plus the price's payment frequency."""
    if now is None:
        return None
    if trial_days:
        return iso(now + trial_days * 86400)
    return iso(billing_cycles.after(now, price.get("payment_frequency_count") or 1,
                                    price.get("payment_frequency_interval") or "Month"))
