"""Waffo's GraphQL analytics queries over HTTP (Flask test client), against a mock populated
through the API: orders in three currencies over several days (paid, declined, canceled, unpaid,
a trial), refund tickets (refunded, rejected, a merchant's). Each figure is checked against what
the test made, worked out here from its own records (amounts read back from the `payments` list),
never copied from the answer. Then the filters (time range, currency, status), the scopes (store,
environment, a customer's token), the errors, and the guide's examples as written."""
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from .helpers import CANCEL_ONETIME, CANCEL_SUBSCRIPTION, PRODUCTS
from .test_graphql import ACME, CONTRACT, DE, GQL, buy, query

DAY, HOUR = 86400, 3600
# The suite's clock starts at 2026-09-21T14:13:20Z (day 0); RANGE leaves out day 0 and takes in
# the whole of its end date.
RANGE = {"startDate": "2026-09-22", "endDate": "2026-09-30"}
ALL = {"startDate": "2026-09-01T00:00:00Z", "endDate": "2026-09-30T23:59:59Z"}
RANGE_DAYS = [f"2026-09-{d}" for d in range(22, 31)]
US_NY = {"country": "US", "isBusiness": False, "state": "NY", "postcode": "10001"}
US_TX = {"country": "US", "isBusiness": False, "state": "TX", "postcode": "73301"}
US_CA_BUSINESS = {"country": "US", "isBusiness": True, "state": "CA", "postcode": "94105",
                  "businessName": "Carol Co"}
DE_BUSINESS = {"country": "DE", "isBusiness": True, "businessName": "Erin GmbH",
               "taxId": "DE123456789"}  # an EU business with a VAT id: reverse charge, 0 %
JP = {"country": "JP", "isBusiness": False}
TICKET = "/v1/actions/refund-ticket/create-ticket"


# -- arithmetic, done the test's own way -----------------------------------------------------------
def minor(text: str, currency: str) -> int:
    return int(Decimal(text) * (1 if currency == "JPY" else 100))


def money(amount: int, currency: str) -> str:
    return str(amount) if currency == "JPY" else f"{Decimal(amount) / 100:.2f}"


def pct(part, whole) -> float:
    if not whole:
        return 0.0
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def half_up(value: Fraction) -> int:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return int(exact.quantize(Decimal(1), ROUND_HALF_UP))


def interpolate(values: list, share: Fraction) -> Fraction:
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def total(entries, currency: str, field: str = "total") -> int:
    return sum(e[field] for e in entries if e["currency"] == currency)


# -- the shop --------------------------------------------------------------------------------------
def analytics(client, name, fields, time_range=RANGE, store=ACME, token=None, environment="test",
              **filter_fields):
    text = (f"query ($storeId: String, $filter: AnalyticsFilterInput!) {{ "
            f"{name}(storeId: $storeId, filter: $filter) {{ {fields} }} }}")
    variables = {"storeId": store, "filter": {"timeRange": time_range, **filter_fields}}
    return query(client, text, variables, token=token, environment=environment)[name]


def raw(client, text, variables=None):
    """An answer that may carry errors: still 200 and as the contract says."""
    status, payload, _ = client.api(GQL, {"query": text, **({"variables": variables}
                                                            if variables else {})})
    assert status == 200, payload
    assert CONTRACT.response_errors("graphql", 200, payload) == [], payload
    assert payload["errors"] and all(e["layer"] == "graphql" for e in payload["errors"])
    return payload


@pytest.fixture
def shop(client, app, clock):
    """Orders made over a week, and what became of them; each entry is the test's own record
    (buyer, currency, billing, product, key), with the order's status and its payment's amounts
    read back through the plain `orders` and `payments` lists."""
    made: dict[str, dict] = {}

    def order(key, product, currency, buyer, billing=DE, **kw):
        order_id, payment_id, token = buy(client, app, product, currency, buyer, billing=billing,
                                          **kw)
        made[key] = {"key": key, "id": order_id, "payment": payment_id, "buyer": buyer,
                     "currency": currency, "billing": billing, "product": product,
                     "type": PRODUCTS[product]["type"]}
        return token

    def ticket(key, amount, reason, token=None):
        entry = made[key]
        body = {"paymentId": entry["payment"], "reason": reason,
                "requestedAmount": {"amount": amount, "currency": entry["currency"]}}
        status, payload, _ = (client.bearer(TICKET, body, client.token(entry["buyer"])) if token
                              else client.api(TICKET, body))
        assert status == 200, payload
        return payload["data"]["ticket"]["id"]

    def review(ticket_id, action):
        assert client.flask.post(f"/_mock/waffo/refund-tickets/{ticket_id}/{action}",
                                 json={"reason": "No"}).status_code == 200

    order("o1", "ebook", "EUR", "alice@example.com")                  # day 0: before RANGE
    clock.advance(2 * DAY)                                            # day 2: 2026-09-23
    order("o2", "course", "EUR", "alice@example.com")                 # alice comes back
    order("o3", "ebook", "USD", "bob@example.com", US_NY)
    order("o4", "course", "USD", "carol@example.com", US_CA_BUSINESS,
          outcome={"outcome": "declined", "reason": "insufficient_funds"})  # pending, failed
    token = order("o5", "ebook", "EUR", "dave@example.com", pay=False)
    assert client.bearer(CANCEL_ONETIME, {"orderId": made["o5"]["id"]}, token)[0] == 200
    clock.advance(3 * DAY)                                            # day 5: 2026-09-26
    order("o6", "ebook", "EUR", "erin@example.com", DE_BUSINESS)
    order("o7", "ebook", "JPY", "hiro@example.com", JP)
    order("s1", "pro_monthly", "USD", "frank@example.com", US_TX)
    order("s2", "pro_monthly", "USD", "gina@example.com", US_TX, pay=False)
    order("s3", "pro_monthly", "USD", "ivan@example.com", US_TX, withTrial=True)  # a trial
    tickets = {"t1": ticket("o2", "20.00", "Wrong course", token=True),
               "t2": ticket("o3", "5.00", "Goodwill"),  # the merchant's: refunded at once
               "t3": ticket("o6", "27.00", "Changed mind", token=True)}
    clock.advance(2 * HOUR)
    review(tickets["t3"], "reject")                                   # reviewed after 2 hours
    clock.advance(3 * HOUR)
    review(tickets["t1"], "approve")                                  # after 5 hours: refunded
    clock.advance(DAY - 5 * HOUR)                                     # day 6: 2026-09-27
    gina = client.token("gina@example.com")
    assert client.bearer(CANCEL_SUBSCRIPTION, {"orderId": made["s2"]["id"]}, gina)[0] == 200

    seen = query(client, """query { orders(limit: 100) { id status createdAt }
        payments(limit: 100) { id status currency failureReason paymentMethod createdAt
          snapshotAmountDetails { subtotal taxAmount total taxCategory } } }""")
    orders = {o["id"]: o for o in seen["orders"]}
    payments = {p["id"]: p for p in seen["payments"]}
    for entry in made.values():
        order_row, pay = orders[entry["id"]], payments[entry["payment"]]
        amounts = pay["snapshotAmountDetails"]
        entry.update(status=order_row["status"], createdAt=order_row["createdAt"],
                     paid=pay["status"] == "succeeded", payStatus=pay["status"],
                     failureReason=pay["failureReason"], method=pay["paymentMethod"],
                     taxCategory=amounts["taxCategory"],
                     **{k: minor(amounts[f], entry["currency"]) for k, f in (
                         ("subtotal", "subtotal"), ("tax", "taxAmount"), ("total", "total"))})
    # What the API did with them (the figures below rest on it).
    assert {k: e["status"] for k, e in made.items()} == {
        "o1": "completed", "o2": "completed", "o3": "completed", "o4": "pending",
        "o5": "canceled", "o6": "completed", "o7": "completed", "s1": "active",
        "s2": "canceled", "s3": made["s3"]["status"]}
    assert made["s3"]["status"] in ("active", "trialing") and made["o4"]["payStatus"] == "failed"
    assert made["o6"]["tax"] == 0  # reverse charge
    return {"orders": made, "tickets": tickets}


