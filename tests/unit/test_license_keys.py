"""License-key rules through plain Python (no HTTP): which products issue keys, a key's status on
the clock, renewals, disabling what a payment issued, and which operations are public."""
import types

import pytest

from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from mock_server.providers.dodo import auth
from mock_server.providers.dodo.license_keys import KEY, status_of, terms_of

NOW = 1_790_000_000.0  # the conftest clock


@pytest.fixture
def backend(app):
    return app.extensions["paymock.dodo"]


@pytest.fixture
def ns(app):
    return app.extensions["paymock"].store.namespace("dodo:unit")


def test_terms_come_from_the_license_key_entitlement_else_the_legacy_fields(catalog):
    product = catalog.dodo_product("desktop_app_license")
    entitlement = product["entitlements"][0]["id"]
    assert terms_of(product) == {"entitlement_id": entitlement, "activations_limit": 3,
                                 "duration": (1, "Year")}
    legacy = dict(product, entitlements=[], license_key_activations_limit=None,
                  license_key_duration={"count": 30, "interval": "Day"})
    assert terms_of(legacy) == {"entitlement_id": None, "activations_limit": None,
                                "duration": (30, "Day")}
    assert terms_of(catalog.dodo_product("ebook_guide")) is None
    seats = terms_of(catalog.dodo_product("team_seats_plan"))
    assert (seats["activations_limit"], seats["duration"]) == (2, None)


def test_status_is_read_on_the_clock():
    key = {"disabled": False, "expires_at": "2026-09-21T14:13:21.000Z"}
    assert status_of(key, NOW) == "active"
    assert status_of(key, NOW + 1) == "expired"
    assert status_of(dict(key, disabled=True), NOW) == "disabled"
    assert status_of(dict(key, expires_at=None), NOW + 10 ** 9) == "active"


def paid(ns, product_id, quantity=1, ref_kind="session", **data):
    return {"id": f"pay_{len(ns.values(KEY))}", "status": "succeeded",
            "ref": {"kind": ref_kind, "id": "cks_1" if ref_kind == "session" else "sub_1"},
            "data": {"customer": {"customer_id": "cus_1"}, "is_recurring": False,
                     "product_cart": [{"product_id": product_id, "quantity": quantity}], **data}}


def test_a_renewal_of_a_subscription_issues_no_new_key(backend, ns, catalog):
    keys = backend.license_keys
    product = catalog.dodo_id("team_seats_plan")
    first = paid(ns, product, 2, is_recurring=True, subscription_id="sub_1")
    keys.on_payment(ns, first, "pending")
    assert [(k["subscription_id"], k["expires_at"]) for k in ns.values(KEY)] == [("sub_1", None)] * 2
    keys.on_payment(ns, paid(ns, product, 2, is_recurring=True, subscription_id="sub_1"), "pending")
    assert len(ns.values(KEY)) == 2
    keys.on_payment(ns, first, "succeeded")  # not newly paid
    assert len(ns.values(KEY)) == 2


def test_mark_payment_flags_only_license_purchases(backend, ns, catalog):
    licensed = paid(ns, catalog.dodo_id("desktop_app_license"))
    backend.license_keys.mark_payment(ns, licensed, "pending")
    assert licensed["data"]["has_license_key"] is True
    plain = paid(ns, catalog.dodo_id("ebook_guide"))
    backend.license_keys.mark_payment(ns, plain, "pending")
    assert "has_license_key" not in plain["data"]


def test_disable_for_a_payment_disables_its_keys_and_revokes_their_grants(backend, ns, catalog):
    keys = backend.license_keys
    mine = paid(ns, catalog.dodo_id("desktop_app_license"), 2)
    keys.on_payment(ns, mine, "pending")
    other = paid(ns, catalog.dodo_id("desktop_app_license"))
    other["id"] = "pay_other"
    keys.on_payment(ns, other, "pending")
    changed = keys.disable_for(ns, payment_id=mine["id"])
    assert len(changed) == 2 and {k["status"] for k in changed} == {"disabled"}
    assert {k["payment_id"]: k["disabled"] for k in ns.values(KEY)} == {
        mine["id"]: True, "pay_other": False}
    assert keys.disable_for(ns, payment_id=mine["id"]) == []  # already disabled


