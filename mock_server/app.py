"""create_app(settings): wires the core, the providers and the control API into one Flask app."""
from __future__ import annotations

import copy

from flask import Flask, g, request

from . import fixtures
from .config import Settings
from .flaskapp import STARTED_ENV, PaymockFlask
from .control.faults import bp as control_faults_bp
from .control.routes import ControlError, render_control_error
from .control.payments import bp as control_payments_bp
from .control.routes import bp as control_bp
from .control.triggers import bp as control_triggers_bp
from .control.openapi_document import bp as control_openapi_bp
from .control.webhooks import bp as control_webhooks_bp
from .control.ui import bp as dashboard_bp
from . import guards
from .http import dispatch, pipeline, routes
from .core import fault_http, psp
from .core.clock import Clock
from .core.http import json_response
from .core.journal import Journal
from .core.payments import Payments
from .core.runtime import Core
from .core.store import Store
from .core.webhooks import Outbox
from .hosted import bp as hosted_bp
from .providers import registered
from .providers.base import for_path


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    settings = settings or Settings()
    app = PaymockFlask(__name__)
    catalog = fixtures.load(settings.fixtures)
    clock = clock or Clock()
    core = Core(
        clock=clock,
        store=Store(clock, retention=settings.expired_retention_seconds,
                    max_namespaces=settings.max_namespaces),
        journal=Journal(settings.journal_size),
        public_url=settings.base_url(),
        strict=settings.strict,
        fault_header=settings.fault_header and not settings.strict,
    )
    app.extensions["paymock"] = core
    app.extensions["paymock.settings"] = settings
    # Each app its own copy of every registered provider: what register() keeps (handlers,
    # accepted keys) belongs to this app, not to the others a test process builds.
    providers = app.extensions["paymock.providers"] = tuple(copy.copy(p) for p in registered())
    app.extensions["paymock.idempotency"] = core.idempotency
    guards.install(app, core, settings)
    _wire_payments(app, core, settings)
    operations = app.extensions["paymock.operations"] = []
    for provider in providers:
        core.contracts[provider.name] = provider.load_contract()
        provider.register(app, core, catalog)
        operations.extend(routes.mount(app, core, provider))
        if provider.hosted_routes is not None:
            app.register_blueprint(provider.hosted_routes)
        if provider.control_routes is not None:
            app.register_blueprint(provider.control_routes, url_prefix=f"/_mock/{provider.name}")
    app.register_blueprint(control_bp, url_prefix="/_mock")
    app.register_blueprint(control_faults_bp, url_prefix="/_mock")
    app.register_blueprint(control_payments_bp, url_prefix="/_mock")
    app.register_blueprint(control_webhooks_bp, url_prefix="/_mock")
    app.register_blueprint(control_triggers_bp, url_prefix="/_mock")
    app.register_blueprint(control_openapi_bp, url_prefix="/_mock")
    app.register_blueprint(dashboard_bp, url_prefix="/_mock/ui")
    app.register_blueprint(hosted_bp)
    _declare_fault_targets(core, app.extensions["paymock.webhooks"])
    if settings.webhook_url:
        app.extensions["paymock.webhooks"].add_endpoint(settings.webhook_url)
    _install_hooks(app, core)
    app.api_dispatch = dispatch.ApiDispatcher(app, core, app.extensions["paymock.providers"],
                                              settings.max_body_bytes)
    core.scheduler.start()
    return app


def _wire_payments(app: Flask, core: Core, settings: Settings) -> None:
    """Core payments and the webhook outbox, before the providers that plug into them."""
    payments = Payments(core.store, core.clock)
    outbox = Outbox(core.clock, core.faults, timeout=settings.webhook_timeout_seconds,
                    shutdown=core.shutdown, wake=core.scheduler.wake)
    # Checkouts that expire cancel their payment (and say so by webhook), endpoint or not.
    core.scheduler.add("payments.expiry", payments.expire_due)
    core.scheduler.add("webhooks", outbox.dispatch)
    app.extensions["paymock.payments"] = payments
    app.extensions["paymock.webhooks"] = outbox
    # --state-file: pending deliveries survive a restart, and expiry still finds open payments.
    core.persistence.register("payments", payments.dump, payments.load)
    core.persistence.register("webhooks", outbox.dump, outbox.load)


def _declare_fault_targets(core: Core, outbox: Outbox) -> None:
    """What fault rules may name: each API's operations, the PSP call, every webhook event."""
    for name, contract in core.contracts.items():
        core.faults.declare(name, contract.operations)
    core.faults.declare("psp", psp.OPERATIONS)
    core.faults.declare("webhook", outbox.event_types())


def _install_hooks(app: Flask, core: Core) -> None:
    app.register_error_handler(ControlError, render_control_error)

    @app.errorhandler(fault_http.InjectedResponse)
    def _injected(exc):
        return exc.response

    @app.after_request
    def _record(response):
        req = request._get_current_object()
        return pipeline.finish(core, req, g._get_current_object(), response,
                               req.environ[STARTED_ENV])

    @app.errorhandler(404)
    def _not_found(_exc):
        provider = for_path(app.extensions["paymock.providers"], request.path)
        if provider is not None:
            return provider.render_error(404, "NOT_FOUND", f"No route for {request.method} {request.path}")
        return json_response({"error": f"no route for {request.method} {request.path}"}, 404)

    @app.errorhandler(405)
    def _bad_method(exc):
        provider = for_path(app.extensions["paymock.providers"], request.path)
        message = f"{request.method} is not allowed on {request.path}"
        allow = {"Allow": ", ".join(sorted(exc.valid_methods or []))}  # RFC 9110 requires it
        if provider is not None:
            return provider.render_error(405, "METHOD_NOT_ALLOWED", message, allow)
        return json_response({"error": message}, 405, allow)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        # Never a traceback on the wire: the provider's own 500 envelope, details in the log.
        from werkzeug.exceptions import HTTPException
        if isinstance(exc, HTTPException):
            return exc
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        provider = for_path(app.extensions["paymock.providers"], request.path)
        if provider is not None:
            return provider.render_error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
        return json_response({"error": "internal error; see the server log"}, 500)

