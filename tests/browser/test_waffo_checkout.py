"""A buyer in a real browser on Waffo's hosted checkout: success, decline, 3DS, cancel, expiry.
The page places the order through the real create-order rules; webhooks are checked with the
official @waffo/pancake-ts verifyWebhook and paymock's public key."""
from __future__ import annotations

import time

import requests

from waffo.helpers import CREATE_SESSION, WaffoClient
from webhooks.receiver import verify_waffo

from .conftest import screenshot


def create(shop, **fields) -> dict:
    client = WaffoClient(base_url=shop.live.url)
    status, payload, _ = client.api(CREATE_SESSION, {
        "productId": "PROD_n9BAyublbbOLvbySWsH7zx", "currency": "USD",
        "successUrl": shop.return_url, "metadata": {"cart": "c-1"}, **fields})
    assert status == 200, payload
    return payload["data"]


def checkout(page, session: dict, email: str = "buyer@example.com", country: str = "GB") -> None:
    # The SDK's authenticated checkout adds #token=<JWT>; a fragment never reaches the server.
    page.goto(session["checkoutUrl"] + "#token=not-sent-to-servers")
    page.fill("#f-email", email)
    page.select_option("#f-country", country)
    page.fill("#f-postcode", "SW1A 1AA")
    page.click("#continue")
    page.wait_for_url("**/psp/waffo/**")


def pay(page, number: str) -> None:
    page.fill("#card-number", number)
    page.fill("#card-expiry", "06/32")
    page.fill("#card-cvc", "123")
    page.click("#pay")


def order_of(shop, session_id: str) -> dict:
    state = requests.get(f"{shop.live.url}/_mock/state", timeout=10).json()["namespaces"]
    [order] = [o for ns in state.values() for o in ns.get("order", {}).values()
               if o["checkoutSessionId"] == session_id]
    return order


def verified_event(shop, event_type: str) -> dict:
    [request] = shop.receiver.wait_for(1)
    [result] = verify_waffo(shop.mock.webhooks.public_key("waffo"), [
        {"body": request["body"], "signature": request["headers"]["x-waffo-signature"]}])
    assert result["ok"], result
    assert result["event"]["eventType"] == event_type
    return result["event"]


def no_webhook(shop) -> None:
    shop.mock.webhooks.flush()
    time.sleep(0.3)
    assert shop.receiver.requests == []


def test_success_card(page, shop):
    shop = shop("waffo")
    session = create(shop)
    page.goto(session["checkoutUrl"])
    assert "USD 29.00" in page.inner_text("#price")
    screenshot(page, "waffo-checkout")
    checkout(page, session)
    screenshot(page, "waffo-psp")
    pay(page, "4242424242424242")
    page.wait_for_url(shop.return_url)
    assert "#token" not in page.url  # the session token's fragment is not carried to the shop
    order = order_of(shop, session["sessionId"])
    assert (order["status"], order["payment"]["status"], order["total"]) == ("completed", "succeeded", "34.80")
    event = verified_event(shop, "order.completed")
    assert event["data"]["orderId"] == order["orderId"]
    assert event["data"]["orderMetadata"] == {"cart": "c-1"}


def test_declined_card(page, shop):
    shop = shop("waffo")
    session = create(shop)
    checkout(page, session)
    psp_url = page.url
    pay(page, "4000000000009995")
    page.wait_for_url(psp_url)
    assert "Your card has insufficient funds. Try another card." in page.inner_text("#error")
    order = order_of(shop, session["sessionId"])
    assert (order["status"], order["payment"]["status"]) == ("pending", "failed")
    assert order["payment"]["failureReason"] == "INSUFFICIENT_FUNDS"
    no_webhook(shop)  # Waffo documents no event for a failed payment, so none is sent


def test_3ds_challenge_approved(page, shop):
    shop = shop("waffo")
    session = create(shop)
    checkout(page, session)
    pay(page, "4000002500003155")
    page.wait_for_url("**/3ds")
    page.click("#approve")
    page.wait_for_url(shop.return_url)
    assert order_of(shop, session["sessionId"])["status"] == "completed"
    verified_event(shop, "order.completed")


def test_cancel(page, shop):
    shop = shop("waffo")
    session = create(shop)
    checkout(page, session)
    page.click("#cancel")
    page.wait_for_url(session["checkoutUrl"])  # back on the store's checkout, free to retry
    order = order_of(shop, session["sessionId"])
    assert (order["status"], order["payment"]["status"]) == ("canceled", "canceled")
    no_webhook(shop)  # Waffo documents no event for a cancelled one-time order


def test_expired_session(page, shop, mock):
    shop = shop("waffo")
    session = create(shop, expiresInSeconds=60)
    page.goto(session["checkoutUrl"])
    page.fill("#f-email", "buyer@example.com")
    page.select_option("#f-country", "GB")
    mock.expire("session", session["sessionId"])
    page.click("#continue")
    assert "This checkout has expired" in page.content()
    assert page.goto(session["checkoutUrl"]).status == 410
    state = requests.get(f"{shop.live.url}/_mock/state", timeout=10).json()["namespaces"]
    assert not [o for ns in state.values() for o in ns.get("order", {}).values()
                if o["checkoutSessionId"] == session["sessionId"]]
    no_webhook(shop)
