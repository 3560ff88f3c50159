"""The official @waffo/pancake-ts SDK, unchanged, pointed at the mock by baseUrl only.

Needs Node 20 and npm: when they are missing the test fails (never skips), because a suite that
silently stops exercising the real client proves nothing.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from .helpers import MERCHANTS, PRODUCTS, STORES, private_key

SDK_DIR = Path(__file__).resolve().parent / "sdk"


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are required for the Waffo SDK test (Node 20: apt-get install "
                    "nodejs npm); this test must not be skipped")
    if not (SDK_DIR / "node_modules" / "@waffo" / "pancake-ts").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SDK_DIR, check=True,
                       timeout=300)
    return node, npm


def _run(node: str, config: dict, *args: str) -> dict:
    proc = subprocess.run([node, "e2e.mjs", *args], cwd=SDK_DIR, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PAYMOCK_WAFFO": json.dumps(config)})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _state(server, namespace: str) -> dict:
    resp = requests.get(f"{server.url}/_mock/state", params={"namespace": namespace}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()["namespaces"][namespace]


def test_official_sdk_against_the_mock(live, waffo, core):
    node, _ = _tools()
    merchant = MERCHANTS["acme"]
    config = {"baseUrl": f"{live.url}/waffo", "merchantId": merchant["merchantId"],
              "privateKey": private_key("acme"), "productId": PRODUCTS["ebook"]["id"],
              "storeId": STORES["acme-digital"]["id"]}
    out = _run(node, config, "checkout")
    namespace = requests.get(f"{live.url}/_mock/waffo/merchants/{merchant['merchantId']}",
                             timeout=10).json()["namespace"]
    state = _state(live, namespace)
    sessions = state["checkout_session"]
    hosted = f"{live.url}/checkout/waffo/store/acme-digital/checkout/"

    low = sessions[out["low"]["sessionId"]]
    assert out["low"]["checkoutUrl"] == hosted + low["sessionId"]
    assert out["low"]["expiresAt"] == low["expiresAt"]
    assert low["buyerEmail"] == "low.level@example.com"
    assert low["metadata"] == {"source": "sdk-e2e"}
    assert (low["price"], low["createdVia"]) == ({"amount": "29.00", "taxCategory": "ebook"}, "api_key")

    anonymous = sessions[out["anonymous"]["sessionId"]]
    assert (anonymous["currency"], anonymous["language"]) == ("EUR", "pt-BR")
    assert anonymous["paymentMethods"] == ["card", "applepay"]
    assert anonymous["price"]["amount"] == "27.00"

    auth = out["authenticated"]
    assert auth["checkoutUrl"] == f"{hosted}{auth['sessionId']}#token={auth['token']}"
    claims = waffo.gateway.tokens.verify(auth["token"])
    assert (claims.merchant_id, claims.store_id, claims.buyer_identity) == (
        merchant["merchantId"], STORES["acme-digital"]["id"], "user-42")
    assert waffo.gateway.tokens.verify(out["issued"]["token"]).buyer_identity == "user-42"
    assert out["issued"]["expiresAt"] == auth["tokenExpiresAt"]  # frozen clock: same instant

    assert out["order"]["status"] == 200, out["order"]
    [order] = state["order"].values()
    assert out["order"]["body"]["data"]["checkoutUrl"] == order["payment"]["checkoutUrl"]
    assert order["payment"]["checkoutUrl"].startswith(f"{live.url}/psp/waffo/")
    assert (order["checkoutSessionId"], order["buyerIdentity"], order["buyerEmail"]) == (
        auth["sessionId"], "user-42", "buyer@example.com")
    assert (order["subtotal"], order["taxRate"], order["taxAmount"], order["total"]) == (
        "29.00", "7.25", "2.10", "31.10")
    assert order["orderMerchantExternalId"] == "ORDER-2026-00891"
    assert sessions[auth["sessionId"]]["orderIds"] == [order["orderId"]]

    assert out["badProduct"] == {"ok": False, "status": 404,
                                 "errors": [{"message": "Product not found", "layer": "product"}]}

    cancel = _run(node, config, "cancel", out["issued"]["token"], order["orderId"])
    assert cancel["first"] == {"ok": True, "result": {"orderId": order["orderId"],
                                                      "status": "canceled"}}
    assert cancel["second"] == {"ok": False, "status": 400, "errors": [
        {"message": "Order cannot be canceled, current status: canceled", "layer": "order"}]}
    after = _state(live, namespace)["order"][order["orderId"]]
    assert (after["status"], after["payment"]["status"]) == ("canceled", "canceled")


def test_the_sdk_builds_a_store_and_its_webhook_gets_the_sale(live, core):
    """Stores, products, groups, webhooks and store membership through the SDK's own methods;
    then a sale of the product it made reaches the webhook it added, and the SDK's verify()
    accepts it with the key paymock publishes."""
    node, _ = _tools()
    merchant = MERCHANTS["acme"]
    public_key = requests.get(f"{live.url}/_mock/waffo/webhook-public-key", timeout=10).text
    config = {"baseUrl": f"{live.url}/waffo", "controlUrl": live.url,
              "merchantId": merchant["merchantId"], "privateKey": private_key("acme"),
              "webhookPublicKey": public_key,
              "subscriptionProductId": PRODUCTS["pro_monthly"]["id"]}
    out = _run(node, config, "catalog")
    store = out["store"]
    assert store["id"].startswith("STO_") and store["slug"] == "sdk-catalog-shop"
    assert out["updated"]["store"]["notificationSettings"]["notifyNewOrders"] is False
    product = out["product"]
    assert out["v2"]["product"]["description"] == "Second edition"
    assert out["v2"]["product"]["prices"] == product["prices"]  # kept by the new version
    assert out["published"]["product"]["description"] == "Second edition"
    assert (out["inactive"]["product"]["status"], out["active"]["product"]["status"]) == (
        "inactive", "active")
    assert out["planV2"]["product"]["billingPeriod"] == "yearly"
    assert out["planPublished"]["product"]["billingPeriod"] == "yearly"
    assert out["planInactive"]["product"]["status"] == "inactive"
    assert out["groupUpdated"]["group"]["rules"] == {"sharedTrial": True,
                                                     "selfServicePlanChange": True}
    assert out["groupPublished"]["group"]["environment"] == "prod"
    assert out["groupDeleted"]["group"]["id"] == out["group"]["id"]
    assert out["member"] == {"ok": False, "status": 501,
                             "errors": [{"message": "Not implemented", "layer": "store"}]}
    assert out["hookUpdated"]["webhook"]["events"] == ["order.completed", "refund.succeeded"]
    assert out["spareRemoved"]["webhook"]["channel"] == "slack"
    assert out["paid"] == 200
    [event, refunded] = out["events"]
    assert (event["eventType"], event["storeId"], event["mode"]) == (
        "order.completed", store["id"], "test")
    assert event["data"]["productName"] == "SDK Handbook"
    assert event["data"]["chargedAmount"] == event["data"]["total"]
    assert (out["ticket"]["status"], out["ticket"]["submitterType"]) == ("pending", "customer")
    assert out["approved"]["ticket"]["status"] == "succeeded"
    assert (refunded["eventType"], refunded["data"]["refundedAmount"]) == ("refund.succeeded",
                                                                          "5.00")
    assert refunded["data"]["orderId"] == event["data"]["orderId"]
    assert refunded["data"]["refundTicketMerchantExternalId"] == "RT-SDK-1"
    assert (out["allowed"]["action"], out["blocked"]["action"]) == ("allow", "block")
    assert out["blocked"]["matchedCategories"] == ["face_swap_identity"]
    assert out["blocked"]["semanticStatus"] == "skipped_rules_block"
    assert out["canceling"]["status"] == "canceling"
    assert out["reactivated"] == {"orderId": out["canceling"]["orderId"], "status": "active"}
    assert out["again"] == {"ok": False, "status": 400, "errors": [
        {"message": "Only canceling subscriptions can be reactivated", "layer": "order"}]}
    order = out["merchantView"]["data"]["onetimeOrder"]
    assert order["id"] == refunded["data"]["orderId"] and order["status"] == "completed"
    assert order["payments"][0]["refundStatus"] == "refunded"
    assert order["payments"][0]["refunds"] == [{"status": "succeeded"}]
    assert [p["name"] for p in out["merchantView"]["data"]["onetimeProducts"]] == ["SDK Handbook"]
    assert out["merchantView"]["data"]["refundTicketsCount"] == 1
    assert out["buyerView"]["data"]["onetimeOrders"] == [{"id": order["id"], "status": "completed"}]
    # The SDK's graphql.query hands errors back instead of throwing: a mutation's 403 envelope.
    refused = out["refused"]["result"]
    assert refused["data"] is None and refused["errors"][0]["layer"] == "graphql"
    assert refused["errors"][0]["message"].startswith("Operation type not allowed")


def test_every_event_a_trigger_makes_verifies_with_the_sdk(live):
    """The 14 documented events, each made by its trigger (POST /_mock/trigger), delivered to a
    receiver and accepted by the SDK's verify() with the key paymock publishes."""
    from mock_server.control import Client
    from webhooks.receiver import Receiver

    node, _ = _tools()
    mock = Client(live.url)
    merchant = MERCHANTS["acme"]
    namespace = requests.get(f"{live.url}/_mock/waffo/merchants/{merchant['merchantId']}",
                             timeout=10).json()["namespace"]
    events = mock.triggers()["waffo"]
    assert len(events) == 14
    receiver = Receiver()
    endpoint = mock.webhooks.add_endpoint(receiver.url, provider="waffo")
    try:
        for event in events:
            mock.trigger(event, "waffo", namespace)
        mock.webhooks.flush()
        expected = len([e for e in mock.webhooks.events(namespace) if e["provider"] == "waffo"])
        received = receiver.wait_for(expected)
    finally:
        mock.webhooks.delete_endpoint(endpoint["id"])
        receiver.stop()
    config = {"baseUrl": f"{live.url}/waffo", "merchantId": merchant["merchantId"],
              "privateKey": private_key("acme"),
              "webhookPublicKey": mock.webhooks.public_key("waffo"),
              "received": [{"body": r["body"], "signature": r["headers"]["x-waffo-signature"]}
                           for r in received]}
    verified = _run(node, config, "verifyAll")
    assert all(v["ok"] for v in verified), [v for v in verified if not v["ok"]]
    assert {v["event"]["eventType"] for v in verified} == set(events)
