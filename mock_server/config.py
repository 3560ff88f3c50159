"""Settings: one typed model fed, from lowest to highest precedence, by its defaults, the [paymock]
table of a TOML config file, PAYMOCK_* environment variables and command-line flags. A value of
the wrong type or out of range, or an unknown key, stops the start with a SettingsError that names
the setting, where it came from and what it accepts (README.md, Configuration, lists them all).

The model is composed: the server's own settings below, plus each registered provider's
(`Provider.settings_model`): field `api_keys` of a provider named `acme` is the setting
`acme_api_keys` (PAYMOCK_ACME_API_KEYS, `acme_api_keys = ...` in the file). A provider reads its
own back as a typed model with `settings.for_provider(provider)`."""
from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Mapping
from copy import copy
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, Field, ValidationError,
                      ValidationInfo, WrapValidator, create_model, field_validator,
                      model_validator)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

# SECRET marks a setting never echoed; the providers' settings models use it too.
from .providers.base import SECRET

ENV_PREFIX = "PAYMOCK_"
TOML_TABLE = "paymock"


def _not_a_boolean(value: Any) -> Any:
    # pydantic reads true as 1 in a number field: `port = true` in a file is a mistake, not port 1.
    if isinstance(value, bool):
        raise PydanticCustomError("number_not_boolean", "must be a number, not true or false")
    return value


def _known_server(value: Any, handler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "unknown_server", "unknown server {server}: use granian (the default: Rust HTTP, one "
            "event-loop thread) or waitress (pure Python, a pool of threads)",
            {"server": repr(value)}) from None



def _webhook_url(value: str) -> str:
    # Checked at start like any setting: a URL the sender cannot use would only fail every
    # delivery later (core/urls.py says what is wrong).
    from .core.urls import url_problem

    problem = url_problem(value) if value else None
    if problem is not None:
        raise PydanticCustomError("webhook_url", "{problem} (give an http or https URL such as "
                                  "http://127.0.0.1:9000/webhooks)", {"problem": problem})
    return value


Integer = Annotated[int, BeforeValidator(_not_a_boolean)]
Number = Annotated[float, BeforeValidator(_not_a_boolean)]
Server = Annotated[Literal["waitress", "granian"], WrapValidator(_known_server)]


