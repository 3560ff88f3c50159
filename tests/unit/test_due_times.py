"""core.due_times.DueTimes: what falls due runs in due order, at its own time, once; a failure
stops nothing else; the pending ones survive a dump and load."""
from mock_server.core.clock import Clock
from mock_server.core.due_times import DueTimes
from mock_server.core.store import Store


def test_due_objects_run_in_order_each_at_its_time_and_survive_a_dump():
    clock = Clock()
    clock.freeze(1000.0)
    store = Store(clock)
    seen, wakes = [], []

    def act(ns, obj_id):
        if obj_id == "bad":
            raise RuntimeError("boom")
        seen.append((ns.name, obj_id, clock.now()))

    due = DueTimes(store, clock, act, lambda: wakes.append(1), "thing")
    store.namespace("a"), store.namespace("b")
    due.add("b", "late", 1300.0)
    due.add("a", "early", 1100.0)   # sooner than anything pending: the scheduler is woken
    due.add("a", "bad", 1150.0)
    due.add("gone", "x", 1120.0)    # a namespace the store no longer has
    assert len(wakes) == 2
    assert due.run(1000.0) == 1100.0 and seen == []
    again = DueTimes(store, clock, act)
    again.load(due.dump())
    clock.advance(500)
    assert again.run(clock.now()) is None
    assert seen == [("a", "early", 1100.0), ("b", "late", 1300.0)]
    assert again.run(clock.now()) is None and len(seen) == 2
