"""What the contract kit (`paymock contract`, mock_server/contract_kit/) asks of a provider.

A provider offers `paymock contract <name>` by setting `Provider.contract_support` to an instance of
a `ContractSupport` subclass. The kit finds it through the registry
(`mock_server.providers.registered()`) and names no provider itself: the command's subcommands,
their credential flags, how requests are authenticated, which operations are safe on a real
account, the webhook receiver's verification and `contract diff` all come from here.

The least a provider writes is how credentials are loaded (with TEST-ONLY ones that a mock
accepts) and how a request carries them. `BearerTokenSupport` does both for an API that takes
`Authorization: Bearer <token>`; its subclass only names the environment variable. Everything
else has a default: only reads (GET, HEAD, OPTIONS) are safe on a real account, no hooks map
generated ids onto real objects, no webhook verification, no vendor spec to compare with.

This module imports nothing heavy: a provider package imports it when it registers, which every
`paymock serve` does. Schemathesis and requests are imported by the methods that use them.
"""
from __future__ import annotations

import abc
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

READS = ("GET", "HEAD", "OPTIONS")


class CredentialsError(ValueError):
    """Credentials are missing, unreadable or refused by the target; the message says which flag
    or variable to set (the kit exits 2 without running anything)."""


class WebhookRejected(Exception):
    """A received webhook does not verify; the message says why (the receiver answers 401)."""


@dataclass(frozen=True)
class CredentialOption:
    """One credential flag of `paymock contract <provider>`, e.g. `--api-key`. Its value reaches
    `load_credentials` under `dest` (the flag without dashes, `-` as `_`); None when not given."""

    flag: str
    help: str
    metavar: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


class Credentials(abc.ABC):
    """A provider's credentials for one run. `source` says where they came from (flag, variable,
    TEST-ONLY fixture) and is printed in the report, so it never holds a secret itself."""

    source: str

    @abc.abstractmethod
    def secrets(self) -> list[str]:
        """Every secret in these credentials, for the run's Redactor to scrub from all output."""


@dataclass
class BearerCredentials(Credentials):
    """One token sent as `Authorization: Bearer <token>`."""

    token: str = field(repr=False)
    source: str

    def secrets(self) -> list[str]:
        return [self.token]


class KnownDivergence(NamedTuple):
    """A disagreement between the contract and paymock that is known and explained: reported as
    "known" (printed, in the JUnit XML as skipped), not counted as a failure, and only against
    paymock (on a real API it is a finding)."""

    operations: set[str]   # operationIds it applies to
    check: str             # the Schemathesis check that reports it
    text: str              # text in the failure message
    why: str               # printed with it


@dataclass
class RunContext:
    """One run of the kit against one target, as the provider's code sees it."""

    base_url: str                   # the provider's base URL, e.g. http://127.0.0.1:8787/<mount>
    is_mock: bool = True            # paymock answers: writes and negative data are fine
    # The run's Redactor (mock_server/contract_kit/redact.py): call it to scrub a text,
    # `.add(secret)` to hide a secret met on the way (an issued session token). None: no report.
    redact: Callable[[str], str] | None = None
    # Called before each request the provider's own code sends (a token, a catalog read): those
    # count against the run's request budget too.
    on_request: Callable[[], None] | None = None
    control: object = None          # mock_server.control.Client of the mock; None on a real API
    auth: object = None             # what install_auth returned, for prepare_run


@dataclass(frozen=True)
class VerifiedWebhook:
    delivery: str                   # the id receivers dedupe on
    type: str | None                # the event type, for the log


