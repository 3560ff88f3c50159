"""The fault engine's rule matching and counting, without HTTP."""
import pytest

from mock_server.core.clock import Clock
from mock_server.core.fault_actions import PRESETS, Action, FaultRuleError
from mock_server.core.faults import FaultEngine, RequestInfo


def req(op="create_session", provider="dodo", ns="dodo:a", body=None, method="POST", path="/checkouts"):
    return RequestInfo(provider, op, method, path, ns, body)


@pytest.fixture
def engine():
    clock = Clock()
    clock.freeze(1000.0)
    return FaultEngine(clock)


def fired(engine, n, **kw):
    return [engine.decide(req(**kw)) is not None for _ in range(n)]


def test_times_and_after(engine):
    engine.add({"operation": "create_session", "after": 2, "times": 2, "action": 500})
    assert fired(engine, 6) == [False, False, True, True, False, False]
    rule = engine.rules()[0].to_dict()
    assert (rule["matched"], rule["fired"], rule["exhausted"]) == (4, 2, True)


def test_sequence_then_pass_through(engine):
    engine.add({"sequence": [500, None, 503]})
    statuses = []
    for _ in range(5):
        decided = engine.decide(req())
        statuses.append(decided[1].status if decided else None)
    assert statuses == [500, None, 503, None, None]


def test_matching_on_provider_operation_method_path_namespace_and_body(engine):
    engine.add({"provider": "waffo", "operation": "waffo.createOnetimeOrder", "method": "post",
                "path": "onetime-order", "namespace": "waffo:m1",
                "body_equals": {"/billingDetail/country": "US"}, "action": 409})
    hit = dict(provider="waffo", op="createOnetimeOrder", ns="waffo:m1",
               path="/v1/actions/onetime-order/create-order", body={"billingDetail": {"country": "US"}})
    assert engine.decide(req(**{**hit, "body": {"billingDetail": {"country": "DE"}}})) is None
    assert engine.decide(req(**{**hit, "ns": "waffo:other"})) is None
    assert engine.decide(req(**{**hit, "method": "GET"})) is None
    assert engine.decide(req(**{**hit, "provider": "dodo"})) is None
    assert engine.decide(req(**hit))[1].status == 409


def test_probability_is_seedable(engine):
    engine.add({"id": "a", "probability": 0.5, "seed": 7, "action": 500})
    first = fired(engine, 40)
    other = FaultEngine(engine.clock)
    other.add({"id": "a", "probability": 0.5, "seed": 7, "action": 500})
    assert fired(other, 40) == first
    assert 5 < sum(first) < 35


def test_time_window_follows_the_mock_clock(engine):
    engine.add({"provider": "psp", "for_seconds": 60, "action": 503})
    assert engine.decide(req(provider="psp")) is not None
    engine.clock.advance(60)
    assert engine.decide(req(provider="psp")) is None


def test_presets_and_delete_and_reset(engine):
    rule = engine.add({"action": "rate-limit", "namespace": "dodo:a"})
    action = engine.decide(req())[1]
    assert action.status == 429 and action.headers["Retry-After"] == "1"
    engine.add({"action": {"preset": "server-error", "headers": {"x-should-retry": "false"}}})
    assert engine.reset(namespace="dodo:a") == 1
    assert engine.delete(rule.id) is False
    assert len(engine.rules()) == 1
    assert set(PRESETS) >= {"timeout", "reset", "drop", "commit-then-500", "non-json", "truncated"}


@pytest.mark.parametrize("raw, fragment", [
    ({"action": {"status": 99}}, "from 100 to 599"),
    ({"action": {"status": "500"}}, "from 100 to 599"),
    ({"action": {"latency_ms": -1}}, "latency_ms must be a number >= 0"),
    ({"action": {"latency_range_ms": [5, 1]}}, "latency_range_ms"),
    ({"action": {"connection": "explode"}}, "connection must be one of"),
    ({"action": {"body_mode": "xml"}}, "body_mode must be one of"),
    ({"action": {"commit": True}}, "commit needs a status"),
    ({"action": {}}, "does nothing"),
    ({"action": {"preset": "nope"}}, "unknown preset"),
    ({"action": 500, "sequence": [500]}, "exactly one of action or sequence"),
    ({"action": 500, "times": 0}, "times must be an integer >= 1"),
    ({"action": 500, "probability": 2}, "probability must be a number from 0 to 1"),
    ({"action": 500, "path": "("}, "not a regular expression RE2 accepts"),
    ({"action": 500, "body_equals": {"no-slash": 1}}, "JSON pointers"),
    ({"action": 500, "colour": "red"}, "unknown field(s) ['colour']"),
    ({"sequence": []}, "non-empty list"),
    ([], "must be a JSON object"),
])
def test_bad_rules_say_what_is_wrong(engine, raw, fragment):
    with pytest.raises(FaultRuleError) as info:
        engine.add(raw)
    assert fragment in str(info.value)


def test_duplicate_ids_are_refused(engine):
    engine.add({"id": "x", "action": 500})
    with pytest.raises(FaultRuleError, match="exists"):
        engine.add({"id": "x", "action": 500})


def test_action_parse_shorthands():
    assert Action.parse(503).status == 503
    assert Action.parse("drop").connection == "drop"
    assert Action.parse(None) is None
