"""Dodo Payments, mounted at /dodo."""
from __future__ import annotations

import uuid
from functools import partial

from ...core.contracts import Contract
from ...core.http import credential_namespace
from ...core.psp import MockPsp
from ..base import Provider
from ..base import register as register_provider
from ..handles import ProviderHandle
from . import hosted, models
from .catalog import generate as generate_section
from . import responses
from . import webhooks
from .payments import EVENTS, DodoPayments
from .responses import bp
from .settings import DodoSettings

NAME = "dodo"
MOUNT = "/dodo"


class Dodo(Provider):
    name = NAME
    mount = MOUNT
    payment_pages = hosted.PAGES
    settings_model = DodoSettings

    def register(self, app, core, catalog: dict) -> None:
        app.extensions["paymock.provider.dodo"] = self  # the routes' way back to this instance
        _register(app, core, catalog, app.extensions["paymock.settings"].for_provider(self))

    def render_error(self, status, code, message, headers=None):
        return responses.render_error(status, code, message, headers)

    def generate_catalog(self, seed, generated_at):
        return generate_section(seed, generated_at)

    def billing_countries(self, core):
        schemas = core.contracts[NAME].document["components"]["schemas"]
        return tuple(schemas["CountryCodeAlpha2"]["enum"])

    def handle_for_test(self, server_url):
        # Any bearer key is accepted (unless dodo_api_keys lists some), each its own namespace.
        key = f"sk_test_{uuid.uuid4().hex}"
        return ProviderHandle(NAME, server_url.rstrip("/") + MOUNT, key,
                              credential_namespace(NAME, key))


def _register(app, core, catalog: dict, settings: DodoSettings) -> None:
    core.contracts[NAME] = Contract.load(NAME)
    core.store.add_seeder(f"{NAME}:", lambda _ns: models.seed(catalog))
    core.store.add_view(f"{NAME}:", models.SESSION, models.view)
    business_id = catalog.get("dodo", {}).get("business_id", "bus_paymock")
    app.extensions["paymock.dodo"] = models.DodoBackend(
        core.clock, partial(_checkout_url, core), business_id
    )
    app.extensions["paymock.dodo.keys"] = settings.accepted_keys()
    _wire_payments(app, core, app.extensions["paymock.dodo"], settings)
    app.url_map.converters["session_id"] = responses.SessionIdConverter
    app.register_blueprint(bp, url_prefix=MOUNT)
    app.register_blueprint(hosted.bp)


def _checkout_url(core, session_id: str) -> str:
    return core.url(f"/checkout/dodo/session/{session_id}")


def _wire_payments(app, core, backend, settings: DodoSettings) -> None:
    """Core payments, the PSP pages under /psp/dodo/ and Standard Webhooks signing."""
    payments = app.extensions.get("paymock.payments")
    if payments is None:
        return
    outbox = app.extensions.get("paymock.webhooks")
    psp = MockPsp(lambda checkout_id: core.url(f"/psp/dodo/{checkout_id}"), core.faults,
                  core.shutdown)
    secret = webhooks.Secret(settings.webhook_secret or webhooks.DEFAULT_SECRET)
    if outbox is not None:
        outbox.channels[NAME] = webhooks.channel(secret, EVENTS.values())
    backend.payments = DodoPayments(backend, payments, psp, outbox)


register_provider(Dodo())
