"""Dodo's settings: `dodo_api_keys` and `dodo_webhook_secret` of the server's Settings."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict

from ..base import SECRET


class DodoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Comma-separated API keys to accept; empty accepts any bearer key (each its own namespace).
    api_keys: Annotated[str, SECRET] = ""
    # The signing secret; empty: the TEST-ONLY one in webhooks.py.
    webhook_secret: Annotated[str, SECRET] = ""

    def accepted_keys(self) -> frozenset[str]:
        return frozenset(key.strip() for key in self.api_keys.split(",") if key.strip())
