"""Waffo's GraphQL API over HTTP (Flask test client): the example queries of the SDK's GraphQL
guide, each run against a populated mock and checked against the state it made; filters, limits
and counts; the merchant's and the customer's scope; what is refused (a mutation, a field the
schema lacks, no query, a document too deep)."""
import pytest

from mock_server.core.contracts import Contract

from .helpers import MERCHANTS, ONETIME_ORDER, PRODUCTS, STORES, SUBSCRIPTION_ORDER

CONTRACT = Contract.load("waffo")
GQL = "/v1/graphql"
ACME = STORES["acme-digital"]["id"]
DE = {"country": "DE", "isBusiness": False}


def query(client, text, variables=None, token=None, environment="test"):
    body = {"query": text, **({"variables": variables} if variables else {})}
    status, payload, _ = (client.bearer(GQL, body, token) if token
                          else client.api(GQL, body, environment=environment))
    assert status == 200, payload
    assert CONTRACT.response_errors("graphql", 200, payload) == [], payload
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def buy(client, app, product="ebook", currency="EUR", identity="gql@example.com", pay=True,
        billing=DE, outcome=None, **session_fields):
    """An order through the API, paid (or `outcome`: declined, cancelled ...) on the PSP page
    unless `pay` is false; answers (order id, payment id, the buyer's token)."""
    session = client.session(product, currency=currency, **session_fields)
    token = client.token(identity)
    path = SUBSCRIPTION_ORDER if PRODUCTS[product]["type"] == "subscription" else ONETIME_ORDER
    status, payload, _ = client.bearer(path, {"checkoutSessionId": session, "buyerEmail": identity,
                                              "billingDetail": billing}, token)
    assert status == 200, payload
    psp_id = payload["data"]["checkoutUrl"].rsplit("/", 1)[-1]
    http = app.test_client()
    if pay:
        assert http.post(f"/_mock/payments/{psp_id}/outcome",
                         json=outcome or {"outcome": "paid"}).status_code == 200
    payment = http.get(f"/_mock/payments/{psp_id}").get_json()["payment"]
    return payment["ref"]["id"], payment["id"], token


@pytest.fixture
def world(client, app):
    """Two paid one-time orders (one refunded in part), a pending one, a paid subscription."""
    paid, paid_payment, token = buy(client, app)
    other, _, _ = buy(client, app, identity="other@example.com")
    pending, _, _ = buy(client, app, identity="slow@example.com", pay=False)
    sub, _, sub_token = buy(client, app, "pro_monthly", currency="USD",
                            identity="subscriber@example.com")
    status, payload, _ = client.bearer("/v1/actions/refund-ticket/create-ticket", {
        "paymentId": paid_payment, "reason": "Missing chapter",
        "requestedAmount": {"amount": "5.00", "currency": "EUR"}}, token)
    assert status == 200, payload
    return {"paid": paid, "payment": paid_payment, "other": other, "pending": pending,
            "sub": sub, "token": token, "sub_token": sub_token,
            "ticket": payload["data"]["ticket"]["id"]}


def test_stores_and_a_store(client):
    stores = query(client, "query { stores { id name slug status supportEmail createdAt } }")["stores"]
    assert {s["slug"] for s in stores} == {"acme-digital", "acme-labs", "acme-archive"}
    one = query(client, "query ($id: ID!) { store(id: $id) { id name slug status } }",
                {"id": ACME})["store"]
    assert one == {"id": ACME, "name": STORES["acme-digital"]["name"], "slug": "acme-digital",
                   "status": "active"}
    assert query(client, "query { stores(filter: { status: { eq: \"inactive\" } }) { slug } }")[
        "stores"] == [{"slug": "acme-archive"}]
    # Another merchant's store is not there.
    assert query(client, "query ($id: ID!) { store(id: $id) { id } }",
                 {"id": STORES["beta-studio"]["id"]})["store"] is None


