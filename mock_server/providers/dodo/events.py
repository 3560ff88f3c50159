"""Dodo's webhook events: every type the current SDK knows, and how one is put on the outbox.

The 48 types are those of `dodopayments` 1.123.0 (`types/webhook_event_type.py`; the list is
kept in ../shared/reference/dodo-current/webhook-event-types-1.123.0.txt). The channel accepts
exactly these, so that a fault rule or an emitter naming anything else is refused.
"""
from __future__ import annotations

from ...core.clock import iso

EVENT_TYPES = (
    "payment.succeeded", "payment.failed", "payment.processing", "payment.cancelled",
    "refund.succeeded", "refund.failed",
    "dispute.opened", "dispute.expired", "dispute.accepted", "dispute.cancelled",
    "dispute.challenged", "dispute.won", "dispute.lost",
    "subscription.active", "subscription.renewed", "subscription.on_hold",
    "subscription.past_due", "subscription.paused", "subscription.unpaused",
    "subscription.cancelled", "subscription.failed", "subscription.expired",
    "subscription.plan_changed", "subscription.updated", "subscription.update_payment_method",
    "license_key.created",
    "payout.created", "payout.on_hold", "payout.in_progress", "payout.failed", "payout.success",
    "credit.added", "credit.deducted", "credit.expired", "credit.rolled_over",
    "credit.rollover_forfeited", "credit.overage_charged", "credit.overage_reset",
    "credit.manual_adjustment", "credit.balance_low",
    "abandoned_checkout.detected", "abandoned_checkout.recovered",
    "dunning.started", "dunning.recovered",
    "entitlement_grant.created", "entitlement_grant.delivered", "entitlement_grant.failed",
    "entitlement_grant.revoked",
)


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
