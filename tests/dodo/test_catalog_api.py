"""The merchant's catalog through the official SDK: products and discounts created, changed,
archived or deleted are usable (or refused) by checkouts at once, with Dodo's codes."""
import dodopayments
import pytest
import requests
from dodopayments import DodoPayments

from mock_server.control.client import Client
from mock_server.core.contracts import Contract
from tests.conftest import OTHER_API_KEY as API_KEY  # a namespace of these tests' own

CONTRACT = Contract.load("dodo")
US = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA", "zipcode": "94105"}


@pytest.fixture(scope="module")
def sdk(live_server):
    return DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)


def _raw(live_server, method, path, **kwargs):
    return requests.request(method, f"{live_server.url}/dodo{path}", timeout=10,
                            headers={"Authorization": f"Bearer {API_KEY}"}, **kwargs)


def _checkout(sdk, product_id, **extra):
    return sdk.checkout_sessions.create(product_cart=[{"product_id": product_id, "quantity": 1}],
                                        customer={"email": "cat@example.com", "name": "Cat"}, **extra)


def test_a_product_created_is_sold_changed_archived_and_unarchived(sdk, live_server):
    made = sdk.products.create(name="Plugin Pro", tax_category="digital_products",
                               price={"type": "one_time_price", "price": 4900, "currency": "USD",
                                      "discount": 0, "purchasing_power_parity": False})
    assert made.product_id.startswith("pdt_") and made.is_recurring is False
    raw = _raw(live_server, "GET", f"/products/{made.product_id}")
    assert CONTRACT.response_errors("get_product_handler", 200, raw.json()) == []
    assert sdk.checkout_sessions.preview(
        product_cart=[{"product_id": made.product_id, "quantity": 2}]).current_breakup.subtotal == 9800

    sdk.products.update(made.product_id, name="Plugin Pro 2",
                        price={"type": "one_time_price", "price": 5900, "currency": "USD",
                               "discount": 0, "purchasing_power_parity": False})
    again = sdk.products.retrieve(made.product_id)
    assert (again.name, again.price.price) == ("Plugin Pro 2", 5900)
    change = _raw(live_server, "PATCH", f"/products/{made.product_id}", json={"price": {
        "type": "recurring_price", "price": 900, "currency": "USD", "discount": 0,
        "purchasing_power_parity": False, "payment_frequency_count": 1,
        "payment_frequency_interval": "Month", "subscription_period_count": 1,
        "subscription_period_interval": "Year"}})
    assert change.status_code == 422 and "cannot change between one-time and recurring" in change.json()["message"]

    sdk.products.archive(made.product_id)
    live_ids = {p.product_id for p in sdk.products.list(page_size=100).items}
    assert made.product_id not in live_ids
    assert made.product_id in {p.product_id for p in sdk.products.list(archived=True, page_size=100).items}
    with pytest.raises(dodopayments.UnprocessableEntityError) as refused:
        _checkout(sdk, made.product_id)
    assert refused.value.body["code"] == "PRODUCT_IS_DELETED"
    twice = _raw(live_server, "DELETE", f"/products/{made.product_id}")
    assert twice.status_code == 410 and twice.json()["code"] == "PRODUCT_IS_DELETED"

    sdk.products.unarchive(made.product_id)
    assert _checkout(sdk, made.product_id).session_id.startswith("cks_")
    missing = _raw(live_server, "POST", "/products/pdt_missing/unarchive")
    assert missing.status_code == 404 and missing.json() == {"code": "NOT_FOUND", "message": "Product not found"}


def test_a_subscription_product_with_a_paid_trial(sdk):
    made = sdk.products.create(name="Metrics", tax_category="saas", price={
        "type": "recurring_price", "price": 2000, "currency": "USD", "discount": 0,
        "purchasing_power_parity": False, "payment_frequency_count": 1,
        "payment_frequency_interval": "Month", "subscription_period_count": 1,
        "subscription_period_interval": "Year", "trial_period_days": 14, "trial_amount": 100})
    assert made.is_recurring is True
    preview = sdk.checkout_sessions.preview(product_cart=[{"product_id": made.product_id, "quantity": 1}])
    assert preview.trial_amount == 100 and preview.trial_period_days == 14
    assert preview.recurring_breakup.subtotal == 2000


