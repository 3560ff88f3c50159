"""Hosted pages over HTTP (Flask test client): flows, redirects, errors, headers and escaping.
The same pages run in a real browser in tests/browser/."""
from __future__ import annotations

import re

import pytest

from waffo.helpers import WaffoClient

EBOOK = "pdt_uGej5ygB4DvTZFDmnvmUM"
ADDRESS = {"country": "US", "street": "1 Main St", "city": "SF", "state": "CA", "zipcode": "94105"}
HOSTILE = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>'
CARD = {"method": "card", "expiry": "06/32", "cvc": "123"}


def dodo_session(client, auth, **extra):
    body = {"product_cart": [{"product_id": EBOOK, "quantity": 1}],
            "return_url": "https://shop.example/thanks", **extra}
    response = client.post("/dodo/checkouts", json=body, headers=auth)
    assert response.status_code == 200, response.json
    return response.json["session_id"]


def path(url: str) -> str:
    return re.sub(r"^http://mock\.test", "", url)


def to_psp(client, sid, **form):
    response = client.post(f"/checkout/dodo/session/{sid}", data={
        "email": "ada@example.com", "name": "Ada", **ADDRESS, **form})
    assert response.status_code == 303, response.get_data(as_text=True)
    return path(response.headers["Location"])


def test_every_page_has_a_strict_csp(client, auth):
    sid = dodo_session(client, auth)
    psp = to_psp(client, sid)
    for url in (f"/checkout/dodo/session/{sid}", psp, "/checkout/dodo/session/cks_nope",
                "/psp/dodo/psp_cs_nope", "/psp/stripe/x"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp and response.mimetype == "text/html"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_dodo_form_asks_only_what_the_session_lacks(client, auth):
    full = dodo_session(client, auth, customer={"email": "ada@example.com", "name": "Ada"},
                       billing_address={"country": "DE", "zipcode": "10115"}, minimal_address=True)
    html = client.get(f"/checkout/dodo/session/{full}").get_data(as_text=True)
    assert 'name="email"' not in html and 'name="zipcode"' not in html and 'name="street"' not in html
    bare = dodo_session(client, auth, feature_flags={"require_phone_number": True})
    html = client.get(f"/checkout/dodo/session/{bare}").get_data(as_text=True)
    for field in ("email", "name", "phone_number", "country", "street", "city", "state", "zipcode"):
        assert f'name="{field}"' in html, field


def test_dodo_form_errors_and_dodo_rules(client, auth):
    sid = dodo_session(client, auth)
    response = client.post(f"/checkout/dodo/session/{sid}", data={"email": "nope", "country": "US"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Enter a valid email address." in text and "Full name is required." in text
    response = client.post(f"/checkout/dodo/session/{sid}",
                           data={"email": "a@b.co", "name": "A", **ADDRESS, "country": "IR"})
    assert response.status_code == 422 and "Country IR is not supported" in response.get_data(as_text=True)


def test_dodo_reprices_for_the_buyers_address(client, auth):
    sid = dodo_session(client, auth)
    to_psp(client, sid, country="DE", state="BE", zipcode="10115")
    payment = client.get("/_mock/payments").json["payments"][0]
    assert (payment["amount"], payment["data"]["tax"]) == (2599 + 494, 494)  # DE VAT 19 %


def test_card_decline_redirects_with_status_failed_and_a_retry_can_succeed(client, auth):
    sid = dodo_session(client, auth)
    psp = to_psp(client, sid)
    response = client.post(psp, data={**CARD, "number": "4000000000000002"})
    assert response.status_code == 303
    assert re.fullmatch(r"https://shop\.example/thanks\?payment_id=pay_\w+&status=failed",
                        response.headers["Location"])
    page = client.get(psp).get_data(as_text=True)
    assert "Your card was declined. Try another card." in page
    response = client.post(psp, data={**CARD, "number": "4242424242424242"})
    assert response.headers["Location"].endswith("&status=succeeded")


def test_bad_card_input_stays_on_the_page(client, auth):
    psp = to_psp(client, dodo_session(client, auth))
    response = client.post(psp, data={**CARD, "number": "4111111111111111"})
    assert response.status_code == 422 and "use one of the test cards" in response.get_data(as_text=True)
    response = client.post(psp, data={"method": "upi", "vpa": "me@bank"})
    assert response.status_code == 422 and "success@upi" in response.get_data(as_text=True)


def test_3ds_pages(client, auth):
    sid = dodo_session(client, auth)
    psp = to_psp(client, sid)
    response = client.post(psp, data={**CARD, "number": "4000002500003155"})
    assert path(response.headers["Location"]) == psp + "/3ds"
    assert client.get(psp).headers["Location"].endswith(psp + "/3ds")  # stays on the challenge
    assert "Approve" in client.get(psp + "/3ds").get_data(as_text=True)
    response = client.post(psp + "/3ds", data={"decision": "fail"})
    assert response.headers["Location"].endswith("status=failed")
    status = client.get(f"/dodo/checkouts/{sid}", headers=auth).json
    assert status["payment_status"] == "failed"


def test_upi_success(client, auth):
    psp = to_psp(client, dodo_session(client, auth))
    response = client.post(psp, data={"method": "upi", "vpa": "success@upi"})
    assert response.headers["Location"].endswith("status=succeeded")


def test_cancel_goes_to_cancel_url_or_return_url(client, auth):
    with_cancel = to_psp(client, dodo_session(client, auth, cancel_url="https://shop.example/cart"))
    assert client.post(with_cancel + "/cancel").headers["Location"] == "https://shop.example/cart"
    without = to_psp(client, dodo_session(client, auth))
    assert client.post(without + "/cancel").headers["Location"].endswith("status=cancelled")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "myapp://done"])
def test_only_web_return_urls_are_followed(client, auth, url):
    psp = to_psp(client, dodo_session(client, auth, return_url=url))
    response = client.post(psp, data={**CARD, "number": "4242424242424242"})
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Payment successful" in response.get_data(as_text=True)


def test_expired_and_unknown_pages(client, auth):
    sid = dodo_session(client, auth)
    psp = to_psp(client, sid)
    client.post(f"/_mock/expire/session/{sid}")
    assert client.get(f"/checkout/dodo/session/{sid}").status_code == 410
    response = client.get(psp)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert client.get("/checkout/dodo/session/cks_unknown").status_code == 404


def test_a_psp_outage_shows_an_error_on_the_form(client, auth):
    client.post("/_mock/faults", json={"provider": "psp", "times": 1, "action": {"status": 503}})
    sid = dodo_session(client, auth)
    response = client.post(f"/checkout/dodo/session/{sid}", data={"email": "a@b.co", "name": "A", **ADDRESS})
    assert response.status_code == 502 and "unavailable" in response.get_data(as_text=True)
    to_psp(client, sid)  # the rule fired once: the retry goes through


def waffo_page(app, **fields):
    client = WaffoClient(app.test_client())
    session_id = client.session("ebook", successUrl="https://shop.example/done", **fields)
    return f"/checkout/waffo/store/acme-digital/checkout/{session_id}", session_id


def test_waffo_page_runs_the_real_create_order_rules(app, client):
    url, session_id = waffo_page(app)
    page = client.get(url).get_data(as_text=True)
    assert "USD 29.00" in page and "TypeScript Handbook" in page
    response = client.post(url, data={"buyerEmail": "buyer@example.com", "country": "US"})
    assert response.status_code == 422 and "State is required for US/CA" in response.get_data(as_text=True)
    response = client.post(url, data={"buyerEmail": "Buyer@Example.com ", "country": "US", "state": "CA"})
    assert response.status_code == 303 and "/psp/waffo/psp_cs_" in response.headers["Location"]
    psp = path(response.headers["Location"])
    response = client.post(psp, data={**CARD, "number": "4242424242424242"})
    assert response.headers["Location"] == "https://shop.example/done"
    order = next(o for ns in app.extensions["paymock"].store.snapshot().values()
                 for o in ns.get("order", {}).values() if o["checkoutSessionId"] == session_id)
    assert (order["status"], order["buyerEmail"], order["total"]) == ("completed", "buyer@example.com", "31.10")


def test_waffo_decline_stays_on_the_psp_page_and_cancel_returns_to_checkout(app, client):
    url, _ = waffo_page(app)
    psp = path(client.post(url, data={"buyerEmail": "b@example.com", "country": "GB"}).headers["Location"])
    response = client.post(psp, data={**CARD, "number": "4000000000009995"})
    assert path(response.headers["Location"]) == psp
    assert "insufficient funds" in client.get(psp).get_data(as_text=True)
    assert path(client.post(psp + "/cancel").headers["Location"]) == url


def test_waffo_wrong_slug_or_expired(app, client):
    url, session_id = waffo_page(app)
    assert client.get(url.replace("acme-digital", "beta-studio")).status_code == 404
    client.post(f"/_mock/expire/session/{session_id}")
    assert client.get(url).status_code == 410
    assert client.post(url, data={"buyerEmail": "b@example.com", "country": "GB"}).status_code == 410


def test_hostile_names_and_metadata_are_escaped_on_every_page(app, client, auth):
    sid = dodo_session(client, auth, customer={"email": "ada@example.com", "name": HOSTILE},
                       metadata={HOSTILE: HOSTILE})
    psp = to_psp(client, sid, name=HOSTILE)
    url, _ = waffo_page(app, metadata={"note": HOSTILE})
    waffo_psp = path(client.post(url, data={"buyerEmail": "b@example.com", "country": "GB",
                                            "businessName": HOSTILE}).headers["Location"])
    client.post(psp, data={**CARD, "number": "4000002500003155"})
    pages = [f"/checkout/dodo/session/{sid}", psp, psp + "/3ds", url, waffo_psp]
    for page_url in pages:
        html = client.get(page_url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html, page_url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(pages[0]).get_data(as_text=True)
    assert "&lt;script&gt;" in client.get(url).get_data(as_text=True)


# -- return URLs: refused when malformed, and a stored bad one never breaks a page --------------
BAD_URLS = ["https://shop.example:99999/", "https://[::1", "http://a..b/thanks",
            f"https://{'a' * 64}.example/", "https://shop.example:0/", "https:///thanks"]


def stored(app, kind: str, obj_id: str):
    """(namespace, object) for an id, whichever namespace holds it."""
    store = app.extensions["paymock"].store
    for name in store.names():
        ns = store.find(name)
        obj = ns.get(kind, obj_id, include_expired=True)
        if obj is not None:
            return ns, obj
    raise LookupError(obj_id)


@pytest.mark.parametrize("field", ["return_url", "cancel_url"])
@pytest.mark.parametrize("url", BAD_URLS)
def test_dodo_refuses_a_malformed_return_or_cancel_url(client, auth, field, url):
    body = {"product_cart": [{"product_id": EBOOK, "quantity": 1}], field: url}
    response = client.post("/dodo/checkouts", json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "INVALID_REQUEST_BODY"
    assert response.json["message"].startswith(f"{field} ")
    assert set(response.json) == {"code", "message"}


@pytest.mark.parametrize("url", BAD_URLS)
def test_waffo_refuses_a_malformed_success_url(app, url):
    from waffo.helpers import CREATE_SESSION, PRODUCTS

    client = WaffoClient(app.test_client())
    status, payload, _ = client.api(CREATE_SESSION, {"productId": PRODUCTS["ebook"]["id"],
                                                     "currency": "USD", "successUrl": url})
    assert status == 400, payload
    [problem] = payload["errors"]
    assert payload["data"] is None and problem["layer"] == "order"
    assert problem["message"].startswith("successUrl ")


def test_waffo_refuses_a_malformed_success_url_on_the_order(app):
    from waffo.helpers import ONETIME_ORDER

    client = WaffoClient(app.test_client())
    session_id = client.session("ebook")
    status, payload, _ = client.bearer(ONETIME_ORDER, {
        "checkoutSessionId": session_id, "buyerEmail": "b@example.com",
        "billingDetail": {"country": "GB", "isBusiness": False},
        "successUrl": "https://shop.example:99999/"}, client.token())
    assert status == 400 and payload["errors"][0]["layer"] == "order", payload
    assert payload["errors"][0]["message"].startswith("successUrl has an invalid port")


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_stored_bad_dodo_url_never_breaks_a_page(app, client, auth, url):
    """A state file from before URLs were checked may hold any string: no redirect, no 500."""
    paid, cancelled = dodo_session(client, auth), dodo_session(client, auth)
    for sid in (paid, cancelled):
        ns, session = stored(app, "session", sid)
        session["request"].update(return_url=url, cancel_url=url)
        ns.save("session", sid, session)
        assert client.get(f"/checkout/dodo/session/{sid}").status_code == 200
    psp = to_psp(client, paid)
    response = client.post(psp, data={**CARD, "number": "4242424242424242"})
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Payment successful" in response.get_data(as_text=True)
    for page_url in (psp, f"/checkout/dodo/session/{paid}"):  # the finished pages, again
        response = client.get(page_url)
        assert response.status_code == 200 and "Location" not in response.headers
    response = client.post(to_psp(client, cancelled) + "/cancel")
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Payment cancelled" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_stored_bad_waffo_success_url_never_breaks_a_page(app, client, url):
    page_url, session_id = waffo_page(app)
    ns, session = stored(app, "checkout_session", session_id)
    session["successUrl"] = url
    ns.save("checkout_session", session_id, session)
    assert client.get(page_url).status_code == 200
    response = client.post(page_url, data={"buyerEmail": "b@example.com", "country": "GB"})
    assert response.status_code == 303, response.get_data(as_text=True)
    psp = path(response.headers["Location"])
    response = client.post(psp, data={**CARD, "number": "4242424242424242"})
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Payment successful" in response.get_data(as_text=True)
    response = client.get(psp)
    assert response.status_code == 200 and "Location" not in response.headers
