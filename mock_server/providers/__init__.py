"""One package per provider, each mapping its API onto the core; `registered()` lists them."""
from __future__ import annotations

import functools
import importlib
import pkgutil

from .base import Provider, registry


@functools.cache
def built_in() -> tuple[str, ...]:
    """The provider packages shipped in this folder, imported (importing one registers it):
    adding a provider is adding its package, nothing to list anywhere."""
    names = tuple(sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg))
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


def registered() -> tuple[Provider, ...]:
    """Every provider paymock mounts: the built-in ones by name, then any other registered
    with `base.register()` (a test's toy provider), in registration order."""
    shipped = built_in()
    providers = registry()
    return (*(providers[name] for name in shipped if name in providers),
            *(p for name, p in providers.items() if name not in shipped))
