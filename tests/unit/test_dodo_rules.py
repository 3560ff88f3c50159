"""Every Dodo checkout business rule, through plain Python (no HTTP)."""
import pytest

from mock_server.core.clock import Clock
from mock_server.core.errors import ApiError
from mock_server.core.store import Store
from mock_server.providers.dodo import models
from mock_server.providers.dodo.models import DodoBackend

NOW = 1_790_000_000.0


@pytest.fixture
def env(catalog):
    clock = Clock()
    clock.freeze(NOW)
    store = Store(clock)
    store.add_seeder("dodo:", lambda _: models.seed(catalog.data))
    backend = DodoBackend(clock, lambda sid: f"http://mock.test/checkout/dodo/session/{sid}")
    return clock, store.namespace("dodo:test"), backend


def cart(catalog, *slugs, quantity=1):
    return [{"product_id": catalog.dodo_id(s), "quantity": quantity} for s in slugs]


def rejected(backend, ns, body) -> ApiError:
    with pytest.raises(ApiError) as info:
        backend.create_session(ns, body)
    assert info.value.status == 422
    return info.value


FULL_ADDRESS = {"street": "1 Main St", "city": "Austin", "state": "TX", "country": "US",
                "zipcode": "78701"}
CUSTOMER = {"email": "ada@example.com", "name": "Ada Lovelace"}


def test_create_returns_ids_urls_and_a_24h_session(env, catalog):
    clock, ns, backend = env
    out = backend.create_session(ns, {"product_cart": cart(catalog, "ebook_guide")})
    assert out["session_id"].startswith("cks_") and len(out["session_id"]) == 25
    assert out["checkout_url"] == f"http://mock.test/checkout/dodo/session/{out['session_id']}"
    assert out["payment_id"] is None and out["client_secret"] is None
    assert ns.expires_at("session", out["session_id"]) == NOW + 24 * 3600
    clock.advance(24 * 3600 - 1)
    assert backend.session_status(ns, out["session_id"])["payment_status"] is None
    clock.advance(1)
    with pytest.raises(ApiError) as info:
        backend.session_status(ns, out["session_id"])
    assert (info.value.status, info.value.code) == (404, "NOT_FOUND")
    assert "expired" in info.value.message


def test_confirmed_session_lives_15_minutes_with_a_payment(env, catalog):
    clock, ns, backend = env
    out = backend.create_session(ns, {"product_cart": cart(catalog, "ebook_guide"), "confirm": True,
                                      "customer": CUSTOMER, "billing_address": FULL_ADDRESS})
    assert out["payment_id"].startswith("pay_")
    assert out["client_secret"].startswith(out["payment_id"] + "_secret_")
    assert ns.expires_at("session", out["session_id"]) == NOW + 15 * 60
    status = backend.session_status(ns, out["session_id"])
    assert status["payment_status"] == "requires_payment_method"
    assert (status["customer_email"], status["customer_name"]) == ("ada@example.com", "Ada Lovelace")
    clock.advance(15 * 60)
    with pytest.raises(ApiError):
        backend.session_status(ns, out["session_id"])


def test_unknown_session_is_404(env):
    _, ns, backend = env
    with pytest.raises(ApiError) as info:
        backend.session_status(ns, "cks_nope")
    assert (info.value.status, info.value.message) == (404, "Checkout session not found")


def test_unknown_product(env):
    _, ns, backend = env
    error = rejected(backend, ns, {"product_cart": [{"product_id": "pdt_missing", "quantity": 1}]})
    assert (error.code, error.message) == ("NOT_FOUND", "Product does not exist")


def test_quantity_below_one(env, catalog):
    _, ns, backend = env
    error = rejected(backend, ns, {"product_cart": cart(catalog, "ebook_guide", quantity=0)})
    assert error.message == "product_cart[0].quantity must be at least 1"


