"""Soak (bounded to about 30 s): threads create Dodo sessions and Waffo orders while fault rules
and clock jumps are injected, and hostile clients stall half-way through their requests, send
oversized heads and endless chunked bodies. Afterwards every acknowledged object exists exactly
once, every idempotency key replays its first answer, no 5xx came that was not injected, every
hostile request met its limit, and once everything expired and was evicted, memory is back near
where it started."""
from __future__ import annotations

import collections
import gc
import itertools
import random
import socket
import threading
import time
import tracemalloc
import uuid
from pathlib import Path

import pytest
import requests

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.core.http import credential_namespace
from mock_server.server import Server
from tests.waffo.helpers import MERCHANTS, ONETIME_ORDER, WaffoClient

LOAD_SECONDS = 25
PRODUCT = "pdt_uGej5ygB4DvTZFDmnvmUM"
US = {"country": "US", "isBusiness": False, "state": "CA"}
INJECTED = "X-Paymock-Injected"


def server_heap() -> int:
    """Bytes the server allocated and still holds (allocation sites under mock_server/), so that
    this test's own bookkeeping and the HTTP client do not count."""
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*/mock_server/*")])
    return sum(stat.size for stat in snapshot.statistics("filename"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.dodo = collections.defaultdict(list)  # namespace -> [(session id, tag)]
        self.orders = []  # (tag, idempotency key, body)
        self.unexpected = []  # (what, status, text)
        self.injected = collections.Counter()
        self.connection_errors = 0
        self.replays = 0
        self.hostile = collections.Counter()  # what each hostile request met

    def bad(self, what, response):
        with self.lock:
            self.unexpected.append((what, response.status_code, response.text[:300]))


def dodo_worker(url, key, deadline, tally: Tally, seq):
    http = requests.Session()
    ns = credential_namespace("dodo", key)
    while time.time() < deadline:
        tag = f"soak-{next(seq)}"
        try:
            resp = http.post(f"{url}/dodo/checkouts", timeout=10, headers={"Authorization": f"Bearer {key}"},
                             json={"product_cart": [{"product_id": PRODUCT, "quantity": 1}],
                                   "metadata": {"tag": tag}})
        except requests.ConnectionError:
            with tally.lock:
                tally.connection_errors += 1  # an injected reset/drop: nothing was created
            http = requests.Session()
            continue
        if resp.status_code == 200:
            with tally.lock:
                tally.dodo[ns].append((resp.json()["session_id"], tag))
        elif resp.headers.get(INJECTED) == "true":
            with tally.lock:
                tally.injected[resp.status_code] += 1
        else:
            tally.bad("dodo create", resp)


def waffo_worker(url, deadline, tally: Tally, seq):
    client = WaffoClient(base_url=url)
    token = None
    while time.time() < deadline:
        try:
            session = client.session("ebook")
        except AssertionError:
            continue  # an injected failure on create-session; try again
        tag = f"10.0.{next(seq) % 250}.{random.randrange(250)}-{uuid.uuid4().hex[:8]}"
        key = uuid.uuid4().hex
        body = {"checkoutSessionId": session, "billingDetail": US, "buyerEmail": "soak@example.com",
                "buyerIp": tag}
        first = None
        for _attempt in range(6):
            if token is None:
                try:
                    token = client.token()
                except AssertionError:
                    continue
            status, payload, headers = client.bearer(ONETIME_ORDER, body, token,
                                                     headers={"X-Idempotency-Key": key})
            if status == 401:  # the session token expired with a clock jump
                token = None
                continue
            if status == 200:
                first = payload
                break
            if headers.get(INJECTED) == "true":
                with tally.lock:
                    tally.injected[status] += 1
                continue  # retry with the same key: injected failures ran no work
            if status == 409:
                continue  # the key is in flight (cannot happen here: one thread per key)
            tally.bad("waffo order", type("R", (), {"status_code": status, "text": str(payload)})())
            break
        if first is None:
            continue
        with tally.lock:
            tally.orders.append((tag, key, first))
        for _attempt in range(6):  # the same key again: the first answer, replayed
            if token is None:
                try:
                    token = client.token()
                except AssertionError:
                    continue
            status, again, headers = client.bearer(ONETIME_ORDER, body, token,
                                                   headers={"X-Idempotency-Key": key})
            if status == 401:
                token = None
                continue
            if status != 200 and headers.get(INJECTED) == "true":
                continue
            assert status == 200 and again == first, (status, again)
            assert headers.get("X-Paymock-Idempotent-Replay") == "true"
            with tally.lock:
                tally.replays += 1
            break


def chaos(url, stop: threading.Event):
    rng = random.Random(8787)
    rules = [
        {"provider": "dodo", "operation": "create_session", "action": {"status": 503}, "probability": 0.3,
         "times": 15},
        {"provider": "dodo", "operation": "create_session", "action": "rate-limit", "times": 5},
        {"provider": "dodo", "operation": "create_session", "action": {"connection": "reset"}, "times": 2},
        {"provider": "dodo", "operation": "create_session", "action": {"latency_ms": 40}, "times": 10},
        {"provider": "waffo", "operation": "createOnetimeOrder", "action": {"status": 503}, "times": 4},
        {"provider": "waffo", "operation": "createOnetimeOrder", "action": {"latency_ms": 30}, "times": 6},
    ]
    http = requests.Session()
    while not stop.wait(0.4):
        http.post(f"{url}/_mock/faults", json=rng.choice(rules), timeout=10).raise_for_status()
        if rng.random() < 0.5:  # up to ~15 minutes of mock time over the run
            http.post(f"{url}/_mock/clock/advance", json={"seconds": 30}, timeout=10).raise_for_status()


def hostile(url, deadline, tally: Tally, read_timeout: float):
    """Clients that break the rules, next to the well-behaved ones: each kind must meet its
    limit (431, 413, or a cut connection once read_timeout has passed)."""
    host, port = url.rsplit("/", 1)[1].split(":")
    stalled = []  # (socket, when it stopped sending)
    auth = b"Authorization: Bearer sk_test_soak_hostile\r\n"
    while time.time() < deadline:
        # Half-way through a head or a body, then silent.
        sock = socket.create_connection((host, int(port)), timeout=5)
        if len(stalled) % 2:
            sock.sendall(b"POST /dodo/checkouts HTTP/1.1\r\nHost: x\r\n" + auth +
                         b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
        else:
            sock.sendall(b"GET /dodo/products HTTP/1.1\r\nHost: x\r\nX-Slow")
        stalled.append((sock, time.time()))
        big_head = requests.get(f"{url}/dodo/products", timeout=10, headers={
            "Authorization": "Bearer sk_test_soak_hostile", "X-Padding": "p" * 70000})
        tally.hostile[f"head {big_head.status_code}"] += 1
        endless = iter([b'{"product_cart": ['] + [b" " * 65536] * 20)  # 1.3 MB, chunked
        big_body = requests.post(f"{url}/dodo/checkouts", data=endless, timeout=10, headers={
            "Authorization": "Bearer sk_test_soak_hostile", "Content-Type": "application/json"})
        tally.hostile[f"chunked {big_body.status_code}"] += 1
        time.sleep(0.2)
    # Every stalled client was cut off once its time was up (the maintenance runs every second).
    for sock, began in stalled:
        sock.settimeout(max(0.1, began + read_timeout + 5 - time.time()))
        try:
            answer = sock.recv(4096)
            tally.hostile["stalled cut" if answer == b"" else "stalled answered"] += 1
        except TimeoutError:
            tally.hostile["stalled still open"] += 1
        except ConnectionResetError:
            tally.hostile["stalled cut"] += 1
        sock.close()


READ_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def soak_server():
    app = create_app(Settings(port=0, read_timeout_seconds=READ_TIMEOUT))
    server = Server(app, "127.0.0.1", 0, threads=16).start()
    yield server
    server.stop()


def test_soak(soak_server):
    url = soak_server.url
    core = soak_server.core
    # Warm up (imports, first namespaces, caches) before taking the baseline.
    tally = Tally()
    seq = itertools.count()
    dodo_worker(url, "sk_test_soak_warmup", time.time() + 1, tally, seq)
    waffo_worker(url, time.time() + 1, tally, seq)
    requests.post(f"{url}/_mock/reset", timeout=10)
    gc.collect()
    tracemalloc.start()  # Python-level accounting: exact, unlike RSS
    baseline, baseline_rss = server_heap(), rss_mb()

    tally = Tally()
    stop = threading.Event()
    deadline = time.time() + LOAD_SECONDS
    keys = [f"sk_test_soak_{i}" for i in range(3)]
    workers = [threading.Thread(target=dodo_worker, args=(url, k, deadline, tally, seq)) for k in keys]
    workers += [threading.Thread(target=waffo_worker, args=(url, deadline, tally, seq)) for _ in range(2)]
    chaos_thread = threading.Thread(target=chaos, args=(url, stop))
    hostile_thread = threading.Thread(target=hostile, args=(url, deadline, tally, READ_TIMEOUT))
    for t in [*workers, chaos_thread, hostile_thread]:
        t.start()
    for t in [*workers, hostile_thread]:
        t.join(LOAD_SECONDS + 60)
    stop.set()
    chaos_thread.join(30)
    requests.delete(f"{url}/_mock/faults", timeout=10)
    assert not any(t.is_alive() for t in [*workers, hostile_thread]), "a worker hung"
    # Every hostile request met its limit, and none held the others back (the counts above).
    assert set(tally.hostile) == {"head 431", "chunked 413", "stalled cut"}, tally.hostile
    assert min(tally.hostile.values()) >= 5, tally.hostile

    # No 5xx that was not injected; faults did fire.
    assert not tally.unexpected, tally.unexpected[:5]
    assert sum(tally.injected.values()) > 0 and sum(map(len, tally.dodo.values())) > 500
    assert len(tally.orders) > 20 and tally.replays == len(tally.orders)

    # Every acknowledged Dodo session exists exactly once, and nothing unacknowledged does.
    for ns_name, acked in tally.dodo.items():
        ns = core.store.find(ns_name)
        stored = {s["id"]: s["request"]["metadata"]["tag"]
                  for s in ns.values("session", include_expired=True)}
        assert len({sid for sid, _ in acked}) == len(acked)
        assert stored == dict(acked)
        del stored
    # Every acknowledged Waffo order exists exactly once (retries with the same key made no twin).
    ns = core.store.find(credential_namespace("waffo", MERCHANTS["acme"]["merchantId"]))
    per_tag = collections.Counter(o["buyerIp"] for o in ns.values("order", include_expired=True))
    for tag, _key, _body in tally.orders:
        assert per_tag[tag] == 1, (tag, per_tag[tag])
    del ns, per_tag

    gc.collect()
    peak = server_heap()
    # Everything expires (sessions, tokens, idempotency keys) and is evicted.
    requests.post(f"{url}/_mock/clock/advance", json={"seconds": 60 * 86400}, timeout=10).raise_for_status()
    left = {name: core.store.find(name).count("session") + core.store.find(name).count("checkout_session")
            for name in core.store.names()}
    assert not any(left.values()), left
    gc.collect()
    after = server_heap()
    tracemalloc.stop()
    after_rss = rss_mb()
    mb = 1024 * 1024
    print(f"soak: {sum(map(len, tally.dodo.values()))} sessions, {len(tally.orders)} orders, "
          f"injected {dict(tally.injected)}, resets {tally.connection_errors}; Python heap "
          f"+{(peak - baseline) / mb:.1f} MB at the peak, +{(after - baseline) / mb:.1f} MB after "
          f"eviction; RSS {baseline_rss:.0f} -> {after_rss:.0f} MB")
    # Orders never expire (as on the real API): allow 6 KB each, and the journal's bounded ring
    # (2 KB an entry); everything else is returned.
    kept = len(tally.orders) * 6 * 1024 + len(core.journal.entries()) * 2048 + 1 * mb
    # Sessions are packed (about 2 KB each with their index entries): a run of a thousand or more
    # grows the heap by more than 2 MB, which the eviction check below must then give back.
    assert peak - baseline > 2 * mb, ((peak - baseline) / mb, "the load made nothing worth measuring")
    assert after - baseline < kept, ((peak - baseline) / mb, (after - baseline) / mb, kept / mb)
    assert after_rss - baseline_rss < 80, (baseline_rss, after_rss)
