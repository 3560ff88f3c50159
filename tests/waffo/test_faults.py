"""Fault injection on Waffo: every documented status of every operation answers its documented
body, undocumented codes get Waffo's envelope, and the QA scenarios: PSP outage and recovery,
commit-then-fail with an idempotent retry, session and token expiry."""
import pytest

from mock_server.core.contracts import Contract

from .helpers import (CANCEL_ONETIME, CANCEL_SUBSCRIPTION, CREATE_SESSION, ISSUE_TOKEN,
                      ONETIME_ORDER, PRODUCTS, STORES, SUBSCRIPTION_ORDER, assert_error)

CONTRACT = Contract.load("waffo")
US = {"country": "US", "isBusiness": False, "state": "CA"}
SESSION_INVALID = "Checkout session invalid, please re-enter checkout"


def send(client, operation_id, token):
    """A well-formed request for each operation, with valid credentials."""
    if operation_id == "createCheckoutSession":
        return client.api(CREATE_SESSION, {"productId": PRODUCTS["ebook"]["id"], "currency": "USD"})
    if operation_id == "issueSessionToken":
        return client.api(ISSUE_TOKEN, {"storeId": STORES["acme-digital"]["id"], "buyerIdentity": "b@x.io"})
    if operation_id in MERCHANT_BODIES:
        return client.api(CONTRACT.operation(operation_id).path, MERCHANT_BODIES[operation_id])
    paths = {"createOnetimeOrder": ONETIME_ORDER, "createSubscriptionOrder": SUBSCRIPTION_ORDER,
             "cancelOnetimeOrder": CANCEL_ONETIME, "cancelSubscriptionOrder": CANCEL_SUBSCRIPTION,
             "reactivateSubscriptionOrder": CONTRACT.operation("reactivateSubscriptionOrder").path}
    body = {"orderId": "ORD_" + "a" * 22} if "cancel" in operation_id else \
        {"checkoutSessionId": "cs_x", "billingDetail": US, "buyerEmail": "b@x.io"}
    return client.bearer(paths[operation_id], body, token)


STORE_ID, PRODUCT_ID = STORES["acme-digital"]["id"], PRODUCTS["ebook"]["id"]
UUID = "11111111-2222-3333-4444-555555555555"
PRICES = {"USD": {"amount": "1.00", "taxCategory": "saas"}}
# A well-formed body for each catalog action (API key).
MERCHANT_BODIES = {
    "createStore": {"name": "Shop"}, "updateStore": {"id": STORE_ID},
    "deleteStore": {"id": STORE_ID},
    "addStoreMerchant": {"storeId": STORE_ID, "email": "m@x.io", "role": "admin"},
    "removeStoreMerchant": {"storeId": STORE_ID, "merchantId": "MER_" + "a" * 22},
    "updateStoreMerchantRole": {"storeId": STORE_ID, "merchantId": "MER_" + "a" * 22,
                                "role": "member"},
    "createOnetimeProduct": {"storeId": STORE_ID, "name": "P", "prices": PRICES},
    "createSubscriptionProduct": {"storeId": STORE_ID, "name": "P", "prices": PRICES,
                                  "billingPeriod": "monthly"},
    "updateOnetimeProduct": {"id": PRODUCT_ID}, "updateSubscriptionProduct": {"id": PRODUCT_ID},
    "publishOnetimeProduct": {"id": PRODUCT_ID}, "publishSubscriptionProduct": {"id": PRODUCT_ID},
    "updateOnetimeProductStatus": {"id": PRODUCT_ID, "status": "active"},
    "updateSubscriptionProductStatus": {"id": PRODUCT_ID, "status": "active"},
    "createSubscriptionProductGroup": {"storeId": STORE_ID, "name": "G"},
    "updateSubscriptionProductGroup": {"id": UUID}, "deleteSubscriptionProductGroup": {"id": UUID},
    "publishSubscriptionProductGroup": {"id": UUID},
    "addStoreWebhook": {"storeId": STORE_ID, "channel": "http", "url": "https://h.example",
                        "events": [], "testMode": True},
    "updateStoreWebhook": {"id": UUID}, "removeStoreWebhook": {"id": UUID},
    "scanPrompt": {"prompt": "a cat"}, "graphql": {"query": "{ stores { id } }"},
    "createRefundTicket": {"paymentId": "PAY_" + "a" * 22, "reason": "r",
                           "requestedAmount": {"amount": "1.00", "currency": "USD"}},
    "resubmitRefundTicket": {"ticketId": "TKT_" + "a" * 22, "paymentId": "PAY_" + "a" * 22,
                             "reason": "r", "requestedAmount": {"amount": "1.00", "currency": "USD"}},
}


