"""What paymock asks of a provider, and the registry that holds them.

A provider is one package under `providers/` (plus its contract folder) with one `Provider`
subclass. Everything outside the package reaches it through an instance from
`mock_server.providers.registered()`:
core and the HTTP layer never import a provider, and no module object stands in for one.

A provider does not route requests itself: the HTTP layer builds its URL map from the
provider's contract (one rule per documented operation) and runs every request through one
pipeline (mock_server/http/pipeline.py) that asks the provider only what differs between APIs:
how a credential becomes a `Caller`, which operations take an idempotency key, how errors and
answers are wrapped, and which handler serves an operation (`@handler("operationId")`).
"""
from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import ApiError
from ..core.request import Caller, Request

Handler = Callable[[Request], Any]


class _Secret:
    def __repr__(self) -> str:
        return "SECRET"


#: Marks a setting whose value is never echoed, e.g. in an error (README.md, Security):
#: `token: Annotated[str, SECRET] = ""` in the server's settings or a provider's `settings_model`.
SECRET = _Secret()
_HANDLES = "__paymock_operation__"


def handler(operation_id: str):
    """Mark a method as the handler of one operation of the provider's contract (LocalStack's
    `@handler`): `handlers_of(obj)` collects the marked methods of an object."""

    def mark(func):
        setattr(func, _HANDLES, operation_id)
        return func

    return mark


def handlers_of(obj) -> dict[str, Handler]:
    """{operationId: bound method} for every `@handler` method of `obj`."""
    found: dict[str, Handler] = {}
    for name in dir(type(obj)):
        operation_id = getattr(getattr(type(obj), name, None), _HANDLES, None)
        if operation_id is None:
            continue
        if operation_id in found:
            raise ValueError(f"two handlers for {operation_id}: {found[operation_id].__name__} "
                             f"and {name}")
        found[operation_id] = getattr(obj, name)
    return found


@dataclass(frozen=True)
class IdempotencyPolicy:
    """Which requests may carry an idempotency key, and in what header. The first 2xx answer
    for a key is replayed for it (core/idempotency.py keeps the books)."""

    header: str
    #: The error code (or layer) the provider's envelope gives a bad or busy key.
    error_code: str | None = None
    #: Operations that take a key (None: every operation).
    operations: frozenset[str] | None = None

    def applies(self, operation_id: str) -> bool:
        return self.operations is None or operation_id in self.operations


class PaymentPages(abc.ABC):
    """What the fake PSP page (hosted/psp.py) asks of a provider's checkout about one payment:
    what to show, and where the buyer goes once the PSP has an answer. `ns` is the payment's
    namespace, `payment` the core payment (core/payments.py)."""

    @abc.abstractmethod
    def describe(self, ns, payment: dict) -> dict:
        """{merchant, theme, lines, customer, metadata} for the payment page."""

    @abc.abstractmethod
    def finish(self, ns, payment: dict):
        """A response sending the buyer on after success (or None: stay on the PSP page)."""

    @abc.abstractmethod
    def after_failure(self, ns, payment: dict):
        """A response after a failed attempt (or None: the PSP page offers another card)."""

    @abc.abstractmethod
    def cancelled(self, ns, payment: dict):
        """A response when the buyer cancels, or the checkout expired under them."""


