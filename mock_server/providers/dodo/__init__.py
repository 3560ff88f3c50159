"""Dodo Payments, mounted at /dodo."""
from __future__ import annotations

import uuid
from functools import partial

from ...core.errors import ApiError
from ...core.http import credential_namespace
from ...core.psp import MockPsp
from ...core.resource_engine import ResourceEngine
from ..base import Provider, handlers_of
from ..base import register as register_provider
from ..handles import ProviderHandle
from . import auth, hosted, models
from .balance_ledger import BalanceLedger, BalanceLedgerHandlers
from .catalog import generate as generate_section
from .contract_support import DodoContractSupport
from . import webhooks
from .errors import render_error
from .abandoned_checkouts import AbandonedCheckouts
from .abandoned_triggers import AbandonedTriggers
from .aftercare_handlers import DisputeHandlers, InvoiceHandlers, PayoutHandlers, RefundHandlers
from .disputes import Disputes
from .credit_cycles import CreditCycles
from .credit_handlers import CreditHandlers
from .credit_ledger import CreditLedger
from .credit_triggers import CreditTriggers
from .credits import CreditEntitlements
from .customer_handlers import CustomerHandlers
from .customer_portal import CustomerPortal
from .handlers import DodoHandlers
from .license_handlers import LicenseHandlers
from .license_keys import LicenseKeys
from .license_triggers import LicenseTriggers
from .licenses import Licenses
from .events import DodoEvents, event_types
from .invoices import Invoices
from .payment_methods import PaymentMethods
from .payment_retries import ManualRetries
from .payments import DodoPayments
from .payout_triggers import PayoutTriggers
from .docs_pages import DocsHandlers, DocsPages
from .generic_resources import DodoResourceStyle
from .payment_links import PaymentLinkHandlers, PaymentLinks
from .payouts import Payouts
from .refunds import Refunds
from .settings import DodoSettings
from .aftercare_triggers import AftercareTriggers
from .subscription_charges import SubscriptionCharges
from .subscription_handlers import SubscriptionHandlers
from .subscription_plans import PlanChanges
from .subscription_renewals import Renewals
from .subscription_triggers import SubscriptionTriggers
from .subscriptions import Subscriptions
from .triggers import CheckoutTriggers
from .brands import BrandHandlers, Brands
from .entitlement_grants import EntitlementGrantHandlers
from .short_links import ShortLinkHandlers, ShortLinks
from .usage_events import UsageEventHandlers, UsageEvents
from .wallets import WalletHandlers, Wallets
from .webhook_endpoints import DodoWebhookEndpoints, WebhookHandlers
from . import control

NAME = "dodo"
MOUNT = "/dodo"


class Dodo(Provider):
    name = NAME
    mount = MOUNT
    payment_pages = hosted.PAGES
    hosted_routes = hosted.bp
    control_routes = control.bp
    settings_model = DodoSettings
    contract_support = DodoContractSupport()

    def __init__(self):
        self._handlers = {}
        self._keys = frozenset()
        self._store = None
        # namespace -> the last characters of the key that made it (what the dashboard calls it;
        # the key itself is a secret and never kept)
        self._key_ends: dict[str, str] = {}
        self._public = frozenset()  # operationIds that take no API key
        self.generic = {}  # operationId -> core.resource_engine.Route, for those it serves

    def register(self, app, core, catalog: dict) -> None:
        app.extensions["paymock.provider.dodo"] = self
        settings = app.extensions["paymock.settings"].for_provider(self)
        backend = _register(app, core, catalog, settings)
        self._keys = settings.accepted_keys()
        self._store = core.store
        core.store.on_drop(lambda name: self._key_ends.pop(name, None))
        self._public = auth.public_operations(core.contracts[NAME].document)
        self._handlers = {}
        docs = DocsHandlers(DocsPages(core.contracts[NAME], MOUNT))
        for handlers in _handler_objects(backend) + [docs]:
            overlap = self._handlers.keys() & handlers_of(handlers).keys()
            if overlap:
                raise ValueError(f"two Dodo handlers for {sorted(overlap)}")
            self._handlers.update(handlers_of(handlers))
        # Every other operation of the contract: the generic engine (it never takes over one
        # served above).
        contract = core.contracts[NAME]
        self._style = DodoResourceStyle(backend)
        engine = ResourceEngine(contract, self._style, core.clock)
        self.generic = engine.plan([op for op in contract.operations if op not in self._handlers])
        self._handlers.update({op: engine.handler(op) for op in self.generic})

    def handlers(self):
        return self._handlers

    def generic_operations(self):
        return {op: route.role for op, route in self.generic.items()}

    def authenticate(self, request):
        if request.operation_id in self._public:
            return auth.public_caller(request, self._store, self._keys)
        caller = auth.authenticate(request.environ, self._keys)
        if caller.namespace not in self._key_ends:
            self._key_ends[caller.namespace] = auth.key_end(request.environ)
        return caller

    def namespace_label(self, namespace):
        if namespace == auth.PUBLIC_NAMESPACE:
            return "calls without an API key"
        end = self._key_ends.get(namespace)
        return f"API key …{end}" if end else None

    def render_error(self, status, code, message, headers=None):
        return render_error(status, code, message, headers)

    def body_error(self, message, operation_id):
        return ApiError(422, message, "INVALID_REQUEST_BODY")

    def validation_error(self, error, operation_id):
        return ApiError(422, error.message, error.code or "INVALID_REQUEST_BODY")

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


