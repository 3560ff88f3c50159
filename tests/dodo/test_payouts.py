"""Payouts: the balance rules without HTTP, GET /payouts over HTTP and through the official SDK,
the control API (/_mock/dodo/payouts) and the five payout.* triggers."""
import pytest
import requests
from dodopayments import DodoPayments

from mock_server.control.client import Client, ControlAPIError
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from mock_server.providers.dodo.payouts import PayoutError
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
BILLING = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA",
           "zipcode": "94105"}


@pytest.fixture
def dodo(app):
    return app.extensions["paymock.dodo"]


@pytest.fixture
def ns(app):
    return app.extensions["paymock"].store.namespace(credential_namespace("dodo", "sk_test_payouts"))


def paid(dodo, ns, slug_price=None) -> dict:
    product = next(p for p in ns.values("product") if p["metadata"]["fixture"] == "premium_course")
    session = dodo.create_session(ns, {
        "product_cart": [{"product_id": product["product_id"], "quantity": 1}],
        "customer": {"email": "payout@example.com", "name": "P O"},
        "billing_address": BILLING, "confirm": True})
    payments = dodo.payments.payments
    return payments.script(ns, payments.get(ns, session["payment_id"]), "paid")


def events(app, ns, prefix="payout."):
    sent = [(e["type"], e["payload"]) for e in app.extensions["paymock.webhooks"].events(ns.name)
            if e["type"].startswith(prefix)]
    for event, payload in sent:
        assert CONTRACT.webhook_errors(event, payload) == [], event
    return sent


def test_the_balance_is_payments_less_refunds_chargebacks_and_payouts_not_failed(app, dodo, ns):
    first, second = paid(dodo, ns), paid(dodo, ns)
    total = first["amount"] + second["amount"]
    assert dodo.payouts.balance(ns) == {"currency": "USD", "available": total, "refunds": 0,
                                        "chargebacks": 0}
    dodo.refunds.create(ns, {"payment_id": first["id"], "reason": "r"})
    dispute = dodo.disputes.open(ns, second["id"], 100)
    dodo.disputes.move(ns, dispute["dispute_id"], "accept")
    left = total - first["amount"] - 100
    assert dodo.payouts.balance(ns)["available"] == left

    payout = dodo.payouts.create(ns, remarks="weekly")
    assert payout["payout_id"].startswith("pyt_") and payout["status"] == "not_initiated"
    assert (payout["amount"], payout["currency"], payout["refunds"], payout["chargebacks"]) == (
        left, "USD", first["amount"], 100)
    assert payout["remarks"] == "weekly" and payout["fee"] == 0
    assert dodo.payouts.balance(ns) == {"currency": "USD", "available": 0, "refunds": 0,
                                        "chargebacks": 0}
    with pytest.raises(PayoutError, match="nothing to pay out: the USD balance"):
        dodo.payouts.create(ns)
    dodo.payouts.move(ns, payout["payout_id"], "process")
    failed = dodo.payouts.move(ns, payout["payout_id"], "fail", remarks="bank refused")
    assert failed["status"] == "failed" and failed["remarks"] == "bank refused"
    # A failed payout's funds are back in the wallet.
    assert dodo.payouts.balance(ns)["available"] == left
    assert [event for event, _ in events(app, ns)] == [
        "payout.created", "payout.in_progress", "payout.failed"]
    assert events(app, ns)[-1][1]["data"]["payout_id"] == payout["payout_id"]


