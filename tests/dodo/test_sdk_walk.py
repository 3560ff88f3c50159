"""One merchant's life through all 156 operations of Dodo's 1.113.0 spec.

The official `dodopayments` SDK, pointed at paymock by base URL only, makes every call it has a
method for (137 of the operations); plain HTTP makes the 19 it has none for (the vendor's
documentation pages, the connector webhook, a discount's customers). Every exchange is recorded
from the wire (an httpx response hook on the SDK's own client) and named by the vendor's spec;
every successful answer is checked against the vendor's own schema for it (the file in
../shared, not paymock's derived contract; with one correction, the vendor's oneOf that refuses
its own examples read as anyOf: contract_derivation.loosen_ambiguous_one_of), and the last step checks that no operation was left
out and that each one the SDK has a method for went through the SDK.

The control API plays what Dodo's API cannot ask for: the buyer paying on the hosted page, a bank
opening a dispute, a payout being made."""
from __future__ import annotations

import json

import httpx
import pytest
from dodopayments import DefaultHttpxClient, DodoPayments

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control.client import Client
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from mock_server.providers.dodo.contract_derivation import loosen_ambiguous_one_of
from mock_server.server import Server
from tests.conftest import beside_the_repo

KEY = "sk_test_paymock_sdk_walk"
NS = credential_namespace("dodo", KEY)
ADDRESS = {"country": "US", "street": "1 Main St", "city": "SF", "state": "CA", "zipcode": "94105"}
# The SDK's payments.create and subscriptions.create warn that payment links are deprecated in
# favour of checkout sessions; the operations are still in the spec, and walked.
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")


class Wire:
    """Every exchange of the walk, named by the vendor's spec, and what broke its schema."""

    def __init__(self, spec: dict, sdk_operations: set[str]):
        loosen_ambiguous_one_of(spec, spec["components"]["schemas"])
        self.vendor = Contract(spec, "urn:paymock:vendor:dodo")
        # The spec's operations; each path's CORS preflight (OPTIONS) is declared as one too.
        self.operations = {op_id for op_id, op in self.vendor.operations.items()
                           if op.method != "OPTIONS"}
        # The most literal route first: GET /products/short_links before GET /products/{id}.
        self.routes = sorted(((op.path.count("{"), op.method, op.pattern, op_id)
                              for op_id, op in self.vendor.operations.items()),
                             key=lambda route: route[0])
        self.sdk_operations = sdk_operations  # "METHOD /path" the SDK has a method for
        self.answered: dict[str, set[str]] = {}  # operation -> {"sdk", "http"}, 2xx only
        self.problems: list[str] = []

    def operation(self, method: str, path: str) -> str | None:
        return next((op_id for _, m, pattern, op_id in self.routes
                     if m == method and pattern.match(path)), None)

    def hook(self, via: str):
        def record(response: httpx.Response) -> None:
            response.read()
            method, path = response.request.method, response.request.url.path
            op_id = self.operation(method, path.removeprefix("/dodo"))
            if op_id is None:
                self.problems.append(f"{method} {path}: no operation of the spec")
                return
            status = response.status_code
            if status >= 300:
                self.problems.append(f"{op_id}: {status} {response.text[:300]}")
                return
            self.answered.setdefault(op_id, set()).add(via)
            if response.content and "json" in response.headers.get("content-type", ""):
                errors = self.vendor.response_errors(op_id, status, response.json())
                if errors:
                    self.problems.append(f"{op_id}: {errors[:3]}")
        return record

    def via_sdk_expected(self, op_id: str) -> bool:
        op = self.vendor.operations[op_id]
        return f"{op.method.lower()} {op.path}" in self.sdk_operations


@pytest.fixture(scope="module")
def server():
    running = Server(create_app(Settings(port=0)), "127.0.0.1", 0, threads=4).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def wire():
    spec = json.loads(beside_the_repo("reference", "dodo-current",
                                      "dodo-openapi-1.113.0.json").read_text())
    listing = beside_the_repo("reference", "dodo-current", "sdk-python-1.123.0-operations.txt")
    return Wire(spec, {line.strip() for line in listing.read_text().splitlines() if line.strip()})


