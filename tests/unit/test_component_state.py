"""Every component that persists owns its state: public dump()/load(), and a fresh component that
loads another's dump dumps the same (core/persistence.py only registers them)."""
from mock_server.core.clock import Clock
from mock_server.core.faults import FaultEngine
from mock_server.core.idempotency import Idempotency


def test_clock_round_trips_frozen_and_running():
    clock = Clock()
    clock.freeze(1_800_000_000.0)
    other = Clock()
    other.load(clock.dump())
    assert other.frozen and other.now() == clock.now() == 1_800_000_000.0
    clock.resume()
    clock.advance(3600)
    other.load(clock.dump())
    assert not other.frozen and abs(other.offset - clock.offset) < 1


def test_fault_engine_round_trips_rules_counters_and_random_state():
    clock = Clock()
    clock.freeze(1_800_000_000.0)
    engine = FaultEngine(clock)
    engine.add({"id": "flaky", "operation": "create_session", "probability": 0.5, "seed": 7,
                "action": 503})
    engine.add({"operation": "get_payment_handler", "times": 2, "action": 500})
    rule = engine.rules()[0]
    rule.matched, rule.fired = 4, 2
    rule._rng.random()  # the sequence has moved on; the copy must go on from here
    restored = FaultEngine(clock)
    restored.load(engine.dump())
    assert restored.dump() == engine.dump()
    assert restored.rules()[0]._rng.random() == engine.rules()[0]._rng.random()
    assert restored.add({"operation": "x", "action": 500}).id == "rule_2"  # ids go on after rule_1


def test_idempotency_round_trips_answers_in_force_only():
    clock = Clock()
    clock.freeze(1_800_000_000.0)
    book = Idempotency(clock, ttl=60)
    book.reserve("ns", "kept").complete(200, b'{"ok":true}', {"X-A": "1"})
    book.reserve("ns", "inflight")  # never finished: ends with the process
    restored = Idempotency(clock)
    restored.load(book.dump())
    assert restored.dump() == book.dump() and restored.keys() == [("ns", "kept")]
    assert restored.reserve("ns", "kept").body == b'{"ok":true}'
    clock.advance(61)
    assert Idempotency(clock).dump() == [] and book.dump() == []
