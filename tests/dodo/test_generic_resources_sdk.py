"""The operations of Dodo's spec that paymock serves with the generic resource engine (and the few
new rules beside it), driven with the official `dodopayments` SDK pointed at the live server by
base URL only: create, retrieve, list, update, archive and delete for each resource, every answer
checked against the contract's schema (through the SDK's raw responses)."""
from __future__ import annotations

import dodopayments
import pytest
from dodopayments import DodoPayments

from mock_server.core.contracts import Contract
from tests.conftest import WALK_API_KEY

CONTRACT = Contract.load("dodo")


@pytest.fixture
def sdk(live_server):
    return DodoPayments(bearer_token=WALK_API_KEY, base_url=f"{live_server.url}/dodo",
                        max_retries=0)


def valid(raw, operation_id):
    """The parsed answer of a raw SDK call, its JSON checked against the operation's schema."""
    if raw.http_response.content:
        data = raw.http_response.json()
        assert CONTRACT.response_errors(operation_id, raw.http_response.status_code, data) == [], \
            (operation_id, data)
    return raw.parse()


def test_brands(sdk):
    raw = sdk.brands.with_raw_response
    brand = valid(raw.create(name="Second brand", url="https://second.example",
                             statement_descriptor="SECOND"), "create_brand_handler")
    assert brand.brand_id.startswith("brnd_") and brand.name == "Second brand"
    assert valid(raw.retrieve(brand.brand_id), "get_brand_handler").url == "https://second.example"
    updated = valid(raw.update(brand.brand_id, name="Renamed"), "patch_brand_handler")
    assert updated.name == "Renamed" and updated.statement_descriptor == "SECOND"
    assert brand.brand_id in [b.brand_id for b in valid(raw.list(), "list_brands_handler").items]
    archived = valid(raw.archive(brand.brand_id), "archive_brand_handler")
    assert archived.brand_id == brand.brand_id
    assert brand.brand_id not in [b.brand_id for b in sdk.brands.list().items]
    with pytest.raises(dodopayments.NotFoundError):
        sdk.brands.retrieve("brnd_nothing")


def test_addons_and_meters(sdk):
    addon = valid(sdk.addons.with_raw_response.create(
        name="Extra seat", price=500, currency="USD", tax_category="saas"), "create_addon")
    assert addon.id.startswith("adn_") and addon.price == 500
    assert valid(sdk.addons.with_raw_response.update(addon.id, price=700), "patch_addon").price == 700
    assert addon.id in [a.id for a in sdk.addons.list(page_size=100).items]
    meter = valid(sdk.meters.with_raw_response.create(
        name="API calls", event_name="sdk.call", measurement_unit="calls",
        aggregation={"type": "count"}), "create_meter")
    assert meter.id.startswith("mtr_")
    assert valid(sdk.meters.with_raw_response.retrieve(meter.id), "get_meter_handler").name == "API calls"
    sdk.meters.archive(meter.id)  # DELETE /meters/{id}: archived, listed with archived=true
    assert meter.id not in [m.id for m in sdk.meters.list(page_size=100).items]
    assert meter.id in [m.id for m in sdk.meters.list(archived=True, page_size=100).items]
    sdk.meters.unarchive(meter.id)
    assert meter.id in [m.id for m in sdk.meters.list(page_size=100).items]


def test_usage_events_counted_by_a_meter(sdk):
    customer = sdk.customers.create(email="usage@example.com", name="Usage").customer_id
    meter = sdk.meters.create(name="Tokens", event_name="llm.tokens", measurement_unit="tokens",
                              aggregation={"type": "sum", "key": "tokens"})
    ingested = valid(sdk.usage_events.with_raw_response.ingest(events=[
        {"event_id": f"sdk_ev_{i}", "customer_id": customer, "event_name": "llm.tokens",
         "metadata": {"tokens": 10 * i}} for i in range(3)]), "ingest_events")
    assert ingested.ingested_count == 3
    listed = valid(sdk.usage_events.with_raw_response.list(meter_id=meter.id, customer_id=customer),
                   "get_events")
    assert sorted(e.event_id for e in listed.items) == ["sdk_ev_0", "sdk_ev_1", "sdk_ev_2"]
    event = valid(sdk.usage_events.with_raw_response.retrieve("sdk_ev_1"), "get_event_by_id")
    assert event.metadata == {"tokens": 10}


