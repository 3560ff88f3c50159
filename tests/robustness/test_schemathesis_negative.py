"""Schemathesis in negative mode: data that breaks each contract (wrong types, missing fields,
values out of range, odd path parameters) sent to a live server. Every answer must be a 4xx, never
a 5xx, and an error body that matches the contract."""
from __future__ import annotations

import json
import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance)

from mock_server.core.contracts import document_file
from mock_server.providers.waffo import auth
from tests.waffo.helpers import MERCHANTS, STORES, WaffoClient, private_key

from .conftest import DODO_KEY

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
CHECKS = [not_a_server_error, negative_data_rejection, response_schema_conformance,
          content_type_conformance]
REJECTIONS = ["400", "401", "403", "404", "405", "409", "413", "415", "422"]


def negative(provider: str, base_url: str, extra: dict | None = None):
    config = schemathesis.Config.from_dict({
        "generation": {"mode": "negative"},
        # Fuzzing alone: the coverage phase enumerates thousands of cases per operation.
        "phases": {"coverage": {"enabled": False}},
        "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
        **(extra or {}),
    })
    schema = schemathesis.openapi.from_path(document_file(provider), config=config)
    schema.config.update(base_url=base_url)
    return schema


def nothing_to_break(document: dict) -> list[str]:
    """Operations with no negative case at all: no credential, no body (or one any JSON
    satisfies), no query, and only free string path parameters (Dodo's public invoice links, its
    documentation pages, the connectors' webhook inlet). Schemathesis cannot make one, so they
    are left out here, by name, and test_public_links_refuse_unknown_ids covers them."""
    found = []
    for item in document["paths"].values():
        for op in item.values():
            params = op.get("parameters", [])
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if (op.get("security") == [] and ("requestBody" not in op or body.get("schema") == {})
                    and all(p["in"] == "path" and p.get("schema", {}).get("type") == "string"
                            and not {"enum", "pattern", "format", "maxLength"} & p["schema"].keys()
                            for p in params)):
                found.append(op["operationId"])
    return found


DODO_DOCUMENT = json.loads(document_file("dodo").read_text())
PUBLIC_LINKS = nothing_to_break(DODO_DOCUMENT)


@pytest.fixture(scope="module")
def dodo_negative(live):
    return negative("dodo", f"{live.url}/dodo",
                    {"auth": {"openapi": {"API_KEY": {"bearer": DODO_KEY}}}})


def test_public_links_refuse_unknown_ids(live):
    docs = {f"{area}_{page}" for area in ("api", "customer_portal", "dashboard", "superadmin",
                                          "unified_customer_portal")
            for page in ("docs", "docs_index", "docs_openapi")}
    assert set(PUBLIC_LINKS) == docs | {
        "get_payment_invoice_no_auth", "get_refund_invoice_no_auth", "get_payout_invoice_no_auth",
        "get_supported_countries_proxy", "connector_webhook_doc"}
    for path in ("/dodo/invoices/payments/pay_%00x", "/dodo/invoices/refunds/..%2f..",
                 "/dodo/invoices/payouts/pyt_%00x", "/dodo/invoices/payments/" + "x" * 5000):
        response = requests.get(live.url + path, timeout=10)
        assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND", path


@schemathesis.pytest.from_fixture("dodo_negative").exclude(operation_id=PUBLIC_LINKS).parametrize()
@SETTINGS
def test_dodo_refuses_negative_data_without_a_5xx(case):
    case.call_and_validate(checks=CHECKS)


IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,256}")


class _Signer(requests.auth.AuthBase):
    """Signs API-key requests over the exact bytes sent, as the SDK does (so that the request is
    judged on its data, past the gateway)."""

    def __init__(self, mount: str):
        self.mount = mount
        self.key = private_key("acme")

    def __call__(self, request):
        headers = request.headers
        # A well-formed idempotency key made unique: Schemathesis draws the same few keys again
        # and again, and a key whose first answer was a 2xx replays that answer (as Waffo
        # documents) whatever the body, which would pass an invalid body off as accepted. A
        # malformed key is left as drawn: refusing it is what is being tested.
        key = headers.get("X-Idempotency-Key")
        if key is not None and IDEMPOTENCY_KEY.fullmatch(key):
            headers["X-Idempotency-Key"] = uuid.uuid4().hex
        if headers.get("X-Signature") != "sign-me":
            return request
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        stamp = str(int(time.time()))
        headers["X-Timestamp"] = stamp
        headers["X-Merchant-Id"] = MERCHANTS["acme"]["merchantId"]
        headers["X-Signature"] = auth.sign(self.key, "POST", urlsplit(request.url).path[len(self.mount):],
                                           stamp, body)
        return request


@pytest.fixture(scope="module")
def waffo_negative(live):
    schema = negative("waffo", f"{live.url}/waffo")
    client = WaffoClient(base_url=live.url)
    tokens = []  # one session token (they live 5 minutes) for the whole run

    @schema.auth()
    class WaffoAuth:
        def get(self, case, ctx):
            if "order" not in case.path:
                return "sign-me"
            if not tokens:
                tokens.append(client.token())
            return tokens[0]

        def set(self, case, data, ctx):
            case.headers = case.headers or {}
            if data == "sign-me":
                case.headers.update({"X-Signature": "sign-me", "X-Merchant-Id": "x",
                                     "X-Timestamp": "x"})
            else:
                case.headers["Authorization"] = f"Bearer {data}"
                case.headers.setdefault("X-Environment", "test")

    schema.store_id = STORES["acme-digital"]["id"]
    return schema


@schemathesis.pytest.from_fixture("waffo_negative").parametrize()
@SETTINGS
def test_waffo_refuses_negative_data_without_a_5xx(case, live):
    case.call_and_validate(checks=CHECKS, session=_signed_session(live))


_SESSIONS: dict = {}


def _signed_session(live) -> requests.Session:
    if live.url not in _SESSIONS:
        session = requests.Session()
        session.auth = _Signer(urlsplit(f"{live.url}/waffo").path)
        _SESSIONS[live.url] = session
    return _SESSIONS[live.url]
