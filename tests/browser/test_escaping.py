"""Hostile customer names and metadata render as text on every page, in a real browser: no script
runs (the `page` fixture fails on any dialog) and the text shows up literally."""
from __future__ import annotations

from waffo.helpers import CREATE_SESSION, WaffoClient

from .conftest import screenshot

HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"


def test_hostile_input_on_every_page(page, shop):
    dodo = shop()
    session = dodo.dodo("POST", "/checkouts", json={
        "product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}],
        "customer": {"email": "ada@example.com", "name": HOSTILE},
        "metadata": {HOSTILE: HOSTILE}, "return_url": "javascript:alert(3)"}).json()
    page.goto(session["checkout_url"])
    assert HOSTILE in page.inner_text("body")
    page.select_option("#f-country", "US")
    for field, value in (("#f-street", HOSTILE), ("#f-city", "SF"), ("#f-state", "CA"),
                         ("#f-zipcode", "94105")):
        page.fill(field, value)
    page.click("#continue")
    page.wait_for_url("**/psp/dodo/**")
    assert HOSTILE in page.inner_text("body")
    page.fill("#card-number", "4000002500003155")
    page.fill("#card-expiry", "06/32")
    page.fill("#card-cvc", "123")
    page.fill("#card-name", HOSTILE)
    page.click("#pay")
    page.wait_for_url("**/3ds")
    page.click("#approve")
    # A javascript: return URL is never followed: the buyer gets a result page instead.
    assert "Payment successful" in page.inner_text("h1")
    assert page.url.startswith(dodo.live.url)

    client = WaffoClient(base_url=dodo.live.url)
    status, payload, _ = client.api(CREATE_SESSION, {
        "productId": "PROD_n9BAyublbbOLvbySWsH7zx", "currency": "USD",
        "metadata": {"note": HOSTILE}, "successUrl": "javascript:alert(4)"})
    assert status == 200, payload
    page.goto(payload["data"]["checkoutUrl"])
    assert HOSTILE in page.inner_text("body")
    page.fill("#f-email", "buyer@example.com")
    page.select_option("#f-country", "GB")
    page.check("#f-business")
    page.fill("#f-bname", HOSTILE)
    page.click("#continue")
    page.wait_for_url("**/psp/waffo/**")
    assert HOSTILE in page.inner_text("body")
    screenshot(page, "escaping-waffo-psp")
    page.fill("#card-number", "4242424242424242")
    page.fill("#card-expiry", "06/32")
    page.fill("#card-cvc", "123")
    page.click("#pay")
    assert "Payment successful" in page.inner_text("h1")
    assert page.dialogs == []
