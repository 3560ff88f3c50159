"""A provider registered by a test (tests/toy_provider: one package, one contract file) gets
everything the built-in ones get, from the provider interface alone: routes from its contract,
authentication into namespaces, faults (rules and the header), idempotency, validation, the
journal, the control API, 501 for its documented-but-unbuilt operation, its 404/405 envelope."""
import hashlib

import pytest

from mock_server.app import create_app
from mock_server.http.routes import UnknownOperation
from mock_server.providers import base
from mock_server.providers.base import handler
from tests.toy_provider import Toy

ALICE = {"Authorization": "Bearer sk_test_alice"}
BOB = {"Authorization": "Bearer sk_test_bob"}
ALICE_NS = "toy:" + hashlib.sha256(b"sk_test_alice").hexdigest()[:16]


@pytest.fixture
def client():
    base.register(Toy())
    try:
        yield create_app().test_client()
    finally:
        base.unregister("toy")


def test_routes_come_from_its_contract_and_state_is_per_credential(client):
    made = client.post("/toy/things", json={"name": "kite"}, headers=ALICE)
    assert made.status_code == 200 and made.json["name"] == "kite"
    thing_id = made.json["id"]
    assert client.get(f"/toy/things/{thing_id}", headers=ALICE).json == made.json
    # Another credential is another namespace: Bob cannot see Alice's thing.
    missing = client.get(f"/toy/things/{thing_id}", headers=BOB)
    assert missing.status_code == 404
    assert missing.json == {"toy_error": {"status": 404, "code": "NOT_FOUND",
                                          "message": f"no thing {thing_id}"}}


def test_authentication_and_validation_answer_in_its_envelope(client):
    assert client.post("/toy/things", json={"name": "kite"}).json["toy_error"]["code"] == "UNAUTHENTICATED"
    assert client.post("/toy/things", json={"name": "kite"},
                       headers={"Authorization": "Bearer nope"}).status_code == 401
    invalid = client.post("/toy/things", json={"name": ""}, headers=ALICE)
    assert invalid.status_code == 400 and "name" in invalid.json["toy_error"]["message"]
    not_json = client.post("/toy/things", data=b"{", headers={**ALICE, "Content-Type": "application/json"})
    assert not_json.status_code == 400 and "JSON" in not_json.json["toy_error"]["message"]


def test_documented_but_unbuilt_is_501_undocumented_is_404_wrong_method_is_405(client):
    unbuilt = client.delete("/toy/things/thg_000000000000", headers=ALICE)
    assert unbuilt.status_code == 501
    assert unbuilt.json == {"toy_error": {"status": 501, "code": "NOT_IMPLEMENTED",
                                          "message": "not emulated by paymock: deleteThing"}}
    assert client.get("/toy/unknown", headers=ALICE).json["toy_error"]["status"] == 404
    wrong = client.put("/toy/things", headers=ALICE)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "OPTIONS, POST"
    assert wrong.json["toy_error"]["status"] == 405


def test_operations_lists_every_documented_operation_and_whether_it_is_emulated(client):
    listing = client.get("/_mock/operations").json
    assert sorted(listing["providers"]["toy"], key=lambda o: o["operation_id"]) == [
        {"operation_id": "createThing", "method": "POST", "path": "/things", "emulated": True,
         "served_by": "rules"},
        {"operation_id": "deleteThing", "method": "DELETE", "path": "/things/{thing_id}", "emulated": False,
         "served_by": None},
        {"operation_id": "getThing", "method": "GET", "path": "/things/{thing_id}", "emulated": True,
         "served_by": "rules"}]


def test_fault_rules_target_its_operations_and_answer_with_its_documented_body(client):
    assert client.post("/_mock/faults", json={"operation": "toy.createThing", "action": 503,
                                              "times": 1}).status_code == 201
    failed = client.post("/toy/things", json={"name": "kite"}, headers=ALICE)
    assert failed.status_code == 503
    assert failed.json == {"toy_error": {"status": 503, "code": "DOWN", "message": "the toy is resting"}}
    assert client.post("/toy/things", json={"name": "kite"}, headers=ALICE).status_code == 200
    # Even the unbuilt operation can be failed on purpose.
    assert client.post("/_mock/faults", json={"operation": "toy.deleteThing", "action": 429}).status_code == 201
    assert client.delete("/toy/things/x", headers=ALICE).status_code == 429
    refused = client.post("/_mock/faults", json={"operation": "toy.destroyThing", "action": 503})
    assert refused.status_code == 400
    assert "toy: createThing, deleteThing, getThing" in refused.json["error"]


