"""What receivers verify webhooks with (a shared secret, a public key) comes from each provider's
webhook channel: the control API serves it for whichever provider has it, naming none itself."""
from __future__ import annotations

import pytest

from mock_server.app import create_app
from mock_server.control.client import ControlAPIError
from mock_server.core.webhook_endpoints import Channel, SigningSecret


class ToySecret(SigningSecret):
    form = "toy_ followed by letters"

    def check(self, value: str) -> None:
        if not value.startswith("toy_") or not value[4:].isalpha():
            raise ValueError("not a toy secret")


@pytest.fixture
def control():
    return create_app().test_client()


def test_the_public_key_and_the_secret_are_the_only_providers_that_has_one(mock, live):
    assert mock.webhooks.public_key() == mock.webhooks.public_key("waffo")
    assert mock.webhooks.public_key().startswith("-----BEGIN PUBLIC KEY-----")
    assert mock.webhooks.secret() == mock.webhooks.secret("dodo")
    with pytest.raises(ControlAPIError, match="dodo webhooks have no public key"):
        mock.webhooks.public_key("dodo")
    with pytest.raises(ControlAPIError, match="waffo webhooks have no shared signing secret"):
        mock.webhooks.set_secret("whsec_c2VjcmV0", provider="waffo")


def test_answers_say_whose_secret_it_is(control):
    assert control.get("/_mock/webhooks/secret").json["provider"] == "dodo"
    refused = control.get("/_mock/webhooks/public-key?provider=stripe")
    assert refused.status_code == 400 and "provider must be one of" in refused.json["error"]


def test_an_endpoint_secret_is_refused_for_webhooks_signed_without_one(control):
    refused = control.post("/_mock/webhooks/endpoints", json={
        "url": "http://127.0.0.1:1/x", "provider": "waffo", "secret": "whsec_c2VjcmV0"})
    assert refused.status_code == 400
    assert refused.json["error"] == "waffo webhooks are not signed with a shared secret: leave secret out"


def test_a_second_provider_with_a_secret_is_served_and_checked_by_its_own_rules(control):
    outbox = control.application.extensions["paymock.webhooks"]
    outbox.channels["toy"] = Channel("toy", (0,), lambda payload, _id: "", lambda *_: {},
                                     secret=ToySecret("toy_abc"))
    ambiguous = control.get("/_mock/webhooks/secret")
    assert ambiguous.status_code == 400
    assert ambiguous.json["error"] == ("name the provider (provider=...): webhooks with a shared "
                                       "signing secret: ['dodo', 'toy']")
    assert control.get("/_mock/webhooks/secret?provider=toy").json == {"secret": "toy_abc",
                                                                       "provider": "toy"}
    bad = control.post("/_mock/webhooks/secret", json={"provider": "toy", "secret": "whsec_c2VjcmV0"})
    assert bad.status_code == 400 and bad.json["error"].startswith("secret must be toy_ followed by")
    assert control.post("/_mock/webhooks/secret",
                        json={"provider": "toy", "secret": "toy_xyz"}).status_code == 200
    assert outbox.channels["toy"].secret.value == "toy_xyz"
    # An endpoint for every provider gets one secret for all: it must suit each that uses one.
    endpoint = control.post("/_mock/webhooks/endpoints", json={"url": "http://127.0.0.1:1/x",
                                                               "secret": "toy_abc"})
    assert endpoint.status_code == 400 and "whsec_ followed by base64" in endpoint.json["error"]
    own = control.post("/_mock/webhooks/endpoints", json={"url": "http://127.0.0.1:1/x",
                                                          "provider": "toy", "secret": "toy_abc"})
    assert own.status_code == 201 and own.json["has_secret"]