class Provider(abc.ABC):
    """One emulated payment API, mounted at `mount` (signatures cover the path below it)."""

    #: The provider's name: namespace prefix, fault rules' `provider`, contracts/<name>/.
    name: ClassVar[str]
    #: Where its API is served, e.g. "/acme" (signatures cover the path below it).
    mount: ClassVar[str]
    #: Its answers to the PSP page, when it hands buyers to the fake PSP (None: it does not).
    payment_pages: PaymentPages | None = None
    #: Whether (and where) its API takes idempotency keys (None: it does not).
    idempotency: IdempotencyPolicy | None = None
    #: Its hosted pages (a Flask Blueprint with its templates, e.g. the checkout page), or None.
    hosted_routes = None
    #: Its control routes (a Flask Blueprint), mounted at /_mock/<name>, or None.
    control_routes = None

    def load_contract(self):
        """Its contract (core.contracts.Contract), from contracts/<name>/openapi.json: the
        routes, the validation and the fault targets all come from it."""
        from ..core.contracts import Contract
        return Contract.load(self.name)

    #: What `paymock contract <name>` asks of it (providers/contract_support.py; None: not offered).
    contract_support: "ContractSupport | None" = None

    @abc.abstractmethod
    def register(self, app, core, catalog: dict) -> None:
        """Set the provider up on the app once its contract is in `core.contracts`: seed the
        store from `catalog`, wire payments and webhooks. Its API routes, hosted pages and
        control routes are not added here: the app mounts them (the API from the contract)."""

    @abc.abstractmethod
    def handlers(self) -> Mapping[str, Handler]:
        """{operationId: handler} for every operation it emulates (after `register`). An
        operation of the contract without a handler answers 501; a handler whose operation
        the contract lacks stops the start."""

    def generic_operations(self) -> Mapping[str, str]:
        """{operationId: role} of the handlers the generic resource engine
        (core/resource_engine.py) makes, among `handlers()`; the others are the provider's own
        rules. `GET /_mock/operations` and the README's operation lists say which is which."""
        return {}

    @abc.abstractmethod
    def authenticate(self, request) -> Caller:
        """The caller a request's credential stands for, or raise ApiError (401, 403, ...).
        `request` (http/pipeline.Incoming) has `method`, `path` (below the mount), `headers`,
        `environ`, `operation_id` and `body()` (the raw bytes)."""

    @abc.abstractmethod
    def render_error(self, status: int, code: str | None, message: str, headers: dict | None = None):
        """An error answer in the provider's own envelope (a Flask response): faults, 404, 405,
        413 and 500 use it for any path under the mount. Like `authenticate`, `envelope` and the
        handlers, it may run outside any Flask context (an API request skips Flask's request
        machinery, http/dispatch.py): build the response with core.http.json_response, not
        flask.jsonify or current_app."""

    def envelope(self, data):
        """A handler's result as the API sends it (default: as is)."""
        return data

    def body_error(self, message: str, operation_id: str) -> ApiError:
        """The answer to a body that is not JSON at all (`message` says why)."""
        return ApiError(400, message)

    def validation_error(self, error, operation_id: str) -> ApiError:
        """The answer to a body or query the contract refuses (core.contracts.RequestInvalid:
        `field`, `message`, and `code` when the contract names one)."""
        return ApiError(400, error.message, error.code)

    def generate_catalog(self, seed: int, generated_at: float) -> dict | None:
        """This provider's section of a catalog `paymock fixtures generate` writes (the same seed
        gives the same section; `generated_at` stamps every object), or None for none. The
        section comes back to `register()` as `catalog[name]`."""
        return None

    def owns(self, path: str) -> bool:
        """Whether a request path is under this provider's mount."""
        return path == self.mount or path.startswith(self.mount + "/")

    #: Its own settings: a pydantic model whose field `f` is the setting `<name>_f` of the
    #: server's Settings (PAYMOCK_<NAME>_F, `<name>_f` in the config file), read back with
    #: `settings.for_provider(self)` (config.py). None: it has none.
    settings_model: ClassVar[type | None] = None

    def handle_for_test(self, server_url: str):
        """What one test gets for this provider on the server at `server_url` (a
        `providers.handles.ProviderHandle`): its base URL and, where the provider can mint one,
        a credential of the test's own with the namespace it reaches. This default mints none."""
        from .handles import ProviderHandle

        return ProviderHandle(self.name, server_url.rstrip("/") + self.mount)

    def namespace_label(self, namespace: str) -> str | None:
        """What a person calls one of its namespaces (the dashboard shows it beside the name):
        a merchant's name, the end of an API key; None when it knows none."""
        return None

    def billing_countries(self, core) -> tuple[str, ...]:
        """The ISO 3166-1 alpha-2 codes its API takes in a billing address, when it lists them
        (the hosted billing forms offer every country some provider lists); () when it does not."""
        return ()


_REGISTRY: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    """Add a provider (a test's toy one, a plugin's); the built-in ones register themselves."""
    if provider.name in _REGISTRY and _REGISTRY[provider.name] is not provider:
        raise ValueError(f"a provider named {provider.name!r} is registered already")
    _REGISTRY[provider.name] = provider
    return provider


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def registry() -> dict[str, Provider]:
    """The registered providers by name, in registration order (providers.registered() loads
    the built-in ones first)."""
    return dict(_REGISTRY)


def for_path(providers, path: str) -> Provider | None:
    """The provider whose mount holds `path`, if any."""
    for provider in providers:
        if provider.owns(path):
            return provider
    return None
