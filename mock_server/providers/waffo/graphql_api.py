"""`POST /v1/graphql`: Waffo's read API, built with graphql-core from the SDL in
`contracts/waffo/schema.graphql` and answered from the merchant's namespace.

What the SDK's GraphQL guide and Waffo's GraphQL pages say, held here (waffo-lifecycle.md
section 7):
- queries only: a mutation (or subscription) is 403 with `layer: graphql`; introspection is on;
- an API key sees its merchant's stores and what they hold, in the key's environment (orders,
  payments and tickets of that mode, products as that environment's version shows them); a
  customer's session token sees only its buyer's orders, payments and refund tickets in its
  store, and lists then take no `storeId`;
- a query the schema refuses (`Cannot query field ...`) is 200 with `errors` (layer graphql) and
  no data; no query is 400; a document nested deeper than 7 levels is 400;
- every list takes `filter` (StringFilter eq/ne/contains/startsWith/endsWith/in, DateTimeFilter
  and IntFilter eq/ne/gt/gte/lt/lte, BooleanFilter eq), `limit` (default 20, at most 100:
  paymock's choice) and `offset`, newest first; every `*Count` takes the same filter.
paymock's choices: exchange rates come from a fixed table (RATES, per US dollar) with a
`rateRefId` and a 15-minute `expiryTime` on the mock clock; `emailDeliveries` is always empty (the
mock sends no email); `merchant` answers only the caller's own merchant; the analytics queries
(`orderStatistics` ... `refundTicketAnalysis`) are computed by graphql_analytics.py from the
records this module scopes, and answer a customer's token with nothing, as the other
merchant-only fields do.
"""
from __future__ import annotations

import hashlib
from decimal import Decimal
from functools import lru_cache

import orjson

from ... import resources
from ...core.clock import epoch, iso
from ...core.request import Reply
from .common import ORDER, PRODUCT, STORE
from .product_groups import GROUP
from .products import view
from .refund_tickets import TICKET
from .store_webhooks import WEBHOOK
from .subscriptions import payments_of

MAX_DEPTH = 7
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
RATE_SECONDS = 15 * 60
# Units of each currency per US dollar (paymock's fixed table; Waffo's rates are live).
RATES = {"USD": "1", "EUR": "0.92", "GBP": "0.79", "JPY": "151.2", "CNY": "7.24", "HKD": "7.81",
         "SGD": "1.35", "AUD": "1.52", "CAD": "1.37", "CHF": "0.88", "SEK": "10.6", "NOK": "10.8",
         "DKK": "6.87", "PLN": "3.98", "CZK": "23.3", "HUF": "362", "RON": "4.58", "BGN": "1.8",
         "NZD": "1.66", "MXN": "17.1", "BRL": "5.05", "ARS": "870", "CLP": "940", "COP": "3900",
         "PEN": "3.72", "INR": "83.3", "IDR": "15800", "MYR": "4.72", "PHP": "56.4", "THB": "36.5",
         "VND": "25000", "KRW": "1350", "TWD": "32.1", "TRY": "32.3", "ZAR": "18.7", "NGN": "1480",
         "KES": "131", "AED": "3.67", "SAR": "3.75", "ILS": "3.7", "EGP": "48.5", "PKR": "278",
         "BDT": "110", "UAH": "39.5"}


@lru_cache(maxsize=1)
def schema():
    from graphql import build_schema  # graphql-core: imported on the first query, not at start

    return build_schema((resources.contracts() / "waffo" / "schema.graphql").read_text(
        encoding="utf-8"))


def _depth(node, level: int = 0) -> int:
    selections = getattr(getattr(node, "selection_set", None), "selections", None) or ()
    return max((_depth(child, level + 1) for child in selections), default=level)


def _error(status: int, message: str) -> Reply:
    body = {"data": None, "errors": [{"message": message, "layer": "graphql"}]}
    return Reply(orjson.dumps(body), status=status, content_type="application/json")


