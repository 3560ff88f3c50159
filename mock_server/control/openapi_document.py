"""GET /_mock/openapi.json: the control API's own OpenAPI 3.1 document, so that a Node or Go test
suite can generate a client for /_mock as a Python one uses control/client.py.

The document is `contracts/control/openapi.json` (packaged like the providers' contracts, read
through `resources`); the answer names this server's public URL in `servers`. It sits under
/_mock, so the control token guards it like every other control endpoint (guards.py).
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache

from flask import Blueprint, current_app

from .. import __version__, resources
from ..core.http import json_response

bp = Blueprint("control_openapi", __name__)


def document_source():
    """Where the document lives (a Traversable: the checkout's contracts/ or the wheel's copy)."""
    return resources.contracts() / "control" / "openapi.json"


@lru_cache(maxsize=1)
def _document() -> dict:
    return json.loads(document_source().read_text(encoding="utf-8"))


def document(public_url: str | None = None) -> dict:
    """The document; with `public_url`, naming that server in `servers`."""
    doc = copy.deepcopy(_document())
    doc["info"]["version"] = __version__
    if public_url:
        doc["servers"] = [{"url": public_url, "description": "this paymock server"}]
    return doc


@bp.get("/openapi.json")
def openapi_document():
    return json_response(document(current_app.extensions["paymock"].public_url))
