"""A subscription's whole first year, as a merchant sees it: bought by a buyer in Debian's
chromium on the hosted checkout, its webhooks delivered to an endpoint the merchant created with
the official SDK (`client.webhooks.create`) and verified by the SDK's own `webhooks.unwrap` with
that endpoint's secret, then a year of monthly renewals run by one clock advance."""
from __future__ import annotations

import json

import pytest
from dodopayments import DodoPayments

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control import Client
from mock_server.core.contracts import Contract
from mock_server.server import Server

from .test_dodo_checkout import fill_details, landed, pay

CONTRACT = Contract.load("dodo")
STARTER_MONTHLY = "pdt_T5Kpc8SCR9JBIdPiEvcN1"
EVENTS = ["subscription.active", "subscription.renewed", "payment.succeeded"]


@pytest.fixture(scope="module")
def live():
    """A server of this module's own: the test moves its clock by a year."""
    app = create_app(Settings(port=0, webhook_timeout_seconds=2.0))
    server = Server(app, "127.0.0.1", 0, threads=8).start()
    yield server
    server.stop()
    app.extensions["paymock.webhooks"].stop()


def test_a_subscription_bought_in_the_browser_renews_for_a_year(page, live, shop):
    shop = shop()
    mock = Client(live.url)
    sdk = DodoPayments(bearer_token=shop.key, base_url=f"{live.url}/dodo", max_retries=0)
    mock.webhooks.delete_endpoint(shop.endpoint["id"])  # this merchant's endpoint is its own API's
    endpoint = sdk.webhooks.create(url=shop.receiver.url, filter_types=EVENTS)
    secret = sdk.webhooks.retrieve_secret(endpoint.id).secret
    shop.receiver.verify = lambda body, headers: sdk.webhooks.unwrap(body, headers=headers, key=secret)

    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": STARTER_MONTHLY, "quantity": 1}],
        return_url=shop.return_url, cancel_url=shop.cancel_url)
    fill_details(page, session.checkout_url)
    pay(page, "4242424242424242")
    params = landed(page, shop)
    subscription = sdk.subscriptions.retrieve(params["subscription_id"])
    assert (subscription.status, subscription.customer.email) == ("active", "ada@example.com")
    first_renewal = subscription.next_billing_date

    mock.clock.advance(days=366)  # every renewal that fell due runs, in order, before it answers
    after = sdk.subscriptions.retrieve(subscription.subscription_id)
    assert after.status == "active"
    assert after.next_billing_date.year == first_renewal.year + 1
    assert after.next_billing_date.month == first_renewal.month
    payments = sdk.payments.list(subscription_id=subscription.subscription_id, page_size=100).items
    assert len(payments) == 13 and {p.status for p in payments} == {"succeeded"}
    assert sorted(p.created_at.month for p in payments[:-1]) == sorted(
        (first_renewal.month - 1 + i) % 12 + 1 for i in range(12))  # one per month, at its date

    requests = shop.receiver.wait_for(1 + 13 + 12, timeout=30)
    assert all(r["status"] == 200 for r in requests), [r["error"] for r in requests if r["error"]]
    events = [json.loads(r["body"]) for r in requests]
    types = [e["type"] for e in events]
    assert (types.count("subscription.active"), types.count("payment.succeeded"),
            types.count("subscription.renewed")) == (1, 13, 12)
    assert all(CONTRACT.webhook_errors(e["type"], e) == [] for e in events)
    renewed = sorted(e["data"]["next_billing_date"] for e in events if e["type"] == "subscription.renewed")
    assert len(set(renewed)) == 12  # each renewal moved the date on by one period
