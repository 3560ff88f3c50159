"""`GET /`: where everything is, for a browser (a page of links) or a script (the same as JSON):
each provider's API base URL, the control API's main endpoints, the hosted pages, the webhook
verification keys. It shows URLs only, so it needs no control token."""
from __future__ import annotations

from flask import current_app, request

from .. import __version__
from ..core.http import json_response
from .pages import page

DASHBOARD = "/_mock/ui"
CONTROL = (
    (DASHBOARD, "the dashboard: see and steer everything the mock holds, in a browser"),
    ("/_mock/health", "health, version and clock"),
    ("/_mock/openapi.json", "the control API's own OpenAPI document"),
    ("/_mock/operations", "every operation of every provider, and which are emulated"),
    ("/_mock/namespaces", "namespaces (one per API key or merchant) and their object counts"),
    ("/_mock/state", "every object, by namespace and kind"),
    ("/_mock/journal", "the last requests of each namespace"),
    ("/_mock/webhooks/deliveries", "webhook deliveries and their attempts"),
    ("/_mock/faults", "fault rules, with matched and fired counts"),
    ("/_mock/trigger", "the events each provider can make happen on demand"),
    ("/_mock/clock", "the mock clock"),
    ("/_mock/webhooks/public-key?provider=waffo", "the public key Waffo webhooks verify with"),
    ("/_mock/webhooks/secret?provider=dodo", "the secret Dodo webhooks verify with"),
)


def register(bp) -> None:
    @bp.get("/")
    def home():
        core = current_app.extensions["paymock"]
        base = core.public_url.rstrip("/")
        providers = [{"name": p.name, "base_url": base + p.mount}
                     for p in current_app.extensions["paymock.providers"]]
        control = [{"url": base + path, "what": what} for path, what in CONTROL]
        # A browser asks for HTML first; curl's */* and scripts get JSON.
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            return page("home.html", title="paymock", version=__version__, providers=providers,
                        control=control, base=base, dashboard=base + DASHBOARD)
        return json_response({"paymock": __version__, "providers": providers,
                              "dashboard": base + DASHBOARD,
                              "control": control,
                              "docs": "https://github.com/paymock/paymock#readme"})
