"""The figures of Waffo's GraphQL analytics queries (orderStatistics, paymentStatistics,
productStatistics, trendAnalysis, distributionAnalysis, customerAnalysis, taxAnalysis,
subscriptionAnalysis, refundTicketAnalysis), computed from the stored orders, payments and refund
tickets of the caller's scope. Plain Python over the stored dicts: graphql_api.py picks the
records (scope, store, environment) and hands them over; this module filters and counts.

The guide (docs/graphql-guide.md of waffo-com/waffo-pancake-sdk-ts) gives the queries, their
arguments and their field names, not how a figure is computed; what it leaves open is paymock's
choice, written down here, in the schema's descriptions and in docs/waffo.md:
- the window: `filter.timeRange` is required; both ends are inclusive, a date (`2026-11-30`) as
  `endDate` takes in its whole UTC day. A record is in the window by its `createdAt` (a
  payment's, an order's, a ticket's); the few figures that need history (new vs returning buyers,
  a customer's first purchase, churn, cancellations) say so where they are made;
- `filter.currency` keeps the records in that currency, `filter.status` those with that status:
  the order's status for the order-based queries, the payment's for paymentStatistics and
  taxAnalysis, the ticket's for refundTicketAnalysis;
- money: amounts are Waffo's display strings, added up in integer minor units and never across
  currencies. A figure whose rows carry a `currency` is grouped by currency; one that does not
  takes its currency from its `currency` argument, else `filter.currency`, else it is an error
  (the guide's examples always name one);
- revenue is what succeeded payments took (tax included, before refunds); refunds are counted on
  their own, and `settlementRevenueByCurrency` is revenue less succeeded refunds (the mock keeps
  no fees);
- every percentage or rate is a percentage (0-100, two decimals, half up), 0 when there is
  nothing to divide by (growthRate: null, growth from nothing); statistics of an empty set
  (percentiles, averages of amounts or hours) are null; a period series has every period of the
  window, empty ones as zeros, at most MAX_PERIODS of them.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from ...core.clock import epoch
from .billing import to_display, to_minor


class AnalyticsError(ValueError):
    """A bad argument: graphql-core turns it into a GraphQL error (200, `errors`), never a 500."""


MAX_PERIODS = 1000   # a series longer than this is refused (a DAY series over 2.7 years)
MAX_LIMIT = 100      # as the list queries
MAX_BUCKETS = 100
DAY_MS = 86_400_000
ALL_TIME = "ALL_TIME"
# Subscription statuses (waffo-lifecycle.md section 4; `trialing` is the mock's active-in-trial).
SERVING = ("active", "trialing")
ENDED = ("canceled", "expired")
# Refund ticket statuses (section 5).
TICKET_OPEN = ("pending", "under_review", "approved", "processing")
TICKET_APPROVED = ("approved", "processing", "succeeded", "failed")  # got past the review
TICKET_RESOLVED = ("succeeded", "failed", "rejected", "cancelled")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


# -- the window ----------------------------------------------------------------------------------
class Window:
    """`filter`: the time range in epoch milliseconds (both ends inclusive), currency, status."""

    __slots__ = ("start", "end", "currency", "status")

    def __init__(self, start: int, end: int, currency: str | None, status: str | None):
        self.start, self.end, self.currency, self.status = start, end, currency, status

    @classmethod
    def parse(cls, filter) -> Window:
        time_range = (filter or {}).get("timeRange")
        if not time_range:
            raise AnalyticsError("filter.timeRange is required: { startDate, endDate }")
        start = _bound(time_range.get("startDate"), "startDate", end=False)
        end = _bound(time_range.get("endDate"), "endDate", end=True)
        if end < start:
            raise AnalyticsError("filter.timeRange.endDate must not be before startDate")
        return cls(start, end, currency_code(filter.get("currency"), "filter.currency"),
                   filter.get("status") or None)

    def holds(self, ms: int | None) -> bool:
        return ms is not None and self.start <= ms <= self.end


def _bound(text, name: str, end: bool) -> int:
    if not isinstance(text, str) or not text.strip():
        raise AnalyticsError(f"filter.timeRange.{name} is required (ISO 8601)")
    text = text.strip()
    if "T" not in text.upper() and " " not in text:
        try:  # a date: the day starts at 00:00 UTC; as the end, the whole day is in
            day = date.fromisoformat(text)
        except ValueError:
            raise AnalyticsError(f"filter.timeRange.{name} must be an ISO 8601 date or "
                                 f"date-time, got {text!r}") from None
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        ms = int(midnight.timestamp()) * 1000
        return ms + DAY_MS - 1 if end else ms
    try:
        exact = epoch(text) * 1000
        ms = math.floor(exact) if end else math.ceil(exact)  # records carry milliseconds
        _moment(ms)  # periods are labelled in UTC: the instant must have a UTC date
    except (ValueError, OverflowError, OSError):
        raise AnalyticsError(f"filter.timeRange.{name} must be an ISO 8601 date or date-time, "
                             f"got {text!r}") from None
    return ms


def currency_code(value, name: str = "currency") -> str | None:
    """The guide writes `currency: "usd"`: codes are taken in any case, kept upper case."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _CURRENCY.match(value.strip()):
        raise AnalyticsError(f"{name} must be an ISO 4217 currency code, got {value!r}")
    return value.strip().upper()


# -- periods -------------------------------------------------------------------------------------
def _floor(moment: datetime, granularity: str) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity == "DAY":
        return day
    if granularity == "WEEK":  # ISO weeks start on Monday
        return day - timedelta(days=day.weekday())
    if granularity == "MONTH":
        return day.replace(day=1)
    if granularity == "QUARTER":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(month=1, day=1)  # YEAR


def _next(start: datetime, granularity: str) -> datetime:
    if granularity == "DAY":
        return start + timedelta(days=1)
    if granularity == "WEEK":
        return start + timedelta(days=7)
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[granularity]
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def _label(start: datetime, granularity: str) -> str:
    """DAY 2026-09-21, WEEK 2026-W39 (ISO week), MONTH 2026-09, QUARTER 2026-Q3, YEAR 2026."""
    if granularity == "DAY":
        return start.date().isoformat()
    if granularity == "WEEK":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "MONTH":
        return f"{start.year}-{start.month:02d}"
    if granularity == "QUARTER":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def period_of(ms: int, granularity: str) -> str:
    if granularity == ALL_TIME:
        return ALL_TIME
    return _label(_floor(_moment(ms), granularity), granularity)


