"""Dodo Payments domain rules: checkout sessions and the catalog they read.

Plain Python: every rule here is called by unit tests without HTTP. Shapes (types, enums, required
fields, documented limits) are checked by the contract before a body gets here; this module holds
only the rules a schema cannot state. Errors are `ApiError`s carrying Dodo's code and message.
"""
from __future__ import annotations


import orjson

from ...core import ids
from ...core.clock import Clock, iso
from ...core.resource_engine import kind
from ...core.store import Namespace
from ...core.urls import return_url_problem
from . import paging, pricing
from .discounts import DISCOUNT, Discounts
from .products import PRODUCT, Products, archived
from .errors import invalid, not_found

SESSION_TTL = 24 * 3600
CONFIRMED_SESSION_TTL = 15 * 60
MIN_TOTAL = 50  # minor units: Dodo refuses a payment below $0.50
# Countries the mock treats as unsupported (the real list lives behind /checkout/supported_countries).
UNSUPPORTED_COUNTRIES = frozenset({"CU", "IR", "KP", "RU", "SY"})
FULL_ADDRESS = ("street", "city", "state", "zipcode")
PUBLISHABLE_KEY = "pk_test_paymock_TEST_ONLY"

SESSION, CUSTOMER, PAYMENT = "session", "customer", "payment"


def upgrade_session(session: dict) -> dict:
    """A session from a state file of 0.1.0, which kept its nested parts as JSON text."""
    return {key: orjson.loads(value) if key in ("request", "pricing", "customer", "billing_address")
            and isinstance(value, str) else value for key, value in session.items()}


def seed(catalog: dict):
    """Objects a new Dodo namespace starts with (the store keeps each namespace its own copy)."""
    dodo = catalog.get("dodo", {})
    for product in dodo.get("products", []):
        yield PRODUCT, product["product_id"], product
    for customer in dodo.get("customers", []):
        yield CUSTOMER, customer["customer_id"], customer
    for discount in dodo.get("discounts", []):
        yield DISCOUNT, discount["code"].upper(), discount


def discount_codes(request: dict) -> list[str]:
    """The codes a checkout request redeems (`discount_code` is the deprecated single form)."""
    if request.get("discount_codes") is not None:
        return list(request["discount_codes"])
    return [request["discount_code"]] if request.get("discount_code") is not None else []


