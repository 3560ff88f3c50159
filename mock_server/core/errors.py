"""The one exception domain code raises; each provider renders it in its own envelope."""
from __future__ import annotations


class ApiError(Exception):
    """An answer the real API would give. `code` is the provider's error code or layer."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code!r}, {self.message!r})"
