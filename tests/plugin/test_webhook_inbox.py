"""The plugin's webhook inbox (`paymock_inbox`, `paymock.inbox`; mock_server/webhook_inbox.py):
the webhooks a test's namespaces sent, Waffo's and Dodo's, with no receiver to run."""
import pytest
import requests

from mock_server.webhook_inbox import WebhookInbox, WebhookNotSent

EBOOK_WAFFO = "PROD_n9BAyublbbOLvbySWsH7zx"
ACME_DIGITAL = "STO_c7egnSR1BL1yrVAmGvpUby"  # the ebook's store, copied into every new merchant
EBOOK_DODO = "pdt_uGej5ygB4DvTZFDmnvmUM"


def waffo_order(paymock, email="buyer@example.com") -> str:
    """Our code opens a checkout session; the buyer places the order (as the hosted checkout
    does, with a session token). Answers the order id, from the test's namespace."""
    waffo = paymock.waffo
    session = waffo.post("/v1/actions/checkout/create-session",
                         json={"productId": EBOOK_WAFFO, "currency": "USD"}).json()["data"]
    token = waffo.post("/v1/actions/auth/issue-session-token",
                       json={"storeId": ACME_DIGITAL, "buyerIdentity": email}).json()["data"]
    placed = requests.post(
        f"{waffo.base_url}/v1/actions/onetime-order/create-order", timeout=10,
        headers={"Authorization": f"Bearer {token['token']}", "X-Environment": "test"},
        json={"checkoutSessionId": session["sessionId"], "buyerEmail": email,
              "billingDetail": {"country": "US", "state": "CA", "isBusiness": False}})
    assert placed.status_code == 200, placed.text
    orders = paymock.state(waffo.namespace)["namespaces"][waffo.namespace]["order"]
    [order_id] = [o for o, order in orders.items() if order["buyerEmail"] == email]
    return order_id


def test_a_paid_waffo_order_is_in_the_inbox(paymock, paymock_inbox):
    order_id = waffo_order(paymock)
    paymock.pay(order_id)
    assert paymock_inbox.wait_for("order.completed")["data"]["orderId"] == order_id
    assert paymock_inbox.types() == ["order.completed"]
    [event] = paymock_inbox.events
    assert (event["namespace"], event["provider"]) == (paymock.waffo.namespace, "waffo")
    assert paymock.inbox is paymock_inbox


def test_the_same_inbox_serves_a_dodo_test(paymock, paymock_inbox):
    session = requests.post(f"{paymock.dodo.base_url}/checkouts", timeout=10,
                            headers={"Authorization": f"Bearer {paymock.dodo.credential}"},
                            json={"product_cart": [{"product_id": EBOOK_DODO, "quantity": 1}]})
    assert session.status_code == 200, session.text
    paymock.pay(session.json()["session_id"])
    payment = paymock_inbox.wait_for("payment.succeeded")
    assert payment["type"] == "payment.succeeded" and payment["data"]["total_amount"] > 0
    assert not paymock.waffo.minted  # a Dodo test still makes no Waffo merchant


def test_two_waits_return_two_events_and_where_picks_one(paymock, paymock_inbox):
    first, second = waffo_order(paymock, "one@example.com"), waffo_order(paymock, "two@example.com")
    paymock.pay(second)
    paymock.pay(first)
    picked = paymock_inbox.wait_for("order.completed",
                                    where=lambda p: p["data"]["buyerEmail"] == "one@example.com")
    assert picked["data"]["orderId"] == first
    # the other one is next; then there is none left
    assert paymock_inbox.wait_for("order.completed")["data"]["orderId"] == second
    with pytest.raises(WebhookNotSent, match=r"no order.completed webhook within 0.1s .*"
                                             r"sent: \['order.completed', 'order.completed'\]"):
        paymock_inbox.wait_for("order.completed", timeout=0.1)
    assert [p["data"]["orderId"] for p in paymock_inbox.payloads("order.completed")] == [second, first]


def test_the_inbox_sees_only_the_tests_namespaces(paymock, paymock_server):
    from mock_server.testing import Paymock

    other = Paymock(paymock_server)  # another test, at the same time
    try:
        paymock.pay(waffo_order(other))
        assert other.inbox.wait_for("order.completed")
        assert paymock.inbox.events == [] and len(paymock.inbox) == 0
        with pytest.raises(AssertionError):
            paymock.inbox.wait_for("order.completed", timeout=0.05)
        # watch() adds a namespace; the events of several come in the server's order
        paymock.inbox.watch(other.waffo.namespace)
        assert paymock.inbox.types() == ["order.completed"]
    finally:
        other.cleanup()


def test_an_inbox_of_fixed_namespaces_outside_the_fixture(paymock):
    assert WebhookInbox(paymock.control, []).events == []
    inbox = WebhookInbox(paymock.control, [paymock.dodo.namespace])
    assert inbox.namespaces == (paymock.dodo.namespace,) and inbox.types() == []