class GraphQLApi:
    def __init__(self, clock, registry, outbox):
        self.clock = clock
        self.registry = registry  # auth.MerchantRegistry: the merchant query
        self.outbox = outbox      # core/webhooks.py, for webhookDeliveries (None: no deliveries)

    def answer(self, ns, caller, body: dict) -> Reply:
        from graphql import GraphQLError, execute, parse, validate
        from graphql.language import OperationDefinitionNode

        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            return _error(400, "Missing required field: query")
        variables = body.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return _error(400, "variables must be an object")
        try:
            document = parse(query)
        except GraphQLError as exc:
            return _error(400, exc.message)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if any(op.operation.value != "query" for op in operations):
            return _error(403, "Operation type not allowed: the GraphQL API is query-only")
        if any(_depth(op) > MAX_DEPTH for op in operations):
            return _error(400, f"Query depth exceeds the maximum of {MAX_DEPTH}")
        errors = validate(schema(), document)
        if errors:
            return self._reply(None, errors)
        result = execute(schema(), document, root_value=Root(self, ns, caller),
                         variable_values=variables, operation_name=body.get("operationName"))
        return self._reply(result.data, result.errors or [])

    @staticmethod
    def _reply(data, errors) -> Reply:
        body = {"data": data}
        if errors:
            body["errors"] = [dict(e.formatted, layer="graphql") for e in errors]
        return Reply(orjson.dumps(body), content_type="application/json")


