"""The generic resource engine (core/resource_engine.py) on Dodo's contract: every operation no
Dodo rule serves is answered, statefully, with answers the vendor's schemas accept; each
collection's create, retrieve, list, update, delete/archive behave as their names say; a missing
or another namespace's object is Dodo's 404."""
from __future__ import annotations

import pytest

from mock_server.core.contracts import Contract
from mock_server.core.resource_engine import ResourceEngine

CONTRACT = Contract.load("dodo")


@pytest.fixture
def dodo(app):
    return app.extensions["paymock.provider.dodo"]


def headers(key="sk_test_generic_walk"):
    return {"Authorization": f"Bearer {key}"}


def checked(response, operation_id):
    """The answer's body, after checking it against the operation's schema."""
    data = response.get_json(silent=True)
    if response.status_code < 300 and data is not None:
        assert CONTRACT.response_errors(operation_id, response.status_code, data) == [], \
            (operation_id, data)
    return data


def test_every_operation_is_served_and_the_engine_never_takes_a_hand_written_one(dodo):
    served = set(dodo.handlers())
    assert served == set(CONTRACT.operations)  # nothing answers 501
    hand_written = served - set(dodo.generic)
    assert {"create_session", "create_refund_handler", "list_subscriptions_handler"} <= hand_written
    assert "list_addons" in dodo.generic and "create_session" not in dodo.generic
    assert "list_brands_handler" not in dodo.generic  # brands.py: the primary brand, archiving


def test_brands_create_retrieve_list_update_archive(client):
    created = checked(client.post("/dodo/brands", json={"name": "Second", "url": "https://b.example"},
                                  headers=headers()), "create_brand_handler")
    brand_id = created["brand_id"]
    assert brand_id.startswith("brnd_") and len(brand_id) == 26
    assert created["name"] == "Second" and created["url"] == "https://b.example"
    got = checked(client.get(f"/dodo/brands/{brand_id}", headers=headers()), "get_brand_handler")
    assert got == created
    listed = checked(client.get("/dodo/brands", headers=headers()), "list_brands_handler")
    assert brand_id in [b["brand_id"] for b in listed["items"]]
    patched = checked(client.patch(f"/dodo/brands/{brand_id}", json={"name": "Renamed"},
                                   headers=headers()), "patch_brand_handler")
    assert patched["name"] == "Renamed" and patched["url"] == "https://b.example"
    archived = checked(client.post(f"/dodo/brands/{brand_id}/archive", json={},
                                   headers=headers()), "archive_brand_handler")
    assert archived["brand_id"] == brand_id
    # Another key is another merchant: it sees none of this.
    other = client.get(f"/dodo/brands/{brand_id}", headers=headers("sk_test_generic_other"))
    assert other.status_code == 404
    assert other.get_json() == {"code": "NOT_FOUND", "message": "Brand not found"}


def test_meters_delete_archives_and_unarchive_brings_back(client):
    body = {"name": "API calls", "event_name": "api.call", "aggregation": {"type": "count"},
            "measurement_unit": "calls"}
    meter = checked(client.post("/dodo/meters", json=body, headers=headers("sk_test_meters")),
                    "create_meter")
    assert meter["id"].startswith("mtr_") and meter["event_name"] == "api.call"
    path = f"/dodo/meters/{meter['id']}"
    assert client.delete(path, headers=headers("sk_test_meters")).status_code == 204

    def ids(query=""):
        page = checked(client.get(f"/dodo/meters{query}", headers=headers("sk_test_meters")),
                       "list_meters_handler")
        return [m["id"] for m in page["items"]]
    assert ids() == [] and ids("?archived=true") == [meter["id"]]
    assert client.get(path, headers=headers("sk_test_meters")).status_code == 200  # still readable
    assert client.post(path + "/unarchive", headers=headers("sk_test_meters")).status_code == 200
    assert ids() == [meter["id"]]


def test_a_nested_collection_needs_its_parent_and_lists_only_its_own(client):
    key = headers("sk_test_localized")
    products = client.get("/dodo/products", headers=key).get_json()["items"]
    first, second = products[0]["product_id"], products[1]["product_id"]
    body = {"currency": "EUR", "amount": 900, "country_code": "DE"}
    price = checked(client.post(f"/dodo/products/{first}/localized-prices", json=body, headers=key),
                    "create_localized_price")
    assert price["product_id"] == first and price["amount"] == 900
    assert price["id"].startswith("lcp_")
    mine = checked(client.get(f"/dodo/products/{first}/localized-prices", headers=key),
                   "list_localized_prices")
    theirs = checked(client.get(f"/dodo/products/{second}/localized-prices", headers=key),
                     "list_localized_prices")
    assert [p["id"] for p in mine["items"]] == [price["id"]] and theirs["items"] == []
    missing = client.get("/dodo/products/pdt_nothing/localized-prices", headers=key)
    assert (missing.status_code, missing.get_json()["message"]) == (404, "Product not found")
    wrong_parent = client.get(f"/dodo/products/{second}/localized-prices/{price['id']}", headers=key)
    assert wrong_parent.status_code == 404


