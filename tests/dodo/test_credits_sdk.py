"""Dodo credit-based billing end to end with the official SDK (1.123.0) against a live server of
this module's own (the triggers make products, which the shared live server's catalog tests must
not see), and the nine credit.* triggers through the control client, each event checked against
the vendor's webhook schema."""
import uuid

import dodopayments
import pytest
from dodopayments import DodoPayments

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control.client import Client, ControlAPIError
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from mock_server.server import Server
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
CREDIT_EVENTS = ("credit.added", "credit.deducted", "credit.expired", "credit.rolled_over",
                 "credit.rollover_forfeited", "credit.overage_charged", "credit.overage_reset",
                 "credit.manual_adjustment", "credit.balance_low")


@pytest.fixture(scope="module")
def server():
    app = create_app(Settings(port=0))
    running = Server(app, "127.0.0.1", 0, threads=4).start()
    yield running
    running.stop()
    app.extensions["paymock"].scheduler.stop()


@pytest.fixture
def sdk(server):
    return DodoPayments(bearer_token=API_KEY, base_url=f"{server.url}/dodo", max_retries=0)


@pytest.fixture
def control(server):
    return Client(server.url)


def test_entitlements_through_the_sdk(sdk):
    name = f"Tokens {uuid.uuid4().hex[:8]}"
    made = sdk.credit_entitlements.create(name=name, precision=2, unit="tokens",
                                          rollover_enabled=True, overage_enabled=True,
                                          rollover_percentage=25, overage_limit=100,
                                          overage_behavior="carry_deficit")
    assert made.id.startswith("cde_") and made.overage_behavior == "carry_deficit"
    assert sdk.credit_entitlements.retrieve(made.id).name == name
    assert sdk.credit_entitlements.update(made.id, description="LLM tokens") is None
    assert sdk.credit_entitlements.retrieve(made.id).description == "LLM tokens"
    listed = [e.id for e in sdk.credit_entitlements.list(page_size=100).items]
    assert made.id in listed
    assert sdk.credit_entitlements.delete(made.id) is None
    assert made.id in [e.id for e in sdk.credit_entitlements.list(deleted=True, page_size=100).items]
    with pytest.raises(dodopayments.APIStatusError) as gone:
        sdk.credit_entitlements.delete(made.id)
    assert gone.value.status_code == 410
    assert gone.value.body == {"code": "CREDIT_ENTITLEMENT_IS_DELETED",
                               "message": "The credit entitlement has already been deleted"}
    assert sdk.credit_entitlements.undelete(made.id) is None
    with pytest.raises(dodopayments.ConflictError) as taken:
        sdk.credit_entitlements.create(name=name, precision=0, unit="x", rollover_enabled=False,
                                       overage_enabled=False)
    assert taken.value.body["code"] == "CREDIT_ENTITLEMENT_NAME_ALREADY_EXISTS"
    with pytest.raises(dodopayments.NotFoundError) as missing:
        sdk.credit_entitlements.retrieve("cde_nope")
    assert missing.value.body == {"code": "NOT_FOUND", "message": "Credit entitlement not found"}


def test_a_product_purchase_balances_and_the_ledger_through_the_sdk(sdk, control):
    ns = credential_namespace("dodo", API_KEY)
    cde = sdk.credit_entitlements.create(name=f"Calls {uuid.uuid4().hex[:8]}", precision=0,
                                         unit="calls", rollover_enabled=False,
                                         overage_enabled=False).id
    product = sdk.products.create(
        name="Call pack", tax_category="saas",
        price={"type": "one_time_price", "price": 900, "currency": "USD", "discount": 0,
               "purchasing_power_parity": False},
        credit_entitlements=[{"credit_entitlement_id": cde, "credits_amount": "40"}])
    assert product.credit_entitlements[0].credit_entitlement_id == cde
    made = control.trigger("credit.added", namespace=ns, credit_entitlement_id=cde,
                           product_id=product.product_id)
    cus = made["customer_id"]
    balance = sdk.credit_entitlements.balances.retrieve(cus, credit_entitlement_id=cde)
    assert (balance.balance, balance.overage) == ("40", "0")
    entry = sdk.credit_entitlements.balances.create_ledger_entry(
        cus, credit_entitlement_id=cde, entry_type="debit", amount="15", reason="refund of calls",
        idempotency_key=f"k-{uuid.uuid4().hex}")
    assert (entry.balance_before, entry.balance_after, entry.is_credit) == ("40", "25", False)
    with pytest.raises(dodopayments.BadRequestError) as short:
        sdk.credit_entitlements.balances.create_ledger_entry(
            cus, credit_entitlement_id=cde, entry_type="debit", amount="26")
    assert short.value.body == {"code": "INSUFFICIENT_CREDIT_BALANCE",
                                "message": "Insufficient credit balance: 25 available, "
                                           "26 requested"}
    used = control.credits.usage(ns, cus, cde, 5)
    assert [e["transaction_type"] for e in used["entries"]] == ["credit_deducted"]
    grants = sdk.credit_entitlements.balances.list_grants(cus, credit_entitlement_id=cde).items
    assert [(g.source_type, g.initial_amount, g.remaining_amount) for g in grants] == \
        [("one_time", "40", "20")]
    ledger = sdk.credit_entitlements.balances.list_ledger(cus, credit_entitlement_id=cde).items
    assert [(e.transaction_type, e.amount) for e in ledger] == \
        [("credit_deducted", "5"), ("manual_adjustment", "15"), ("credit_added", "40")]
    balances = sdk.credit_entitlements.balances.list(cde).items
    assert [(b.customer_id, b.balance) for b in balances] == [(cus, "20")]
    held = sdk.customers.list_credit_entitlements(cus).items
    assert [(i.credit_entitlement_id, i.balance) for i in held] == [(cde, "20")]


