"""Dodo brands over HTTP (Flask test client): the primary brand is the business, listed first and
never updated or archived through the API; archiving another brand moves its products, live
subscriptions and product collections to the brand named, and is refused without one when there
is anything to move. Answers are checked against the contract, refusals by status and body."""
from mock_server.core.contracts import Contract

CONTRACT = Contract.load("dodo")
AUTH = {"Authorization": "Bearer sk_test_brands"}
ADDRESS = {"country": "US", "street": "1 Main St", "city": "SF", "state": "CA", "zipcode": "94105"}
MONTHLY = {"type": "recurring_price", "price": 900, "currency": "USD", "discount": 0,
           "purchasing_power_parity": False, "payment_frequency_count": 1,
           "payment_frequency_interval": "Month", "subscription_period_count": 1,
           "subscription_period_interval": "Year"}


def ok(response, operation_id):
    assert response.status_code == 200, response.data
    assert CONTRACT.response_errors(operation_id, 200, response.json) == [], response.json
    return response.json


def refused(response, status, code, message):
    assert (response.status_code, response.json) == (status, {"code": code, "message": message})


def brand(client, name="Second"):
    return ok(client.post("/dodo/brands", json={"name": name, "url": "https://b.example"},
                          headers=AUTH), "create_brand_handler")["brand_id"]


def test_the_primary_brand_is_the_business_and_stays_as_it_is(client, catalog):
    business = catalog.dodo_product("ebook_guide")["business_id"]
    [primary] = ok(client.get("/dodo/brands", headers=AUTH), "list_brands_handler")["items"]
    assert primary["brand_id"] == business == catalog.dodo_product("ebook_guide")["brand_id"]
    assert ok(client.get(f"/dodo/brands/{business}", headers=AUTH), "get_brand_handler") == primary
    refused(client.patch(f"/dodo/brands/{business}", json={"name": "x"}, headers=AUTH), 403,
            "FORBIDDEN", "Primary brand cannot be updated via this API endpoint")
    refused(client.post(f"/dodo/brands/{business}/archive", json={}, headers=AUTH), 403,
            "FORBIDDEN", "The primary brand cannot be archived")


def test_archiving_moves_products_subscriptions_and_collections(client, catalog):
    business = catalog.dodo_product("ebook_guide")["business_id"]
    second, third = brand(client), brand(client, "Third")
    product = client.post("/dodo/products", json={
        "name": "Branded plan", "tax_category": "saas", "price": MONTHLY, "brand_id": second},
        headers=AUTH).json["product_id"]
    collection = client.post("/dodo/product-collections", json={
        "name": "Branded", "groups": [], "brand_id": second}, headers=AUTH).json["id"]
    session = client.post("/dodo/checkouts", json={
        "product_cart": [{"product_id": product, "quantity": 1}], "billing_address": ADDRESS,
        "customer": {"email": "brand@example.com", "name": "B"}, "confirm": True},
        headers=AUTH).json
    client.post(f"/_mock/payments/{session['session_id']}/outcome", json={"outcome": "paid"})
    payment_id = client.get(f"/dodo/checkouts/{session['session_id']}", headers=AUTH).json[
        "payment_id"]
    sub = {"subscription_id": client.get(f"/dodo/payments/{payment_id}", headers=AUTH).json[
        "subscription_id"]}

    url = f"/dodo/brands/{second}/archive"
    refused(client.post(url, json={}, headers=AUTH), 422, "INVALID_REQUEST_BODY",
            "Invalid or missing move_products_to target: the brand holds 1 products, 1 live "
            "subscriptions and 1 product collections")
    refused(client.post(url, json={"move_products_to": second}, headers=AUTH), 422,
            "INVALID_REQUEST_BODY", f"Invalid or missing move_products_to target: {second}")
    refused(client.post(url, json={"move_products_to": "brnd_nothing"}, headers=AUTH), 422,
            "INVALID_REQUEST_BODY", "Invalid or missing move_products_to target: brnd_nothing")
    archived = ok(client.post(url, json={"move_products_to": third}, headers=AUTH),
                  "archive_brand_handler")
    assert (archived["products_moved"], archived["subscriptions_moved"],
            archived["collections_moved"], archived["moved_to_brand_id"]) == (1, 1, 1, third)
    assert client.get(f"/dodo/products/{product}", headers=AUTH).json["brand_id"] == third
    assert client.get(f"/dodo/subscriptions/{sub['subscription_id']}",
                      headers=AUTH).json["brand_id"] == third
    assert client.get(f"/dodo/product-collections/{collection}",
                      headers=AUTH).json["brand_id"] == third

    assert second not in [b["brand_id"] for b in client.get("/dodo/brands", headers=AUTH).json["items"]]
    listed = client.get("/dodo/brands?include_archived=true", headers=AUTH).json["items"]
    assert [b["brand_id"] for b in listed] == [business, second, third]
    shown = ok(client.get(f"/dodo/brands/{second}", headers=AUTH), "get_brand_handler")
    assert shown["archived_at"] == archived["archived_at"]
    refused(client.post(url, json={"move_products_to": business}, headers=AUTH), 409,
            "CONFLICT", "Brand is already archived")
    refused(client.patch(f"/dodo/brands/{second}", json={"name": "x"}, headers=AUTH), 422,
            "INVALID_REQUEST_BODY", "Brand is archived")
    refused(client.post(f"/dodo/brands/{third}/archive", json={"move_products_to": second},
                        headers=AUTH), 422, "INVALID_REQUEST_BODY",
            f"Invalid or missing move_products_to target: {second}")
    refused(client.get("/dodo/brands/brnd_nothing", headers=AUTH), 404, "NOT_FOUND",
            "Brand not found")
