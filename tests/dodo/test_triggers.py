"""POST /_mock/trigger for Dodo, through the Python control client, the CLI and the pytest
handle: each trigger causes its event through the mock's own rules, so the state the SDK reads
afterwards agrees with the webhook that went out."""
import subprocess
import sys

import pytest
from dodopayments import DodoPayments

from mock_server.control.client import Client, ControlAPIError
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from mock_server.providers.dodo.events import event_types
from tests.conftest import API_KEY

EVENT_TYPES = event_types(Contract.load("dodo"))  # what the channel accepts

CONTRACT = Contract.load("dodo")  # derived from spec 1.113.0, webhooks included


@pytest.fixture
def key():
    return API_KEY  # the live server's key: its namespace is shared, so tests look by id


@pytest.fixture
def control(live_server):
    return Client(live_server.url)


def test_the_payment_triggers_leave_a_payment_the_sdk_reads(live_server, control, key):
    ns = credential_namespace("dodo", key)
    sdk = DodoPayments(bearer_token=key, base_url=f"{live_server.url}/dodo", max_retries=0)
    for event, status in (("payment.succeeded", "succeeded"), ("payment.failed", "failed"),
                          ("payment.processing", "processing"), ("payment.cancelled", "cancelled")):
        made = control.trigger(event, namespace=ns)
        assert made["namespace"] == ns and made["event"] == event
        payment = sdk.payments.retrieve(made["payment"]["payment_id"])
        assert payment.status == status
        sent = [e for e in control.webhooks.events(ns) if e["type"] == event
                and e["payload"]["data"]["payment_id"] == payment.payment_id]
        assert len(sent) == 1
        assert CONTRACT.webhook_errors(event, sent[0]["payload"]) == []


def test_a_decline_reason_and_a_product_can_be_chosen(live_server, control, key, catalog):
    ns = credential_namespace("dodo", key)
    product = catalog.dodo_id("premium_course")
    made = control.trigger("payment.failed", namespace=ns, product_id=product,
                           reason="insufficient_funds")
    assert made["payment"]["error_code"] == "INSUFFICIENT_FUNDS"
    assert made["payment"]["product_cart"] == [{"product_id": product, "quantity": 1}]


def test_triggers_are_listed_and_unknown_ones_refused(control, key):
    assert "payment.succeeded" in control.triggers()["dodo"]
    with pytest.raises(ControlAPIError, match="no trigger for dodo event 'nope.nothing'"):
        control.trigger("nope.nothing", provider="dodo", namespace=credential_namespace("dodo", key))
    with pytest.raises(ControlAPIError, match="namespace is required"):
        control.trigger("payment.succeeded", provider="dodo")
    with pytest.raises(ControlAPIError, match="Product does not exist"):
        control.trigger("payment.failed", provider="dodo", namespace=credential_namespace("dodo", key),
                        product_id="pay_missing")


def test_the_cli_triggers_and_lists(live_server, key):
    ns = credential_namespace("dodo", key)
    run = subprocess.run([sys.executable, "-m", "paymock", "trigger", "payment.succeeded",
                          "--namespace", ns, "--url", live_server.url],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert '"status": "succeeded"' in run.stdout
    listed = subprocess.run([sys.executable, "-m", "paymock", "trigger", "list", "--url",
                             live_server.url], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "payment.cancelled" in listed.stdout
    bad = subprocess.run([sys.executable, "-m", "paymock", "trigger", "payment.succeeded",
                          "--set", "oops", "--url", live_server.url],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "NAME=VALUE" in bad.stderr


def test_every_event_type_has_a_trigger(control):
    assert len(EVENT_TYPES) == 48
    assert sorted(set(EVENT_TYPES) - set(control.triggers()["dodo"])) == []


def test_the_pytest_handle_triggers_in_the_tests_own_namespace(paymock):
    made = paymock.trigger("dispute.opened")
    assert made["namespace"] == paymock.dodo.namespace == paymock.namespace
    sdk = DodoPayments(bearer_token=paymock.dodo.credential, base_url=paymock.dodo.base_url,
                       max_retries=0)
    dispute = sdk.disputes.retrieve(made["dispute"]["dispute_id"])
    assert dispute.dispute_status == "dispute_opened"