@pytest.mark.parametrize("event", CREDIT_EVENTS)
def test_each_credit_trigger_sends_its_event_and_the_sdk_reads_the_state(sdk, control, event):
    ns = credential_namespace("dodo", API_KEY)
    made = control.trigger(event, namespace=ns)
    cde, cus = made["credit_entitlement_id"], made["customer_id"]
    sent = [e["payload"] for e in control.webhooks.events(ns) if e["type"] == event
            and e["payload"]["data"]["credit_entitlement_id"] == cde]
    assert len(sent) == 1, event
    assert CONTRACT.webhook_errors(event, sent[0]) == []
    balance = sdk.credit_entitlements.balances.retrieve(cus, credit_entitlement_id=cde)
    assert (balance.balance, balance.overage) == (made["balance"]["balance"],
                                                  made["balance"]["overage"])
    if event != "credit.balance_low":  # a notice, not a ledger entry
        ledger = sdk.credit_entitlements.balances.list_ledger(cus, credit_entitlement_id=cde)
        assert sent[0]["data"]["id"] in [e.id for e in ledger.items]


def test_credit_trigger_refusals(control):
    ns = credential_namespace("dodo", API_KEY)
    with pytest.raises(ControlAPIError, match="no credit entitlement cde_nope"):
        control.trigger("credit.added", namespace=ns, credit_entitlement_id="cde_nope")
    plain = control.trigger("credit.added", namespace=ns)
    with pytest.raises(ControlAPIError, match="allows no overage"):
        control.trigger("credit.overage_charged", namespace=ns,
                        credit_entitlement_id=plain["credit_entitlement_id"],
                        product_id=plain["product_id"])
    with pytest.raises(ControlAPIError, match="is not a subscription"):
        control.trigger("credit.rolled_over", namespace=ns,
                        credit_entitlement_id=plain["credit_entitlement_id"],
                        product_id=plain["product_id"])
    with pytest.raises(ControlAPIError, match="sets no low_balance_threshold_percent"):
        control.trigger("credit.balance_low", namespace=ns,
                        credit_entitlement_id=plain["credit_entitlement_id"],
                        product_id=plain["product_id"])


def test_a_subscription_credit_usage_through_the_sdk(sdk, control):
    ns = credential_namespace("dodo", API_KEY)
    cde = sdk.credit_entitlements.create(name=f"Seats {uuid.uuid4().hex[:8]}", precision=0,
                                         unit="seats", rollover_enabled=False,
                                         overage_enabled=True, overage_limit=10).id
    product = sdk.products.create(
        name="Seat plan", tax_category="saas",
        price={"type": "recurring_price", "price": 1200, "currency": "USD", "discount": 0,
               "purchasing_power_parity": False, "payment_frequency_count": 1,
               "payment_frequency_interval": "Month", "subscription_period_count": 1,
               "subscription_period_interval": "Year"},
        credit_entitlements=[{"credit_entitlement_id": cde, "credits_amount": "30"}])
    made = control.trigger("subscription.active", namespace=ns, product_id=product.product_id)
    sub_id = made["subscription"]["subscription_id"]
    raw = sdk.subscriptions.with_raw_response.retrieve_credit_usage(sub_id)
    assert CONTRACT.response_errors("get_subscription_credit_usage_handler", 200,
                                    raw.http_response.json()) == []
    [usage] = raw.parse().items
    assert (usage.credit_entitlement_id, usage.balance, usage.overage) == (cde, "30", "0")
    assert (usage.overage_limit, usage.remaining_headroom, usage.limit_reached) == ("10", "40", False)
    with pytest.raises(dodopayments.NotFoundError):
        sdk.subscriptions.retrieve_credit_usage("sub_nothing")
