"""paymock's public Python API: the control client and the test helpers.

    import paymock

    control = paymock.Client("http://127.0.0.1:8787")     # a running `paymock serve`
    control.clock.advance(hours=25)

    server = paymock.start_server()                       # or one in this process
    handle = paymock.Paymock(server)                      # what the pytest fixture `paymock` is

For contract tests: `paymock.contract("dodo")` is the OpenAPI document, and
`paymock.install_waffo_auth(schema, paymock.fixture_waffo(), base_url)` signs Schemathesis' Waffo
requests as the SDK does. The pytest plugin (fixtures `paymock` and `paymock_server`) is
registered when paymock is installed. The implementation lives in `mock_server`, whose modules may change between releases;
what is imported from here does not change without a note in CHANGELOG.md.
"""
import json as _json

from mock_server import __version__
from mock_server.providers.waffo.contract_auth import install_waffo_auth
from mock_server.providers.waffo.contract_support import fixture_waffo
from mock_server.control.client import Client, ControlAPIError
from mock_server.core.contracts import document_file as _document_file
from mock_server.testing import Paymock, PaymockServer, start_server


def contract(provider: str) -> dict:
    """The OpenAPI 3.1 document paymock serves `provider` ("dodo", "waffo") by, for
    `schemathesis.openapi.from_dict` or any other OpenAPI tool."""
    source = _document_file(provider)
    if not source.is_file():
        raise ValueError(f"no contract for {provider!r}: paymock ships dodo and waffo")
    return _json.loads(source.read_text(encoding="utf-8"))


__all__ = ["Client", "ControlAPIError", "Paymock", "PaymockServer", "contract", "fixture_waffo",
           "install_waffo_auth", "start_server", "__version__"]
