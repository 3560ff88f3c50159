"""Where paymock's data lives: the contracts, the fixture catalog, the scenario presets and the
TEST-ONLY keys.

The repository's top-level `contracts/` and `fixtures/` are the source. A wheel carries a copy of
both inside the package, under `mock_server/_data/` (the build's force-include in pyproject.toml);
a checkout or an editable install has no such copy and reads the folders themselves. Everything is
read through `importlib.resources`, so callers see one kind of object (a Traversable) either way
and never build a path from `__file__`.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path


class DataMissing(RuntimeError):
    """Neither the packaged copy nor a checkout's folders are there: a broken install."""


@lru_cache(maxsize=1)
def _root() -> Traversable:
    package = files("mock_server")
    packaged = package / "_data"
    if packaged.is_dir():
        return packaged
    if isinstance(package, Path):  # a checkout: mock_server/ sits beside contracts/ and fixtures/
        checkout = package.resolve().parent
        if (checkout / "contracts").is_dir() and (checkout / "fixtures").is_dir():
            return checkout
    raise DataMissing(f"paymock's data is missing: neither {packaged} nor a checkout's contracts/ "
                      "and fixtures/ beside the package; reinstall paymock")


def contracts() -> Traversable:
    """The folder holding `<provider>/openapi.json`."""
    return _root() / "contracts"


def fixtures() -> Traversable:
    """The folder holding `catalog.json`, `scenarios/`, `webhooks/` and a provider's own
    folders (`<provider>/keys/`)."""
    return _root() / "fixtures"


def catalog() -> Traversable:
    """The default catalog (`paymock fixtures generate` wrote it, with the default seed)."""
    return fixtures() / "catalog.json"


def installed_package() -> Traversable:
    """The installed package itself: nothing paymock writes may land inside it."""
    return files("mock_server")
