"""Waffo's catalog actions over HTTP (Flask test client, requests signed as the SDK signs them):
stores, one-time and subscription products with immutable versions per environment, product
groups, store webhooks (each a receiver of the outbox, filtered by store and mode, in its channel's
format) and the store-membership actions the real API answers 501. Every answer is checked
against the contract, every refusal by status, message and layer."""
import json

import pytest

from mock_server.core.contracts import Contract

from .helpers import CREATE_SESSION, PRODUCTS, STORES, assert_error

CONTRACT = Contract.load("waffo")
A = "/v1/actions/"
ACME = STORES["acme-digital"]["id"]
PRICES = {"USD": {"amount": "29.00", "taxCategory": "ebook"}}


def ok(result, operation_id):
    status, payload, _ = result
    assert status == 200, payload
    assert CONTRACT.response_errors(operation_id, 200, payload) == [], payload
    return payload["data"]


def test_a_store_is_created_updated_and_soft_deleted(client, waffo):
    store = ok(client.api(A + "store/create-store", {"name": "  Acme Digital  "}),
               "createStore")["store"]
    assert store["id"].startswith("STO_") and store["name"] == "Acme Digital"
    assert store["slug"] == "acme-digital-2"  # the fixture store has the plain slug
    assert (store["status"], store["prodEnabled"], store["deletedAt"]) == ("active", False, None)
    assert all(store["notificationSettings"].values())
    status, payload, _ = client.api(A + "store/update-store", {
        "id": store["id"], "name": "Renamed", "logo": "https://cdn.example/logo.png",
        "notificationSettings": {"notifyNewOrders": False, "emailOrderConfirmation": False},
        "checkoutSettings": {"defaultDarkMode": True, "dark": {"checkoutColorPrimary": "#ff0000"}},
        "webhookSettings": {"testWebhookUrl": "https://x.example"}, "supportEmail": "x@y.z"})
    assert status == 200 and CONTRACT.response_errors("updateStore", 200, payload) == []
    updated = payload["data"]["store"]
    assert (updated["name"], updated["logo"], updated["supportEmail"]) == (
        "Renamed", "https://cdn.example/logo.png", None)
    assert updated["notificationSettings"]["notifyNewOrders"] is False
    assert updated["notificationSettings"]["emailOrderConfirmation"] is True  # not writable
    assert updated["checkoutSettings"]["defaultDarkMode"] is True
    assert updated["checkoutSettings"]["dark"]["checkoutColorPrimary"] == "#ff0000"
    assert updated["checkoutSettings"]["dark"]["checkoutColorBackground"] == "#1a1a1a"
    warned = [w["message"] for w in payload["warnings"]]
    assert any("emailOrderConfirmation" in w for w in warned)
    assert any("webhookSettings" in w for w in warned)
    reset = ok(client.api(A + "store/update-store", {"id": store["id"], "notificationSettings": None,
                                                     "checkoutSettings": None}), "updateStore")
    assert reset["store"]["notificationSettings"]["notifyNewOrders"] is True
    assert reset["store"]["checkoutSettings"] is None
    # Its slug is a credential until the store is deleted.
    assert client.slug(CREATE_SESSION, {"productId": PRODUCTS["ebook"]["id"], "currency": "USD"},
                       slug="acme-digital-2")[0] == 403  # the product is another store's
    deleted = ok(client.api(A + "store/delete-store", {"id": store["id"]}), "deleteStore")
    assert deleted["store"]["deletedAt"] is not None
    assert_error(client.api(A + "store/update-store", {"id": store["id"], "name": "x"}), 404,
                 "Store not found", "store")
    assert client.slug(CREATE_SESSION, {"productId": PRODUCTS["ebook"]["id"], "currency": "USD"},
                       slug="acme-digital-2")[0] == 401
    assert_error(client.api(A + "store/create-store", {}), 400, "Missing required field: name",
                 "store")
    assert_error(client.api(A + "store/create-store", {"name": "x" * 49}), 400,
                 "name must be 1 to 48 characters, without control characters", "store")
    # Another merchant's store is not found.
    assert_error(client.api(A + "store/delete-store", {"id": ACME}, merchant="beta"), 404,
                 "Store not found", "store")


