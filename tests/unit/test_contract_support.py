"""The contract kit is provider-agnostic: its subcommands are the registry's providers with a
ContractSupport, a provider registered in a test is offered with no change to the kit, and the
kit's source names no provider."""
import io
from pathlib import Path

import paymock
import pytest

from mock_server import cli
from mock_server.contract_kit import registry
from mock_server.contract_kit.webhook_receiver import Receiver
from mock_server.providers import registered
from mock_server.providers.base import register, unregister
from mock_server.providers.contract_support import (BearerCredentials, BearerTokenSupport,
                                                    ContractSupport, CredentialsError)
from tests.toy_provider import Toy

KIT = Path(registry.__file__).resolve().parent
PUBLIC_API = Path(paymock.__file__).resolve().parent


# All a provider whose API takes `Authorization: Bearer <token>` writes: tests/toy_provider's
# ToyContractSupport (a BearerTokenSupport naming TOY_API_KEY).


@pytest.fixture
def toy():
    provider = register(Toy())
    try:
        yield provider
    finally:
        unregister("toy")


def _subcommands(parser) -> dict:
    return parser._subparsers._group_actions[0].choices


def _contract_parser():
    return _subcommands(cli.build_parser())["contract"]


def _choices(parser, dest: str) -> list[str]:
    return list(next(a for a in parser._actions if a.dest == dest).choices)


def test_the_commands_providers_are_the_registrys():
    names = [p.name for p in registered() if p.contract_support is not None]
    assert names == [p.name for p in registered()]  # every built-in provider has contract support
    assert all(isinstance(p.contract_support, ContractSupport) for p in registered())
    contract = _contract_parser()
    assert _choices(contract, "contract_command") == [*names, "diff"]
    derived = [p.name for p in registered() if p.contract_support.derivation_module]
    assert _choices(_subcommands(contract)["diff"], "provider") == derived


def test_a_provider_registered_in_a_test_is_offered(toy):
    assert registry.find("toy") is toy
    contract = _contract_parser()
    assert _choices(contract, "contract_command")[-2:] == ["toy", "diff"]
    args = cli.build_parser().parse_args(["contract", "toy", "--api-key", "sk_toy", "--max-examples", "3"])
    assert (args.provider, args.credential_dests, args.api_key) == ("toy", ("api_key",), "sk_toy")
    # Its contract is written by hand: nothing to compare with a vendor spec.
    assert "toy" not in _choices(_subcommands(contract)["diff"], "provider")
    unregister("toy")
    with pytest.raises(registry.UnknownProvider, match="'toy'"):
        registry.find("toy")


def test_a_bearer_provider_gets_credentials_auth_and_safe_defaults(toy):
    support = toy.contract_support
    assert support.load_credentials({"api_key": "sk_flag"}, {"TOY_API_KEY": "sk_env"}, False) == \
        BearerCredentials("sk_flag", "--api-key")
    assert support.load_credentials({}, {"TOY_API_KEY": "sk_env"}, False).source == "TOY_API_KEY"
    assert support.load_credentials({}, {}, allow_fixture=True) == support.fixture_credentials()
    with pytest.raises(CredentialsError, match="pass --api-key or set TOY_API_KEY"):
        support.load_credentials({}, {}, allow_fixture=False)
    assert support.curl_variables() == {"authorization": "Bearer $TOY_API_KEY"}
    # Only reads are safe on a real account unless the provider lists more.
    assert support.is_safe("GET", "getThing") and not support.is_safe("POST", "createThing")
    assert support.mock_settings() == {} and support.derivation_module is None


def test_the_webhook_receiver_asks_every_provider(toy):
    receiver = Receiver.from_env({})
    assert [name for name, _, _ in receiver.verifiers] == [p.name for p in registered()]
    status, entry = Receiver.from_env({}, out=io.StringIO()).handle({}, b"{}")
    assert status == 401 and "no provider's signature headers" in entry["reason"]


def test_the_kit_and_the_public_api_name_no_provider():
    names = [p.name for p in registered()]
    for source in [*sorted(KIT.glob("*.py")), *sorted(PUBLIC_API.glob("*.py"))]:
        text = source.read_text().lower()
        assert not [name for name in names if name in text], source
