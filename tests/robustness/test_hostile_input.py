"""Hostile and odd input, sent byte for byte to a live server: every answer is the provider's own
error envelope with the right status (or a success, where the real API would accept), never a
500, never a traceback."""
from __future__ import annotations

import json

import pytest

from tests.waffo.helpers import ONETIME_ORDER, PRODUCTS, STORES, signed_headers

from .conftest import DODO_KEY, dodo_error, waffo_error

PRODUCT = "pdt_uGej5ygB4DvTZFDmnvmUM"
GOOD = {"product_cart": [{"product_id": PRODUCT, "quantity": 1}]}
DODO = {"Authorization": f"Bearer {DODO_KEY}", "Content-Type": "application/json"}
CREATE_SESSION = "/v1/actions/checkout/create-session"


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def cart(quantity) -> bytes:
    return b'{"product_cart": [{"product_id": "%s", "quantity": %s}]}' % (PRODUCT.encode(), quantity)


# (name, body, expected status); every error must come in Dodo's envelope.
DODO_BODIES = [
    ("not json", b"hello, world", 422),
    ("truncated", b'{"product_cart": [{"product_id": "pdt_', 422),
    ("empty", b"", 422),
    ("whitespace only", b"  \n ", 422),
    ("json null", b"null", 422),
    ("json string", b'"checkout"', 422),
    ("json array", b"[1, 2, 3]", 422),
    ("invalid utf-8", b'{"product_cart": "\xff\xfe"}', 422),
    ("lone surrogate", b'{"product_cart": "\\ud800"}', 422),
    ("nul byte", b'{"product_cart": [{"product_id": "pdt_\x00", "quantity": 1}]}', 422),
    ("100k nested arrays", nested(100_000), 422),
    ("1000 nested arrays in a field", b'{"product_cart": ' + nested(1000) + b"}", 422),
    ("nested objects", b'{"metadata": ' + b'{"a": ' * 900 + b"1" + b"}" * 900 + b"}", 422),
    ("huge string", json.dumps({**GOOD, "customer": {"name": "a" * 900_000, "email": "a@x.io"}}).encode(), 200),
    ("huge array", json.dumps({"product_cart": [{"product_id": PRODUCT, "quantity": 1}] * 15_000}).encode(), 422),
    ("huge array of odd items", json.dumps({"product_cart": [[[]]] * 100_000}).encode(), 422),
    ("duplicate keys, last valid", b'{"product_cart": 5, "product_cart": [{"product_id": "%s", "quantity": 1}]}'
     % PRODUCT.encode(), 200),
    ("duplicate keys, last invalid", b'{"product_cart": [{"product_id": "%s", "quantity": 1}], "product_cart": 5}'
     % PRODUCT.encode(), 422),
    ("quantity 1e400", cart(b"1e400"), 422),
    ("quantity beyond int64", cart(b"123456789012345678901234567890"), 422),
    ("quantity beyond int32", cart(b"4294967296"), 422),
    ("quantity as float 1e10", cart(b"1e10"), 422),
    ("quantity -1", cart(b"-1"), 422),
    ("quantity 1.5", cart(b"1.5"), 422),
    ("quantity NaN", cart(b"NaN"), 422),
    ("unknown fields are ignored", json.dumps({**GOOD, "no_such_field": {"x": [1, 2]}}).encode(), 200),
]


@pytest.mark.parametrize("name,body,status", DODO_BODIES, ids=[c[0] for c in DODO_BODIES])
def test_dodo_create_session_bodies(raw, name, body, status):
    got, payload, _ = raw.request("POST", "/dodo/checkouts", body, DODO)
    assert got == status, (name, payload[:300])
    if status >= 400:
        assert dodo_error(got, payload)["code"] == "INVALID_REQUEST_BODY"
    else:
        assert json.loads(payload)["session_id"].startswith("cks_")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1", "multipart/form-data"])
