"""Waffo Pancake, mounted at /waffo."""
from __future__ import annotations

from dataclasses import dataclass

from ...core.clock import iso
from ...core.errors import ApiError
from ...core.idempotency import Idempotency
from ...core.psp import MockPsp
from ..base import IdempotencyPolicy, Provider, handlers_of
from ..base import register as register_provider
from . import control, hosted, models, webhooks
from .auth import AuthFailed, MerchantRegistry, TokenIssuer
from .catalog import generate as generate_section
from .contract_support import WaffoContractSupport
from .errors import OPERATION_LAYER, render_error
from .gateway import API_KEY, SLUG, TOKEN, Gateway
from .content_safety import ContentSafetyHandlers
from .handlers import GraphQLHandlers, WaffoHandlers
from .product_groups import ProductGroupHandlers, ProductGroups
from .products import ProductHandlers, Products
from .store_webhooks import StoreWebhookHandlers, StoreWebhooks
from .refund_tickets import RefundTicketHandlers, RefundTickets
from .stores import StoreHandlers, Stores
from .settings import WaffoSettings
from .payments import WaffoPayments
from .plan_changes import EVENTS as PLAN_CHANGE_EVENTS, PlanChanges
from .subscriptions import EVENTS as SUBSCRIPTION_EVENTS, Subscriptions
from .triggers import WaffoTriggers

NAME = "waffo"
MOUNT = "/waffo"
# The contract's security schemes, as the credential kinds the gateway knows.
SCHEMES = {frozenset({"merchantId", "timestamp", "signature"}): API_KEY,
           frozenset({"storeSlug"}): SLUG, frozenset({"sessionToken"}): TOKEN}


@dataclass
class Waffo:
    """Everything the Waffo routes and control endpoints share (app.extensions["paymock.waffo"])."""
    core: object
    backend: models.WaffoBackend
    gateway: Gateway
    registry: MerchantRegistry
    idempotency: Idempotency
    core_outbox: object = None  # the outbox (core/webhooks.py), when the app delivers webhooks
    catalog: dict | None = None  # the catalog's waffo section (POST /_mock/waffo/products adds)


class WaffoProvider(Provider):
    name = NAME
    mount = MOUNT
    payment_pages = hosted.WaffoPaymentPages()
    hosted_routes = hosted.bp
    control_routes = control.bp
    idempotency = IdempotencyPolicy("X-Idempotency-Key", error_code="gateway")
    settings_model = WaffoSettings
    contract_support = WaffoContractSupport()

    def __init__(self):
        self._handlers = {}
        self._gateway = None
        self._credentials: dict[str, tuple[str, ...]] = {}

    def register(self, app, core, catalog: dict) -> None:
        app.extensions["paymock.provider.waffo"] = self
        waffo = _register(app, core, catalog, app.extensions["paymock.settings"].for_provider(self))
        self._gateway = waffo.gateway
        self._credentials = _credentials(core.contracts[NAME])
        self._handlers = {}
        for handlers in _handler_objects(waffo):
            overlap = self._handlers.keys() & handlers_of(handlers).keys()
            if overlap:
                raise ValueError(f"two Waffo handlers for {sorted(overlap)}")
            self._handlers.update(handlers_of(handlers))

    def handlers(self):
        return self._handlers

    def authenticate(self, request):
        try:
            return self._gateway.authenticate(request, self._credentials[request.operation_id])
        except AuthFailed as exc:
            # One documented wire message; the reason rides in a header so a tester sees why.
            raise ApiError(401, "Authentication failed", "gateway",
                           {"X-Paymock-Auth-Reason": exc.reason[:300]}) from None

    def render_error(self, status, code, message, headers=None):
        return render_error(status, code, message, headers)

    def namespace_label(self, namespace):
        merchant_id = self._gateway.merchant_of(namespace)
        merchant = self._gateway.registry.get(merchant_id) if merchant_id else None
        if merchant is None:
            return merchant_id
        return f"{merchant.name or 'merchant'} ({merchant_id}{', fixture' if merchant.fixture else ''})"

    def envelope(self, data):
        return {"data": data}

    def body_error(self, message, operation_id):
        return ApiError(400, "Invalid JSON body", "gateway")

    def validation_error(self, error, operation_id):
        return ApiError(400, error.message, error.code or OPERATION_LAYER.get(operation_id, "order"))

    def generate_catalog(self, seed, generated_at):
        return generate_section(seed, iso(generated_at))

    def handle_for_test(self, server_url):
        # A merchant of the test's own: a fresh key pair and MER_ id, registered with the server
        # when the test first uses it (merchant_handle.py), so a namespace of its own; and a
        # signer for its API-key calls.
        from .merchant_handle import WaffoHandle

        return WaffoHandle(server_url, MOUNT)