def test_products_versions_and_groups(client):
    products = query(client, """query ($storeId: String!) {
        onetimeProducts(storeId: $storeId, filter: { status: { eq: "active" } }) {
          id name status prices { currency priceInfo { amount taxCategory } } hasProdVersion } }""",
                     {"storeId": ACME})["onetimeProducts"]
    ebook = next(p for p in products if p["id"] == PRODUCTS["ebook"]["id"])
    assert {"currency": "USD", "priceInfo": {"amount": "29.00", "taxCategory": "ebook"}} in \
        ebook["prices"]
    assert ebook["hasProdVersion"] is True
    subs = query(client, """query ($storeId: String!) { subscriptionProducts(storeId: $storeId) {
        id name billingPeriod status prices { currency priceInfo { amount taxCategory } } } }""",
                 {"storeId": ACME})["subscriptionProducts"]
    assert {p["billingPeriod"] for p in subs} == {"monthly", "yearly"}
    made = client.api("/v1/actions/onetime-product/create-product", {
        "storeId": ACME, "name": "GQL Guide", "prices": {"USD": {"amount": "5.00",
                                                              "taxCategory": "ebook"}}})[1]
    product_id = made["data"]["product"]["id"]
    client.api("/v1/actions/onetime-product/update-product", {"id": product_id, "name": "GQL Guide 2"})
    versions = query(client, """query ($productId: String!) { onetimeProductVersions(productId: $productId) {
        id versionNumber name description prices { currency priceInfo { amount taxCategory } }
        media { type url alt thumbnail } metadata isTestVersion isProdVersion createdAt } }""",
                     {"productId": product_id})["onetimeProductVersions"]
    assert [(v["versionNumber"], v["name"], v["isTestVersion"], v["isProdVersion"])
            for v in versions] == [(1, "GQL Guide", True, False), (2, "GQL Guide 2", True, False)]
    plan = PRODUCTS["pro_monthly"]["id"]
    client.api("/v1/actions/subscription-product-group/create-group", {
        "storeId": ACME, "name": "Plans", "rules": {"sharedTrial": True}, "productIds": [plan]})
    groups = query(client, """query ($storeId: String!) { subscriptionProductGroups(storeId: $storeId) {
        id name description rules { sharedTrial } environment
        products { id name billingPeriod prices { currency priceInfo { amount taxCategory } } } } }""",
                   {"storeId": ACME})["subscriptionProductGroups"]
    assert [(g["name"], g["rules"], g["environment"], [p["id"] for p in g["products"]])
            for g in groups] == [("Plans", {"sharedTrial": True}, "test", [plan])]


def test_orders_payments_refunds_and_tickets(client, world):
    orders = query(client, """query ($storeId: String!) { onetimeOrders(storeId: $storeId) {
        id buyerEmail currency status
        priceSnapshot { currency subtotal taxAmount total taxCategory }
        onetimeProduct { name } createdAt } }""", {"storeId": ACME})["onetimeOrders"]
    assert {o["id"]: o["status"] for o in orders} == {
        world["paid"]: "completed", world["other"]: "completed", world["pending"]: "pending"}
    paid = next(o for o in orders if o["id"] == world["paid"])
    assert paid["priceSnapshot"] == {"currency": "EUR", "subtotal": "27.00", "taxAmount": "5.13",
                                     "total": "32.13", "taxCategory": "ebook"}
    assert paid["onetimeProduct"]["name"] == PRODUCTS["ebook"]["name"]
    detail = query(client, """query ($id: ID!) { onetimeOrder(id: $id) {
        id buyerEmail currency status testMode
        priceSnapshot { currency subtotal taxAmount total taxCategory }
        billingDetail { country isBusiness postcode state businessName taxId }
        onetimeProduct { id name } productVersion { id versionNumber name }
        payments { id status refundStatus
          snapshotAmountDetails { currency subtotal taxAmount total taxCategory phase }
          cardInfo { brand last4 expMonth expYear } failureReason createdAt
          refunds { id status requestedAmountDetails { currency amount } createdAt } }
        createdAt updatedAt } }""", {"id": world["paid"]})["onetimeOrder"]
    assert detail["testMode"] is True and detail["billingDetail"]["country"] == "DE"
    assert detail["productVersion"]["versionNumber"] == 1
    [payment] = detail["payments"]
    assert (payment["id"], payment["status"]) == (world["payment"], "succeeded")
    assert payment["refunds"] == []  # the ticket waits for review
    subs = query(client, """query ($storeId: String!) { subscriptionOrders(storeId: $storeId) {
        id buyerEmail status billingPeriod
        priceSnapshot { currency regularPhase { subtotal taxAmount total taxCategory }
                        specialPhase { subtotal taxAmount total taxCategory } specialPhaseDays }
        currentPeriodEnd canceledAt } }""", {"storeId": ACME})["subscriptionOrders"]
    assert [(s["id"], s["status"], s["billingPeriod"]) for s in subs] == [
        (world["sub"], "active", "monthly")]
    succeeded = query(client, """query { payments(filter: { status: { eq: "succeeded" } }) {
        id onetimeOrder { id } subscriptionOrder { id }
        snapshotAmountDetails { currency subtotal taxAmount total taxCategory phase }
        cardInfo { brand last4 } status createdAt } }""")["payments"]
    assert len(succeeded) == 3
    assert query(client, "query { paymentsCount }")["paymentsCount"] == 4
    tickets = query(client, """query {
        refundTickets(limit: 20, filter: { status: { eq: "pending" } }) {
          id status reason requestedAmountDetails { currency amount }
          payment { id status onetimeOrder { id buyerEmail store { name } } }
          createdAt updatedAt }
        refundTicketsCount(filter: { status: { eq: "pending" } }) }""")
    assert tickets["refundTicketsCount"] == 1
    [ticket] = tickets["refundTickets"]
    assert (ticket["id"], ticket["reason"], ticket["requestedAmountDetails"]) == (
        world["ticket"], "Missing chapter", {"currency": "EUR", "amount": "5.00"})
    assert ticket["payment"]["onetimeOrder"]["store"]["name"] == STORES["acme-digital"]["name"]
    # Approved, the refund shows on the payment and among the refunds.
    client.flask.post(f"/_mock/waffo/refund-tickets/{world['ticket']}/approve", json={})
    refunds = query(client, "query { refunds { id paymentId status } refundsCount }")
    assert refunds["refundsCount"] == 1 and refunds["refunds"][0]["paymentId"] == world["payment"]
    again = query(client, "query ($id: ID!) { payment(id: $id) { refundStatus refunds { status } } }",
                  {"id": world["payment"]})["payment"]
    assert again == {"refundStatus": "refunded", "refunds": [{"status": "succeeded"}]}


