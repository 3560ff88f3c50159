"""One package per provider, each mapping its API onto the core; `registered()` lists them."""
from __future__ import annotations

from .base import Provider, registry

BUILT_IN = ("dodo", "waffo")


def registered() -> tuple[Provider, ...]:
    """Every provider paymock mounts: the built-in ones in a fixed order, then any other
    registered with `base.register()` (a test's toy provider), in registration order."""
    from . import dodo, waffo  # noqa: F401 - importing a built-in provider registers it

    providers = registry()
    return (*(providers[name] for name in BUILT_IN),
            *(p for name, p in providers.items() if name not in BUILT_IN))
