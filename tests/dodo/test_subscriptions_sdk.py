"""Dodo subscriptions through the official SDK (1.123.0), pointed at paymock by base URL only.
These tests move the clock, so each runs its own server (the shared live server's clock is the
whole session's)."""
from datetime import datetime

import dodopayments
import pytest
import requests
from dodopayments import DodoPayments

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control.client import Client
from mock_server.core import billing_cycles
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from mock_server.server import Server

CONTRACT = Contract.load("dodo")
KEY = "sk_test_subscriptions"
BILLING = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA",
           "zipcode": "94105"}


@pytest.fixture
def server():
    running = Server(create_app(Settings(port=0)), "127.0.0.1", 0, threads=4).start()
    yield running
    running.stop()


@pytest.fixture
def sdk(server):
    return DodoPayments(bearer_token=KEY, base_url=f"{server.url}/dodo", max_retries=0)


@pytest.fixture
def control(server):
    return Client(server.url)


NS = credential_namespace("dodo", KEY)


def buy(sdk, control, email="sdk@example.com") -> str:
    product = next(p for p in sdk.products.list(recurring=True).items
                   if p.name.startswith("Professional Plan"))
    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": product.product_id, "quantity": 1}],
        customer={"email": email, "name": "Sdk Buyer"}, billing_address=BILLING, confirm=True)
    paid = control.pay(session.session_id)
    assert paid["status"] == "succeeded"
    return paid["data"]["subscription_id"]


def raw(server, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}/dodo{path}", timeout=10,
                            headers={"Authorization": f"Bearer {KEY}"}, **kwargs)


def events(control, since=0):
    found = [(e["type"], e["payload"]) for e in control.webhooks.events(NS)][since:]
    for event, payload in found:
        assert CONTRACT.webhook_errors(event, payload) == [], event
    return found


def test_a_bought_subscription_is_read_listed_and_renewed_for_a_year(server, sdk, control):
    sub_id = buy(sdk, control)
    sub = sdk.subscriptions.retrieve(sub_id)
    assert sub.status == "active" and sub.quantity == 1 and sub.payment_method_id
    assert sub.cancelled_by is None and sub.has_payment_method is True
    body = raw(server, "GET", f"/subscriptions/{sub_id}").json()
    assert CONTRACT.response_errors("get_subscription_handler", 200, body) == []
    listed = sdk.subscriptions.list(customer_id=sub.customer.customer_id, status="active")
    assert [s.subscription_id for s in listed.items] == [sub_id]
    page = raw(server, "GET", "/subscriptions", params={"page_size": 5}).json()
    assert CONTRACT.response_errors("list_subscriptions_handler", 200, page) == []
    assert [e for e, _ in events(control)] == ["subscription.active", "subscription.updated",
                                               "payment.succeeded"]
    control.clock.advance(days=366)
    payments = sdk.payments.list(subscription_id=sub_id, page_size=100).items
    assert len(payments) == 13 and all(p.status == "succeeded" for p in payments)
    dates = sorted(p.created_at for p in payments)
    first = sub.previous_billing_date.timestamp()  # each renewal a calendar month on from it
    assert [d.timestamp() for d in dates[1:]] == pytest.approx(
        [billing_cycles.after(first, months, "Month") for months in range(1, 13)], abs=0.002)
    renewed = events(control, 3)
    assert [e for e, _ in renewed] == ["payment.succeeded", "subscription.renewed",
                                       "subscription.updated"] * 12
    assert [p["timestamp"] for e, p in renewed if e == "subscription.renewed"] == \
        sorted(p["timestamp"] for e, p in renewed if e == "subscription.renewed")
    now = sdk.subscriptions.retrieve(sub_id)
    assert now.previous_billing_date == dates[-1]


def test_a_failed_renewal_goes_on_hold_and_a_new_card_recovers_it(server, sdk, control):
    sub_id = buy(sdk, control)
    control.faults.add(provider="psp", operation="chargeSavedMethod", times=1,
                       action={"decline": "insufficient_funds"})
    control.clock.advance(days=32)
    held = sdk.subscriptions.retrieve(sub_id)
    assert held.status == "on_hold"
    failed = [p for p in sdk.payments.list(subscription_id=sub_id).items if p.status == "failed"]
    assert len(failed) == 1 and sdk.payments.retrieve(failed[0].payment_id).error_code == \
        "INSUFFICIENT_FUNDS"
    assert [e for e, _ in events(control, 3)] == [
        "payment.failed", "subscription.on_hold", "subscription.updated", "dunning.started"]
    control.clock.advance(days=62)  # on_hold never renews
    assert len(sdk.payments.list(subscription_id=sub_id).items) == 2
    update = sdk.subscriptions.update_payment_method(sub_id, payment_method={"type": "new"})
    assert update.payment_id and update.payment_link.startswith(server.url)
    page = requests.get(update.payment_link, timeout=10)  # the PSP page takes the new card
    assert page.status_code == 200 and "4242" in page.text
    control.pay(update.payment_id)
    back = sdk.subscriptions.retrieve(sub_id)
    now = datetime.fromisoformat(control.clock.get()["now"].replace("Z", "+00:00"))
    assert back.status == "active"
    # Two months on hold: the dues are one payment, for the period the recovery falls in.
    assert back.previous_billing_date < now < back.next_billing_date
    assert back.previous_billing_date > held.next_billing_date
    assert len(sdk.payments.list(subscription_id=sub_id).items) == 3
    assert [e for e, _ in events(control, 7)] == [
        "payment.succeeded", "subscription.active", "subscription.updated", "dunning.recovered"]


