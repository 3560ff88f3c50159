"""The customer portal's hosted pages through the Flask test client: what they show, cancelling
(the API's PATCH rules and events, as the customer), a new card through the PSP page, the invoice,
expired and unknown links, forms from another origin refused, and hostile text escaped."""
from __future__ import annotations

import re

import pytest

from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
NS = credential_namespace("dodo", API_KEY)
HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"


def bought(client) -> dict:
    made = client.post("/_mock/trigger", json={"provider": "dodo", "event": "subscription.active",
                                               "namespace": NS})
    assert made.status_code == 200, made.get_json()
    return made.get_json()["subscription"]


def portal(client, auth, customer_id: str, **query) -> str:
    answer = client.post(f"/dodo/customers/{customer_id}/customer-portal/session", headers=auth,
                         query_string=query)
    assert answer.status_code == 200, answer.get_json()
    assert CONTRACT.response_errors("create_customer_portal_session", 200, answer.get_json()) == []
    link = answer.get_json()["link"]
    assert re.fullmatch(r"http://mock\.test/customer-portal/dodo/session/[A-Za-z0-9]{32}", link)
    return link.removeprefix("http://mock.test")


def events(client, since: int = 0) -> list[tuple[str, dict]]:
    found = client.get(f"/_mock/webhooks/events?namespace={NS}").get_json()["events"]
    out = [(e["type"], e["payload"]) for e in found][since:]
    for event, payload in out:
        assert CONTRACT.webhook_errors(event, payload) == [], event
    return out


@pytest.fixture
def sub(client):
    return bought(client)


