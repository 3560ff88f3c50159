"""Waffo over HTTP: credentials, checkout sessions, idempotency, subscription orders, namespaces."""
from __future__ import annotations

import json
import time

import pytest

from .helpers import (CANCEL_SUBSCRIPTION, CREATE_SESSION, ISSUE_TOKEN, MERCHANTS, ONETIME_ORDER,
                      PRODUCTS, STORES, SUBSCRIPTION_ORDER, assert_error, private_key)

EBOOK = PRODUCTS["ebook"]["id"]
US = {"country": "US", "isBusiness": False, "state": "CA"}
UNKNOWN = "MER_" + "Z" * 22


def _session_body(**extra):
    return {"productId": EBOOK, "currency": "USD", **extra}


# -- credentials ----------------------------------------------------------------------------
@pytest.mark.parametrize("sign_kw", [
    {"key": private_key("beta")},
    {"timestamp_offset": -3600},   # stale
    {"timestamp_offset": 120},     # from the future
    {"merchant_id_override": UNKNOWN},
])
def test_bad_api_key_requests_are_401(client, sign_kw):
    sign_kw = dict(sign_kw)
    if "timestamp_offset" in sign_kw:  # resolved now, not at collection time
        sign_kw["timestamp"] = str(int(time.time()) + sign_kw.pop("timestamp_offset"))
    result = client.api(CREATE_SESSION, _session_body(), **sign_kw)
    assert_error(result, 401, "Authentication failed", "gateway")
    assert result[2]["X-Paymock-Auth-Reason"]


def test_signature_covers_the_path_without_the_mount(client):
    raw = json.dumps(_session_body()).encode()
    from .helpers import signed_headers
    headers = signed_headers("/waffo" + CREATE_SESSION, raw)  # what a client must NOT sign
    status, payload, _ = client._post(CREATE_SESSION, raw, headers)
    assert status == 401, payload


def test_wrong_credential_kind_is_401(client):
    token = client.token()
    assert_error(client.bearer(ISSUE_TOKEN, {"storeId": STORES["acme-digital"]["id"],
                                             "buyerIdentity": "x"}, token),
                 401, "Authentication failed", "gateway")
    assert_error(client.api(ONETIME_ORDER, {"checkoutSessionId": "cs_x"}),
                 401, "Authentication failed", "gateway")
    assert_error(client.slug(ISSUE_TOKEN, {"storeId": STORES["acme-digital"]["id"],
                                           "buyerIdentity": "x"}),
                 401, "Authentication failed", "gateway")


def test_lenient_mode_is_opt_in_and_never_trusts_a_bad_signature(app, client):
    control = app.test_client()
    assert client.api(CREATE_SESSION, _session_body(), merchant_id_override=UNKNOWN)[0] == 401
    assert control.post("/_mock/waffo/lenient", json={"enabled": True}).status_code == 200
    status, payload, _ = client.api(CREATE_SESSION, _session_body(), merchant_id_override=UNKNOWN)
    assert status == 200, payload
    assert client.api(CREATE_SESSION, _session_body(), key=private_key("beta"))[0] == 401


def test_strict_mode_refuses_lenient(core, app):
    core.strict = True
    resp = app.test_client().post("/_mock/waffo/lenient", json={"enabled": True})
    assert resp.status_code == 409


def test_registering_a_merchant_key_through_the_control_api(app, client):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    control = app.test_client()
    bad = control.post("/_mock/waffo/merchants", json={"merchantId": "MER_short", "publicKey": public_pem})
    assert bad.status_code == 400
    resp = control.post("/_mock/waffo/merchants", json={"merchantId": UNKNOWN, "publicKey": public_pem})
    assert resp.status_code == 201, resp.get_json()
    status, payload, _ = client.api(CREATE_SESSION, _session_body(), key=private_pem,
                                    merchant_id_override=UNKNOWN)
    assert status == 200, payload
    namespace = resp.get_json()["namespace"]
    state = control.get("/_mock/state", query_string={"namespace": namespace}).get_json()
    assert payload["data"]["sessionId"] in state["namespaces"][namespace]["checkout_session"]


