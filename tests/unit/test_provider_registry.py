"""The provider registry: instances of one declared interface, found by name or by path."""
import pytest

from mock_server.app import create_app
from mock_server.providers import registered
from mock_server.providers.base import Provider, for_path, register, unregister


def test_the_built_in_providers_are_instances_of_the_interface():
    providers = registered()
    assert [(p.name, p.mount) for p in providers] == [("dodo", "/dodo"), ("waffo", "/waffo")]
    assert all(isinstance(p, Provider) for p in providers)
    assert for_path(providers, "/waffo/v1/actions/checkout/create-session").name == "waffo"
    assert for_path(providers, "/dodo").name == "dodo"
    assert for_path(providers, "/dodox/checkouts") is None and for_path(providers, "/_mock/faults") is None


def test_an_app_mounts_what_the_registry_holds_each_app_its_own_copy():
    first, second = create_app(), create_app()
    mounted = first.extensions["paymock.providers"]
    assert [type(p) for p in mounted] == [type(p) for p in registered()]
    # What register() keeps (handlers bound to this app's state, accepted keys) is per app.
    assert not set(map(id, mounted)) & set(map(id, second.extensions["paymock.providers"]))
    assert not set(map(id, mounted)) & set(map(id, registered()))


def test_a_second_provider_with_a_taken_name_is_refused():
    class Impostor(Provider):
        name, mount = "dodo", "/elsewhere"

        def register(self, app, core, catalog):
            pass

        def handlers(self):
            return {}

        def authenticate(self, request):
            pass

        def render_error(self, status, code, message, headers=None):
            pass

    with pytest.raises(ValueError, match="'dodo' is registered already"):
        register(Impostor())

    class Extra(Impostor):
        name = "extra"

    extra = register(Extra())
    try:
        assert registered()[-1] is extra
    finally:
        unregister("extra")
    assert [p.name for p in registered()] == ["dodo", "waffo"]