class DodoBackend:
    def __init__(self, clock: Clock, checkout_url, business_id: str = "bus_paymock", payments=None):
        self.clock = clock
        self.discounts = Discounts(clock, business_id)
        self.products = Products(clock, business_id)
        self._checkout_url = checkout_url  # session id -> hosted page URL
        self.business_id = business_id
        self.payments = payments  # payments.DodoPayments once the app wires the core payments in
        self.subscriptions = None  # subscriptions.Subscriptions, wired with the payments
        self.renewals = None       # subscription_renewals.Renewals (the clock's job, dunning)
        self.retries = None        # payment_retries.ManualRetries
        self.plans = None          # subscription_plans.PlanChanges
        self.charges = None        # subscription_charges.SubscriptionCharges

    # -- checkout sessions ------------------------------------------------------------------
    def create_session(self, ns: Namespace, body: dict) -> dict:
        self._check_urls(body)
        quote = self._check(ns, body)
        now = self.clock.now()
        confirm = bool(body.get("confirm"))
        session_id = ids.prefixed("cks", 21)
        customer = self._customer_details(ns, body.get("customer"))
        payment_id = client_secret = None
        if confirm:
            payment_id = ids.prefixed("pay", 21)
            client_secret = f"{payment_id}_secret_{ids.base62(24)}"
        expires_at = now + (CONFIRMED_SESSION_TTL if confirm else SESSION_TTL)
        session = {
            "id": session_id, "created_at": iso(now), "expires_at": iso(expires_at),
            "customer": customer, "payment_id": payment_id, "payment_status": None,
            "request": body, "pricing": quote, "billing_address": None,
        }
        with ns.lock:
            ns.put(SESSION, session_id, session, expires_at=expires_at)
            if confirm and self.payments is not None:
                self.payments.open_confirmed(ns, session, payment_id)
                ns.save(SESSION, session_id, session)
            elif confirm:
                ns.put(PAYMENT, payment_id, {
                    "payment_id": payment_id, "checkout_session_id": session_id,
                    "status": "requires_payment_method", "total_amount": quote["total_price"],
                    "currency": quote["currency"], "customer": customer, "created_at": iso(now),
                    "metadata": body.get("metadata") or {},
                })
                session["payment_status"] = "requires_payment_method"
                ns.save(SESSION, session_id, session)
        return {
            "session_id": session_id, "checkout_url": self._checkout_url(session_id),
            "client_secret": client_secret, "payment_id": payment_id,
            "publishable_key": PUBLISHABLE_KEY,
        }

    def count_discount_use(self, ns: Namespace, payment: dict, previous: str) -> None:
        """DodoPayments hook: a checkout's payment succeeded, so each code it redeemed counts a
        use (`times_used`, which `usage_limit` caps)."""
        if payment["status"] != "succeeded" or payment["ref"].get("kind") != SESSION:
            return
        session = ns.get(SESSION, payment["ref"]["id"], include_expired=True)
        if session is not None:
            self.discounts.used(ns, discount_codes(session["request"]))

    def preview_session(self, ns: Namespace, body: dict) -> dict:
        return self._check(ns, body)

    def session_status(self, ns: Namespace, session_id: str) -> dict:
        session = ns.get(SESSION, session_id)
        if session is None:
            if ns.is_expired(SESSION, session_id):
                raise not_found(f"Checkout session {session_id} has expired")
            raise not_found("Checkout session not found")
        customer = session["customer"] or {}
        return {
            "id": session["id"], "created_at": session["created_at"],
            "customer_email": customer.get("email"), "customer_name": customer.get("name"),
            "payment_id": session["payment_id"], "payment_status": session["payment_status"],
        }

    # -- rules ------------------------------------------------------------------------------
    @staticmethod
    def _check_urls(body: dict) -> None:
        """Where the buyer is sent back to must be a URL the pages can use (a session's pages
        reprice with `_check`, never this: a stored URL never stops a buyer)."""
        for field in ("return_url", "cancel_url"):
            problem = return_url_problem(body.get(field))
            if problem is not None:
                raise invalid(f"{field} {problem}")

    def _check(self, ns: Namespace, body: dict) -> dict:
        """Apply every business rule of create/preview; returns the price calculation."""
        confirm = bool(body.get("confirm"))
        if body.get("discount_code") is not None and body.get("discount_codes") is not None:
            raise invalid("discount_code and discount_codes cannot be used together; "
                          "send discount_codes only (discount_code is deprecated)")
        if body.get("product_collection_id") is not None:
            # Collections exist (the generic engine's /product-collections), but the hosted
            # page that lets the buyer pick from one is not built: an unknown one is Dodo's
            # NOT_FOUND, a known one a plain refusal that says so.
            collection = body["product_collection_id"]
            if ns.get(kind("/product-collections"), collection) is None:
                raise invalid(f"Product collection {collection} not found", "NOT_FOUND")
            raise invalid("Checkout sessions for a product collection are not emulated by "
                          "paymock yet; send the products in product_cart")
        if not body["product_cart"]:
            # Dodo's code is spelt so (docs: api-reference/error-codes).
            raise invalid("product_cart is empty", "PRODUCT_CART_EMTPY")
        cart = self._resolve_cart(ns, body["product_cart"], confirm)
        customer = body.get("customer") or None
        if customer and customer.get("customer_id") is not None:
            if ns.get(CUSTOMER, customer["customer_id"]) is None:
                raise invalid(f"Customer {customer['customer_id']} does not exist", "NOT_FOUND")
        if body.get("payment_method_id") is not None:
            if not confirm or not (customer and customer.get("customer_id")):
                raise invalid("payment_method_id is only allowed with confirm=true and an "
                              "existing customer (customer.customer_id)")
        billing = body.get("billing_address") or None
        if billing and billing["country"] in UNSUPPORTED_COUNTRIES:
            raise invalid(f"Country {billing['country']} is not supported", "UNSUPPORTED_COUNTRY")
        if body.get("tax_id") is not None and not billing:
            raise invalid("tax_id requires billing_address with a country")
        methods = body.get("allowed_payment_method_types")
        if methods is not None and len(methods) == 0:
            raise invalid("allowed_payment_method_types leaves no payment method; include "
                          "credit and debit as a fallback", "NO_ELIGIBLE_PAYMENT_METHODS")
        if confirm:
            self._check_confirmable(customer, billing, bool(body.get("minimal_address")))
        discounts = self._resolve_discounts(ns, body, cart)
        trial = (body.get("subscription_data") or {}).get("trial_period_days")
        quote = pricing.calculate(cart, discounts, billing, body.get("tax_id"), trial,
                                  self.clock.now())
        if 0 < quote["total_price"] < MIN_TOTAL:
            raise invalid("Total payment amount is below the minimum amount of 0.50",
                          "TOTAL_PAYMENT_AMOUNT_BELOW_MINIMUM_AMOUNT")
        return quote

    def _resolve_cart(self, ns: Namespace, items: list[dict], confirm: bool) -> list[dict]:
        cart = []
        for index, item in enumerate(items):
            if item["quantity"] < 1:
                raise invalid(f"product_cart[{index}].quantity must be at least 1")
            product = ns.read(PRODUCT, item["product_id"])  # priced, never changed here
            if product is None:
                raise invalid("Product does not exist", "NOT_FOUND")
            if archived(product):
                raise invalid(f"Product {item['product_id']} is archived and cannot be bought",
                              "PRODUCT_IS_DELETED")
            price = product["price"]
            if item.get("addons") and not product["is_recurring"]:
                raise invalid(f"product_cart[{index}].addons are only allowed on subscription products")
            amount = item.get("amount")
            if price.get("pay_what_you_want"):
                if amount is None and confirm:
                    raise invalid(f"product_cart[{index}].amount is required for a pay-what-you-want "
                                  "product", "PAY_AS_YOU_WANT_AMOUNT_REQUIRED")
                if amount is not None and amount < price["price"]:
                    raise invalid(f"product_cart[{index}].amount must be at least the product's "
                                  f"minimum price {price['price']}")
            elif amount is not None:
                raise invalid(f"product_cart[{index}].amount is only allowed for pay-what-you-want products")
            cart.append({"product": product, "quantity": item["quantity"], "amount": amount})
        currencies = {entry["product"]["price"]["currency"] for entry in cart}
        if len(currencies) > 1:
            raise invalid(f"All products in a cart must share one currency, got {sorted(currencies)}")
        return cart

    @staticmethod
    def _check_confirmable(customer, billing, minimal: bool) -> None:
        if not customer:
            raise invalid("customer is required when confirm is true")
        if customer.get("customer_id") is None and not customer.get("name"):
            raise invalid("customer.name is required when confirm is true")
        if not billing:
            raise invalid("billing_address is required when confirm is true")
        needed = ("zipcode",) if minimal else FULL_ADDRESS
        missing = [f"billing_address.{name}" for name in needed if not billing.get(name)]
        if missing:
            hint = "" if minimal else " (or set minimal_address=true to need only country and zipcode)"
            raise invalid(f"{', '.join(missing)} required when confirm is true{hint}")

    def _resolve_discounts(self, ns: Namespace, body: dict, cart: list[dict]) -> list[dict]:
        return self.discounts.redeem(ns, discount_codes(body), cart)

    @staticmethod
    def _customer_details(ns: Namespace, customer: dict | None) -> dict | None:
        if not customer:
            return None
        if customer.get("customer_id") is not None:
            found = ns.get(CUSTOMER, customer["customer_id"])
            return {"customer_id": found["customer_id"], "email": found["email"],
                    "name": found["name"], "phone_number": found.get("phone_number")}
        return {"customer_id": None, "email": customer["email"], "name": customer.get("name"),
                "phone_number": customer.get("phone_number")}

    # -- customers --------------------------------------------------------------------------
    def create_customer(self, ns: Namespace, body: dict) -> dict:
        customer = {
            "customer_id": ids.prefixed("cus", 21), "business_id": self.business_id,
            "name": body["name"], "email": body["email"],
            "phone_number": body.get("phone_number"), "metadata": body.get("metadata") or {},
            "created_at": iso(self.clock.now()),
        }
        return ns.put(CUSTOMER, customer["customer_id"], customer)

    def list_customers(self, ns: Namespace, query: dict) -> dict:
        """GET /customers, oldest first, paged like products: `email` (whole address, any case),
        `name` (partial, case-insensitive), `created_at_gte` / `created_at_lte`."""
        customers = sorted(ns.values(CUSTOMER), key=lambda c: c["created_at"])
        if query.get("email") is not None:
            email = query["email"].lower()
            customers = [c for c in customers if (c.get("email") or "").lower() == email]
        if query.get("name") is not None:
            name = query["name"].lower()
            customers = [c for c in customers if name in (c.get("name") or "").lower()]
        created_between = paging.created_between(query)
        customers = [c for c in customers if created_between(c["created_at"])]
        return {"items": paging.page(customers, query)}

    def patch_customer(self, ns: Namespace, customer_id: str, body: dict) -> dict:
        """PATCH /customers/{id}: each field given (not null) replaces the stored one, metadata
        included (as a whole, as PATCH does to a field); absent or null leaves it as it is."""
        customer = ns.get(CUSTOMER, customer_id)
        if customer is None:
            raise not_found("Customer not found")
        for field in ("email", "name", "phone_number", "metadata"):
            if body.get(field) is not None:
                customer[field] = body[field]
        if not ns.save(CUSTOMER, customer_id, customer):
            raise not_found("Customer not found")
        return customer

    def get_customer(self, ns: Namespace, customer_id: str) -> dict:
        customer = ns.get(CUSTOMER, customer_id)
        if customer is None:
            raise not_found("Customer not found")
        return customer
