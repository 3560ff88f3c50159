"""The benchmark's helpers work (benchmarks/harness.py, run.py): the request files replay.lua
reads are well-formed and every prepared request, pre-signed Waffo ones included, is answered 2xx
by paymock and by Steady (its contract validation included); mix.lua's chains run against paymock
for a few iterations and every payment's webhooks reach the sink; the stalled clients open and
close their sockets; paymock's startup line is parsed; wrk's summary line parses; tables render
with three servers. Nothing is timed and no sustained load is generated.

Needs wrk (the mix test drives mix.lua) and Node 20 + npm (Steady is installed with `npm ci` in
benchmarks/ when missing): when they are missing the tests fail, never skip."""
from __future__ import annotations

import argparse

import http.client
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402
import run as bench_run  # noqa: E402


@pytest.fixture(scope="module")
def server():
    """paymock as `paymock serve` runs it by default: any Dodo key is accepted."""
    from mock_server.app import create_app
    from mock_server.config import Settings
    from mock_server.server import Server

    app = create_app(Settings(port=0))
    running = Server(app, "127.0.0.1", 0, threads=4).start()
    yield running
    running.stop()


def replay_all(url: str, path: Path) -> list[int]:
    return [h.send(url, req)[0] for req in h.read_requests(path)]


def test_request_files_round_trip(tmp_path):
    requests = h.dodo_create("/dodo", 3) + h.waffo_create_session("/waffo", 2)
    path = h.write_requests(tmp_path / "r.tsv", requests)
    assert h.read_requests(path) == requests
    with pytest.raises(ValueError, match="tab or newline"):
        h.Request("POST", "/x", {"A": "b\tc"}).line()


def as_target(server) -> h.ServerProcess:
    """The in-process server seen through the harness's ServerProcess (its url, its name)."""
    return h.ServerProcess("paymock", [], server.port, h.dodo_create("/dodo", 1)[0])


@pytest.mark.parametrize("scenario", bench_run.SCENARIOS)
def test_every_scenario_is_answered_2xx_by_paymock(server, tmp_path, scenario):
    prefix = "/" + bench_run.provider_of(scenario)
    path = bench_run.prepare(scenario, as_target(server), prefix, tmp_path, mock=True)
    statuses = replay_all(server.url, path)
    assert statuses and set(statuses) == {200}, statuses


# -- Steady ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def steady():
    """One Steady per provider, started as the benchmark starts it (harness.steady_server)."""
    npm = shutil.which("npm")
    if not shutil.which("node") or not npm:
        pytest.fail("node and npm are required to install Steady for the benchmark smoke test "
                    "(Node 20: apt-get install nodejs npm); this test must not be skipped")
    try:
        h.steady_bin()
    except RuntimeError:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True, timeout=600)
    servers = {p: h.steady_server(h.free_port(), p).start() for p in ("dodo", "waffo")}
    yield servers
    for running in servers.values():
        running.stop()


@pytest.mark.parametrize("scenario", [s for s in bench_run.SCENARIOS if s != bench_run.MIX])
def test_every_scenario_is_answered_2xx_by_steady_and_valid(steady, tmp_path, scenario):
    running = steady[bench_run.provider_of(scenario)]
    path = bench_run.prepare(scenario, running, "", tmp_path, mock=False)
    requests = h.read_requests(path)
    assert requests
    for req in requests:
        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
        try:
            conn.request(req.method, req.path, body=req.body or None, headers=req.headers)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        # 2xx, and no contract finding Steady would otherwise only report in headers.
        assert 200 <= resp.status < 300, (req.method, req.path, resp.status, body[:300])
        assert resp.getheader("X-Steady-Request-Valid") == "true", resp.getheaders()
        assert resp.getheader("X-Steady-Error-Count") == "0", resp.getheaders()


def test_steady_runs_as_its_native_binary_quietly(steady):
    running = steady["dodo"]
    assert running.argv[0] == str(h.steady_bin()) and "-q" in running.argv
    assert running.cold_start is not None and running.peak_rss() > 0


# -- the mix: mix.lua's chains with webhook fan-out ----------------------------------------------
def wrk_or_fail() -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is required for the mix.lua smoke test (Debian: apt-get install -y "
                    "wrk); this test must not be skipped")