def test_dodo_content_type_is_not_a_crash(raw, content_type):
    headers = {"Authorization": f"Bearer {DODO_KEY}"}
    if content_type:
        headers["Content-Type"] = content_type
    got, payload, _ = raw.request("POST", "/dodo/checkouts", json.dumps(GOOD).encode(), headers)
    assert got in (200, 415, 422), payload[:300]
    if got != 200:
        dodo_error(got, payload)


@pytest.mark.parametrize("path", [
    "/dodo/checkouts/..%2F..%2Fetc%2Fpasswd",
    "/dodo/checkouts/../../etc/passwd",
    "/dodo/checkouts/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/dodo/checkouts/%00",
    "/dodo/checkouts/%ff%fe",
    "/dodo/checkouts/%zz",
    "/dodo/checkouts/" + "%C3%BC%E2%9C%93%F0%9F%92%B3",
    "/dodo/checkouts/" + "a" * 10_000,
    "/dodo/checkouts/cks_x?id=../../etc/passwd",
    "/dodo/products/..%2F..%2F_mock%2Fstate",
    "/dodo/customers/%27%20OR%201%3D1--",
    "/dodo/discounts/code/%3Cscript%3E",
    "/dodo/../_mock/state",
    "/dodo//checkouts",
])
def test_dodo_odd_urls(raw, path):
    got, payload, _ = raw.request("GET", path, headers={"Authorization": f"Bearer {DODO_KEY}"})
    assert got in (400, 404, 405), (path, got, payload[:300])
    error = dodo_error(got, payload)
    assert b"root:" not in payload and error["code"] in ("NOT_FOUND", "METHOD_NOT_ALLOWED",
                                                          "BAD_REQUEST")


def test_dodo_body_over_the_limit_is_413_in_the_envelope(raw):
    body = json.dumps({**GOOD, "metadata": {"pad": "x" * (1024 * 1024)}}).encode()
    got, payload, _ = raw.request("POST", "/dodo/checkouts", body, DODO)
    assert got == 413
    assert dodo_error(got, payload)["message"].startswith("Request body is larger than")
    # Chunked (no Content-Length): refused all the same.
    got, payload, _ = raw.request("POST", "/dodo/checkouts", body, DODO, chunked=True)
    assert got == 413, payload[:200]
    dodo_error(got, payload)


def test_a_body_just_under_the_limit_is_read(raw):
    pad = 1024 * 1024 - len(json.dumps({**GOOD, "metadata": {"pad": ""}})) - 1
    body = json.dumps({**GOOD, "metadata": {"pad": "x" * pad}}).encode()
    got, payload, _ = raw.request("POST", "/dodo/checkouts", body, DODO)
    assert got in (200, 422) and got != 413, payload[:200]


def test_odd_headers(raw):
    for headers in ({"Authorization": "Bearer " + "k" * 8000},
                    {"Authorization": "Bearer \u00ff\u00fe".encode("latin-1").decode("latin-1")},
                    {"Authorization": "Basic dXNlcjpwYXNz"},
                    {"Authorization": "Bearer"}):
        got, payload, _ = raw.request("GET", "/dodo/products", headers=headers)
        assert got in (200, 401), (headers, payload[:200])
        if got == 401:
            dodo_error(got, payload)


# -- Waffo --------------------------------------------------------------------------------------
WAFFO_BODIES = [
    ("not json", b"hello", 400),
    ("truncated", b'{"productId": "', 400),
    ("empty", b"", 400),
    ("json array", b"[]", 400),
    ("invalid utf-8", b'{"productId": "\xff"}', 400),
    ("100k nested arrays", nested(100_000), 400),
    ("huge string", json.dumps({"productId": "p" * 900_000, "currency": "USD"}).encode(), 400),
    ("amount out of range", json.dumps({"productId": "x", "currency": "USD",
                                        "priceSnapshot": {"amount": 10**30, "taxCategory": "saas"}}
                                       ).encode(), 400),
]