@pytest.fixture(scope="module")
def sdk(server, wire):
    client = DefaultHttpxClient(event_hooks={"response": [wire.hook("sdk")]})
    return DodoPayments(bearer_token=KEY, base_url=f"{server.url}/dodo", max_retries=0,
                        http_client=client)


@pytest.fixture(scope="module")
def http(server, wire):
    """Plain HTTP for what the SDK has no method for."""
    return httpx.Client(base_url=f"{server.url}/dodo", headers={"Authorization": f"Bearer {KEY}"},
                        event_hooks={"response": [wire.hook("http")]}, timeout=10)


@pytest.fixture(scope="module")
def control(server):
    return Client(server.url)


def the_catalog(sdk, http, control, state):
    assert "US" in sdk.misc.list_supported_countries()
    brand = sdk.brands.create(name="Second brand", url="https://second.example",
                              statement_descriptor="SECOND")
    assert sdk.brands.retrieve(brand.brand_id).name == "Second brand"
    assert sdk.brands.update(brand.brand_id, description="Our other shop").description == \
        "Our other shop"
    assert brand.brand_id in [b.brand_id for b in sdk.brands.list().items]
    assert sdk.brands.update_images(brand.brand_id).url
    state["brand"] = brand.brand_id

    meter = sdk.meters.create(name="API calls", event_name="walk.call",
                              measurement_unit="calls", aggregation={"type": "count"})
    assert sdk.meters.retrieve(meter.id).event_name == "walk.call"
    assert meter.id in [m.id for m in sdk.meters.list(page_size=100).items]
    sdk.meters.archive(meter.id)
    assert meter.id in [m.id for m in sdk.meters.list(archived=True, page_size=100).items]
    sdk.meters.unarchive(meter.id)
    state["meter"] = meter.id

    addon = sdk.addons.create(name="Extra seat", price=500, currency="USD", tax_category="saas")
    assert sdk.addons.retrieve(addon.id).price == 500
    assert sdk.addons.update(addon.id, price=700).price == 700
    assert addon.id in [a.id for a in sdk.addons.list(page_size=100).items]
    assert sdk.addons.update_images(addon.id).url
    state["addon"] = addon.id

    entitlement = sdk.entitlements.create(name="Discord role", integration_type="discord",
                                          integration_config={"guild_id": "42", "role_id": "7"})
    assert sdk.entitlements.retrieve(entitlement.id).name == "Discord role"
    assert sdk.entitlements.update(entitlement.id, description="VIP room").description == "VIP room"
    assert entitlement.id in [e.id for e in sdk.entitlements.list(page_size=100).items]
    state["entitlement"] = entitlement.id
    files = sdk.entitlements.create(name="Downloads", integration_type="digital_files",
                                    integration_config={"digital_file_ids": []})
    upload = sdk.entitlements.files.upload(files.id)
    assert upload.file_id
    sdk.entitlements.files.delete(upload.file_id, id=files.id)
    sdk.entitlements.delete(files.id)

    credits = sdk.credit_entitlements.create(name="Walk tokens", precision=0, unit="tokens",
                                             rollover_enabled=False, overage_enabled=False)
    assert sdk.credit_entitlements.retrieve(credits.id).unit == "tokens"
    sdk.credit_entitlements.update(credits.id, description="Tokens for the walk")
    assert credits.id in [c.id for c in sdk.credit_entitlements.list(page_size=100).items]
    sdk.credit_entitlements.delete(credits.id)
    sdk.credit_entitlements.undelete(credits.id)
    state["credits"] = credits.id

    plan = dict(type="recurring_price", price=2000, currency="USD", discount=0,
                purchasing_power_parity=False, payment_frequency_count=1,
                payment_frequency_interval="Month", subscription_period_count=1,
                subscription_period_interval="Year")
    basic = sdk.products.create(name="Walk Basic", tax_category="saas", price=plan,
                                addons=[addon.id])
    pro = sdk.products.create(name="Walk Pro", tax_category="saas", price={**plan, "price": 5000},
                              brand_id=brand.brand_id)
    book = sdk.products.create(name="Walk Book", tax_category="digital_products", price={
        "type": "one_time_price", "price": 1500, "currency": "USD", "discount": 0,
        "purchasing_power_parity": False},
        license_key_enabled=True, license_key_activations_limit=2,
        entitlements=[{"entitlement_id": entitlement.id}])
    assert sdk.products.retrieve(basic.product_id).addons == [addon.id]
    sdk.products.update(book.product_id, description="The book of the walk")
    assert sdk.products.retrieve(book.product_id).description == "The book of the walk"
    assert basic.product_id in [p.product_id for p in sdk.products.list(page_size=100).items]
    assert sdk.products.update_files(book.product_id, file_name="walk.pdf").url
    assert sdk.products.images.update(book.product_id).url
    sdk.products.archive(pro.product_id)
    sdk.products.unarchive(pro.product_id)
    state.update(basic=basic.product_id, pro=pro.product_id, book=book.product_id)

    link = sdk.products.short_links.create(book.product_id, slug="walk-book")
    assert link.short_url
    assert [s.short_url for s in sdk.products.short_links.list(product_id=book.product_id).items] == [link.short_url]
    price = sdk.products.localized_prices.create(book.product_id, amount=1400, currency="EUR",
                                                 country_code="DE")
    assert sdk.products.localized_prices.retrieve(price.id, product_id=book.product_id).amount == 1400
    assert sdk.products.localized_prices.update(price.id, product_id=book.product_id,
                                                amount=1300).amount == 1300
    assert price.id in [p.id for p in sdk.products.localized_prices.list(book.product_id).items]
    sdk.products.localized_prices.archive(price.id, product_id=book.product_id)

    collection = sdk.product_collections.create(name="Plans", groups=[
        {"group_name": "Monthly", "products": [{"product_id": basic.product_id}]}])
    assert sdk.product_collections.retrieve(collection.id).name == "Plans"
    sdk.product_collections.update(collection.id, description="All our plans")
    assert collection.id in [c.id for c in sdk.product_collections.list().items]
    assert sdk.product_collections.update_images(collection.id).url
    group = sdk.product_collections.groups.create(collection.id, group_name="Yearly", products=[])
    sdk.product_collections.groups.update(group.group_id, id=collection.id, group_name="Annual")
    [item] = sdk.product_collections.groups.items.create(
        group.group_id, id=collection.id, products=[{"product_id": pro.product_id}])
    sdk.product_collections.groups.items.update(item.id, id=collection.id,
                                                group_id=group.group_id, status=False)
    sdk.product_collections.groups.items.delete(item.id, id=collection.id, group_id=group.group_id)
    sdk.product_collections.groups.delete(group.group_id, id=collection.id)
    sdk.product_collections.delete(collection.id)
    assert sdk.product_collections.unarchive(collection.id).collection_id == collection.id