def test_mix_chains_pay_and_every_webhook_reaches_the_sink(server, tmp_path):
    wrk_or_fail()
    target = as_target(server)
    path = bench_run.prepare(bench_run.MIX, target, "/dodo", tmp_path, mock=True)
    args = SimpleNamespace(warmup=0, duration=1, connections=4, threads=2, webhook_endpoints=4,
                           drain_timeout=30, chains_per_thread=3)
    res = bench_run.run_mix_scenario(target, path, "/dodo", args)
    # Each of the two wrk threads stops after 3 finished chains (a few more are in flight).
    assert res["completed"] >= 6 and res["broken"] == 0 and res["errors"] == 0, res
    assert res["created"] >= res["paid"] >= res["completed"]
    assert res["fetched"] >= 2 * res["completed"]
    assert res["payments_succeeded"] >= res["paid"]
    assert res["webhooks_expected"] == 4 * res["payments_succeeded"]
    assert res["webhooks_received"] == res["webhooks_expected"], res
    assert res["webhooks_bad_signatures"] == 0 and res["webhooks_pending"] == 0
    # The endpoints were removed again.
    namespace = h.dodo_namespace()
    assert h.control(server.url, f"/webhooks/endpoints?namespace={namespace}")["endpoints"] == []


def test_sink_counts_deliveries_and_checks_signatures():
    sink = h.sink_server(h.free_port(), "whsec_" + __import__("base64").b64encode(b"k").decode())
    sink.start()
    try:
        import base64
        import hashlib
        import hmac
        body = b'{"type":"payment.succeeded"}'
        good = base64.b64encode(hmac.new(b"k", b"msg_1.1700000000." + body,
                                         hashlib.sha256).digest()).decode()
        for path, sig in (("/hook/0", good), ("/hook/1", good), ("/hook/1", good),
                          ("/hook/2", "bad")):
            status, _ = h.send(sink.url, h.Request("POST", path, {
                "webhook-id": "msg_1", "webhook-timestamp": "1700000000",
                "webhook-signature": f"v1,{sig}", "Content-Type": "application/json"}, body))
            assert status == 204
        stats = h.send_json(sink.url, h.Request("GET", "/stats"))
        assert (stats["received"], stats["unique"], stats["duplicates"],
                stats["bad_signatures"]) == (4, 3, 1, 1)
    finally:
        sink.stop()


# -- fairness: stalled clients and the probe ------------------------------------------------------
def test_stalled_clients_open_stall_and_close(server):
    stalled = h.StalledClients("127.0.0.1", server.port, 10).start()
    assert stalled.wait(10) == 10 and stalled.failed == 0
    sockets = list(stalled.sockets)
    partial, whole = stalled.heads()
    assert b"Content-Length" not in partial and not partial.endswith(b"\r\n\r\n")
    head, _, body = whole.partition(b"\r\n\r\n")
    assert b"Content-Length: 1000" in head and 0 < len(body) < 1000
    # The server is still there for others (this one has threads to spare for 10 stalls).
    assert h.send(server.url, h.Request("GET", "/_mock/health"))[0] == 200
    held = stalled.close()
    assert held["stalled"] == 10 and held["stalled_failed"] == 0
    assert 0 <= held["stalled_ended_by_server"] <= 10
    assert stalled.sockets == [] and all(sock.fileno() == -1 for sock in sockets)


def test_probe_times_requests_until_stopped(server):
    probe = h.Probe(server.url, h.Request("GET", "/_mock/health"), interval=0.05).start()
    time.sleep(0.3)
    out = probe.stop()
    assert out["probe_samples"] >= 2 and out["probe_failures"] == 0
    assert 0 < out["probe_p50_ms"] <= out["probe_max_ms"]
    unreachable = socket.socket()
    unreachable.bind(("127.0.0.1", 0))
    port = unreachable.getsockname()[1]  # bound, never listening: connections are refused
    try:
        probe = h.Probe(f"http://127.0.0.1:{port}", h.Request("GET", "/"), 0.05, 1).start()
        time.sleep(0.2)
        assert probe.stop()["probe_failures"] >= 1
    finally:
        unreachable.close()


# -- paymock's startup line -----------------------------------------------------------------------
@pytest.mark.parametrize("line, label", [
    ("paymock 0.1.0 listening on http://127.0.0.1:8787 (waitress, 16 threads)\n  dodo ...",
     "waitress, 16 threads"),
    ("paymock 0.2.0 listening on http://0.0.0.0:9 (granian, 1 thread)", "granian, 1 thread"),
    ("paymock 1.0 listening on http://[::1]:80 (some server 3.1; 4 workers)",
     "some server 3.1; 4 workers"),
    ("Traceback (most recent call last):", None),
])
def test_server_label_is_the_parenthesised_part_of_the_startup_line(line, label):
    assert h.server_label(line) == label


def test_paymock_serve_names_its_server_in_its_startup_line(tmp_path):
    """The label comes from paymock's real startup line, as `paymock serve` prints it."""
    running = h.paymock_server(h.free_port())
    running.log = tmp_path / "paymock.log"
    running.start()
    try:
        label = h.paymock_label(running)
    finally:
        running.stop()
    assert label and "--server" not in running.argv, running.log.read_text()