def test_discounts_are_created_redeemed_to_their_limit_changed_and_deleted(sdk, live_server, catalog):
    product = catalog.dodo_id("premium_course")
    price = catalog.dodo_product("premium_course")["price"]["price"]
    made = sdk.discounts.create(type="percentage", amount=1000, code="launch10", usage_limit=1,
                                restricted_to=[product])
    assert (made.code, made.times_used, made.discount_id[:4]) == ("LAUNCH10", 0, "dsc_")
    raw = _raw(live_server, "GET", f"/discounts/{made.discount_id}").json()
    assert CONTRACT.response_errors("get_discount_handler", 200, raw) == []

    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": product, "quantity": 1}], discount_codes=["LAUNCH10"],
        customer={"email": "cat@example.com", "name": "Cat"}, billing_address=US, confirm=True)
    assert sdk.payments.retrieve(session.payment_id).total_amount < price
    Client(live_server.url).pay(session.session_id)
    assert sdk.discounts.retrieve(made.discount_id).times_used == 1
    with pytest.raises(dodopayments.UnprocessableEntityError) as used_up:
        sdk.checkout_sessions.preview(product_cart=[{"product_id": product, "quantity": 1}],
                                      discount_codes=["launch10"])
    assert used_up.value.body["code"] == "DISCOUNT_CODE_USAGE_LIMIT_EXCEEDED"

    sdk.discounts.update(made.discount_id, usage_limit=5, code="LAUNCH15", amount=1500)
    assert sdk.discounts.retrieve_by_code("launch15").amount == 1500
    assert _raw(live_server, "GET", "/discounts/code/LAUNCH10").status_code == 404
    sdk.discounts.delete(made.discount_id)
    assert _raw(live_server, "GET", f"/discounts/{made.discount_id}").status_code == 404
    with pytest.raises(dodopayments.NotFoundError):
        sdk.discounts.delete(made.discount_id)


def test_discount_refusals_carry_dodos_codes(sdk, live_server, catalog):
    def refused(**body):
        response = _raw(live_server, "POST", "/discounts", json=body)
        assert CONTRACT.response_errors("create_discount_handler", response.status_code, response.json()) == []
        return response.status_code, response.json()["code"]

    sdk.discounts.create(type="percentage", amount=500, code="TAKEN1")
    assert refused(type="percentage", amount=500, code="taken1") == (409, "DISCOUNT_CODE_ALREADY_EXISTS")
    assert refused(type="percentage", amount=10001) == (422, "INVALID_PERCENTAGE")
    assert refused(type="flat", amount=1) == (422, "DISCOUNT_CURRENCY_OPTION_INVALID")
    assert refused(type="percentage", amount=5, code="ab") == (422, "INVALID_REQUEST_BODY")
    assert refused(type="percentage", amount=5, starts_at="2030-01-02T00:00:00Z",
                   expires_at="2030-01-01T00:00:00Z") == (422, "INVALID_REQUEST_BODY")
    generated = sdk.discounts.create(type="flat", amount=1, currency_options=[
        {"currency": "USD", "is_default": True, "max_amount_possible": 700, "minimum_subtotal": 100000}])
    assert len(generated.code) == 16
    with pytest.raises(dodopayments.UnprocessableEntityError) as small:
        sdk.checkout_sessions.preview(product_cart=[{"product_id": catalog.dodo_id("ebook_guide"), "quantity": 1}],
                                      discount_codes=[generated.code])
    assert small.value.body["code"] == "DISCOUNT_MINIMUM_SUBTOTAL_NOT_MET"
    future = sdk.discounts.create(type="percentage", amount=500, starts_at="2099-01-01T00:00:00Z")
    with pytest.raises(dodopayments.UnprocessableEntityError) as early:
        sdk.checkout_sessions.preview(product_cart=[{"product_id": catalog.dodo_id("ebook_guide"), "quantity": 1}],
                                      discount_codes=[future.code])
    assert early.value.body["code"] == "DISCOUNT_NOT_YET_ACTIVE"




def test_discount_dates_must_be_date_times(sdk, live_server):
    made = sdk.discounts.create(type="percentage", amount=500)
    for body in ({"starts_at": ""}, {"expires_at": "tomorrow"}, {"starts_at": "2030-01-01"}):
        response = _raw(live_server, "PATCH", f"/discounts/{made.discount_id}", json=body)
        assert response.status_code == 422 and "RFC 3339" in response.json()["message"], body
    response = _raw(live_server, "POST", "/discounts", json={"type": "percentage", "amount": 5,
                                                             "expires_at": "2030-13-01T00:00:00Z"})
    assert response.status_code == 422 and response.json()["code"] == "INVALID_REQUEST_BODY"
    assert sdk.discounts.retrieve(made.discount_id).starts_at is None