def customers_and_discounts(sdk, http, control, state):
    customer = sdk.customers.create(email="walker@example.com", name="Walker")
    assert sdk.customers.retrieve(customer.customer_id).email == "walker@example.com"
    assert sdk.customers.update(customer.customer_id, name="Walker W.").name == "Walker W."
    assert customer.customer_id in [c.customer_id for c in sdk.customers.list(page_size=100).items]
    state["customer"] = customer.customer_id
    wallet = sdk.customers.wallets.ledger_entries.create(customer.customer_id, amount=2500,
                                                         currency="USD", entry_type="credit")
    assert wallet.balance == 2500
    assert sdk.customers.wallets.list(customer.customer_id).total_balance_usd == 2500
    assert [e.amount for e in sdk.customers.wallets.ledger_entries.list(
        customer.customer_id).items] == [2500]
    portal = sdk.customers.customer_portal.create(customer.customer_id)
    assert portal.link

    discount = sdk.discounts.create(amount=1000, type="percentage", code="WALK10",
                                    usage_limit=5)
    assert sdk.discounts.retrieve(discount.discount_id).code == "WALK10"
    assert sdk.discounts.update(discount.discount_id, usage_limit=6).usage_limit == 6
    assert discount.discount_id in [d.discount_id for d in sdk.discounts.list().items]
    assert sdk.discounts.retrieve_by_code("WALK10").discount_id == discount.discount_id
    # A discount's customers: no SDK method yet, plain HTTP.
    path = f"/discounts/{discount.discount_id}/customers"
    assert http.post(path, json={"customer_ids": [customer.customer_id]}).status_code == 200
    assert customer.customer_id in [c["customer_id"] for c in http.get(path).json()["items"]]
    assert http.delete(f"{path}/{customer.customer_id}").status_code < 300
    state["discount"] = discount.discount_id
    throwaway = sdk.discounts.create(amount=500, type="percentage", code="GONE")
    sdk.discounts.delete(throwaway.discount_id)


