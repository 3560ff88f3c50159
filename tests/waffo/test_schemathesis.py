"""Schemathesis (4.x) runs contracts/waffo/openapi.json against a live mock with every default
check. The contract kit's auth hook (mock_server/providers/waffo/contract_auth.py) signs each request exactly
as the SDK does (RSA-SHA256 over the final body bytes) or attaches a session token, and a hook
points generated session and order ids at real ones so that successful answers get checked as
well as rejections. Known contract/mock disagreements come from the kit's list
(WaffoContractSupport.known_divergences), so both report the same ones.

Schema-valid input can still break a rule only the server knows (a session without billing
detail, an unknown product, an order already canceled): Waffo answers those with 400/403/404/409,
so those are accepted answers to positive data.
"""
from __future__ import annotations

import re
import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup

from mock_server.providers.waffo.contract_auth import install_waffo_auth
from mock_server.providers.waffo.contract_support import WaffoContractSupport, fixture_waffo
from mock_server.core.contracts import document_file

from .helpers import WaffoClient

KEY = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
ORDER_ID = re.compile(r"^ORD_[0-9A-Za-z]{22}$")
ACCEPTED = ["2xx", "400", "401", "403", "404", "409"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
SESSION_PRODUCT = {"createOnetimeOrder": "ebook", "createSubscriptionOrder": "pro_monthly"}
CANCEL_KIND = {"cancelOnetimeOrder": "onetime", "cancelSubscriptionOrder": "subscription"}


@pytest.fixture
def waffo_contract(live):
    config = schemathesis.Config.from_dict({
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
    })
    schema = schemathesis.openapi.from_path(document_file("waffo"), config=config)
    base_url = f"{live.url}/waffo"
    schema.config.update(base_url=base_url)
    # The contract kit's auth hook (Schemathesis' own, so its auth checks know which credentials
    # were sent): API-key requests signed over the exact bytes sent, customer requests with a
    # session token issued through issue-session-token.
    creds = fixture_waffo()
    creds.buyer_identity = "buyer@example.com"  # the buyer _pending_order places orders for
    install_waffo_auth(schema, creds, base_url)
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


def _known_divergence(case, failure) -> bool:
    """A disagreement between contract and mock listed, with its reason, for the kit."""
    op = case.operation.definition.raw["operationId"]
    return any(op in ops and text in failure.message and check in failure.checks
               for ops, check, text, _why in WaffoContractSupport.known_divergences)


@contract.parametrize()
@SETTINGS
def test_waffo_contract_holds(case, app):
    _use_real_ids(case, WaffoClient(base_url=app.extensions["paymock"].public_url))
    try:
        case.call_and_validate()
    except FailureGroup as group:
        unexplained = [f for f in group.exceptions if not _known_divergence(case, f)]
        if unexplained:
            raise FailureGroup(unexplained, str(group)) from None