def test_filters_limits_and_counts(client, world):
    by_email = query(client, """query { onetimeOrders(filter: { buyerEmail: { endsWith: "@example.com" },
        status: { in: ["completed"] } }) { id } }""")["onetimeOrders"]
    assert {o["id"] for o in by_email} == {world["paid"], world["other"]}
    assert query(client, """query { onetimeOrders(filter: { buyerEmail: { startsWith: "slow" } }) { id } }""")[
        "onetimeOrders"] == [{"id": world["pending"]}]
    assert query(client, """query { onetimeOrders(filter: { buyerEmail: { contains: "ther" } }) { id } }""")[
        "onetimeOrders"] == [{"id": world["other"]}]
    assert query(client, """query { onetimeOrders(filter: { status: { ne: "completed" } }) { id } }""")[
        "onetimeOrders"] == [{"id": world["pending"]}]
    assert query(client, """query { onetimeOrders(filter: { createdAt: { gte: "2000-01-01T00:00:00Z" } },
        limit: 2, offset: 1) { id } }""")["onetimeOrders"].__len__() == 2
    assert query(client, """query { onetimeOrders(filter: { createdAt: { lt: "2000-01-01T00:00:00Z" } }) { id } }""")[
        "onetimeOrders"] == []
    assert query(client, """query { onetimeOrders(filter: { testMode: { eq: false } }) { id } }""")[
        "onetimeOrders"] == []
    counts = query(client, """query ($storeId: String!) { storesCount storeMerchantsCount apiKeysCount
        onetimeProductsCount(storeId: $storeId, filter: { status: { eq: "active" } })
        subscriptionProductsCount(storeId: $storeId) subscriptionProductGroupsCount(storeId: $storeId)
        onetimeOrdersCount(storeId: $storeId) subscriptionOrdersCount(storeId: $storeId)
        paymentsCount refundsCount refundTicketsCount webhookDeliveriesCount(storeId: $storeId)
        emailDeliveriesCount(storeId: $storeId) }""", {"storeId": ACME})
    assert (counts["storesCount"], counts["onetimeOrdersCount"], counts["subscriptionOrdersCount"],
            counts["paymentsCount"], counts["refundTicketsCount"], counts["emailDeliveriesCount"]) \
        == (3, 3, 1, 4, 1, 0)
    assert counts["apiKeysCount"] == 2  # acme has a test and a prod key
    # The prod key sees the prod environment: none of these test orders.
    assert query(client, "query { onetimeOrdersCount }", environment="prod")["onetimeOrdersCount"] == 0


