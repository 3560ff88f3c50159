"""Waffo Pancake, mounted at /waffo."""
from __future__ import annotations

from dataclasses import dataclass

from ...core.contracts import Contract
from ...core.idempotency import Idempotency
from ...core.clock import iso
from . import control, hosted, models, responses
from .catalog import generate as generate_section
from .contract_support import WaffoContractSupport
from .auth import MerchantRegistry, TokenIssuer
from .gateway import Gateway
from ...core.psp import MockPsp
from ..base import Provider
from ..base import register as register_provider
from .responses import bp
from . import webhooks
from .payments import WaffoPayments

NAME = "waffo"
MOUNT = "/waffo"


@dataclass
class Waffo:
    """Everything the Waffo routes and control endpoints share (app.extensions["paymock.waffo"])."""
    core: object
    backend: models.WaffoBackend
    gateway: Gateway
    registry: MerchantRegistry
    idempotency: Idempotency


class WaffoProvider(Provider):
    name = NAME
    mount = MOUNT
    payment_pages = hosted.WaffoPaymentPages()
    contract_support = WaffoContractSupport()

    def register(self, app, core, catalog: dict) -> None:
        app.extensions["paymock.provider.waffo"] = self  # the routes' way back to this instance
        _register(app, core, catalog)

    def render_error(self, status, code, message, headers=None):
        return responses.render_error(status, code, message, headers)

    def generate_catalog(self, seed, generated_at):
        return generate_section(seed, iso(generated_at))


def _register(app, core, catalog: dict) -> None:
    section = catalog.get("waffo", {})
    core.contracts[NAME] = Contract.load(NAME)
    registry = MerchantRegistry()
    for merchant in section.get("merchants", []):
        for key in merchant.get("keys", []):
            registry.add_key(merchant["merchantId"], key["environment"], key["publicKeyPem"],
                             fixture=True, name=merchant.get("name", ""))
    slugs = {store["slug"]: (store["merchantId"], store["id"]) for store in section.get("stores", [])}
    tokens = TokenIssuer(core.clock)
    settings = app.extensions.get("paymock.settings")
    gateway = Gateway(core, registry, tokens, MOUNT, slugs,
                      lenient=Gateway.lenient_from_env(settings) if settings else False)
    psp = MockPsp(lambda checkout_id: core.url(f"/psp/waffo/{checkout_id}"), core.faults,
                  core.shutdown)
    backend = models.WaffoBackend(
        core.clock, tokens,
        lambda slug, session_id: core.url(f"/checkout/waffo/store/{slug}/checkout/{session_id}"),
        psp)
    _wire_payments(app, core, backend, settings)
    # One idempotency book per server, shared by any provider that wants one.
    idempotency = app.extensions.setdefault("paymock.idempotency", Idempotency(core.clock))
    core.store.add_seeder(f"{NAME}:", lambda name: models.seed_objects(section,
                                                                       gateway.merchant_of(name)))
    core.providers[NAME] = gateway.namespace_name
    core.expirers["token"] = tokens.expire
    app.extensions["paymock.waffo"] = Waffo(core, backend, gateway, registry, idempotency)
    app.register_blueprint(bp, url_prefix=MOUNT)
    app.register_blueprint(control.bp, url_prefix="/_mock/waffo")
    app.register_blueprint(hosted.bp)


def _wire_payments(app, core, backend, settings) -> None:
    """Orders on core payments, and RSA-signed webhooks."""
    payments = app.extensions.get("paymock.payments")
    if payments is None:
        return
    outbox = app.extensions.get("paymock.webhooks")
    failed_event = getattr(settings, "waffo_payment_failed_event", None)
    backend.payments = WaffoPayments(payments, core.clock, outbox,
                                     failed_event if failed_event is not None
                                     else "order.payment_failed")
    if outbox is not None:
        outbox.channels[NAME] = webhooks.channel(backend.payments.events)


register_provider(WaffoProvider())