def recent(shop):
    """The orders RANGE holds: all but day 0's."""
    return [e for e in shop["orders"].values() if e["createdAt"] >= "2026-09-22"]


def sales(entries, currency=None):
    return [e for e in entries if e["paid"] and currency in (None, e["currency"])]


# -- the queries -----------------------------------------------------------------------------------
def test_order_statistics(client, shop):
    mine = recent(shop)
    stats = analytics(client, "orderStatistics", """totalCount countsByStatus { status count }
        countsByPeriod(granularity: DAY) { period count }
        revenueByCurrency { currency totalAmount paymentCount }
        revenueByPeriod(granularity: MONTH) { period currency totalAmount paymentCount }
        buyerMetrics { totalBuyers newBuyers returningBuyers }
        revenueByCountry(currency: "usd") { country totalAmount paymentCount }
        ordersByCountry { country count }
        b2bVsB2cBreakdown(currency: "usd") { isBusiness label totalAmount orderCount }
        revenueByState(country: "US", currency: "usd") { state totalAmount paymentCount }""")
    assert stats["totalCount"] == len(mine) == 9
    by_status = Counter(e["status"] for e in mine)
    assert {r["status"]: r["count"] for r in stats["countsByStatus"]} == by_status
    assert [r["count"] for r in stats["countsByStatus"]] == sorted(by_status.values(), reverse=True)
    per_day = Counter(e["createdAt"][:10] for e in mine)
    assert stats["countsByPeriod"] == [{"period": d, "count": per_day[d]} for d in RANGE_DAYS]
    currencies = sorted({e["currency"] for e in sales(mine)})
    assert currencies == ["EUR", "JPY", "USD"]
    assert stats["revenueByCurrency"] == [
        {"currency": c, "totalAmount": money(total(sales(mine, c), c), c),
         "paymentCount": len(sales(mine, c))} for c in currencies]
    # No currency named: one series per currency, never a sum across them.
    assert stats["revenueByPeriod"] == [
        {"period": "2026-09", "currency": c, "totalAmount": money(total(sales(mine, c), c), c),
         "paymentCount": len(sales(mine, c))} for c in currencies]
    buyers = {e["buyer"] for e in mine}
    before = {e["buyer"] for e in shop["orders"].values() if e not in mine}
    assert stats["buyerMetrics"] == {"totalBuyers": len(buyers),
                                     "newBuyers": len(buyers - before),
                                     "returningBuyers": len(buyers & before)}
    assert before & buyers == {"alice@example.com"}
    usd = sales(mine, "USD")
    assert stats["revenueByCountry"] == [{"country": "US", "totalAmount": money(
        total(usd, "USD"), "USD"), "paymentCount": len(usd)}]
    countries = Counter(e["billing"]["country"] for e in mine)
    assert {r["country"]: r["count"] for r in stats["ordersByCountry"]} == countries
    assert stats["b2bVsB2cBreakdown"] == [
        {"isBusiness": flag, "label": "B2B" if flag else "B2C",
         "totalAmount": money(total([e for e in usd if e["billing"]["isBusiness"] == flag],
                                    "USD"), "USD"),
         "orderCount": sum(1 for e in mine if e["currency"] == "USD"
                           and e["billing"]["isBusiness"] == flag)} for flag in (False, True)]
    states = {}
    for e in usd:
        states.setdefault(e["billing"]["state"], []).append(e)
    assert stats["revenueByState"] == sorted(
        ({"state": s, "totalAmount": money(total(rows, "USD"), "USD"), "paymentCount": len(rows)}
         for s, rows in states.items()), key=lambda r: -minor(r["totalAmount"], "USD"))