def test_wrk_summary_line_parses():
    out = ('Running 10s test\nWRK_JSON {"requests": 1000, "duration_us": 2000000, "bytes": 1, '
           '"connect_errors": 1, "read_errors": 2, "write_errors": 0, "timeout_errors": 3, '
           '"status_errors": 4, "p50_us": 1500, "p90_us": 2000, "p99_us": 9000, "max_us": 1, '
           '"mean_us": 1.0}\n')
    result = h.WrkResult.parse(out)
    assert (result.rps, result.p50_ms, result.p99_ms, result.errors) == (500.0, 1.5, 9.0, 10)
    with pytest.raises(RuntimeError, match="WRK_JSON"):
        h.WrkResult.parse("nothing")


def res(rps, p99=9.0, cold=0.4, **extra):
    return {"requests": int(rps * 8), "rps": rps, "p50_ms": 2.0, "p99_ms": p99, "errors": 0,
            "peak_rss_mb": 70.0, "cold_start_s": cold, **extra}


def test_report_table_with_three_servers_and_checks():
    args = SimpleNamespace(scenarios=["dodo.create_session"], sessions=10, rounds=1)
    mine = {"dodo.create_session": res(9000.0, label="granian, 1 thread")}
    text, checks = bench_run.report({"paymock": mine,
                                     "prism": {"dodo.create_session": res(3000.0)},
                                     "steady": {"dodo.create_session": res(6000.0)}}, None, args)
    assert "| paymock/Prism | paymock/Steady |" in text
    assert "| dodo.create_session | paymock (granian, 1 thread) | 9,000 |" in text
    assert "**3.00x** | **1.50x** |" in text
    assert "| dodo.create_session | Prism 5.16 |" in text
    assert "| dodo.create_session | Steady 0.22 |" in text
    assert ("dodo.create_session throughput >= 2.5x Prism", 3.0, True) in checks
    assert ("dodo.create_session throughput >= 1.2x Steady", 1.5, True) in checks
    assert all(ok for _, _, ok in checks)
    # Below either ratio, a p99 at 15 ms: FAIL.
    text, checks = bench_run.report({"paymock": {"dodo.create_session": res(7000.0, p99=15.0)},
                                     "prism": {"dodo.create_session": res(3000.0)},
                                     "steady": {"dodo.create_session": res(6000.0)}}, None, args)
    failed = {name for name, _, ok in checks if not ok}
    assert failed == {"dodo.create_session throughput >= 2.5x Prism",
                      "dodo.create_session throughput >= 1.2x Steady",
                      "dodo.create_session p99 < 15 ms"}


def test_report_mix_and_fairness_tables_and_their_checks():
    args = SimpleNamespace(scenarios=list(bench_run.SCENARIOS), sessions=10, rounds=1)
    mix = res(1200.0, p99=12.0, created=3001, fetched=6000, paid=3000, completed=2999, broken=0,
              chains_per_s=300.0, webhook_endpoints=4, payments_paid=3000,
              payments_succeeded=3002, webhooks_expected=12008, webhooks_received=12008,
              webhooks_duplicates=0, webhooks_bad_signatures=0, webhooks_pending=0,
              deliveries_per_s=1500.0, drain_s=0.2)
    stall = dict(stalled=200, stalled_failed=0, stalled_ended_by_server=0, probe_samples=80,
                 probe_failures=0, probe_p50_ms=1.0)
    fair = res(5000.0, p99=11.0, probe_max_ms=20.0, **stall)
    peer_fair = res(4000.0, probe_max_ms=None, **{**stall, "probe_samples": 0})
    servers = {"paymock": {bench_run.MIX: mix, bench_run.FAIRNESS: fair},
               "prism": {bench_run.FAIRNESS: peer_fair}}
    text, checks = bench_run.report(servers, None, args)
    assert "| mix.dodo_checkout_pay | paymock | 1,200 | 300 |" in text
    assert "12,008 / 12,008 (4 endpoints)" in text
    assert "| fairness.stalled_clients | paymock | 40,000 | 5,000 |" in text
    assert "| fairness.stalled_clients | Prism 5.16 |" in text and "| n/a | n/a |" in text
    assert all(ok for _, _, ok in checks), checks
    names = [name for name, _, _ in checks]
    assert "mix.dodo_checkout_pay every webhook delivered, signed" in names
    assert "fairness.stalled_clients control probe max < 100 ms" in names
    # A webhook missing, a slow probe, and a run that got no answer at all: FAIL, never PASS.
    servers["paymock"] = {
        bench_run.MIX: {**mix, "webhooks_received": 12007},
        bench_run.FAIRNESS: {**fair, "requests": 0, "rps": 0.0, "p99_ms": 0.0,
                             "probe_max_ms": 10010.0, "probe_failures": 1}}
    _, checks = bench_run.report(servers, None, args)
    failed = {name: value for name, value, ok in checks if not ok}
    assert set(failed) == {"mix.dodo_checkout_pay every webhook delivered, signed",
                           "fairness.stalled_clients p99 < 15 ms",
                           "fairness.stalled_clients no errors",
                           "fairness.stalled_clients control probe max < 100 ms"}
    assert failed["fairness.stalled_clients p99 < 15 ms"] == "no answer"


