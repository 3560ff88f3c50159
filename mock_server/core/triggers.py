"""Events on demand (`POST /_mock/trigger`, the Stripe CLI's `trigger`): a provider registers, per
event type, what makes that event happen with consistent state (`dispute.opened` opens a dispute on
a paid payment, `subscription.renewed` renews a subscription), and the control API, CLI and pytest
plugin call it by name. A trigger never emits an event by itself: it causes what the event reports,
through the same rules a request would, so every other event of that cause follows too."""
from __future__ import annotations

from typing import Callable

# (namespace, params) -> what it made or moved (JSON-able), raising TriggerError on bad params
Trigger = Callable[[object, dict], dict]


class TriggerError(ValueError):
    """The trigger cannot run with these parameters (unknown object, wrong state); a 400/409."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class Triggers:
    def __init__(self):
        self._triggers: dict[str, dict[str, Trigger]] = {}

    def register(self, provider: str, event_type: str, trigger: Trigger) -> None:
        self._triggers.setdefault(provider, {})[event_type] = trigger

    def events(self, provider: str) -> list[str]:
        return sorted(self._triggers.get(provider, {}))

    def providers(self) -> list[str]:
        return sorted(self._triggers)

    def fire(self, provider: str, event_type: str, ns, params: dict) -> dict:
        found = self._triggers.get(provider, {}).get(event_type)
        if found is None:
            known = self.events(provider)
            raise TriggerError(f"no trigger for {provider} event {event_type!r}; "
                               f"triggers: {', '.join(known) or 'none'}", 404)
        return found(ns, params)
