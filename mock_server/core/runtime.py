"""The provider-agnostic services one server instance shares."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .clock import Clock
from .contracts import Contract
from .faults import FaultEngine
from .idempotency import Idempotency
from .journal import Journal
from .scheduler import Scheduler
from .store import Store
from .triggers import Triggers
from .waits import Waits

STORE_SWEEP_EVERY = 5.0  # mock seconds between evictions of what outlived its retention


@dataclass
class Core:
    clock: Clock
    store: Store
    journal: Journal
    public_url: str
    strict: bool = False
    # Whether a request's X-Paymock-Fault header is obeyed (off with strict, or fault_header=false).
    fault_header: bool = True
    contracts: dict[str, Contract] = field(default_factory=dict)
    # provider name -> callable(credential-ish string) -> namespace name, for the control API
    providers: dict[str, object] = field(default_factory=dict)
    faults: FaultEngine | None = None
    # Idempotency keys' first answers, for the operations a provider declares idempotent.
    idempotency: Idempotency | None = None
    # kind -> callable(id): expire something that is not a store object (e.g. a session token)
    expirers: dict[str, object] = field(default_factory=dict)
    # Set when the server stops, so that injected latency and hangs end with it.
    shutdown: threading.Event = field(default_factory=threading.Event)
    # Named components saved to and restored from --state-file (core/persistence.py); anything
    # with state worth keeping registers itself: core.persistence.register(name, dump, load).
    persistence: object = None
    # The one worker that runs what falls due on the mock clock (core/scheduler.py).
    scheduler: Scheduler | None = None
    # Injected latency and hangs: slept by a request's thread, or owed to an event-loop server.
    waits: Waits | None = None
    # Events on demand: what each provider registered per event type (POST /_mock/trigger).
    triggers: Triggers = field(default_factory=Triggers)

    def limit_injected_waits(self, threads: int) -> None:
        """Injected waits (latency, hangs; at an API answer or in the PSP call a request makes)
        may hold one thread less than the server has, so one is always left for the control
        API (core/waits.py)."""
        self.waits.limit_to(max(1, threads - 1))

    def __post_init__(self):
        if self.faults is None:
            self.faults = FaultEngine(self.clock)
        if self.waits is None:
            self.waits = Waits(self.shutdown)
        if self.idempotency is None:
            self.idempotency = Idempotency(self.clock)
        # A namespace reset or evicted takes its journal and idempotency keys with it.
        self.store.on_drop(self.journal.reset)
        self.store.on_drop(self.idempotency.forget)
        if self.scheduler is None:
            self.scheduler = Scheduler(self.clock, self.shutdown)
            self.scheduler.add("store.sweep", self._sweep_store)
        if self.persistence is None:
            from .persistence import Persistence
            self.persistence = Persistence()

    def _sweep_store(self, now: float) -> float:
        self.store.sweep()
        return now + STORE_SWEEP_EVERY

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path
