"""Issue 14: the control API cannot be abused from a browser (a cross-site POST, a DNS-rebinding
page) or by one bad rule (nested past the limits, hostile headers, waits that hold every worker)."""
from __future__ import annotations

import threading

import pytest

from mock_server.app import create_app
from mock_server.config import Settings

TOKEN = "ctl_TEST_ONLY_abuse"
DODO = {"Authorization": "Bearer sk_test_control_abuse"}


@pytest.fixture()
def plain():
    return create_app(Settings(port=8787, public_url="http://mock.test:9000")).test_client()


@pytest.fixture()
def tokened():
    return create_app(Settings(host="0.0.0.0", port=8787, control_token=TOKEN)).test_client()


# -- 1. cross-site requests and DNS rebinding ---------------------------------------------------
def test_a_cross_site_reset_is_refused_and_wipes_nothing(plain):
    plain.get("/dodo/products", headers=DODO)
    answer = plain.post("/_mock/reset", data=b"", content_type="text/plain",
                        headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403
    assert "another origin" in answer.get_json()["error"]
    assert plain.get("/_mock/namespaces").get_json()["namespaces"]  # still there


@pytest.mark.parametrize("origin", ["http://localhost", "http://mock.test:9000"])
def test_the_servers_own_origin_and_the_public_urls_are_allowed(plain, origin):
    answer = plain.post("/_mock/reset", json={}, headers={"Origin": origin})
    assert answer.status_code == 200, answer.get_json()


@pytest.mark.parametrize("origin", ["null", "http://mock.test", "http://localhost.evil.example"])
def test_other_origins_are_refused(plain, origin):
    assert plain.get("/_mock/state", headers={"Origin": origin}).status_code == 403


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8787", "127.0.0.1.nip.io", "", "[::1"])
def test_a_rebound_host_cannot_read_state(plain, host):
    answer = plain.get("/_mock/state", headers={"Host": host})
    assert answer.status_code == 403
    assert "DNS rebinding" in answer.get_json()["error"]


@pytest.mark.parametrize("host", ["localhost", "localhost:8787", "127.0.0.1:1", "[::1]:8787",
                                  "mock.test:9000", "MOCK.TEST"])
def test_loopback_names_and_the_public_host_reach_the_control_api(plain, host):
    assert plain.get("/_mock/state", headers={"Host": host}).status_code == 200


def test_provider_apis_and_pages_do_not_check_host_or_origin(plain):
    headers = {**DODO, "Host": "mock.test:9000", "Origin": "https://shop.example"}
    assert plain.get("/dodo/products", headers=headers).status_code == 200


def test_with_a_token_any_host_works_but_a_foreign_origin_does_not(tokened):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert tokened.get("/_mock/state", headers={**auth, "Host": "paymock.internal:8787"}).status_code == 200
    assert tokened.get("/_mock/state", headers={"Host": "paymock.internal"}).status_code == 401
    refused = tokened.post("/_mock/reset", headers={**auth, "Origin": "https://evil.example"})
    assert refused.status_code == 403


# -- 2. control input limits ----------------------------------------------------------------------
def nested(levels: int):
    value: object = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def deep_json(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels  # no encoder writes 1,000 levels


@pytest.mark.parametrize("action", [
    '{"status": 500, "body": %s}', '{"status": 200, "commit": true, "patch": {"/x": %s}}'])
def test_a_rule_nested_1000_levels_is_refused_whole_and_nothing_is_stored(plain, action):
    body = '{"rules": [{"action": 503}, {"action": %s}]}' % (action % deep_json(1000))
    answer = plain.post("/_mock/faults", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert "nests deeper than 64 levels" in answer.get_json()["error"]
    listed = plain.get("/_mock/faults")
    assert listed.status_code == 200 and listed.get_json() == {"rules": []}


@pytest.mark.parametrize("path", ["/_mock/reset", "/_mock/scenario", "/_mock/clock",
                                  "/_mock/webhooks/endpoints", "/_mock/nowhere"])
def test_every_control_body_is_depth_limited(plain, path):
    answer = plain.post(path, data='{"namespace": %s}' % deep_json(200),
                        content_type="application/json")
    assert answer.status_code == 400, answer.data
    assert "nests deeper" in answer.get_json()["error"]


def test_a_rule_as_deep_as_a_real_answer_is_accepted(plain):
    answer = plain.post("/_mock/faults", json={"action": {"status": 500, "body": nested(40)}})
    assert answer.status_code == 201
    assert plain.get("/_mock/faults").status_code == 200


def test_the_engine_refuses_a_deep_rule_from_a_scenario_file_too():
    from mock_server.core.clock import Clock
    from mock_server.core.faults import FaultEngine, FaultRuleError

    with pytest.raises(FaultRuleError, match="nest at most"):
        FaultEngine(Clock()).add({"action": {"status": 500, "body": nested(300)}})


def test_a_component_that_cannot_be_saved_does_not_block_the_others(tmp_path, capsys):
    from mock_server.core.persistence import Persistence, read

    persistence = Persistence()
    persistence.register("good", lambda: {"kept": True}, lambda data: None)
    persistence.register("deep", lambda: nested(1000), lambda data: None)
    persistence.register("broken", lambda: 1 / 0, lambda data: None)
    persistence.register("also_good", lambda: [1, 2], lambda data: None)
    path = persistence.save(tmp_path / "state.json")
    components = read(path)["components"]
    assert components == {"good": {"kept": True}, "also_good": [1, 2]}
    err = capsys.readouterr().err
    assert "'deep' not saved" in err and "'broken' not saved" in err


# -- 3. rule headers --------------------------------------------------------------------------------
@pytest.mark.parametrize("headers,fragment", [
    ({"X-Ok": "a\r\nSet-Cookie: session=stolen"}, "control character"),
    ({"X-Ok": "line\nbreak"}, "control character"),
    ({"X-Ok": "nul\x00"}, "control character"),
    ({"X-Ok": "euro €"}, "latin-1"),
    ({"X-Bad\r\nSet-Cookie": "x"}, "not a header name"),
    ({"X Space": "x"}, "not a header name"),
    ({"X-Colon:": "x"}, "not a header name"),
    ({"": "x"}, "not a header name"),
    ({"nul\x00": "x"}, "not a header name"),
])
def test_rule_headers_that_would_split_the_answer_are_refused(plain, headers, fragment):
    answer = plain.post("/_mock/faults", json={"action": {"status": 503, "headers": headers}})
    assert answer.status_code == 400
    assert fragment in answer.get_json()["error"]
    assert plain.get("/_mock/faults").get_json() == {"rules": []}


def test_valid_rule_headers_are_sent(plain):
    rule = {"action": {"status": 503, "headers": {"Retry-After": 2, "x-trace_id~1": "a\tb é"}}}
    assert plain.post("/_mock/faults", json=rule).status_code == 201
    answer = plain.get("/dodo/products", headers=DODO)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "2" and answer.headers["x-trace_id~1"] == "a\tb é"


def test_the_fault_header_carries_no_headers_only_a_status_or_a_preset(plain):
    answer = plain.get("/dodo/products", headers={**DODO, "X-Paymock-Fault": '{"headers": {}}'})
    assert answer.status_code == 400 and "unknown preset" in answer.get_data(as_text=True)


# -- 4. faults cannot hold every worker -------------------------------------------------------------
@pytest.mark.parametrize("action,fragment", [
    ({"latency_ms": 1e9}, "at most 600000"),
    ({"latency_range_ms": [0, 600_001]}, "at most 600000"),
    ({"latency_ms": 400_000, "latency_range_ms": [0, 300_000]}, "at most 600000"),
    ({"connection": "hang", "hang_seconds": 601}, "at most 600"),
])
def test_waits_longer_than_600_seconds_are_refused(plain, action, fragment):
    answer = plain.post("/_mock/faults", json={"action": action})
    assert answer.status_code == 400 and fragment in answer.get_json()["error"]


def test_a_600_second_latency_is_accepted(plain):
    assert plain.post("/_mock/faults", json={"action": {"latency_ms": 600_000}}).status_code == 201


@pytest.mark.parametrize("settings", [{"fault_header": False}, {"strict": True}])
def test_the_fault_header_can_be_switched_off(settings):
    client = create_app(Settings(**settings)).test_client()
    answer = client.get("/dodo/products", headers={**DODO, "X-Paymock-Fault": "503"})
    assert answer.status_code == 200
    assert client.post("/_mock/faults", json={"action": 503}).status_code == 201  # rules still do
    assert client.get("/dodo/products", headers=DODO).status_code == 503


def test_the_fault_header_setting_reads_the_environment_and_the_flag():
    from mock_server.cli import build_parser

    assert Settings.load(env={"PAYMOCK_FAULT_HEADER": "false"}).fault_header is False
    assert Settings.load(env={}).fault_header is True
    args = build_parser().parse_args(["serve", "--no-fault-header"])
    assert args.no_fault_header is True


def test_hanging_requests_leave_a_thread_for_the_control_api_on_waitress():
    """A real `paymock serve --server waitress --threads 4`: three requests hang on
    X-Paymock-Fault: timeout (30 s); a fourth that would hang is answered 503 at once, and the
    control API still answers. (granian holds no thread for a wait: tests/test_servers.py.)"""
    import threading
    import time

    import requests

    from tests.processes import serve, stop

    proc, port = serve("--server", "waitress", "--threads", "4")
    url = f"http://127.0.0.1:{port}"
    hang = {**DODO, "X-Paymock-Fault": "timeout"}
    outcomes = []

    def hang_once():
        try:
            outcomes.append(requests.get(f"{url}/dodo/products", headers=hang, timeout=60).status_code)
        except requests.RequestException as exc:
            outcomes.append(type(exc).__name__)

    hanging = [threading.Thread(target=hang_once) for _ in range(3)]
    try:
        for thread in hanging:
            thread.start()
        time.sleep(1.5)  # the three are in the server, asleep
        assert not outcomes
        started = time.monotonic()
        refused = requests.get(f"{url}/dodo/products", headers=hang, timeout=10)
        assert refused.status_code == 503 and refused.headers["X-Paymock-Injected"] == "true"
        assert "kept for the control API" in refused.text
        assert requests.get(f"{url}/_mock/health", timeout=5).status_code == 200
        assert requests.delete(f"{url}/_mock/faults", timeout=5).status_code == 200
        assert requests.get(f"{url}/dodo/products", headers=DODO, timeout=5).status_code == 200
        assert time.monotonic() - started < 5
        assert not outcomes  # still hanging
    finally:
        stop(proc)
        for thread in hanging:
            thread.join(timeout=30)
    assert len(outcomes) == 3


def test_a_delayed_psp_call_counts_against_the_same_share():
    from mock_server.core.clock import Clock
    from mock_server.core.faults import FaultEngine
    from mock_server.core.psp import MockPsp, PspError
    from mock_server.core.waits import Waits

    faults = FaultEngine(Clock())
    faults.add({"provider": "psp", "action": {"latency_ms": 1}})
    waits = Waits(threading.Event())
    waits.limit_to(1)
    psp = MockPsp(lambda checkout_id: f"http://x/{checkout_id}", faults, waits)
    assert psp.create_checkout({})["checkoutUrl"]  # a place is free: delayed, then created
    assert waits.begin()  # another request holds the only place
    try:
        with pytest.raises(PspError, match="every thread but the control API"):
            psp.create_checkout({})
    finally:
        waits.end()
    assert psp.create_checkout({})["checkoutUrl"]


def test_a_path_pattern_cannot_stall_the_server():
    """`(a+)+$` takes a backtracking engine minutes on a path of 40 a's and a '!'; RE2 matches in
    linear time. A pattern RE2 does not accept (a backreference) is refused whole, with the
    reason, and nothing is stored."""
    import time

    app = create_app(Settings(port=0))
    client = app.test_client()
    made = client.post("/_mock/faults", json={"provider": "dodo", "path": "(a+)+$",
                                              "action": {"status": 503}})
    assert made.status_code == 201, made.get_json()
    started = time.monotonic()
    answer = client.get("/dodo/checkouts/" + "a" * 40 + "!", headers=DODO)
    assert answer.status_code == 404  # no session of that id; the rule did not match
    assert time.monotonic() - started < 5  # a backtracking engine would still be at it
    assert client.get("/dodo/checkouts/" + "a" * 40, headers=DODO).status_code == 503
    refused = client.post("/_mock/faults", json={"provider": "dodo", "path": r"(a)\1",
                                                 "action": {"status": 503}})
    assert refused.status_code == 400
    assert "RE2" in refused.get_json()["error"] and "backreferences" in refused.get_json()["error"]
    assert len(client.get("/_mock/faults").get_json()["rules"]) == 1
