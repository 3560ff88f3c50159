"""The official `dodopayments` Python SDK, unchanged, pointed at the mock only by base URL.

Each case is one of the ten configurations of Dodo's checkout-session guide (seed 000), with the
guide's product names mapped to fixture products of the same name.
"""
import dodopayments
import pytest
import requests
from dodopayments import DodoPayments

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.core.http import credential_namespace
from mock_server.server import Server
from tests.conftest import API_KEY

US_ADDRESS = {"street": "123 Main St", "city": "San Francisco", "state": "CA", "country": "US",
              "zipcode": "94102"}


def guide_examples(p):
    """The guide's ten examples; `p(slug)` gives the fixture product id."""
    return {
        "1 simple single product": dict(
            product_cart=[{"product_id": p("ebook_guide"), "quantity": 1}],
            customer={"email": "john@example.com", "name": "John Doe"},
            return_url="https://yoursite.com/success"),
        "2 multi-product cart": dict(
            product_cart=[{"product_id": p("laptop"), "quantity": 1},
                          {"product_id": p("mouse"), "quantity": 2},
                          {"product_id": p("warranty"), "quantity": 1}],
            customer={"email": "john@example.com", "name": "John Doe", "phone_number": "+1234567890"},
            billing_address={**US_ADDRESS, "street": "123 Tech Street"},
            return_url="https://electronics-store.com/order-confirmation"),
        "3 subscription with trial": dict(
            product_cart=[{"product_id": p("monthly_plan"), "quantity": 1}],
            subscription_data={"trial_period_days": 14},
            customer={"email": "jane@example.com", "name": "Jane Smith"},
            return_url="https://saas-app.com/onboarding",
            metadata={"plan_type": "professional", "referral_source": "google_ads"}),
        "4 pre-confirmed": dict(
            product_cart=[{"product_id": p("premium_course"), "quantity": 1}],
            customer={"email": "alex@example.com", "name": "Alex Johnson", "phone_number": "+1555123456"},
            billing_address={"street": "456 University Ave", "city": "Boston", "state": "MA",
                             "country": "US", "zipcode": "02134"},
            confirm=True, return_url="https://learning-platform.com/course-access",
            metadata={"course_category": "programming", "enrollment_date": "2024-01-15"}),
        "5 currency override": dict(
            product_cart=[{"product_id": p("consulting_service"), "quantity": 1}],
            customer={"email": "oliver@example.com", "name": "Oliver Williams"},
            billing_address={"street": "789 Business Park", "city": "London", "state": "England",
                             "country": "GB", "zipcode": "SW1A 1AA"},
            billing_currency="GBP",
            feature_flags={"allow_currency_selection": True, "allow_tax_id": True},
            return_url="https://consulting-firm.com/service-confirmation"),
        "6 saved payment methods": dict(
            product_cart=[{"product_id": p("monthly_subscription"), "quantity": 1}],
            customer={"email": "robert@example.com", "name": "Robert Johnson", "phone_number": "+1555987654"},
            show_saved_payment_methods=True,
            feature_flags={"allow_phone_number_collection": True, "always_create_new_customer": False},
            return_url="https://subscription-service.com/welcome-back",
            metadata={"customer_tier": "premium", "account_age": "returning"}),
        "7 B2B with tax id": dict(
            product_cart=[{"product_id": p("enterprise_license"), "quantity": 5}],
            customer={"email": "sarah@example.com", "name": "Sarah Davis", "phone_number": "+1800555000"},
            billing_address={"street": "1000 Corporate Blvd", "city": "New York", "state": "NY",
                             "country": "US", "zipcode": "10001"},
            feature_flags={"allow_tax_id": True, "allow_phone_number_collection": True,
                           "always_create_new_customer": False},
            return_url="https://enterprise-software.com/license-delivery",
            metadata={"customer_type": "enterprise", "contract_id": "ENT-2024-001",
                      "sales_rep": "rep@example.com"}),
        "8 dark theme with discount code": dict(
            product_cart=[{"product_id": p("gaming_chair"), "quantity": 1}],
            discount_code="BLACKFRIDAY2024",
            customization={"theme": "dark", "show_order_details": True, "show_on_demand_tag": False},
            feature_flags={"allow_discount_code": True},
            customer={"email": "mike@example.com", "name": "Mike Chen"},
            return_url="https://gaming-store.com/order-complete"),
        "9 UPI in India": dict(
            product_cart=[{"product_id": p("online_course_hindi"), "quantity": 1}],
            allowed_payment_method_types=["upi_collect", "upi_intent", "credit", "debit"],
            customer={"email": "priya@example.com", "name": "Priya Sharma", "phone_number": "+919876543210"},
            billing_address={"street": "MG Road", "city": "Bangalore", "state": "Karnataka",
                             "country": "IN", "zipcode": "560001"},
            billing_currency="INR", return_url="https://education-platform.in/course-access",
            metadata={"region": "south_india", "language": "hindi"}),
        "10 buy now pay later": dict(
            product_cart=[{"product_id": p("luxury_watch"), "quantity": 1}],
            allowed_payment_method_types=["klarna", "affirm", "afterpay_clearpay", "credit", "debit"],
            customer={"email": "emma@example.com", "name": "Emma Thompson", "phone_number": "+1234567890"},
            billing_address={"street": "555 Fashion Ave", "city": "Los Angeles", "state": "CA",
                             "country": "US", "zipcode": "90210"},
            feature_flags={"allow_phone_number_collection": True},
            return_url="https://luxury-store.com/purchase-confirmation",
            metadata={"product_category": "luxury", "price_range": "high_value"}),
    }