def test_the_fault_header_works_after_authentication(client):
    assert client.post("/toy/things", json={"name": "kite"},
                       headers={"X-Paymock-Fault": "429"}).status_code == 401
    limited = client.post("/toy/things", json={"name": "kite"}, headers={**ALICE, "X-Paymock-Fault": "429"})
    assert limited.status_code == 429 and limited.json["toy_error"]["code"] == "TOO_MANY_REQUESTS"


def test_idempotency_where_it_declares_it(client):
    headers = {**ALICE, "Idempotency-Key": "k-1"}
    first = client.post("/toy/things", json={"name": "kite"}, headers=headers)
    again = client.post("/toy/things", json={"name": "kite"}, headers=headers)
    assert again.json == first.json and again.headers["X-Paymock-Idempotent-Replay"] == "true"
    # Another namespace's same key is its own.
    assert client.post("/toy/things", json={"name": "kite"},
                       headers={**BOB, "Idempotency-Key": "k-1"}).json["id"] != first.json["id"]
    bad = client.post("/toy/things", json={"name": "kite"}, headers={**ALICE, "Idempotency-Key": "no spaces"})
    assert bad.status_code == 400 and bad.json["toy_error"]["code"] == "IDEMPOTENCY"


def test_journal_state_and_reset_through_the_control_api(client):
    thing_id = client.post("/toy/things", json={"name": "kite"}, headers=ALICE).json["id"]
    entries = client.get("/_mock/journal", query_string={"namespace": ALICE_NS}).json["entries"]
    assert [(e["provider"], e["operation"], e["status"]) for e in entries] == [("toy", "createThing", 200)]
    assert "sk_test_alice" not in str(entries)  # the credential is redacted
    assert thing_id in str(client.get("/_mock/state", query_string={"namespace": ALICE_NS}).json)
    assert client.get("/_mock/toy/things").json == {ALICE_NS: 1}  # its own control route
    assert client.post("/_mock/reset", json={"namespace": ALICE_NS}).status_code == 200
    assert client.get(f"/toy/things/{thing_id}", headers=ALICE).status_code == 404


def test_its_control_routes_take_the_control_token_like_the_rest_of_the_control_api():
    from mock_server.config import Settings

    base.register(Toy())
    try:
        client = create_app(Settings(control_token="s3cret")).test_client()
    finally:
        base.unregister("toy")
    assert client.get("/_mock/toy/things").status_code == 401
    assert client.get("/_mock/toy/things", headers={"X-Paymock-Control-Token": "s3cret"}).json == {}


def test_a_handler_for_an_operation_the_contract_lacks_stops_the_start():
    class Typo(Toy):
        name, mount = "typo", "/typo"

        def handlers(self):
            return {**super().handlers(), **base.handlers_of(Extra())}

    class Extra:
        @handler("destroyThing")
        def destroy(self, req):
            return {}

    base.register(Typo())
    try:
        with pytest.raises(UnknownOperation, match="typo has a handler for destroyThing, which "
                           "contracts/typo/openapi.json does not document"):
            create_app()
    finally:
        base.unregister("typo")


def test_every_operation_of_the_built_in_contracts_is_emulated():
    listing = create_app().test_client().get("/_mock/operations").json
    assert set(listing["providers"]) == {"dodo", "waffo"}
    assert listing["emulated"] == listing["total"] == sum(len(ops) for ops in listing["providers"].values())
    assert {"create_session", "get_payment_handler"} <= {o["operation_id"] for o in listing["providers"]["dodo"]}


def test_paymock_contract_runs_schemathesis_against_it(capsys, tmp_path):
    """`paymock contract toy`: the kit starts a mock with the toy mounted and authenticates
    through the toy's ContractSupport. What the toy builds conforms to its contract; the
    unbuilt operation's 501 is reported, as a run against any half-built mock should."""
    from mock_server.cli import main

    base.register(Toy())
    try:
        built = main(["contract", "toy", "--max-examples", "5", "--seed", "1", "--operation",
                      "createThing", "--operation", "getThing", "--report", str(tmp_path / "built.txt")])
        everything = main(["contract", "toy", "--max-examples", "5", "--seed", "1",
                           "--report", str(tmp_path / "all.txt")])
    finally:
        base.unregister("toy")
    out = capsys.readouterr().out
    assert built == 0, out
    summary = (tmp_path / "built.txt").read_text()
    assert "POST /things" in summary and "GET /things/{thing_id}" in summary
    assert "paymock started by the kit" in summary and "0 failures" in summary
    assert everything == 1
    failures = (tmp_path / "all.txt").read_text().split("FAILURES", 1)[1]
    assert "DELETE /things/{thing_id}: not_a_server_error: Server error (status 501" in failures
    assert "POST /things" not in failures and "GET /things" not in failures