def test_a_customer_sees_only_their_own(client, world):
    mine = query(client, "query { onetimeOrders { id } payments { id } refundTickets { id } }",
                 token=world["token"])
    assert mine["onetimeOrders"] == [{"id": world["paid"]}]
    assert mine["payments"] == [{"id": world["payment"]}]
    assert mine["refundTickets"] == [{"id": world["ticket"]}]
    assert query(client, "query { subscriptionOrders { id status } }", token=world["sub_token"])[
        "subscriptionOrders"] == [{"id": world["sub"], "status": "active"}]
    assert query(client, "query ($id: ID!) { merchant(id: $id) { id } }",
                 {"id": MERCHANTS["acme"]["merchantId"]}, token=world["token"])["merchant"] is None


def test_merchant_rate_deliveries_and_introspection(client, app, world):
    merchant_id = MERCHANTS["acme"]["merchantId"]
    merchant = query(client, """query ($id: ID!) { merchant(id: $id) { id email name status
        storeMerchants { role store { id name slug status } }
        apiKeys { id nickname environment recentlyUsed createdAt } } }""", {"id": merchant_id})["merchant"]
    assert merchant["id"] == merchant_id and len(merchant["storeMerchants"]) == 3
    assert sorted(k["environment"] for k in merchant["apiKeys"]) == ["prod", "test"]
    rate = query(client, """query { rate(fromCurrency: USD, toCurrency: EUR) {
        fromCurrency toCurrency standardRate rateRefId expiryTime } }""")["rate"]
    assert (rate["fromCurrency"], rate["toCurrency"], rate["standardRate"]) == ("USD", "EUR", "0.92")
    client.api("/v1/actions/store/add-webhook", {"storeId": ACME, "channel": "http",
                                                 "url": "http://127.0.0.1:9/x",
                                                 "events": ["order.completed"], "testMode": True})
    buy(client, app, identity="hooked@example.com")
    logs = query(client, """query ($storeId: String!) {
        webhookDeliveries(storeId: $storeId, limit: 20) { id storeId eventType eventId
          payload webhookUrl status httpStatus responseBody attemptCount lastAttemptedAt createdAt }
        webhookDeliveriesCount(storeId: $storeId)
        emailDeliveries(storeId: $storeId, limit: 20) { id } }""", {"storeId": ACME})
    assert logs["webhookDeliveriesCount"] == 1
    [delivery] = logs["webhookDeliveries"]
    assert (delivery["eventType"], delivery["webhookUrl"]) == ("order.completed",
                                                               "http://127.0.0.1:9/x")
    assert delivery["eventId"].startswith("PAY_") and logs["emailDeliveries"] == []
    fields = query(client, "{ __schema { queryType { fields { name } } } }")["__schema"]
    names = {f["name"] for f in fields["queryType"]["fields"]}
    assert {"stores", "onetimeOrders", "refundTicketsCount", "rate"} <= names
    order_type = query(client, '{ __type(name: "OnetimeOrder") { fields { name } } }')["__type"]
    assert "priceSnapshot" in {f["name"] for f in order_type["fields"]}


def test_what_graphql_refuses(client):
    status, payload, _ = client.api(GQL, {"query": "mutation { stores { id } }"})
    assert (status, payload["errors"][0]["layer"]) == (403, "graphql")
    status, payload, _ = client.api(GQL, {"query": "query { nothing }"})
    assert status == 200 and payload["data"] is None
    assert payload["errors"][0]["message"] == "Cannot query field 'nothing' on type 'Query'."
    assert payload["errors"][0]["layer"] == "graphql"
    status, payload, _ = client.api(GQL, {"query": "  "})
    assert (status, payload["errors"][0]["message"]) == (400, "Missing required field: query")
    deep = "query { onetimeOrders { payments { onetimeOrder { payments { onetimeOrder { payments " \
           "{ onetimeOrder { id } } } } } } } }"
    status, payload, _ = client.api(GQL, {"query": deep})
    assert (status, payload["errors"][0]["message"]) == (400, "Query depth exceeds the maximum of 7")
    status, payload, _ = client.api(GQL, {"query": "query {"})
    assert status == 400
