"""Tests a merchant writes with nothing but the paymock pytest plugin: a Waffo merchant of each
test's own, its signed calls, and the webhook inbox (Waffo and Dodo).
README.md shows this file verbatim (tests/test_readme.py checks that it does)."""
import requests
from dodopayments import DodoPayments

EBOOK = "PROD_n9BAyublbbOLvbySWsH7zx"     # a Waffo product of the default fixtures
STORE = "STO_c7egnSR1BL1yrVAmGvpUby"      # its store; every new merchant starts with a copy
DODO_EBOOK = "pdt_uGej5ygB4DvTZFDmnvmUM"  # a Dodo product of the default fixtures


def test_each_test_has_a_waffo_merchant_of_its_own(paymock):
    waffo = paymock.waffo  # merchant_id, private_key (PEM), base_url, namespace, on first use
    # Point your code at waffo.merchant_id / waffo.private_key / waffo.base_url, or the Node SDK:
    # new WaffoPancake(options), options = paymock.waffo.sdk_options() passed as JSON.
    response = waffo.post("/v1/actions/checkout/create-session",   # signed as the SDK signs
                          json={"productId": EBOOK, "currency": "USD"})
    session_id = response.json()["data"]["sessionId"]
    mine = paymock.state(waffo.namespace)["namespaces"][waffo.namespace]
    assert list(mine["checkout_session"]) == [session_id]


def test_a_paid_order_sends_order_completed(paymock, paymock_inbox):
    waffo = paymock.waffo
    session = waffo.post("/v1/actions/checkout/create-session",
                         json={"productId": EBOOK, "currency": "USD"}).json()["data"]
    token = waffo.post("/v1/actions/auth/issue-session-token",
                       json={"storeId": STORE, "buyerIdentity": "ann@example.com"}).json()["data"]
    # The buyer places the order, as Waffo's hosted checkout does ...
    order = requests.post(f"{waffo.base_url}/v1/actions/onetime-order/create-order", timeout=10,
                          headers={"Authorization": f"Bearer {token['token']}",
                                   "X-Environment": "test"},
                          json={"checkoutSessionId": session["sessionId"],
                                "buyerEmail": "ann@example.com",
                                "billingDetail": {"country": "US", "state": "CA",
                                                  "isBusiness": False}}).json()["data"]
    # ... and pays on the PSP page its checkoutUrl opens; the webhook is in the inbox.
    payment = paymock.pay(order["checkoutUrl"].rsplit("/", 1)[-1])
    assert paymock_inbox.wait_for("order.completed")["data"]["orderId"] == payment["ref"]["id"]


def test_the_inbox_holds_dodo_webhooks_too(paymock, paymock_inbox):
    dodo = DodoPayments(bearer_token=paymock.dodo.credential, base_url=paymock.dodo.base_url,
                        max_retries=0)
    session = dodo.checkout_sessions.create(product_cart=[{"product_id": DODO_EBOOK,
                                                           "quantity": 1}])
    paymock.pay(session.session_id)
    assert paymock_inbox.wait_for("payment.succeeded")["data"]["total_amount"] > 0
    assert paymock_inbox.types() == ["payment.succeeded"]
