"""The control API's own OpenAPI document (contracts/control/openapi.json, served at
GET /_mock/openapi.json): a well-formed OpenAPI 3.1 document, documenting every /_mock route and
no other, whose schemas the real answers meet."""
import json
import re
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mock_server import __version__, resources
from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control import routes as control_routes
from mock_server.control.openapi_document import document_source
from mock_server.core import fault_actions, payments, webhooks
from mock_server.core.http import credential_namespace
from mock_server.providers.dodo import disputes, payouts
from tests.conftest import API_KEY

DOC = json.loads(document_source().read_text(encoding="utf-8"))
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
URN = "urn:paymock:control-openapi"
REGISTRY = Registry().with_resource(
    URN, Resource.from_contents(DOC, default_specification=DRAFT202012))
NS = credential_namespace("dodo", API_KEY)


def pointer(*parts) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(ref: str):
    assert ref.startswith("#/"), f"only local references: {ref}"
    node = DOC
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
            continue
        assert isinstance(node, dict) and token in node, f"{ref} does not resolve"
        node = node[token]
    return node


def operations():
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def walk(node, where=()):
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*where, index))


def schemas_in(operation):
    """Every schema an operation states (parameters, body, answers), $refs not followed."""
    for param in operation.get("parameters", []):
        param = resolve(param["$ref"]) if "$ref" in param else param
        yield param["schema"]
    for media in operation.get("requestBody", {}).get("content", {}).values():
        yield media["schema"]
    for response in operation["responses"].values():
        for media in response.get("content", {}).values():
            yield media["schema"]


# -- the document ----------------------------------------------------------------------------

def test_the_document_is_openapi_3_1():
    assert re.fullmatch(r"3\.1\.\d+", DOC["openapi"])
    assert DOC["info"]["title"] and DOC["info"]["version"]
    assert DOC["servers"] == [{"url": "http://127.0.0.1:8787",
                               "description": "paymock serve's default"}]
    assert set(DOC) <= {"openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks",
                        "components", "security", "tags", "externalDocs"}
    schemes = DOC["components"]["securitySchemes"]
    assert schemes["controlBearer"] == {**schemes["controlBearer"], "type": "http",
                                        "scheme": "bearer"}
    assert schemes["controlToken"] == {**schemes["controlToken"], "type": "apiKey",
                                       "in": "header", "name": "X-Paymock-Control-Token"}
    # {} first: the token is needed only when the server has one
    assert DOC["security"] == [{}, {"controlBearer": []}, {"controlToken": []}]
    tags = {tag["name"] for tag in DOC["tags"]}
    ids = [operation["operationId"] for _, _, operation in operations()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    for path, method, operation in operations():
        where = f"{method.upper()} {path}"
        assert path.startswith("/_mock/"), where
        assert set(DOC["paths"][path]) <= HTTP_METHODS | {"summary", "description",
                                                          "parameters", "servers"}, where
        assert re.fullmatch(r"[a-z]+(?:[A-Z0-9][a-z0-9]*)*", operation["operationId"]), where
        assert operation["summary"].strip(), where
        assert set(operation["tags"]) <= tags, where
        declared = {}
        for param in operation.get("parameters", []):
            param = resolve(param["$ref"]) if "$ref" in param else param
            assert param["in"] in ("path", "query", "header", "cookie"), where
            assert "schema" in param, where
            declared[(param["in"], param["name"])] = param
        in_path = set(re.findall(r"{([^}]+)}", path))
        assert {name for kind, name in declared if kind == "path"} == in_path, where
        assert all(declared[("path", name)]["required"] is True for name in in_path), where
        if "requestBody" in operation:
            assert operation["requestBody"]["content"], where
        responses = operation["responses"]
        assert responses, where
        successes = [code for code in responses if code.startswith("2")]
        assert len(successes) == 1, where
        assert {"401", "403"} <= set(responses), where  # the guard answers them on every route
        for code, response in responses.items():
            assert re.fullmatch(r"[1-5]\d\d", code), where
            response = resolve(response["$ref"]) if "$ref" in response else response
            assert response["description"], where
            assert response["content"], where
            if not code.startswith("2"):
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}, where


def test_the_document_meets_the_official_openapi_3_1_schema():
    """The OpenAPI 3.1 JSON Schema (spec.openapis.org/oas/3.1/schema/2022-10-07), in the copy
    Schemathesis (a test dependency) ships; it leaves schema objects to the test below."""
    from schemathesis.specs.openapi import definitions  # the test extra has it: fail, not skip
    validator = Draft202012Validator(definitions.OPENAPI_31)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(DOC)]
    assert errors == []


