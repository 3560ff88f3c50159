"""Fault injection on Dodo over HTTP: every documented status of every operation, undocumented
codes, connection faults, mangled bodies, commit-then-fail, the per-request header, and the
official SDK's retry behaviour."""
import time

import dodopayments
import pytest
import requests
from dodopayments import DodoPayments

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.core.contracts import Contract
from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY

CONTRACT = Contract.load("dodo")
CART = {"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]}
PLAN_CHANGE = {"product_id": "pdt_x", "quantity": 1, "proration_billing_mode": "full_immediately"}
SAMPLE_PATH_VALUES = {"id": "cks_sample", "customer_id": "cus_sample", "code": "SAMPLE",
                      "credit_entitlement_id": "cde_sample"}


def call(client, op, auth, headers=None):
    path = op.path
    for name, value in SAMPLE_PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    body = {"create_customer": {"name": "A", "email": "a@example.com"},
            "patch_customer": {"name": "A"}, "create_webhook": {"url": "http://127.0.0.1:1/x"},
            "patch_webhook": {"description": "A"},
            "patch_webhook_headers": {"headers": {"X-A": "1"}},
            "create_product": {"name": "A", "tax_category": "saas", "price": {
                "type": "one_time_price", "price": 100, "currency": "USD", "discount": 0,
                "purchasing_power_parity": False}},
            "patch_product": {"name": "A"},
            "create_discount_handler": {"type": "percentage", "amount": 100},
            "patch_discount_handler": {"amount": 100},
            "create_refund_handler": {"payment_id": "pay_sample"},
            "create_license_key": {"key": "K", "customer_id": "cus_sample", "product_id": "pdt_x"},
            "update_license_key": {}, "update_license_key_instance": {"name": "A"},
            "activate_license_key": {"license_key": "K", "name": "A"},
            "validate_license_key": {"license_key": "K"},
            "deactivate_license_key": {"license_key": "K", "license_key_instance_id": "lki_x"},
            "patch_subscription_handler": {"metadata": {}},
            "update": {"type": "existing", "payment_method_id": "pm_x"},
            "update_subscription_plan_handler": PLAN_CHANGE, "change_plan_preview_handler": PLAN_CHANGE,
            "create_subscription_charge": {"product_price": 100},
            "create_credit_entitlement": {"name": "A", "precision": 0, "unit": "u",
                                          "rollover_enabled": False, "overage_enabled": False},
            "patch_credit_entitlement": {"name": "A"},
            "create_ledger_entry_handler": {"entry_type": "credit", "amount": "1"},
            }.get(op.operation_id, CART)
    kwargs = {"json": body} if op.method in ("POST", "PATCH") else {}
    return client.open(f"/dodo{path}", method=op.method, headers={**auth, **(headers or {})}, **kwargs)


DOCUMENTED = [(op_id, int(status)) for op_id, op in CONTRACT.operations.items()
              for status in sorted(op.statuses) if not status.startswith("2")]


@pytest.mark.parametrize("op_id, status", DOCUMENTED)
def test_every_documented_status_answers_the_documented_body(client, auth, op_id, status):
    op = CONTRACT.operation(op_id)
    client.post("/_mock/faults", json={"provider": "dodo", "operation": op_id, "times": 1,
                                       "action": {"status": status}})
    response = call(client, op, auth)
    assert response.status_code == status
    assert response.json == CONTRACT.example(op_id, status)
    assert CONTRACT.response_errors(op_id, status, response.json) == []
    # Fired once only: the rule is spent, and the next call gets the mock's own answer.
    assert [r["exhausted"] for r in client.get("/_mock/faults").json["rules"]] == [True]
    call(client, op, auth)
    assert [r["fired"] for r in client.get("/_mock/faults").json["rules"]] == [1]


@pytest.mark.parametrize("status, code, message", [
    (418, "I'M_A_TEAPOT", "I'm a Teapot"), (503, "SERVICE_UNAVAILABLE", "Service Unavailable")])
def test_undocumented_statuses_get_a_well_formed_dodo_envelope(client, auth, status, code, message):
    client.post("/_mock/faults", json={"operation": "create_session", "action": {"status": status}})
    response = client.post("/dodo/checkouts", json=CART, headers=auth)
    assert response.status_code == status
    assert response.json == {"code": code, "message": message}


def test_headers_message_and_a_custom_body(client, auth):
    client.post("/_mock/faults", json={"operation": "create_session", "times": 1, "action": {
        "status": 429, "message": "Slow down", "headers": {"Retry-After": "7"}}})
    response = client.post("/dodo/checkouts", json=CART, headers=auth)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
    assert response.json == {"code": "TOO_MANY_REQUESTS", "message": "Slow down"}
    client.post("/_mock/faults", json={"operation": "create_session", "times": 1,
                                       "action": {"status": 400, "body": {"anything": ["goes"]}}})
    assert client.post("/dodo/checkouts", json=CART, headers=auth).json == {"anything": ["goes"]}


def test_commit_then_fail_stores_the_session_and_answers_500(client, auth):
    client.post("/_mock/faults", json={"operation": "create_session", "times": 1,
                                       "action": "commit-then-500"})
    response = client.post("/dodo/checkouts", json=CART, headers=auth)
    assert response.status_code == 500
    ns = credential_namespace("dodo", API_KEY)
    sessions = client.get(f"/_mock/state?namespace={ns}").json["namespaces"][ns]["session"]
    assert len(sessions) == 1  # the side effect happened


@pytest.mark.parametrize("mode, check", [
    ("non-json", lambda r: r.status_code == 502 and r.mimetype == "text/html" and b"502" in r.data),
    ("truncated", lambda r: r.status_code == 200 and r.data.startswith(b'{"session_id"')
     and not r.data.endswith(b"}")),
])
def test_mangled_bodies(client, auth, mode, check):
    client.post("/_mock/faults", json={"operation": "create_session", "times": 1, "action": mode})
    assert check(client.post("/dodo/checkouts", json=CART, headers=auth))


def test_body_predicate_and_namespace_scoping(client, auth):
    ns = credential_namespace("dodo", API_KEY)
    client.post("/_mock/faults", json={"operation": "create_session", "namespace": ns,
                                       "body_equals": {"/product_cart/0/quantity": 3}, "action": 409})
    assert client.post("/dodo/checkouts", json=CART, headers=auth).status_code == 200
    three = {"product_cart": [{**CART["product_cart"][0], "quantity": 3}]}
    assert client.post("/dodo/checkouts", json=three, headers=auth).status_code == 409
    other = {"Authorization": "Bearer sk_other"}
    assert client.post("/dodo/checkouts", json=three, headers=other).status_code == 200


def test_the_fault_header_is_a_one_off_and_off_in_strict_mode(client, auth):
    response = client.get("/dodo/products", headers={**auth, "X-Paymock-Fault": "503"})
    assert response.status_code == 503 and response.json["code"] == "SERVICE_UNAVAILABLE"
    assert client.get("/dodo/products", headers=auth).status_code == 200
    bad = client.get("/dodo/products", headers={**auth, "X-Paymock-Fault": "explode"})
    assert bad.status_code == 400 and "unknown preset 'explode'" in bad.json["message"]
    strict = create_app(Settings(strict=True)).test_client()
    assert strict.get("/dodo/products", headers={**auth, "X-Paymock-Fault": "503"}).status_code == 200


def test_control_api_lists_counts_deletes_and_resets(client, auth):
    added = client.post("/_mock/faults", json={"rules": [
        {"id": "one", "operation": "get_product_handler", "action": 500},
        {"id": "two", "operation": "create_session", "action": 500}]})
    assert added.status_code == 201
    client.get("/dodo/products/pdt_x", headers=auth)
    rules = {r["id"]: r for r in client.get("/_mock/faults").json["rules"]}
    assert (rules["one"]["fired"], rules["two"]["fired"]) == (1, 0)
    assert client.delete("/_mock/faults/one").json == {"deleted": "one"}
    assert client.delete("/_mock/faults/one").status_code == 404
    assert client.delete("/_mock/faults").json == {"deleted": 1}
    assert client.get("/_mock/faults").json == {"rules": []}


@pytest.mark.parametrize("body, fragment", [
    ({"action": {"status": 600}}, "from 100 to 599"),
    ({"rules": [{"action": 500}, {"action": {"bogus": 1}}]}, "rules[1]: action: unknown field"),
    ("not json", "body must be a fault rule"),
])
def test_bad_rules_are_400s_and_nothing_is_added(client, body, fragment):
    response = client.post("/_mock/faults", json=body) if not isinstance(body, str) else \
        client.post("/_mock/faults", data=body, content_type="application/json")
    assert response.status_code == 400 and fragment in response.json["error"]
    assert client.get("/_mock/faults").json["rules"] == []


def test_expire_a_session_now(client, auth):
    session_id = client.post("/dodo/checkouts", json=CART, headers=auth).json["session_id"]
    expired = client.post(f"/_mock/expire/session/{session_id}")
    assert expired.status_code == 200
    response = client.get(f"/dodo/checkouts/{session_id}", headers=auth)
    assert response.status_code == 404 and "has expired" in response.json["message"]
    assert client.post("/_mock/expire/session/cks_nope").status_code == 404


def test_scenario_through_the_control_api(client, auth):
    loaded = client.post("/_mock/scenario", json={"name": "t", "rules": [{"id": "s", "action": 503}]})
    assert loaded.status_code == 201 and loaded.json["rules"][0]["id"] == "s"
    assert client.get("/dodo/products", headers=auth).status_code == 503
    bad = client.post("/_mock/scenario", json={"rules": [{"action": 999}]})
    assert bad.status_code == 400 and "rules[0]" in bad.json["error"]


# -- over a real socket ---------------------------------------------------------------------------
def add_rule(server, rule):
    response = requests.post(f"{server.url}/_mock/faults", json=rule, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()["rules"][0]["id"]


@pytest.fixture
def live(live_server):
    yield live_server
    requests.delete(f"{live_server.url}/_mock/faults", timeout=5)


LIVE_AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_latency_is_added(live):
    add_rule(live, {"operation": "list_products_handler", "times": 1, "action": {"latency_ms": 300}})
    started = time.perf_counter()
    assert requests.get(f"{live.url}/dodo/products", headers=LIVE_AUTH, timeout=5).status_code == 200
    assert time.perf_counter() - started >= 0.3


@pytest.mark.parametrize("mode", ["reset", "drop"])
def test_connection_is_reset_or_dropped_without_an_answer(live, mode):
    add_rule(live, {"operation": "list_products_handler", "times": 1, "action": {"connection": mode}})
    with pytest.raises(requests.ConnectionError) as info:
        requests.get(f"{live.url}/dodo/products", headers=LIVE_AUTH, timeout=5)
    if mode == "reset":
        assert "reset" in str(info.value).lower()
    assert requests.get(f"{live.url}/dodo/products", headers=LIVE_AUTH, timeout=5).status_code == 200


def test_hang_outlasts_the_client_timeout(live):
    add_rule(live, {"operation": "list_products_handler", "times": 1,
                    "action": {"connection": "hang", "hang_seconds": 2}})
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{live.url}/dodo/products", headers=LIVE_AUTH, timeout=0.5)


def sdk(live, retries=2):
    return DodoPayments(bearer_token=API_KEY, base_url=f"{live.url}/dodo", max_retries=retries)


def count(live, rule_id):
    rules = requests.get(f"{live.url}/_mock/faults", timeout=5).json()["rules"]
    return next(r["fired"] for r in rules if r["id"] == rule_id)


def test_sdk_retries_a_500_sequence_and_then_succeeds(live):
    # retry-after-ms keeps the SDK's back-off short; it honours the header as documented.
    rule = add_rule(live, {"operation": "create_session", "sequence": [
        {"status": 500, "headers": {"retry-after-ms": "10"}},
        {"status": 500, "headers": {"retry-after-ms": "10"}}]})
    session = sdk(live).checkout_sessions.create(**CART)
    assert session.session_id.startswith("cks_")
    assert count(live, rule) == 2  # two 500s, then the third attempt went through


def test_sdk_gives_up_after_its_retries(live):
    rule = add_rule(live, {"operation": "create_session",
                           "action": {"status": 500, "headers": {"retry-after-ms": "10"}}})
    with pytest.raises(dodopayments.InternalServerError):
        sdk(live).checkout_sessions.create(**CART)
    assert count(live, rule) == 3  # the first try and two retries


def test_sdk_does_not_retry_when_told_not_to(live):
    rule = add_rule(live, {"operation": "create_session", "action": "no-retry-500"})
    with pytest.raises(dodopayments.InternalServerError) as info:
        sdk(live).checkout_sessions.create(**CART)
    assert info.value.body == {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}
    assert count(live, rule) == 1


def test_sdk_retries_after_a_commit_then_fail_duplicate_the_session(live):
    """Dodo has no idempotency key: a create that committed but answered 500 is created twice when
    the SDK retries. The mock shows that truthfully, which is what a merchant needs to test."""
    ns = credential_namespace("dodo", API_KEY)
    before = len(requests.get(f"{live.url}/_mock/state", params={"namespace": ns}, timeout=5)
                 .json()["namespaces"][ns].get("session", {}))
    add_rule(live, {"operation": "create_session", "times": 1,
                    "action": {"status": 500, "commit": True, "headers": {"retry-after-ms": "10"}}})
    sdk(live).checkout_sessions.create(**CART)
    after = len(requests.get(f"{live.url}/_mock/state", params={"namespace": ns}, timeout=5)
                .json()["namespaces"][ns]["session"])
    assert after == before + 2


def test_patch_breaks_the_real_answer_on_purpose(client, auth):
    client.post("/_mock/faults", json={"operation": "create_session", "times": 1,
                                       "action": {"patch": {"/session_id": 123}}})
    response = client.post("/dodo/checkouts", json=CART, headers=auth)
    assert response.status_code == 200 and response.json["session_id"] == 123
    assert CONTRACT.response_errors("create_session", 200, response.json) == [
        "session_id: expected string, got integer"]
    bad = client.post("/_mock/faults", json={"action": {"status": 500, "patch": {"/a": 1}}})
    assert bad.status_code == 400 and "cannot go with an error status" in bad.json["error"]