def checkout_and_payments(sdk, http, control, state):
    cart = [{"product_id": state["book"], "quantity": 1}]
    preview = sdk.checkout_sessions.preview(product_cart=cart, billing_address=ADDRESS)
    assert preview.current_breakup.subtotal == 1500
    session = sdk.checkout_sessions.create(
        product_cart=cart, customer={"customer_id": state["customer"]}, billing_address=ADDRESS,
        confirm=True, discount_code="WALK10")
    assert sdk.checkout_sessions.retrieve(session.session_id).id == session.session_id
    assert control.pay(session.session_id)["status"] == "succeeded"
    payment_id = sdk.checkout_sessions.retrieve(session.session_id).payment_id
    payment = sdk.payments.retrieve(payment_id)
    assert (payment.status, payment.total_amount < 1500 + 500) == ("succeeded", True)
    assert payment_id in [p.payment_id for p in sdk.payments.list(page_size=100).items]
    [line] = sdk.payments.retrieve_line_items(payment_id).items
    assert line.items_id == state["book"]
    link = sdk.payments.create(product_cart=cart, customer={"customer_id": state["customer"]},
                               billing=ADDRESS, payment_link=True)
    assert link.payment_link
    state["payment"] = payment_id
    assert sdk.invoices.payments.retrieve(payment_id).read().startswith(b"%PDF")


def subscriptions(sdk, http, control, state):
    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": state["basic"], "quantity": 1}],
        customer={"customer_id": state["customer"]}, billing_address=ADDRESS, confirm=True)
    sub_id = control.pay(session.session_id)["data"]["subscription_id"]
    sub = sdk.subscriptions.retrieve(sub_id)
    assert (sub.status, sub.product_id) == ("active", state["basic"])
    assert sdk.subscriptions.update(sub_id, metadata={"seat": "1"}).metadata == {"seat": "1"}
    assert sub_id in [s.subscription_id for s in sdk.subscriptions.list(page_size=100).items]
    preview = sdk.subscriptions.preview_change_plan(
        sub_id, product_id=state["pro"], quantity=1, proration_billing_mode="prorated_immediately")
    assert preview.immediate_charge
    sdk.subscriptions.change_plan(sub_id, product_id=state["pro"], quantity=1,
                                  proration_billing_mode="full_immediately",
                                  effective_at="next_billing_date")
    assert sdk.subscriptions.retrieve(sub_id).scheduled_change is not None
    sdk.subscriptions.cancel_change_plan(sub_id)
    assert sdk.subscriptions.retrieve(sub_id).scheduled_change is None
    assert sdk.subscriptions.retrieve_credit_usage(sub_id).subscription_id == sub_id
    assert sdk.subscriptions.retrieve_usage_history(sub_id).items is not None
    update = sdk.subscriptions.update_payment_method(sub_id, payment_method={"type": "new"})
    assert update.payment_link
    on_demand = sdk.subscriptions.create(
        product_id=state["basic"], quantity=1, customer={"customer_id": state["customer"]},
        billing=ADDRESS, on_demand={"mandate_only": True})
    assert on_demand.subscription_id
    charge = sdk.subscriptions.charge(sub_id, product_price=300)
    assert charge.payment_id
    methods = sdk.customers.retrieve_payment_methods(state["customer"]).items
    assert methods
    state["subscription"] = sub_id
    state["payment_methods"] = [m.payment_method_id for m in methods]


