"""The /_mock control API (routes.py) and its Python client (client.py)."""
from __future__ import annotations

__all__ = ["Client"]


def __getattr__(name):
    # The client pulls in `requests` (a tenth of a second); the server never needs it, so it is
    # imported on first use only (PEP 562), which keeps `paymock serve` quick to start.
    if name == "Client":
        from .client import Client
        return Client
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