def test_a_merchant_has_at_most_twenty_stores(client):
    for n in range(17):  # acme has 3 fixture stores
        ok(client.api(A + "store/create-store", {"name": f"Shop {n}"}), "createStore")
    assert_error(client.api(A + "store/create-store", {"name": "One too many"}), 400,
                 "A merchant can have at most 20 stores", "store")


def test_store_membership_answers_501_as_the_real_api(client):
    body = {"storeId": ACME, "email": "member@example.com", "role": "admin"}
    assert_error(client.api(A + "store-merchant/add-merchant", body), 501, "Not implemented", "store")
    assert_error(client.api(A + "store-merchant/update-role", {
        "storeId": ACME, "merchantId": "MER_7F45oR12Q1gPbcWQtqnqk9", "role": "member"}), 501,
        "Not implemented", "store")


def test_product_versions_are_immutable_and_a_session_keeps_its_own(client):
    made = ok(client.api(A + "onetime-product/create-product", {
        "storeId": ACME, "name": "Handbook", "prices": PRICES, "metadata": {"sku": "hb-1"}}),
        "createOnetimeProduct")["product"]
    product_id = made["id"]
    assert (made["status"], made["media"], made["successUrl"]) == ("active", [], None)
    session = ok(client.api(CREATE_SESSION, {"productId": product_id, "currency": "USD"}),
                 "createCheckoutSession")["sessionId"]
    changed = ok(client.api(A + "onetime-product/update-product", {
        "id": product_id, "prices": {"USD": {"amount": "39.00", "taxCategory": "ebook"}}}),
        "updateOnetimeProduct")["product"]
    assert changed["prices"]["USD"]["amount"] == "39.00"
    assert changed["name"] == "Handbook" and changed["metadata"] == {"sku": "hb-1"}  # kept
    same = ok(client.api(A + "onetime-product/update-product", {"id": product_id,
                                                                 "name": "Handbook"}),
              "updateOnetimeProduct")["product"]
    assert same["updatedAt"] == changed["updatedAt"]  # nothing changed: no new version
    # The session made before the update still sells version 1 at 29.00.
    token = client.token()
    status, payload, _ = client.bearer("/v1/actions/onetime-order/create-order", {
        "checkoutSessionId": session, "buyerEmail": "b@example.com",
        "billingDetail": {"country": "DE", "isBusiness": False}}, token)
    assert status == 200, payload
    [order] = [o for o in client.flask.application.extensions["paymock"].store.namespace(
        client.flask.application.extensions["paymock.waffo"].gateway.namespace_name(
            "MER_VVB510ATxn8d56NTITtVY8")).values("order") if o.get("checkoutSessionId") == session]
    assert order["subtotal"] == "29.00"

    # Production: nothing until published, once.
    assert_error(client.api(CREATE_SESSION, {"productId": product_id, "currency": "USD"},
                            environment="prod"), 404, "Product not found", "product")
    published = ok(client.api(A + "onetime-product/publish-product", {"id": product_id}),
                   "publishOnetimeProduct")["product"]
    assert published["prices"]["USD"]["amount"] == "39.00"
    assert_error(client.api(A + "onetime-product/publish-product", {"id": product_id}), 400,
                 "Product already has a production version", "product")
    assert client.api(CREATE_SESSION, {"productId": product_id, "currency": "USD"},
                      environment="prod")[0] == 200
    # Status is per environment: inactive in test, still sold in prod.
    off = ok(client.api(A + "onetime-product/update-status", {"id": product_id,
                                                               "status": "inactive"}),
             "updateOnetimeProductStatus")["product"]
    assert off["status"] == "inactive"
    assert_error(client.api(CREATE_SESSION, {"productId": product_id, "currency": "USD"}), 404,
                 "Product not found", "product")
    assert client.api(CREATE_SESSION, {"productId": product_id, "currency": "USD"},
                      environment="prod")[0] == 200
    assert_error(client.api(A + "onetime-product/update-status", {"id": product_id,
                                                                   "status": "gone"}), 400,
                 "Invalid or missing status (must be 'active' or 'inactive')", "product")
    # A one-time product is not a subscription product.
    assert_error(client.api(A + "subscription-product/update-product", {"id": product_id,
                                                                         "name": "x"}), 404,
                 "Product not found", "product")