def test_lists_page_like_every_dodo_list(client):
    key = headers("sk_test_addon_pages")
    made = [checked(client.post("/dodo/addons", json={"name": f"Addon {i}", "price": 100 + i,
                                                       "currency": "USD", "tax_category": "saas"},
                                headers=key), "create_addon")["id"] for i in range(3)]
    first = client.get("/dodo/addons?page_size=2&page_number=0", headers=key).get_json()["items"]
    second = client.get("/dodo/addons?page_size=2&page_number=1", headers=key).get_json()["items"]
    assert [a["id"] for a in first + second] == made[::-1]  # newest first


# Where the plainest valid body is not one the operation takes as meant.
BODIES = {
    "create_entitlement_public_handler": {"name": "Discord role", "integration_type": "discord",
                                          "integration_config": {"guild_id": "1234567890"}},
    "connector_webhook_doc": {},
    "add_discount_customers_handler": lambda made: {"customer_ids": [made["customer_id"]]},
    "add_products_to_group": lambda made: {"products": [{"product_id": made["product_id"]}]},
}


def _walk_body(engine, op_id):
    """A minimal valid body for an operation, from its request schema."""
    op = CONTRACT.operations[op_id]
    if op.body_schema is None:
        return None
    node = CONTRACT.at(op.body_schema)
    collection = next(iter(engine.collections.values()))
    return engine.build(None, collection, node, None, {}, None)


def test_every_generic_operation_answers_within_its_schema(client, dodo, app):
    """Each generic operation once, parents made first, with the plainest valid body: every
    answer is documented and matches its schema; none is a server error."""
    key = headers("sk_test_generic_every")
    engine = ResourceEngine(CONTRACT, dodo._style, app.extensions["paymock"].clock)
    engine.plan(list(dodo.generic))
    made: dict[str, str] = {}  # path parameter -> an id made for it
    products = client.get("/dodo/products", headers=key).get_json()["items"]
    customers = client.get("/dodo/customers", headers=key).get_json()["items"]
    discounts = client.get("/dodo/discounts", headers=key).get_json()["items"]
    made.update({"product_id": products[0]["product_id"], "/products:id": products[0]["product_id"],
                 "customer_id": customers[0]["customer_id"],
                 "discount_id": discounts[0]["discount_id"]})
    order = {"create": 0, "attach": 1, "list": 2, "retrieve": 2, "view": 3, "update": 4, "archive": 5,
             "unarchive": 6, "delete": 7}
    # Parents before children; what removes an object after everything that reads it.
    routes = sorted(dodo.generic.values(),
                    key=lambda r: (r.role in ("archive", "delete"),
                                   -r.collection.count("/") if r.role in ("archive", "delete")
                                   else r.collection.count("/"), order[r.role]))
    answered = []
    for route in routes:
        op = CONTRACT.operations[route.operation_id]
        template = op.path.strip("/").split("/")
        parts = list(template)
        for index, part in enumerate(template):
            if part.startswith("{"):  # the id its collection (the path before it) was given
                param, owner = part[1:-1], "/" + "/".join(template[:index])
                parts[index] = made.get(f"{owner}:{param}") or made.get(param) or "x_missing"
        path = "/" + "/".join(parts) + ("/" if op.path.endswith("/") and len(op.path) > 1 else "")
        body = BODIES[route.operation_id] if route.operation_id in BODIES \
            else _walk_body(engine, route.operation_id)
        body = body(made) if callable(body) else body
        response = client.open("/dodo" + path, method=op.method, json=body, headers=key)
        assert response.status_code < 500, (route.operation_id, response.get_data()[:300])
        assert str(response.status_code) in op.statuses, (route.operation_id, response.status_code)
        data = checked(response, route.operation_id)
        if route.role in ("create", "attach") and response.status_code < 300:
            collection = engine.collections[route.collection]
            item = collection.item_param
            first = data if route.role == "create" else \
                (data[0] if isinstance(data, list) else data["items"][0])
            if item:
                made[f"{route.collection}:{item}"] = first[collection.id_field]
        answered.append((route.operation_id, response.status_code))
    assert len(answered) == len(dodo.generic)


