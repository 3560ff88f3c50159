import gc
import threading

from mock_server.core.clock import Clock
from mock_server.core.store import Store


def make_store(retention=60.0):
    clock = Clock()
    clock.freeze(1000.0)
    return clock, Store(clock, retention=retention)


def test_namespaces_are_isolated():
    _, store = make_store()
    store.namespace("a").put("session", "s1", {"id": "s1"})
    assert store.namespace("a").get("session", "s1") == {"id": "s1"}
    assert store.namespace("b").get("session", "s1") is None


def test_new_namespaces_are_seeded_with_their_own_copies():
    _, store = make_store()
    store.add_seeder("dodo:", lambda name: [("product", "p1", {"name": "Book", "ns": name})])
    a, b = store.namespace("dodo:a"), store.namespace("dodo:b")
    changed = a.get("product", "p1")
    changed["name"] = "changed in a"
    a.save("product", "p1", changed)
    assert a.get("product", "p1")["name"] == "changed in a"
    assert b.get("product", "p1")["name"] == "Book"
    assert store.namespace("waffo:x").get("product", "p1") is None  # other prefix: not seeded


def test_expired_objects_are_hidden_then_evicted_after_retention():
    clock, store = make_store(retention=60)
    ns = store.namespace("a")
    ns.put("session", "s1", {"id": "s1"}, expires_at=1100.0)
    ns.put("session", "s2", {"id": "s2"})  # never expires
    clock.advance(99)
    assert ns.get("session", "s1") is not None
    clock.advance(1)
    assert ns.get("session", "s1") is None
    assert ns.is_expired("session", "s1")
    assert ns.get("session", "s1", include_expired=True) == {"id": "s1"}
    assert store.sweep() == 0  # still inside the retention window
    clock.advance(60)
    assert store.sweep() == 1
    assert not ns.is_expired("session", "s1")  # gone: now unknown
    assert ns.count("session") == 1


def test_extending_an_expiry_survives_a_stale_heap_entry():
    clock, store = make_store(retention=0)
    ns = store.namespace("a")
    ns.put("token", "t", {}, expires_at=1010.0)
    ns.set_expiry("token", "t", 1100.0)
    clock.advance(50)
    assert store.sweep() == 0
    assert ns.get("token", "t") == {}


def test_values_skip_expired_and_snapshot_is_a_copy():
    clock, store = make_store()
    ns = store.namespace("a")
    ns.put("session", "live", {"n": 1}, expires_at=2000.0)
    ns.put("session", "dead", {"n": 2}, expires_at=1001.0)
    clock.advance(5)
    assert ns.values("session") == [{"n": 1}]
    snap = store.snapshot()
    snap["a"]["session"]["live"]["n"] = 99
    assert ns.get("session", "live") == {"n": 1}
    assert "dead" not in snap["a"]["session"]


def test_reset_one_namespace_or_all():
    _, store = make_store()
    store.namespace("a").put("k", "1", {})
    store.namespace("b").put("k", "1", {})
    assert store.reset("a") == ["a"]
    assert store.names() == ["b"]
    assert store.reset("missing") == []
    assert store.reset() == ["b"]
    assert store.names() == []


def test_concurrent_writers_lose_nothing():
    _, store = make_store()
    ns = store.namespace("a")

    def writer(tid):
        for i in range(500):
            ns.put("session", f"{tid}-{i}", {"t": tid}, expires_at=5000.0 + i)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ns.count("session") == 4000


def test_eviction_releases_the_objects():
    clock, store = make_store(retention=0)
    ns = store.namespace("a")
    for i in range(20_000):
        ns.put("session", f"s{i}", {"payload": "x" * 200}, expires_at=1001.0)
    clock.advance(2)
    assert store.sweep() == 20_000
    gc.collect()
    assert ns.count() == 0
    assert ns._expiries == []  # the expiry heap is drained too, not only the objects


def test_every_kind_is_stored_packed_outside_the_garbage_collector_and_read_as_copies():
    """One representation for every provider and kind: each object as its JSON in one bytes, so
    that 100,000 live objects cost a full collection next to nothing (docs/architecture.md)."""
    import gc

    store = Store(Clock())
    ns = store.namespace("any:1")
    obj = {"id": "o1", "amount": 5, "nested": {"a": [1, 2]}, "ok": True, "tail": None}
    ns.put("whatever", "o1", obj)
    entry = ns._kinds["whatever"]["o1"]
    gc.collect()
    assert isinstance(entry[0], bytes) and not gc.is_tracked(entry)
    got = ns.get("whatever", "o1")
    assert got == obj and list(got) == list(obj)  # key order kept
    got["nested"]["a"].append(3)
    got["amount"] = 6
    assert ns.get("whatever", "o1") == obj  # a copy: nothing changes until it is saved
    assert ns.save("whatever", "o1", got) and ns.get("whatever", "o1") == got
    assert ns.values("whatever") == [got] and ns.values("whatever")[0] is not got
    ns.delete("whatever", "o1")
    assert not ns.save("whatever", "o1", got) and ns.get("whatever", "o1") is None  # gone stays gone