def periods(window: Window, granularity: str) -> list[tuple[str, int, int]]:
    """Every period the window touches, in order: (label, first ms, last ms), clipped to the
    window (so a period's figures never reach outside it)."""
    if granularity == ALL_TIME:
        return [(ALL_TIME, window.start, window.end)]
    rows = []
    start = _floor(_moment(window.start), granularity)
    while int(start.timestamp() * 1000) <= window.end:
        if len(rows) == MAX_PERIODS:
            raise AnalyticsError(f"the time range holds more than {MAX_PERIODS} {granularity} "
                                 "periods: use a coarser granularity or a shorter range")
        try:
            following = _next(start, granularity)
            last = int(following.timestamp() * 1000) - 1
        except (OverflowError, ValueError):  # the calendar's end
            following, last = None, window.end
        rows.append((_label(start, granularity), max(int(start.timestamp() * 1000),
                                                     window.start), min(last, window.end)))
        if following is None:
            break
        start = following
    return rows


# -- arithmetic ----------------------------------------------------------------------------------
def percent(part, whole) -> float:
    """part / whole as a percentage, two decimals (half up); 0 when whole is 0."""
    if not whole:
        return 0.0
    value = Decimal(part) * 100 / Decimal(whole)
    return float(value.quantize(Decimal("0.01"), ROUND_HALF_UP))


def _round(value: Fraction) -> int:
    """To the nearest integer, halves away from zero (amounts in minor units)."""
    sign = -1 if value < 0 else 1
    return sign * math.floor(abs(value) + Fraction(1, 2))


def _two(value: Fraction | float) -> float:
    value = Fraction(value)
    return float((Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), ROUND_HALF_UP))


def _percentile(ordered: list, share: Fraction) -> Fraction:
    """Linear interpolation between the closest ranks (numpy's default)."""
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _median(values: list) -> Fraction | None:
    return _percentile(sorted(values), Fraction(1, 2)) if values else None


def _mean(values: list) -> Fraction | None:
    return Fraction(sum(values), len(values)) if values else None


def _stddev(values: list) -> int:
    """Population standard deviation, rounded to a minor unit."""
    mean = Fraction(sum(values), len(values))
    variance = sum((Fraction(v) - mean) ** 2 for v in values) / len(values)
    with localcontext() as context:
        context.prec = 40
        root = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt()
        return int(root.quantize(Decimal(1), ROUND_HALF_UP))


def _limit(limit) -> int:
    return 10 if limit is None else max(0, min(limit, MAX_LIMIT))


# -- the records -------------------------------------------------------------------------------
def _ms(text) -> int | None:
    if not text:
        return None
    try:
        return round(epoch(text) * 1000)
    except (ValueError, TypeError):
        return None


def _order_view(raw: dict) -> dict:
    billing = raw.get("billingDetail") or {}
    payment = raw.get("payment") or {}
    buyer = raw.get("buyerEmail") or raw.get("buyerIdentity")
    return {
        "id": raw["orderId"], "type": raw.get("type"), "status": raw.get("status"),
        "currency": raw.get("currency"), "at": _ms(raw.get("createdAt")),
        "updatedAt": _ms(raw.get("updatedAt")) or _ms(raw.get("createdAt")),
        "buyer": buyer.strip().lower() if isinstance(buyer, str) and buyer.strip() else None,
        "country": billing.get("country"), "state": billing.get("state") or None,
        "business": bool(billing.get("isBusiness")), "productId": raw.get("productId"),
        "productName": raw.get("productName"), "billingPeriod": raw.get("billingPeriod"),
        "trialDays": raw.get("trialDays") or 0, "taxRate": raw.get("taxRate"),
        "total": raw.get("total"), "subtotal": raw.get("subtotal"),
        "taxAmount": raw.get("taxAmount"),
        # Renewals (being added) bring these; absent, the figures fall back as noted.
        "canceledAt": _ms(raw.get("canceledAt")), "periodNumber": raw.get("periodNumber"),
        "paidAt": _ms(payment.get("paidAt")),
    }


def _payment_view(row: dict, orders: dict) -> dict | None:
    """A row of the `payments` query (one per charge: the first, and renewals when they come)."""
    order = orders.get(row.get("orderId"))
    if order is None:
        return None
    snapshot = row.get("snapshotAmountDetails") or {}
    currency = row.get("currency") or snapshot.get("currency") or order["currency"]
    card = row.get("cardInfo") or {}

    def amount(name: str, fallback: str) -> int:
        text = snapshot.get(name) or order[fallback]
        return to_minor(text, currency) if text else 0

    return {"id": row["id"], "order": order, "status": row.get("status"), "currency": currency,
            "at": _ms(row.get("createdAt")) or order["at"],
            "createdAt": row.get("createdAt"), "total": amount("total", "total"),
            "subtotal": amount("subtotal", "subtotal"), "tax": amount("taxAmount", "taxAmount"),
            "taxCategory": snapshot.get("taxCategory"),
            "taxRate": snapshot.get("taxRate") or order["taxRate"],
            "method": row.get("paymentMethod"), "brand": card.get("brand"),
            "failureReason": row.get("failureReason")}


def _ticket_view(raw: dict, orders: dict) -> dict | None:
    order = orders.get(raw.get("orderId"))
    version = raw.get("versionData") or {}
    requested = version.get("requestedAmount") or {}
    currency = requested.get("currency") or (order or {}).get("currency")
    if order is None or not currency:
        return None
    return {"id": raw["id"], "order": order, "paymentId": raw.get("subjectId"),
            "status": raw.get("status"), "currency": currency,
            "amount": to_minor(requested.get("amount") or "0", currency),
            "reason": version.get("reason") or "", "submitterType": raw.get("submitterType"),
            "at": _ms(raw.get("createdAt")), "reviewedAt": _ms(raw.get("reviewedAt"))}


