"""Waffo's settings: `waffo_payment_failed_event` and `waffo_lenient` of the server's Settings."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _empty_is_off(value):
    # PAYMOCK_WAFFO_LENIENT= (set but empty) meant off before lenient was a setting; it still does.
    return False if isinstance(value, str) and not value.strip() else value


class WaffoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # An event for a failed payment, which Waffo does not document: none by default (""), as
    # every undocumented event; e.g. "order.payment_failed" for handlers written against v1.
    payment_failed_event: str = ""
    # Lenient mode: unknown merchants are accepted, a wrong signature from a known one never
    # (gateway.py); refused with --strict. Also `waffo_lenient` in `extra`, as it used to be.
    lenient: Annotated[bool, BeforeValidator(_empty_is_off)] = False
