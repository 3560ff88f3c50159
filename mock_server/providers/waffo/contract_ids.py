"""Hooks that point the contract kit's generated Waffo ids at real ones, so that successful answers
get checked too, not only rejections: products of the catalog, checkout sessions created for the
run, and (on a mock) pending orders read back through the control API. Unique idempotency keys,
because Waffo replays the first 2xx for a key whatever the body.
"""
from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import MutableMapping

import requests

from ...core.http import credential_namespace
from .contract_auth import WaffoTokens, post_with_retry
from .contract_credentials import shipped_catalog

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
PRODUCT_ID = re.compile(r"^PROD_[0-9A-Za-z]{22}$")
STORE_ID = re.compile(r"^STO_[0-9A-Za-z]{22}$")
ORDER_ID = re.compile(r"^ORD_[0-9A-Za-z]{22}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def _op(case) -> str | None:
    return case.operation.definition.raw.get("operationId")


class WaffoIds:
    """Real sessions (and, on a mock, pending orders) for generated cases to use."""

    def __init__(self, tokens: WaffoTokens, products: dict[str, str], control=None, on_request=None):
        self.tokens = tokens
        self.products = products      # {"onetime": PROD_..., "subscription": PROD_...}
        self.control = control        # mock_server.control.Client, only when the target is paymock
        self.on_request = on_request
        self._sessions: dict[str, str] = {}
        self._handed_out: set[str] = set()
        self._lock = threading.Lock()
        self.http = requests.Session()

    def _post(self, path: str, body: dict, headers: dict, auth=None):
        if self.on_request:
            self.on_request()
        response = post_with_retry(self.http, self.tokens.base_url + path, data=json.dumps(body),
                                   headers={"Content-Type": "application/json", **headers}, auth=auth)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def new_session(self, kind: str) -> str | None:
        product = self.products.get(kind)
        if not product:
            return None
        status, payload = self._post("/v1/actions/checkout/create-session", {
            "productId": product, "currency": "USD",
            "billingDetail": {"country": "DE", "isBusiness": False}},
            self.tokens.signer.headers(), auth=self.tokens.signer)
        return payload["data"]["sessionId"] if status == 200 else None

    def session(self, kind: str) -> str | None:
        with self._lock:
            if kind not in self._sessions:
                self._sessions[kind] = self.new_session(kind)
            return self._sessions[kind]

    def pending_order(self, kind: str) -> str | None:
        """Place an order through the API, then read its id from the mock's state: Waffo's
        create-order answers only a checkoutUrl (the merchant learns the order id by webhook)."""
        if self.control is None:
            return None
        session = self.new_session(kind)
        if session is None:
            return None
        status, _ = self._post(f"/v1/actions/{kind}-order/create-order", {"checkoutSessionId": session},
                               {"Authorization": f"Bearer {self.tokens.current()}",
                                "X-Environment": self.tokens.creds.environment})
        if status != 200:
            return None
        namespace = credential_namespace("waffo", self.tokens.creds.merchant_id)
        state = self.control.state(namespace)
        orders = [o for ns in state.get("namespaces", {}).values() for o in ns.get("order", {}).values()]
        with self._lock:
            fresh = [o for o in orders if o.get("type") == kind and o.get("status") == "pending"
                     and o["orderId"] not in self._handed_out]
            if not fresh:
                return None
            order = max(fresh, key=lambda o: (o.get("createdAt", ""), o["orderId"]))
            self._handed_out.add(order["orderId"])
            return order["orderId"]


SESSION_KIND = {"createOnetimeOrder": "onetime", "createSubscriptionOrder": "subscription"}
CANCEL_KIND = {"cancelOnetimeOrder": "onetime", "cancelSubscriptionOrder": "subscription"}


def install_waffo_hooks(schema, ids: WaffoIds) -> None:
    """Only schema-valid ids are swapped: an invalid one is the point of a negative case. Values a
    link puts in the case (stateful phase) are merged after this hook, so they win."""
    counter = {"n": 0}

    def map_case(context, case):
        headers = case.headers
        key = headers.get("X-Idempotency-Key") if isinstance(headers, MutableMapping) else None
        if isinstance(key, str) and IDEMPOTENCY_KEY.match(key):
            # Waffo replays the first 2xx for a key whatever the body; Schemathesis reuses small keys.
            headers["X-Idempotency-Key"] = (key + "-" + uuid.uuid4().hex)[-256:]
        body = case.body if isinstance(case.body, MutableMapping) else None
        if body is None:
            return case
        op = _op(case)
        if op == "createCheckoutSession" and isinstance(body.get("productId"), str) \
                and PRODUCT_ID.match(body["productId"]):
            counter["n"] += 1
            kind = "onetime" if counter["n"] % 2 else "subscription"
            if ids.products.get(kind):
                body["productId"] = ids.products[kind]
                if isinstance(body.get("currency"), str) and CURRENCY.match(body["currency"]):
                    body["currency"] = "USD"
                body.setdefault("billingDetail", {"country": "DE", "isBusiness": False})
        elif op == "issueSessionToken":
            if isinstance(body.get("storeId"), str) and STORE_ID.match(body["storeId"]) \
                    and ids.tokens.creds.store_id:
                body["storeId"] = ids.tokens.creds.store_id
            if isinstance(body.get("productId"), str) and PRODUCT_ID.match(body["productId"]) \
                    and ids.products.get("onetime"):
                body["productId"] = ids.products["onetime"]
        elif op in SESSION_KIND:
            value = body.get("checkoutSessionId")
            if isinstance(value, str) and 1 <= len(value) <= 128:
                body["checkoutSessionId"] = ids.session(SESSION_KIND[op]) or value
        elif op in CANCEL_KIND:
            value = body.get("orderId")
            if isinstance(value, str) and ORDER_ID.match(value):
                body["orderId"] = ids.pending_order(CANCEL_KIND[op]) or value
        return case

    schema.hook(map_case)


def waffo_fixture_products() -> dict[str, str]:
    """The TEST-ONLY catalog's one-time and subscription products (what a mock the kit starts
    serves)."""
    products = shipped_catalog()["waffo"]["products"]
    by_fixture = {p["metadata"]["fixture"]: p["id"] for p in products}
    return {"onetime": by_fixture["ebook"], "subscription": by_fixture["pro_monthly"]}