def test_cancel_at_next_billing_date_through_the_sdk(sdk, control):
    sub_id = buy(sdk, control)
    scheduled = sdk.subscriptions.update(sub_id, cancel_at_next_billing_date=True)
    assert scheduled.status == "active" and scheduled.cancel_at_next_billing_date
    assert scheduled.cancelled_by.actor_type == "api_key"
    control.clock.advance(days=32)
    ended = sdk.subscriptions.retrieve(sub_id)
    assert ended.status == "cancelled" and ended.cancelled_at == scheduled.next_billing_date
    assert len(sdk.payments.list(subscription_id=sub_id).items) == 1
    assert [e for e, _ in events(control, 3)] == [
        "subscription.updated", "subscription.cancelled", "subscription.updated"]


def test_refusals_reach_the_sdk_with_dodos_codes(server, sdk, control):
    with pytest.raises(dodopayments.NotFoundError) as info:
        sdk.subscriptions.retrieve("sub_missing")
    assert info.value.body == {"code": "NOT_FOUND", "message": "Subscription not found"}
    sub_id = buy(sdk, control)
    with pytest.raises(dodopayments.UnprocessableEntityError) as info:
        sdk.subscriptions.update(sub_id, pause=True)
    assert info.value.body["code"] == "INVALID_REQUEST_BODY"
    assert "pause was removed" in info.value.body["message"]
    with pytest.raises(dodopayments.UnprocessableEntityError) as info:
        sdk.subscriptions.update(sub_id, status="paused", metadata={"a": "b"})
    assert info.value.body["message"] == ("status paused must be sent alone; the request also "
                                          "has metadata")
    with pytest.raises(dodopayments.NotFoundError) as info:
        sdk.subscriptions.update_payment_method(
            sub_id, payment_method={"type": "existing", "payment_method_id": "pm_nope"})
    assert info.value.body["code"] == "NOT_FOUND"
    answer = raw(server, "PATCH", f"/subscriptions/{sub_id}", json={"status": "paused"})
    assert answer.status_code == 200
    assert CONTRACT.response_errors("patch_subscription_handler", 200, answer.json()) == []
    refused = raw(server, "PATCH", f"/subscriptions/{sub_id}", json={"status": "paused"})
    assert refused.status_code == 422
    assert CONTRACT.response_errors("patch_subscription_handler", 422, refused.json()) == []
    assert refused.json()["code"] == "SUBSCRIPTION_INACTIVE"
    resumed = sdk.subscriptions.update(sub_id, status="active")
    assert resumed.status == "active"


def test_a_failed_renewal_retried_through_the_sdk(server, sdk, control):
    sub_id = buy(sdk, control)
    control.faults.add(provider="psp", operation="chargeSavedMethod", times=1,
                       action={"decline": "card_declined"})
    control.clock.advance(days=32)
    failed = next(p for p in sdk.payments.list(subscription_id=sub_id).items
                  if p.status == "failed")
    state = sdk.payments.retrieve_retry_state(failed.payment_id)
    assert state.can_retry and state.sends_allowed == 3 and state.sends_used == 0
    retried = sdk.payments.retry(failed.payment_id)
    assert retried.is_manual_retry and retried.status == "succeeded" and retried.sends_used == 1
    assert sdk.payments.retrieve(retried.payment_id).invoice_id == retried.invoice_id
    assert sdk.subscriptions.retrieve(sub_id).status == "active"
    with pytest.raises(dodopayments.UnprocessableEntityError) as info:
        sdk.payments.retry(failed.payment_id)
    assert info.value.body["code"] == "INVALID_REQUEST_PARAMETERS"
    with pytest.raises(dodopayments.NotFoundError) as info:
        sdk.payments.retrieve_retry_state("pay_nope")
    assert info.value.body == {"code": "NOT_FOUND", "message": "Payment not found"}
    body = raw(server, "GET", f"/payments/{failed.payment_id}/retry").json()
    assert CONTRACT.response_errors("get_payment_retry_state_handler", 200, body) == []
    assert body["reason"] == "INVALID_REQUEST_PARAMETERS"


