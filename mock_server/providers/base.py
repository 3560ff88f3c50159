"""What paymock asks of a provider, and the registry that holds them.

A provider is one package under `providers/` (plus its contract folder) with one `Provider`
subclass. Everything outside the package reaches it through an instance from
`mock_server.providers.registered()`:
core and the HTTP layer never import a provider, and no module object stands in for one.

This is the interface as far as paymock's layers use it today; it grows as the rest of the
architecture step (one request pipeline, routes from the contract) moves the providers' own
pipelines behind it.
"""
from __future__ import annotations

import abc
from typing import ClassVar


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
    #: Where its API is served, e.g. "/dodo".
    mount: ClassVar[str]
    #: Its answers to the PSP page, when it hands buyers to the fake PSP (None: it does not).
    payment_pages: PaymentPages | None = None
    #: What `paymock contract <name>` asks of it (providers/contract_support.py; None: not offered).
    contract_support: "ContractSupport | None" = None

    @abc.abstractmethod
    def register(self, app, core, catalog: dict) -> None:
        """Mount the provider on the app: load its contract into `core.contracts`, seed the
        store from `catalog`, wire payments and webhooks, add its routes, hosted pages and
        control routes."""

    @abc.abstractmethod
    def render_error(self, status: int, code: str | None, message: str, headers: dict | None = None):
        """An error answer in the provider's own envelope (a Flask response): faults, 404, 405,
        413 and 500 use it for any path under the mount."""

    def generate_catalog(self, seed: int, generated_at: float) -> dict | None:
        """This provider's section of a catalog `paymock fixtures generate` writes (the same seed
        gives the same section; `generated_at` stamps every object), or None for none. The
        section comes back to `register()` as `catalog[name]`."""
        return None

    def owns(self, path: str) -> bool:
        """Whether a request path is under this provider's mount."""
        return path == self.mount or path.startswith(self.mount + "/")


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
