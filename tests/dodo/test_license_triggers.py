"""POST /_mock/trigger for license keys: each trigger causes its event through the license rules
(a paid license-key product, a disabled key), so the SDK reads the state the webhook reported."""
import pytest
from dodopayments import DodoPayments

from mock_server.control.client import Client, ControlAPIError
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
NS = credential_namespace("dodo", API_KEY)
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # license_keys


@pytest.fixture
def control(live_server):
    return Client(live_server.url)


@pytest.fixture
def sdk(live_server):
    return DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)


def sent(control, event, **match):
    found = [e for e in control.webhooks.events(NS) if e["type"] == event
             and all(e["payload"]["data"].get(k) == v for k, v in match.items())]
    for e in found:
        assert CONTRACT.webhook_errors(event, e["payload"]) == []
    return found


@pytest.mark.parametrize("event", ["license_key.created", "entitlement_grant.created",
                                   "entitlement_grant.delivered"])
def test_buying_triggers_issue_a_key(control, sdk, catalog, event):
    made = control.trigger(event, namespace=NS)
    payment = made["payment"]
    assert payment["product_cart"] == [{"product_id": catalog.dodo_id("desktop_app_license"),
                                        "quantity": 1}]
    [key] = made["license_keys"]
    assert sdk.license_keys.retrieve(key["id"]).payment_id == payment["payment_id"]
    assert len(sent(control, event, payment_id=payment["payment_id"])) == 1
    if event != "license_key.created":
        assert made["entitlement_grants"][0]["license_key"]["key"] == key["key"]


def test_a_product_can_be_named_and_must_issue_keys(control, catalog):
    made = control.trigger("license_key.created", namespace=NS,
                           product_id=catalog.dodo_id("team_seats_plan"))
    assert made["license_keys"][0]["subscription_id"] == made["payment"]["subscription_id"]
    ebook = catalog.dodo_id("ebook_guide")
    with pytest.raises(ControlAPIError, match=f"product {ebook} issues no license keys"):
        control.trigger("license_key.created", namespace=NS, product_id=ebook)


def test_revoked_disables_a_key(control, sdk):
    made = control.trigger("entitlement_grant.revoked", namespace=NS)
    key = made["license_key"]
    assert sdk.license_keys.retrieve(key["id"]).status == "disabled"
    assert made["entitlement_grant"]["status"] == "Revoked"
    [event] = sent(control, "entitlement_grant.revoked", id=made["entitlement_grant"]["id"])
    assert event["payload"]["data"]["revocation_reason"] == "license_key_disabled"
    with pytest.raises(ControlAPIError, match="is already disabled"):
        control.trigger("entitlement_grant.revoked", namespace=NS, license_key_id=key["id"])
    with pytest.raises(ControlAPIError, match="no license key lic_missing"):
        control.trigger("entitlement_grant.revoked", namespace=NS, license_key_id="lic_missing")