def test_a_cart_may_mix_one_time_and_subscription_products(env, catalog):
    """SDK 1.123.0: one-time products and subscriptions share a cart; today's charge is the
    one-time lines plus what each subscription charges now (nothing in a free trial)."""
    _, ns, backend = env
    book, monthly, yearly = (catalog.dodo_product(s) for s in ("ebook_guide", "monthly_plan", "yearly_plan"))
    out = backend.preview_session(ns, {"product_cart": cart(catalog, "ebook_guide", "monthly_plan", "yearly_plan")})
    # the yearly plan's 7-day trial: nothing for it today, the month's plan charged at once
    assert out["current_breakup"]["subtotal"] == book["price"]["price"] + monthly["price"]["price"]
    assert out["recurring_breakup"]["subtotal"] == monthly["price"]["price"] + yearly["price"]["price"]
    assert out["total_price"] == out["current_breakup"]["total_amount"]
    subs = {s["product_id"]: s for s in out["subscriptions"]}
    assert subs.keys() == {monthly["product_id"], yearly["product_id"]}
    assert subs[yearly["product_id"]]["amount_due_now"] == 0
    assert subs[yearly["product_id"]]["trial_period_days"] == 7
    assert subs[monthly["product_id"]]["amount_due_now"] == subs[monthly["product_id"]]["recurring_amount"]
    assert subs[monthly["product_id"]]["trial_period_days"] is None
    # more than one subscription: the cart-level trial fields are null, the date the earliest
    assert out["trial_period_days"] is None and out["trial_amount"] is None
    assert out["next_billing_date"] == subs[yearly["product_id"]]["next_billing_date"]
    assert out["payment_method_required"] is True
    session = backend.create_session(ns, {"product_cart": cart(catalog, "ebook_guide", "monthly_plan")})
    assert session["session_id"].startswith("cks_")
    # one subscription alone: no per-subscription list, the cart-level fields say it
    alone = backend.preview_session(ns, {"product_cart": cart(catalog, "yearly_plan")})
    assert alone["subscriptions"] is None and alone["trial_period_days"] == 7


def test_a_card_is_optional_only_where_the_price_says_so(env, catalog):
    _, ns, backend = env
    plan = catalog.dodo_product("yearly_plan")
    body = {"product_cart": cart(catalog, "yearly_plan")}
    assert backend.preview_session(ns, body)["payment_method_required"] is True
    with ns.lock:
        stored = ns.get("product", plan["product_id"])
        stored["price"]["trial_payment_method_optional"] = True
        ns.save("product", plan["product_id"], stored)
    assert backend.preview_session(ns, body)["payment_method_required"] is False
    # a one-time line is due today: a card again
    mixed = {"product_cart": cart(catalog, "ebook_guide", "yearly_plan")}
    assert backend.preview_session(ns, mixed)["payment_method_required"] is True


def test_a_paid_trial_charges_its_trial_amount_today(env, catalog):
    _, ns, backend = env
    plan = catalog.dodo_product("yearly_plan")
    with ns.lock:
        stored = ns.get("product", plan["product_id"])
        stored["price"]["trial_amount"] = 500
        ns.save("product", plan["product_id"], stored)
    out = backend.preview_session(ns, {"product_cart": cart(catalog, "yearly_plan"),
                                       "billing_address": {"country": "US", "state": "OR"}})
    assert out["trial_amount"] == 500
    assert out["current_breakup"]["subtotal"] == 500
    assert out["recurring_breakup"]["subtotal"] == plan["price"]["price"]


def test_discount_code_and_discount_codes_are_exclusive(env, catalog):
    _, ns, backend = env
    error = rejected(backend, ns, {"product_cart": cart(catalog, "ebook_guide"),
                                   "discount_code": "WELCOME5", "discount_codes": ["WELCOME5"]})
    assert "cannot be used together" in error.message


@pytest.mark.parametrize("field", ["discount_code", "discount_codes"])
def test_unknown_and_expired_discount_codes(env, catalog, field):
    _, ns, backend = env

    def body(code):
        return {"product_cart": cart(catalog, "ebook_guide"),
                field: code if field == "discount_code" else [code]}
    assert rejected(backend, ns, body("NOPE")).code == "INVALID_DISCOUNT_CODE"
    assert rejected(backend, ns, body("EXPIRED2023")).code == "DISCOUNT_CODE_EXPIRED"
    backend.create_session(ns, body("welcome5"))  # codes are case-insensitive


def test_discount_restricted_to_other_products(env, catalog):
    _, ns, backend = env
    error = rejected(backend, ns, {"product_cart": cart(catalog, "mouse"), "discount_codes": ["LAPTOP10"]})
    assert error.code == "INVALID_DISCOUNT_CODE"
    backend.create_session(ns, {"product_cart": cart(catalog, "laptop"), "discount_codes": ["LAPTOP10"]})


def test_payment_method_id_needs_confirm_and_an_existing_customer(env, catalog):
    _, ns, backend = env
    known = catalog.data["dodo"]["customers"][0]["customer_id"]
    base = {"product_cart": cart(catalog, "ebook_guide"), "payment_method_id": "pm_1",
            "billing_address": FULL_ADDRESS}
    assert "payment_method_id is only allowed" in rejected(
        backend, ns, {**base, "customer": {"customer_id": known}}).message
    assert "payment_method_id is only allowed" in rejected(
        backend, ns, {**base, "confirm": True, "customer": CUSTOMER}).message
    out = backend.create_session(ns, {**base, "confirm": True, "customer": {"customer_id": known}})
    assert out["payment_id"]