def _handler_objects(backend):
    """Every object whose `@handler` methods serve Dodo operations, one per area."""
    return [DodoHandlers(backend), SubscriptionHandlers(backend),
            WebhookHandlers(backend.webhook_endpoints), RefundHandlers(backend),
            DisputeHandlers(backend), InvoiceHandlers(backend), PayoutHandlers(backend),
            LicenseHandlers(backend.license_keys, backend.licenses), CustomerHandlers(backend),
            CreditHandlers(backend), PaymentLinkHandlers(PaymentLinks(backend)),
            UsageEventHandlers(backend.usage_events), WalletHandlers(Wallets(backend)),
            BalanceLedgerHandlers(BalanceLedger(backend)),
            ShortLinkHandlers(ShortLinks(backend, backend.public_url)),
            EntitlementGrantHandlers(backend.license_keys.grants), BrandHandlers(Brands(backend))]


def _register(app, core, catalog: dict, settings: DodoSettings) -> models.DodoBackend:
    core.store.add_seeder(f"{NAME}:", lambda _ns: models.seed(catalog))
    core.store.add_upgrade(f"{NAME}:", models.SESSION, models.upgrade_session)
    business_id = catalog.get("dodo", {}).get("business_id", "bus_paymock")
    backend = app.extensions["paymock.dodo"] = models.DodoBackend(
        core.clock, partial(_checkout_url, core), business_id
    )
    # The catalog section namespaces are seeded from; POST /_mock/dodo/products adds to it, and
    # what it added is kept in the state file (namespaces made after a restart have it too).
    backend.catalog = section = catalog.setdefault("dodo", {})
    shipped = {p["product_id"] for p in section.get("products", ())}

    def restore_added(added) -> None:
        products = section.setdefault("products", [])
        known = {p["product_id"] for p in products}
        products.extend(p for p in added or () if p["product_id"] not in known)

    core.persistence.register(
        "dodo.catalog_products",
        lambda: [p for p in section.get("products", ()) if p["product_id"] not in shipped],
        restore_added)
    # Credit entitlements are the catalog's: products attach them (products.py).
    backend = app.extensions["paymock.dodo"]
    backend.public_url = core.url  # a path -> the mock's address for it (links it hands out)
    backend.credits = backend.products.credits = CreditEntitlements(core.clock, business_id)
    backend.usage_events = UsageEvents(backend)  # counted by the meters (generic_resources.py)
    # Without the outbox (no payments wired), /webhooks answers 501.
    app.extensions["paymock.dodo"].webhook_endpoints = DodoWebhookEndpoints(None, None)
    _wire_payments(app, core, app.extensions["paymock.dodo"], settings)
    return app.extensions["paymock.dodo"]


def _checkout_url(core, session_id: str) -> str:
    return core.url(f"/checkout/dodo/session/{session_id}")


def _wire_payments(app, core, backend, settings: DodoSettings) -> None:
    """Core payments, the PSP pages under /psp/dodo/ and Standard Webhooks signing."""
    payments = app.extensions.get("paymock.payments")
    if payments is None:
        return
    outbox = app.extensions.get("paymock.webhooks")
    psp = MockPsp(lambda checkout_id: core.url(f"/psp/dodo/{checkout_id}"), core.faults,
                  core.waits)
    secret = webhooks.Secret(settings.webhook_secret or webhooks.DEFAULT_SECRET)
    if outbox is not None:
        events = event_types(core.contracts[NAME])
        outbox.channels[NAME] = webhooks.channel(secret, events, core.clock)
    backend.webhook_endpoints = DodoWebhookEndpoints(outbox, secret)
    backend.events = DodoEvents(outbox, core.clock, backend.business_id)
    backend.payments = DodoPayments(backend, payments, psp, backend.events)
    backend.payments.before_emit.append(backend.count_discount_use)
    backend.triggers = CheckoutTriggers(backend)
    backend.triggers.register(core.triggers)
    _wire_subscriptions(core, backend, settings)
    _wire_aftercare(core, backend)
    _wire_license_keys(core, backend)
    _wire_abandoned_checkouts(core, backend, settings)
    _wire_customers(core, backend)
    _wire_credits(core, backend)


