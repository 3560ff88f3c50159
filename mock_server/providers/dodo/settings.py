"""Dodo's settings: `dodo_api_keys` and `dodo_webhook_secret` of the server's Settings."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ..base import SECRET


class DodoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Comma-separated API keys to accept; empty accepts any bearer key (each its own namespace).
    api_keys: Annotated[str, SECRET] = ""
    # The signing secret; empty: the TEST-ONLY one in webhooks.py.
    webhook_secret: Annotated[str, SECRET] = ""
    # Days a subscription whose renewal failed stays past_due (keeping access) before on_hold;
    # 0, Dodo's default, puts it on hold at once (../shared/reference/dodo-lifecycle.md, choice 6).
    subscription_grace_days: Annotated[int, Field(ge=0, le=30)] = 0

    # Minutes after its creation that an unpaid checkout (one with a payment: the buyer reached the
    # details step, or confirm=true) counts as abandoned: abandoned_checkout.detected (K: ~60).
    abandoned_checkout_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 60

    def accepted_keys(self) -> frozenset[str]:
        return frozenset(key.strip() for key in self.api_keys.split(",") if key.strip())