def test_unknown_customer_id(env, catalog):
    _, ns, backend = env
    error = rejected(backend, ns, {"product_cart": cart(catalog, "ebook_guide"),
                                   "customer": {"customer_id": "cus_missing"}})
    assert (error.code, error.message) == ("NOT_FOUND", "Customer cus_missing does not exist")


@pytest.mark.parametrize("body_extra, fragment", [
    ({}, "customer is required"),
    ({"customer": {"email": "a@b.co"}}, "customer.name is required"),
    ({"customer": CUSTOMER}, "billing_address is required"),
    ({"customer": CUSTOMER, "billing_address": {"country": "US"}},
     "billing_address.street, billing_address.city, billing_address.state, billing_address.zipcode required"),
    ({"customer": CUSTOMER, "billing_address": {"country": "US"}, "minimal_address": True},
     "billing_address.zipcode required"),
])
def test_confirm_needs_customer_and_billing_details(env, catalog, body_extra, fragment):
    _, ns, backend = env
    error = rejected(backend, ns, {"product_cart": cart(catalog, "ebook_guide"), "confirm": True,
                                   **body_extra})
    assert fragment in error.message


def test_minimal_address_needs_only_country_and_zipcode(env, catalog):
    _, ns, backend = env
    out = backend.create_session(ns, {
        "product_cart": cart(catalog, "ebook_guide"), "confirm": True, "customer": CUSTOMER,
        "minimal_address": True, "billing_address": {"country": "DE", "zipcode": "10115"}})
    assert out["payment_id"]


def test_unsupported_country_and_empty_payment_methods(env, catalog):
    _, ns, backend = env
    assert rejected(backend, ns, {"product_cart": cart(catalog, "ebook_guide"),
                                  "billing_address": {"country": "KP"}}).code == "UNSUPPORTED_COUNTRY"
    assert rejected(backend, ns, {"product_cart": cart(catalog, "ebook_guide"),
                                  "allowed_payment_method_types": []}).code == "NO_ELIGIBLE_PAYMENT_METHODS"


def test_pay_what_you_want(env, catalog):
    _, ns, backend = env
    tip = cart(catalog, "tip_jar")
    base = {"confirm": True, "customer": CUSTOMER, "billing_address": FULL_ADDRESS}
    assert rejected(backend, ns, {"product_cart": tip, **base}).code == "PAY_AS_YOU_WANT_AMOUNT_REQUIRED"
    assert "at least" in rejected(backend, ns, {"product_cart": [{**tip[0], "amount": 99}]}).message
    backend.create_session(ns, {"product_cart": [{**tip[0], "amount": 700}], **base})
    assert "only allowed for pay-what-you-want" in rejected(
        backend, ns, {"product_cart": [{**cart(catalog, "ebook_guide")[0], "amount": 700}]}).message


def test_addons_only_on_subscriptions_and_one_currency_per_cart(env, catalog):
    _, ns, backend = env
    item = {**cart(catalog, "ebook_guide")[0], "addons": [{"addon_id": "adn_1", "quantity": 1}]}
    assert "addons are only allowed" in rejected(backend, ns, {"product_cart": [item]}).message
    assert "share one currency" in rejected(
        backend, ns, {"product_cart": cart(catalog, "ebook_guide", "consulting_service")}).message


def test_tax_id_needs_a_billing_address(env, catalog):
    _, ns, backend = env
    assert "tax_id requires billing_address" in rejected(
        backend, ns, {"product_cart": cart(catalog, "ebook_guide"), "tax_id": "DE123456789"}).message


def test_preview_prices_quantities_discounts_and_exclusive_tax(env, catalog):
    _, ns, backend = env
    price = catalog.dodo_product("ebook_guide")["price"]["price"]
    out = backend.preview_session(ns, {
        "product_cart": cart(catalog, "ebook_guide", quantity=3), "discount_codes": ["BLACKFRIDAY2024"],
        "billing_address": {"country": "US", "state": "CA"}})
    gross = price * 3
    discount = round(gross * 0.2)
    tax = round((gross - discount) * 0.0725)
    assert out["current_breakup"] == {"subtotal": gross, "discount": discount, "tax": tax,
                                      "total_amount": gross - discount + tax}
    assert out["total_price"] == gross - discount + tax
    assert out["product_cart"][0]["tax_rate"] == 725
    assert out["billing_country"] == "US" and out["currency"] == "USD"