def test_subscription_products_and_their_rules(client):
    plan = ok(client.api(A + "subscription-product/create-product", {
        "storeId": ACME, "name": "Pro", "billingPeriod": "monthly",
        "prices": {"USD": {"amount": "9.99", "taxCategory": "saas", "trialAmount": "1.00"}},
        "metadata": {"trialDays": 14}}), "createSubscriptionProduct")["product"]
    assert plan["billingPeriod"] == "monthly"
    assert_error(client.api(A + "subscription-product/create-product", {
        "storeId": ACME, "name": "Bad trial", "billingPeriod": "monthly",
        "prices": {"USD": {"amount": "9.99", "taxCategory": "saas", "trialAmount": "1.00"}}}),
        400, "trialAmount requires metadata.trialDays", "product")
    assert_error(client.api(A + "subscription-product/create-product", {
        "storeId": ACME, "name": "x" * 65, "billingPeriod": "monthly", "prices": PRICES}),
        400, "name must not exceed 64 characters", "product")
    yearly = ok(client.api(A + "subscription-product/update-product", {
        "id": plan["id"], "billingPeriod": "yearly"}), "updateSubscriptionProduct")["product"]
    assert yearly["billingPeriod"] == "yearly"
    # A catalog product is versioned from its first change.
    fixture = PRODUCTS["pro_monthly"]["id"]
    renamed = ok(client.api(A + "subscription-product/update-product", {
        "id": fixture, "name": "Pro Monthly v2"}), "updateSubscriptionProduct")["product"]
    assert renamed["name"] == "Pro Monthly v2" and renamed["billingPeriod"] == "monthly"


def test_product_groups(client):
    def plan(name):
        return ok(client.api(A + "subscription-product/create-product", {
            "storeId": ACME, "name": name, "billingPeriod": "monthly", "prices": PRICES}),
            "createSubscriptionProduct")["product"]["id"]
    basic, pro = plan("Basic"), plan("Pro")
    group = ok(client.api(A + "subscription-product-group/create-group", {
        "storeId": ACME, "name": "Plans", "rules": {"selfServicePlanChange": True},
        "productIds": [basic]}), "createSubscriptionProductGroup")["group"]
    assert group["rules"] == {"sharedTrial": False, "selfServicePlanChange": True}
    assert group["environment"] == "test"
    updated = ok(client.api(A + "subscription-product-group/update-group", {
        "id": group["id"], "rules": {"sharedTrial": True}, "productIds": [pro, basic]}),
        "updateSubscriptionProductGroup")["group"]
    assert updated["rules"] == {"sharedTrial": True, "selfServicePlanChange": True}  # merged
    assert updated["productIds"] == [pro, basic]  # replaced
    assert_error(client.api(A + "subscription-product-group/create-group", {
        "storeId": ACME, "name": "Plans"}), 400, "A group named 'Plans' already exists in this store",
        "product")
    assert_error(client.api(A + "subscription-product-group/update-group", {
        "id": group["id"], "productIds": [PRODUCTS["ebook"]["id"]]}), 400,
        f"{PRODUCTS['ebook']['id']} is not a subscription product of this store", "product")
    assert_error(client.api(A + "subscription-product-group/create-group", {"storeId": ACME}),
                 400, "Missing required fields: storeId, name", "product")
    prod = ok(client.api(A + "subscription-product-group/publish-group", {"id": group["id"]}),
              "publishSubscriptionProductGroup")["group"]
    assert (prod["environment"], prod["name"], prod["productIds"]) == ("prod", "Plans", [pro, basic])
    again = ok(client.api(A + "subscription-product-group/publish-group", {"id": group["id"]}),
               "publishSubscriptionProductGroup")["group"]
    assert again["id"] == prod["id"]  # an upsert
    assert_error(client.api(A + "subscription-product-group/publish-group", {"id": prod["id"]}),
                 400, "Can only publish test environment groups", "product")
    gone = ok(client.api(A + "subscription-product-group/delete-group", {"id": group["id"]}),
              "deleteSubscriptionProductGroup")["group"]
    assert gone["id"] == group["id"]
    assert_error(client.api(A + "subscription-product-group/delete-group", {"id": group["id"]}),
                 404, "Group not found", "product")
    assert_error(client.api(A + "subscription-product-group/delete-group", {"id": "nope"}),
                 400, "id must be a valid UUID", "store")


