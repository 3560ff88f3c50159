"""Every documented operation is reachable: routed ones are emulated, the others answer 501 in the
provider's envelope, and GET /_mock/operations lists both. Shown with a toy provider registered in
the test (nothing outside this file changes for it)."""
import pytest
from flask import Blueprint, jsonify

from mock_server.app import create_app
from mock_server.core.contracts import Contract
from mock_server.operations import UndocumentedRoute
from mock_server.providers.base import Provider, register, unregister

TOY_CONTRACT = {
    "openapi": "3.1.0", "info": {"title": "toy", "version": "1"},
    "paths": {
        "/things/{thing_id}": {"get": {"operationId": "getThing", "responses": {"200": {"description": "a thing"}}}},
        "/things": {"post": {"operationId": "createThing", "responses": {"200": {"description": "made"}}}},
    },
}


class Toy(Provider):
    name, mount = "toy", "/toy"

    def register(self, app, core, catalog):
        core.contracts[self.name] = Contract(TOY_CONTRACT, "urn:paymock:contract:toy")
        bp = Blueprint("toy", __name__)
        bp.add_url_rule("/things/<thing_id>", "getThing", lambda thing_id: jsonify(id=thing_id))
        app.register_blueprint(bp, url_prefix=self.mount)

    def render_error(self, status, code, message, headers=None):
        response = jsonify(toy_error={"status": status, "code": code, "message": message})
        response.status_code = status
        response.headers.update(headers or {})
        return response


@pytest.fixture
def toy_app():
    register(Toy())
    try:
        yield create_app()
    finally:
        unregister("toy")


def test_a_documented_operation_without_a_route_answers_501_in_the_providers_envelope(toy_app):
    client = toy_app.test_client()
    assert client.get("/toy/things/t1").json == {"id": "t1"}
    response = client.post("/toy/things", json={})
    assert response.status_code == 501
    assert response.json == {"toy_error": {"status": 501, "code": "NOT_IMPLEMENTED",
                                           "message": "not emulated by paymock: createThing"}}
    # An undocumented path is still the provider's 404, not a 501.
    assert client.get("/toy/unknown").json["toy_error"]["status"] == 404


def test_operations_lists_every_documented_operation_and_whether_it_is_emulated(toy_app):
    listing = toy_app.test_client().get("/_mock/operations").json
    assert listing["providers"]["toy"] == [
        {"operation_id": "getThing", "method": "GET", "path": "/things/{thing_id}", "emulated": True},
        {"operation_id": "createThing", "method": "POST", "path": "/things", "emulated": False}]
    assert listing["total"] == listing["emulated"] + 1


def test_every_operation_of_the_built_in_contracts_is_emulated():
    listing = create_app().test_client().get("/_mock/operations").json
    assert set(listing["providers"]) == {"dodo", "waffo"}
    assert listing["emulated"] == listing["total"] == sum(len(ops) for ops in listing["providers"].values())
    assert {"create_session", "get_payment_handler"} <= {o["operation_id"] for o in listing["providers"]["dodo"]}


def test_fault_rules_may_name_the_toy_providers_operations(toy_app):
    client = toy_app.test_client()
    assert client.post("/_mock/faults", json={"operation": "toy.createThing", "action": 503}).status_code == 201
    refused = client.post("/_mock/faults", json={"provider": "toy", "operation": "deleteThing", "action": 503})
    assert refused.status_code == 400 and "toy: createThing, getThing" in refused.json["error"]


def test_a_route_no_operation_documents_stops_the_start():
    class Sloppy(Toy):
        name, mount = "sloppy", "/sloppy"

        def register(self, app, core, catalog):
            super().register(app, core, catalog)
            app.add_url_rule("/sloppy/things/<thing_id>/frobnicate", "sloppy_frob",
                             lambda thing_id: "", methods=["POST"])

    register(Sloppy())
    try:
        with pytest.raises(UndocumentedRoute, match=r"sloppy routes POST "
                           r"/sloppy/things/<thing_id>/frobnicate \(sloppy_frob\), which "
                           r"contracts/sloppy/openapi.json does not document"):
            create_app()
    finally:
        unregister("sloppy")