def test_entitlements_and_product_collections(sdk):
    entitlement = valid(sdk.entitlements.with_raw_response.create(
        name="Discord role", integration_type="discord",
        integration_config={"guild_id": "42"}), "create_entitlement_public_handler")
    assert valid(sdk.entitlements.with_raw_response.update(entitlement.id, name="VIP"),
                 "patch_entitlement_public_handler").name == "VIP"
    grants = valid(sdk.entitlements.grants.with_raw_response.list(entitlement.id),
                   "list_grants_public_handler")
    assert grants.items == []
    products = sdk.products.list(page_size=100).items
    collection = valid(sdk.product_collections.with_raw_response.create(
        name="Plans", groups=[{"group_name": "Monthly", "products": []}]),
        "create_product_collection")
    assert collection.id.startswith("pcol_") and collection.groups[0].group_name == "Monthly"
    group = valid(sdk.product_collections.groups.with_raw_response.create(
        collection.id, products=[], group_name="Yearly"), "add_group_to_collection")
    items = valid(sdk.product_collections.groups.items.with_raw_response.create(
        group.group_id, id=collection.id, products=[{"product_id": products[0].product_id}]),
        "add_products_to_group")
    assert items[0].product_id == products[0].product_id
    assert items[0].name == products[0].name  # the product's own fields
    sdk.product_collections.delete(collection.id)
    assert collection.id not in [c.id for c in sdk.product_collections.list().items]
    sdk.product_collections.unarchive(collection.id)
    assert collection.id in [c.id for c in sdk.product_collections.list().items]
    sdk.entitlements.delete(entitlement.id)
    with pytest.raises(dodopayments.NotFoundError):
        sdk.entitlements.retrieve(entitlement.id)


def test_a_products_localized_prices_and_short_links(sdk):
    product = sdk.products.list(page_size=100).items[0].product_id
    price = valid(sdk.products.localized_prices.with_raw_response.create(
        product, amount=900, currency="EUR", country_code="DE"), "create_localized_price")
    assert price.product_id == product and price.amount == 900
    listed = valid(sdk.products.localized_prices.with_raw_response.list(product),
                   "list_localized_prices")
    assert price.id in [p.id for p in listed.items]
    link = valid(sdk.products.short_links.with_raw_response.create(product, slug="summer"),
                 "create_short_link_handler")
    assert link.short_url and link.full_url
    with pytest.raises(dodopayments.NotFoundError):
        sdk.products.localized_prices.list("pdt_nothing")


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK's payments.create
def test_wallets_balances_countries_and_line_items(sdk):
    customer = sdk.customers.create(email="wallet@example.com", name="Wallet").customer_id
    wallet = valid(sdk.customers.wallets.ledger_entries.with_raw_response.create(
        customer, amount=2500, currency="USD", entry_type="credit"), "create_customer_ledger_entry")
    assert wallet.balance == 2500
    wallets = valid(sdk.customers.wallets.with_raw_response.list(customer), "get_customer_wallets")
    assert wallets.total_balance_usd == 2500
    ledger = valid(sdk.balances.with_raw_response.retrieve_ledger(page_size=100),
                   "list_ledger_entries_merchant_handler").items
    assert all(e.after_balance == e.before_balance + (e.amount if e.is_credit else -e.amount)
               for e in ledger)
    countries = valid(sdk.misc.with_raw_response.list_supported_countries(),
                      "get_supported_countries_proxy")
    assert "US" in countries and "DE" in countries
    one_time = next(p for p in sdk.products.list(page_size=100).items if not p.is_recurring)
    payment = valid(sdk.payments.with_raw_response.create(
        product_cart=[{"product_id": one_time.product_id, "quantity": 1}],
        customer={"customer_id": customer},
        billing={"country": "US", "state": "CA", "city": "SF", "street": "1 Main",
                 "zipcode": "94105"}, payment_link=True), "create_one_time_payment_handler")
    assert payment.payment_link and payment.customer.customer_id == customer
    lines = valid(sdk.payments.with_raw_response.retrieve_line_items(payment.payment_id),
                  "get_payment_line_items_handler")
    assert [line.items_id for line in lines.items] == [one_time.product_id]
    assert lines.items[0].refundable_amount == 0  # not paid yet


def test_a_usage_based_subscription_shows_what_its_meters_counted(sdk, live_server):
    from mock_server.control.client import Client
    from mock_server.core.http import credential_namespace
    meter = sdk.meters.create(name="Requests", event_name="usage.request",
                              measurement_unit="requests", aggregation={"type": "count"})
    product = sdk.products.create(name="Metered API", tax_category="saas", price={
        "type": "usage_based_price", "fixed_price": 1000, "currency": "USD", "discount": 0,
        "purchasing_power_parity": False, "payment_frequency_count": 1,
        "payment_frequency_interval": "Month", "subscription_period_count": 1,
        "subscription_period_interval": "Year",
        "meters": [{"meter_id": meter.id, "price_per_unit": "2.5", "free_threshold": 2}]})
    made = Client(live_server.url).trigger("subscription.active", product_id=product.product_id,
                                           namespace=credential_namespace("dodo", WALK_API_KEY))
    sub = made["subscription"]
    sdk.usage_events.ingest(events=[
        {"event_id": f"req_{sub['subscription_id']}_{i}", "event_name": "usage.request",
         "customer_id": sub["customer"]["customer_id"]} for i in range(5)])
    raw = sdk.subscriptions.with_raw_response.retrieve_usage_history(sub["subscription_id"])
    [period] = valid(raw, "list_usage_history_handler").items
    [used] = period.meters
    assert (used.id, used.consumed_units, used.chargeable_units) == (meter.id, "5", "3")
    assert (used.price_per_unit, used.total_price) == ("2.5", 8)  # 3 x 2.5 = 7.5, rounded half up
