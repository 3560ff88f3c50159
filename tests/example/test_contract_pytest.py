"""A merchant's contract tests, the pytest route: Schemathesis' pytest integration runs the
contracts against the server the paymock pytest plugin starts (`paymock_server`). The README shows
this file verbatim; it runs in our CI."""
import paymock
import pytest
import schemathesis


def load(provider: str, paymock_server, config: dict):
    base_url = f"{paymock_server.url}/{provider}"
    schema = schemathesis.openapi.from_dict(
        paymock.contract(provider), config=schemathesis.Config.from_dict(config))
    schema.config.update(base_url=base_url)
    # The provider's credentials as its API expects them (a bearer key; requests signed as the
    # SDK signs them), here the TEST-ONLY fixture ones: what `paymock contract` sends.
    paymock.contract_auth(provider, schema, base_url)
    return schema


@pytest.fixture(scope="session")
def dodo_contract(paymock_server):
    return load("dodo", paymock_server, {
        # Valid data only: invalid data (malformed headers among it) is another suite's job.
        "generation": {"max-examples": 10, "mode": "positive"},
        "checks": {
            # Schema-valid data can still break a business rule (an unknown product): a 422.
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "422"]},
            # The plugin's server takes any key (each its own namespace), so "a made-up key is
            # refused" cannot hold.
            "ignored_auth": {"enabled": False},
        },
    })


@pytest.fixture(scope="session")
def waffo_contract(paymock_server):
    return load("waffo", paymock_server, {"generation": {"max-examples": 10}, "checks": {
        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404"]}}})


dodo = schemathesis.pytest.from_fixture("dodo_contract")
waffo = schemathesis.pytest.from_fixture("waffo_contract")


@dodo.parametrize()
def test_dodo_answers_hold_the_contract(case):
    case.call_and_validate()


@waffo.include(operation_id="issueSessionToken").parametrize()
def test_waffo_session_tokens_hold_the_contract(case):
    case.call_and_validate()
