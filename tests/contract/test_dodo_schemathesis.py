"""Schemathesis (4.x) against a live mock: our Dodo contract with every default check, and the
vendor's own spec for the /checkouts operations, so that no response breaks the vendor's schema.

Schema-valid data can still break a business rule (the product must exist, confirm=true needs an
address): such requests get 422, as on the real API, so 422 is an accepted answer to positive data
for the operations that apply rules. A hook swaps generated product ids for fixture products so
that most generated carts are real and their 200 answers get checked too.
"""
from __future__ import annotations

import random

import paymock
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from schemathesis.specs.openapi.checks import status_code_conformance

from mock_server.control import Client
from mock_server.core.contracts import document_file
from mock_server.core.urls import url_problem
from mock_server import fixtures
from tests.conftest import FUZZ_API_KEY

PRODUCT_IDS = [p["product_id"] for p in fixtures.load()["dodo"]["products"]]
ACCEPTED = ["2xx", "401", "403", "404", "409", "422", "429"]
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def use_fixture_products(case) -> None:
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("product_cart"), list):
        rng = random.Random(len(body["product_cart"]))
        for item in body["product_cart"]:
            if isinstance(item, dict) and isinstance(item.get("product_id"), str):
                item["product_id"] = rng.choice(PRODUCT_IDS)


def use_local_webhook_urls(case) -> None:
    """A webhook Schemathesis registers gets a local URL nothing listens on (refused at once):
    the session's later events must not be sent to generated hosts, which could hold the
    outbox's senders for their whole timeout. Invalid URLs are left for the 422 path."""
    body = case.body
    if case.path.startswith("/webhooks") and isinstance(body, dict) \
            and isinstance(body.get("url"), str) and url_problem(body["url"]) is None:
        body["url"] = "http://127.0.0.1:9/schemathesis"


def load(path, base_url: str):
    config = schemathesis.Config.from_dict({
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
    })
    schema = schemathesis.openapi.from_path(path, config=config)
    schema.config.update(base_url=base_url)
    # Credentials through Schemathesis' own auth (the contract kit's, OpenAPI-aware bearer), so
    # its auth checks know what was sent.
    paymock.contract_auth("dodo", schema, base_url, paymock.contract_credentials("dodo", api_key=FUZZ_API_KEY))
    return schema


@pytest.fixture(scope="module")
def dodo_contract(live_server):
    yield load(document_file("dodo"), f"{live_server.url}/dodo")
    # The endpoints it made point at a refused local URL: their deliveries would retry all session.
    Client(live_server.url).webhooks.delete_endpoints(Client.namespace_for("dodo", FUZZ_API_KEY))


contract = schemathesis.pytest.from_fixture("dodo_contract")


@contract.parametrize()
@SETTINGS
def test_dodo_contract_holds(case):
    use_fixture_products(case)
    use_local_webhook_urls(case)
    case.call_and_validate()


@pytest.fixture(scope="module")
def vendor_checkouts(live_server, vendor_spec):
    from tests.conftest import VENDOR_SPEC  # the fixture above already checked it exists
    import os
    schema = load(os.environ.get("PAYMOCK_VENDOR_SPEC", VENDOR_SPEC), f"{live_server.url}/dodo")
    return schema


# The checkout-session operations; the vendor's CORS preflight (OPTIONS) entries are not API.
vendor = schemathesis.pytest.from_fixture("vendor_checkouts").include(
    path_regex=r"^/checkouts", method=["GET", "POST"])


def vendor_status_conformance(ctx, response, case):
    """The vendor declares no 401 anywhere, yet its API answers 401 to a missing or unknown key;
    every other status must be one the vendor documents."""
    if case.method.upper() != case.operation.method.upper():
        return None  # an undeclared-method probe, judged by Schemathesis' own method checks
    documented = set(case.operation.definition.raw["responses"])
    sent = response.request.headers.get("Authorization")
    if str(response.status_code) in documented:
        return None
    if response.status_code == 401 and sent != f"Bearer {FUZZ_API_KEY}":
        return None
    raise AssertionError(f"status {response.status_code} is not documented by the vendor for "
                         f"{case.operation.label} (documented: {sorted(documented)})")


@vendor.parametrize()
@SETTINGS
def test_vendor_spec_finds_no_response_breaking_its_schema(case):
    use_fixture_products(case)
    case.call_and_validate(excluded_checks=[status_code_conformance],
                           additional_checks=[vendor_status_conformance])