def test_the_time_range_currency_and_status_filters(client, shop):
    everything = list(shop["orders"].values())
    assert analytics(client, "orderStatistics", "totalCount", ALL)["totalCount"] == 10
    # A date as endDate takes in its whole day: day 2's orders (14:13 UTC) are in.
    day2 = [e for e in everything if e["createdAt"][:10] <= "2026-09-23"]
    assert analytics(client, "orderStatistics", "totalCount",
                     {"startDate": "2026-09-21", "endDate": "2026-09-23"})["totalCount"] \
        == len(day2) == 5
    # A date-time is an instant: a millisecond before day 2's orders leaves them out ...
    assert analytics(client, "orderStatistics", "totalCount",
                     {"startDate": "2026-09-21T00:00:00Z",
                      "endDate": "2026-09-23T14:13:19.999Z"})["totalCount"] == 1
    # ... and the start is inclusive (an offset is honoured: 16:13:20+02:00 is 14:13:20Z).
    assert analytics(client, "orderStatistics", "totalCount",
                     {"startDate": "2026-09-23T16:13:20+02:00", "endDate": "2026-09-30"})[
        "totalCount"] == 9
    # A range with nothing in it.
    empty = analytics(client, "orderStatistics", "totalCount revenueByCurrency { currency }",
                      {"startDate": "2026-10-01", "endDate": "2026-10-31"})
    assert empty == {"totalCount": 0, "revenueByCurrency": []}
    # currency keeps that currency's records (any case), for counts and amounts alike.
    euros = [e for e in recent(shop) if e["currency"] == "EUR"]
    stats = analytics(client, "orderStatistics", """totalCount
        revenueByCurrency { currency totalAmount paymentCount }
        revenueByCountry { country totalAmount }""", currency="eur")
    assert stats["totalCount"] == len(euros) == 3
    assert stats["revenueByCurrency"] == [{"currency": "EUR", "paymentCount": len(sales(euros)),
                                           "totalAmount": money(total(sales(euros), "EUR"), "EUR")}]
    # filter.currency is the default currency of the money fields.
    assert stats["revenueByCountry"] == [{"country": "DE", "totalAmount": money(
        total(sales(euros), "EUR"), "EUR")}]
    # status: the order's.
    completed = [e for e in recent(shop) if e["status"] == "completed"]
    assert analytics(client, "orderStatistics", "totalCount", status="completed")[
        "totalCount"] == len(completed) == 4
    # paymentStatistics reads it as the payment's.
    rate = analytics(client, "paymentStatistics",
                     "successRate { totalAttempts succeeded failed successRate }",
                     status="failed")["successRate"]
    assert rate == {"totalAttempts": 1, "succeeded": 0, "failed": 1, "successRate": 0.0}


def test_payment_statistics(client, shop):
    mine = recent(shop)
    stats = analytics(client, "paymentStatistics", """
        successRate { totalAttempts succeeded failed pending successRate }
        failedReasons { reason count percentage }
        refunds { totalCount succeededCount pendingCount failedCount
                  amountByCurrency { currency totalAmount paymentCount } refundRate }
        methodDistribution { methodType currency count totalAmount percentage }
        cardBrandDistribution { brand count totalAmount percentage }
        taxSummary { currency totalTax totalPreTax totalAmount paymentCount }
        preTaxRevenueByCurrency { currency totalAmount paymentCount }
        settlementRevenueByCurrency { currency totalAmount paymentCount }""")
    statuses = Counter(e["payStatus"] for e in mine)
    assert stats["successRate"] == {
        "totalAttempts": len(mine), "succeeded": statuses["succeeded"],
        "failed": statuses["failed"], "pending": statuses["pending"],
        "successRate": pct(statuses["succeeded"], len(mine))}
    assert (len(mine), statuses["succeeded"]) == (9, 6) and stats["successRate"]["successRate"] \
        == 66.67
    assert stats["failedReasons"] == [{"reason": "INSUFFICIENT_FUNDS", "count": 1,
                                       "percentage": 100.0}]
    # Tickets: o2's refunded (20.00 EUR), o3's by the merchant (5.00 USD), o6's rejected.
    paid = sales(mine)
    refunds = stats["refunds"]
    assert refunds == {"totalCount": 3, "succeededCount": 2, "pendingCount": 0,
                       "failedCount": 0,
                       "amountByCurrency": [{"currency": "EUR", "totalAmount": "20.00",
                                             "paymentCount": 1},
                                            {"currency": "USD", "totalAmount": "5.00",
                                             "paymentCount": 1}],
                       "refundRate": pct(2, len(paid))}
    methods = Counter((e["method"], e["currency"]) for e in paid)
    assert {(r["methodType"], r["currency"]): (r["count"], r["totalAmount"], r["percentage"])
            for r in stats["methodDistribution"]} == {
        (m, c): (n, money(total([e for e in paid if e["method"] == m], c), c), pct(n, len(paid)))
        for (m, c), n in methods.items()}
    # The mock records no card brand: every card payment is "unknown".
    assert {r["brand"] for r in stats["cardBrandDistribution"]} == {"unknown"}
    assert sum(r["count"] for r in stats["cardBrandDistribution"]) == len(paid)
    currencies = sorted({e["currency"] for e in paid})
    assert stats["taxSummary"] == [
        {"currency": c, "totalTax": money(total(paid, c, "tax"), c),
         "totalPreTax": money(total(paid, c, "subtotal"), c),
         "totalAmount": money(total(paid, c), c), "paymentCount": len(sales(paid, c))}
        for c in currencies]
    assert stats["preTaxRevenueByCurrency"] == [
        {"currency": c, "totalAmount": money(total(paid, c, "subtotal"), c),
         "paymentCount": len(sales(paid, c))} for c in currencies]
    refunded = {"EUR": 2000, "USD": 500}
    assert stats["settlementRevenueByCurrency"] == [
        {"currency": c, "totalAmount": money(total(paid, c) - refunded.get(c, 0), c),
         "paymentCount": len(sales(paid, c))} for c in currencies]


