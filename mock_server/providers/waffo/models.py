"""Waffo Pancake domain rules: checkout sessions, session tokens, one-time and subscription orders.

Plain Python, unit-testable without HTTP. The contract has already checked shapes (types, required
fields, patterns, the billing-detail conditions) before a body gets here; this module holds the
rules a schema cannot state. Errors are `ApiError(status, message, layer)`.
"""
from __future__ import annotations

import copy
import uuid

from ...core.clock import Clock, iso
from ...core.store import Namespace
from . import billing, products
from .auth import TokenIssuer
from .common import (PRODUCT, SESSION, SESSION_INVALID, STORE, Caller, check_success_url, error,
                     normalise_email)
from .orders import OrderBook
from .plan_changes import PlanChanges
from .subscriptions import Subscriptions

SESSION_TTL = 45 * 60
FORCED_TRIAL_DAYS = 7  # withTrial=true on a plan without a trial: unconfirmed length


def seed_objects(catalog: dict, merchant_id: str | None):
    """Stores and products a merchant namespace starts with (its own copies).

    A fixture merchant gets its own stores; any other merchant (registered at run time or taken
    in lenient mode) gets a copy of the first fixture merchant's stores, so quick starts can use
    the documented fixture ids.
    """
    merchants = catalog.get("merchants", [])
    owners = {m["merchantId"] for m in merchants}
    owner = merchant_id if merchant_id in owners else (merchants[0]["merchantId"] if merchants else None)
    store_ids = set()
    for store in catalog.get("stores", []):
        if store["merchantId"] == owner:
            store_ids.add(store["id"])
            yield STORE, store["id"], dict(copy.deepcopy(store), merchantId=merchant_id or owner)
    for product in catalog.get("products", []):
        if product["storeId"] in store_ids:
            yield PRODUCT, product["id"], copy.deepcopy(product)