def test_legal_moves_only_and_bad_amounts_refused(app, dodo, ns):
    balance = paid(dodo, ns)["amount"]
    for amount in (0, balance + 1, "5", True):
        with pytest.raises(ValueError, match="amount must be an integer from 1 to the USD balance"):
            dodo.payouts.create(ns, amount)
    with pytest.raises(ValueError, match="currency must be an ISO 4217 code"):
        dodo.payouts.create(ns, 100, "usd")
    payout = dodo.payouts.create(ns, 100)
    with pytest.raises(PayoutError, match="is not_initiated; succeed needs in_progress"):
        dodo.payouts.move(ns, payout["payout_id"], "succeed")
    with pytest.raises(LookupError, match="unknown payout action 'pay'"):
        dodo.payouts.move(ns, payout["payout_id"], "pay")
    with pytest.raises(LookupError, match="no payout pyt_nope"):
        dodo.payouts.move(ns, "pyt_nope", "hold")
    for action, status in (("hold", "on_hold"), ("process", "in_progress"),
                           ("hold", "on_hold"), ("process", "in_progress"),
                           ("succeed", "success")):
        assert dodo.payouts.move(ns, payout["payout_id"], action)["status"] == status
    for action in ("hold", "process", "fail", "succeed"):
        with pytest.raises(PayoutError, match="is success"):
            dodo.payouts.move(ns, payout["payout_id"], action)
    assert [e for e, _ in events(app, ns)] == [
        "payout.created", "payout.on_hold", "payout.in_progress", "payout.on_hold",
        "payout.in_progress", "payout.success"]
    assert dodo.payouts.balance(ns)["available"] == balance - 100


def test_get_payouts_filters_and_pages_over_http(app, client, dodo, clock):
    ns = app.extensions["paymock"].store.namespace(credential_namespace("dodo", API_KEY))
    paid(dodo, ns)
    made = []
    for _ in range(3):
        clock.advance(60)
        made.append(dodo.payouts.create(ns, 100))
    auth = {"Authorization": f"Bearer {API_KEY}"}
    response = client.get("/dodo/payouts", headers=auth)
    assert response.status_code == 200
    assert CONTRACT.response_errors("list_payouts", 200, response.json) == []
    assert [p["payout_id"] for p in response.json["items"]] == \
        [p["payout_id"] for p in reversed(made)]  # newest first
    paged = client.get("/dodo/payouts?page_size=2&page_number=1", headers=auth).json
    assert [p["payout_id"] for p in paged["items"]] == [made[0]["payout_id"]]
    since = client.get(f"/dodo/payouts?created_at_gte={made[1]['created_at']}", headers=auth).json
    assert [p["payout_id"] for p in since["items"]] == [made[2]["payout_id"], made[1]["payout_id"]]
    until = client.get(f"/dodo/payouts?created_at_lte={made[0]['created_at']}", headers=auth).json
    assert [p["payout_id"] for p in until["items"]] == [made[0]["payout_id"]]
    bad = client.get("/dodo/payouts?page_size=x", headers=auth)
    assert (bad.status_code, bad.json) == (422, {
        "code": "INVALID_REQUEST_BODY",
        "message": "query parameter page_size: 'x' is not a valid integer"})
    assert client.get("/dodo/payouts").status_code == 401


