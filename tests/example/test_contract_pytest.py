"""A merchant's contract tests, the pytest route: Schemathesis' pytest integration runs the
contracts against the server the paymock pytest plugin starts (`paymock_server`). The README shows
this file verbatim; it runs in our CI."""
import paymock
import pytest
import schemathesis

DODO_KEY = "sk_test_my_ci_key"  # the plugin's server takes any key (each key is its own namespace)


def load(provider: str, paymock_server, config: dict):
    schema = schemathesis.openapi.from_dict(
        paymock.contract(provider), config=schemathesis.Config.from_dict(config))
    schema.config.update(base_url=f"{paymock_server.url}/{provider}")
    return schema


@pytest.fixture(scope="session")
def dodo_contract(paymock_server):
    return load("dodo", paymock_server, {
        "auth": {"openapi": {"API_KEY": {"bearer": DODO_KEY}}},
        "generation": {"max-examples": 10},
        "checks": {
            # Schema-valid data can still break a business rule (an unknown product): a 422.
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "422"]},
            # Any key is accepted here, so "a made-up key is refused" cannot hold.
            "ignored_auth": {"enabled": False},
        },
    })


@pytest.fixture(scope="session")
def waffo_contract(paymock_server):
    schema = load("waffo", paymock_server, {"generation": {"max-examples": 10}, "checks": {
        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404"]}}})
    # Signs every API-key request as @waffo/pancake-ts does (TEST-ONLY fixture merchant).
    paymock.install_waffo_auth(schema, paymock.fixture_waffo(), f"{paymock_server.url}/waffo")
    return schema


dodo = schemathesis.pytest.from_fixture("dodo_contract")
waffo = schemathesis.pytest.from_fixture("waffo_contract")


@dodo.parametrize()
def test_dodo_answers_hold_the_contract(case):
    case.call_and_validate()


@waffo.include(operation_id="issueSessionToken").parametrize()
def test_waffo_session_tokens_hold_the_contract(case):
    case.call_and_validate()