class Settings(BaseSettings):
    # Strings are parsed (an environment variable is always one: "8787" is port 8787), nothing is
    # rounded (threads = 2.5 is refused, not made 2), and keys are matched exactly, as TOML does.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", case_sensitive=True,
                                      allow_inf_nan=False)

    host: str = "127.0.0.1"
    port: Integer = Field(8787, ge=0, le=65535)  # 0 picks a free port
    public_url: str | None = None  # defaults to http://{host}:{port}
    # A catalog JSON of the user's; None serves the packaged one (mock_server/resources.py).
    fixtures: Path | None = None
    # granian: Rust HTTP and one event-loop thread for the app, the fastest, fair to every
    # client (granian_server.py); waitress: pure Python, a pool of threads (server.py). Both
    # inject every fault and hold every limit below.
    server: Server = "granian"
    # Threads running the app on waitress (default 16); granian runs it on its one loop thread.
    threads: Integer | None = Field(None, ge=1)
    # Requests /_mock/journal keeps per namespace.
    journal_size: Integer = Field(200, ge=1)
    # How long an expired object stays readable as "expired" before it is evicted.
    expired_retention_seconds: Number = Field(3600.0, ge=0)
    # Namespaces kept at most (one per credential); past it the least recently used tenth is
    # evicted, as if reset (POST /_mock/reset): a shared server sees a new key per test run.
    max_namespaces: Integer = Field(10000, ge=1)
    # strict: answer exactly as the real API would, with no test conveniences (later issues
    # hang fault headers and lenient credentials on it).
    strict: bool = False
    # The X-Paymock-Fault header (a one-off fault per request); off also with strict.
    fault_header: bool = True
    # --state-file: state saved there on shutdown and every state_interval seconds (0: only on
    # shutdown), restored at start.
    state_file: Path | None = None
    state_interval: Number = Field(30.0, ge=0)
    # Required for /_mock/* (Authorization: Bearer or X-Paymock-Control-Token) when set; needed
    # to bind anything but a loopback address.
    control_token: Annotated[str, SECRET] = ""
    # Larger request bodies are refused with 413 in the provider's envelope.
    max_body_bytes: Integer = Field(1024 * 1024, ge=1)
    # A request head (request line and headers) larger than this is refused with 431 by the
    # server (granian needs at least 8 KiB).
    max_header_bytes: Integer = Field(64 * 1024, ge=8192)
    # Seconds a client has to send its request head, and then its body: a slower one gets 408
    # (body) or is disconnected (head), so that no client holds on to the server's resources.
    read_timeout_seconds: Number = Field(30.0, gt=0)
    # Webhooks: an endpoint every namespace delivers to (also `paymock serve --webhook-url`) and
    # the per-attempt timeout.
    webhook_url: Annotated[str, AfterValidator(_webhook_url)] = ""
    webhook_timeout_seconds: Number = Field(15.0, gt=0)
    # What `paymock serve` says on stderr (server_logs.py): a line per request, webhook attempts,
    # fault firings, clock moves at info; warning keeps failures only.
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # text for people, json (one object per line) for log collectors.
    log_format: Literal["text", "json"] = "text"
    # Provider options ([paymock.extra] in the file, a JSON object in PAYMOCK_EXTRA). A key that
    # names a provider's setting (`<provider>_<field>`) sets it, unless the setting itself is given:
    # that spelling predates the providers' own settings.
    extra: dict[str, Any] = Field(default_factory=dict)

    # The composed model's provider settings: provider name -> its `<name>_<field>` names.
    provider_fields: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def __new__(cls, *_args: Any, **_values: Any) -> Settings:
        # Settings(...) is an instance of the model for the providers registered *now*: one
        # registered after this module was imported (a plugin's, a test's toy one) has its
        # settings too.
        return super().__new__(cls.composed())

    def __init__(self, *, _origins: Mapping[str, str] | None = None, **values: Any) -> None:
        # Settings(...) itself reads no file and no environment: tests and embedders get exactly
        # what they pass (settings_customise_sources below); Settings.load reads them.
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError.from_validation(exc, _origins or {}, type(self)) from None

    @classmethod
    def composed(cls) -> type[Settings]:
        """The model for the registered providers: the fields above plus each provider's own."""
        if cls is not Settings:  # composed already
            return cls
        from .providers import registered  # not at import: a provider may import this module

        return _compose(tuple((provider.name, provider.settings_model) for provider in registered()
                              if provider.settings_model is not None))

    def for_provider(self, provider) -> BaseModel | None:
        """`provider`'s own settings, an instance of its `settings_model` (None: it declares
        none). A provider registered after these settings were made gets its defaults."""
        model = provider.settings_model
        if model is None:
            return None
        prefix = f"{provider.name}_"
        return model.model_validate({name.removeprefix(prefix): getattr(self, name)
                                     for name in self.provider_fields.get(provider.name, ())})

    @field_validator("threads")
    @classmethod
    def _threads_are_waitress_only(cls, value: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("server") == "granian" and value not in (None, 1):
            raise PydanticCustomError(
                "threads_on_granian", "threads sets waitress' thread pool; granian (the default "
                "server) runs the app on one event-loop thread, which no request ever blocks "
                "(slow clients and injected waits are awaited, not slept): leave it out, or "
                "choose server = waitress (--server waitress)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _provider_settings_from_extra(cls, values: Any) -> Any:
        extra = values.get("extra") if isinstance(values, dict) else None
        if not isinstance(extra, dict):
            return values
        named = {name for names in cls.provider_fields.values() for name in names}
        return {**{name: extra[name] for name in named & extra.keys()}, **values}

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_unused):
        return (init_settings,)

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def load(cls, config_file: str | Path | None = None, env: Mapping[str, str] | None = None, *,
             flags: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Overrides (None: not given) beat `env` (default os.environ), which beats the [paymock]
        table of `config_file` (default $PAYMOCK_CONFIG). `flags` names the command-line flag
        each override came from, for the error message."""
        env = os.environ if env is None else env
        config_file = config_file or env.get("PAYMOCK_CONFIG")
        layers = []  # lowest precedence first: (values, where a value of that name came from)
        if config_file:
            layers.append((_config_table(config_file),
                           lambda name: f"{config_file} [{TOML_TABLE}] {name}"))
        # The composed model's fields: the providers' settings have variables too.
        layers.append((_Environment(cls.composed(), env)(),
                       lambda name: f"{ENV_PREFIX}{name.upper()}"))
        layers.append(({name: value for name, value in overrides.items() if value is not None},
                       lambda name: (flags or {}).get(name) or f"Settings.load({name}=...)"))
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for layer, origin in layers:
            values.update(layer)
            origins.update({name: origin(name) for name in layer})
        return cls(_origins=origins, **values)


@functools.lru_cache(maxsize=8)
def _compose(declared: tuple[tuple[str, type[BaseModel]], ...]) -> type[Settings]:
    """Settings plus `<provider>_<field>` for each field of each (provider, settings model)."""
    fields: dict[str, Any] = {}
    by_provider = {}
    for provider, model in declared:
        for field, info in model.model_fields.items():
            name = f"{provider}_{field}"
            if name in Settings.model_fields or name in fields:
                raise ValueError(f"provider {provider!r} declares the setting {field!r}, but "
                                 f"{name} is a setting already")
            # A copy: the provider's model keeps its own FieldInfo, whatever pydantic does with
            # this one; constraints and markers (SECRET) travel in it.
            fields[name] = (info.annotation, copy(info))
        by_provider[provider] = tuple(f"{provider}_{field}" for field in model.model_fields)
    composed = create_model("Settings", __base__=Settings, __module__=__name__, **fields)
    composed.provider_fields = by_provider
    return composed


class SettingsError(ValueError):
    """Settings refused: a line per bad setting, `name = value (from where): what it accepts`."""

    # Allowed values said plainly; other errors keep pydantic's text ("Input should be ...").
    RULES = {
        "greater_than_equal": "must be at least {ge}",
        "greater_than": "must be more than {gt}",
        "less_than_equal": "must be at most {le}",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "int_type": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "path_type": "must be a path (a string)",
        "dict_type": "must be a table ([paymock.extra] in a file, a JSON object in PAYMOCK_EXTRA)",
        "extra_forbidden": "no such setting",
    }
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n  ".join(problems))

    @classmethod
    def from_validation(cls, exc: ValidationError, origins: Mapping[str, str],
                        model: type[Settings]) -> SettingsError:
        return cls([cls._problem(error, origins, model) for error in exc.errors()])

    @classmethod
    def _problem(cls, error, origins: Mapping[str, str], model: type[Settings]) -> str:
        name = str(error["loc"][0]) if error["loc"] else "settings"
        # A provider setting no layer named came from `extra` (Settings._provider_settings_from_extra).
        origin = origins.get(name) or origins.get("extra") or f"Settings({name}=...)"
        field = model.model_fields.get(name)
        # Never echoed: no key or secret goes to the log (README.md, Security).
        value = "<hidden>" if field and SECRET in field.metadata else _shown(error["input"])
        rule = cls.RULES.get(error["type"])
        if rule is None:
            rule = error["msg"].replace("Input should be", "must be", 1)
        else:
            rule = rule.format(**error.get("ctx", {}))
        if error["type"] == "extra_forbidden":
            import difflib  # 8 ms at import: only a refusal pays it

            close = difflib.get_close_matches(name, model.model_fields, n=1)
            rule += f" (did you mean {close[0]}?)" if close else ""
        return f"{name} = {value} (from {origin}): {rule}"


def _shown(value: Any) -> str:
    shown = repr(str(value) if isinstance(value, Path) else value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _config_table(path: str | Path) -> dict[str, Any]:
    # Not pydantic-settings' TomlConfigSettingsSource: it reads a missing file as an empty one and
    # a missing table as a KeyError; here both stop the start with the file's name.
    with open(path, "rb") as fh:  # OSError: cannot start, as before
        try:
            doc = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError([f"{path}: not valid TOML: {exc}"]) from None
    table = doc.get(TOML_TABLE)
    if not isinstance(table, dict):
        raise SettingsError([f"{path}: no [{TOML_TABLE}] table (settings go under it)"])
    return table


class _Environment(EnvSettingsSource):
    """PAYMOCK_* variables of a given mapping (Settings.load(env=...)) instead of os.environ.

    Variables that name no setting (PAYMOCK_CONFIG, PAYMOCK_URL, ...) are not read, so not
    refused. A value the source cannot parse (PAYMOCK_EXTRA that is not JSON) is
    left to the model, whose error names the variable; the stock source's names only the field."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=False)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._environ.items()
                if name.startswith(ENV_PREFIX)}

    def prepare_field_value(self, field_name, field, value, value_is_complex):
        try:
            return super().prepare_field_value(field_name, field, value, value_is_complex)
        except ValueError:
            return value