@pytest.fixture(scope="module")
def sdk(live_server):
    return DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)


EXAMPLE_NAMES = list(guide_examples(lambda slug: slug))


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_guide_example_creates_a_session_the_sdk_can_read_back(sdk, live_server, catalog, name):
    params = guide_examples(catalog.dodo_id)[name]
    session = sdk.checkout_sessions.create(**params)
    assert session.session_id.startswith("cks_")
    assert session.checkout_url == f"{live_server.url}/checkout/dodo/session/{session.session_id}"

    status = sdk.checkout_sessions.retrieve(session.session_id)
    assert status.id == session.session_id
    assert status.customer_email == params["customer"]["email"]
    confirmed = params.get("confirm", False)
    assert (status.payment_id is not None) == confirmed
    assert status.payment_status == ("requires_payment_method" if confirmed else None)

    # the server stored what the SDK sent, under the namespace of the SDK's key
    state = requests.get(f"{live_server.url}/_mock/state", timeout=5,
                         params={"namespace": credential_namespace("dodo", API_KEY)}).json()
    stored = state["namespaces"][credential_namespace("dodo", API_KEY)]["session"][session.session_id]
    assert stored["request"]["product_cart"] == params["product_cart"]
    assert stored["request"].get("metadata") == params.get("metadata")


def test_the_current_sdks_checkout_flags_are_taken_and_kept(sdk, live_server, catalog):
    """SDK 1.123.0's feature flags: single_page (spec 1.113.0) and require_tax_id /
    require_cardholder_name (the SDK's types only; the contract's overlay declares them)."""
    flags = {"single_page": True, "require_tax_id": True, "allow_tax_id": True,
             "require_cardholder_name": True}
    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": catalog.dodo_id("ebook_guide"), "quantity": 1}],
        feature_flags=flags)
    state = requests.get(f"{live_server.url}/_mock/state", timeout=5,
                         params={"namespace": credential_namespace("dodo", API_KEY)}).json()
    stored = state["namespaces"][credential_namespace("dodo", API_KEY)]["session"][session.session_id]
    assert stored["request"]["feature_flags"] == flags
    refused = requests.post(f"{live_server.url}/dodo/checkouts", timeout=5,
                            headers={"Authorization": f"Bearer {API_KEY}"},
                            json={"product_cart": [{"product_id": catalog.dodo_id("ebook_guide"),
                                                    "quantity": 1}],
                                  "feature_flags": {"require_tax_id": "yes"}})
    assert refused.status_code == 422 and "require_tax_id" in refused.text


def test_preview_through_the_sdk(sdk, catalog):
    preview = sdk.checkout_sessions.preview(
        product_cart=[{"product_id": catalog.dodo_id("gaming_chair"), "quantity": 1}],
        discount_codes=["BLACKFRIDAY2024"], billing_address={"country": "US", "state": "TX"})
    price = catalog.dodo_product("gaming_chair")["price"]["price"]
    assert preview.current_breakup.discount == round(price * 0.2)
    assert preview.total_price == preview.current_breakup.total_amount