class Dataset:
    """What the caller may see: the stored orders and refund tickets, and the rows of the
    `payments` query (its source of payments, so renewal charges count once they are listed)."""

    def __init__(self, orders: list, payments: list, tickets: list, now: float):
        self.now = round(now * 1000)
        self.orders = [_order_view(o) for o in orders]
        by_id = {o["id"]: o for o in self.orders}
        self.payments = [p for p in (_payment_view(r, by_id) for r in payments) if p]
        self.tickets = [t for t in (_ticket_view(t, by_id) for t in tickets) if t]
        # A subscription's first charge: activation (the churn base, trials).
        self.activated: dict[str, int] = {}
        for payment in self.payments:
            if payment["status"] == "succeeded":
                order_id = payment["order"]["id"]
                self.activated[order_id] = min(self.activated.get(order_id, payment["at"]),
                                               payment["at"])
        for order in self.orders:
            if order["paidAt"] is not None:
                self.activated[order["id"]] = min(self.activated.get(order["id"],
                                                                     order["paidAt"]),
                                                  order["paidAt"])


# -- shared by the queries ------------------------------------------------------------------------
class _Analysis:
    """One query's answer: graphql-core reads each field as a method of this object and calls it
    with the resolve info and the field's arguments (defaults come from the schema)."""

    def __init__(self, data: Dataset, window: Window):
        self.data, self.window = data, window
        w = window
        # Orders made in the window (the order-based figures' records).
        self.orders = [o for o in data.orders if w.holds(o["at"])
                       and w.currency in (None, o["currency"]) and w.status in (None, o["status"])]
        # Sales: succeeded payments made in the window, of orders that pass the status filter.
        self.sales = [p for p in data.payments if p["status"] == "succeeded" and w.holds(p["at"])
                      and w.currency in (None, p["currency"])
                      and w.status in (None, p["order"]["status"])]

    def _currency(self, currency) -> str:
        code = currency_code(currency) or self.window.currency
        if code is None:
            raise AnalyticsError("currency is required for amounts: pass the field's currency "
                                 "argument or filter.currency (paymock never adds up different "
                                 "currencies)")
        return code

    def _periods(self, granularity) -> list[tuple[str, int, int]]:
        return periods(self.window, granularity or "MONTH")

    @staticmethod
    def _money(minor: int, currency: str) -> str:
        return to_display(minor, currency)

    def _by_period(self, records, granularity) -> dict[str, list]:
        """The records of each period of the window (every period present, maybe empty)."""
        slots = {label: [] for label, _, _ in self._periods(granularity)}
        for record in records:
            label = period_of(record["at"], granularity or "MONTH")
            if label in slots:
                slots[label].append(record)
        return slots

    def _days(self, window_days) -> list[tuple[str, int, int]]:
        if window_days is None or not 1 <= window_days <= 365:
            raise AnalyticsError("windowDays must be between 1 and 365")
        return periods(self.window, "DAY")


def _count_rows(values, key: str) -> list[dict]:
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    ranked = sorted(counts.items(), key=lambda i: (-i[1], str(i[0])))  # most first, then by name
    return [{key: k, "count": n} for k, n in ranked]


def _sum_by_currency(payments, field: str = "total") -> list[dict]:
    totals: dict[str, list[int]] = {}
    for p in payments:
        entry = totals.setdefault(p["currency"], [0, 0])
        entry[0] += p[field]
        entry[1] += 1
    return [{"currency": c, "totalAmount": to_display(total, c), "paymentCount": n}
            for c, (total, n) in sorted(totals.items())]


