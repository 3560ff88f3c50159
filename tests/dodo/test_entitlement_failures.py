"""entitlement_grant.failed: a license-key delivery scripted to fail (control API or trigger) makes
a Pending then Failed grant, with its error, and issues no key."""
import pytest
import requests

from mock_server.control.client import Client, ControlAPIError
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from mock_server.providers.dodo.entitlement_grants import GRANT, OUTCOME
from mock_server.providers.dodo.license_keys import KEY
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
NS = credential_namespace("dodo", API_KEY)
BILLING = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA",
           "zipcode": "94105"}


def grant_events(events, payment_id):
    found = [(e["type"], e["payload"]) for e in events if e["type"].startswith("entitlement_grant.")
             and e["payload"]["data"]["payment_id"] == payment_id]
    for event, payload in found:
        assert CONTRACT.webhook_errors(event, payload) == [], event
    return found


def buy(dodo, ns, catalog) -> dict:
    session = dodo.create_session(ns, {
        "product_cart": [{"product_id": catalog.dodo_id("desktop_app_license"), "quantity": 1}],
        "customer": {"email": "grant@example.com", "name": "G F"},
        "billing_address": BILLING, "confirm": True})
    payments = dodo.payments.payments
    return payments.script(ns, payments.get(ns, session["payment_id"]), "paid")


def test_a_scripted_failure_fails_the_next_deliveries_only(app, catalog):
    dodo = app.extensions["paymock.dodo"]
    ns = app.extensions["paymock"].store.namespace(credential_namespace("dodo", "sk_test_grants"))
    outbox = app.extensions["paymock.webhooks"]
    grants = dodo.license_keys.grants
    grants.script_outcome(ns, "failed", times=1, error_code="SEAT_LIMIT")
    failed = buy(dodo, ns, catalog)
    sent = grant_events(outbox.events(ns.name), failed["id"])
    assert [event for event, _ in sent] == ["entitlement_grant.created", "entitlement_grant.failed"]
    created, fail = sent[0][1]["data"], sent[1][1]["data"]
    assert created["status"] == "Pending" and created["error_code"] is None
    assert (fail["status"], fail["error_code"], fail["error_message"]) == (
        "Failed", "SEAT_LIMIT", "The entitlement could not be delivered")
    assert fail["license_key"] is None and fail["delivered_at"] is None
    assert [k for k in ns.values(KEY) if k["payment_id"] == failed["id"]] == []
    assert not any(e["type"] == "license_key.created" for e in outbox.events(ns.name))
    assert ns.get(GRANT, fail["id"])["status"] == "Failed"
    # The one failure is used: the next purchase delivers.
    delivered = buy(dodo, ns, catalog)
    assert [e for e, _ in grant_events(outbox.events(ns.name), delivered["id"])] == [
        "entitlement_grant.created", "entitlement_grant.delivered"]
    # Without times, every delivery fails until told otherwise.
    grants.script_outcome(ns, "failed")
    for _ in range(2):
        paid = buy(dodo, ns, catalog)
        assert grant_events(outbox.events(ns.name), paid["id"])[-1][0] == "entitlement_grant.failed"
    grants.script_outcome(ns, "delivered")
    assert ns.get(OUTCOME, "next") is None
    for bad, words in ((("nope",), "outcome must be failed or delivered"),
                       (("failed", 0), "times must be a positive integer"),
                       (("failed", None, 5), "error_code must be a string")):
        with pytest.raises(ValueError, match=words):
            grants.script_outcome(ns, *bad)


def test_the_control_api_and_the_trigger_fail_a_delivery(live_server):
    control = Client(live_server.url)
    scripted = control.entitlement_grants.outcome(NS, "failed", times=1, error_message="Oops")
    assert scripted["outcome"] == "failed" and scripted["times"] == 1
    made = control.trigger("license_key.created", namespace=NS)
    assert made["license_keys"] == []  # the key's delivery failed
    sent = grant_events(control.webhooks.events(NS), made["payment"]["payment_id"])
    assert [e for e, _ in sent] == ["entitlement_grant.created", "entitlement_grant.failed"]
    assert sent[1][1]["data"]["error_message"] == "Oops"

    made = control.trigger("entitlement_grant.failed", namespace=NS, error_code="NO_SEATS")
    [grant] = made["entitlement_grants"]
    assert (grant["status"], grant["error_code"], grant["license_key"]) == ("Failed", "NO_SEATS",
                                                                            None)
    assert made["license_keys"] == []
    sent = grant_events(control.webhooks.events(NS), made["payment"]["payment_id"])
    assert [e for e, _ in sent] == ["entitlement_grant.created", "entitlement_grant.failed"]
    # The trigger used its own failure: the next purchase delivers.
    after = control.trigger("entitlement_grant.delivered", namespace=NS)
    assert after["entitlement_grants"][0]["status"] == "Delivered"

    answer = requests.post(f"{live_server.url}/_mock/dodo/entitlement_grants/outcome", timeout=10,
                           json={"namespace": NS, "outcome": "sometimes"})
    assert answer.status_code == 400 and "outcome must be failed or delivered" in \
        answer.json()["error"]
    with pytest.raises(ControlAPIError, match="no one-time license-key product|issues no license"):
        control.trigger("entitlement_grant.failed", namespace=NS,
                        product_id=control.trigger("payment.succeeded", namespace=NS)
                        ["payment"]["product_cart"][0]["product_id"])
    # A trigger refused leaves no failure scripted behind it.
    assert control.trigger("license_key.created", namespace=NS)["license_keys"] != []
