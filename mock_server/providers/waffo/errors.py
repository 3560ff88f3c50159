"""Waffo's error envelope: `{"data": null, "errors": [{"message", "layer"}]}`, where `layer` names
the service that failed (gateway, order, store, ...)."""
from __future__ import annotations

from ...core.http import json_response

LAYERS = {"gateway", "user", "store", "product", "order", "ticket", "graphql", "resource", "email"}
# The layer a schema failure is reported from when the contract does not name one.
OPERATION_LAYER = {"issueSessionToken": "user"}


def render_error(status: int, code: str | None, message: str, headers: dict | None = None):
    layer = code if code in LAYERS else "gateway"
    return json_response({"data": None, "errors": [{"message": message, "layer": layer}]},
                         status, headers)