def _buckets(values: list[int], bucket_count, currency: str) -> list[dict]:
    """Equal-width ranges from the smallest to the largest value; each holds [rangeMin,
    rangeMax), the last also its rangeMax (the largest value)."""
    if bucket_count is None or not 1 <= bucket_count <= MAX_BUCKETS:
        raise AnalyticsError(f"bucketCount must be between 1 and {MAX_BUCKETS}")
    if not values:
        return []
    low, high = min(values), max(values)
    width = max(1, math.ceil((high - low) / bucket_count))
    used = min(bucket_count, (high - low) // width + 1)
    counts = [0] * used
    for value in values:
        counts[min((value - low) // width, used - 1)] += 1
    return [{"rangeMin": to_display(low + i * width, currency),
             "rangeMax": to_display(high if i == used - 1 else low + (i + 1) * width, currency),
             "count": n, "percentage": percent(n, len(values))} for i, n in enumerate(counts)]


def _business(flag: bool) -> str:
    return "B2B" if flag else "B2C"


# -- orderStatistics -----------------------------------------------------------------------------
class OrderStatistics(_Analysis):
    """Orders made in the window; revenue from the sales (succeeded payments) in it."""

    def totalCount(self, info=None):
        return len(self.orders)

    def countsByStatus(self, info=None):
        return _count_rows((o["status"] for o in self.orders), "status")

    def countsByPeriod(self, info=None, granularity="MONTH"):
        return [{"period": label, "count": len(rows)}
                for label, rows in self._by_period(self.orders, granularity).items()]

    def revenueByCurrency(self, info=None):
        return _sum_by_currency(self.sales)

    def revenueByPeriod(self, info=None, granularity="MONTH", currency=None):
        # Rows carry their currency, so without one each currency gets its own series.
        code = currency_code(currency) or self.window.currency
        codes = [code] if code else sorted({p["currency"] for p in self.sales})
        rows = []
        for label, sales in self._by_period(self.sales, granularity).items():
            for c in codes:
                mine = [p for p in sales if p["currency"] == c]
                rows.append({"period": label, "currency": c, "paymentCount": len(mine),
                             "totalAmount": to_display(sum(p["total"] for p in mine), c)})
        return rows

    def buyerMetrics(self, info=None):
        # History: a buyer is new when their first order of the scope (any time, any currency
        # or status) is in the window, returning when they had ordered before it.
        buyers = {o["buyer"] for o in self.orders if o["buyer"]}
        first: dict[str, int] = {}
        for order in self.data.orders:
            if order["buyer"] in buyers and order["at"] is not None:
                first[order["buyer"]] = min(first.get(order["buyer"], order["at"]), order["at"])
        new = sum(1 for b in buyers if first[b] >= self.window.start)
        return {"totalBuyers": len(buyers), "newBuyers": new, "returningBuyers": len(buyers) - new}

    def _sales_in(self, currency) -> tuple[str, list]:
        code = self._currency(currency)
        return code, [p for p in self.sales if p["currency"] == code]

    def revenueByCountry(self, info=None, currency=None):
        code, sales = self._sales_in(currency)
        return _amount_groups(sales, lambda p: p["order"]["country"] or "unknown", "country",
                              code)

    def ordersByCountry(self, info=None):
        return _count_rows((o["country"] or "unknown" for o in self.orders), "country")

    def b2bVsB2cBreakdown(self, info=None, currency=None):
        code, sales = self._sales_in(currency)
        rows = []
        for flag in (False, True):  # both rows, always: B2C then B2B
            rows.append({"isBusiness": flag, "label": _business(flag),
                         "totalAmount": to_display(sum(p["total"] for p in sales
                                                       if p["order"]["business"] == flag), code),
                         "orderCount": sum(1 for o in self.orders if o["currency"] == code
                                           and o["business"] == flag)})
        return rows

    def revenueByState(self, info=None, country=None, currency=None):
        code, sales = self._sales_in(currency)
        wanted = country.strip().upper() if country else None
        sales = [p for p in sales if p["order"]["state"]
                 and wanted in (None, (p["order"]["country"] or "").upper())]
        return _amount_groups(sales, lambda p: p["order"]["state"], "state", code)


def _amount_groups(sales, key, name: str, currency: str) -> list[dict]:
    """{name, totalAmount, paymentCount} per key, the largest amount first."""
    groups: dict = {}
    for p in sales:
        entry = groups.setdefault(key(p), [0, 0])
        entry[0] += p["total"]
        entry[1] += 1
    return [{name: k, "totalAmount": to_display(total, currency), "paymentCount": n}
            for k, (total, n) in sorted(groups.items(), key=lambda i: (-i[1][0], str(i[0])))]


# -- paymentStatistics ---------------------------------------------------------------------------
class PaymentStatistics(_Analysis):
    """Payments made in the window; `filter.status` is the payment's status."""

    def __init__(self, data: Dataset, window: Window):
        super().__init__(data, window)
        w = window
        self.payments = [p for p in data.payments if w.holds(p["at"])
                         and w.currency in (None, p["currency"])
                         and w.status in (None, p["status"])]
        self.succeeded = [p for p in self.payments if p["status"] == "succeeded"]
        ids = {p["id"] for p in self.payments}
        # The refunds asked for these payments (whenever the ticket was opened).
        self.tickets = [t for t in data.tickets if t["paymentId"] in ids]

    def successRate(self, info=None):
        statuses = [p["status"] for p in self.payments]
        succeeded = statuses.count("succeeded")
        return {"totalAttempts": len(statuses), "succeeded": succeeded,
                "failed": statuses.count("failed"), "pending": statuses.count("pending"),
                "successRate": percent(succeeded, len(statuses))}

    def failedReasons(self, info=None):
        failed = [p["failureReason"] or "unknown" for p in self.payments if p["status"] == "failed"]
        return [dict(row, percentage=percent(row["count"], len(failed)))
                for row in _count_rows(failed, "reason")]

    def refunds(self, info=None):
        done = [t for t in self.tickets if t["status"] == "succeeded"]
        amounts: dict[str, list] = {}
        for ticket in done:
            entry = amounts.setdefault(ticket["currency"], [0, set()])
            entry[0] += ticket["amount"]
            entry[1].add(ticket["paymentId"])
        refunded = {t["paymentId"] for t in done}
        return {"totalCount": len(self.tickets), "succeededCount": len(done),
                "pendingCount": sum(1 for t in self.tickets if t["status"] in TICKET_OPEN),
                "failedCount": sum(1 for t in self.tickets if t["status"] == "failed"),
                "amountByCurrency": [{"currency": c, "totalAmount": to_display(total, c),
                                      "paymentCount": len(paid)}
                                     for c, (total, paid) in sorted(amounts.items())],
                "refundRate": percent(len(refunded & {p["id"] for p in self.succeeded}),
                                      len(self.succeeded))}

    def _shares(self, payments, key, name: str) -> list[dict]:
        # Grouped by (key, currency): a row's totalAmount is one currency's; the percentage is
        # the row's share of the payments counted.
        groups: dict = {}
        for p in payments:
            entry = groups.setdefault((key(p), p["currency"]), [0, 0])
            entry[0] += 1
            entry[1] += p["total"]
        return [{name: k, "currency": c, "count": n, "totalAmount": to_display(total, c),
                 "percentage": percent(n, len(payments))}
                for (k, c), (n, total) in sorted(groups.items(),
                                                 key=lambda i: (-i[1][0], i[0][0], i[0][1]))]

    def methodDistribution(self, info=None):
        return self._shares(self.succeeded, lambda p: p["method"] or "unknown", "methodType")

    def cardBrandDistribution(self, info=None):
        # The mock's payments record no card brand (Payment.cardInfo.brand is null): "unknown".
        cards = [p for p in self.succeeded if p["method"] == "card"]
        return self._shares(cards, lambda p: p["brand"] or "unknown", "brand")

    def taxSummary(self, info=None):
        groups: dict[str, list[int]] = {}
        for p in self.succeeded:
            entry = groups.setdefault(p["currency"], [0, 0, 0, 0])
            entry[0] += p["tax"]
            entry[1] += p["subtotal"]
            entry[2] += p["total"]
            entry[3] += 1
        return [{"currency": c, "totalTax": to_display(tax, c),
                 "totalPreTax": to_display(pre, c), "totalAmount": to_display(total, c),
                 "paymentCount": n} for c, (tax, pre, total, n) in sorted(groups.items())]

    def preTaxRevenueByCurrency(self, info=None):
        return _sum_by_currency(self.succeeded, "subtotal")

    def settlementRevenueByCurrency(self, info=None):
        refunded: dict[str, int] = {}
        for ticket in self.tickets:
            if ticket["status"] == "succeeded":
                currency = ticket["currency"]
                refunded[currency] = refunded.get(currency, 0) + ticket["amount"]
        return [dict(row, totalAmount=to_display(
            to_minor(row["totalAmount"], row["currency"]) - refunded.get(row["currency"], 0),
            row["currency"])) for row in _sum_by_currency(self.succeeded)]


# -- productStatistics ---------------------------------------------------------------------------
class ProductStatistics(_Analysis):
    """Orders made in the window, by product type and by product; revenue from the sales."""

    def _typed(self, kind: str) -> list:
        return [o for o in self.orders if o["type"] == kind]

    def onetimeCountsByStatus(self, info=None):
        return _count_rows((o["status"] for o in self._typed("onetime")), "status")

    def subscriptionCountsByStatus(self, info=None):
        return _count_rows((o["status"] for o in self._typed("subscription")), "status")

    def onetimeTotalCount(self, info=None):
        return len(self._typed("onetime"))

    def subscriptionTotalCount(self, info=None):
        return len(self._typed("subscription"))

    def _products(self, currency: str | None) -> dict:
        """(productId, currency) -> orders, revenue, the newest order (its name and type)."""
        groups: dict = {}

        def entry(order):
            key = (order["productId"], order["currency"])
            found = groups.setdefault(key, {"orders": 0, "revenue": 0, "newest": order})
            if (order["at"] or 0) > (found["newest"]["at"] or 0):
                found["newest"] = order
            return found

        for order in self.orders:
            if currency in (None, order["currency"]):
                entry(order)["orders"] += 1
        for sale in self.sales:
            if currency in (None, sale["currency"]):
                entry(sale["order"])["revenue"] += sale["total"]
        return groups

    @staticmethod
    def _ranking(key, found) -> dict:
        product, currency = key
        return {"productId": product, "productType": found["newest"]["type"],
                "productName": found["newest"]["productName"], "orderCount": found["orders"],
                "totalRevenue": to_display(found["revenue"], currency), "currency": currency}

    def topByOrderCount(self, info=None, limit=10):
        # A product sold in two currencies is two rows (its revenue is one currency's); ties go
        # by product id and currency (revenues in different currencies do not compare).
        ranked = sorted(self._products(self.window.currency).items(),
                        key=lambda i: (-i[1]["orders"], i[0]))
        return [self._ranking(k, v) for k, v in ranked[:_limit(limit)]]

    def topByRevenue(self, info=None, limit=10, currency=None):
        ranked = sorted(self._products(self._currency(currency)).items(),
                        key=lambda i: (-i[1]["revenue"], -i[1]["orders"], i[0]))
        return [self._ranking(k, v) for k, v in ranked[:_limit(limit)]]

    def revenueContribution(self, info=None, currency=None):
        code = self._currency(currency)
        ranked = sorted(((k, v) for k, v in self._products(code).items() if v["revenue"] > 0),
                        key=lambda i: (-i[1]["revenue"], i[0]))
        total = sum(v["revenue"] for _, v in ranked)
        rows, running = [], 0
        for (product, _), found in ranked:
            running += found["revenue"]
            rows.append({"productId": product, "productType": found["newest"]["type"],
                         "productName": found["newest"]["productName"],
                         "revenue": to_display(found["revenue"], code),
                         "contributionPercentage": percent(found["revenue"], total),
                         "cumulativePercentage": percent(running, total)})
        return rows


# -- trendAnalysis -------------------------------------------------------------------------------
def _growth(current, previous) -> float | None:
    if previous is None or previous == 0:
        return None  # growth from nothing has no rate
    return percent(current - previous, previous)


class TrendAnalysis(_Analysis):
    """Period over period: each period against the one before it in the window (the first has
    no previous value: what lies before the window is not looked at)."""

    def orderGrowth(self, info=None, granularity="MONTH"):
        rows, previous = [], None
        for label, orders in self._by_period(self.orders, granularity).items():
            rows.append({"period": label, "currentValue": len(orders), "previousValue": previous,
                         "growthRate": _growth(len(orders), previous)})
            previous = len(orders)
        return rows

    def _revenue_series(self, granularity, currency) -> tuple[str, list[tuple[str, int]]]:
        code = self._currency(currency)
        sales = [p for p in self.sales if p["currency"] == code]
        return code, [(label, sum(p["total"] for p in rows))
                      for label, rows in self._by_period(sales, granularity).items()]

    def revenueGrowth(self, info=None, granularity="MONTH", currency=None):
        code, series = self._revenue_series(granularity, currency)
        rows, previous = [], None
        for label, amount in series:
            rows.append({"period": label, "currentValue": to_display(amount, code),
                         "previousValue": None if previous is None else to_display(previous, code),
                         "growthRate": _growth(amount, previous)})
            previous = amount
        return rows

    def cumulativeRevenue(self, info=None, granularity="MONTH", currency=None):
        code, series = self._revenue_series(granularity, currency)
        rows, running = [], 0
        for label, amount in series:
            running += amount
            rows.append({"period": label, "periodValue": to_display(amount, code),
                         "cumulativeValue": to_display(running, code)})
        return rows

    def _moving(self, records, window_days, value) -> list[tuple[str, int, Fraction]]:
        """(date, the day's value, the mean of the last windowDays days' values): the window
        is trailing, with the day itself, and shorter at the range's start (the days before
        the range are not looked at)."""
        days = self._days(window_days)
        slots = {label: [] for label, _, _ in days}
        for record in records:
            label = period_of(record["at"], "DAY")
            if label in slots:
                slots[label].append(record)
        daily = [value(slots[label]) for label, _, _ in days]
        rows = []
        for index, (label, _, _) in enumerate(days):
            trailing = daily[max(0, index - window_days + 1):index + 1]
            rows.append((label, daily[index], Fraction(sum(trailing), len(trailing))))
        return rows

    def orderMovingAverage(self, info=None, windowDays=7):
        return [{"date": day, "dailyValue": n, "movingAverage": _two(mean)}
                for day, n, mean in self._moving(self.orders, windowDays, len)]

    def revenueMovingAverage(self, info=None, windowDays=7, currency=None):
        code = self._currency(currency)
        sales = [p for p in self.sales if p["currency"] == code]
        return [{"date": day, "dailyValue": to_display(amount, code),
                 "movingAverage": to_display(_round(mean), code)}
                for day, amount, mean in self._moving(sales, windowDays,
                                                      lambda rows: sum(p["total"] for p in rows))]


# -- distributionAnalysis ------------------------------------------------------------------------
PERCENTILES = {"p10": Fraction(10, 100), "p25": Fraction(25, 100), "p50": Fraction(50, 100),
               "p75": Fraction(75, 100), "p90": Fraction(90, 100), "p95": Fraction(95, 100),
               "p99": Fraction(99, 100)}


class DistributionAnalysis(_Analysis):
    """Order amounts: the totals of the sales (each succeeded payment, tax included)."""

    def _amounts(self, currency) -> tuple[str, list[int]]:
        code = self._currency(currency)
        return code, [p["total"] for p in self.sales if p["currency"] == code]

    def orderAmountPercentiles(self, info=None, currency=None):
        code, amounts = self._amounts(currency)
        if not amounts:
            return dict({name: None for name in PERCENTILES}, min=None, max=None, avg=None,
                        stddev=None, count=0)
        ordered = sorted(amounts)
        row = {name: to_display(_round(_percentile(ordered, share)), code)
               for name, share in PERCENTILES.items()}
        row.update(min=to_display(ordered[0], code), max=to_display(ordered[-1], code),
                   avg=to_display(_round(_mean(ordered)), code),
                   stddev=to_display(_stddev(ordered), code), count=len(ordered))
        return row

    def aovTrend(self, info=None, granularity="MONTH", currency=None):
        code = self._currency(currency)
        sales = [p for p in self.sales if p["currency"] == code]
        rows = []
        for label, mine in self._by_period(sales, granularity).items():
            revenue, orders = sum(p["total"] for p in mine), len({p["order"]["id"] for p in mine})
            rows.append({"period": label, "orderCount": orders,
                         "totalRevenue": to_display(revenue, code),
                         "averageOrderValue": to_display(
                             _round(Fraction(revenue, orders)) if orders else 0, code)})
        return rows

    def orderAmountBuckets(self, info=None, currency=None, bucketCount=10):
        code, amounts = self._amounts(currency)
        return _buckets(amounts, bucketCount, code)


# -- customerAnalysis ----------------------------------------------------------------------------
class CustomerAnalysis(_Analysis):
    """Customers are buyers (by e-mail) with a sale in the window; a purchase is a sale (a
    succeeded payment, renewals included). History (a buyer's first purchase, an earlier one) is
    every succeeded payment of the scope, whenever it was made."""

    def __init__(self, data: Dataset, window: Window):
        super().__init__(data, window)
        self.first: dict[str, int] = {}
        self.history: dict[str, list[int]] = {}
        for p in data.payments:
            buyer = p["order"]["buyer"]
            if p["status"] == "succeeded" and buyer:
                self.first[buyer] = min(self.first.get(buyer, p["at"]), p["at"])
                self.history.setdefault(buyer, []).append(p["at"])
        self.purchases = [p for p in self.sales if p["order"]["buyer"]]

    def cohortRetention(self, info=None, granularity="MONTH"):
        # A cohort: the buyers whose first purchase ever falls in one period of the window;
        # offset N: how many of them bought again N periods later (offset 0 is all of them).
        slots = self._periods(granularity)
        index = {label: i for i, (label, _, _) in enumerate(slots)}
        cohorts: dict[int, set] = {}
        active: dict[int, set] = {}
        for p in self.purchases:
            buyer = p["order"]["buyer"]
            if not self.window.holds(self.first[buyer]):
                continue  # an older customer: their cohort is before the window
            cohorts.setdefault(index[period_of(self.first[buyer], granularity)], set()).add(buyer)
            active.setdefault(index[period_of(p["at"], granularity)], set()).add(buyer)
        rows = []
        for start in sorted(cohorts):
            members = cohorts[start]
            retention = []
            for offset in range(len(slots) - start):
                count = len(members & active.get(start + offset, set()))
                retention.append({"periodOffset": offset, "activeCustomers": count,
                                  "retentionRate": percent(count, len(members))})
            rows.append({"cohortPeriod": slots[start][0], "cohortSize": len(members),
                         "retention": retention})
        return rows

    def _spent(self, currency: str) -> dict[str, dict]:
        spent: dict[str, dict] = {}
        for p in self.purchases:
            if p["currency"] != currency:
                continue
            entry = spent.setdefault(p["order"]["buyer"], {"total": 0, "orders": set(),
                                                           "first": p, "last": p})
            entry["total"] += p["total"]
            entry["orders"].add(p["order"]["id"])
            if p["at"] < entry["first"]["at"]:
                entry["first"] = p
            if p["at"] > entry["last"]["at"]:
                entry["last"] = p
        return spent

    def ltvDistribution(self, info=None, currency=None, bucketCount=10):
        # A customer's lifetime value here: what they paid in the window, in this currency.
        code = self._currency(currency)
        values = [entry["total"] for entry in self._spent(code).values()]
        return {"averageLtv": None if not values else to_display(_round(_mean(values)), code),
                "medianLtv": None if not values else to_display(_round(_median(values)), code),
                "buckets": _buckets(values, bucketCount, code)}

    def purchaseFrequency(self, info=None):
        per_buyer: dict[str, int] = {}
        for p in self.purchases:
            per_buyer[p["order"]["buyer"]] = per_buyer.get(p["order"]["buyer"], 0) + 1
        counts: dict[int, int] = {}
        for n in per_buyer.values():
            counts[n] = counts.get(n, 0) + 1
        return [{"purchaseCount": n, "customerCount": c, "percentage": percent(c, len(per_buyer))}
                for n, c in sorted(counts.items())]

    def repeatPurchaseRate(self, info=None, granularity="MONTH"):
        # A repeat buyer of a period bought in it and had bought before it (ever).
        rows = []
        for label, first_ms, _ in self._periods(granularity):
            buyers = {p["order"]["buyer"] for p in self.purchases
                      if period_of(p["at"], granularity) == label}
            repeat = {b for b in buyers if any(at < first_ms for at in self.history.get(b, ()))}
            rows.append({"period": label, "totalBuyers": len(buyers),
                         "repeatBuyers": len(repeat), "repeatRate": percent(len(repeat),
                                                                            len(buyers))})
        return rows

    def topCustomers(self, info=None, limit=10, currency=None):
        code = self._currency(currency)
        ranked = sorted(self._spent(code).items(),
                        key=lambda i: (-i[1]["total"], -len(i[1]["orders"]), i[0]))
        return [{"buyerEmail": buyer, "totalSpent": to_display(entry["total"], code),
                 "orderCount": len(entry["orders"]),
                 "firstPurchaseDate": entry["first"]["createdAt"],
                 "lastPurchaseDate": entry["last"]["createdAt"]}
                for buyer, entry in ranked[:_limit(limit)]]


# -- taxAnalysis ---------------------------------------------------------------------------------
class TaxAnalysis(_Analysis):
    """Tax on the succeeded payments made in the window (`filter.status`: the payment's)."""

    def _taxed(self, currency) -> tuple[str, list]:
        code = self._currency(currency)
        w = self.window
        return code, [p for p in self.data.payments if p["status"] == "succeeded"
                      and w.holds(p["at"]) and p["currency"] == code
                      and w.currency in (None, code) and w.status in (None, p["status"])]

    @staticmethod
    def _groups(payments, key, name: str, code: str) -> list[dict]:
        groups: dict = {}
        for p in payments:
            entry = groups.setdefault(key(p), [0, 0, 0])
            entry[0] += p["tax"]
            entry[1] += p["total"]
            entry[2] += 1
        return [{name: k, "totalTax": to_display(tax, code), "totalAmount": to_display(total, code),
                 "paymentCount": n}
                for k, (tax, total, n) in sorted(groups.items(),
                                                 key=lambda i: (-i[1][0], -i[1][1], str(i[0])))]

    def byCategory(self, info=None, currency=None):
        code, payments = self._taxed(currency)
        return self._groups(payments, lambda p: p["taxCategory"] or "unknown", "taxCategory", code)

    def byRateGroup(self, info=None, currency=None):
        # The order's rate, in percent as the order writes it ("19.00").
        code, payments = self._taxed(currency)
        return self._groups(payments, lambda p: p["taxRate"] or "unknown", "taxRate", code)

    def byCountry(self, info=None, currency=None):
        code, payments = self._taxed(currency)
        return self._groups(payments, lambda p: p["order"]["country"] or "unknown", "country",
                            code)

    def b2bVsB2c(self, info=None, currency=None):
        code, payments = self._taxed(currency)
        rows = []
        for flag in (False, True):
            mine = [p for p in payments if p["order"]["business"] == flag]
            rows.append({"isBusiness": flag, "label": _business(flag),
                         "totalTax": to_display(sum(p["tax"] for p in mine), code),
                         "totalAmount": to_display(sum(p["total"] for p in mine), code),
                         "orderCount": len({p["order"]["id"] for p in mine})})
        return rows

    def effectiveTaxRateTrend(self, info=None, granularity="MONTH", currency=None):
        # The effective rate of a period: its tax over its pre-tax amounts (amount-weighted).
        code, payments = self._taxed(currency)
        return [{"period": label, "paymentCount": len(mine),
                 "avgTaxRate": percent(sum(p["tax"] for p in mine),
                                       sum(p["subtotal"] for p in mine))}
                for label, mine in self._by_period(payments, granularity).items()]

    def taxAmountByPeriod(self, info=None, granularity="MONTH", currency=None):
        code, payments = self._taxed(currency)
        return [{"period": label, "paymentCount": len(mine),
                 "totalTax": to_display(sum(p["tax"] for p in mine), code)}
                for label, mine in self._by_period(payments, granularity).items()]


# -- subscriptionAnalysis ------------------------------------------------------------------------
class SubscriptionAnalysis(_Analysis):
    """Subscription orders made in the window, read by their `status`. Dates the renewals work
    brings (canceledAt, periodNumber) are used when present: a canceled or expired subscription
    without canceledAt ended at its updatedAt."""

    def __init__(self, data: Dataset, window: Window):
        super().__init__(data, window)
        self.subs = [o for o in self.orders if o["type"] == "subscription"]

    @staticmethod
    def _ended_at(order) -> int | None:
        if order["status"] not in ENDED:
            return None
        return order["canceledAt"] or order["updatedAt"]

    def billingPeriodDistribution(self, info=None, currency=None):
        code = self._currency(currency)
        subs = [o for o in self.subs if o["currency"] == code]
        groups: dict[str, list] = {}
        for order in subs:
            groups.setdefault(order["billingPeriod"] or "unknown", []).append(order["id"])
        rows = []
        for period, ids in sorted(groups.items(), key=lambda i: (-len(i[1]), i[0])):
            # What these subscriptions paid in the window.
            paid = sum(p["total"] for p in self.sales if p["order"]["id"] in ids)
            rows.append({"billingPeriod": period, "count": len(ids),
                         "totalAmount": to_display(paid, code),
                         "percentage": percent(len(ids), len(subs))})
        return rows

    def activeCount(self, info=None):
        return sum(1 for o in self.subs if o["status"] in SERVING)

    def cancellationStats(self, info=None):
        canceled = [o for o in self.subs if o["status"] == "canceled"]
        # Lifetime: from the order's creation to its cancellation, in days.
        days = [Fraction(self._ended_at(o) - o["at"], DAY_MS) for o in canceled]
        return {"totalSubscriptions": len(self.subs), "canceledCount": len(canceled),
                "cancellationRate": percent(len(canceled), len(self.subs)),
                "avgLifetimeDays": None if not days else _two(_mean(days)),
                "medianLifetimeDays": None if not days else _two(_median(days))}

    def _history(self) -> list:
        """Every subscription of the scope (whenever made) in filter.currency: the cancellation
        and churn series date events, not orders."""
        return [o for o in self.data.orders if o["type"] == "subscription"
                and self.window.currency in (None, o["currency"])]

    def cancellationTrend(self, info=None, granularity="MONTH"):
        slots = {label: 0 for label, _, _ in self._periods(granularity)}
        for order in self._history():
            if order["status"] == "canceled" and self.window.holds(self._ended_at(order)):
                slots[period_of(self._ended_at(order), granularity)] += 1
        return [{"period": label, "canceledCount": n} for label, n in slots.items()]

    def churnRate(self, info=None, granularity="MONTH"):
        # startActive: activated (first charge) before the period and not ended before it;
        # churned: those of them that ended (canceled or expired) in the period.
        history = self._history()
        rows = []
        for label, first_ms, last_ms in self._periods(granularity):
            base = [o for o in history if self.data.activated.get(o["id"]) is not None
                    and self.data.activated[o["id"]] < first_ms
                    and (self._ended_at(o) is None or self._ended_at(o) >= first_ms)]
            churned = sum(1 for o in base if self._ended_at(o) is not None
                          and self._ended_at(o) <= last_ms)
            rows.append({"period": label, "startActive": len(base), "churned": churned,
                         "churnRate": percent(churned, len(base))})
        return rows

    def _trial(self, order) -> dict | None:
        """A subscription that started a trial: its state (active, converted, neither)."""
        start = self.data.activated.get(order["id"])
        if not order["trialDays"] or start is None:
            return None  # no trial, or never started (pending, closed, canceled unpaid)
        ends = start + order["trialDays"] * DAY_MS
        if self.data.now < ends and order["status"] not in ENDED + ("closed",):
            return {"active": True, "converted": False}
        # Converted: charged after the trial (a succeeded payment dated after its end, or a
        # periodNumber of 1 or more: the trial is period 0), or still served past it.
        charged = any(p["order"]["id"] == order["id"] and p["status"] == "succeeded"
                      and p["at"] >= ends for p in self.data.payments) \
            or (order["periodNumber"] or 0) >= 1
        return {"active": False,
                "converted": charged or order["status"] in ("active", "canceling")}

    @staticmethod
    def _conversion(trials: list) -> dict:
        converted = sum(1 for t in trials if t["converted"])
        active = sum(1 for t in trials if t["active"])
        # The rate is over the trials that have ended (an active one has not decided yet).
        return {"totalTrials": len(trials), "convertedCount": converted, "activeTrials": active,
                "conversionRate": percent(converted, len(trials) - active)}

    def trialConversion(self, info=None):
        return self._conversion([t for t in map(self._trial, self.subs) if t])

    def trialConversionByProduct(self, info=None):
        groups: dict[str, dict] = {}
        for order in self.subs:
            trial = self._trial(order)
            if trial:
                entry = groups.setdefault(order["productId"], {"trials": [], "newest": order})
                entry["trials"].append(trial)
                if order["at"] > entry["newest"]["at"]:
                    entry["newest"] = order
        rows = []
        for product, entry in sorted(groups.items()):
            figures = self._conversion(entry["trials"])
            figures.pop("activeTrials")
            rows.append(dict(figures, productId=product,
                             productName=entry["newest"]["productName"]))
        return rows


# -- refundTicketAnalysis ------------------------------------------------------------------------
class RefundTicketAnalysis(_Analysis):
    """Refund tickets opened in the window (`filter.currency`: the requested amount's,
    `filter.status`: the ticket's)."""

    def __init__(self, data: Dataset, window: Window):
        super().__init__(data, window)
        w = window
        self.tickets = [t for t in data.tickets if w.holds(t["at"])
                        and w.currency in (None, t["currency"]) and w.status in (None, t["status"])]

    def reasonDistribution(self, info=None, currency=None):
        code = self._currency(currency)
        mine = [t for t in self.tickets if t["currency"] == code]
        groups: dict[str, list[int]] = {}
        for ticket in mine:
            entry = groups.setdefault(ticket["reason"], [0, 0])
            entry[0] += 1
            entry[1] += ticket["amount"]
        return [{"reason": reason, "count": n, "totalAmount": to_display(total, code),
                 "percentage": percent(n, len(mine))}
                for reason, (n, total) in sorted(groups.items(),
                                                 key=lambda i: (-i[1][0], -i[1][1], i[0]))]

    def statusDistribution(self, info=None):
        return [dict(row, percentage=percent(row["count"], len(self.tickets)))
                for row in _count_rows((t["status"] for t in self.tickets), "status")]

    def reviewEfficiency(self, info=None):
        # Hours from opening to Waffo's review (approve or reject). A merchant's own ticket is
        # approved as it is made, with no review, so only customers' tickets count.
        hours = sorted(Fraction(t["reviewedAt"] - t["at"], 3_600_000) for t in self.tickets
                       if t["reviewedAt"] is not None and t["submitterType"] == "customer")
        if not hours:
            return {"avgHours": None, "medianHours": None, "p90Hours": None, "totalReviewed": 0}
        return {"avgHours": _two(_mean(hours)), "medianHours": _two(_median(hours)),
                "p90Hours": _two(_percentile(hours, Fraction(9, 10))),
                "totalReviewed": len(hours)}

    def ticketTrend(self, info=None, granularity="MONTH"):
        # resolved: ended (succeeded, failed, rejected, cancelled); approved: got past the
        # review (approved, processing, succeeded, failed).
        return [{"period": label, "totalCreated": len(mine),
                 "resolvedCount": sum(1 for t in mine if t["status"] in TICKET_RESOLVED),
                 "approvedCount": sum(1 for t in mine if t["status"] in TICKET_APPROVED),
                 "rejectedCount": sum(1 for t in mine if t["status"] == "rejected")}
                for label, mine in self._by_period(self.tickets, granularity).items()]

    def approvalRate(self, info=None):
        approved = sum(1 for t in self.tickets if t["status"] in TICKET_APPROVED)
        rejected = sum(1 for t in self.tickets if t["status"] == "rejected")
        return {"approved": approved, "rejected": rejected,
                "rate": percent(approved, approved + rejected)}

    def processingSuccessRate(self, info=None):
        succeeded = sum(1 for t in self.tickets if t["status"] == "succeeded")
        failed = sum(1 for t in self.tickets if t["status"] == "failed")
        return {"succeeded": succeeded, "failed": failed,
                "rate": percent(succeeded, succeeded + failed)}