# -- the live server: control client, SDK, triggers -------------------------------------------
def test_the_control_api_pays_out_and_the_sdk_lists_it(live_server):
    control = Client(live_server.url)
    ns = credential_namespace("dodo", API_KEY)
    control.trigger("payment.succeeded", namespace=ns)
    available = control.payouts.balance(ns)["available"]
    assert available > 0
    payout = control.payouts.create(ns, amount=available, remarks="all of it")
    assert payout["amount"] == available and payout["status"] == "not_initiated"
    assert control.payouts.move(payout["payout_id"], "process")["status"] == "in_progress"
    done = control.payouts.move(payout["payout_id"], "succeed", remarks="paid")
    assert done["status"] == "success"
    sdk = DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)
    listed = {p.payout_id: p for p in sdk.payouts.list(page_size=100)}
    assert listed[payout["payout_id"]].status == "success"
    assert listed[payout["payout_id"]].amount == available
    assert listed[payout["payout_id"]].remarks == "paid"
    sent = [e["type"] for e in control.webhooks.events(ns) if e["type"].startswith("payout.")
            and e["payload"]["data"]["payout_id"] == payout["payout_id"]]
    assert sent == ["payout.created", "payout.in_progress", "payout.success"]
    # Its invoice (public, as the vendor declares it), and its breakup views.
    invoice = requests.get(f"{live_server.url}/dodo/invoices/payouts/{payout['payout_id']}",
                           timeout=10)
    assert invoice.status_code == 200 and invoice.content.startswith(b"%PDF")
    breakup = requests.get(f"{live_server.url}/dodo/payouts/{payout['payout_id']}/breakup",
                           headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    assert breakup.status_code == 200 and CONTRACT.response_errors(
        "get_payout_breakup_v3_public", 200, breakup.json()) == []

    for path, body, status, words in (
            (f"/payouts/{payout['payout_id']}/hold", {}, 409, "is success; hold needs"),
            ("/payouts", {"namespace": ns, "amount": -1}, 400, "amount must be an integer"),
            ("/payouts/pyt_nope/hold", {}, 404, "no Dodo namespace holds 'pyt_nope'"),
            ("/payouts", {}, 400, "namespace is required"),
            (f"/payouts/{payout['payout_id']}/pay", {}, 404, "unknown payout action 'pay'")):
        answer = requests.post(f"{live_server.url}/_mock/dodo{path}", json=body, timeout=10)
        assert answer.status_code == status and words in answer.json()["error"], path


@pytest.mark.parametrize("event, statuses", [
    ("payout.created", ["not_initiated"]),
    ("payout.on_hold", ["not_initiated", "on_hold"]),
    ("payout.in_progress", ["not_initiated", "in_progress"]),
    ("payout.success", ["not_initiated", "in_progress", "success"]),
    ("payout.failed", ["not_initiated", "in_progress", "failed"]),
])
def test_each_payout_trigger_moves_a_new_payout(live_server, event, statuses):
    control = Client(live_server.url)
    ns = credential_namespace("dodo", API_KEY)
    made = control.trigger(event, namespace=ns)
    payout = made["payout"]
    assert payout["status"] == statuses[-1] and payout["amount"] > 0
    sent = [e for e in control.webhooks.events(ns) if e["type"].startswith("payout.")
            and e["payload"]["data"]["payout_id"] == payout["payout_id"]]
    assert [e["payload"]["data"]["status"] for e in sent] == statuses
    for e in sent:
        assert CONTRACT.webhook_errors(e["type"], e["payload"]) == []
    sdk = DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)
    assert any(p.payout_id == payout["payout_id"] and p.status == statuses[-1]
               for p in sdk.payouts.list(page_size=100))


def test_a_trigger_moves_a_named_payout_or_says_why_not(live_server):
    control = Client(live_server.url)
    ns = credential_namespace("dodo", API_KEY)
    held = control.trigger("payout.on_hold", namespace=ns)["payout"]
    done = control.trigger("payout.success", namespace=ns, payout_id=held["payout_id"])["payout"]
    assert done["status"] == "success"  # on_hold -> in_progress -> success
    with pytest.raises(ControlAPIError, match="is success; fail needs"):
        control.trigger("payout.failed", namespace=ns, payout_id=held["payout_id"])
    with pytest.raises(ControlAPIError, match="no payout pyt_nope"):
        control.trigger("payout.failed", namespace=ns, payout_id="pyt_nope")
    for payout_id, status in ((held["payout_id"], 409), ("pyt_nope", 404)):
        answer = requests.post(f"{live_server.url}/_mock/trigger", timeout=10, json={
            "provider": "dodo", "event": "payout.failed", "namespace": ns, "payout_id": payout_id})
        assert answer.status_code == status


def test_the_created_trigger_pays_until_a_negative_balance_has_something_to_pay(app, dodo, ns):
    payment = paid(dodo, ns)
    dodo.refunds.create(ns, {"payment_id": payment["id"]})
    dispute = dodo.disputes.open(ns, payment["id"])
    dodo.disputes.move(ns, dispute["dispute_id"], "accept")  # refunded and charged back: -amount
    assert dodo.payouts.balance(ns)["available"] == -payment["amount"]
    made = app.extensions["paymock"].triggers.fire("dodo", "payout.created", ns, {})
    paid_now = [p for p in ns.values("payment") if p["id"] != payment["id"]]
    assert sum(p["amount"] for p in paid_now) - payment["amount"] == made["payout"]["amount"] > 0
    assert made["payout"]["chargebacks"] == made["payout"]["refunds"] == payment["amount"]
    assert dodo.payouts.balance(ns)["available"] == 0