class ContractSupport(abc.ABC):
    """Everything `paymock contract <provider>` needs to know about one provider."""

    # -- the command line -------------------------------------------------------------------
    #: The real API's base URL, shown in `--target`'s help (None: no public one to name).
    default_base_url: ClassVar[str | None] = None

    def cli_options(self) -> Sequence[CredentialOption]:
        """The credential flags of `paymock contract <provider>` (besides the kit's own)."""
        return ()

    def env_vars(self) -> Sequence[str]:
        """The environment variables `load_credentials` reads, listed in the command's help."""
        return ()

    # -- credentials --------------------------------------------------------------------------
    @abc.abstractmethod
    def load_credentials(self, values: Mapping[str, str | None], env: Mapping[str, str],
                         allow_fixture: bool) -> Credentials:
        """Credentials from the flags' `values` (by `CredentialOption.dest`), else from `env`,
        else, only when `allow_fixture` (the target is paymock), the TEST-ONLY fixture ones.
        Raise CredentialsError naming what to set when they are missing or unreadable."""

    @abc.abstractmethod
    def fixture_credentials(self) -> Credentials:
        """TEST-ONLY credentials that a mock the kit starts (see `mock_settings`) accepts; never
        valid on a real API."""

    def mock_settings(self) -> dict:
        """Settings overrides for a mock the kit starts itself (mock_server.config.Settings
        fields), e.g. to accept the fixture credentials and no others, so that the auth checks
        can fail. Default: none."""
        return {}

    # -- what a run tests ---------------------------------------------------------------------
    #: Answers positive (schema-valid) data may get: it can still break a business rule only the
    #: server knows (the product must exist), and the provider's answer to that is accepted.
    accepted_statuses: ClassVar[Sequence[str]] = ("2xx", "400", "401", "403", "404", "409", "422")
    #: operationIds that write nothing a merchant would see, so run against a real account
    #: without --allow-writes (a price preview, a short-lived token); reads are safe anyway.
    safe_operations: ClassVar[frozenset[str]] = frozenset()
    #: Contract/mock disagreements that are known and explained (see KnownDivergence).
    known_divergences: ClassVar[Sequence[KnownDivergence]] = ()

    def document(self, provider) -> dict:
        """The OpenAPI document the kit runs for `provider` (a registered Provider): by default
        contracts/<name>/openapi.json as paymock ships it."""
        from ..core.contracts import document_file
        return json.loads(document_file(provider.name).read_text(encoding="utf-8"))

    def is_safe(self, method: str, operation_id: str | None) -> bool:
        """Whether an operation may run against a real account without --allow-writes."""
        return method.upper() in READS or operation_id in self.safe_operations

    # -- a run --------------------------------------------------------------------------------
    @abc.abstractmethod
    def install_auth(self, schema, credentials: Credentials, run: RunContext):
        """Make every request of the Schemathesis `schema` carry `credentials` the way the API
        expects them (prefer Schemathesis' own auth, `schema.auth()` or its OpenAPI-aware config,
        so that its auth checks know what was sent). Returns whatever `prepare_run` needs later
        (it gets it as `run.auth`), or None. Also what `paymock.contract_auth` calls."""

    def prepare_run(self, schema, credentials: Credentials, run: RunContext) -> None:
        """Called once auth is installed, before the first case: check that the target accepts
        the credentials (raise CredentialsError: a run of 401s would pass, since the contract
        documents them) and register hooks (`schema.hook`) that point generated ids at the
        target's real objects, so that successful answers get checked, not only rejections.
        Default: nothing."""

    def curl_variables(self) -> dict[str, str]:
        """Credential headers (lower-case name) -> the shell variable a reproducing curl command
        shows instead of the value, e.g. {"authorization": "Bearer $ACME_API_KEY"}."""
        return {}

    def curl_note(self, path: str, header_names: set[str]) -> str | None:
        """A comment line printed above a reproducing curl command (e.g. how to recompute a
        signature header), given its path and lower-case header names; None for none."""
        return None

    # -- webhooks (mock_server/contract_kit/webhook_receiver.py) ------------------------------
    #: Headers that mark a delivery as this provider's (any one present claims it).
    webhook_headers: ClassVar[Sequence[str]] = ()

    def webhook_key(self, env: Mapping[str, str]) -> str | None:
        """The key that verifies this provider's webhooks, from the receiver's environment (None:
        not configured; a claimed delivery is then refused)."""
        return None

    def claims_webhook(self, headers) -> bool:
        """Whether a received delivery is this provider's (`headers` as received, looked up
        with .get)."""
        return any(headers.get(name) for name in self.webhook_headers)

    def verify_webhook(self, headers, body: bytes, key: str | None,
                       now: float | None = None) -> VerifiedWebhook:
        """Verify a delivery this provider claimed; raise WebhookRejected saying why not."""
        raise WebhookRejected("this provider's webhooks cannot be verified here")

    # -- drift against the vendor's spec (`paymock contract diff`) ------------------------------
    #: The module whose `derive(vendor_document)` makes our contract from the vendor's OpenAPI
    #: document: its overlay is what `contract diff` treats as intended. None: the contract is
    #: written by hand and there is nothing to compare.
    derivation_module: ClassVar[str | None] = None
    #: The command that regenerates the contract from a vendor document (printed on drift).
    regenerate_command: ClassVar[str | None] = None