def _wire_subscriptions(core, backend, settings: DodoSettings) -> None:
    """Subscriptions made by paid checkouts, renewed by a scheduler job on the mock clock; the
    job's index is rebuilt from the store when a --state-file is restored."""
    backend.payment_methods = PaymentMethods(backend)  # saved by subscriptions as they start
    backend.subscriptions = Subscriptions(backend, settings.subscription_grace_days)
    backend.renewals = Renewals(backend, backend.subscriptions, core.store, core.scheduler.wake)
    backend.retries = ManualRetries(backend)
    backend.plans = backend.renewals.plans = PlanChanges(backend)
    backend.payments.after_emit.append(backend.plans.on_payment)
    backend.charges = SubscriptionCharges(backend)
    backend.payments.before_emit.append(backend.subscriptions.on_payment)
    backend.payments.after_emit.append(backend.renewals.on_payment)
    core.scheduler.add("dodo.subscriptions", backend.renewals.run)
    core.persistence.register("dodo.subscriptions", backend.renewals.dump, backend.renewals.load)
    SubscriptionTriggers(backend).register(core.triggers)


def _wire_aftercare(core, backend) -> None:
    """Refunds, disputes and invoices of a paid payment, and what the Payment shows of them."""
    backend.refunds = Refunds(backend, backend.events)
    backend.disputes = Disputes(backend, backend.events, core.store, core.scheduler.wake)
    backend.invoices = Invoices(backend)
    backend.payments.before_emit.append(backend.refunds.remember_lines)
    backend.payments.renderers += [backend.refunds.extend_payment,
                                   backend.disputes.extend_payment]
    core.scheduler.add("dodo.dispute_deadlines", backend.disputes.expire_due)
    core.persistence.register("dodo.dispute_deadlines", backend.disputes.dump,
                              backend.disputes.load)
    AftercareTriggers(backend).register(core.triggers)
    backend.payouts = Payouts(backend)  # of the balance those leave, made by the control API
    PayoutTriggers(backend).register(core.triggers)


def _wire_license_keys(core, backend) -> None:
    """Keys issued once a license-key product's payment is told (after payment.succeeded)."""
    backend.license_keys = LicenseKeys(backend)
    backend.licenses = Licenses(backend.license_keys)
    backend.payments.before_emit.append(backend.license_keys.mark_payment)
    backend.payments.after_emit.append(backend.license_keys.on_payment)
    backend.subscriptions.on_event.append(backend.license_keys.on_subscription)
    backend.refunds.on_settled.append(backend.license_keys.on_refund)
    # The other entitlements' grants (and manual license keys'), after the keys' own.
    grants = backend.license_keys.grants
    backend.payments.after_emit.append(grants.on_payment)
    backend.subscriptions.on_event.append(grants.on_subscription)
    backend.refunds.on_settled.append(grants.on_refund)
    LicenseTriggers(backend).register(core.triggers)


def _wire_abandoned_checkouts(core, backend, settings: DodoSettings) -> None:
    """Each session that got a payment looked at again `abandoned_checkout_minutes` after its
    creation (a due-time heap on the mock clock); its customer's next paid checkout recovers it."""
    backend.abandoned = AbandonedCheckouts(backend, core.store, settings.abandoned_checkout_minutes,
                                           core.scheduler.wake)
    backend.payments.opened.append(backend.abandoned.on_session)
    backend.payments.after_emit.append(backend.abandoned.on_payment)
    core.scheduler.add("dodo.abandoned_checkouts", backend.abandoned.run)
    core.persistence.register("dodo.abandoned_checkouts", backend.abandoned.dump,
                              backend.abandoned.load)
    AbandonedTriggers(backend).register(core.triggers)


def _wire_customers(core, backend) -> None:
    """Saved payment methods (marked used by each charge) and the customer portal's sessions."""
    backend.payments.after_emit.append(backend.payment_methods.on_payment)
    backend.portal = CustomerPortal(
        backend, lambda token: core.url(f"/customer-portal/dodo/session/{token}"))


def _wire_credits(core, backend) -> None:
    """Credits granted by paid purchases, spent FIFO, rolled over at renewals and expired by a
    scheduler job on the mock clock (a due-time heap)."""
    backend.credit_ledger = CreditLedger(backend)
    backend.credit_cycles = CreditCycles(backend, backend.credit_ledger, core.store,
                                         core.scheduler.wake)
    backend.payments.after_emit.append(backend.credit_cycles.on_payment)
    core.scheduler.add("dodo.credit_expiry", backend.credit_cycles.run)
    core.persistence.register("dodo.credit_expiry", backend.credit_cycles.dump,
                              backend.credit_cycles.load)
    CreditTriggers(backend).register(core.triggers)


register_provider(Dodo())