@pytest.mark.parametrize("name,body,status", WAFFO_BODIES, ids=[c[0] for c in WAFFO_BODIES])
def test_waffo_create_session_bodies(raw, name, body, status):
    headers = signed_headers(CREATE_SESSION, body)
    got, payload, _ = raw.request("POST", "/waffo" + CREATE_SESSION, body, headers)
    assert got == status, (name, payload[:300])
    waffo_error(got, payload)


def test_waffo_unknown_fields_are_ignored(raw):
    body = json.dumps({"productId": PRODUCTS["ebook"]["id"], "currency": "USD",
                       "somethingNew": [1, {"x": None}]}).encode()
    got, payload, _ = raw.request("POST", "/waffo" + CREATE_SESSION, body,
                                  signed_headers(CREATE_SESSION, body))
    assert got == 200, payload[:300]


def test_waffo_body_over_the_limit_is_413_in_the_envelope(raw):
    body = json.dumps({"productId": "x", "currency": "USD", "metadata": {"p": "x" * 1_100_000}}).encode()
    got, payload, _ = raw.request("POST", "/waffo" + CREATE_SESSION, body,
                                  signed_headers(CREATE_SESSION, body))
    assert got == 413
    assert waffo_error(got, payload)["layer"] == "gateway"


def test_waffo_hostile_order_bodies_with_a_session_token(raw, live):
    body = json.dumps({"storeId": STORES["acme-digital"]["id"], "buyerIdentity": "b@example.com"}).encode()
    path = "/v1/actions/auth/issue-session-token"
    got, payload, _ = raw.request("POST", "/waffo" + path, body, signed_headers(path, body))
    assert got == 200, payload
    token = json.loads(payload)["data"]["token"]
    headers = {"Authorization": f"Bearer {token}", "X-Environment": "test",
               "Content-Type": "application/json"}
    for body in (b"{", nested(50_000), b'{"checkoutSessionId": "' + b"../" * 5000 + b'"}',
                 b'{"checkoutSessionId": 1e999}', b'{"checkoutSessionId": "\xc3\x28"}'):
        got, payload, _ = raw.request("POST", "/waffo" + ONETIME_ORDER, body, headers)
        assert 400 <= got < 500, (body[:40], payload[:300])
        waffo_error(got, payload)


@pytest.mark.parametrize("path", ["/waffo/v1/actions/..%2F..%2Fetc%2Fpasswd", "/waffo/" + "x" * 10_000,
                                  "/waffo/v1/actions/checkout/create-session/%00"])
def test_waffo_odd_urls(raw, path):
    got, payload, _ = raw.request("POST", path, b"{}", {"Content-Type": "application/json"})
    assert got in (401, 404, 405), payload[:300]
    waffo_error(got, payload)


# -- control API ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path,body", [
    ("/_mock/clock/advance", b'{"seconds": 1e308}'),
    ("/_mock/clock/advance", b'{"seconds": 1e400}'),
    ("/_mock/clock/freeze", b'{"at": -1e300}'),
    ("/_mock/clock/freeze", b'{"at": 1e300}'),
    ("/_mock/clock/advance", b'{"seconds": "1"}'),
    ("/_mock/reset", b'{"namespace": ["x"]}'),
    ("/_mock/faults", nested(100_000)),
    ("/_mock/faults", b'{"path": "(((((", "action": 500}'),
    ("/_mock/expire/session/..%2F..%2Fetc", b"{}"),
])
def test_control_api_bad_input_is_a_400_not_a_crash(raw, path, body):
    got, payload, _ = raw.request("POST", path, body, {"Content-Type": "application/json"})
    assert 400 <= got < 500, (path, got, payload[:300])
    assert "error" in json.loads(payload) and b"Traceback" not in payload
    raw.request("POST", "/_mock/clock/reset", b"{}", {"Content-Type": "application/json"})
