"""A deliberately broken mock: a fault rule lets the real request run, then flips the type of one
field in the answer (`patch`). The kit must fail (exit 1) and name the field."""
from __future__ import annotations

import xml.etree.ElementTree as ET


def test_dodo_session_id_of_the_wrong_type_fails_the_run(kit, mock, broken, tmp_path):
    broken({"provider": "dodo", "operation": "create_session", "action": {"patch": {"/session_id": 123}}})
    report = tmp_path / "broken.xml"
    # Random carts mostly break a business rule (422); the stateful phase's flows reach the 200.
    result = kit("contract", "dodo", "--target", f"{mock.url}/dodo", "--operation", "create_session",
                 "--operation", "get_checkout_sessions_status", "--phases", "stateful",
                 "--max-examples", "10", "--report", str(report))
    assert result.code == 1, result.text
    assert "FAILED:" in result.out
    assert "response_schema_conformance" in result.out
    assert "field: /session_id in the response body" in result.out
    assert '123 is not of type "string"' in result.out
    assert "reproduce:" in result.out and "curl -X POST" in result.out
    assert "$DODO_PAYMENTS_API_KEY" in result.out  # the credential is a variable, not the key
    suite = ET.parse(report).getroot()
    assert int(suite.get("failures")) >= 1  # the follow-up GET /checkouts/123 may fail too
    failure = next(f for f in suite.iter("failure") if f.get("type") == "response_schema_conformance")
    assert "field: /session_id" in failure.text


def test_waffo_checkout_url_of_the_wrong_type_fails_the_run(kit, mock, broken):
    broken({"provider": "waffo", "operation": "createCheckoutSession",
            "action": {"patch": {"/data/checkoutUrl": 5}}})
    result = kit("contract", "waffo", "--target", f"{mock.url}/waffo", "--operation",
                 "createCheckoutSession", "--phases", "examples,fuzzing", "--max-examples", "10")
    assert result.code == 1, result.text
    assert "field: /data/checkoutUrl in the response body" in result.out
    assert '5 is not of type "string"' in result.out
    assert "POST /v1/actions/checkout/create-session" in result.out


def test_the_same_mock_without_the_rule_passes(kit, mock):
    result = kit("contract", "dodo", "--target", f"{mock.url}/dodo", "--operation", "create_session",
                 "--operation", "get_checkout_sessions_status", "--phases", "stateful",
                 "--max-examples", "10")
    assert result.code == 0, result.text
    assert "paymock 0.1.0 (/_mock/health)" in result.out  # detected as a mock: all operations
    assert "GetCheckoutSessionStatus" in result.out


def test_a_mock_with_a_control_token_is_detected_with_the_token(kit, monkeypatch):
    from mock_server.app import create_app
    from mock_server.config import Settings
    from mock_server.providers.dodo.contract_support import FIXTURE_DODO_API_KEY
    from mock_server.server import Server

    token = "control-TOKEN-secret-4242"
    app = create_app(Settings(port=0, control_token=token, dodo_api_keys=FIXTURE_DODO_API_KEY))
    server = Server(app, "127.0.0.1", 0, threads=4).start()
    try:
        monkeypatch.delenv("PAYMOCK_CONTROL_TOKEN", raising=False)
        monkeypatch.delenv("DODO_PAYMENTS_API_KEY", raising=False)
        result = kit("contract", "dodo", "--target", f"{server.url}/dodo")
        assert result.code == 2  # not known to be paymock, so a real API: a key is required
        monkeypatch.setenv("PAYMOCK_CONTROL_TOKEN", token)
        result = kit("contract", "dodo", "--target", f"{server.url}/dodo", "--operation",
                     "get_product_handler", "--phases", "examples,fuzzing", "--max-examples", "3")
        assert result.code == 0, result.text
        assert "(paymock 0.1.0 (/_mock/health))" in result.out and "mode: all operations" in result.out
        assert token not in result.text
    finally:
        server.stop()