def test_preview_inclusive_tax_is_carved_out_and_eu_business_is_reverse_charged(env, catalog):
    _, ns, backend = env
    price = catalog.dodo_product("vat_inclusive_template")["price"]["price"]
    body = {"product_cart": cart(catalog, "vat_inclusive_template"), "billing_address": {"country": "DE"}}
    out = backend.preview_session(ns, body)
    assert out["total_price"] == price  # tax inside the price
    assert out["total_tax"] == price - round(price / 1.19)
    b2b = backend.preview_session(ns, {**body, "tax_id": "DE123456789"})
    assert b2b["total_tax"] == 0 and b2b["product_cart"][0]["tax_rate"] == 0


def test_preview_trial_subscription_charges_nothing_now(env, catalog):
    _, ns, backend = env
    out = backend.preview_session(ns, {"product_cart": cart(catalog, "monthly_plan"),
                                       "subscription_data": {"trial_period_days": 14}})
    assert out["current_breakup"]["total_amount"] == 0
    assert out["recurring_breakup"]["subtotal"] == catalog.dodo_product("monthly_plan")["price"]["price"]
    assert out["trial_period_days"] == 14
    assert out["trial_amount"] is None  # a free trial (the spec: only a paid trial has one)


def test_preview_dates_the_first_renewal_from_the_clock(env, catalog):
    """As the vendor describes next_billing_date: now + the trial, else now + one payment cycle
    (a calendar month or year); none for a one-time cart."""
    clock, ns, backend = env
    clock.freeze(1_738_281_600.0)  # 2025-01-31T00:00:00Z: a month later is February's last day
    monthly = backend.preview_session(ns, {"product_cart": cart(catalog, "monthly_plan")})
    assert monthly["next_billing_date"] == "2025-02-28T00:00:00.000Z"
    trial = backend.preview_session(ns, {"product_cart": cart(catalog, "monthly_plan"),
                                         "subscription_data": {"trial_period_days": 14}})
    assert trial["next_billing_date"] == "2025-02-14T00:00:00.000Z"
    yearly = backend.preview_session(ns, {"product_cart": cart(catalog, "yearly_plan")})
    assert yearly["next_billing_date"] == "2025-02-07T00:00:00.000Z"  # its 7-day trial
    assert backend.preview_session(ns, {"product_cart": cart(catalog, "ebook_guide")})[
        "next_billing_date"] is None


def test_billing_cycles_follow_the_calendar():
    from mock_server.core.billing_cycles import after
    from mock_server.core.clock import iso

    jan31 = 1_738_281_600.0  # 2025-01-31T00:00:00Z
    assert iso(after(jan31, 1, "Month")) == "2025-02-28T00:00:00.000Z"
    assert iso(after(jan31, 13, "Month")) == "2026-02-28T00:00:00.000Z"
    assert iso(after(1_706_659_200.0, 1, "Month")) == "2024-02-29T00:00:00.000Z"  # leap year
    assert iso(after(jan31, 1, "Year")) == "2026-01-31T00:00:00.000Z"
    assert iso(after(jan31, 2, "Week")) == "2025-02-14T00:00:00.000Z"
    assert iso(after(jan31, 1, "Day")) == "2025-02-01T00:00:00.000Z"
    with pytest.raises(ValueError, match="unknown billing interval 'Fortnight'"):
        after(jan31, 1, "Fortnight")


def test_flat_discount_and_minimum_amount(env, catalog):
    _, ns, backend = env
    tip = cart(catalog, "tip_jar")[0]
    body = {"discount_codes": ["WELCOME5"], "billing_address": {"country": "US", "state": "OR"}}
    out = backend.preview_session(ns, {"product_cart": [{**tip, "amount": 800}], **body})
    assert out["current_breakup"] == {"subtotal": 800, "discount": 500, "tax": 0, "total_amount": 300}
    # 520 - 500 leaves 20 cents, below Dodo's 0.50 minimum
    with pytest.raises(ApiError) as info:
        backend.preview_session(ns, {"product_cart": [{**tip, "amount": 520}], **body})
    assert info.value.code == "TOTAL_PAYMENT_AMOUNT_BELOW_MINIMUM_AMOUNT"


def test_products_list_pages_and_filters(env, catalog):
    _, ns, backend = env
    total = len(catalog.data["dodo"]["products"])
    first = backend.products.list(ns, {"page_size": 5, "page_number": 0})["items"]
    assert len(first) == 5
    everything = backend.products.list(ns, {"page_size": 100})["items"]
    assert len(everything) == total
    assert [p["product_id"] for p in first] == [p["product_id"] for p in everything[:5]]
    recurring = backend.products.list(ns, {"page_size": 100, "recurring": True})["items"]
    assert recurring and all(p["is_recurring"] for p in recurring)
    assert backend.products.list(ns, {"page_number": 99})["items"] == []