def test_ingested_events_are_kept_once_and_a_meter_lists_what_it_counts(client):
    key = headers("sk_test_usage")
    customer = client.get("/dodo/customers", headers=key).get_json()["items"][0]["customer_id"]
    meter = checked(client.post("/dodo/meters", headers=key, json={
        "name": "Big calls", "event_name": "api.call", "measurement_unit": "calls",
        "aggregation": {"type": "sum", "key": "tokens"},
        "filter": {"conjunction": "and", "clauses": [
            {"key": "tokens", "operator": "greater_than", "value": 10}]}}), "create_meter")
    events = [{"event_id": f"ev_{i}", "customer_id": customer, "event_name": name,
               "metadata": {"tokens": tokens}}
              for i, (name, tokens) in enumerate([("api.call", 50), ("api.call", 5),
                                                  ("other", 99), ("api.call", 20)])]
    ingested = checked(client.post("/dodo/events/ingest", json={"events": events}, headers=key),
                       "ingest_events")
    assert ingested == {"ingested_count": 4}
    again = client.post("/dodo/events/ingest", json={"events": events[:2]}, headers=key)
    assert again.get_json() == {"ingested_count": 0}  # event_id is the idempotency key
    counted = checked(client.get(f"/dodo/events?meter_id={meter['id']}", headers=key), "get_events")
    assert sorted(e["event_id"] for e in counted["items"]) == ["ev_0", "ev_3"]
    one = checked(client.get("/dodo/events/ev_2", headers=key), "get_event_by_id")
    assert one["event_name"] == "other" and one["metadata"] == {"tokens": 99}
    assert client.get("/dodo/events/ev_9", headers=key).status_code == 404
    stranger = client.post("/dodo/events/ingest", headers=key, json={"events": [
        {"event_id": "ev_x", "customer_id": "cus_nobody", "event_name": "api.call"}]})
    assert stranger.status_code == 422 and "cus_nobody" in stranger.get_json()["message"]


def test_the_older_payment_and_subscription_creates_open_a_checkout(client):
    key = headers("sk_test_links")
    products = client.get("/dodo/products?page_size=100", headers=key).get_json()["items"]
    one_time = next(p for p in products if not p["is_recurring"])
    plan = next(p for p in products if p["is_recurring"])
    buyer = {"email": "legacy@example.com", "name": "Legacy Buyer"}
    billing = {"country": "US", "state": "CA", "city": "SF", "street": "1 Main", "zipcode": "94105"}
    payment = checked(client.post("/dodo/payments", headers=key, json={
        "product_cart": [{"product_id": one_time["product_id"], "quantity": 2}],
        "customer": buyer, "billing": billing, "payment_link": True}),
        "create_one_time_payment_handler")
    assert payment["payment_link"].startswith("http") and payment["customer"]["email"] == buyer["email"]
    stored = client.get(f"/dodo/payments/{payment['payment_id']}", headers=key).get_json()
    assert stored["status"] == "requires_payment_method"
    assert stored["total_amount"] == payment["total_amount"]
    created = checked(client.post("/dodo/subscriptions", headers=key, json={
        "product_id": plan["product_id"], "quantity": 1, "customer": buyer, "billing": billing}),
        "create_subscription_handler")
    assert created["payment_link"] is None  # not asked for
    path = f"/dodo/subscriptions/{created['subscription_id']}"
    assert client.get(path, headers=key).status_code == 404  # exists once paid (paymock's choice)
    assert client.post(f"/_mock/payments/{created['payment_id']}/outcome",
                       json={"outcome": "paid"}).status_code == 200
    sub = client.get(path, headers=key).get_json()
    assert sub["status"] == "active" and sub["product_id"] == plan["product_id"]


