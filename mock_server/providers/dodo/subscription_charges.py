"""What a Dodo subscription is billed besides its plan: on-demand charges
(`POST /subscriptions/{id}/charge`) and its usage by billing period
(`GET /subscriptions/{id}/usage-history`).

An on-demand charge is one off-session payment (charge_type on_demand) of the price given, plus
tax at the subscription's billing address, to the saved card; its outcome is told by payment.*
events only, and it is never retried (../shared/reference/dodo-lifecycle.md, section 1). paymock
allows it on any active subscription (the mandate a checkout's card gives). Usage-based billing
is not emulated: every billing period is listed, with no meters.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ...core import billing_cycles, tax
from ...core.clock import epoch, iso
from ...core.store import Namespace
from . import paging
from .credits import text
from .models import MIN_TOTAL, PAYMENT, PRODUCT, invalid
from .subscriptions import INTERNAL, inactive
from .usage_events import METERS

ON_DEMAND = "on_demand"


class SubscriptionCharges:
    def __init__(self, backend):
        self.backend = backend
        self.clock = backend.clock

    def charge(self, ns: Namespace, sub_id: str, body: dict) -> dict:
        with ns.lock:
            sub = self.backend.subscriptions.find(ns, sub_id)
            if sub["status"] == "expired":
                raise invalid("Subscription has expired", "SUBSCRIPTION_EXPIRED")
            if sub["status"] != "active":
                raise inactive(f"Subscription is {sub['status']}; it cannot be charged")
            if sub["cancel_at_next_billing_date"]:
                raise invalid("The subscription is scheduled to cancel at its next billing date; "
                              "it cannot be charged", "CHARGE_NOT_ALLOWED_FOR_SCHEDULED_CANCELLATION")
            currency = body.get("product_currency") or sub["currency"]
            if currency != sub["currency"]:
                raise invalid(f"product_currency {currency} differs from the subscription's "
                              f"currency {sub['currency']}")
            price = body["product_price"]
            if price < MIN_TOTAL:
                raise invalid("Total payment amount is below the minimum amount of 0.50",
                              "TOTAL_PAYMENT_AMOUNT_BELOW_MINIMUM_AMOUNT")
            billing = sub["billing"]
            rate = tax.quote(billing["country"], billing.get("state"), sub.get("tax_id")).rate_bp
            levied = tax.split(price, rate, bool(sub["tax_inclusive"]))
            amount = price if sub["tax_inclusive"] else price + levied
            renewals = self.backend.renewals
            payment = renewals.open_charge(ns, sub, ON_DEMAND, amount)
            payment["data"].update(tax=levied, metadata=body.get("metadata") or sub["metadata"],
                                   description=body.get("product_description"))
            ns.save(PAYMENT, payment["id"], payment)  # the charge reads the stored payment
            dodo = self.backend.payments
            decline = dodo.psp.charge_saved({"payment_id": payment["id"], "subscription_id": sub_id,
                                             "amount": amount, "currency": currency}, ns.name)
            dodo.payments.charge_saved(ns, payment, sub[INTERNAL]["card"], decline)
            return {"payment_id": payment["id"]}

    def usage_history(self, ns: Namespace, sub_id: str, query: dict) -> dict:
        """Every billing period from the start to the current one, newest first, with what each
        meter of the product's usage-based price counted in it (the customer's ingested events,
        usage_events.py); `start_date`/`end_date` keep the periods that overlap them."""
        sub = self.backend.subscriptions.find(ns, sub_id)
        extra = sub[INTERNAL]
        every, interval = sub["payment_frequency_count"], sub["payment_frequency_interval"]
        start, periods = epoch(sub["created_at"]), []
        # A trial (or a moved first billing date) is a period of its own; created_at is the
        # anchor to the millisecond otherwise.
        cycle = 0 if extra["anchor"] > start + 1 else 1
        end = extra["anchor"] if cycle == 0 else billing_cycles.after(extra["anchor"], every, interval)
        while start < extra["next_at"] and len(periods) < 10000:
            periods.append((start, end))
            cycle += 1
            start, end = end, billing_cycles.after(extra["anchor"], cycle * every, interval)
        low, high = paging.when(query, "start_date"), paging.when(query, "end_date")
        kept = [(a, b) for a, b in reversed(periods)
                if (low is None or b >= low) and (high is None or a <= high)]
        price = (ns.read(PRODUCT, sub["product_id"]) or {}).get("price") or {}
        rows = [{"start_date": iso(a), "end_date": iso(b),
                 "meters": self._meters(ns, sub, price, a, b)}
                for a, b in paging.page(kept, query)]
        return {"items": rows}

    def _meters(self, ns: Namespace, sub: dict, price: dict, start: float, end: float) -> list:
        """MeterUsageItem for each meter of a usage-based price, over [start, end)."""
        items = []
        for attached in price.get("meters") or []:
            meter = ns.get(METERS, attached["meter_id"])
            if meter is None:
                continue
            consumed = Decimal(str(self.backend.usage_events.usage(
                ns, meter, sub["customer"]["customer_id"], start, end)))
            free = attached.get("free_threshold") or 0
            chargeable = max(consumed - free, Decimal(0))
            per_unit = Decimal(attached.get("price_per_unit") or "0")
            items.append({
                "id": meter["id"], "name": meter["name"], "free_threshold": free,
                "price_per_unit": text(per_unit), "currency": price.get("currency", "USD"),
                "total_price": int((chargeable * per_unit).to_integral_value(ROUND_HALF_UP)),
                "consumed_units": text(consumed), "chargeable_units": text(chargeable)})
        return items