def test_product_statistics(client, shop):
    mine = recent(shop)
    stats = analytics(client, "productStatistics", """
        onetimeCountsByStatus { status count } subscriptionCountsByStatus { status count }
        onetimeTotalCount subscriptionTotalCount
        topByOrderCount(limit: 3) { productId productType productName orderCount totalRevenue currency }
        topByRevenue(limit: 10, currency: "usd") { productId orderCount totalRevenue currency }
        revenueContribution(currency: "eur") { productId productType productName revenue
                                               contributionPercentage cumulativePercentage }""")
    for kind, field in (("onetime", "onetime"), ("subscription", "subscription")):
        typed = [e for e in mine if e["type"] == kind]
        assert stats[f"{field}TotalCount"] == len(typed)
        assert {r["status"]: r["count"] for r in stats[f"{field}CountsByStatus"]} == Counter(
            e["status"] for e in typed)
    groups = {}
    for e in mine:
        group = groups.setdefault((PRODUCTS[e["product"]]["id"], e["currency"]),
                                  {"orders": 0, "revenue": 0, "product": e["product"]})
        group["orders"] += 1
        group["revenue"] += e["total"] if e["paid"] else 0
    ranked = sorted(groups.items(), key=lambda i: (-i[1]["orders"], i[0]))[:3]
    assert stats["topByOrderCount"] == [
        {"productId": pid, "productType": PRODUCTS[g["product"]]["type"],
         "productName": PRODUCTS[g["product"]]["name"], "orderCount": g["orders"],
         "totalRevenue": money(g["revenue"], c), "currency": c} for (pid, c), g in ranked]
    assert stats["topByOrderCount"][0]["productId"] == PRODUCTS["pro_monthly"]["id"]
    usd = sorted(((k, g) for k, g in groups.items() if k[1] == "USD"),
                 key=lambda i: (-i[1]["revenue"], -i[1]["orders"], i[0]))
    assert stats["topByRevenue"] == [{"productId": pid, "orderCount": g["orders"],
                                      "totalRevenue": money(g["revenue"], "USD"),
                                      "currency": "USD"} for (pid, _), g in usd]
    eur = sorted(((k, g) for k, g in groups.items() if k[1] == "EUR" and g["revenue"]),
                 key=lambda i: -i[1]["revenue"])
    whole = sum(g["revenue"] for _, g in eur)
    running, expected = 0, []
    for (pid, _), g in eur:
        running += g["revenue"]
        expected.append({"productId": pid, "productType": "onetime",
                         "productName": PRODUCTS[g["product"]]["name"],
                         "revenue": money(g["revenue"], "EUR"),
                         "contributionPercentage": pct(g["revenue"], whole),
                         "cumulativePercentage": pct(running, whole)})
    assert stats["revenueContribution"] == expected
    assert expected[-1]["cumulativePercentage"] == 100.0


def test_trend_analysis(client, shop):
    mine = recent(shop)
    stats = analytics(client, "trendAnalysis", """
        orderGrowth(granularity: DAY) { period currentValue previousValue growthRate }
        revenueGrowth(granularity: DAY, currency: "eur") { period currentValue previousValue growthRate }
        cumulativeRevenue(granularity: WEEK, currency: "usd") { period periodValue cumulativeValue }
        orderMovingAverage(windowDays: 3) { date dailyValue movingAverage }
        revenueMovingAverage(windowDays: 3, currency: "eur") { date dailyValue movingAverage }""")
    per_day = [sum(1 for e in mine if e["createdAt"][:10] == d) for d in RANGE_DAYS]
    growth = []
    for i, day in enumerate(RANGE_DAYS):
        before = per_day[i - 1] if i else None
        growth.append({"period": day, "currentValue": per_day[i], "previousValue": before,
                       "growthRate": pct(per_day[i] - before, before) if before else None})
    assert stats["orderGrowth"] == growth
    assert growth[2]["growthRate"] == -100.0  # day 2's four orders, none on the day after
    euros = [sum(e["total"] for e in sales(mine, "EUR") if e["createdAt"][:10] == d)
             for d in RANGE_DAYS]
    assert [(r["period"], r["currentValue"]) for r in stats["revenueGrowth"]] == [
        (d, money(v, "EUR")) for d, v in zip(RANGE_DAYS, euros)]
    # ISO weeks: 2026-09-22 is a Tuesday of week 39; the 28th opens week 40.
    usd_weeks = [sum(e["total"] for e in sales(mine, "USD") if e["createdAt"][:10] <= "2026-09-27"),
                 sum(e["total"] for e in sales(mine, "USD") if e["createdAt"][:10] >= "2026-09-28")]
    assert stats["cumulativeRevenue"] == [
        {"period": "2026-W39", "periodValue": money(usd_weeks[0], "USD"),
         "cumulativeValue": money(usd_weeks[0], "USD")},
        {"period": "2026-W40", "periodValue": money(usd_weeks[1], "USD"),
         "cumulativeValue": money(sum(usd_weeks), "USD")}]
    for i, row in enumerate(stats["orderMovingAverage"]):
        window = per_day[max(0, i - 2):i + 1]
        assert row == {"date": RANGE_DAYS[i], "dailyValue": per_day[i],
                       "movingAverage": float(round(Decimal(sum(window)) / len(window), 2))}
    for i, row in enumerate(stats["revenueMovingAverage"]):
        window = euros[max(0, i - 2):i + 1]
        assert row == {"date": RANGE_DAYS[i], "dailyValue": money(euros[i], "EUR"),
                       "movingAverage": money(half_up(Fraction(sum(window), len(window))), "EUR")}


