"""Dodo's error envelope: `{"code": ..., "message": ...}`."""
from __future__ import annotations

from ...core.errors import ApiError
from ...core.fault_http import default_code
from ...core.http import json_response


def invalid(message: str, code: str = "INVALID_REQUEST_BODY") -> ApiError:
    return ApiError(422, message, code)


def not_found(message: str) -> ApiError:
    return ApiError(404, message, "NOT_FOUND")


def render_error(status: int, code: str | None, message: str, headers: dict | None = None):
    return json_response({"code": code or default_code(status), "message": message}, status,
                         headers)
