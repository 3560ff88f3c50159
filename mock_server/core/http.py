"""Small HTTP helpers both providers use: JSON in and out, and credential namespaces."""
from __future__ import annotations

import hashlib

import orjson
from flask import Response, request


class BodyInvalid(Exception):
    """The body is not a JSON document; providers render this in their own envelope."""


def read_json_body(max_depth: int = 64):
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BodyInvalid("request body is empty; send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BodyInvalid(f"request body is not valid JSON ({exc.args[0]})") from None
    return body


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(payload), status=status, headers=headers,
                    mimetype="application/json")


def credential_namespace(provider: str, credential: str) -> str:
    """`dodo:1f2e...`: stable per credential, and never the credential itself (it is a secret)."""
    digest = hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{provider}:{digest}"