def bearer_schemes(document: dict) -> list[str]:
    """The contract's HTTP bearer security schemes, by name."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    return [name for name, scheme in schemes.items()
            if isinstance(scheme, dict) and scheme.get("type") == "http"
            and str(scheme.get("scheme", "")).lower() == "bearer"]


class BearerTokenSupport(ContractSupport):
    """For an API that takes `Authorization: Bearer <token>`: one `--api-key` flag, one
    environment variable (`token_env`, which a subclass sets), and `fixture_token` on a mock."""

    #: The environment variable holding the token, e.g. "ACME_API_KEY".
    token_env: ClassVar[str]
    #: TEST-ONLY: the token used when the target is paymock and none was given.
    fixture_token: ClassVar[str] = "sk_test_paymock_contract_kit_TEST_ONLY"
    #: What the token is called in help and messages.
    key_name: ClassVar[str] = "API key"
    #: Appended to the missing-key message in brackets, e.g. where to get a test key.
    key_hint: ClassVar[str | None] = None

    def cli_options(self) -> Sequence[CredentialOption]:
        return (CredentialOption("--api-key", f"{self.key_name} (default {self.token_env}); prefer "
                                 "the environment variable: flags show up in process lists"),)

    def env_vars(self) -> Sequence[str]:
        return (self.token_env,)

    def load_credentials(self, values, env, allow_fixture) -> BearerCredentials:
        if values.get("api_key"):
            return BearerCredentials(values["api_key"], "--api-key")
        if env.get(self.token_env):
            return BearerCredentials(env[self.token_env], self.token_env)
        if allow_fixture:
            return self.fixture_credentials()
        hint = f" ({self.key_hint})" if self.key_hint else ""
        raise CredentialsError(f"no {self.key_name}: pass --api-key or set {self.token_env}{hint}")

    def fixture_credentials(self) -> BearerCredentials:
        return BearerCredentials(self.fixture_token, "TEST-ONLY fixture key")

    def install_auth(self, schema, credentials: BearerCredentials, run: RunContext):
        """Through Schemathesis' OpenAPI-aware bearer auth for each bearer scheme the contract
        declares (its auth checks then know what was sent), else a Schemathesis auth hook."""
        schemes = bearer_schemes(schema.raw_schema)
        if schemes:
            import schemathesis
            config = {"auth": {"openapi": {name: {"bearer": credentials.token} for name in schemes}}}
            schema.config.auth = schemathesis.Config.from_dict(config).projects.default.auth
            return None

        @schema.auth()
        class Bearer:
            def get(self, case, ctx):
                return credentials.token

            def set(self, case, data, ctx):
                case.headers = case.headers if case.headers is not None else {}
                case.headers["Authorization"] = f"Bearer {data}"

        return None

    def curl_variables(self) -> dict[str, str]:
        return {"authorization": f"Bearer ${self.token_env}"}
