"""Dodo Payments, mounted at /dodo."""
from __future__ import annotations

from functools import partial

from ...core.errors import ApiError
from ...core.psp import MockPsp
from ..base import Provider, handlers_of
from ..base import register as register_provider
from . import auth, hosted, models
from .catalog import generate as generate_section
from . import webhooks
from .errors import render_error
from .handlers import DodoHandlers
from .payments import EVENTS, DodoPayments

NAME = "dodo"
MOUNT = "/dodo"


class Dodo(Provider):
    name = NAME
    mount = MOUNT
    payment_pages = hosted.PAGES

    def __init__(self):
        self._handlers = {}
        self._keys = frozenset()

    def register(self, app, core, catalog: dict) -> None:
        app.extensions["paymock.provider.dodo"] = self
        backend = _register(app, core, catalog)
        settings = app.extensions["paymock.settings"]
        self._keys = frozenset(key.strip() for key in settings.dodo_api_keys.split(",")
                               if key.strip())
        self._handlers = handlers_of(DodoHandlers(backend))

    def handlers(self):
        return self._handlers

    def authenticate(self, request):
        return auth.authenticate(request.environ, self._keys)

    def render_error(self, status, code, message, headers=None):
        return render_error(status, code, message, headers)

    def body_error(self, message, operation_id):
        return ApiError(422, message, "INVALID_REQUEST_BODY")

    def validation_error(self, error, operation_id):
        return ApiError(422, error.message, error.code or "INVALID_REQUEST_BODY")

    def generate_catalog(self, seed, generated_at):
        return generate_section(seed, generated_at)


def _register(app, core, catalog: dict) -> models.DodoBackend:
    core.store.add_seeder(f"{NAME}:", lambda _ns: models.seed(catalog))
    core.store.add_upgrade(f"{NAME}:", models.SESSION, models.upgrade_session)
    business_id = catalog.get("dodo", {}).get("business_id", "bus_paymock")
    app.extensions["paymock.dodo"] = models.DodoBackend(
        core.clock, partial(_checkout_url, core), business_id
    )
    _wire_payments(app, core, app.extensions["paymock.dodo"], app.extensions["paymock.settings"])
    app.register_blueprint(hosted.bp)
    return app.extensions["paymock.dodo"]


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