# -- checkout sessions ----------------------------------------------------------------------
def test_create_session_answer(client, core):
    status, payload, _ = client.api(CREATE_SESSION, _session_body())
    assert status == 200, payload
    data = payload["data"]
    assert data["checkoutUrl"] == f"http://mock.test/checkout/waffo/store/acme-digital/checkout/{data['sessionId']}"
    assert data["expiresAt"] == "2026-09-21T14:58:20.000Z"  # frozen clock + 45 minutes
    assert core.contracts["waffo"].response_errors("createCheckoutSession", 200, payload) == []


@pytest.mark.parametrize("product, body, env, status, message", [
    ("ebook", {"currency": "INR"}, "test", 400, "Currency INR is not supported for onetime products"),
    ("pro_monthly", {"currency": "CNY"}, "test", 400,
     "Currency CNY is not supported for subscription products"),
    ("course", {"currency": "GBP"}, "test", 400, "Product has no price in GBP"),
    ("archive_pack", {"currency": "USD"}, "test", 403, "Store not active"),
    ("labs_kit", {"currency": "USD"}, "prod", 403, "Store not production enabled"),
    (None, {"productId": "PROD_" + "0" * 22, "currency": "USD"}, "test", 404, "Product not found"),
    (None, {"currency": "USD"}, "test", 400, "Missing required fields: productId, currency"),
    ("ebook", {"currency": "USD", "includePaymentMethods": ["card"], "excludePaymentMethods": []},
     "test", 400, "includePaymentMethods and excludePaymentMethods are mutually exclusive"),
    ("ebook", {"currency": "USD", "billingDetail": {"country": "US", "isBusiness": False}}, "test",
     400, "State is required for US/CA"),
])
def test_create_session_errors(client, product, body, env, status, message):
    if product:
        body = {"productId": PRODUCTS[product]["id"], **body}
    result = client.api(CREATE_SESSION, body, environment=env)
    assert result[0] == status and result[1]["errors"][0]["message"] == message, result[1]


def test_store_slug_checkout(client):
    status, payload, _ = client.slug(CREATE_SESSION, _session_body(), "acme-digital")
    assert status == 200, payload
    assert_error(client.slug(CREATE_SESSION, _session_body(), "acme-labs"),
                 403, "Product not in store", "product")
    assert_error(client.slug(CREATE_SESSION, _session_body(), "no-such-store"),
                 401, "Authentication failed", "gateway")
    assert_error(client.slug(CREATE_SESSION, _session_body(), "acme-digital", environment="staging"),
                 400, "Invalid X-Environment header: expected test or prod", "gateway")


def test_issue_session_token_errors(client):
    assert_error(client.api(ISSUE_TOKEN, {"buyerIdentity": "x", "storeId": "STO_" + "0" * 22}),
                 404, "Store not found", "store")
    assert_error(client.api(ISSUE_TOKEN, {"buyerIdentity": "x"}),
                 400, "Missing required field: provide storeId or productId", "user")
    assert_error(client.api(ISSUE_TOKEN, {"buyerIdentity": "x", "storeId": STORES["acme-labs"]["id"],
                                          "productId": EBOOK}),
                 403, "Product not in store", "product")
    status, payload, _ = client.api(ISSUE_TOKEN, {"buyerIdentity": "x", "productId": EBOOK})
    assert status == 200 and payload["data"]["expiresAt"] == "2026-09-21T14:18:20.000Z"


def test_order_uses_session_prefill_and_success_url_override(client, waffo, core):
    session = client.session("ebook", buyerEmail=" Pre@Fill.IO ", billingDetail=US,
                             successUrl="https://shop.test/ok")
    token = client.token(identity="user-9")
    status, _, _ = client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "storeId": "ignored",
                                                 "currency": "EUR"}, token)
    assert status == 200
    status, _, _ = client.bearer(ONETIME_ORDER, {"checkoutSessionId": session,
                                                 "successUrl": "https://shop.test/override"}, token)
    ns = core.store.namespace(waffo.gateway.namespace_name(MERCHANTS["acme"]["merchantId"]))
    first, second = sorted(ns.values("order"), key=lambda o: o["successUrl"])
    assert (first["buyerEmail"], first["currency"], first["successUrl"]) == (
        "pre@fill.io", "USD", "https://shop.test/ok")
    assert second["successUrl"] == "https://shop.test/override"


