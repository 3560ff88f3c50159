"""Provider settings: each provider declares its own (`settings_model`), Settings composes them as
`<provider>_<field>` with every spelling a server setting has, and the provider reads them back
typed (`settings.for_provider`)."""
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from mock_server.app import create_app
from mock_server.config import SECRET, Settings, SettingsError
from mock_server.providers import registered
from mock_server.providers.base import register, unregister
from tests.toy_provider import Toy as ToyProvider


class ToySettings(BaseModel):
    colour: str = "blue"
    size: int = Field(3, ge=1)
    token: Annotated[str, SECRET] = ""


class Toy(ToyProvider):  # tests/toy_provider, with what this test adds
    settings_model = ToySettings

    def register(self, app, core, catalog):
        app.extensions["toy.settings"] = app.extensions["paymock.settings"].for_provider(self)


@pytest.fixture
def toy():
    provider = register(Toy())
    yield provider
    unregister(provider.name)


def test_the_built_in_providers_settings_are_settings_with_their_names():
    fields = Settings.composed().model_fields
    assert {"dodo_api_keys", "dodo_webhook_secret", "waffo_payment_failed_event",
            "waffo_lenient"} <= set(fields)
    dodo, waffo = registered()
    settings = Settings(dodo_api_keys="sk_a, sk_b", waffo_payment_failed_event="")
    assert settings.for_provider(dodo).accepted_keys() == {"sk_a", "sk_b"}
    assert settings.for_provider(waffo).payment_failed_event == ""


def test_a_registered_provider_gets_its_settings_in_every_spelling(toy, tmp_path):
    assert Settings(toy_colour="red").toy_colour == "red"
    assert Settings.load(env={"PAYMOCK_TOY_SIZE": "7"}).toy_size == 7
    (tmp_path / "paymock.toml").write_text("[paymock]\ntoy_colour = 'green'\n")
    settings = Settings.load(tmp_path / "paymock.toml", env={"PAYMOCK_TOY_SIZE": "5"})
    assert settings.for_provider(toy) == ToySettings(colour="green", size=5)
    assert settings.provider_fields["toy"] == ("toy_colour", "toy_size", "toy_token")


def test_a_provider_reads_its_own_settings_when_the_app_is_built(toy):
    app = create_app(Settings(toy_colour="red"))
    assert app.extensions["toy.settings"] == ToySettings(colour="red")


def test_a_bad_provider_setting_is_named_with_its_source_and_secrets_stay_hidden(toy):
    with pytest.raises(SettingsError) as refusal:
        Settings.load(env={"PAYMOCK_TOY_SIZE": "0"}, toy_token=42)
    assert refusal.value.problems == [
        "toy_size = '0' (from PAYMOCK_TOY_SIZE): must be at least 1",
        "toy_token = <hidden> (from Settings.load(toy_token=...)): must be a valid string"]
    with pytest.raises(SettingsError, match=r"no such setting \(did you mean toy_colour\?\)"):
        Settings(toy_color="red")


def test_an_unregistered_provider_takes_its_settings_with_it(toy):
    assert Settings(toy_colour="red")
    unregister("toy")
    with pytest.raises(SettingsError, match="toy_colour = 'red' .*no such setting"):
        Settings(toy_colour="red")


def test_a_provider_setting_may_not_shadow_another():
    class Clash(BaseModel):
        url: str = ""

    class Webhook(Toy):  # webhook_url is the server's
        name, mount, settings_model = "webhook", "/webhook", Clash

    register(Webhook())
    try:
        with pytest.raises(ValueError, match="webhook_url is a setting already"):
            Settings()
    finally:
        unregister("webhook")


def test_extra_sets_a_provider_setting_unless_the_setting_is_given(toy, tmp_path):
    (tmp_path / "paymock.toml").write_text("[paymock]\n[paymock.extra]\ntoy_size = 9\n")
    assert Settings.load(tmp_path / "paymock.toml", env={}).toy_size == 9
    assert Settings.load(tmp_path / "paymock.toml", env={"PAYMOCK_TOY_SIZE": "2"}).toy_size == 2
    with pytest.raises(SettingsError, match=r"toy_size = 0 \(from PAYMOCK_EXTRA\)"):
        Settings.load(env={"PAYMOCK_EXTRA": '{"toy_size": 0}'})


@pytest.mark.parametrize("env, lenient", [
    ({"PAYMOCK_WAFFO_LENIENT": "1"}, True),
    ({"PAYMOCK_WAFFO_LENIENT": ""}, False),  # set but empty: off, as before it was a setting
    ({"PAYMOCK_EXTRA": '{"waffo_lenient": true}'}, True),
    ({}, False),
])
def test_waffo_lenient_mode_is_a_waffo_setting(env, lenient):
    settings = Settings.load(env=env)
    assert settings.waffo_lenient is lenient
    merchants = create_app(settings).test_client().get("/_mock/waffo/merchants").json
    assert merchants["lenient"] is lenient