def test_save_keeps_the_expiry_and_an_upgrade_applies_to_old_state():
    clock = Clock()
    clock.freeze()
    store = Store(clock, retention=0)
    ns = store.namespace("p:1")
    ns.put("session", "s1", {"id": "s1", "n": 1}, expires_at=clock.now() + 10)
    ns.save("session", "s1", {"id": "s1", "n": 2})
    assert ns.expires_at("session", "s1") == clock.now() + 10
    store.add_upgrade("p:", "session", lambda old: {**old, "n": old["n"] * 10})
    restored = Store(clock)
    restored.add_upgrade("p:", "session", lambda old: {**old, "n": old["n"] * 10})
    restored.load(store.dump())
    assert restored.namespace("p:1").get("session", "s1")["n"] == 20


def test_read_shares_one_decoded_object_until_the_object_is_stored_again():
    store = Store(Clock())
    ns = store.namespace("p:1")
    ns.put("product", "p1", {"id": "p1", "price": {"amount": 5}})
    first = ns.read("product", "p1")
    assert ns.read("product", "p1") is first  # decoded once for every reader
    assert ns.get("product", "p1") is not first  # get() still hands out a copy to change
    changed = ns.get("product", "p1")
    changed["price"]["amount"] = 7
    ns.save("product", "p1", changed)
    assert ns.read("product", "p1")["price"]["amount"] == 7  # stored again: decoded afresh
    ns.delete("product", "p1")
    assert ns.read("product", "p1") is None


def test_seeded_namespaces_share_their_seed_objects_copy_on_write():
    """A new credential costs its index entries, not a copy of the catalog: every namespace
    seeded with the same object holds the same bytes, until one of them writes."""
    store = Store(Clock())
    catalog = [("product", f"p{i}", {"id": f"p{i}", "price": {"amount": i}, "name": "x" * 500})
               for i in range(20)]
    store.add_seeder("acme:", lambda _name: [(k, i, dict(o)) for k, i, o in catalog])
    a, b = store.namespace("acme:a"), store.namespace("acme:b")
    assert a._kinds["product"]["p3"][0] is b._kinds["product"]["p3"][0]
    changed = a.get("product", "p3")
    changed["price"]["amount"] = 99
    a.save("product", "p3", changed)
    assert a.get("product", "p3")["price"]["amount"] == 99
    assert b.get("product", "p3")["price"]["amount"] == 3  # b still reads the shared seed
    gc.collect()
    import tracemalloc
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(500):
        store.namespace(f"acme:{i}")
    per_namespace = (tracemalloc.get_traced_memory()[0] - before) / 500
    tracemalloc.stop()
    assert per_namespace < 5000, per_namespace  # 20 objects of 500+ bytes: 11 kB as copies


def test_past_the_cap_the_least_recently_used_namespaces_are_evicted_as_if_reset():
    store = Store(Clock(), max_namespaces=10)
    dropped = []
    store.on_drop(dropped.append)
    for i in range(10):
        store.namespace(f"p:{i}").put("thing", "t", {"i": i})
    store.namespace("p:0")  # used again: now the most recent
    store.namespace("p:new")
    assert dropped == ["p:1"]  # a tenth of ten: the least recently used one
    assert store.find("p:1") is None and store.find("p:0") is not None
    assert store.namespace("p:1").get("thing", "t") is None  # back as a fresh namespace
    store.reset("p:0")
    assert dropped[-1] == "p:0"  # a reset says so too


def test_an_id_is_found_through_the_index_not_by_scanning_every_namespace():
    store = Store(Clock())
    store.add_seeder("p:", lambda _name: [("product", "shared", {"id": "shared"})])
    for i in range(50):
        store.namespace(f"p:{i}")
    store.namespace("p:7").put("session", "cks_1", {"id": "cks_1"})
    assert store.holding("cks_1") == ["p:7"]
    assert store.holding("shared") == []  # seeded in every namespace: not a global id
    store.namespace("p:7").delete("session", "cks_1")
    assert store.holding("cks_1") == []
    store.namespace("p:8").put("order", "ord_1", {"id": "ord_1"})
    store.reset("p:8")
    assert store.holding("ord_1") == []
    store.namespace("p:9").put("order", "ord_2", {"id": "ord_2"})
    restored = Store(Clock())
    restored.load(store.dump())
    assert restored.holding("ord_2") == ["p:9"]