# -- idempotency ----------------------------------------------------------------------------
def test_idempotent_replay_and_key_rules(client):
    key = {"X-Idempotency-Key": "order-2026-0001"}
    first = client.api(CREATE_SESSION, _session_body(), headers=key)
    again = client.api(CREATE_SESSION, _session_body(currency="EUR"), headers=key)
    assert first[0] == again[0] == 200 and first[1] == again[1]
    assert again[2]["X-Paymock-Idempotent-Replay"] == "true"
    other = client.api(CREATE_SESSION, _session_body(), merchant="beta", headers=key)
    assert other[0] == 404  # the key is scoped to acme; beta's namespace has no such product
    assert_error(client.api(CREATE_SESSION, _session_body(), headers={"X-Idempotency-Key": "bad key!"}),
                 400, "Invalid X-Idempotency-Key: use at most 256 letters, digits, '-' or '_'",
                 "gateway")


def test_a_key_belongs_to_one_operation(client):
    """The same key on create-session and then on create-order is two requests: the order is
    made, not the session replayed (and the session's key still replays the session)."""
    key = {"X-Idempotency-Key": "shared-key-1"}
    status, made, _ = client.api(CREATE_SESSION, _session_body(), headers=key)
    assert status == 200
    session = made["data"]["sessionId"]
    token = client.token(identity="user-7")
    status, order, headers = client.bearer(ONETIME_ORDER, {"checkoutSessionId": session,
                                                           "billingDetail": US,
                                                           "buyerEmail": "k@ey.io"}, token, headers=key)
    assert status == 200 and "X-Paymock-Idempotent-Replay" not in headers
    assert "checkoutUrl" in order["data"] and "sessionId" not in order["data"]
    again = client.api(CREATE_SESSION, _session_body(), headers=key)
    assert again[1] == made and again[2]["X-Paymock-Idempotent-Replay"] == "true"


def test_non_2xx_leaves_the_key_free(client):
    key = {"X-Idempotency-Key": "retry-me"}
    assert client.api(CREATE_SESSION, {"productId": EBOOK}, headers=key)[0] == 400
    status, payload, headers = client.api(CREATE_SESSION, _session_body(), headers=key)
    assert status == 200 and "X-Paymock-Idempotent-Replay" not in headers


# -- subscriptions and namespaces -----------------------------------------------------------
def test_subscription_order_and_merchant_cancel(client):
    session = client.session("pro_monthly", currency="EUR")
    token = client.token()
    assert_error(client.bearer(SUBSCRIPTION_ORDER, {"checkoutSessionId": client.session("ebook"),
                                                    "billingDetail": US}, token),
                 400, "Session product type mismatch: expected subscription", "order")
    status, payload, _ = client.bearer(SUBSCRIPTION_ORDER, {"checkoutSessionId": session,
                                                            "billingDetail": US}, token)
    assert status == 200, payload
    assert payload["data"]["checkoutUrl"].startswith("http://mock.test/psp/waffo/")


def test_merchants_never_see_each_others_sessions(client):
    session = client.session("ebook")
    token = client.token(store="beta-studio", merchant="beta")
    assert_error(client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US,
                                               "buyerEmail": "a@b.co"}, token),
                 409, "Checkout session invalid, please re-enter checkout", "order")


def test_unknown_route_and_method_use_the_waffo_envelope(app):
    http = app.test_client()
    resp = http.post("/waffo/v1/actions/nothing")
    assert resp.status_code == 404 and resp.get_json()["data"] is None
    resp = http.get("/waffo" + CANCEL_SUBSCRIPTION)
    assert resp.status_code == 405 and resp.get_json()["errors"][0]["layer"] == "gateway"


def test_injected_fault_answers_in_waffo_words(client):
    session, token = client.session("ebook"), client.token()
    result = client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US,
                                           "buyerEmail": "a@b.co"}, token,
                           headers={"X-Paymock-Fault": "500"})
    assert_error(result, 500, "Internal server error", "order")


def test_api_key_requests_with_a_bogus_x_environment_are_400(client):
    result = client.api(CREATE_SESSION, _session_body(), headers={"X-Environment": "staging"})
    assert_error(result, 400, "Invalid X-Environment header: expected test or prod", "gateway")
    assert client.api(CREATE_SESSION, _session_body(), headers={"X-Environment": "test"})[0] == 200