def test_a_subscription_preview_dates_its_first_renewal_for_the_sdk(sdk, live_server, catalog):
    preview = sdk.checkout_sessions.preview(
        product_cart=[{"product_id": catalog.dodo_id("monthly_plan"), "quantity": 1}])
    now = requests.get(f"{live_server.url}/_mock/clock", timeout=5).json()["epoch"]
    days = (preview.next_billing_date.timestamp() - now) / 86400
    assert 28 <= days <= 31  # one calendar month from the mock clock's now
    assert preview.recurring_breakup is not None


def test_a_mixed_cart_of_one_time_and_subscriptions_for_the_current_sdk(sdk, catalog):
    """SDK 1.123.0 sends carts that mix one-time products and subscriptions; its preview type
    reads `payment_method_required` and one `subscriptions` entry per subscription."""
    cart = [{"product_id": catalog.dodo_id(slug), "quantity": 1}
            for slug in ("ebook_guide", "monthly_plan", "yearly_plan")]
    preview = sdk.checkout_sessions.preview(product_cart=cart)
    assert preview.payment_method_required is True
    assert [s.product_id for s in preview.subscriptions] == [cart[1]["product_id"], cart[2]["product_id"]]
    assert preview.subscriptions[1].trial_period_days == 7 and preview.subscriptions[1].amount_due_now == 0
    assert preview.product_cart[0].monthly_equivalent is None
    session = sdk.checkout_sessions.create(product_cart=cart, customer={"email": "mix@example.com"})
    assert session.session_id.startswith("cks_")


def test_discounts_through_the_sdk(sdk):
    listed = sdk.discounts.list(code="welcome")
    assert [d.code for d in listed.items] == ["WELCOME5"]
    again = sdk.discounts.retrieve(listed.items[0].discount_id)
    assert (again.code, again.type, again.amount) == ("WELCOME5", "flat", 500)
    assert {d.code for d in sdk.discounts.list(active=False).items} == {"EXPIRED2023"}
    with pytest.raises(dodopayments.NotFoundError):
        sdk.discounts.retrieve("dsc_unknown")


def test_customers_through_the_sdk(sdk):
    made = sdk.customers.create(email="grace@example.com", name="Grace Hopper")
    assert [c.customer_id for c in sdk.customers.list(email="grace@example.com").items] == [
        made.customer_id]
    updated = sdk.customers.update(made.customer_id, name="Rear Admiral Hopper",
                                   metadata={"navy": "yes"})
    assert (updated.name, updated.metadata) == ("Rear Admiral Hopper", {"navy": "yes"})
    assert sdk.customers.retrieve(made.customer_id).name == "Rear Admiral Hopper"


def test_products_through_the_sdk(sdk, catalog):
    page = sdk.products.list(page_size=100)
    assert [p.product_id for p in page.items] == [p["product_id"] for p in catalog.data["dodo"]["products"]]
    product = sdk.products.retrieve(catalog.dodo_id("yearly_plan"))
    assert product.price.trial_period_days == 7


def test_sdk_raises_not_found_for_an_unknown_session(sdk):
    with pytest.raises(dodopayments.NotFoundError) as info:
        sdk.checkout_sessions.retrieve("cks_doesnotexist0000000")
    assert info.value.status_code == 404
    assert info.value.body == {"code": "NOT_FOUND", "message": "Checkout session not found"}


def test_sdk_raises_unprocessable_entity_for_a_broken_rule(sdk, catalog):
    with pytest.raises(dodopayments.UnprocessableEntityError) as info:
        sdk.checkout_sessions.create(
            product_cart=[{"product_id": catalog.dodo_id("ebook_guide"), "quantity": 1}],
            discount_code="WELCOME5", discount_codes=["WELCOME5"])
    assert info.value.status_code == 422
    assert info.value.body["code"] == "INVALID_REQUEST_BODY"


def test_sdk_raises_authentication_error_for_a_key_the_server_does_not_know():
    app = create_app(Settings(port=0, dodo_api_keys="sk_test_allowed"))
    server = Server(app, "127.0.0.1", 0, threads=2).start()
    try:
        good = DodoPayments(bearer_token="sk_test_allowed", base_url=f"{server.url}/dodo", max_retries=0)
        assert good.products.list().items
        bad = DodoPayments(bearer_token="sk_test_wrong", base_url=f"{server.url}/dodo", max_retries=0)
        with pytest.raises(dodopayments.AuthenticationError) as info:
            bad.products.list()
        assert info.value.status_code == 401
        assert info.value.body["code"] == "UNAUTHORIZED"
    finally:
        server.stop()
