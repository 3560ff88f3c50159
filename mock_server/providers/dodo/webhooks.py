"""Dodo webhooks on the wire: Standard Webhooks headers signed with a `whsec_` secret.

An endpoint made through `POST /webhooks` signs with its own secret; during the grace period
after a rotation (POST /_mock/webhooks/endpoints/{id}/rotate-secret) it signs with the new and the
old one, two space-separated `v1,` signatures, either of which a Standard Webhooks verifier takes.

Each attempt is signed afresh with the wall-clock time, as Standard Webhooks senders do: receivers
(the `standardwebhooks` package, the SDK's `webhooks.unwrap`) refuse timestamps more than five
minutes from *their* clock, so the mock clock, which tests move by hours, must not leak in here.
"""
from __future__ import annotations

import base64
import os
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

    def generate(self) -> str:
        # Svix's (and so Dodo's) form: whsec_ and the base64 of 24 random bytes.
        return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def channel(secret: Secret, events, clock) -> Channel:
    """`clock`: the mock clock, which says whether a rotated-out secret still signs."""
    def sign(delivery: dict, endpoint) -> dict:
        now = datetime.now(tz=timezone.utc)
        keys = endpoint.signing_secrets(clock.now()) or [secret.value]
        signature = " ".join(Webhook(key).sign(delivery["id"], now, delivery["body"]) for key in keys)
        return {"webhook-id": delivery["id"], "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signature}

    return Channel(
        provider="dodo", schedule=SCHEDULE,
        body=lambda payload, _delivery_id: orjson.dumps(payload).decode(),
        sign=sign, new_id=lambda: f"msg_{uuid.uuid4().hex[:27]}", events=frozenset(events),
        secret=secret,
    )