def license_keys_and_entitlements(sdk, http, control, state):
    [key] = [k for k in sdk.license_keys.list(page_size=100).items
             if k.payment_id == state["payment"]]
    assert sdk.license_keys.retrieve(key.id).key == key.key
    assert sdk.license_keys.update(key.id, activations_limit=3).activations_limit == 3
    instance = sdk.licenses.activate(license_key=key.key, name="laptop")
    assert sdk.licenses.validate(license_key=key.key,
                                 license_key_instance_id=instance.id).valid is True
    assert sdk.license_key_instances.retrieve(instance.id).name == "laptop"
    assert sdk.license_key_instances.update(instance.id, name="desk").name == "desk"
    assert instance.id in [i.id for i in sdk.license_key_instances.list(
        license_key_id=key.id).items]
    sdk.licenses.deactivate(license_key=key.key, license_key_instance_id=instance.id)
    imported = sdk.license_keys.create(key="WALK-IMPORTED-1", customer_id=state["customer"],
                                       product_id=state["book"])
    assert imported.source == "import"

    # The Discord entitlement the book carries was granted to its buyer: pending until they
    # connect their Discord account (played here by the control API).
    [grant] = sdk.entitlements.grants.list(state["entitlement"]).items
    assert (grant.customer_id, grant.status, grant.integration_type) == (
        state["customer"], "Pending", "discord")
    assert [g.id for g in sdk.customers.list_entitlement_grants(state["customer"]).items] == \
        [grant.id]
    assert control.entitlement_grants.settle(grant.id, "deliver")["status"] == "Delivered"
    [listed] = sdk.customers.list_entitlements(state["customer"]).items
    assert (listed.grant_id, listed.status, listed.entitlement_name) == (
        grant.id, "delivered", "Discord role")
    revoked = sdk.entitlements.grants.revoke(grant.id, id=state["entitlement"])
    assert (revoked.status, revoked.revocation_reason) == ("Revoked", "revoked_by_merchant")

    # A license-key entitlement with manual fulfilment: the grant waits for the merchant's key.
    manual = sdk.entitlements.create(name="Manual keys", integration_type="license_key",
                                     integration_config={"fulfillment_mode": "manual",
                                                         "activations_limit": 4})
    product = sdk.products.create(
        name="Walk Manual", tax_category="saas", entitlements=[{"entitlement_id": manual.id}],
        price={"type": "one_time_price", "price": 900, "currency": "USD", "discount": 0,
               "purchasing_power_parity": False})
    session = sdk.checkout_sessions.create(
        product_cart=[{"product_id": product.product_id, "quantity": 1}],
        customer={"customer_id": state["customer"]}, billing_address=ADDRESS, confirm=True)
    control.pay(session.session_id)
    [pending] = sdk.entitlements.grants.list(manual.id).items
    assert (pending.status, pending.license_key) == ("Pending", None)
    delivered = sdk.entitlements.grants.fulfill_license_key(pending.id, key="MANUAL-KEY-1")
    assert (delivered.status, delivered.license_key.key) == ("Delivered", "MANUAL-KEY-1")
    assert delivered.license_key.activations_limit == 4


def credits_and_usage(sdk, http, control, state):
    credits, customer = state["credits"], state["customer"]
    entry = sdk.credit_entitlements.balances.create_ledger_entry(
        customer, credit_entitlement_id=credits, entry_type="credit", amount="100")
    assert entry.balance_after
    assert sdk.credit_entitlements.balances.retrieve(
        customer, credit_entitlement_id=credits).balance == "100"
    assert customer in [b.customer_id for b in sdk.credit_entitlements.balances.list(credits).items]
    assert sdk.credit_entitlements.balances.list_grants(customer, credit_entitlement_id=credits).items
    assert sdk.credit_entitlements.balances.list_ledger(customer, credit_entitlement_id=credits).items
    assert credits in [c.credit_entitlement_id for c in
                       sdk.customers.list_credit_entitlements(customer).items]
    ingested = sdk.usage_events.ingest(events=[
        {"event_id": f"walk_{i}", "customer_id": customer, "event_name": "walk.call"}
        for i in range(3)])
    assert ingested.ingested_count == 3
    assert len(sdk.usage_events.list(meter_id=state["meter"], customer_id=customer).items) == 3
    assert sdk.usage_events.retrieve("walk_1").event_name == "walk.call"