def test_a_stored_session_reads_back_whole_and_old_state_files_upgrade(env, catalog):
    """The store packs every object (tests/unit/test_store.py); a session reads back as it was
    made, and one from a 0.1.0 state file (nested parts as JSON text) reads the same."""
    import orjson

    _, ns, backend = env
    body = {"product_cart": cart(catalog, "ebook_guide"), "customer": CUSTOMER,
            "billing_address": FULL_ADDRESS, "metadata": {"order": "42"}}
    out = backend.create_session(ns, body)
    stored = ns.get("session", out["session_id"])
    assert stored["request"] == body and stored["customer"]["email"] == CUSTOMER["email"]
    assert stored["pricing"] == backend.preview_session(ns, body)
    assert stored["billing_address"] is None  # set once the buyer gives one on the hosted page
    old = dict(stored, **{name: orjson.dumps(stored[name]).decode()
                          for name in ("request", "pricing", "customer")})
    assert models.upgrade_session(old) == stored

def test_discounts_list_pages_and_filters_as_the_spec_documents(env, catalog):
    clock, ns, backend = env  # NOW is 2026-09: EXPIRED2023 expired on 2025-01-01

    def codes(**query):
        return [d["code"] for d in backend.discounts.list(ns, query)["items"]]

    assert codes() == ["BLACKFRIDAY2024", "WELCOME5", "LAPTOP10", "EXPIRED2023"]  # oldest first
    assert codes(page_size=2, page_number=1) == ["LAPTOP10", "EXPIRED2023"]
    assert codes(code="friday") == ["BLACKFRIDAY2024"]  # partial, case-insensitive
    assert codes(discount_type="flat") == ["WELCOME5"]
    assert codes(active=False) == ["EXPIRED2023"]
    assert codes(active=True) == ["BLACKFRIDAY2024", "WELCOME5", "LAPTOP10"]
    laptop = catalog.dodo_id("laptop")
    assert "LAPTOP10" in codes(product_id=laptop)
    assert "LAPTOP10" not in codes(product_id=catalog.dodo_id("ebook_guide"))
    assert "WELCOME5" in codes(product_id=laptop)  # restricted to nothing: applies to it too
    clock.freeze(1_700_000_000.0)  # 2023-11: before the expiry, EXPIRED2023 was redeemable
    assert "EXPIRED2023" in codes(active=True)


def test_a_discount_is_read_by_its_id(env):
    _, ns, backend = env
    first = backend.discounts.list(ns, {})["items"][0]
    assert backend.discounts.get(ns, first["discount_id"]) == first
    with pytest.raises(ApiError) as info:
        backend.discounts.get(ns, "dsc_unknown")
    assert (info.value.status, info.value.message) == (404, "Discount not found")


def test_customers_list_and_patch(env, catalog):
    clock, ns, backend = env
    seeded = backend.list_customers(ns, {})["items"]
    assert len(seeded) == len(catalog.data["dodo"]["customers"])
    clock.freeze(NOW + 3600)
    made = backend.create_customer(ns, {"email": "Ada@Example.com", "name": "Ada Lovelace"})

    def emails(**query):
        return [c["email"] for c in backend.list_customers(ns, query)["items"]]

    assert emails(email="ada@example.COM") == ["Ada@Example.com"]  # the address, any case
    assert emails(name="LOVEL") == ["Ada@Example.com"]  # partial, case-insensitive
    assert emails(created_at_gte=made["created_at"]) == ["Ada@Example.com"]
    assert "Ada@Example.com" not in emails(created_at_lte="2026-01-01T00:00:00Z")
    assert emails(page_size=1, page_number=len(seeded)) == ["Ada@Example.com"]  # oldest first

    patched = backend.patch_customer(ns, made["customer_id"], {
        "name": "Augusta Ada King", "metadata": {"tier": "gold"}, "phone_number": None})
    assert (patched["name"], patched["metadata"], patched["email"]) == (
        "Augusta Ada King", {"tier": "gold"}, "Ada@Example.com")
    assert backend.get_customer(ns, made["customer_id"]) == patched  # stored
    with pytest.raises(ApiError) as info:
        backend.patch_customer(ns, "cus_unknown", {"name": "x"})
    assert (info.value.status, info.value.message) == (404, "Customer not found")