def test_the_public_operations_are_those_the_contract_declares_without_security():
    document = Contract.load("dodo").document
    docs = {f"{area}_{page}" for area in ("api", "customer_portal", "dashboard", "superadmin",
                                          "unified_customer_portal")
            for page in ("docs", "docs_index", "docs_openapi")}
    assert auth.public_operations(document) == {
        "activate_license_key", "validate_license_key", "deactivate_license_key",
        "get_payment_invoice_no_auth", "get_refund_invoice_no_auth", "get_payout_invoice_no_auth",
        "get_supported_countries_proxy", "connector_webhook_doc"} | docs


def request(body: bytes, authorization: str | None = None):
    environ = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    return types.SimpleNamespace(method="POST", environ=environ, body=lambda: body)


def test_a_public_caller_is_placed_in_the_namespace_that_holds_the_key(app, backend, catalog):
    store = app.extensions["paymock"].store
    mine = credential_namespace("dodo", "sk_mine")
    ns = store.namespace(mine)
    backend.license_keys.on_payment(ns, paid(ns, catalog.dodo_id("desktop_app_license")), "pending")
    key = ns.values(KEY)[0]["key"]
    body = b'{"license_key": "%s", "name": "x"}' % key.encode()
    for authorization in (None, "Bearer sk_other", "Basic xyz"):
        caller = auth.public_caller(request(body, authorization), store, frozenset())
        assert (caller.namespace, caller.kind) == (mine, "public")
    # An unknown key: the caller's own namespace, else the empty public one.
    unknown = b'{"license_key": "nope"}'
    assert auth.public_caller(request(unknown, "Bearer sk_other"), store, frozenset()).namespace \
        == credential_namespace("dodo", "sk_other")
    assert auth.public_caller(request(unknown), store, frozenset()).namespace == auth.PUBLIC_NAMESPACE
    # A key the server does not accept is ignored rather than refused; so is a broken body.
    assert auth.public_caller(request(unknown, "Bearer sk_other"), store,
                              frozenset({"sk_mine"})).namespace == auth.PUBLIC_NAMESPACE
    assert auth.public_caller(request(b"{not json"), store, frozenset()).namespace == \
        auth.PUBLIC_NAMESPACE


def test_keys_disabled_for_a_reason_come_back_only_for_that_reason(backend, ns, catalog):
    keys = backend.license_keys
    product = catalog.dodo_id("team_seats_plan")
    keys.on_payment(ns, paid(ns, product, 2, is_recurring=True, subscription_id="sub_9"), "pending")
    first, second = ns.values(KEY)
    keys.update(ns, first["id"], {"disabled": True})  # the merchant's own choice
    assert [k["id"] for k in keys.disable_for(ns, subscription_id="sub_9", reason="on_hold")] == [
        second["id"]]
    assert keys.enable_for(ns, subscription_id="sub_9", reason="cancelled") == []
    back = keys.enable_for(ns, subscription_id="sub_9", reason="on_hold")
    assert [(k["id"], k["status"]) for k in back] == [(second["id"], "active")]
    assert keys.get(ns, first["id"])["status"] == "disabled"


def test_a_subscriptions_own_charges_issue_no_key(backend, ns, catalog):
    """Renewals, plan changes and on-demand charges are payments for the subscription itself."""
    product = catalog.dodo_id("team_seats_plan")
    charge = paid(ns, product, 2, ref_kind="subscription", is_recurring=True, subscription_id="sub_9")
    backend.license_keys.mark_payment(ns, charge, "pending")
    backend.license_keys.on_payment(ns, charge, "pending")
    assert ns.values(KEY) == [] and "has_license_key" not in charge["data"]
