"""License keys end to end with the official SDK (dodopayments 1.123.0) against the live server:
buy a license-key product (a confirm=true session paid through the control API), then the
merchant's calls (list, retrieve, update, instances) and the public ones (activate up to the limit,
validate, deactivate), which the SDK sends with the API key and raw HTTP sends without any."""
import uuid

import dodopayments
import pytest
import requests
from dodopayments import DodoPayments

from mock_server.control.client import Client
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
NS = credential_namespace("dodo", API_KEY)
# SDK 1.123.0 marks client.license_keys deprecated (Dodo steers merchants to entitlement grants);
# the endpoints still work and are what this emulates.
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
ADDRESS = {"country": "US", "street": "1 Main St", "city": "SF", "state": "CA", "zipcode": "94105"}


@pytest.fixture
def sdk(live_server):
    return DodoPayments(bearer_token=API_KEY, base_url=f"{live_server.url}/dodo", max_retries=0)


@pytest.fixture
def control(live_server):
    return Client(live_server.url)


def bought(sdk, control, catalog, slug="desktop_app_license", quantity=1):
    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": catalog.dodo_id(slug), "quantity": quantity}],
        customer={"email": "sdk-lic@example.com", "name": "SDK Buyer"},
        billing_address=ADDRESS, confirm=True)
    control.pay(session.session_id)
    return session.payment_id


def keys_of(sdk, payment_id):
    return [k for k in sdk.license_keys.list(page_size=100).items if k.payment_id == payment_id]


def test_buy_then_manage_and_use_a_key_through_the_sdk(live_server, sdk, control, catalog):
    payment_id = bought(sdk, control, catalog)
    [key] = keys_of(sdk, payment_id)
    assert (key.status, key.source, key.activations_limit, key.instances_count) == (
        "active", "auto", 3, 0)
    assert key.expires_at is not None and key.product_id == catalog.dodo_id("desktop_app_license")
    assert sdk.license_keys.retrieve(key.id).key == key.key
    listed = sdk.payments.list(page_size=100).items
    assert [p.has_license_key for p in listed if p.payment_id == payment_id] == [True]

    sent = [e for e in control.webhooks.events(NS)
            if e["payload"]["data"].get("payment_id") == payment_id]
    assert [e["type"] for e in sent] == ["payment.succeeded", "license_key.created",
                                         "entitlement_grant.created", "entitlement_grant.delivered"]
    for event in sent:
        assert CONTRACT.webhook_errors(event["type"], event["payload"]) == []
    assert sent[1]["payload"]["data"]["id"] == key.id

    instances = [sdk.licenses.activate(license_key=key.key, name=f"device {n}") for n in range(3)]
    assert {i.license_key_id for i in instances} == {key.id}
    assert instances[0].customer.email == "sdk-lic@example.com"
    with pytest.raises(dodopayments.UnprocessableEntityError) as info:
        sdk.licenses.activate(license_key=key.key, name="one too many")
    assert info.value.body == {"code": "LICENSE_KEY_LIMIT_REACHED",
                               "message": "License key activation limit reached"}
    assert sdk.licenses.validate(license_key=key.key,
                                 license_key_instance_id=instances[0].id).valid is True
    assert sdk.licenses.deactivate(license_key=key.key,
                                   license_key_instance_id=instances[0].id) is None
    assert sdk.licenses.validate(license_key=key.key,
                                 license_key_instance_id=instances[0].id).valid is False
    with pytest.raises(dodopayments.PermissionDeniedError) as info:
        sdk.licenses.deactivate(license_key=key.key, license_key_instance_id=instances[0].id)
    assert info.value.body["code"] == "LICENSE_KEY_NOT_FOUND"

    listed = sdk.license_key_instances.list(license_key_id=key.id).items
    assert {i.id for i in listed} == {i.id for i in instances[1:]}
    renamed = sdk.license_key_instances.update(instances[1].id, name="renamed")
    assert sdk.license_key_instances.retrieve(instances[1].id).name == renamed.name == "renamed"

    with pytest.raises(dodopayments.UnprocessableEntityError) as info:
        sdk.license_keys.update(key.id, activations_limit=1)
    assert info.value.body["code"] == "ACTIVATION_LIMIT_LESS_THAN_CURRENT_AMOUNT"
    disabled = sdk.license_keys.update(key.id, disabled=True)
    assert disabled.status == "disabled"
    with pytest.raises(dodopayments.PermissionDeniedError) as info:
        sdk.licenses.activate(license_key=key.key, name="while disabled")
    assert info.value.body == {"code": "INACTIVE_LICENSE_KEY", "message": "License key is not active"}
    assert sdk.licenses.validate(license_key=key.key).valid is False
    assert sdk.license_keys.update(key.id, disabled=False).status == "active"
    revoked = [e for e in control.webhooks.events(NS) if e["type"] == "entitlement_grant.revoked"
               and e["payload"]["data"]["payment_id"] == payment_id]
    assert len(revoked) == 1
    assert CONTRACT.webhook_errors("entitlement_grant.revoked", revoked[0]["payload"]) == []


