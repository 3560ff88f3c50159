"""Refunds, disputes and invoices end to end with the official `dodopayments` SDK, pointed at the
live server by base URL only; the control client (and the pytest handle) plays the card network
and the bank. Every event that goes out is checked against the vendor's webhook schema."""
import io

import dodopayments
import pytest
from dodopayments import DodoPayments
from pypdf import PdfReader

from mock_server.control.client import Client, ControlAPIError
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
NS = credential_namespace("dodo", API_KEY)  # the live server's key: tests find objects by id


@pytest.fixture
def sdk(live_server):
    return DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)


@pytest.fixture
def control(live_server):
    return Client(live_server.url)


def paid_payment(control, product_id=None) -> dict:
    params = {"product_id": product_id} if product_id else {}
    return control.trigger("payment.succeeded", namespace=NS, **params)["payment"]


def events_of(control, event_type, key, value, namespace=NS) -> list[dict]:
    found = [e["payload"] for e in control.webhooks.events(namespace)
             if e["type"] == event_type and e["payload"]["data"][key] == value]
    for payload in found:
        assert CONTRACT.webhook_errors(event_type, payload) == []
    return found


def refused(call, code, message):
    with pytest.raises(dodopayments.UnprocessableEntityError) as info:
        call()
    assert info.value.status_code == 422
    assert info.value.body == {"code": code, "message": message}


def test_a_partial_then_a_full_refund_and_each_refusal(sdk, control, catalog):
    payment = paid_payment(control, catalog.dodo_id("ebook_guide"))
    item = catalog.dodo_id("ebook_guide")
    partial = sdk.refunds.create(payment_id=payment["payment_id"], reason="one chapter missing",
                                 items=[{"item_id": item, "amount": 787, "tax_inclusive": True}],
                                 metadata={"ticket": "T-42"})
    assert (partial.status, partial.amount, partial.is_partial) == ("succeeded", 787, True)
    assert partial.refund_id.startswith("ref_") and partial.metadata == {"ticket": "T-42"}
    assert sdk.payments.retrieve(payment["payment_id"]).refund_status == "partial"
    [line] = sdk.payments.retrieve_line_items(payment["payment_id"]).items
    assert (line.items_id, line.amount, line.refundable_amount) == (item, 2787, 2000)
    refused(lambda: sdk.refunds.create(payment_id=payment["payment_id"], items=[
        {"item_id": item, "amount": 2001}]), "LINE_ITEM_REFUND_AMOUNT_TOO_HIGH",
        f"Line item {item} requested refund amount including tax is 2001 which is above the "
        "paid amount 2000")
    refused(lambda: sdk.refunds.create(payment_id=payment["payment_id"], items=[
        {"item_id": "pdt_other"}]), "LINE_ITEM_NOT_FOUND", "Line item pdt_other not found in payment")
    full = sdk.refunds.create(payment_id=payment["payment_id"])
    assert (full.amount, full.is_partial) == (2000, True)  # what was left, not the whole payment
    after = sdk.payments.retrieve(payment["payment_id"])
    assert after.refund_status == "full" and after.status == "succeeded"
    assert sdk.payments.retrieve_line_items(payment["payment_id"]).items[0].refundable_amount == 0
    assert [r.refund_id for r in after.refunds] == [partial.refund_id, full.refund_id]
    refused(lambda: sdk.refunds.create(payment_id=payment["payment_id"]),
            "PAYMENT_ALREADY_REFUNDED", "This payment has already been refunded")
    assert sdk.refunds.retrieve(full.refund_id).amount == 2000
    listed = sdk.refunds.list(customer_id=full.customer.customer_id, status="succeeded",
                              page_size=100)
    assert {partial.refund_id, full.refund_id} <= {r.refund_id for r in listed.items}
    for refund in (partial, full):
        [event] = events_of(control, "refund.succeeded", "refund_id", refund.refund_id)
        assert event["data"]["amount"] == refund.amount


def test_a_refund_of_an_unpaid_payment_is_refused(sdk, control):
    failed = control.trigger("payment.failed", namespace=NS)["payment"]
    refused(lambda: sdk.refunds.create(payment_id=failed["payment_id"]), "PAYMENT_NOT_SUCCEEDED",
            "The provided payment has not succeeded")
    with pytest.raises(dodopayments.NotFoundError) as info:
        sdk.refunds.create(payment_id="pay_does_not_exist")
    assert info.value.body == {"code": "NOT_FOUND", "message": "Payment not found"}


