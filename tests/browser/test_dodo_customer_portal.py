"""A customer in a real browser on Dodo's customer portal: the link the SDK makes opens the
portal, the customer sees their subscription and cancels it; the SDK then reads it cancelled by
the customer, and the verified webhook went out."""
from __future__ import annotations

import json

from dodopayments import DodoPayments

from mock_server.core.contracts import Contract
from mock_server.providers.dodo.webhooks import DEFAULT_SECRET

from .conftest import screenshot

CONTRACT = Contract.load("dodo")
VERIFIER = DodoPayments(bearer_token="unused", base_url="http://127.0.0.1:9/dodo")
BILLING = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA",
           "zipcode": "94105"}


def verify(body: str, headers: dict) -> None:
    VERIFIER.webhooks.unwrap(body, headers=headers, key=DEFAULT_SECRET)


def test_the_customer_cancels_in_the_portal(page, shop):
    shop = shop(verify=verify)
    sdk = DodoPayments(bearer_token=shop.key, base_url=f"{shop.live.url}/dodo", max_retries=0)
    customer = sdk.customers.create(email="portal@example.com", name="Ada Portal")
    product = next(p for p in sdk.products.list(recurring=True).items
                   if p.name.startswith("Professional Plan"))
    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": product.product_id, "quantity": 1}],
        customer={"customer_id": customer.customer_id}, billing_address=BILLING, confirm=True)
    sub_id = shop.mock.pay(session.session_id)["data"]["subscription_id"]
    shop.receiver.wait_for(3)  # subscription.active, subscription.updated, payment.succeeded

    link = sdk.customers.customer_portal.create(customer.customer_id,
                                                return_url=shop.return_url).link
    page.goto(link)
    row = page.locator(f"#sub-{sub_id}")
    assert "active" in row.locator(".status").inner_text()
    assert "Ada Portal" in page.inner_text("#customer")
    assert page.get_attribute("#return", "href") == shop.return_url
    screenshot(page, "dodo-customer-portal")
    page.click(f"#cancel-now-{sub_id}")
    page.wait_for_url(lambda url: url.endswith("?done=cancelled"))
    assert "The subscription is cancelled." in page.inner_text("#notice")
    assert row.locator(".status").inner_text() == "cancelled"
    assert page.locator(f"#cancel-now-{sub_id}").count() == 0

    sub = sdk.subscriptions.retrieve(sub_id)
    assert sub.status == "cancelled" and sub.cancelled_at is not None
    assert (sub.cancelled_by.actor_type, sub.cancelled_by.email, sub.cancelled_by.name) == (
        "customer", "portal@example.com", "Ada Portal")
    delivered = shop.receiver.wait_for(5)
    assert all(request["status"] == 200 for request in delivered), delivered  # verified
    events = [json.loads(request["body"]) for request in delivered[3:]]
    assert sorted(e["type"] for e in events) == ["subscription.cancelled", "subscription.updated"]
    for event in events:
        assert CONTRACT.webhook_errors(event["type"], event) == []
        assert event["data"]["subscription_id"] == sub_id
        assert event["data"]["cancelled_by"]["actor_type"] == "customer"


def test_hostile_customer_text_shows_as_text_in_the_portal(page, shop):
    hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
    shop = shop()
    customer = shop.dodo("POST", "/customers",
                         json={"email": "hostile@example.com", "name": hostile}).json()
    link = shop.dodo("POST", f"/customers/{customer['customer_id']}/customer-portal/session",
                     params={"return_url": shop.return_url}).json()["link"]
    page.goto(link)
    assert hostile in page.inner_text("#customer")  # the `page` fixture fails on any dialog
