"""The providers the kit can run: those in paymock's provider registry
(`mock_server.providers.registered()`) that declare a ContractSupport. The kit names no provider
itself; this is where it finds them, by name."""
from __future__ import annotations

from ..providers import Provider, registered


class UnknownProvider(LookupError):
    pass


def supported() -> dict[str, Provider]:
    """Providers with contract support by name, in the registry's order."""
    return {p.name: p for p in registered() if p.contract_support is not None}


def derived() -> dict[str, Provider]:
    """Those whose contract is derived from a vendor spec (`paymock contract diff` compares)."""
    return {name: p for name, p in supported().items() if p.contract_support.derivation_module}


def find(name: str, among: dict[str, Provider] | None = None) -> Provider:
    providers = supported() if among is None else among
    if name not in providers:
        raise UnknownProvider(f"unknown provider {name!r} (choose from "
                              f"{', '.join(providers) or 'none: no provider has contract support'})")
    return providers[name]
