"""The provider-agnostic services one server instance shares."""
from __future__ import annotations

from dataclasses import dataclass, field

from .clock import Clock
from .contracts import Contract
from .journal import Journal
from .store import Store


@dataclass
class Core:
    clock: Clock
    store: Store
    journal: Journal
    public_url: str
    strict: bool = False
    contracts: dict[str, Contract] = field(default_factory=dict)
    # provider name -> callable(credential-ish string) -> namespace name, for the control API
    providers: dict[str, object] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path
