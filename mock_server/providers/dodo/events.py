"""Dodo's webhook events: which types there are, and how one is put on the outbox.

The types are read from the contract's `webhooks` section (the vendor's 47 of spec 1.113.0 plus
SDK 1.123.0's `subscription.past_due`, see contract_derivation.SDK_EVENTS), never listed here: the
channel accepts exactly those, so that a fault rule or an emitter naming anything else is refused.
"""
from __future__ import annotations

from ...core.clock import iso


def event_types(contract) -> tuple[str, ...]:
    """Every event type the contract documents (a core.contracts.Contract)."""
    return tuple(contract.document.get("webhooks", {}))


class DodoEvents:
    """Puts Dodo's webhook envelope on the outbox: `{business_id, type, timestamp, data}` where
    `data` is the object's current state plus its `payload_type` (spec: OutgoingWebhookData)."""

    def __init__(self, outbox, clock, business_id: str):
        self.outbox = outbox  # core.webhooks.Outbox, or None when webhooks are off
        self.clock = clock
        self.business_id = business_id

    def emit(self, ns, event_type: str, payload_type: str, data: dict) -> None:
        if self.outbox is None:
            return
        self.outbox.emit(ns.name, "dodo", event_type, {
            "business_id": self.business_id, "type": event_type,
            "timestamp": iso(self.clock.now()), "data": dict(data, payload_type=payload_type)})
