"""Waffo webhooks on the wire: `X-Waffo-Signature: t=<ms>,v1=<base64 RSA-SHA256 over "{t}.{body}">`.

paymock signs with its own TEST-ONLY key pair (fixtures/webhooks/, shipped with the package), whose
public half is served at GET /_mock/waffo/webhook-public-key (and /_mock/webhooks/public-key) for
`verifyWebhook(body, sig, { publicKey })`. `t` is stamped once, from the wall clock, before the
first attempt, and every retry reuses it, as Waffo does: receivers check it against their own
clock (45 minutes back, 1 minute ahead).
"""
from __future__ import annotations

import base64
import time
import uuid
from functools import lru_cache

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from ... import resources
from ...core.webhooks import Channel
from .webhook_formats import FORMATS

PRIVATE_KEY = "webhooks/waffo-webhook.TEST-ONLY.private.pem"  # under the fixtures folder
PUBLIC_KEY = "webhooks/waffo-webhook.TEST-ONLY.public.pem"
# Exponential backoff, three retries (unconfirmed lengths): 5, 10 and 20 minutes, so the last
# retry still falls inside the receivers' 45-minute window for the reused `t`.
SCHEDULE = (0, 5 * 60, 10 * 60, 20 * 60)


def public_key_pem() -> str:
    return (resources.fixtures() / PUBLIC_KEY).read_text()


def signature_header(private_key, stamp_ms: int, body: str) -> str:
    signed = private_key.sign(f"{stamp_ms}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"t={stamp_ms},v1={base64.b64encode(signed).decode()}"


@lru_cache(maxsize=1)
def _private_key():
    # Loaded on the first delivery, not at start-up: checking an RSA key takes ~40 ms.
    return serialization.load_pem_private_key((resources.fixtures() / PRIVATE_KEY).read_bytes(), None)


def channel(events) -> Channel:
    def body(payload: dict, delivery_id: str) -> str:
        # The envelope's `id` is the delivery record's id, the key receivers dedupe on.
        return orjson.dumps({"id": delivery_id, **payload}).decode()

    def sign(delivery: dict, endpoint) -> dict:
        if endpoint.format is not None:  # a chat channel's message: unsigned, as Waffo's are
            return {}
        return {"X-Waffo-Signature": signature_header(_private_key(), delivery["stamp"], delivery["body"])}

    return Channel(provider="waffo", schedule=SCHEDULE, body=body, sign=sign,
                   new_id=lambda: str(uuid.uuid4()), stamp=lambda: int(time.time() * 1000),
                   events=frozenset(events), public_key=public_key_pem, formats=FORMATS)
