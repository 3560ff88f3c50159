"""Schemathesis (4.x) runs contracts/waffo/openapi.json against a live mock with every default
check. An auth hook signs each request exactly as the SDK does (RSA-SHA256 over the final body
bytes) or attaches a fresh session token, and a hook points generated session and order ids at
real ones so that successful answers get checked as well as rejections.

Schema-valid input can still break a rule only the server knows (a session without billing
detail, an unknown product, an order already canceled): Waffo answers those with 400/403/404/409,
so those are accepted answers to positive data.
"""
from __future__ import annotations

import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from mock_server.core.contracts import CONTRACTS_DIR
from mock_server.providers.waffo import auth

from .helpers import MERCHANTS, PRODUCTS, STORES, WaffoClient, private_key

KEY = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
ORDER_ID = re.compile(r"^ORD_[0-9A-Za-z]{22}$")
ACCEPTED = ["2xx", "400", "401", "403", "404", "409"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
API_KEY_OPS = {"createCheckoutSession", "issueSessionToken", "cancelSubscriptionOrder"}
SESSION_PRODUCT = {"createOnetimeOrder": "ebook", "createSubscriptionOrder": "pro_monthly"}
CANCEL_KIND = {"cancelOnetimeOrder": "onetime", "cancelSubscriptionOrder": "subscription"}


SIGN_ME = "sign-me"


class Signer(requests.auth.AuthBase):
    """Signs the prepared request, so the signature covers the exact bytes sent.

    The case carries placeholder credential headers; only a request that still has all of them
    gets signed. When a check drops one (missing or ignored auth probes), the request goes out
    without a valid signature, as it should.
    """

    def __init__(self, mount: str):
        self.mount = mount
        self.key = private_key("acme")

    def __call__(self, request):
        headers = request.headers
        if headers.get("X-Signature") != SIGN_ME or headers.get("X-Timestamp") != SIGN_ME \
                or headers.get("X-Merchant-Id") != MERCHANTS["acme"]["merchantId"]:
            return request
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        path = urlsplit(request.url).path[len(self.mount):]
        stamp = str(int(time.time()))
        headers["X-Timestamp"] = stamp
        headers["X-Signature"] = auth.sign(self.key, "POST", path, stamp, body)
        return request


@pytest.fixture
def waffo_contract(live, app):
    config = schemathesis.Config.from_dict({
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
    })
    schema = schemathesis.openapi.from_path(CONTRACTS_DIR / "waffo" / "openapi.json", config=config)
    schema.config.update(base_url=f"{live.url}/waffo")
    waffo = app.extensions["paymock.waffo"]

    @schema.auth()
    class WaffoAuth:
        """Schemathesis' own auth hook, so its auth checks know which credentials were sent."""

        def get(self, case, ctx):
            token, _ = waffo.gateway.tokens.issue(MERCHANTS["acme"]["merchantId"],
                                                  STORES["acme-digital"]["id"], "buyer@example.com")
            return token

        def set(self, case, token, ctx):
            op = case.operation.definition.raw["operationId"]
            case.headers = case.headers or {}
            if op in API_KEY_OPS:
                case.headers.update({"X-Merchant-Id": MERCHANTS["acme"]["merchantId"],
                                     "X-Timestamp": SIGN_ME, "X-Signature": SIGN_ME})
            else:
                case.headers.update({"Authorization": f"Bearer {token}", "X-Environment": "test"})

    return schema


contract = schemathesis.pytest.from_fixture("waffo_contract")


def _use_real_ids(case, client: WaffoClient) -> None:
    """Generated session and order ids never exist; real ones let 2xx answers be checked too.

    Idempotency keys are made unique per case: Waffo replays the first 2xx for a key whatever the
    body ("uniqueness is yours to guarantee"), and Schemathesis reuses small keys such as "0".
    """
    key = (case.headers or {}).get("X-Idempotency-Key")
    if isinstance(key, str) and KEY.match(key):
        case.headers["X-Idempotency-Key"] = (key + "-" + uuid.uuid4().hex)[-256:]
    op = case.operation.definition.raw["operationId"]
    body = case.body if isinstance(case.body, dict) else None
    # Only schema-valid ids are swapped: an invalid one is the point of a negative case.
    session_id = body.get("checkoutSessionId") if body is not None else None
    if op in SESSION_PRODUCT and isinstance(session_id, str) and 1 <= len(session_id) <= 128:
        body["checkoutSessionId"] = client.session(SESSION_PRODUCT[op])
    order_id = body.get("orderId") if body is not None else None
    if op in CANCEL_KIND and isinstance(order_id, str) and ORDER_ID.match(order_id):
        body["orderId"] = _pending_order(client, CANCEL_KIND[op])


def _pending_order(client: WaffoClient, kind: str) -> str:
    product = "ebook" if kind == "onetime" else "pro_monthly"
    path = f"/v1/actions/{kind}-order/create-order"
    session = client.session(product, billingDetail={"country": "DE", "isBusiness": False})
    status, payload, _ = client.bearer(path, {"checkoutSessionId": session},
                                       client.token("buyer@example.com"))
    assert status == 200, payload
    return _last_order_id(client)


def _last_order_id(client: WaffoClient) -> str:
    state = requests.get(f"{client.base_url}/_mock/state", timeout=10).json()["namespaces"]
    orders = [o for ns in state.values() for o in ns.get("order", {}).values()]
    return max(orders, key=lambda o: o["createdAt"] + o["orderId"])["orderId"]


@contract.parametrize()
@SETTINGS
def test_waffo_contract_holds(case, app):
    _use_real_ids(case, WaffoClient(base_url=app.extensions["paymock"].public_url))
    session = requests.Session()
    session.auth = Signer("/waffo")
    case.call_and_validate(session=session)
