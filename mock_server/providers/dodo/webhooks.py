"""Dodo webhooks on the wire: Standard Webhooks headers signed with a `whsec_` secret.

Each attempt is signed afresh with the wall-clock time, as Standard Webhooks senders do: receivers
(the `standardwebhooks` package, the SDK's `webhooks.unwrap`) refuse timestamps more than five
minutes from *their* clock, so the mock clock, which tests move by hours, must not leak in here.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import orjson
from standardwebhooks import Webhook

from ...core.webhook_endpoints import SigningSecret
from ...core.webhooks import Channel

# TEST-ONLY: base64 of "paymock-TEST-ONLY-webhook-secret". Public on purpose; never use it for a
# real endpoint. Change it with PAYMOCK_DODO_WEBHOOK_SECRET or POST /_mock/webhooks/secret.
DEFAULT_SECRET = "whsec_cGF5bW9jay1URVNULU9OTFktd2ViaG9vay1zZWNyZXQ="
# Svix's schedule, which Dodo documents: the first attempt at once, then after each failure.
SCHEDULE = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)


class Secret(SigningSecret):
    """The secret endpoints sign with unless they were registered with their own."""

    form = "whsec_ followed by base64"

    def __init__(self, value: str = DEFAULT_SECRET):
        super().__init__(value)

    def check(self, value: str) -> None:
        Webhook(value)  # raises on an empty or non-base64 secret
        if not value.startswith("whsec_"):
            raise ValueError("a Dodo webhook secret starts with whsec_ followed by base64")


def channel(secret: Secret, events) -> Channel:
    def sign(delivery: dict, endpoint) -> dict:
        now = datetime.now(tz=timezone.utc)
        signature = Webhook(endpoint.secret or secret.value).sign(delivery["id"], now, delivery["body"])
        return {"webhook-id": delivery["id"], "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signature}

    return Channel(
        provider="dodo", schedule=SCHEDULE,
        body=lambda payload, _delivery_id: orjson.dumps(payload).decode(),
        sign=sign, new_id=lambda: f"msg_{uuid.uuid4().hex[:27]}", events=frozenset(events),
        secret=secret,
    )
