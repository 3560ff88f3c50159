"""Credit events on demand (POST /_mock/trigger)."""
from __future__ import annotations


class CreditTriggers:
    def __init__(self, backend):
        self.backend = backend

    def register(self, triggers) -> None:
        pass
