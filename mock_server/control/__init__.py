"""The /_mock control API (routes.py) and its Python client (client.py)."""
from .client import Client

__all__ = ["Client"]
