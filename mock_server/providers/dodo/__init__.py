"""Dodo Payments, mounted at /dodo."""
from __future__ import annotations

from functools import partial

from ...core.contracts import Contract
from ...core.psp import MockPsp
from ..base import Provider
from ..base import register as register_provider
from . import hosted, models
from .catalog import generate as generate_section
from .contract_support import DodoContractSupport
from . import responses
from . import webhooks
from .payments import EVENTS, DodoPayments
from .responses import bp

NAME = "dodo"
MOUNT = "/dodo"


class Dodo(Provider):
    name = NAME
    mount = MOUNT
    payment_pages = hosted.PAGES
    contract_support = DodoContractSupport()

    def register(self, app, core, catalog: dict) -> None:
        app.extensions["paymock.provider.dodo"] = self  # the routes' way back to this instance
        _register(app, core, catalog)

    def render_error(self, status, code, message, headers=None):
        return responses.render_error(status, code, message, headers)

    def generate_catalog(self, seed, generated_at):
        return generate_section(seed, generated_at)


def _register(app, core, catalog: dict) -> None:
    core.contracts[NAME] = Contract.load(NAME)
    core.store.add_seeder(f"{NAME}:", lambda _ns: models.seed(catalog))
    core.store.add_view(f"{NAME}:", models.SESSION, models.view)
    business_id = catalog.get("dodo", {}).get("business_id", "bus_paymock")
    app.extensions["paymock.dodo"] = models.DodoBackend(
        core.clock, partial(_checkout_url, core), business_id
    )
    settings = app.extensions["paymock.settings"]
    app.extensions["paymock.dodo.keys"] = frozenset(
        key.strip() for key in settings.dodo_api_keys.split(",") if key.strip()
    )
    _wire_payments(app, core, app.extensions["paymock.dodo"], settings)
    app.url_map.converters["session_id"] = responses.SessionIdConverter
    app.register_blueprint(bp, url_prefix=MOUNT)
    app.register_blueprint(hosted.bp)


def _checkout_url(core, session_id: str) -> str:
    return core.url(f"/checkout/dodo/session/{session_id}")


def _wire_payments(app, core, backend, settings) -> None:
    """Core payments, the PSP pages under /psp/dodo/ and Standard Webhooks signing."""
    payments = app.extensions.get("paymock.payments")
    if payments is None:
        return
    outbox = app.extensions.get("paymock.webhooks")
    psp = MockPsp(lambda checkout_id: core.url(f"/psp/dodo/{checkout_id}"), core.faults,
                  core.shutdown)
    secret = webhooks.Secret(getattr(settings, "dodo_webhook_secret", None) or webhooks.DEFAULT_SECRET)
    app.extensions["paymock.dodo.webhook_secret"] = secret
    if outbox is not None:
        outbox.channels[NAME] = webhooks.channel(secret, EVENTS.values())
    backend.payments = DodoPayments(backend, payments, psp, outbox)


register_provider(Dodo())