def refunds_disputes_payouts(sdk, http, control, state):
    refund = sdk.refunds.create(payment_id=state["payment"], reason="changed my mind")
    assert sdk.refunds.retrieve(refund.refund_id).status == "succeeded"
    assert refund.refund_id in [r.refund_id for r in sdk.refunds.list(page_size=100).items]
    assert sdk.invoices.payments.retrieve_refund(refund.refund_id).read().startswith(b"%PDF")
    charge = [p for p in sdk.payments.list(page_size=100).items
              if p.subscription_id == state["subscription"]][0]
    opened = control.disputes.open(charge.payment_id, reason="fraudulent", namespace=NS)
    assert sdk.disputes.retrieve(opened["dispute_id"]).payment_id == charge.payment_id
    assert opened["dispute_id"] in [d.dispute_id for d in sdk.disputes.list().items]
    control.disputes.move(opened["dispute_id"], "cancel", namespace=NS)

    payout = control.payouts.create(NS)
    assert payout["payout_id"] in [p.payout_id for p in sdk.payouts.list().items]
    breakup = sdk.payouts.breakup.retrieve(payout["payout_id"])
    assert breakup is not None
    assert sdk.payouts.breakup.details.list(payout["payout_id"]).items is not None
    sdk.payouts.breakup.details.download_csv(payout["payout_id"])
    for action in ("process", "succeed"):  # a payout's statement exists once it is paid
        control.payouts.move(payout["payout_id"], action, namespace=NS)
    assert sdk.invoices.payments.retrieve_payout(payout["payout_id"]).read().startswith(b"%PDF")
    entries = sdk.balances.retrieve_ledger(page_size=100).items
    assert {"payment", "refund", "payout"} <= {e.event_type for e in entries}


def webhooks_and_cleanup(sdk, http, control, state):
    hook = sdk.webhooks.create(url="https://merchant.example/hooks", description="walk")
    assert sdk.webhooks.retrieve(hook.id).url == "https://merchant.example/hooks"
    assert sdk.webhooks.update(hook.id, description="walk, renamed").description == \
        "walk, renamed"
    assert hook.id in [w.id for w in sdk.webhooks.list().data]
    assert sdk.webhooks.retrieve_secret(hook.id).secret.startswith("whsec_")
    sdk.webhooks.headers.update(hook.id, headers={"X-Shop": "walk"})
    assert sdk.webhooks.headers.retrieve(hook.id).headers == {"X-Shop": "walk"}
    sdk.webhooks.delete(hook.id)

    # A saved card in use by a live subscription cannot go: the subscription ends first.
    sdk.subscriptions.update(state["subscription"], status="cancelled")
    sdk.customers.delete_payment_method(state["payment_methods"][0], customer_id=state["customer"])
    sdk.entitlements.delete(state["entitlement"])
    # The second brand's product moves to the primary brand (the business) as it is archived.
    primary = sdk.brands.list().items[0]
    assert primary.brand_id == sdk.products.retrieve(state["basic"]).business_id
    archived = sdk.brands.archive(state["brand"], move_products_to=primary.brand_id)
    assert (archived.products_moved, archived.moved_to_brand_id) == (1, primary.brand_id)
    assert sdk.products.retrieve(state["pro"]).brand_id == primary.brand_id


def documentation_and_connectors(sdk, http, control, state):
    """What the SDK has no method for: the vendor's documentation pages, and the inbound webhook
    of a bring-your-own-processor connector (declared by Dodo, served by its webhook proxy)."""
    for portal in ("", "/customer-portal", "/dashboard", "/superadmin", "/unified-customer-portal"):
        for page in ("/docs", "/docs/", "/docs/openapi.json"):
            assert http.get(portal + page).status_code == 200
    assert http.post("/connectors/webhooks/mca_walk", json={}).status_code < 300


def test_every_operation_of_the_spec_through_the_sdk_or_http(sdk, http, control, wire):
    state: dict = {}
    for step in (the_catalog, customers_and_discounts, checkout_and_payments, subscriptions,
                 license_keys_and_entitlements, credits_and_usage, refunds_disputes_payouts,
                 webhooks_and_cleanup, documentation_and_connectors):
        step(sdk, http, control, state)
        assert wire.problems == [], (step.__name__, wire.problems)
    missing = sorted(wire.operations - set(wire.answered))
    assert missing == [], f"{len(missing)} operations not walked: {missing}"
    not_via_sdk = sorted(op for op, via in wire.answered.items()
                         if wire.via_sdk_expected(op) and "sdk" not in via)
    assert not_via_sdk == []
    assert len(wire.operations) == 156
    assert sum(map(wire.via_sdk_expected, wire.operations)) == 137