def test_the_portal_shows_subscriptions_and_payments(client, auth, sub):
    path = portal(client, auth, sub["customer"]["customer_id"],
                  return_url="https://shop.example/account?x=1&y=2")
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="sub-{sub["subscription_id"]}"' in html
    assert "active" in html and sub["next_billing_date"] in html
    assert 'href="https://shop.example/account?x=1&amp;y=2"' in html
    payments = client.get(f"/dodo/payments?customer_id={sub['customer']['customer_id']}",
                          headers=auth).get_json()["items"]
    assert payments and all(p["payment_id"] in html for p in payments)
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    invoice = re.search(r'href="([^"]+/invoices/[^"]+)"', html).group(1)
    pdf = client.get(invoice)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_cancelling_now_is_the_api_patch_as_the_customer(client, auth, sub):
    sub_id, customer = sub["subscription_id"], sub["customer"]
    path = portal(client, auth, customer["customer_id"])
    since = len(events(client))
    answer = client.post(f"{path}/subscriptions/{sub_id}/cancel", data={"when": "now"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("?done=cancelled")
    read = client.get(f"/dodo/subscriptions/{sub_id}", headers=auth).get_json()
    assert read["status"] == "cancelled" and read["cancelled_at"] is not None
    assert read["cancelled_by"] == {"actor_type": "customer", "email": customer["email"],
                                    "name": customer["name"]}
    assert [e for e, _ in events(client, since)] == ["subscription.cancelled",
                                                     "subscription.updated"]
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "The subscription is cancelled." in shown
    assert f'id="cancel-now-{sub_id}"' not in shown  # nothing left to cancel
    # A second cancel is refused by the same rule as the API's.
    again = client.post(f"{path}/subscriptions/{sub_id}/cancel", data={"when": "now"})
    assert again.status_code == 422
    assert "Subscription is cancelled; it can no longer be changed" in again.get_data(as_text=True)


def test_cancelling_at_the_next_billing_date_schedules_it(client, auth, sub):
    sub_id = sub["subscription_id"]
    path = portal(client, auth, sub["customer"]["customer_id"])
    since = len(events(client))
    answer = client.post(f"{path}/subscriptions/{sub_id}/cancel",
                         data={"when": "next_billing_date"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("?done=scheduled")
    read = client.get(f"/dodo/subscriptions/{sub_id}", headers=auth).get_json()
    assert read["status"] == "active" and read["cancel_at_next_billing_date"] is True
    assert read["cancelled_by"]["actor_type"] == "customer"
    assert [e for e, _ in events(client, since)] == ["subscription.updated"]


def test_a_new_card_goes_through_the_psp_page_and_back_to_the_portal(client, auth, sub):
    sub_id, customer_id = sub["subscription_id"], sub["customer"]["customer_id"]
    path = portal(client, auth, customer_id)
    answer = client.post(f"{path}/subscriptions/{sub_id}/payment-method")
    assert answer.status_code == 303
    psp = answer.headers["Location"].removeprefix("http://mock.test")
    assert psp.startswith("/psp/dodo/")
    paid = client.post(psp, data={"number": "5555555555554444", "expiry": "07/31",
                                  "cvc": "123", "name": "New Card"})
    assert paid.status_code == 303 and paid.headers["Location"].startswith(f"http://mock.test{path}")
    read = client.get(f"/dodo/subscriptions/{sub_id}", headers=auth).get_json()
    assert read["payment_method_id"] != sub["payment_method_id"]
    methods = client.get(f"/dodo/customers/{customer_id}/payment-methods",
                         headers=auth).get_json()
    assert CONTRACT.response_errors("get_customer_payment_methods", 200, methods) == []
    new = next(m for m in methods["items"] if m["payment_method_id"] == read["payment_method_id"])
    assert new["card"] == {"card_holder_name": "New Card", "card_issuing_country": "US",
                           "card_network": "MASTERCARD", "card_type": "CREDIT",
                           "expiry_month": "07", "expiry_year": "2031", "last4_digits": "4444"}


def test_unknown_and_expired_links_say_so(client, auth, clock, sub):
    unknown = client.get("/customer-portal/dodo/session/nosuchtoken")
    assert unknown.status_code == 404 and "not valid" in unknown.get_data(as_text=True)
    path = portal(client, auth, sub["customer"]["customer_id"])
    clock.advance(24 * 3600 - 1)
    assert client.get(path).status_code == 200
    clock.advance(1)
    expired = client.get(path)
    assert expired.status_code == 404 and "has expired" in expired.get_data(as_text=True)
    refused = client.post(f"{path}/subscriptions/{sub['subscription_id']}/cancel",
                          data={"when": "now"})
    assert refused.status_code == 404
    read = client.get(f"/dodo/subscriptions/{sub['subscription_id']}", headers=auth).get_json()
    assert read["status"] == "active"


def test_a_form_from_another_origin_or_for_another_customer_changes_nothing(client, auth, sub):
    sub_id = sub["subscription_id"]
    path = portal(client, auth, sub["customer"]["customer_id"])
    foreign = client.post(f"{path}/subscriptions/{sub_id}/cancel", data={"when": "now"},
                          headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    cross_site = client.post(f"{path}/subscriptions/{sub_id}/cancel", data={"when": "now"},
                             headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"})
    assert cross_site.status_code == 403
    assert "accepts forms from its own pages only" in cross_site.get_data(as_text=True)
    other = client.post("/dodo/customers", headers=auth,
                        json={"email": "other@example.com", "name": "Other"}).get_json()
    theirs = portal(client, auth, other["customer_id"])
    wrong = client.post(f"{theirs}/subscriptions/{sub_id}/cancel", data={"when": "now"})
    assert wrong.status_code == 404 and "Subscription not found" in wrong.get_data(as_text=True)
    assert client.get(f"/dodo/subscriptions/{sub_id}", headers=auth).get_json()["status"] == "active"
    # A browser posting these pages' own forms: same-origin (Origin null: no-referrer policy).
    own = client.post(f"{path}/subscriptions/{sub_id}/cancel", data={"when": "now"},
                      headers={"Sec-Fetch-Site": "same-origin", "Origin": "null"})
    assert own.status_code == 303


def test_hostile_customer_text_is_escaped(client, auth):
    customer = client.post("/dodo/customers", headers=auth,
                           json={"email": "hostile@example.com", "name": HOSTILE}).get_json()
    path = portal(client, auth, customer["customer_id"])
    html = client.get(path).get_data(as_text=True)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