def _handler_objects(waffo: Waffo) -> list:
    """Every object whose `@handler` methods serve Waffo actions, one per area."""
    core, backend = waffo.core, waffo.backend
    stores = Stores(core.clock, waffo.gateway.slugs, core.contracts[NAME])
    backend.refund_tickets = tickets = RefundTickets(backend)  # reviewed by /_mock/waffo too
    core.persistence.register("waffo.refund_review", lambda: dict(tickets.rules),
                              lambda rules: tickets.rules.update(rules or {}))
    return [WaffoHandlers(backend), StoreHandlers(stores), ContentSafetyHandlers(),
            RefundTicketHandlers(backend.refund_tickets),
            GraphQLHandlers(core.clock, waffo.registry, waffo.core_outbox),
            ProductHandlers(Products(core.clock, stores)),
            ProductGroupHandlers(ProductGroups(core.clock, stores)),
            StoreWebhookHandlers(StoreWebhooks(core.clock, stores,
                                               waffo.core_outbox))]


def _credentials(contract) -> dict[str, tuple[str, ...]]:
    """operationId -> the credential kinds it takes, in the order its `security` lists them."""
    return {op_id: tuple(SCHEMES[frozenset(requirement)]
                         for requirement in contract.document["paths"][op.path][op.method.lower()]
                         .get("security", []))
            for op_id, op in contract.operations.items()}


def _register(app, core, catalog: dict, settings: WaffoSettings) -> Waffo:
    section = catalog.get("waffo", {})
    registry = MerchantRegistry()
    for merchant in section.get("merchants", []):
        for key in merchant.get("keys", []):
            registry.add_key(merchant["merchantId"], key["environment"], key["publicKeyPem"],
                             fixture=True, name=merchant.get("name", ""))
    slugs = {store["slug"]: (store["merchantId"], store["id"]) for store in section.get("stores", [])}
    tokens = TokenIssuer(core.clock)
    gateway = Gateway(core, registry, tokens, slugs, lenient=settings.lenient)
    psp = MockPsp(lambda checkout_id: core.url(f"/psp/waffo/{checkout_id}"), core.faults,
                  core.waits)
    backend = models.WaffoBackend(
        core.clock, tokens,
        lambda slug, session_id: core.url(f"/checkout/waffo/store/{slug}/checkout/{session_id}"),
        psp, change_url=lambda slug, session_id: core.url(
            f"/checkout/waffo/store/{slug}/change/{session_id}"))
    _wire_payments(app, core, backend, settings)
    idempotency = core.idempotency
    core.store.add_seeder(f"{NAME}:", lambda name: models.seed_objects(section,
                                                                       gateway.merchant_of(name)))
    core.providers[NAME] = gateway.namespace_name
    core.expirers["token"] = tokens.expire
    # --state-file: session tokens issued before a restart still verify after it.
    core.persistence.register("waffo.tokens", tokens.dump, tokens.load)
    # Slugs of stores made through store/create-store are credentials too: kept across a restart.
    core.persistence.register("waffo.store_slugs", lambda: dict(gateway.slugs),
                              lambda state: gateway.slugs.update(
                                  {slug: tuple(owner) for slug, owner in (state or {}).items()}))
    waffo = app.extensions["paymock.waffo"] = Waffo(core, backend, gateway, registry, idempotency,
                                                    app.extensions.get("paymock.webhooks"),
                                                    catalog.setdefault("waffo", section))
    _keep_added_products(core, waffo.catalog)
    if backend.payments is not None:  # triggers buy and pay through core payments
        WaffoTriggers(waffo).register(core.triggers)
    return waffo


def _keep_added_products(core, section: dict) -> None:
    """Products POST /_mock/waffo/products added to the catalog go into the state file, so that
    namespaces made after a restart have them too."""
    shipped = {p["id"] for p in section.get("products", ())}

    def restore(added) -> None:
        products = section.setdefault("products", [])
        known = {p["id"] for p in products}
        products.extend(p for p in added or () if p["id"] not in known)

    core.persistence.register("waffo.catalog_products",
                              lambda: [p for p in section.get("products", ())
                                       if p["id"] not in shipped], restore)


def _wire_payments(app, core, backend, settings: WaffoSettings) -> None:
    """Orders on core payments, subscriptions on the mock clock, and RSA-signed webhooks."""
    payments = app.extensions.get("paymock.payments")
    if payments is None:
        return
    outbox = app.extensions.get("paymock.webhooks")
    backend.payments = WaffoPayments(payments, core.clock, outbox, settings.payment_failed_event)
    backend.subscriptions = subscriptions = Subscriptions(backend, core.store, outbox,
                                                          core.scheduler.wake)
    backend.payments.subscriptions = subscriptions
    backend.plan_changes = PlanChanges(backend, subscriptions)
    core.scheduler.add("waffo.subscriptions", subscriptions.due.run)
    core.persistence.register("waffo.subscriptions", subscriptions.dump, subscriptions.load)
    if outbox is not None:
        outbox.channels[NAME] = webhooks.channel(
            backend.payments.events | set(SUBSCRIPTION_EVENTS) | set(PLAN_CHANGE_EVENTS))


register_provider(WaffoProvider())
