"""The hosted billing forms offer the countries the providers list (Provider.billing_countries),
not one provider's list by name."""
import json

from mock_server.app import create_app
from mock_server.core.contracts import document_file
from mock_server.hosted.pages import countries
from mock_server.providers.base import register, unregister
from tests.toy_provider import Toy as ToyProvider


class Toy(ToyProvider):  # tests/toy_provider, with what this test adds
    def billing_countries(self, core):
        return ("XA", "US")


def test_the_forms_offer_the_countries_of_the_built_in_providers():
    schemas = json.loads(document_file("dodo").read_text())["components"]["schemas"]
    with create_app().test_request_context():
        assert countries() == sorted(schemas["CountryCodeAlpha2"]["enum"])


def test_a_providers_countries_join_the_list():
    register(Toy())
    try:
        app = create_app()
    finally:
        unregister("toy")
    with app.test_request_context():
        offered = countries()
    assert "XA" in offered and offered.count("US") == 1 and offered == sorted(offered)
