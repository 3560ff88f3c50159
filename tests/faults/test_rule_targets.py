"""A rule must name a provider, operation and preset that exist: a misspelt one is refused with a
400 that lists the valid names, from every entrance (control API, Python client and pytest helper,
scenario files), instead of sitting there never firing."""
import json
import subprocess
import sys

import pytest

from mock_server.control.client import ControlAPIError
from mock_server.core.fault_actions import FaultRuleError
from mock_server.core.faults import FaultEngine


def add(client, rule):
    return client.post("/_mock/faults", json=rule)


@pytest.mark.parametrize("rule, fragment", [
    ({"provider": "dodoo", "action": 500}, "unknown provider 'dodoo'; known: ['dodo', 'psp', 'waffo', 'webhook']"),
    ({"provider": "dodo", "operation": "create_sesion", "action": 500},
     "unknown operation 'create_sesion' for provider 'dodo'; known: dodo: "),
    ({"operation": "createCheckoutSesion", "action": 500}, "waffo: addStoreMerchant, addStoreWebhook,"),
    ({"operation": "waffo.create_session", "action": 500}, "unknown operation 'waffo.create_session'"),
    ({"provider": "webhook", "operation": "payment.suceeded", "action": {"webhook": "drop"}},
     "webhook: abandoned_checkout.detected, "),
    ({"provider": "psp", "operation": "charge", "action": 503}, "psp: chargeSavedMethod, createCheckout"),
    ({"operation": "create_session", "action": "server-eror"}, "unknown preset 'server-eror'; known: ["),
])
def test_misspelt_rules_are_refused_with_the_valid_names(client, rule, fragment):
    response = add(client, rule)
    assert response.status_code == 400, response.json
    assert fragment in response.json["error"]
    if "sesion" in str(rule):  # the right name is among those offered
        assert " create_session," in response.json["error"]
    if "suceeded" in str(rule):
        assert " payment.succeeded," in response.json["error"] and " order.completed," in response.json["error"]
    assert client.get("/_mock/faults").json["rules"] == []


@pytest.mark.parametrize("rule", [
    {"operation": "create_session", "action": 500},
    {"operation": "dodo.create_session", "action": 500},
    {"provider": "waffo", "operation": "createCheckoutSession", "action": 500},
    {"operation": "waffo.createCheckoutSession", "action": 500},
    {"provider": "webhook", "operation": "payment.succeeded", "action": {"webhook": "drop"}},
    {"operation": "order.completed", "action": {"webhook": "duplicate"}},
    {"provider": "psp", "action": 503},
    {"path": "^/checkouts$", "action": 500},
])
def test_rules_naming_what_exists_are_taken(client, rule):
    assert add(client, rule).status_code == 201


def test_the_python_client_and_the_pytest_helper_get_the_same_refusal(paymock):
    with pytest.raises(ControlAPIError, match="unknown operation 'create_sesion'.*create_session"):
        paymock.fail("dodo.create_sesion", status=503)
    with pytest.raises(ControlAPIError, match="unknown provider 'dodoo'"):
        paymock.control.faults.add({"provider": "dodoo", "action": 500})
    assert paymock.fail("dodo.create_session", status=503)["operation"] == "create_session"


def test_a_scenario_with_a_misspelt_rule_stops_the_server(tmp_path):
    scenario = tmp_path / "typo.json"
    scenario.write_text(json.dumps({"name": "typo", "rules": [
        {"provider": "waffo", "operation": "createOnetimeOrdr", "action": 500}]}))
    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0",
                             "--scenario", str(scenario)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown operation 'createOnetimeOrdr' for provider 'waffo'" in result.stderr
    assert "createOnetimeOrder" in result.stderr


def test_an_engine_with_nothing_declared_takes_any_name():
    # The engine alone (unit tests, tools) knows no providers; the app declares them.
    engine = FaultEngine(clock=None)
    assert engine.parse({"provider": "anything", "operation": "at_all", "action": 500})
    engine.declare("dodo", ["create_session"])
    with pytest.raises(FaultRuleError, match="unknown provider 'anything'"):
        engine.parse({"provider": "anything", "action": 500})