def test_rounds_take_the_median_round_and_show_every_round():
    mine = bench_run.median_rounds([{"dodo.create_session": res(7000.0, 7.0, 0.4)},
                                    {"dodo.create_session": res(5000.0, 5.0, 0.6)},
                                    {"dodo.create_session": res(6000.0, 6.0, 0.3)}])
    prism = bench_run.median_rounds([{"dodo.create_session": res(r, cold=1.0)}
                                     for r in (3000.0, 2000.0, 4000.0)])
    steady = bench_run.median_rounds([{"dodo.create_session": res(r, cold=0.1)}
                                      for r in (5000.0, 4000.0, 6000.0)])
    chosen = mine["dodo.create_session"]
    # The median round's own figures (not a mix), the median cold start, every round kept.
    assert (chosen["rps"], chosen["p99_ms"], chosen["cold_start_s"]) == (6000.0, 6.0, 0.4)
    assert chosen["rounds_rps"] == [7000.0, 5000.0, 6000.0]
    args = SimpleNamespace(scenarios=["dodo.create_session"], sessions=10, rounds=3)
    text, checks = bench_run.report({"paymock": mine, "prism": prism, "steady": steady}, None,
                                    args)
    assert "**2.00x** | **1.20x** |" in text
    assert ("| scenario | paymock req/s by round | Prism req/s by round | Steady req/s by round "
            "| paymock/Prism by round | paymock/Steady by round |") in text
    assert ("| dodo.create_session | 7,000 / 5,000 / 6,000 | 3,000 / 2,000 / 4,000 | "
            "5,000 / 4,000 / 6,000 | 2.33x / 2.50x / 1.50x | 1.40x / 1.25x / 1.00x |") in text
    assert ("dodo.create_session throughput >= 2.5x Prism", 2.0, False) in checks
    assert ("dodo.create_session throughput >= 1.2x Steady", 1.2, True) in checks


def test_only_takes_a_list_of_servers_and_server_is_off_by_default(monkeypatch, tmp_path):
    """No server is started: the runs, the report and the machine line are stand-ins, and the
    results are written under tmp_path, not benchmarks/results."""
    seen = {}
    monkeypatch.setattr(h, "BENCH_DIR", tmp_path)

    def fake_report(servers, memory, args, dashboard=None):
        seen.update(servers=servers, args=args)
        return "", []
    monkeypatch.setattr(bench_run, "run_paymock", lambda *a: {})
    monkeypatch.setattr(bench_run, "run_peer",
                        lambda peer, *a: seen.setdefault("peers", []).append(peer) or {})
    monkeypatch.setattr(bench_run, "report", fake_report)
    monkeypatch.setattr(bench_run, "machine", lambda: "test machine")
    assert bench_run.main(["--only", "steady", "prism", "--rounds", "2", "--skip-memory"]) == 0
    assert seen["peers"] == ["prism", "steady", "prism", "steady"]
    assert set(seen["servers"]) == {"prism", "steady"}
    assert seen["args"].paymock_arg == []
    bench_run.main(["--only", "paymock", "--server", "granian", "--rounds", "1",
                    "--skip-memory", "--skip-dashboard"])
    assert seen["args"].paymock_arg == ["--server", "granian"]
    assert (tmp_path / "results" / "latest.json").exists()


def test_the_dashboard_timings_are_a_table_and_a_target():
    pages = {"first page": {"median_ms": 4.0, "max_ms": 6.0},
             "search by email": {"median_ms": 18.0, "max_ms": 301.0}}
    text, checks = bench_run.report({}, None, argparse.Namespace(scenarios=[]),
                                    {"objects": 10_031, "pages": pages})
    assert "| dashboard, a namespace of 10,031 sessions | median ms | max ms |" in text
    assert "| search by email | 18.0 | 301.0 |" in text
    assert checks == [("dashboard pages over 10,000 objects < 300 ms", 301.0, False)]
    _, checks = bench_run.report({}, None, argparse.Namespace(scenarios=[]),
                                 {"objects": 9_000, "pages": {"first page": pages["first page"]}})
    assert checks[0][2] is False  # too few objects held: nothing was measured at 10,000


def test_rss_of_this_process_is_readable():
    import os
    assert 5 < h.rss_mb(os.getpid()) <= h.peak_rss_mb(os.getpid())
