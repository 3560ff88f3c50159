"""The per-test handle (`paymock` fixture, testing.Paymock): one handle per registered provider,
each provider minting what its tests need, and defaults chosen without naming a provider."""
from dataclasses import FrozenInstanceError

import pytest
import requests

from mock_server.core.http import credential_namespace
from mock_server.providers.base import register, unregister
from tests.toy_provider import Toy as ToyProvider
from mock_server.providers.handles import ProviderHandle
from mock_server.testing import Paymock, PaymockServer

EBOOK = "pdt_uGej5ygB4DvTZFDmnvmUM"


Toy = ToyProvider  # tests/toy_provider


def test_each_provider_gives_the_test_its_handle(paymock):
    assert set(paymock.providers) == {"dodo", "waffo"}
    assert paymock.provider("dodo") is paymock.dodo
    assert paymock.dodo.base_url == f"{paymock.url}/dodo"
    assert paymock.dodo.credential.startswith("sk_test_")
    assert paymock.dodo.namespace == credential_namespace("dodo", paymock.dodo.credential)
    # Waffo's handle is a merchant of the test's own, made on first use (not by this look).
    assert paymock.waffo.base_url == f"{paymock.url}/waffo" and not paymock.waffo.minted
    with pytest.raises(FrozenInstanceError):
        paymock.dodo.credential = "sk_test_shared"


def test_two_tests_never_share_a_credential(paymock_server):
    first, second = Paymock(paymock_server), Paymock(paymock_server)
    assert first.dodo.credential != second.dodo.credential
    assert first.namespace != second.namespace


def test_the_helpers_default_to_the_first_providers_namespace_for_the_test(paymock):
    assert paymock.namespace == paymock.dodo.namespace
    response = requests.post(f"{paymock.dodo.base_url}/checkouts", timeout=10,
                             headers={"Authorization": f"Bearer {paymock.dodo.credential}"},
                             json={"product_cart": [{"product_id": EBOOK, "quantity": 1}]})
    assert response.status_code == 200
    assert [entry["path"] for entry in paymock.journal()] == ["/dodo/checkouts"]
    assert list(paymock.state()["namespaces"]) == [paymock.namespace]


def test_cleanup_forgets_the_tests_namespaces(paymock_server):
    handle = Paymock(paymock_server)
    requests.post(f"{handle.dodo.base_url}/checkouts", timeout=10,
                  headers={"Authorization": f"Bearer {handle.dodo.credential}"},
                  json={"product_cart": [{"product_id": EBOOK, "quantity": 1}]})
    assert handle.journal()
    handle.cleanup()
    assert handle.journal() == []


def test_a_registered_provider_brings_its_handle_and_an_unknown_name_says_what_there_is():
    server = PaymockServer("http://127.0.0.1:1")  # nothing is asked of the server here
    register(Toy())
    try:
        handle = Paymock(server, namespace="toy:mine")
    finally:
        unregister("toy")
    assert handle.toy == ProviderHandle("toy", "http://127.0.0.1:1/toy")
    assert handle.namespace == "toy:mine"
    with pytest.raises(AttributeError, match=r"nor a provider: \['dodo', 'toy', 'waffo'\]"):
        handle.stripe
    with pytest.raises(KeyError, match="no provider 'stripe'"):
        handle.provider("stripe")