def test_every_reference_resolves_and_every_schema_is_json_schema_2020_12():
    refs = [node["$ref"] for _, node in walk(DOC) if isinstance(node, dict)
            and isinstance(node.get("$ref"), str)]
    assert refs
    for ref in refs:
        resolve(ref)
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for _, _, operation in operations():
        for schema in schemas_in(operation):
            Draft202012Validator.check_schema(schema)
    error = resolve("#/components/schemas/Error")
    assert error["required"] == ["error"] and error["properties"]["error"]["type"] == "string"


@pytest.fixture(scope="module")
def fresh_app():
    app = create_app(Settings(port=0))
    yield app
    app.extensions["paymock"].scheduler.stop()


def control_routes_of(app) -> set[tuple[str, str]]:
    """The control API's routes: /_mock, except the dashboard's pages (/_mock/ui, HTML for a
    browser, which calls the documented API for everything it changes)."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/_mock/ui"):
            continue
        if rule.rule == "/_mock" or rule.rule.startswith("/_mock/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_it_documents_every_control_route_and_no_other(fresh_app):
    served = control_routes_of(fresh_app)
    documented = {(method.upper(), path) for path, method, _ in operations()}
    assert len(served) > 50
    assert served - documented == set(), "control routes the document does not describe"
    assert documented - served == set(), "documented operations no route serves"


def enum_of(ref: str):
    return set(resolve(ref)["enum"])


def test_its_enums_are_the_servers(fresh_app):
    """The values the document lists are those the code takes: a new provider, outcome, preset
    or action must be documented too."""
    core = fresh_app.extensions["paymock"]
    outbox = fresh_app.extensions["paymock.webhooks"]
    schemas = "#/components/schemas"
    outcome = "#/paths/~1_mock~1payments~1{obj_id}~1outcome/post/requestBody/content/" \
              "application~1json/schema/properties/outcome"
    assert enum_of(outcome) == set(payments.OUTCOMES)
    assert enum_of(f"{schemas}/TestCards/properties/outcomes/items") == set(payments.OUTCOMES)
    assert enum_of(f"{schemas}/FaultAction/properties/preset") == set(fault_actions.PRESETS)
    assert enum_of(f"{schemas}/FaultAction/properties/connection") == \
        set(fault_actions.CONNECTION_MODES)
    assert enum_of(f"{schemas}/FaultAction/properties/body_mode") == set(fault_actions.BODY_MODES)
    assert enum_of(f"{schemas}/FaultAction/properties/webhook") == \
        set(fault_actions.WEBHOOK_MODES)
    assert set(resolve(f"{schemas}/FaultAction")["properties"]) == fault_actions.ACTION_KEYS
    assert enum_of(f"{schemas}/FaultRuleInput/properties/provider") == \
        {*core.contracts, "psp", "webhook"}
    assert enum_of(f"{schemas}/TriggerRequest/properties/provider") == \
        set(core.triggers.providers())
    assert enum_of(f"{schemas}/WebhookEndpointInput/properties/provider") == set(outbox.channels)
    assert enum_of(f"{schemas}/WebhookDelivery/properties/status") == \
        {"pending", "held", *webhooks.FINISHED}
    clock_action = "#/paths/~1_mock~1clock~1{action}/post/parameters/0/schema"
    assert enum_of(clock_action) == set(control_routes.CLOCK_ACTIONS)
    dispute_action = "#/paths/~1_mock~1dodo~1disputes~1{dispute_id}~1{action}/post/" \
                     "parameters/1/schema"
    assert enum_of(dispute_action) == set(disputes.MOVES)
    payout_action = "#/paths/~1_mock~1dodo~1payouts~1{payout_id}~1{action}/post/parameters/1/" \
                    "schema"
    assert enum_of(payout_action) == set(payouts.MOVES)


# -- the answers meet it ---------------------------------------------------------------------

def check(response, method: str, path: str):
    """Validate a test-client answer against what the document says `method path` answers
    with that status; returns the JSON (or the text of a non-JSON answer)."""
    operation = DOC["paths"][path][method.lower()]
    code = str(response.status_code)
    assert code in operation["responses"], \
        f"{method} {path} answered {code}, undocumented: {response.get_data(as_text=True)}"
    documented = operation["responses"][code]
    base = ("paths", path, method.lower(), "responses", code)
    if "$ref" in documented:
        base = tuple(documented["$ref"][2:].split("/"))
        documented = resolve(documented["$ref"])
    assert response.mimetype in documented["content"], (method, path, response.mimetype)
    if response.mimetype != "application/json":
        text = response.get_data(as_text=True)
        assert isinstance(text, str) and text
        return text
    body = response.get_json()
    schema_at = pointer(*base, "content", response.mimetype, "schema") if len(base) == 5 else \
        "/" + "/".join(base) + pointer("content", response.mimetype, "schema")
    validator = Draft202012Validator({"$ref": f"{URN}#{quote(schema_at, safe='/~')}"},
                                     registry=REGISTRY,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method} {path} {code}: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return body


def make_session(client, auth, catalog):
    body = {"product_cart": [{"product_id": catalog.dodo_id("ebook_guide"), "quantity": 1}]}
    return client.post("/dodo/checkouts", json=body, headers=auth).json["session_id"]


def test_state_and_clock_answers_meet_the_document(client, auth, catalog):
    assert check(client.get("/_mock/health"), "GET", "/_mock/health")["status"] == "ok"
    make_session(client, auth, catalog)
    check(client.get("/_mock/state"), "GET", "/_mock/state")
    check(client.get(f"/_mock/state?namespace={NS}"), "GET", "/_mock/state")
    check(client.get("/_mock/state?namespace=dodo:nope"), "GET", "/_mock/state")
    check(client.get("/_mock/state?limit=0"), "GET", "/_mock/state")
    assert check(client.get("/_mock/namespaces"), "GET", "/_mock/namespaces")["namespaces"]
    check(client.get("/_mock/operations"), "GET", "/_mock/operations")
    assert check(client.get(f"/_mock/journal?namespace={NS}"), "GET", "/_mock/journal")["entries"]
    before = check(client.get("/_mock/clock"), "GET", "/_mock/clock")
    moved = check(client.post("/_mock/clock/advance", json={"seconds": 60}),
                  "POST", "/_mock/clock/{action}")
    assert moved["epoch"] == before["epoch"] + 60
    check(client.post("/_mock/clock/advance", json={"seconds": "ten"}),
          "POST", "/_mock/clock/{action}")
    check(client.post("/_mock/clock/rewind", json={}), "POST", "/_mock/clock/{action}")
    check(client.post("/_mock/clock", json={"action": "freeze", "at": 100}),
          "POST", "/_mock/clock")
    assert check(client.post("/_mock/reset", json={"namespace": NS}),
                 "POST", "/_mock/reset") == {"reset": [NS]}


def test_fault_and_trigger_answers_meet_the_document(client):
    added = check(client.post("/_mock/faults", json={
        "provider": "dodo", "operation": "create_session", "action": "rate-limit", "times": 1}),
        "POST", "/_mock/faults")["rules"][0]
    check(client.post("/_mock/faults", json={"rules": [{"action": {"latency_range_ms": [1, 2]}},
                                                       {"sequence": [None, 503]}]}),
          "POST", "/_mock/faults")
    check(client.post("/_mock/faults", json={"action": {"status": 99}}), "POST", "/_mock/faults")
    assert check(client.get("/_mock/faults"), "GET", "/_mock/faults")["rules"][0]["id"] == \
        added["id"]
    check(client.get("/_mock/faults/presets"), "GET", "/_mock/faults/presets")
    check(client.post("/_mock/scenario", json={"rules": [{"provider": "psp", "for_seconds": 5,
                                                          "action": {"status": 503}}]}),
          "POST", "/_mock/scenario")
    check(client.delete(f"/_mock/faults/{added['id']}"), "DELETE", "/_mock/faults/{rule_id}")
    check(client.delete("/_mock/faults/rule_nope"), "DELETE", "/_mock/faults/{rule_id}")
    check(client.delete("/_mock/faults"), "DELETE", "/_mock/faults")
    triggers = check(client.get("/_mock/trigger"), "GET", "/_mock/trigger")
    assert "payment.succeeded" in triggers["providers"]["dodo"]
    made = check(client.post("/_mock/trigger", json={"event": "payment.succeeded",
                                                     "namespace": NS}), "POST", "/_mock/trigger")
    assert made["namespace"] == NS
    check(client.post("/_mock/trigger", json={"provider": "dodo", "event": "nope.never",
                                              "namespace": NS}), "POST", "/_mock/trigger")
    events = check(client.get(f"/_mock/webhooks/events?namespace={NS}"),
                   "GET", "/_mock/webhooks/events")["events"]
    assert "payment.succeeded" in {event["type"] for event in events}


def test_payment_and_webhook_answers_meet_the_document(client, auth, catalog):
    endpoint = check(client.post("/_mock/webhooks/endpoints", json={
        "url": "http://127.0.0.1:9/hooks", "provider": "dodo"}),
        "POST", "/_mock/webhooks/endpoints")
    session_id = make_session(client, auth, catalog)
    outcome = "/_mock/payments/{obj_id}/outcome"
    paid = check(client.post(f"/_mock/payments/{session_id}/outcome", json={"outcome": "paid"}),
                 "POST", outcome)["payment"]
    assert paid["status"] == "succeeded" and paid["namespace"] == NS
    check(client.post(f"/_mock/payments/{session_id}/outcome", json={"outcome": "declined"}),
          "POST", outcome)  # 409: succeeded is final
    check(client.post("/_mock/payments/cks_nope/outcome", json={"outcome": "paid"}),
          "POST", outcome)
    check(client.post(f"/_mock/payments/{session_id}/outcome", json={"outcome": "maybe"}),
          "POST", outcome)
    check(client.get(f"/_mock/payments/{paid['id']}"), "GET", "/_mock/payments/{obj_id}")
    check(client.get("/_mock/payments"), "GET", "/_mock/payments")
    check(client.get("/_mock/cards"), "GET", "/_mock/cards")
    deliveries = check(client.get(f"/_mock/webhooks/deliveries?namespace={NS}"),
                       "GET", "/_mock/webhooks/deliveries")["deliveries"]
    assert deliveries
    check(client.get(f"/_mock/webhooks/deliveries/{deliveries[0]['id']}"),
          "GET", "/_mock/webhooks/deliveries/{delivery_id}")
    check(client.post(f"/_mock/webhooks/endpoints/{endpoint['id']}/rotate-secret", json={}),
          "POST", "/_mock/webhooks/endpoints/{endpoint_id}/rotate-secret")
    check(client.get("/_mock/webhooks/endpoints"), "GET", "/_mock/webhooks/endpoints")
    check(client.get("/_mock/webhooks/secret?provider=dodo"), "GET", "/_mock/webhooks/secret")
    pem = check(client.get("/_mock/webhooks/public-key"), "GET", "/_mock/webhooks/public-key")
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    check(client.delete("/_mock/webhooks/endpoints"), "DELETE", "/_mock/webhooks/endpoints")


def test_provider_answers_meet_the_document(client):
    check(client.post("/_mock/dodo/refunds/outcome", json={"namespace": NS, "outcome": "pending"}),
          "POST", "/_mock/dodo/refunds/outcome")
    check(client.get(f"/_mock/dodo/payouts/balance?namespace={NS}"),
          "GET", "/_mock/dodo/payouts/balance")
    check(client.post("/_mock/dodo/disputes", json={"payment_id": "pay_nope", "namespace": NS}),
          "POST", "/_mock/dodo/disputes")
    merchants = check(client.get("/_mock/waffo/merchants"), "GET", "/_mock/waffo/merchants")
    merchant_id = merchants["merchants"][0]["merchantId"]
    check(client.get(f"/_mock/waffo/merchants/{merchant_id}"),
          "GET", "/_mock/waffo/merchants/{merchant_id}")
    check(client.post("/_mock/waffo/refund-review", json={"action": "approve"}),
          "POST", "/_mock/waffo/refund-review")


# -- serving it ------------------------------------------------------------------------------

def test_the_server_answers_the_document_with_its_own_url(client):
    response = client.get("/_mock/openapi.json")
    served = check(response, "GET", "/_mock/openapi.json")
    assert response.mimetype == "application/json"
    assert served["servers"] == [{"url": "http://mock.test", "description": "this paymock server"}]
    assert served["info"]["version"] == __version__
    assert {k: v for k, v in served.items() if k not in ("servers", "info")} == \
        {k: v for k, v in DOC.items() if k not in ("servers", "info")}
    assert document_source() == resources.contracts() / "control" / "openapi.json"


def test_the_control_token_guards_the_document():
    app = create_app(Settings(public_url="http://mock.test", control_token="s3cret-token"))
    try:
        client = app.test_client()
        refused = client.get("/_mock/openapi.json")
        assert refused.status_code == 401
        check(refused, "GET", "/_mock/openapi.json")
        for headers in ({"Authorization": "Bearer s3cret-token"},
                        {"X-Paymock-Control-Token": "s3cret-token"}):
            answer = client.get("/_mock/openapi.json", headers=headers)
            assert answer.status_code == 200
            assert answer.json["servers"][0]["url"] == "http://mock.test"
    finally:
        app.extensions["paymock"].scheduler.stop()