def test_the_public_calls_need_no_api_key(live_server, sdk, control, catalog):
    [key] = keys_of(sdk, bought(sdk, control, catalog))
    base = f"{live_server.url}/dodo/licenses"
    made = requests.post(f"{base}/activate", json={"license_key": key.key, "name": "cli"},
                         timeout=10)
    assert made.status_code == 201
    assert CONTRACT.response_errors("activate_license_key", 201, made.json()) == []
    instance = made.json()["id"]
    valid = requests.post(f"{base}/validate", timeout=10,
                          json={"license_key": key.key, "license_key_instance_id": instance})
    assert (valid.status_code, valid.json()) == (200, {"valid": True})
    gone = requests.post(f"{base}/deactivate", timeout=10,
                         json={"license_key": key.key, "license_key_instance_id": instance})
    assert (gone.status_code, gone.content) == (200, b"")
    assert sdk.license_keys.retrieve(key.id).instances_count == 0
    unknown = requests.post(f"{base}/validate", json={"license_key": "no-such-key"}, timeout=10)
    assert (unknown.status_code, unknown.json()) == (200, {"valid": False})
    missing = requests.post(f"{base}/activate", json={"license_key": "no-such-key", "name": "x"},
                            timeout=10)
    assert (missing.status_code, missing.json()) == (
        404, {"code": "NOT_FOUND", "message": "License key not found"})
    # The SDK without a real key (a desktop app ships none) works the same.
    anonymous = DodoPayments(bearer_token="unused", base_url=f"{live_server.url}/dodo",
                             max_retries=0)
    assert anonymous.licenses.validate(license_key=key.key).valid is True
    with pytest.raises(dodopayments.AuthenticationError):
        anonymous.license_keys.retrieve(key.id)  # the merchant's calls still need one


def test_import_and_a_subscription_product_through_the_sdk(live_server, sdk, control, catalog):
    customer = catalog.data["dodo"]["customers"][1]["customer_id"]
    imported = sdk.license_keys.create(key=f"IMPORTED-{uuid.uuid4().hex}", customer_id=customer,
                                       product_id=catalog.dodo_id("desktop_app_license"),
                                       activations_limit=2)
    assert (imported.source, imported.payment_id, imported.expires_at) == ("import", None, None)
    with pytest.raises(dodopayments.ConflictError):
        sdk.license_keys.create(key=imported.key, customer_id=customer,
                                product_id=catalog.dodo_id("desktop_app_license"))
    seats = keys_of(sdk, bought(sdk, control, catalog, slug="team_seats_plan", quantity=3))
    assert len(seats) == 3
    assert all(k.subscription_id and k.expires_at is None and k.activations_limit == 2
               for k in seats)
    with pytest.raises(dodopayments.BadRequestError) as info:
        sdk.license_keys.update(seats[0].id, expires_at="2030-01-01T00:00:00Z")
    assert info.value.body == {"code": "NO_EXPIRY_ON_SUBSCRIPTION_LICENSE_KEYS",
                               "message": "Cannot set expiry date for subscription-based "
                               "license key"}