def test_distribution_analysis(client, shop):
    everything = list(shop["orders"].values())
    stats = analytics(client, "distributionAnalysis", """
        orderAmountPercentiles(currency: "usd") { p10 p25 p50 p75 p90 p95 p99 min max avg stddev count }
        aovTrend(granularity: MONTH, currency: "eur") { period averageOrderValue orderCount totalRevenue }
        orderAmountBuckets(currency: "usd", bucketCount: 2) { rangeMin rangeMax count percentage }""",
                      ALL)
    usd = [e["total"] for e in sales(everything, "USD")]
    assert len(usd) == 3
    shares = {"p10": 10, "p25": 25, "p50": 50, "p75": 75, "p90": 90, "p95": 95, "p99": 99}
    mean = Fraction(sum(usd), len(usd))
    variance = sum((Fraction(v) - mean) ** 2 for v in usd) / len(usd)
    spread = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt()
    assert stats["orderAmountPercentiles"] == dict(
        {name: money(half_up(interpolate(usd, Fraction(s, 100))), "USD")
         for name, s in shares.items()},
        min=money(min(usd), "USD"), max=money(max(usd), "USD"),
        avg=money(half_up(mean), "USD"),
        stddev=money(int(spread.quantize(Decimal(1), ROUND_HALF_UP)), "USD"), count=3)
    euros = sales(everything, "EUR")
    revenue = total(euros, "EUR")
    assert stats["aovTrend"] == [{"period": "2026-09", "orderCount": len(euros),
                                  "totalRevenue": money(revenue, "EUR"),
                                  "averageOrderValue": money(half_up(Fraction(revenue,
                                                                              len(euros))),
                                                             "EUR")}]
    low, high = min(usd), max(usd)
    width = -(-(high - low) // 2)
    first = sum(1 for v in usd if v < low + width)
    assert stats["orderAmountBuckets"] == [
        {"rangeMin": money(low, "USD"), "rangeMax": money(low + width, "USD"), "count": first,
         "percentage": pct(first, 3)},
        {"rangeMin": money(low + width, "USD"), "rangeMax": money(high, "USD"),
         "count": 3 - first, "percentage": pct(3 - first, 3)}]
    # Nothing in a currency: the statistics are null, the count 0.
    nothing = analytics(client, "distributionAnalysis",
                        'orderAmountPercentiles(currency: "gbp") { p50 avg count }', ALL)
    assert nothing["orderAmountPercentiles"] == {"p50": None, "avg": None, "count": 0}


def test_customer_analysis(client, shop):
    mine, everything = recent(shop), list(shop["orders"].values())
    stats = analytics(client, "customerAnalysis", """
        cohortRetention(granularity: MONTH) { cohortPeriod cohortSize
          retention { periodOffset activeCustomers retentionRate } }
        ltvDistribution(currency: "usd") { averageLtv medianLtv buckets { rangeMin rangeMax count percentage } }
        repeatPurchaseRate(granularity: DAY) { period totalBuyers repeatBuyers repeatRate }
        topCustomers(limit: 2, currency: "eur") { buyerEmail totalSpent orderCount firstPurchaseDate lastPurchaseDate }""")
    # Cohorts: buyers whose first purchase is in the range (alice's is day 0's).
    first_time = {e["buyer"] for e in sales(mine)} - {e["buyer"] for e in sales(everything)
                                                      if e not in mine}
    assert "alice@example.com" not in first_time and len(first_time) == 5
    assert stats["cohortRetention"] == [{"cohortPeriod": "2026-09", "cohortSize": 5, "retention": [
        {"periodOffset": 0, "activeCustomers": 5, "retentionRate": 100.0}]}]
    ltv = {}
    for e in sales(mine, "USD"):
        ltv[e["buyer"]] = ltv.get(e["buyer"], 0) + e["total"]
    values = sorted(ltv.values())
    assert stats["ltvDistribution"]["averageLtv"] == money(
        half_up(Fraction(sum(values), len(values))), "USD")
    assert stats["ltvDistribution"]["medianLtv"] == money(
        half_up(interpolate(values, Fraction(1, 2))), "USD")
    assert sum(b["count"] for b in stats["ltvDistribution"]["buckets"]) == len(values)
    # A repeat buyer of a day bought before it: alice on day 2 (day 0's order).
    rows = {r["period"]: r for r in stats["repeatPurchaseRate"]}
    assert list(rows) == RANGE_DAYS
    day2 = {e["buyer"] for e in sales(mine) if e["createdAt"][:10] == "2026-09-23"}
    assert rows["2026-09-23"] == {"period": "2026-09-23", "totalBuyers": len(day2),
                                  "repeatBuyers": 1, "repeatRate": pct(1, len(day2))}
    day5 = {e["buyer"] for e in sales(mine) if e["createdAt"][:10] == "2026-09-26"}
    assert rows["2026-09-26"]["totalBuyers"] == len(day5) and rows["2026-09-26"][
        "repeatBuyers"] == 0
    euros = sorted(sales(mine, "EUR"), key=lambda e: -e["total"])
    assert stats["topCustomers"] == [
        {"buyerEmail": e["buyer"], "totalSpent": money(e["total"], "EUR"), "orderCount": 1,
         "firstPurchaseDate": e["createdAt"], "lastPurchaseDate": e["createdAt"]}
        for e in euros[:2]]
    # Over the whole month alice bought twice: purchase counts, and her two orders summed.
    whole = analytics(client, "customerAnalysis", """
        purchaseFrequency { purchaseCount customerCount percentage }
        topCustomers(limit: 1, currency: "eur") { buyerEmail totalSpent orderCount
                                                  firstPurchaseDate lastPurchaseDate }""", ALL)
    per_buyer = Counter(e["buyer"] for e in sales(everything))
    histogram = Counter(per_buyer.values())
    assert whole["purchaseFrequency"] == [
        {"purchaseCount": n, "customerCount": c, "percentage": pct(c, len(per_buyer))}
        for n, c in sorted(histogram.items())]
    alice = [e for e in sales(everything) if e["buyer"] == "alice@example.com"]
    assert whole["topCustomers"] == [{
        "buyerEmail": "alice@example.com", "totalSpent": money(total(alice, "EUR"), "EUR"),
        "orderCount": 2, "firstPurchaseDate": shop["orders"]["o1"]["createdAt"],
        "lastPurchaseDate": shop["orders"]["o2"]["createdAt"]}]


def test_tax_analysis(client, shop):
    euros = sales(recent(shop), "EUR")  # o2: a German consumer (19 %); o6: a business (0 %)
    stats = analytics(client, "taxAnalysis", """
        byCategory(currency: "eur") { taxCategory totalTax totalAmount paymentCount }
        byRateGroup(currency: "eur") { taxRate totalTax totalAmount paymentCount }
        byCountry(currency: "eur") { country totalTax totalAmount paymentCount }
        b2bVsB2c(currency: "eur") { isBusiness label totalTax totalAmount orderCount }
        effectiveTaxRateTrend(granularity: MONTH, currency: "eur") { period avgTaxRate paymentCount }
        taxAmountByPeriod(granularity: MONTH, currency: "eur") { period totalTax paymentCount }""")
    consumer, business = (next(e for e in euros if e["billing"]["isBusiness"] == flag)
                          for flag in (False, True))
    assert consumer["tax"] > 0 and business["tax"] == 0

    def row(e, **key):
        return dict(key, totalTax=money(e["tax"], "EUR"), totalAmount=money(e["total"], "EUR"),
                    paymentCount=1)

    assert stats["byCategory"] == [row(consumer, taxCategory=consumer["taxCategory"]),
                                   row(business, taxCategory=business["taxCategory"])]
    assert stats["byRateGroup"] == [row(consumer, taxRate="19.00"), row(business, taxRate="0.00")]
    assert stats["byCountry"] == [{"country": "DE", "totalTax": money(total(euros, "EUR", "tax"),
                                                                      "EUR"),
                                   "totalAmount": money(total(euros, "EUR"), "EUR"),
                                   "paymentCount": 2}]
    assert stats["b2bVsB2c"] == [
        {"isBusiness": flag, "label": label, "totalTax": money(e["tax"], "EUR"),
         "totalAmount": money(e["total"], "EUR"), "orderCount": 1}
        for flag, label, e in ((False, "B2C", consumer), (True, "B2B", business))]
    assert stats["effectiveTaxRateTrend"] == [{
        "period": "2026-09", "paymentCount": 2,
        "avgTaxRate": pct(total(euros, "EUR", "tax"), total(euros, "EUR", "subtotal"))}]
    assert stats["taxAmountByPeriod"] == [{"period": "2026-09", "paymentCount": 2,
                                           "totalTax": money(total(euros, "EUR", "tax"), "EUR")}]


def test_subscription_analysis(client, shop):
    subs = [e for e in recent(shop) if e["type"] == "subscription"]  # s1 paid, s2 canceled, s3 trial
    stats = analytics(client, "subscriptionAnalysis", """
        billingPeriodDistribution(currency: "usd") { billingPeriod count totalAmount percentage }
        activeCount
        cancellationStats { totalSubscriptions canceledCount cancellationRate avgLifetimeDays medianLifetimeDays }
        cancellationTrend(granularity: DAY) { period canceledCount }
        trialConversion { totalTrials convertedCount activeTrials conversionRate }
        trialConversionByProduct { productId productName totalTrials convertedCount conversionRate }
        churnRate(granularity: DAY) { period startActive churned churnRate }""")
    assert stats["billingPeriodDistribution"] == [{
        "billingPeriod": "monthly", "count": len(subs),
        "totalAmount": money(total(sales(subs), "USD"), "USD"), "percentage": 100.0}]
    assert stats["activeCount"] == sum(1 for e in subs if e["status"] in ("active", "trialing")) == 2
    # gina's subscription, canceled a day after it was made.
    assert stats["cancellationStats"] == {"totalSubscriptions": 3, "canceledCount": 1,
                                          "cancellationRate": pct(1, 3), "avgLifetimeDays": 1.0,
                                          "medianLifetimeDays": 1.0}
    assert stats["cancellationTrend"] == [{"period": d, "canceledCount": int(d == "2026-09-27")}
                                          for d in RANGE_DAYS]
    # ivan's 7-day trial started on day 5 and is still running.
    assert stats["trialConversion"] == {"totalTrials": 1, "convertedCount": 0, "activeTrials": 1,
                                        "conversionRate": 0.0}
    assert stats["trialConversionByProduct"] == [{
        "productId": PRODUCTS["pro_monthly"]["id"], "productName": PRODUCTS["pro_monthly"]["name"],
        "totalTrials": 1, "convertedCount": 0, "conversionRate": 0.0}]
    # Paid subscriptions (s1, s3) are active from day 6 on; the canceled one was never paid.
    started = sum(1 for e in subs if e["paid"])
    assert stats["churnRate"] == [
        {"period": d, "startActive": started if d >= "2026-09-27" else 0, "churned": 0,
         "churnRate": 0.0} for d in RANGE_DAYS]


def test_refund_ticket_analysis(client, shop):
    stats = analytics(client, "refundTicketAnalysis", """
        reasonDistribution(currency: "eur") { reason count totalAmount percentage }
        statusDistribution { status count percentage }
        reviewEfficiency { avgHours medianHours p90Hours totalReviewed }
        ticketTrend(granularity: MONTH) { period totalCreated resolvedCount approvedCount rejectedCount }
        approvalRate { approved rejected rate }
        processingSuccessRate { succeeded failed rate }""")
    # t1 (o2, 20.00 EUR) refunded after 5 hours; t3 (o6, 27.00 EUR) rejected after 2; t2 (o3,
    # 5.00 USD) the merchant's, refunded with no review.
    assert stats["reasonDistribution"] == [
        {"reason": "Changed mind", "count": 1, "totalAmount": "27.00", "percentage": 50.0},
        {"reason": "Wrong course", "count": 1, "totalAmount": "20.00", "percentage": 50.0}]
    assert stats["statusDistribution"] == [
        {"status": "succeeded", "count": 2, "percentage": pct(2, 3)},
        {"status": "rejected", "count": 1, "percentage": pct(1, 3)}]
    assert stats["reviewEfficiency"] == {"avgHours": 3.5, "medianHours": 3.5,
                                         "p90Hours": float(2 + Decimal("0.9") * 3),
                                         "totalReviewed": 2}
    assert stats["ticketTrend"] == [{"period": "2026-09", "totalCreated": 3, "resolvedCount": 3,
                                     "approvedCount": 2, "rejectedCount": 1}]
    assert stats["approvalRate"] == {"approved": 2, "rejected": 1, "rate": pct(2, 3)}
    assert stats["processingSuccessRate"] == {"succeeded": 2, "failed": 0, "rate": 100.0}
    # Dollars only: the merchant's ticket; the money field takes filter.currency.
    usd = analytics(client, "refundTicketAnalysis", """statusDistribution { status count }
        reasonDistribution { reason totalAmount }""", currency="USD")
    assert usd == {"statusDistribution": [{"status": "succeeded", "count": 1}],
                   "reasonDistribution": [{"reason": "Goodwill", "totalAmount": "5.00"}]}


# -- scopes ------------------------------------------------------------------------------------------
def test_store_and_environment_scope(client, shop):
    def count(**kw):
        text = """query ($storeId: String, $storeSlug: String, $filter: AnalyticsFilterInput!) {
            orderStatistics(storeId: $storeId, storeSlug: $storeSlug, filter: $filter) { totalCount } }"""
        variables = {"filter": {"timeRange": ALL}, **kw}
        environment = variables.pop("environment", "test")
        return query(client, text, variables, environment=environment)["orderStatistics"][
            "totalCount"]

    assert count(storeId=ACME) == count() == count(storeSlug="acme-digital") == 10
    assert count(storeSlug="acme-labs") == count(storeId=PRODUCTS["labs_kit"]["storeId"]) == 0
    assert count(storeSlug="acme-digital", storeId=PRODUCTS["labs_kit"]["storeId"]) == 0
    assert count(storeSlug="no-such-store") == 0
    assert count(environment="prod") == 0  # the prod key sees prod orders: none


def test_a_customer_token_gets_no_figures(client, shop):
    """The analytics are the merchant's dashboard: a customer's token answers with nothing, as
    `merchant`, `storeMerchantsCount` and `webhookDeliveries` do for it."""
    token = client.token("alice@example.com")
    stats = analytics(client, "orderStatistics", """totalCount countsByStatus { status }
        revenueByCurrency { currency } buyerMetrics { totalBuyers }""", ALL, token=token)
    assert stats == {"totalCount": 0, "countsByStatus": [], "revenueByCurrency": [],
                     "buyerMetrics": {"totalBuyers": 0}}
    tickets = analytics(client, "refundTicketAnalysis", "statusDistribution { status }", ALL,
                        token=token)
    assert tickets == {"statusDistribution": []}
    # Her own records are still hers to list.
    assert {o["id"] for o in query(client, "query { onetimeOrders { id } }", token=token)[
        "onetimeOrders"]} == {shop["orders"]["o1"]["id"], shop["orders"]["o2"]["id"]}


# -- errors --------------------------------------------------------------------------------------------
def test_what_analytics_refuse(client, shop):
    # No timeRange, or no filter at all: the schema's own error, 200 with errors and no data.
    for text in ("query { orderStatistics(filter: { currency: \"usd\" }) { totalCount } }",
                 "query { orderStatistics { totalCount } }"):
        payload = raw(client, text)
        assert payload["data"] is None
    payload = raw(client, "query ($f: AnalyticsFilterInput!) { paymentStatistics(filter: $f) { "
                          "successRate { successRate } } }", {"f": {"currency": "usd"}})
    assert payload["data"] is None and "timeRange" in payload["errors"][0]["message"]

    def refused(time_range, fields="totalCount", **filter_fields):
        return raw(client, "query ($f: AnalyticsFilterInput!) { orderStatistics(filter: $f) { "
                           f"{fields} }} }}", {"f": {"timeRange": time_range, **filter_fields}})

    payload = refused({"startDate": "yesterday", "endDate": "2026-09-30"})
    assert payload["data"] == {"orderStatistics": None}
    assert payload["errors"][0]["message"] == ("filter.timeRange.startDate must be an ISO 8601 "
                                               "date or date-time, got 'yesterday'")
    assert payload["errors"][0]["path"] == ["orderStatistics"]
    payload = refused({"startDate": "2026-09-30", "endDate": "2026-09-01"})
    assert payload["errors"][0]["message"] == \
        "filter.timeRange.endDate must not be before startDate"
    payload = refused({"startDate": "", "endDate": "2026-09-01"})
    assert payload["errors"][0]["message"] == "filter.timeRange.startDate is required (ISO 8601)"
    payload = refused(ALL, currency="dollars")
    assert "ISO 4217" in payload["errors"][0]["message"]
    # A money figure with no currency to go by is an error of that field alone.
    payload = refused(ALL, "totalCount revenueByCountry { country totalAmount }")
    assert payload["data"] == {"orderStatistics": {"totalCount": 10, "revenueByCountry": None}}
    assert payload["errors"][0]["path"] == ["orderStatistics", "revenueByCountry"]
    assert payload["errors"][0]["message"].startswith("currency is required")
    # A series of more than 1000 periods, a moving average over no days, no buckets.
    payload = refused({"startDate": "2020-01-01", "endDate": "2026-09-30"},
                      "countsByPeriod(granularity: DAY) { count }")
    assert "more than 1000 DAY periods" in payload["errors"][0]["message"]
    payload = raw(client, "query ($f: AnalyticsFilterInput!) { trendAnalysis(filter: $f) { "
                          "orderMovingAverage(windowDays: 0) { date } } }",
                  {"f": {"timeRange": ALL}})
    assert payload["errors"][0]["message"] == "windowDays must be between 1 and 365"
    payload = raw(client, "query ($f: AnalyticsFilterInput!) { distributionAnalysis(filter: $f) { "
                          "orderAmountBuckets(currency: \"usd\", bucketCount: 0) { count } } }",
                  {"f": {"timeRange": ALL}})
    assert payload["errors"][0]["message"] == "bucketCount must be between 1 and 100"


# -- the guide's examples, as written ------------------------------------------------------------------
GUIDE_RANGE = ('filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", '
               'endDate: "2026-01-01T00:00:00Z" } }')
GUIDE = {
    "orderStatistics": """
      totalCount
      countsByStatus { status count }
      countsByPeriod(granularity: MONTH) { period count }
      revenueByCurrency { currency totalAmount paymentCount }
      revenueByPeriod(granularity: MONTH, currency: "usd") { period currency totalAmount paymentCount }
      buyerMetrics { totalBuyers newBuyers returningBuyers }
      revenueByCountry(currency: "usd") { country totalAmount paymentCount }
      ordersByCountry { country count }
      b2bVsB2cBreakdown(currency: "usd") { isBusiness label totalAmount orderCount }
      revenueByState(country: "US", currency: "usd") { state totalAmount paymentCount }""",
    "paymentStatistics": """
      successRate { totalAttempts succeeded failed pending successRate }
      failedReasons { reason count percentage }
      refunds { totalCount succeededCount pendingCount failedCount amountByCurrency { currency totalAmount paymentCount } refundRate }
      methodDistribution { methodType count totalAmount percentage }
      cardBrandDistribution { brand count totalAmount percentage }
      taxSummary { currency totalTax totalPreTax totalAmount paymentCount }
      preTaxRevenueByCurrency { currency totalAmount paymentCount }
      settlementRevenueByCurrency { currency totalAmount paymentCount }""",
    "productStatistics": """
      onetimeCountsByStatus { status count }
      subscriptionCountsByStatus { status count }
      onetimeTotalCount
      subscriptionTotalCount
      topByOrderCount(limit: 10) { productId productType productName orderCount totalRevenue currency }
      topByRevenue(limit: 10, currency: "usd") { productId productType productName orderCount totalRevenue currency }
      revenueContribution(currency: "usd") { productId productType productName revenue contributionPercentage cumulativePercentage }""",
    "trendAnalysis": """
      orderGrowth(granularity: MONTH) { period currentValue previousValue growthRate }
      revenueGrowth(granularity: MONTH, currency: "usd") { period currentValue previousValue growthRate }
      cumulativeRevenue(granularity: MONTH, currency: "usd") { period periodValue cumulativeValue }
      orderMovingAverage(windowDays: 7) { date dailyValue movingAverage }
      revenueMovingAverage(windowDays: 7, currency: "usd") { date dailyValue movingAverage }""",
    "distributionAnalysis": """
      orderAmountPercentiles(currency: "usd") { p10 p25 p50 p75 p90 p95 p99 min max avg stddev count }
      aovTrend(granularity: MONTH, currency: "usd") { period averageOrderValue orderCount totalRevenue }
      orderAmountBuckets(currency: "usd", bucketCount: 10) { rangeMin rangeMax count percentage }""",
    "customerAnalysis": """
      cohortRetention(granularity: MONTH) {
        cohortPeriod cohortSize
        retention { periodOffset activeCustomers retentionRate }
      }
      ltvDistribution(currency: "usd") {
        averageLtv medianLtv
        buckets { rangeMin rangeMax count percentage }
      }
      purchaseFrequency { purchaseCount customerCount percentage }
      repeatPurchaseRate(granularity: MONTH) { period totalBuyers repeatBuyers repeatRate }
      topCustomers(limit: 10, currency: "usd") { buyerEmail totalSpent orderCount firstPurchaseDate lastPurchaseDate }""",
    "taxAnalysis": """
      byCategory(currency: "usd") { taxCategory totalTax totalAmount paymentCount }
      byRateGroup(currency: "usd") { taxRate totalTax totalAmount paymentCount }
      byCountry(currency: "usd") { country totalTax totalAmount paymentCount }
      b2bVsB2c(currency: "usd") { isBusiness label totalTax totalAmount orderCount }
      effectiveTaxRateTrend(granularity: MONTH, currency: "usd") { period avgTaxRate paymentCount }
      taxAmountByPeriod(granularity: MONTH, currency: "usd") { period totalTax paymentCount }""",
    "subscriptionAnalysis": """
      billingPeriodDistribution(currency: "usd") { billingPeriod count totalAmount percentage }
      activeCount
      cancellationStats { totalSubscriptions canceledCount cancellationRate avgLifetimeDays medianLifetimeDays }
      cancellationTrend(granularity: MONTH) { period canceledCount }
      trialConversion { totalTrials convertedCount activeTrials conversionRate }
      trialConversionByProduct { productId productName totalTrials convertedCount conversionRate }
      churnRate(granularity: MONTH) { period startActive churned churnRate }""",
    "refundTicketAnalysis": """
      reasonDistribution(currency: "usd") { reason count totalAmount percentage }
      statusDistribution { status count percentage }
      reviewEfficiency { avgHours medianHours p90Hours totalReviewed }
      ticketTrend(granularity: MONTH) { period totalCreated resolvedCount approvedCount rejectedCount }
      approvalRate { approved rejected rate }
      processingSuccessRate { succeeded failed rate }""",
}


@pytest.mark.parametrize("name", list(GUIDE))
def test_the_guides_analytics_examples_run_as_written(client, shop, name):
    """Each example of the guide's analytics section, word for word (its 2025 range holds none of
    the shop's September 2026 records: every count is 0, every month of 2025 listed)."""
    text = (f"query ($storeId: String!) {{\n    {name}(\n      storeId: $storeId,\n      "
            f"{GUIDE_RANGE}\n    ) {{{GUIDE[name]}\n    }}\n  }}")
    answer = query(client, text, {"storeId": ACME})[name]
    assert answer is not None
    if name == "orderStatistics":
        assert answer["totalCount"] == 0 and answer["revenueByCurrency"] == []
        # 2025-01-01 to 2026-01-01T00:00:00Z inclusive touches thirteen months.
        assert [r["period"] for r in answer["countsByPeriod"]] == \
            [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01"]
    if name == "trendAnalysis":
        assert len(answer["orderMovingAverage"]) == 366  # every day of 2025, and 2026-01-01