def test_the_documentation_pages_answer_without_a_key(client):
    page = client.get("/dodo/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    document = client.get("/dodo/docs/openapi.json").get_json()
    assert len([op for item in document["paths"].values() for op in item]) == len(CONTRACT.operations)
    staff = client.get("/dodo/superadmin/docs/openapi.json").get_json()
    assert staff["paths"] == {} and "not emulated" in staff["info"]["title"]


def test_a_product_lists_the_addons_and_entitlements_attached_to_it(client):
    key = headers("sk_test_attach")
    addon = checked(client.post("/dodo/addons", headers=key, json={
        "name": "Extra seat", "price": 500, "currency": "USD", "tax_category": "saas"}),
        "create_addon")
    entitlement = checked(client.post("/dodo/entitlements", headers=key, json={
        "name": "Discord role", "integration_type": "discord",
        "integration_config": {"guild_id": "1234567890"}}), "create_entitlement_public_handler")
    body = {"name": "Team plan", "tax_category": "saas", "addons": [addon["id"]],
            "entitlements": [{"entitlement_id": entitlement["id"]}],
            "price": {"type": "recurring_price", "currency": "USD", "price": 2000, "discount": 0,
                      "purchasing_power_parity": False, "payment_frequency_count": 1,
                      "payment_frequency_interval": "Month", "subscription_period_count": 1,
                      "subscription_period_interval": "Year"}}
    product = checked(client.post("/dodo/products", json=body, headers=key), "create_product")
    read = checked(client.get(f"/dodo/products/{product['product_id']}", headers=key),
                   "get_product_handler")
    assert read["addons"] == [addon["id"]]
    assert [(e["id"], e["name"]) for e in read["entitlements"]] == [(entitlement["id"], "Discord role")]
    unknown = client.post("/dodo/products", headers=key, json=dict(body, addons=["adn_nothing"]))
    assert (unknown.status_code, unknown.get_json()["code"]) == (422, "MISSING_ADDON_IDS")


def test_a_customer_wallet_moves_with_its_ledger_entries(client):
    key = headers("sk_test_wallets")
    customer = client.get("/dodo/customers", headers=key).get_json()["items"][0]["customer_id"]
    base = f"/dodo/customers/{customer}/wallets"
    empty = checked(client.get(base, headers=key), "get_customer_wallets")
    assert empty == {"items": [], "total_balance_usd": 0}
    credit = {"entry_type": "credit", "currency": "USD", "amount": 1500, "idempotency_key": "k1"}
    wallet = checked(client.post(base + "/ledger-entries", json=credit, headers=key),
                     "create_customer_ledger_entry")
    assert wallet["balance"] == 1500
    again = client.post(base + "/ledger-entries", json=credit, headers=key).get_json()
    assert again["balance"] == 1500  # the same idempotency key: no second entry
    debit = {"entry_type": "debit", "currency": "USD", "amount": 400, "reason": "used"}
    assert client.post(base + "/ledger-entries", json=debit, headers=key).get_json()["balance"] == 1100
    too_much = client.post(base + "/ledger-entries", headers=key,
                           json=dict(debit, amount=5000))
    assert (too_much.status_code, too_much.get_json()["code"]) == (422, "INSUFFICIENT_WALLET_BALANCE")
    entries = checked(client.get(base + "/ledger-entries", headers=key),
                      "get_customer_wallet_transactions")["items"]
    assert [(e["is_credit"], e["before_balance"], e["after_balance"]) for e in entries] == [
        (False, 1500, 1100), (True, 0, 1500)]
    assert checked(client.get(base, headers=key), "get_customer_wallets")["total_balance_usd"] == 1100


def test_the_balance_ledger_follows_payments_and_refunds(client):
    from mock_server.core.http import credential_namespace
    key = headers("sk_test_ledger")
    ns = credential_namespace("dodo", "sk_test_ledger")
    made = client.post("/_mock/trigger", json={"event": "payment.succeeded", "namespace": ns,
                                               "provider": "dodo"}).get_json()
    payment = made["payment"]
    refund = client.post("/dodo/refunds", headers=key, json={
        "payment_id": payment["payment_id"], "items": [
            {"item_id": payment["product_cart"][0]["product_id"], "amount": 100}]})
    assert refund.status_code == 200, refund.get_json()
    entries = checked(client.get("/dodo/balances/ledger", headers=key),
                      "list_ledger_entries_merchant_handler")["items"]
    assert [(e["event_type"], e["is_credit"], e["reference_object_id"]) for e in entries] == [
        ("refund", False, refund.get_json()["refund_id"]),
        ("payment", True, payment["payment_id"])]
    paid = payment["total_amount"]
    assert [(e["before_balance"], e["after_balance"]) for e in entries] == [
        (paid, paid - 100), (0, paid)]
    only = client.get("/dodo/balances/ledger?event_type=payment", headers=key).get_json()["items"]
    assert [e["event_type"] for e in only] == ["payment"]


def test_a_collections_groups_are_objects_of_their_own(client):
    key = headers("sk_test_groups")
    made = checked(client.post("/dodo/product-collections", headers=key, json={
        "name": "Plans", "groups": [{"group_name": "Monthly", "products": []}]}),
        "create_product_collection")
    [group] = made["groups"]
    path = f"/dodo/product-collections/{made['id']}"
    assert client.patch(f"{path}/groups/{group['group_id']}", headers=key,
                        json={"group_name": "Per month"}).status_code == 200
    added = checked(client.post(f"{path}/groups", headers=key,
                                json={"group_name": "Yearly", "products": []}),
                    "add_group_to_collection")
    read = checked(client.get(path, headers=key), "get_product_collection")
    assert [(g["group_id"], g["group_name"]) for g in read["groups"]] == [
        (group["group_id"], "Per month"), (added["group_id"], "Yearly")]
    assert client.delete(f"{path}/groups/{group['group_id']}", headers=key).status_code == 204
    assert [g["group_id"] for g in client.get(path, headers=key).get_json()["groups"]] == [
        added["group_id"]]
