"""paymock's public Python API: the control client and the test helpers.

    import paymock

    control = paymock.Client("http://127.0.0.1:8787")     # a running `paymock serve`
    control.clock.advance(hours=25)

    server = paymock.start_server()                       # or one in this process
    handle = paymock.Paymock(server)                      # what the pytest fixture `paymock` is

For contract tests, per provider (any that `paymock contract --help` lists):
`paymock.contract(name)` is the OpenAPI document, and `paymock.contract_auth(name, schema,
base_url)` makes a Schemathesis schema's requests carry that provider's credentials the way its
API expects (a bearer key, or requests signed as the provider's SDK signs them), with the
TEST-ONLY fixture credentials a mock accepts unless `credentials` are given
(`paymock.contract_credentials(name, ...)` reads real ones as `paymock contract <name>` does). The pytest plugin (fixtures `paymock` and `paymock_server`) is
registered when paymock is installed. The implementation lives in `mock_server`, whose modules may
change between releases; what is imported from here does not change without a note in
CHANGELOG.md.
"""
import json as _json
import os as _os

from mock_server import __version__
from mock_server.control.client import Client, ControlAPIError
from mock_server.core.contracts import document_file as _document_file
from mock_server.testing import Paymock, PaymockServer, start_server


def contract(provider: str) -> dict:
    """The OpenAPI 3.1 document paymock serves `provider` by, for
    `schemathesis.openapi.from_dict` or any other OpenAPI tool."""
    source = _document_file(provider)
    if not source.is_file():
        from mock_server.providers import registered
        names = ", ".join(p.name for p in registered())
        raise ValueError(f"no contract for {provider!r}: paymock ships {names}")
    return _json.loads(source.read_text(encoding="utf-8"))


def _support(provider: str):
    from mock_server.providers import registered
    for candidate in registered():
        if candidate.name == provider and candidate.contract_support is not None:
            return candidate.contract_support
    offered = [p.name for p in registered() if p.contract_support is not None]
    raise ValueError(f"no contract support for {provider!r}: paymock has it for {', '.join(offered)}")


def contract_credentials(provider: str, env=None, **options):
    """`provider`'s credentials read as `paymock contract <provider>` reads them: from `options`
    (its flags without dashes, e.g. `api_key=...`), else the environment (`env`, default
    os.environ). Raises ValueError saying what to set when they are missing."""
    return _support(provider).load_credentials(options, _os.environ if env is None else env,
                                               allow_fixture=False)


def contract_auth(provider: str, schema, base_url: str, credentials=None):
    """Install `provider`'s authentication on the Schemathesis `schema`, whose requests go to
    `base_url` (the provider's mount, e.g. f"{server.url}/{provider}"): what `paymock contract`
    does. `credentials`: from `contract_credentials`; None: the TEST-ONLY fixture credentials,
    which a paymock server accepts. Returns what the provider's auth keeps (e.g. a token issuer),
    or None."""
    from mock_server.providers.contract_support import RunContext

    support = _support(provider)
    creds = credentials if credentials is not None else support.fixture_credentials()
    return support.install_auth(schema, creds, RunContext(base_url))


__all__ = ["Client", "ControlAPIError", "Paymock", "PaymockServer", "contract", "contract_auth",
           "contract_credentials", "start_server", "__version__"]