def test_a_plan_change_previewed_and_made_through_the_sdk(server, sdk, control):
    sub_id = buy(sdk, control)
    starter = next(p for p in sdk.products.list(recurring=True).items
                   if p.name.startswith("Starter"))
    preview = sdk.subscriptions.preview_change_plan(
        sub_id, product_id=starter.product_id, quantity=2,
        proration_billing_mode="prorated_immediately_keep_cycle")
    assert preview.new_plan.product_id == starter.product_id and preview.new_plan.quantity == 2
    body = raw(server, "POST", f"/subscriptions/{sub_id}/change-plan/preview",
               json={"product_id": starter.product_id, "quantity": 2,
                     "proration_billing_mode": "full_immediately"}).json()
    assert CONTRACT.response_errors("change_plan_preview_handler", 200, body) == []
    changed = sdk.subscriptions.change_plan(sub_id, product_id=starter.product_id, quantity=2,
                                            proration_billing_mode="full_immediately")
    assert changed.payment_id
    assert sdk.payments.retrieve(changed.payment_id).total_amount == \
        body["immediate_charge"]["summary"]["total_amount"]
    sub = sdk.subscriptions.retrieve(sub_id)
    assert (sub.product_id, sub.quantity) == (starter.product_id, 2)
    assert [e for e, _ in events(control, 3)] == [
        "payment.succeeded", "subscription.plan_changed", "subscription.updated"]
    with pytest.raises(dodopayments.UnprocessableEntityError) as info:
        sdk.subscriptions.change_plan(sub_id, product_id=starter.product_id, quantity=1,
                                      proration_billing_mode="do_not_bill",
                                      effective_at="next_billing_date")
    assert info.value.body["code"] == "INVALID_PRORATION_MODE_WITH_NEXT_BILLING_DATE"


def test_on_demand_charge_and_usage_history_through_the_sdk(server, sdk, control):
    sub_id = buy(sdk, control)
    charged = sdk.subscriptions.charge(sub_id, product_price=2500)
    payment = sdk.payments.retrieve(charged.payment_id)
    assert payment.status == "succeeded" and payment.subscription_id == sub_id
    history = sdk.subscriptions.retrieve_usage_history(sub_id)
    assert len(history.items) == 1 and history.items[0].meters == []
    body = raw(server, "GET", f"/subscriptions/{sub_id}/usage-history",
               params={"page_size": 5}).json()
    assert CONTRACT.response_errors("list_usage_history_handler", 200, body) == []


def test_a_scheduled_plan_change_is_cancelled_through_the_sdk(server, sdk, control):
    sub_id = buy(sdk, control)
    starter = next(p for p in sdk.products.list(recurring=True).items
                   if p.name.startswith("Starter"))
    sdk.subscriptions.change_plan(sub_id, product_id=starter.product_id, quantity=1,
                                  proration_billing_mode="full_immediately",
                                  effective_at="next_billing_date")
    assert sdk.subscriptions.retrieve(sub_id).scheduled_change.product_id == starter.product_id
    answer = raw(server, "DELETE", f"/subscriptions/{sub_id}/change-plan/scheduled")
    assert (answer.status_code, answer.content) == (204, b"")
    assert sdk.subscriptions.retrieve(sub_id).scheduled_change is None
    with pytest.raises(dodopayments.NotFoundError) as info:
        sdk.subscriptions.cancel_change_plan(sub_id)
    assert info.value.body == {"code": "NOT_FOUND", "message": "No scheduled plan change found"}
    sdk.subscriptions.change_plan(sub_id, product_id=starter.product_id, quantity=1,
                                  proration_billing_mode="full_immediately",
                                  effective_at="next_billing_date")
    assert sdk.subscriptions.cancel_change_plan(sub_id) is None


def test_renewals_go_on_after_a_restart_with_a_state_file(tmp_path):
    from tests.processes import serve, stop
    state = tmp_path / "state.json"
    proc, port = serve("--state-file", state)
    url = f"http://127.0.0.1:{port}"
    try:
        sdk = DodoPayments(bearer_token=KEY, base_url=f"{url}/dodo", max_retries=0)
        sub_id = buy(sdk, Client(url))
    finally:
        stop(proc)  # saves the state on the way out
    proc, port = serve("--state-file", state)
    url = f"http://127.0.0.1:{port}"
    try:
        sdk = DodoPayments(bearer_token=KEY, base_url=f"{url}/dodo", max_retries=0)
        Client(url).clock.advance(days=63)
        payments = sdk.payments.list(subscription_id=sub_id).items
        assert len(payments) == 3 and all(p.status == "succeeded" for p in payments)
    finally:
        stop(proc)
