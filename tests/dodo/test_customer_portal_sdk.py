"""A Dodo customer's saved payment methods and the customer portal session, through the official
SDK (1.123.0) pointed at the live server by base URL only. Nothing here moves the clock."""
from __future__ import annotations

import uuid

import dodopayments
import pytest
import requests
from dodopayments import DodoPayments

from mock_server.control.client import Client
from mock_server.core.contracts import Contract
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
BILLING = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA",
           "zipcode": "94105"}


@pytest.fixture
def sdk(live_server):
    return DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)


@pytest.fixture
def control(live_server):
    return Client(live_server.url)


def raw(live_server, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{live_server.url}/dodo{path}", timeout=10,
                            headers={"Authorization": f"Bearer {API_KEY}"}, **kwargs)


def buy(sdk, control, customer: dict) -> str:
    product = next(p for p in sdk.products.list(recurring=True).items
                   if p.name.startswith("Professional Plan"))
    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": product.product_id, "quantity": 1}],
        customer=customer, billing_address=BILLING, confirm=True)
    paid = control.pay(session.session_id)
    assert paid["status"] == "succeeded"
    return paid["data"]["subscription_id"]


def new_customer(sdk) -> str:
    return sdk.customers.create(email=f"pm-{uuid.uuid4().hex[:10]}@example.com",
                                name="Card Holder").customer_id


def test_a_subscription_card_is_listed_once_and_only_deleted_when_unused(live_server, sdk,
                                                                          control):
    customer_id = new_customer(sdk)
    first = sdk.subscriptions.retrieve(buy(sdk, control, {"customer_id": customer_id}))
    second = sdk.subscriptions.retrieve(buy(sdk, control, {"customer_id": customer_id}))
    # One record per card per customer: both subscriptions use the same saved method.
    assert first.payment_method_id == second.payment_method_id
    assert first.payment_method_id.startswith("pm_")

    listed = sdk.customers.retrieve_payment_methods(customer_id)
    assert [m.payment_method_id for m in listed.items] == [first.payment_method_id]
    method = listed.items[0]
    assert method.payment_method == "card" and method.recurring_enabled is True
    assert method.card.last4_digits == "4242" and method.card.card_network == "VISA"
    assert method.last_used_at is not None
    body = raw(live_server, "GET", f"/customers/{customer_id}/payment-methods")
    assert CONTRACT.response_errors("get_customer_payment_methods", 200, body.json()) == []

    # In use by an active subscription: 409, nothing deleted.
    with pytest.raises(dodopayments.ConflictError) as refused:
        sdk.customers.delete_payment_method(first.payment_method_id, customer_id=customer_id)
    assert refused.value.status_code == 409
    assert refused.value.body == {"code": "PAYMENT_METHOD_IN_USE",
                                  "message": "Payment method is in use by an active subscription"}
    assert CONTRACT.response_errors("delete_customer_payment_method", 409,
                                    refused.value.body) == []
    sdk.subscriptions.update(first.subscription_id, status="cancelled")
    with pytest.raises(dodopayments.ConflictError):  # the second one still uses it
        sdk.customers.delete_payment_method(first.payment_method_id, customer_id=customer_id)

    sdk.subscriptions.update(second.subscription_id, status="cancelled")
    answer = raw(live_server, "DELETE",
                 f"/customers/{customer_id}/payment-methods/{first.payment_method_id}")
    assert answer.status_code == 204 and answer.content == b""
    assert sdk.customers.retrieve_payment_methods(customer_id).items == []

    with pytest.raises(dodopayments.NotFoundError) as gone:
        sdk.customers.delete_payment_method(first.payment_method_id, customer_id=customer_id)
    assert gone.value.body == {"code": "NOT_FOUND", "message": "Payment method not found"}
    assert CONTRACT.response_errors("delete_customer_payment_method", 404, gone.value.body) == []


def test_an_unknown_customer_has_no_payment_methods(sdk):
    with pytest.raises(dodopayments.NotFoundError) as unknown:
        sdk.customers.retrieve_payment_methods("cus_doesnotexist")
    assert unknown.value.body == {"code": "NOT_FOUND", "message": "Customer not found"}
    assert CONTRACT.response_errors("get_customer_payment_methods", 404, unknown.value.body) == []
    with pytest.raises(dodopayments.NotFoundError) as unknown:
        sdk.customers.delete_payment_method("pm_doesnotexist", customer_id="cus_doesnotexist")
    assert unknown.value.body == {"code": "NOT_FOUND", "message": "Customer not found"}


def test_a_deleted_method_cannot_be_given_to_a_subscription_again(sdk, control):
    customer_id = new_customer(sdk)
    sub = sdk.subscriptions.retrieve(buy(sdk, control, {"customer_id": customer_id}))
    other = sdk.subscriptions.retrieve(buy(sdk, control, {"customer_id": customer_id}))
    sdk.subscriptions.update(sub.subscription_id, status="cancelled")
    sdk.subscriptions.update(other.subscription_id, status="cancelled")
    sdk.customers.delete_payment_method(sub.payment_method_id, customer_id=customer_id)
    third = sdk.subscriptions.retrieve(buy(sdk, control, {"customer_id": customer_id}))
    # The same card saved again is a new method.
    assert third.payment_method_id != sub.payment_method_id
    with pytest.raises(dodopayments.NotFoundError) as unknown:
        sdk.subscriptions.update_payment_method(
            third.subscription_id,
            payment_method={"type": "existing", "payment_method_id": sub.payment_method_id})
    assert unknown.value.body == {
        "code": "NOT_FOUND",
        "message": f"Payment method {sub.payment_method_id} not found for customer {customer_id}"}


def test_a_portal_session_link_opens_the_portal(live_server, sdk, control):
    customer_id = new_customer(sdk)
    sub_id = buy(sdk, control, {"customer_id": customer_id})
    session = sdk.customers.customer_portal.create(customer_id, send_email=True,
                                                   return_url="https://shop.example/account")
    assert session.link.startswith(f"{live_server.url}/customer-portal/dodo/session/")
    body = raw(live_server, "POST", f"/customers/{customer_id}/customer-portal/session").json()
    assert CONTRACT.response_errors("create_customer_portal_session", 200, body) == []
    assert body["link"] != session.link  # each session its own token
    page = requests.get(session.link, timeout=10)
    assert page.status_code == 200 and sub_id in page.text
    assert 'href="https://shop.example/account"' in page.text


def test_a_portal_session_is_refused_for_an_unknown_customer_or_a_bad_return_url(sdk):
    with pytest.raises(dodopayments.NotFoundError) as unknown:
        sdk.customers.customer_portal.create("cus_doesnotexist")
    assert unknown.value.body == {"code": "NOT_FOUND", "message": "Customer not found"}
    assert CONTRACT.response_errors("create_customer_portal_session", 404,
                                    unknown.value.body) == []
    customer_id = new_customer(sdk)
    with pytest.raises(dodopayments.UnprocessableEntityError) as bad:
        sdk.customers.customer_portal.create(customer_id, return_url="javascript:alert(1)")
    assert bad.value.body == {"code": "INVALID_REQUEST_PARAMETERS",
                              "message": "return_url must be an http(s) URL (http:// or https://)"}
    assert CONTRACT.response_errors("create_customer_portal_session", 422, bad.value.body) == []
