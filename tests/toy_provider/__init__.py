"""A provider that exists only for tests: one package and one contract file, registered by a test,
to show that everything paymock does for Dodo and Waffo (auth, namespaces, faults, idempotency,
the journal, the control API, 501s, `paymock contract`) comes from the provider interface and
nothing else. Nothing outside this folder names it.

Its API: `Authorization: Bearer sk_test_...` (each token its own namespace), things with a name,
`Idempotency-Key` on creates, errors as {"toy_error": {status, code, message}}.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from flask import Blueprint, current_app, jsonify

from mock_server.core.contracts import Contract
from mock_server.core.http import json_response
from mock_server.core.errors import ApiError
from mock_server.core.request import KeyCaller, Request
from mock_server.providers.base import IdempotencyPolicy, Provider, handler, handlers_of
from mock_server.providers.contract_support import BearerTokenSupport

CONTRACT = Path(__file__).with_name("openapi.json")


class ToyHandlers:
    @handler("createThing")
    def create(self, req: Request):
        thing = {"id": f"thg_{secrets.token_hex(6)}", "name": req.body["name"]}
        req.ns.put("thing", thing["id"], thing)
        return thing

    @handler("getThing")
    def get(self, req: Request):
        thing = req.ns.get("thing", req.path["thing_id"])
        if thing is None:
            raise ApiError(404, f"no thing {req.path['thing_id']}", "NOT_FOUND")
        return thing
    # deleteThing is documented and has no handler: it answers 501.


control = Blueprint("toy_control", __name__)


@control.get("/things")
def count_things():
    """GET /_mock/toy/things: how many things each namespace holds (its control route)."""
    store = current_app.extensions["paymock"].store
    return jsonify({name: store.find(name).count("thing") for name in store.names()
                    if name.startswith("toy:")})


class ToyContractSupport(BearerTokenSupport):
    """`paymock contract toy`: a bearer token from --api-key or TOY_API_KEY (any one on the mock)."""

    token_env = "TOY_API_KEY"

    def document(self, provider) -> dict:
        return json.loads(CONTRACT.read_text())


class Toy(Provider):
    name, mount = "toy", "/toy"
    idempotency = IdempotencyPolicy("Idempotency-Key", "IDEMPOTENCY", frozenset({"createThing"}))
    contract_support = ToyContractSupport()
    control_routes = control

    def load_contract(self):
        return Contract(self.contract_support.document(self), "urn:paymock:contract:toy")

    def register(self, app, core, catalog):
        pass  # no catalog, no hosted pages: its state is what its clients create

    def handlers(self):
        return handlers_of(ToyHandlers())

    def authenticate(self, request):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.startswith("sk_test_"):
            raise ApiError(401, "send Authorization: Bearer sk_test_<anything>", "UNAUTHENTICATED")
        return KeyCaller("toy:" + hashlib.sha256(token.encode()).hexdigest()[:16], "token")

    def render_error(self, status, code, message, headers=None):
        # json_response, not flask.jsonify: this may run outside any Flask context.
        return json_response({"toy_error": {"status": status, "code": code or "ERROR",
                                            "message": message}}, status, headers)
