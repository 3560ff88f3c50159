"""Dodo Payments, mounted at /dodo."""
from __future__ import annotations

from functools import partial

from ...core.contracts import Contract
from . import models
from . import responses
from .responses import bp

NAME = "dodo"
MOUNT = "/dodo"


def register(app, core, catalog: dict) -> None:
    core.contracts[NAME] = Contract.load(NAME)
    core.store.add_seeder(f"{NAME}:", lambda _ns: models.seed(catalog))
    business_id = catalog.get("dodo", {}).get("business_id", "bus_paymock")
    app.extensions["paymock.dodo"] = models.DodoBackend(
        core.clock, partial(_checkout_url, core), business_id
    )
    settings = app.extensions["paymock.settings"]
    app.extensions["paymock.dodo.keys"] = frozenset(
        key.strip() for key in settings.dodo_api_keys.split(",") if key.strip()
    )
    app.url_map.converters["session_id"] = responses.SessionIdConverter
    app.register_blueprint(bp, url_prefix=MOUNT)


def _checkout_url(core, session_id: str) -> str:
    return core.url(f"/checkout/dodo/session/{session_id}")