def test_a_dispute_opened_challenged_and_lost(sdk, control):
    payment = paid_payment(control)
    opened = control.disputes.open(payment["payment_id"], amount=1200, reason="fraudulent")
    dispute_id = opened["dispute_id"]
    control.disputes.move(dispute_id, "challenge")
    control.disputes.move(dispute_id, "lose", remarks="no delivery proof")
    dispute = sdk.disputes.retrieve(dispute_id)
    assert (dispute.dispute_status, dispute.amount, dispute.remarks) == (
        "dispute_lost", "1200", "no delivery proof")
    assert dispute.payment_id == payment["payment_id"] and dispute.payment_provider == "dodo"
    listed = sdk.disputes.list(dispute_status="dispute_lost", page_size=100)
    assert dispute_id in [d.dispute_id for d in listed.items]
    assert dispute_id not in [d.dispute_id for d in sdk.disputes.list(
        dispute_status="dispute_won", page_size=100).items]
    shown = sdk.payments.retrieve(payment["payment_id"])
    assert [d.dispute_status for d in shown.disputes] == ["dispute_lost"]
    for event_type in ("dispute.opened", "dispute.challenged", "dispute.lost"):
        assert len(events_of(control, event_type, "dispute_id", dispute_id)) == 1
    # the money went back through the chargeback: a refund now fails, and says so by webhook
    refund = sdk.refunds.create(payment_id=payment["payment_id"])
    assert refund.status == "failed"
    assert len(events_of(control, "refund.failed", "refund_id", refund.refund_id)) == 1
    with pytest.raises(ControlAPIError, match="win needs it dispute_challenged"):
        control.disputes.move(dispute_id, "win")


def test_the_invoice_pdfs_come_through_the_sdk(sdk, control):
    payment = paid_payment(control)
    invoice = sdk.invoices.payments.retrieve(payment["payment_id"])
    pdf = invoice.read()
    assert pdf.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert payment["payment_id"] in text and "USD 27.87" in text
    refund = sdk.refunds.create(payment_id=payment["payment_id"], reason="duplicate order")
    credit = sdk.invoices.payments.retrieve_refund(refund.refund_id).read()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(credit)).pages)
    assert refund.refund_id in text and "duplicate order" in text
    with pytest.raises(dodopayments.NotFoundError):
        sdk.invoices.payments.retrieve_refund("ref_unknown")


def test_the_refund_and_dispute_triggers(control, sdk):
    made = control.trigger("refund.succeeded", namespace=NS)
    assert made["refund"]["status"] == "succeeded" and made["payment"]["refund_status"] == "full"
    assert len(events_of(control, "refund.succeeded", "refund_id", made["refund"]["refund_id"])) == 1
    failed = control.trigger("refund.failed", namespace=NS,
                             payment_id=paid_payment(control)["payment_id"])
    assert sdk.refunds.retrieve(failed["refund"]["refund_id"]).status == "failed"
    assert len(events_of(control, "refund.failed", "refund_id", failed["refund"]["refund_id"])) == 1
    paths = {"dispute.opened": ["dispute.opened"],
             "dispute.challenged": ["dispute.opened", "dispute.challenged"],
             "dispute.won": ["dispute.opened", "dispute.challenged", "dispute.won"],
             "dispute.lost": ["dispute.opened", "dispute.challenged", "dispute.lost"],
             "dispute.accepted": ["dispute.opened", "dispute.accepted"],
             "dispute.cancelled": ["dispute.opened", "dispute.cancelled"],
             "dispute.expired": ["dispute.opened", "dispute.expired"]}
    for event, path in paths.items():
        made = control.trigger(event, namespace=NS)
        dispute_id = made["dispute"]["dispute_id"]
        assert sdk.disputes.retrieve(dispute_id).dispute_status == "dispute_" + event.split(".")[1]
        for step in path:
            assert len(events_of(control, step, "dispute_id", dispute_id)) == 1, step
    # an existing dispute is taken on from where it stands
    opened = control.trigger("dispute.opened", namespace=NS)["dispute"]
    won = control.trigger("dispute.won", dispute_id=opened["dispute_id"])["dispute"]
    assert won["dispute_status"] == "dispute_won"
    with pytest.raises(ControlAPIError, match="dispute.accepted cannot happen to it"):
        control.trigger("dispute.accepted", dispute_id=opened["dispute_id"])
    disputed = control.trigger("dispute.opened", namespace=NS)["dispute"]
    with pytest.raises(ControlAPIError, match="is disputed: its refunds fail"):
        control.trigger("refund.succeeded", payment_id=disputed["payment_id"])


def test_the_pytest_handle_scripts_refunds_and_opens_disputes(paymock):
    sdk = DodoPayments(bearer_token=paymock.dodo.credential, base_url=paymock.dodo.base_url,
                       max_retries=0)
    payment = paymock.trigger("payment.succeeded")["payment"]
    paymock.refund_outcome("pending", times=1)
    pending = sdk.refunds.create(payment_id=payment["payment_id"])
    assert pending.status == "pending"
    refused(lambda: sdk.refunds.create(payment_id=payment["payment_id"]),
            "EXISTING_REFUND_REQUEST_PROCESSING",
            'A refund request with status "Pending" is still being processed')
    assert paymock.control.refunds.settle(pending.refund_id)["status"] == "succeeded"
    assert sdk.refunds.retrieve(pending.refund_id).status == "succeeded"
    other = paymock.trigger("payment.succeeded")["payment"]
    dispute = paymock.disputes.open(other["payment_id"], stage="pre_dispute")
    assert sdk.disputes.retrieve(dispute["dispute_id"]).dispute_stage == "pre_dispute"
    listed = {p.payment_id: p.dispute_status for p in sdk.payments.list(page_size=100).items}
    assert listed[other["payment_id"]] == "dispute_opened" and listed[payment["payment_id"]] is None