class WaffoBackend:
    def __init__(self, clock: Clock, tokens: TokenIssuer, hosted_url, psp, payments=None,
                 change_url=None):
        self.clock = clock
        self.tokens = tokens
        self._hosted_url = hosted_url  # (store slug, session id) -> hosted checkout URL
        # (store slug, session id) -> the plan-change confirmation page
        self.change_url = change_url or (
            lambda slug, session_id: f"/checkout/waffo/store/{slug}/change/{session_id}")
        self.psp = psp  # the seam: anything with create_checkout(order) -> {checkoutUrl, ...}
        self.payments = payments  # payments.WaffoPayments once the app wires core payments in
        self.orders = OrderBook(self)
        # Periods, renewals and their events; the app's (with the store, the scheduler and the
        # outbox) replaces this one, which keeps plain rule tests free of them.
        self.subscriptions = Subscriptions(self, None)
        self.plan_changes = PlanChanges(self, self.subscriptions)

    # -- catalog lookups ----------------------------------------------------------------------
    @staticmethod
    def store(ns: Namespace, store_id: str) -> dict:
        store = ns.get(STORE, store_id)
        if store is None or store.get("deletedAt") is not None:
            raise error(404, "Store not found", "store")
        return store

    @staticmethod
    def product(ns: Namespace, product_id: str, environment: str) -> dict:
        """The product as the caller's environment sees it (products.view): its current version
        there, which must exist and be active."""
        stored = ns.get(PRODUCT, product_id)
        product = None if stored is None else products.view(stored, environment)
        if product is None or product.get("status") != "active":
            raise error(404, "Product not found", "product")
        return product

    @staticmethod
    def check_store_usable(store: dict, environment: str) -> None:
        if store.get("status") != "active":
            raise error(403, "Store not active", "store")
        if environment == "prod" and not store.get("prodEnabled"):
            raise error(403, "Store not production enabled", "store")

    # -- session tokens -----------------------------------------------------------------------
    def issue_session_token(self, ns: Namespace, caller: Caller, body: dict) -> dict:
        store_id = body.get("storeId")
        if body.get("productId") is not None:
            product = self.product(ns, body["productId"], caller.environment)
            if store_id is not None and product["storeId"] != store_id:
                raise error(403, "Product not in store", "product")
            store_id = product["storeId"]
        store = self.store(ns, store_id)
        self.check_store_usable(store, caller.environment)
        token, expires_at = self.tokens.issue(caller.merchant_id, store["id"], body["buyerIdentity"])
        return {"token": token, "expiresAt": iso(expires_at)}

    # -- checkout sessions --------------------------------------------------------------------
    def create_session(self, ns: Namespace, caller: Caller, body: dict) -> dict:
        check_success_url(body)
        if body.get("originOrderId") is not None:  # the same action in plan-change mode
            return self.plan_changes.create_session(ns, caller, body)
        if caller.kind == "session_token":  # the SDK sends a customer's token for changes only
            raise error(403, "A customer session token can only create plan-change sessions",
                        "order")
        product = self.product(ns, body["productId"], caller.environment)
        if caller.store_id is not None and product["storeId"] != caller.store_id:
            raise error(403, "Product not in store", "product")
        store = self.store(ns, product["storeId"])
        self.check_store_usable(store, caller.environment)
        currency = body["currency"]
        kind = product["type"]
        methods = billing.payment_methods(kind, currency, body.get("includePaymentMethods"),
                                          body.get("excludePaymentMethods"))
        if methods is None:
            raise error(400, f"Currency {currency} is not supported for {kind} products", "order")
        if not methods:
            raise error(400, "includePaymentMethods/excludePaymentMethods leave no payment method "
                             f"available for {kind} products in {currency}", "order")
        # Merchant-only fields: a store-slug visitor's values are dropped, as the platform does.
        merchant = caller.kind == "api_key"
        snapshot = body.get("priceSnapshot") if merchant else None
        if snapshot is not None:
            price = {"amount": snapshot["amount"], "taxCategory": snapshot["taxCategory"]}
        elif currency in product["prices"]:
            price = dict(product["prices"][currency])
        else:
            raise error(400, f"Product has no price in {currency}", "product")
        now = self.clock.now()
        expires_at = now + body.get("expiresInSeconds", SESSION_TTL)
        session_id = f"cs_{uuid.uuid4()}"
        with_trial = body.get("withTrial") if kind == "subscription" and merchant else None
        trial_days = None
        if kind == "subscription" and with_trial is not False:
            trial_days = product.get("trialDays") or (FORCED_TRIAL_DAYS if with_trial else None)
        session = {
            "sessionId": session_id, "environment": caller.environment,
            "merchantId": caller.merchant_id, "createdVia": caller.kind,
            "storeId": store["id"], "storeSlug": store["slug"],
            # The version the session was made with: a later update of the product makes a
            # new version and leaves this session's price, name and trial as they are.
            "productId": product["id"], "productVersion": product.get("version", 1),
            "productVersionId": product.get("versionId"),
            "productName": product["name"], "productType": kind, "currency": currency,
            "price": price, "priceSource": "snapshot" if snapshot is not None else "catalog",
            "billingPeriod": product.get("billingPeriod"),
            "trialDays": trial_days,
            "withTrial": with_trial, "paymentMethods": list(methods),
            "buyerEmail": normalise_email(body.get("buyerEmail")),
            "billingDetail": copy.deepcopy(body.get("billingDetail")),
            "successUrl": body.get("successUrl"), "darkMode": body.get("darkMode"),
            "language": body.get("language"), "metadata": dict(body.get("metadata") or {}),
            "orderMerchantExternalId": body.get("orderMerchantExternalId") if merchant else None,
            "createdAt": iso(now), "expiresAt": iso(expires_at), "orderIds": [],
        }
        ns.put(SESSION, session_id, session, expires_at=expires_at)
        return {"sessionId": session_id, "checkoutUrl": self._hosted_url(store["slug"], session_id),
                "expiresAt": session["expiresAt"]}

    def open_session(self, ns: Namespace, session_id: str) -> dict:
        """A live session, or Waffo's 409 (unknown and expired look the same to the buyer)."""
        session = ns.get(SESSION, session_id)
        if session is None:
            raise error(409, SESSION_INVALID, "order")
        return session

    # -- orders (rules in orders.py) ------------------------------------------------------------
    def create_order(self, ns: Namespace, caller: Caller, body: dict, kind: str) -> dict:
        return self.orders.create(ns, caller, body, kind)

    def cancel_order(self, ns: Namespace, caller: Caller, body: dict, kind: str) -> dict:
        return self.orders.cancel(ns, caller, body["orderId"], kind)