def test_store_webhooks_are_receivers_of_their_store_and_mode(client, app):
    outbox = app.extensions["paymock.webhooks"]
    hook = ok(client.api(A + "store/add-webhook", {
        "storeId": ACME, "channel": "http", "url": "http://127.0.0.1:9/hooks",
        "events": ["order.completed"], "testMode": True}), "addStoreWebhook")["webhook"]
    endpoint = outbox.endpoints[hook["id"]]
    assert endpoint.where == {"storeId": ACME, "mode": "test"} and endpoint.format is None
    assert endpoint.wants(endpoint.namespace, "waffo", "order.completed",
                          {"storeId": ACME, "mode": "test"})
    assert not endpoint.wants(endpoint.namespace, "waffo", "order.completed",
                              {"storeId": ACME, "mode": "prod"})
    assert not endpoint.wants(endpoint.namespace, "waffo", "subscription.activated",
                              {"storeId": ACME, "mode": "test"})
    changed = ok(client.api(A + "store/update-webhook", {
        "id": hook["id"], "events": [], "url": "https://hooks.example/new"}),
        "updateStoreWebhook")["webhook"]
    assert changed["events"] == [] and outbox.endpoints[hook["id"]].url == "https://hooks.example/new"
    assert not outbox.endpoints[hook["id"]].wants(endpoint.namespace, "waffo", "order.completed",
                                                  {"storeId": ACME, "mode": "test"})
    assert_error(client.api(A + "store/add-webhook", {
        "storeId": ACME, "channel": "slack", "url": "http://hooks.example/x", "events": [],
        "testMode": True}), 400, "url must be a valid HTTPS URL", "store")
    for bad in ("https://exa mple.com/x", "https://:99999/x", "ftp://h.example/x"):
        assert_error(client.api(A + "store/add-webhook", {
            "storeId": ACME, "channel": "http", "url": bad, "events": [], "testMode": True}),
            400, "url must be a valid HTTPS URL", "store")
    removed = ok(client.api(A + "store/remove-webhook", {"id": hook["id"]}),
                 "removeStoreWebhook")["webhook"]
    assert removed["url"] == "https://hooks.example/new" and hook["id"] not in outbox.endpoints
    assert_error(client.api(A + "store/remove-webhook", {"id": hook["id"]}), 404,
                 "Webhook not found", "store")
    for n in range(20):
        client.api(A + "store/add-webhook", {"storeId": ACME, "channel": "http",
                                              "url": f"https://h.example/{n}", "events": [],
                                              "testMode": False})
    assert_error(client.api(A + "store/add-webhook", {
        "storeId": ACME, "channel": "http", "url": "https://h.example/21", "events": [],
        "testMode": False}), 400, "A store can have at most 20 webhooks", "store")


@pytest.mark.parametrize("channel", ["discord", "slack", "telegram", "feishu"])
def test_a_chat_channel_gets_its_own_unsigned_message(client, app, channel):
    outbox = app.extensions["paymock.webhooks"]
    hook = ok(client.api(A + "store/add-webhook", {
        "storeId": ACME, "channel": channel, "url": "https://chat.example/hook",
        "events": ["order.completed"], "testMode": True, "secret": "8737101383"}),
        "addStoreWebhook")["webhook"]
    endpoint = outbox.endpoints[hook["id"]]
    payload = {"eventType": "order.completed", "timestamp": "2026-01-01T00:00:00.000Z",
               "storeId": ACME, "storeName": "Acme Digital", "mode": "test",
               "data": {"orderId": "ORD_x", "productName": "<Handbook>", "total": "29.00",
                        "currency": "USD", "buyerEmail": "b@example.com"}}
    body = json.loads(outbox.channels["waffo"].formats[channel](payload, "d1", endpoint))
    assert outbox.channels["waffo"].sign({"stamp": 1, "body": "{}"}, endpoint) == {}
    if channel == "discord":
        assert body["embeds"][0]["title"] == "order.completed"
    elif channel == "slack":
        assert body["attachments"][0]["fields"][0] == {"title": "Order", "value": "ORD_x",
                                                       "short": True}
    elif channel == "telegram":
        assert body["chat_id"] == "8737101383" and "&lt;Handbook&gt;" in body["text"]
    else:
        assert body["card"]["header"]["title"]["content"] == "订单已完成"
        assert "08:00:00 (UTC+8)" in body["card"]["elements"][1]["elements"][0]["content"]
