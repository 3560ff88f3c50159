"""Dodo's error envelope: `{"code": ..., "message": ...}`."""
from __future__ import annotations

from ...core.fault_http import default_code
from ...core.http import json_response


def render_error(status: int, code: str | None, message: str, headers: dict | None = None):
    return json_response({"code": code or default_code(status), "message": message}, status,
                         headers)