DOCUMENTED = [(op_id, int(status)) for op_id, op in CONTRACT.operations.items()
              for status in sorted(op.statuses) if not status.startswith("2")]


@pytest.mark.parametrize("op_id, status", DOCUMENTED)
def test_every_documented_status_answers_the_documented_body(app, client, op_id, status):
    http = app.test_client()
    token = client.token()  # before the rule, which may target issueSessionToken itself
    http.post("/_mock/faults", json={"provider": "waffo", "operation": op_id, "times": 1,
                                     "action": {"status": status}})
    got_status, payload, headers = send(client, op_id, token)
    assert got_status == status
    assert payload == CONTRACT.example(op_id, status)
    assert CONTRACT.response_errors(op_id, status, payload) == []
    assert headers["X-Paymock-Injected"] == "true"


@pytest.mark.parametrize("status, message", [(418, "I'm a Teapot"), (503, "Service Unavailable")])
def test_undocumented_statuses_get_waffos_envelope(app, client, status, message):
    app.test_client().post("/_mock/faults", json={"operation": "waffo.createCheckoutSession",
                                                  "action": {"status": status}})
    assert_error(send(client, "createCheckoutSession", None), status, message, "gateway")


def order(client, session_id, token, **headers):
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": session_id, "billingDetail": US,
                                         "buyerEmail": "qa@example.com"}, token, headers=headers)


def orders_of(app, session_id):
    state = app.test_client().get("/_mock/state").get_json()["namespaces"]
    return [o for ns in state.values() for o in ns.get("order", {}).values()
            if o["checkoutSessionId"] == session_id]


def test_psp_outage_rolls_back_then_recovers_after_the_window(app, client, core):
    http = app.test_client()
    http.post("/_mock/scenario", json={"name": "psp-outage", "rules": [
        {"id": "psp-outage", "provider": "psp", "for_seconds": 600, "action": {"status": 503}}]})
    session_id, token = client.session("ebook"), client.token()
    assert_error(order(client, session_id, token), 500, "Internal server error", "order")
    assert orders_of(app, session_id) == []  # rolled back
    http.post("/_mock/clock/advance", json={"seconds": 601})
    token = client.token()  # the first token is past its 5 minutes by now
    status, payload, _ = order(client, session_id, token)
    assert status == 200 and "/psp/" in payload["data"]["checkoutUrl"]
    assert len(orders_of(app, session_id)) == 1


def test_psp_decline_and_slowness_are_recorded(app, client):
    app.test_client().post("/_mock/faults", json={"provider": "psp", "times": 1, "action": {
        "decline": "insufficient_funds", "latency_ms": 50}})
    session_id, token = client.session("ebook"), client.token()
    assert order(client, session_id, token)[0] == 200
    assert orders_of(app, session_id)[0]["payment"]["declineReason"] == "insufficient_funds"


def test_commit_then_fail_and_an_idempotent_retry_yield_one_order(app, client):
    app.test_client().post("/_mock/faults", json={"operation": "waffo.createOnetimeOrder", "times": 1,
                                                  "action": "commit-then-500"})
    session_id, token = client.session("ebook"), client.token()
    first = order(client, session_id, token, **{"X-Idempotency-Key": "order-1"})
    assert first[0] == 500  # the client sees a failure...
    retry = order(client, session_id, token, **{"X-Idempotency-Key": "order-1"})
    assert retry[0] == 200 and retry[2]["X-Paymock-Idempotent-Replay"] == "true"
    assert len(orders_of(app, session_id)) == 1  # ...but the order exists exactly once


def test_session_expires_after_45_minutes(app, client):
    session_id = client.session("ebook")
    app.test_client().post("/_mock/clock/advance", json={"seconds": 46 * 60})
    assert_error(order(client, session_id, client.token()), 409, SESSION_INVALID, "order")


def test_expire_one_session_token_or_idempotency_key_now(app, client):
    http = app.test_client()
    session_id, token = client.session("ebook"), client.token()
    assert http.post(f"/_mock/expire/session/{session_id}").status_code == 200
    assert_error(order(client, session_id, token), 409, SESSION_INVALID, "order")

    assert http.post(f"/_mock/expire/token/{token}").status_code == 200
    assert_error(order(client, client.session("ebook"), token), 401, "Authentication failed")
    assert http.post("/_mock/expire/token/not-a-token").status_code == 404

    token = client.token()
    session_id = client.session("ebook")
    assert order(client, session_id, token, **{"X-Idempotency-Key": "k1"})[0] == 200
    assert http.post("/_mock/expire/idempotency-key/k1").status_code == 200
    again = order(client, session_id, token, **{"X-Idempotency-Key": "k1"})
    assert "X-Paymock-Idempotent-Replay" not in again[2]  # ran afresh
    assert http.post("/_mock/expire/idempotency-key/k1-unknown").status_code == 404
