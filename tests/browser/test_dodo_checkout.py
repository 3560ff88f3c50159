"""A buyer in a real browser on Dodo's hosted checkout: success, decline, 3DS, cancel, expiry.
Each test checks where the buyer lands, the stored payment, and the verified webhook."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from dodopayments import DodoPayments

from mock_server.core.contracts import Contract
from mock_server.providers.dodo.webhooks import DEFAULT_SECRET

from .conftest import screenshot

CONTRACT = Contract.load("dodo")
EBOOK = "pdt_uGej5ygB4DvTZFDmnvmUM"
SDK = DodoPayments(bearer_token="unused", base_url="http://127.0.0.1:9/dodo")


def verify(body: str, headers: dict) -> None:
    SDK.webhooks.unwrap(body, headers=headers, key=DEFAULT_SECRET)


def create(shop, **extra) -> dict:
    body = {"product_cart": [{"product_id": EBOOK, "quantity": 2}], "return_url": shop.return_url,
            "cancel_url": shop.cancel_url, "customization": {"theme": "light"}, **extra}
    response = shop.dodo("POST", "/checkouts", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def fill_details(page, url: str) -> None:
    page.goto(url)
    page.fill("#f-email", "ada@example.com")
    page.fill("#f-name", "Ada Lovelace")
    page.select_option("#f-country", "US")
    page.fill("#f-street", "1 Main St")
    page.fill("#f-city", "San Francisco")
    page.fill("#f-state", "CA")
    page.fill("#f-zipcode", "94105")
    page.click("#continue")
    page.wait_for_url("**/psp/dodo/**")


def pay(page, number: str) -> None:
    page.fill("#card-number", number)
    page.fill("#card-expiry", "06/32")
    page.fill("#card-cvc", "123")
    page.click("#pay")


def landed(page, shop, path: str = "/thanks") -> dict:
    page.wait_for_url(f"{shop.receiver.base}{path}**")
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def stored(shop, payment_id: str) -> dict:
    response = shop.dodo("GET", f"/payments/{payment_id}")
    assert CONTRACT.response_errors("get_payment_handler", response.status_code, response.json()) == []
    return response.json()


def webhook(shop, event_type: str) -> dict:
    """The one `event_type` event delivered (a subscription's purchase sends subscription.*
    events too, in parallel deliveries); every delivery was verified with the SDK."""
    for count in range(1, 9):
        requests = shop.receiver.wait_for(count)
        assert all(r["status"] == 200 for r in requests), requests  # unwrap() accepted each
        events = [json.loads(r["body"]) for r in requests]
        found = [e for e in events if e["type"] == event_type]
        if found:
            assert len(found) == 1, found
            return found[0]
    raise AssertionError(f"no {event_type} among {[e['type'] for e in events]}")


def test_success_card(page, shop):
    shop = shop(verify=verify)
    session = create(shop)
    page.goto(session["checkout_url"])
    assert "Order summary" in page.content() and "USD" in page.inner_text("#total")
    screenshot(page, "dodo-checkout")
    fill_details(page, session["checkout_url"])
    screenshot(page, "dodo-psp")
    pay(page, "4242424242424242")
    params = landed(page, shop)
    assert params["status"] == "succeeded" and params["payment_id"].startswith("pay_")
    payment = stored(shop, params["payment_id"])
    assert (payment["status"], payment["total_amount"], payment["card_last_four"]) == ("succeeded", 5575, "4242")
    assert payment["customer"]["name"] == "Ada Lovelace" and payment["billing"]["zipcode"] == "94105"
    status = shop.dodo("GET", f"/checkouts/{session['session_id']}").json()
    assert status["payment_status"] == "succeeded"
    event = webhook(shop, "payment.succeeded")
    assert event["data"]["payment_id"] == params["payment_id"]


def test_declined_card(page, shop):
    shop = shop(verify=verify)
    session = create(shop)
    fill_details(page, session["checkout_url"])
    pay(page, "4000000000000002")
    params = landed(page, shop)
    assert params["status"] == "failed"
    payment = stored(shop, params["payment_id"])
    assert (payment["status"], payment["error_code"]) == ("failed", "CARD_DECLINED")
    assert webhook(shop, "payment.failed")["data"]["error_code"] == "CARD_DECLINED"


def test_3ds_challenge_approved(page, shop):
    shop = shop(verify=verify)
    session = create(shop)
    fill_details(page, session["checkout_url"])
    pay(page, "4000002500003155")
    page.wait_for_url("**/3ds")
    assert "Confirm this payment" in page.content()
    screenshot(page, "dodo-3ds")
    page.click("#approve")
    params = landed(page, shop)
    assert params["status"] == "succeeded"
    assert stored(shop, params["payment_id"])["status"] == "succeeded"
    webhook(shop, "payment.succeeded")


def test_subscription_redirect_carries_the_subscription(page, shop):
    shop = shop(verify=verify)
    session = create(shop, product_cart=[{"product_id": "pdt_T5Kpc8SCR9JBIdPiEvcN1", "quantity": 1}])
    fill_details(page, session["checkout_url"])
    pay(page, "5555555555554444")
    params = landed(page, shop)
    assert params["status"] == "active" and params["subscription_id"].startswith("sub_")
    event = webhook(shop, "payment.succeeded")
    assert event["data"]["subscription_id"] == params["subscription_id"]


def test_cancel(page, shop):
    shop = shop(verify=verify)
    session = create(shop)
    fill_details(page, session["checkout_url"])
    page.click("#cancel")
    assert landed(page, shop, "/cart") == {}
    status = shop.dodo("GET", f"/checkouts/{session['session_id']}").json()
    assert status["payment_status"] == "cancelled"
    assert stored(shop, status["payment_id"])["status"] == "cancelled"
    webhook(shop, "payment.cancelled")


def test_expired_session(page, shop, mock):
    shop = shop(verify=verify)
    session = create(shop)
    fill_details(page, session["checkout_url"])
    psp_url = page.url
    mock.expire("session", session["session_id"])
    pay(page, "4242424242424242")
    assert "This checkout has expired" in page.content()
    screenshot(page, "dodo-expired")
    assert page.url == psp_url  # no redirect: the buyer stays and is told
    response = page.goto(session["checkout_url"])
    assert response.status == 410
    payments = mock.payments.list(shop.namespace)
    assert [(p["status"], p["reason"]) for p in payments] == [("cancelled", "SESSION_EXPIRED")]
    assert stored(shop, payments[0]["id"])["status"] == "cancelled"
    assert webhook(shop, "payment.cancelled")["data"]["payment_id"] == payments[0]["id"]