class Root:
    """The Query type's fields, each a method (graphql-core calls a root value's callables), for
    one caller: a merchant (API key) in its environment, or a customer (session token)."""

    def __init__(self, api: GraphQLApi, ns, caller):
        self.api, self.ns, self.caller = api, ns, caller
        self.env = caller.environment
        self.customer = caller.kind == "session_token"

    # -- stores and the merchant -----------------------------------------------------------------
    def _stores(self):
        stores = [s for s in self.ns.values(STORE) if s.get("deletedAt") is None]
        if self.customer:
            stores = [s for s in stores if s["id"] == self.caller.store_id]
        return [self._store(s) for s in stores]

    def stores(self, info, filter=None, limit=None, offset=None):
        return _page(_filtered(self._stores(), filter), limit, offset)

    def storesCount(self, info, filter=None):
        return len(_filtered(self._stores(), filter))

    def store(self, info, id):
        return next((s for s in self._stores() if s["id"] == id), None)

    def merchant(self, info, id):
        if self.customer or id != self.caller.merchant_id:
            return None
        merchant = self.api.registry.get(id)
        stores = self._stores()
        return {"id": id, "email": None, "name": getattr(merchant, "name", "") or None,
                "status": "active",
                "storeMerchants": [{"role": "owner", "store": s} for s in stores],
                "apiKeys": [{"id": f"key_{id[4:]}_{env}", "nickname": f"{env} key",
                             "environment": env, "recentlyUsed": env == self.env,
                             "createdAt": stores[0]["createdAt"] if stores else iso(0)}
                            for env in sorted(getattr(merchant, "keys", {}) or {self.env: None})]}

    def storeMerchantsCount(self, info):
        return 0 if self.customer else len(self._stores())

    def apiKeysCount(self, info):
        merchant = self.api.registry.get(self.caller.merchant_id)
        return 0 if self.customer else len(getattr(merchant, "keys", {}) or {self.env: None})

    def _store(self, store: dict) -> dict:
        shown = {k: store.get(k) for k in ("id", "name", "slug", "status", "logo", "supportEmail",
                                           "website", "createdAt")}
        shown.update(prodEnabled=bool(store.get("prodEnabled")),
                     updatedAt=store.get("updatedAt") or store["createdAt"],
                     onetimeProducts=lambda info: self._products("onetime", store["id"]),
                     subscriptionProducts=lambda info: self._products("subscription", store["id"]),
                     storeWebhooks=lambda info: [
                         w for w in self.ns.values(WEBHOOK) if w["storeId"] == store["id"]
                         and w["testMode"] == (self.env == "test")])
        return shown

    # -- products ----------------------------------------------------------------------------
    def _products(self, kind: str, store_id: str | None = None) -> list[dict]:
        rows = []
        for product in self.ns.values(PRODUCT):
            if product["type"] != kind or store_id not in (None, product["storeId"]):
                continue
            if self.customer and product["storeId"] != self.caller.store_id:
                continue
            shown = view(product, self.env)
            if shown is not None:
                rows.append(self._product(product, shown))
        return rows

    def _product(self, product: dict, shown: dict) -> dict:
        versions = product.get("current") or {"test": 1, "prod": 1}
        row = {"id": product["id"], "storeId": product["storeId"], "name": shown["name"],
               "description": shown.get("description"), "status": shown.get("status", "active"),
               "prices": _prices(shown.get("prices")), "media": shown.get("media") or [],
               "successUrl": shown.get("successUrl"), "metadata": _json(shown.get("metadata")),
               "hasProdVersion": versions.get("prod") is not None,
               "version": shown.get("version", 1), "billingPeriod": shown.get("billingPeriod"),
               "trialDays": shown.get("trialDays"), "createdAt": product["createdAt"],
               "updatedAt": shown.get("updatedAt") or product["createdAt"]}
        row["store"] = lambda info: self.store(info, product["storeId"])
        return row

    def onetimeProducts(self, info, storeId=None, filter=None, limit=None, offset=None):
        return _page(_filtered(self._products("onetime", storeId), filter), limit, offset)

    def onetimeProductsCount(self, info, storeId=None, filter=None):
        return len(_filtered(self._products("onetime", storeId), filter))

    def onetimeProduct(self, info, id):
        return next((p for p in self._products("onetime") if p["id"] == id), None)

    def subscriptionProducts(self, info, storeId=None, filter=None, limit=None, offset=None):
        return _page(_filtered(self._products("subscription", storeId), filter), limit, offset)

    def subscriptionProductsCount(self, info, storeId=None, filter=None):
        return len(_filtered(self._products("subscription", storeId), filter))

    def subscriptionProduct(self, info, id):
        return next((p for p in self._products("subscription") if p["id"] == id), None)

    def _versions(self, product_id: str, kind: str) -> list[dict]:
        product = self.ns.get(PRODUCT, product_id)
        if product is None or product["type"] != kind or (
                self.customer and product["storeId"] != self.caller.store_id):
            return []
        if "versions" not in product:  # a catalog product: one version in both environments
            return [_version_row(dict(product, id=f"{product_id}_v1", versionNumber=1,
                                      environment=None, createdAt=product["createdAt"]))]
        return [_version_row(v) for v in sorted(product["versions"],
                                                key=lambda v: (v["createdAt"], v["versionNumber"]))]

    def onetimeProductVersions(self, info, productId):
        return self._versions(productId, "onetime")

    def subscriptionProductVersions(self, info, productId):
        return self._versions(productId, "subscription")

    def _groups(self, store_id: str | None) -> list[dict]:
        rows = []
        for group in self.ns.values(GROUP):
            if group["environment"] != self.env or store_id not in (None, group["storeId"]):
                continue
            row = dict(group)
            row["products"] = lambda info, ids=tuple(group["productIds"]): [
                p for p in self._products("subscription") if p["id"] in ids]
            rows.append(row)
        return rows

    def subscriptionProductGroups(self, info, storeId=None, filter=None, limit=None, offset=None):
        return _page(_filtered(self._groups(storeId), filter), limit, offset)

    def subscriptionProductGroupsCount(self, info, storeId=None, filter=None):
        return len(_filtered(self._groups(storeId), filter))

    # -- orders, payments, refunds ---------------------------------------------------------------
    def _orders(self, kind: str | None, store_id: str | None = None) -> list[dict]:
        rows = []
        for order in self.ns.values(ORDER):
            if order["environment"] != self.env or kind not in (None, order["type"]) \
                    or store_id not in (None, order["storeId"]):
                continue
            if self.customer and (order["storeId"] != self.caller.store_id
                                  or order["buyerIdentity"] != self.caller.buyer_identity):
                continue
            rows.append(order)
        return rows

    def _order(self, order: dict) -> dict:
        kind = order["type"]
        row = {"id": order["orderId"], "storeId": order["storeId"], "productType": kind,
               "buyerEmail": order["buyerEmail"], "currency": order["currency"],
               "status": order["status"], "testMode": order["environment"] == "test",
               "orderMerchantExternalId": order.get("orderMerchantExternalId"),
               "total": order["total"], "billingDetail": _billing(order["billingDetail"]),
               "metadata": _json(order.get("metadata")), "createdAt": order["createdAt"],
               "updatedAt": order["updatedAt"], "billingPeriod": order.get("billingPeriod"),
               "currentPeriodStart": order.get("currentPeriodStart"),
               "currentPeriodEnd": order.get("currentPeriodEnd"),
               "canceledAt": order.get("canceledAt")}
        amounts = {"subtotal": order["subtotal"], "taxAmount": order["taxAmount"],
                   "total": order["total"], "taxCategory": order["price"].get("taxCategory")}
        if kind == "onetime":
            row["priceSnapshot"] = dict(amounts, currency=order["currency"],
                                        taxRate=order.get("taxRate"))
        else:
            trial = order.get("trialDays")
            first = order.get("firstCharge")  # the trial's price (a card check: zero)
            special = None if first is None else {
                "subtotal": first["subtotal"], "taxAmount": first["taxAmount"],
                "total": first["total"], "taxCategory": order["price"].get("taxCategory")}
            row["priceSnapshot"] = {"currency": order["currency"], "regularPhase": amounts,
                                    "specialPhase": special, "specialPhaseDays": trial}
        product = "onetimeProduct" if kind == "onetime" else "subscriptionProduct"
        row[product] = lambda info: next((p for p in self._products(kind)
                                          if p["id"] == order["productId"]), None)
        row["productVersion"] = lambda info: self._order_version(order)
        row["payments"] = lambda info: [self._payment(order, pay) for pay in payments_of(order)]
        row["store"] = lambda info: self.store(info, order["storeId"])
        return row

    def _order_version(self, order: dict) -> dict | None:
        versions = self._versions(order["productId"], order["type"])
        wanted = order.get("productVersion", 1)
        return next((v for v in versions if v["versionNumber"] == wanted
                     and v["isTestVersion"] == (order["environment"] == "test")), None) or next(
            (v for v in versions if v["versionNumber"] == wanted), None)

    def _kind_orders(self, kind, store_id, filter, limit, offset):
        return _page(_filtered([self._order(o) for o in self._orders(kind, store_id)], filter),
                     limit, offset)

    def onetimeOrders(self, info, storeId=None, filter=None, limit=None, offset=None):
        return self._kind_orders("onetime", storeId, filter, limit, offset)

    def onetimeOrdersCount(self, info, storeId=None, filter=None):
        return len(_filtered([self._order(o) for o in self._orders("onetime", storeId)], filter))

    def onetimeOrder(self, info, id):
        return next((self._order(o) for o in self._orders("onetime") if o["orderId"] == id), None)

    def subscriptionOrders(self, info, storeId=None, filter=None, limit=None, offset=None):
        return self._kind_orders("subscription", storeId, filter, limit, offset)

    def subscriptionOrdersCount(self, info, storeId=None, filter=None):
        return len(_filtered([self._order(o) for o in self._orders("subscription", storeId)],
                             filter))

    def subscriptionOrder(self, info, id):
        return next((self._order(o) for o in self._orders("subscription") if o["orderId"] == id),
                    None)

    def orders(self, info, storeId=None, filter=None, limit=None, offset=None):
        return self._kind_orders(None, storeId, filter, limit, offset)

    def ordersCount(self, info, storeId=None, filter=None):
        return len(_filtered([self._order(o) for o in self._orders(None, storeId)], filter))

    def _payment(self, order: dict, pay: dict | None = None) -> dict:
        """One of the order's payments (the checkout's by default; renewals, retries and plan
        changes are the order's later charges), with the amounts it was charged for."""
        pay = pay or order["payment"]
        amount = pay.get("amount") or {"subtotal": order["subtotal"],
                                       "taxAmount": order["taxAmount"], "total": order["total"]}
        # A trial's card check is the special phase (period 0); every other charge the regular.
        phase = "special" if pay.get("periodNumber") == 0 else "regular"
        row = {"id": pay["paymentId"], "orderId": order["orderId"], "status": pay["status"],
               "refundStatus": pay.get("refundStatus") or "none", "currency": order["currency"],
               "snapshotAmountDetails": {
                   "currency": order["currency"], "subtotal": amount.get("subtotal"),
                   "taxAmount": amount["taxAmount"], "total": amount["total"],
                   "taxCategory": order["price"].get("taxCategory"), "phase": phase},
               "cardInfo": {"brand": None, "last4": pay.get("paymentLast4"), "expMonth": None,
                            "expYear": None} if pay.get("paymentLast4") else None,
               "paymentMethod": pay.get("paymentMethod"), "failureReason": pay.get("failureReason"),
               "createdAt": pay.get("createdAt") or order["createdAt"]}
        kind = order["type"]
        row["onetimeOrder"] = (lambda info: self._order(order)) if kind == "onetime" else None
        row["subscriptionOrder"] = (lambda info: self._order(order)) if kind != "onetime" else None
        row["refunds"] = lambda info: [self._refund(t) for t in self._tickets()
                                       if t["subjectId"] == pay["paymentId"] and t.get("refundId")]
        return row

    def _payments(self, store_id):
        return [self._payment(o, pay) for o in self._orders(None, store_id)
                for pay in payments_of(o)]

    def payments(self, info, storeId=None, filter=None, limit=None, offset=None):
        return _page(_filtered(self._payments(storeId), filter), limit, offset)

    def paymentsCount(self, info, storeId=None, filter=None):
        return len(_filtered(self._payments(storeId), filter))

    def payment(self, info, id):
        return next((p for p in self._payments(None) if p["id"] == id), None)

    def _tickets(self, store_id: str | None = None) -> list[dict]:
        orders = {o["orderId"]: o for o in self._orders(None, store_id)}
        return [t for t in self.ns.values(TICKET) if t["orderId"] in orders]

    @staticmethod
    def _refund(ticket: dict) -> dict:
        return {"id": ticket["refundId"], "paymentId": ticket["subjectId"],
                "status": ticket["status"], "reason": ticket["versionData"]["reason"],
                "requestedAmountDetails": ticket["versionData"]["requestedAmount"],
                "createdAt": ticket["executedAt"]}

    def _refunds(self, store_id):
        return [self._refund(t) for t in self._tickets(store_id) if t.get("refundId")]

    def refunds(self, info, storeId=None, filter=None, limit=None, offset=None):
        return _page(_filtered(self._refunds(storeId), filter), limit, offset)

    def refundsCount(self, info, storeId=None, filter=None):
        return len(_filtered(self._refunds(storeId), filter))

    def _ticket_rows(self, store_id):
        rows = []
        for ticket in self._tickets(store_id):
            order = self.ns.get(ORDER, ticket["orderId"])
            rows.append({"id": ticket["id"], "status": ticket["status"],
                         "reason": ticket["versionData"]["reason"],
                         "requestedAmountDetails": ticket["versionData"]["requestedAmount"],
                         "submitterType": ticket["submitterType"],
                         "versionNumber": ticket["versionNumber"],
                         "rejectReason": ticket["rejectReason"],
                         "refundTicketMerchantExternalId": ticket["refundTicketMerchantExternalId"],
                         "paymentId": ticket["subjectId"], "createdAt": ticket["createdAt"],
                         "updatedAt": ticket["updatedAt"],
                         "payment": lambda info, order=order, ticket=ticket: self._payment(
                             order, next(p for p in payments_of(order)
                                         if p["paymentId"] == ticket["subjectId"]))})
        return rows

    def refundTickets(self, info, storeId=None, filter=None, limit=None, offset=None):
        return _page(_filtered(self._ticket_rows(storeId), filter), limit, offset)

    def refundTicketsCount(self, info, storeId=None, filter=None):
        return len(_filtered(self._ticket_rows(storeId), filter))

    # -- rates and delivery logs -----------------------------------------------------------------
    def rate(self, info, fromCurrency, toCurrency):
        rate = Decimal(RATES[toCurrency]) / Decimal(RATES[fromCurrency])
        now = self.api.clock.now()
        window = int(now // RATE_SECONDS)
        ref = hashlib.sha256(f"{fromCurrency}{toCurrency}{window}".encode()).hexdigest()[:20]
        return {"fromCurrency": fromCurrency, "toCurrency": toCurrency,
                "standardRate": f"{rate.quantize(Decimal('0.000001')).normalize():f}",
                "rateRefId": f"RATE_{ref}", "expiryTime": iso((window + 1) * RATE_SECONDS)}

    def _deliveries(self, store_id: str) -> list[dict]:
        if self.customer or self.api.outbox is None:
            return []
        hooks = {w["id"]: w for w in self.ns.values(WEBHOOK) if w["storeId"] == store_id
                 and w["testMode"] == (self.env == "test")}
        rows = []
        for delivery in self.api.outbox.deliveries(namespace=self.ns.name):
            if delivery.get("endpoint_id") not in hooks:
                continue
            attempts = delivery.get("attempts") or []
            last = attempts[-1] if attempts else {}
            status = {"delivered": "success", "failed": "failed"}.get(delivery["status"], "pending")
            rows.append({"id": delivery["id"], "storeId": store_id, "eventType": delivery["type"],
                         "eventId": _event_id(delivery.get("body")), "payload": delivery["body"],
                         "webhookUrl": delivery["url"], "status": status,
                         "httpStatus": last.get("status_code"),
                         "responseBody": last.get("response_excerpt"),
                         "attemptCount": len(attempts), "lastAttemptedAt": last.get("at"),
                         "createdAt": delivery["created_at"]})
        return rows

    def webhookDeliveries(self, info, storeId, filter=None, limit=None, offset=None):
        return _page(_filtered(self._deliveries(storeId), filter), limit, offset)

    def webhookDeliveriesCount(self, info, storeId, filter=None):
        return len(_filtered(self._deliveries(storeId), filter))

    def emailDeliveries(self, info, storeId, filter=None, limit=None, offset=None):
        return []  # the mock sends no email

    def emailDeliveriesCount(self, info, storeId, filter=None):
        return 0

    # -- analytics -------------------------------------------------------------------------------
    def _analytics(self, kind: str, store_id, store_slug, filter):
        # Imported here, by the first analytics query: most servers never load it.
        from . import graphql_analytics as analytics

        window = analytics.Window.parse(filter)  # a bad time range: a GraphQL error, not a 500
        data = analytics.Dataset(*self._analytics_records(store_id, store_slug),
                                 now=self.api.clock.now())
        return getattr(analytics, kind)(data, window)

    def _analytics_records(self, store_id, store_slug) -> tuple[list, list, list]:
        """Orders, payment rows and refund tickets, scoped as the lists scope them."""
        if self.customer:
            # The dashboard's figures are the merchant's: a customer's token sees none, as with
            # merchant, storeMerchantsCount and webhookDeliveries.
            return [], [], []
        if store_slug is not None:  # the guide: storeId or storeSlug
            store = next((s["id"] for s in self._stores() if s["slug"] == store_slug), None)
            if store is None or store_id not in (None, store):
                return [], [], []
            store_id = store
        # Payments as the `payments` query lists them (its source: renewals count once listed).
        return self._orders(None, store_id), self._payments(store_id), self._tickets(store_id)

    def orderStatistics(self, info, filter, storeId=None, storeSlug=None):
        return self._analytics("OrderStatistics", storeId, storeSlug, filter)

    def paymentStatistics(self, info, filter, storeId=None, storeSlug=None):
        return self._analytics("PaymentStatistics", storeId, storeSlug, filter)

    def productStatistics(self, info, filter, storeId=None, storeSlug=None):
        return self._analytics("ProductStatistics", storeId, storeSlug, filter)

    def trendAnalysis(self, info, filter, storeId=None, storeSlug=None):
        return self._analytics("TrendAnalysis", storeId, storeSlug, filter)

    def distributionAnalysis(self, info, filter, storeId=None, storeSlug=None):
        return self._analytics("DistributionAnalysis", storeId, storeSlug, filter)

    def customerAnalysis(self, info, filter, storeId=None, storeSlug=None):
        return self._analytics("CustomerAnalysis", storeId, storeSlug, filter)

    def taxAnalysis(self, info, filter, storeId=None, storeSlug=None):
        return self._analytics("TaxAnalysis", storeId, storeSlug, filter)

    def subscriptionAnalysis(self, info, filter, storeId=None, storeSlug=None):
        return self._analytics("SubscriptionAnalysis", storeId, storeSlug, filter)

    def refundTicketAnalysis(self, info, filter, storeId=None, storeSlug=None):
        return self._analytics("RefundTicketAnalysis", storeId, storeSlug, filter)


# -- shaping ------------------------------------------------------------------------------------
def _prices(prices) -> list[dict]:
    return [{"currency": currency, "priceInfo": info}
            for currency, info in sorted((prices or {}).items())]


def _json(value) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _billing(detail) -> dict | None:
    if not detail:
        return None
    return {k: detail.get(k) for k in ("country", "isBusiness", "postcode", "state",
                                       "businessName", "taxId")}


def _version_row(version: dict) -> dict:
    env = version.get("environment")
    return {"id": version["id"], "versionNumber": version["versionNumber"],
            "name": version["name"], "description": version.get("description"),
            "billingPeriod": version.get("billingPeriod"),
            "prices": _prices(version.get("prices")), "media": version.get("media") or [],
            "successUrl": version.get("successUrl"), "metadata": _json(version.get("metadata")),
            "isTestVersion": env in (None, "test"), "isProdVersion": env in (None, "prod"),
            "createdAt": version["createdAt"]}


def _event_id(body) -> str | None:
    try:
        return orjson.loads(body).get("eventId")
    except (orjson.JSONDecodeError, TypeError, AttributeError):
        return None


# -- filters and pages --------------------------------------------------------------------------
def _matches(value, condition: dict) -> bool:
    for op, wanted in condition.items():
        if wanted is None:
            continue
        if op == "in":
            if value not in wanted:
                return False
            continue
        if op in ("contains", "startsWith", "endsWith"):
            text = "" if value is None else str(value)
            test = {"contains": text.__contains__, "startsWith": text.startswith,
                    "endsWith": text.endswith}[op]
            if not test(wanted):
                return False
            continue
        left, right = value, wanted
        if isinstance(wanted, str) and isinstance(value, str) and op not in ("eq", "ne"):
            try:  # date-times compare as instants
                left, right = epoch(value), epoch(wanted)
            except ValueError:
                pass
        if op == "eq" and left != right or op == "ne" and left == right:
            return False
        if op in ("gt", "gte", "lt", "lte"):
            if left is None:
                return False
            try:
                if not {"gt": left > right, "gte": left >= right, "lt": left < right,
                        "lte": left <= right}[op]:
                    return False
            except TypeError:
                return False
    return True


def _filtered(rows: list[dict], filter) -> list[dict]:
    rows = sorted(rows, key=lambda r: r.get("createdAt") or "", reverse=True)
    if not filter:
        return rows
    return [r for r in rows if all(_matches(r.get(name), condition or {})
                                   for name, condition in filter.items())]


def _page(rows: list, limit, offset) -> list:
    limit = DEFAULT_LIMIT if limit is None else max(0, min(limit, MAX_LIMIT))
    offset = max(0, offset or 0)
    return rows[offset:offset + limit]


