#!/usr/bin/env python3
"""Benchmark paymock against Prism and Steady with wrk; then paymock's memory with 100,000 sessions.

    python benchmarks/run.py                          # everything (see benchmarks/README.md)
    python benchmarks/run.py --rounds 1 --duration 2 --warmup 1 --skip-memory   # a quick look
    python benchmarks/run.py --only paymock           # no peers
    python benchmarks/run.py --only paymock steady    # paymock and Steady
    python benchmarks/run.py --server granian         # `paymock serve --server granian`

Needs wrk (Debian: apt-get install -y wrk) and, for the peers, `npm ci` in benchmarks/ (Node 20).
paymock runs as `paymock serve` (no --server flag unless --server is given); its rows are
labelled with the server its startup line names. Prints Markdown tables (throughput, latency,
errors, RSS, cold start, paymock/Prism and paymock/Steady ratios; the stateful mix with its
webhook deliveries; the stalled-clients fairness run; memory) and the design's targets with
PASS/FAIL; exits 1 when a target is missed. Servers take turns over --rounds rounds (paymock,
Prism, Steady, then paymock again...) with fresh servers each round, and each figure is the
median round's, so that a machine whose speed drifts during the run (shared or throttled VMs)
favours none. Results also go to benchmarks/results/latest.{md,json} (not committed;
benchmarks/README.md keeps the figures).
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import harness as h  # noqa: E402

REPLAYED = ("dodo.create_session", "dodo.get_session", "waffo.create_session",
            "waffo.create_order")
MIX = "mix.dodo_checkout_pay"
FAIRNESS = "fairness.stalled_clients"
SCENARIOS = (*REPLAYED, MIX, FAIRNESS)
SERVERS = ("paymock", "prism", "steady")
PEERS = {"prism": ("Prism 5.16", h.prism_server), "steady": ("Steady 0.22", h.steady_server)}
TARGETS = {"ratio_prism": 2.5, "ratio_steady": 1.2, "p99_ms": 15.0, "cold_start_s": 0.5,
           "probe_max_ms": 100.0, "idle_rss_mb": 80.0, "loaded_rss_mb": 400.0,
           "returned_fraction": 0.75, "dashboard_ms": 300.0}
DASHBOARD_OBJECTS = 10_000


def provider_of(scenario: str) -> str:
    """The provider whose server (one process per provider for a peer) runs a scenario."""
    return scenario.split(".")[0] if scenario in REPLAYED else "dodo"


# -- preparing each scenario's requests ---------------------------------------------------------
def prepare(scenario: str, server: h.ServerProcess, prefix: str, workdir: Path, mock: bool) -> Path:
    """The requests file for one scenario on one server. `mock` says whether it is paymock (whose
    state the requests must refer to) or a stateless peer (any well-formed id will do)."""
    out = workdir / f"{server.name}-{scenario}.tsv"
    if scenario in ("dodo.create_session", MIX, FAIRNESS):
        return h.write_requests(out, h.dodo_create(prefix))
    if scenario == "dodo.get_session":
        if mock:
            ids = [h.send_json(server.url, r)["session_id"] for r in h.dodo_create(prefix, 256)]
        else:
            ids = [f"cks_bench{i:016d}" for i in range(256)]
        return h.write_requests(out, h.dodo_get(prefix, ids))
    if scenario == "waffo.create_session":
        return h.write_requests(out, h.waffo_create_session(prefix, 64))
    if scenario == "waffo.create_order":
        if mock:
            sessions = [h.send_json(server.url, r)["data"]["sessionId"]
                        for r in h.waffo_create_session(prefix, 64)]
            store = h.waffo_store()["id"]
            token = h.send_json(server.url, h.waffo_signed(prefix, h.WAFFO_TOKEN, {
                "storeId": store, "buyerIdentity": "buyer@example.com"}))["data"]["token"]
        else:
            sessions = [f"cs_00000000-0000-4000-8000-{i:012d}" for i in range(64)]
            token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJl"
        return h.write_requests(out, h.waffo_create_order(prefix, token, sessions))
    raise ValueError(scenario)


def _line(server: h.ServerProcess, scenario: str, res: dict, extra: str = "") -> None:
    print(f"  {server.name:<12} {scenario:<24} {res['rps']:>9,.0f} req/s  p50 "
          f"{res['p50_ms']:6.2f} ms  p99 {res['p99_ms']:6.2f} ms  errors {res['errors']}{extra}",
          flush=True)


def bench(server: h.ServerProcess, prefix_of, scenarios, args, workdir: Path, mock: bool) -> dict:
    results = {}
    for scenario in scenarios:
        prefix = prefix_of(scenario)
        requests_file = prepare(scenario, server, prefix, workdir, mock)
        if scenario == MIX:
            res = run_mix_scenario(server, requests_file, prefix, args)
        elif scenario == FAIRNESS:
            res = run_fairness(server, requests_file, args, mock)
        else:
            if args.warmup:
                h.run_wrk(server.url, requests_file, args.warmup, args.connections, args.threads)
            res = h.run_wrk(server.url, requests_file, args.duration, args.connections,
                            args.threads).__dict__
        results[scenario] = {**res, "peak_rss_mb": server.peak_rss(),
                             "cold_start_s": server.cold_start}
        extra = ""
        if scenario == MIX:
            extra = (f"  chains/s {res['chains_per_s']:,.0f}  webhooks {res['webhooks_received']:,}"
                     f"/{res['webhooks_expected']:,}")
        elif scenario == FAIRNESS:
            probe = res.get("probe_max_ms")
            extra = (f"  stalled {res['stalled']} ({res['stalled_ended_by_server']} ended by the "
                     f"server)  probe max " + (f"{probe:.1f} ms" if probe is not None else "n/a"))
        _line(server, scenario, res, extra)
    return results


# -- the stateful mix: chains with webhook fan-out to a sink -------------------------------------
def run_mix_scenario(server: h.ServerProcess, requests_file: Path, prefix: str, args) -> dict:
    """mix.lua's chains (create -> GET -> pay through the control API -> GET) with
    --webhook-endpoints endpoints registered for the benchmark's Dodo namespace, all pointing at a
    sink (sink.py on waitress, its own process): every payment is delivered, signed, to each."""
    namespace = h.dodo_namespace()
    secret = h.control(server.url, "/webhooks/secret?provider=dodo")["secret"]
    sink = h.sink_server(h.free_port(), secret).start()
    try:
        for i in range(args.webhook_endpoints):
            h.control(server.url, "/webhooks/endpoints",
                      {"url": f"{sink.url}/hook/{i}", "namespace": namespace})
        paid = 0
        if args.warmup:
            _, steps = h.run_mix(server.url, requests_file, args.warmup, args.connections,
                                 args.threads, prefix)
            paid += steps["paid"]
        before = h.send_json(sink.url, h.Request("GET", "/stats"))
        result, steps = h.run_mix(server.url, requests_file, args.duration, args.connections,
                                  args.threads, prefix,
                                  chains_per_thread=getattr(args, "chains_per_thread", 0))
        during = h.send_json(sink.url, h.Request("GET", "/stats"))
        paid += steps["paid"]
        # wrk stops with requests in flight: a payment whose answer it never read still counts.
        # paymock's own count of succeeded payments is the one that makes webhooks.
        time.sleep(0.5)
        payments = h.control(server.url, f"/payments?namespace={namespace}")["payments"]
        succeeded = sum(1 for p in payments if p["status"] == "succeeded")
        expected = succeeded * args.webhook_endpoints
        # Deliveries run on paymock's scheduler, not on the request path: wait for the rest.
        drained_at, stats, last, last_change = time.perf_counter(), during, -1, time.perf_counter()
        while time.perf_counter() - drained_at < args.drain_timeout:
            stats = h.send_json(sink.url, h.Request("GET", "/stats"))
            if stats["unique"] >= expected:
                break
            if stats["received"] != last:
                last, last_change = stats["received"], time.perf_counter()
            elif time.perf_counter() - last_change > 10:
                break  # nothing arrived for 10 s
            time.sleep(0.1)
        drain_s = (stats["last_at"] - during["now"]) if stats["last_at"] else 0.0
        pending = len(h.control(server.url, f"/webhooks/deliveries?namespace={namespace}"
                                            "&status=pending")["deliveries"])
        h.control(server.url, f"/webhooks/endpoints?namespace={namespace}", method="DELETE")
    finally:
        sink.stop()
    return {**result.__dict__, **steps,
            "chains_per_s": steps["completed"] / result.seconds if result.seconds else 0.0,
            "webhook_endpoints": args.webhook_endpoints, "payments_paid": paid,
            "payments_succeeded": succeeded, "webhooks_expected": expected,
            "webhooks_received": stats["unique"], "webhooks_duplicates": stats["duplicates"],
            "webhooks_bad_signatures": stats["bad_signatures"], "webhooks_pending": pending,
            "deliveries_per_s": (during["received"] - before["received"]) / result.seconds
            if result.seconds else 0.0,
            "drain_s": max(0.0, drain_s)}


# -- fairness: stalled clients while wrk runs create-session -----------------------------------
PROBES = {"paymock": h.Request("GET", "/_mock/health"),
          "steady": h.Request("GET", "/_x-steady/health")}  # Prism has no health endpoint


def run_fairness(server: h.ServerProcess, requests_file: Path, args, mock: bool) -> dict:
    """dodo.create_session under wrk while --stalled connections hang mid-request (half in the
    request head, half in a body of announced length), and a probe times a health request on a
    new connection every 100 ms (paymock: the control API's GET /_mock/health)."""
    if args.warmup:
        h.run_wrk(server.url, requests_file, args.warmup, args.connections, args.threads)
    kind = "paymock" if mock else server.name.split("-")[0]
    prefix = "/dodo/checkouts" if mock else "/checkouts"
    stalled = h.StalledClients("127.0.0.1", server.port, args.stalled, prefix).start()
    probe = None
    try:
        stalled.wait()
        if kind in PROBES:
            probe = h.Probe(server.url, PROBES[kind], 0.1).start()
        result = h.run_wrk(server.url, requests_file, args.duration, args.connections,
                           args.threads)
    finally:
        probed = probe.stop() if probe else {"probe_samples": 0, "probe_failures": 0,
                                             "probe_max_ms": None, "probe_p50_ms": None}
        held = stalled.close()
    return {**result.__dict__, **held, **probed}


# -- servers ------------------------------------------------------------------------------------
def run_paymock(args, workdir: Path, extra: list[str]) -> dict:
    server = h.paymock_server(h.free_port(), extra).start()
    try:
        label = h.paymock_label(server)
        print(f"paymock ({label or 'server not named'}): first answer "
              f"{server.cold_start * 1000:.0f} ms after start", flush=True)
        results = bench(server, lambda s: "/" + provider_of(s), args.scenarios, args, workdir,
                        True)
    finally:
        code = server.stop()
    if code != 0:
        raise RuntimeError(f"paymock exited with {code} on SIGTERM; see {server.log}")
    return {scenario: {**res, "label": label} for scenario, res in results.items()}


def run_peer(peer: str, args, workdir: Path) -> dict:
    """A peer (Prism, Steady): one process per provider's contract, its replayed scenarios and
    the fairness scenario (on the Dodo process); never the mix (peers keep no state)."""
    start = PEERS[peer][1]
    results = {}
    for provider in ("dodo", "waffo"):
        scenarios = [s for s in args.scenarios if s != MIX and provider_of(s) == provider]
        if not scenarios:
            continue
        server = start(h.free_port(), provider).start()
        try:
            print(f"{server.name}: first answer {server.cold_start * 1000:.0f} ms after start",
                  flush=True)
            results.update(bench(server, lambda s: "", scenarios, args, workdir, False))
        finally:
            server.stop()
    return results


def run_memory(args, workdir: Path, extra: list[str]) -> dict:
    """Idle RSS; RSS holding N live Dodo sessions (made through the API); RSS once they expired
    and were evicted (clock advanced past lifetime + retention; the advance sweeps the store)."""
    server = h.paymock_server(h.free_port(), extra).start()
    try:
        for req in h.waffo_create_session("/waffo", 1):  # touch both providers once
            h.send_json(server.url, req)
        time.sleep(0.5)
        idle = server.rss()
        before = _dodo_objects(server.url)
        requests_file = h.write_requests(workdir / "memory-fill.tsv", h.dodo_create("/dodo", 64))
        fill_seconds = h.fill(server.url, requests_file, args.sessions,
                              lambda: _dodo_objects(server.url) - before, args.connections,
                              args.threads)
        live = _dodo_objects(server.url) - before
        time.sleep(0.5)
        loaded = server.rss()
        h.control(server.url, "/clock/advance", {"seconds": 25 * 3600 + 60})
        time.sleep(0.5)
        after = server.rss()
        left = sum(ns["objects"] for ns in h.control(server.url, "/namespaces")["namespaces"])
    finally:
        server.stop()
    growth = max(loaded - idle, 1e-9)
    return {"idle_rss_mb": idle, "sessions": live, "fill_seconds": fill_seconds,
            "loaded_rss_mb": loaded, "evicted_rss_mb": after,
            "returned_fraction": (loaded - after) / growth, "objects_left": left}


def run_dashboard(args, workdir: Path, extra: list[str]) -> dict:
    """The dashboard's pages over a namespace of 10,000 Dodo sessions (64 buyers, made through
    the API): the first page, the last, a search by email, a search for one id, the object's
    page, each fetched 5 times after one warm-up; the slowest answer of each counts."""
    import requests

    server = h.paymock_server(h.free_port(), extra).start()
    try:
        bodies = [h.Request("POST", "/dodo/checkouts", req.headers, h.compact(
            {**h.DODO_CREATE_BODY, "customer": {"email": f"buyer-{i}@example.com",
                                                 "name": f"Buyer {i}"}}))
                  for i, req in enumerate(h.dodo_create("/dodo", 64))]
        fill_file = h.write_requests(workdir / "dashboard-fill.tsv", bodies)
        h.fill(server.url, fill_file, DASHBOARD_OBJECTS, lambda: _dodo_objects(server.url),
               args.connections, args.threads)
        namespace = next(ns["name"] for ns in h.control(server.url, "/namespaces")["namespaces"]
                         if ns["name"].startswith("dodo:"))
        sessions = h.control(server.url, f"/state?namespace={namespace}")["namespaces"][
            namespace]["session"]
        one = next(iter(sessions))  # the oldest: on the last page
        held = len(sessions)
        base = f"{server.url}/_mock/ui/ns/{namespace}"
        pages = {"first page": f"{base}?kind=session",
                 "last page": f"{base}?kind=session&page={-(-held // 50)}",
                 "search by email": f"{base}?kind=session&q=buyer-7@example.com",
                 "search for one id": f"{base}?kind=session&q={one}",
                 "the object's page": f"{base}/session/{one}"}
        http = requests.Session()
        timings = {}
        for name, url in pages.items():
            assert http.get(url, timeout=30).status_code == 200, url
            times = []
            for _ in range(5):
                started = time.perf_counter()
                answer = http.get(url, timeout=30)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200 and one in answer.text or name in (
                    "first page", "search by email"), (name, answer.status_code)
            timings[name] = {"median_ms": sorted(times)[2], "max_ms": max(times)}
    finally:
        server.stop()
    return {"objects": held, "pages": timings}


def _dodo_objects(url: str) -> int:
    return sum(ns["objects"] for ns in h.control(url, "/namespaces")["namespaces"]
               if ns["name"].startswith("dodo:"))


# -- report ---------------------------------------------------------------------------------------
def median_rounds(rounds: list[dict]) -> dict:
    """{scenario: result} of the round with the median throughput, per scenario."""
    out = {}
    for scenario in dict.fromkeys(s for results in rounds for s in results):
        runs = [r[scenario] for r in rounds if scenario in r]
        middle = (len(runs) - 1) // 2
        colds = sorted(res["cold_start_s"] for res in runs)
        out[scenario] = dict(sorted(runs, key=lambda res: res["rps"])[middle],
                             cold_start_s=colds[middle], rounds_rps=[res["rps"] for res in runs])
    return out


def _label(server: str, res: dict | None) -> str:
    if server == "paymock":
        label = (res or {}).get("label")
        return f"paymock ({label})" if label else "paymock"
    return PEERS[server][0]


def _ratio(mine: dict | None, peer: dict | None) -> float | None:
    return mine["rps"] / peer["rps"] if mine and peer and peer["rps"] else None


def _ms(value) -> str | None:
    return None if value is None else f"{value:.1f}"


def report(servers: dict, memory: dict | None, args,
           dashboard: dict | None = None) -> tuple[str, list[tuple]]:
    """servers: {"paymock": {scenario: median-round result}, "prism": {...}, "steady": {...}}."""
    paymock = servers.get("paymock", {})
    headers = ["scenario", "server", "req/s", "p50 ms", "p99 ms", "errors", "peak RSS MB",
               "cold start s", *(f"paymock/{PEERS[p][0].split()[0]}" for p in PEERS)]
    rows = []
    replayed = [s for s in args.scenarios if s in REPLAYED]
    for scenario in replayed:
        mine = paymock.get(scenario)
        ratios = [_ratio(mine, servers.get(p, {}).get(scenario)) for p in PEERS]
        for server in ("paymock", *PEERS):
            res = servers.get(server, {}).get(scenario)
            if res is None:
                continue
            cells = [f"**{r:.2f}x**" if server == "paymock" and r else "" for r in ratios]
            rows.append([scenario, _label(server, res), res["rps"], res["p50_ms"], res["p99_ms"],
                         res["errors"], res["peak_rss_mb"], res["cold_start_s"], *cells])
    text = h.markdown_table(headers, rows) if rows else ""
    if getattr(args, "rounds", 1) > 1:
        per_round = []
        for scenario in replayed:
            mine = paymock.get(scenario)
            theirs = {p: servers.get(p, {}).get(scenario) for p in PEERS}
            if not mine or not any(theirs.values()):
                continue
            row = [scenario, " / ".join(f"{v:,.0f}" for v in mine["rounds_rps"])]
            row += [" / ".join(f"{v:,.0f}" for v in theirs[p]["rounds_rps"]) if theirs[p] else ""
                    for p in PEERS]
            row += [" / ".join(f"{a / b:.2f}x" for a, b in zip(mine["rounds_rps"],
                                                                theirs[p]["rounds_rps"]) if b)
                    if theirs[p] else "" for p in PEERS]
            per_round.append(row)
        if per_round:
            names = [PEERS[p][0].split()[0] for p in PEERS]
            text += "\n\n" + h.markdown_table(
                ["scenario", "paymock req/s by round", *(f"{n} req/s by round" for n in names),
                 *(f"paymock/{n} by round" for n in names)], per_round)
    mix = paymock.get(MIX)
    if mix:
        text += "\n\n" + h.markdown_table(
            ["scenario", "server", "req/s", "chains/s", "p50 ms", "p99 ms", "errors",
             "broken chains", "webhooks received / expected", "deliveries/s during the run",
             "last delivery after wrk s", "bad signatures", "payments paid (paymock says)"],
            [[MIX, _label("paymock", mix), mix["rps"], mix["chains_per_s"], mix["p50_ms"],
              mix["p99_ms"], mix["errors"], mix["broken"],
              f"{mix['webhooks_received']:,} / {mix['webhooks_expected']:,} "
              f"({mix['webhook_endpoints']} endpoints)", mix["deliveries_per_s"], mix["drain_s"],
              mix["webhooks_bad_signatures"],
              f"{mix['payments_paid']:,} ({mix['payments_succeeded']:,})"]])
        text += ("\n\n(webhooks expected: the payments paymock reports succeeded times the "
                 "endpoints; received: distinct (endpoint, webhook-id) pairs the sink got; "
                 "payments paid: answers wrk read, in brackets paymock's count, which includes "
                 "payments whose answer was in flight when wrk stopped)")
    fair_rows = []
    for server in ("paymock", *PEERS):
        res = servers.get(server, {}).get(FAIRNESS)
        if res:
            fair_rows.append([FAIRNESS, _label(server, res), f"{res['requests']:,}", res["rps"],
                              res["p50_ms"],
                              res["p99_ms"], res["errors"],
                              f"{res['stalled']} ({res['stalled_ended_by_server']} ended by the "
                              f"server)", _ms(res["probe_max_ms"]),
                              res["probe_failures"] if res["probe_samples"] else None])
    if fair_rows:
        text += "\n\n" + h.markdown_table(
            ["scenario", "server", "answers", "req/s", "p50 ms", "p99 ms", "errors",
             "stalled connections",
             "probe max ms", "probe failures"], fair_rows)
    if memory:
        text += "\n\n" + h.markdown_table(
            ["paymock memory", "RSS MB"],
            [["idle (after start, one request per provider)", memory["idle_rss_mb"]],
             [f"{memory['sessions']:,} live Dodo sessions (made through the API in "
              f"{memory['fill_seconds']:.0f} s)", memory["loaded_rss_mb"]],
             [f"after they expired and were evicted ({memory['objects_left']} objects left, "
              f"{memory['returned_fraction']:.0%} of the growth returned)",
              memory["evicted_rss_mb"]]])
    if dashboard:
        text += "\n\n" + h.markdown_table(
            [f"dashboard, a namespace of {dashboard['objects']:,} sessions", "median ms", "max ms"],
            [[name, _ms(t["median_ms"]), _ms(t["max_ms"])] for name, t in dashboard["pages"].items()])
    checks = []
    create = paymock.get("dodo.create_session")
    for peer, key in (("prism", "ratio_prism"), ("steady", "ratio_steady")):
        ratio = _ratio(create, servers.get(peer, {}).get("dodo.create_session"))
        if ratio is not None:
            checks.append((f"dodo.create_session throughput >= {TARGETS[key]:g}x "
                           f"{PEERS[peer][0].split()[0]}", ratio, ratio >= TARGETS[key]))
    for scenario, res in paymock.items():
        # A run with no answer at all (a server that never answered wrk) has no latency to
        # speak of: it fails both checks, it does not pass them with p99 = 0.
        answered = res["requests"] > 0
        # The mix has no latency target: wrk keeps 32 chains in flight, so each step waits
        # behind the others' (four API calls and four webhook deliveries per chain): its
        # latency is 32 / throughput, which the table reports. Its target is every webhook.
        if scenario != MIX:
            checks.append((f"{scenario} p99 < {TARGETS['p99_ms']:g} ms",
                           res["p99_ms"] if answered else "no answer",
                           answered and res["p99_ms"] < TARGETS["p99_ms"]))
        errors = res["errors"] + res.get("broken", 0)
        checks.append((f"{scenario} no errors", errors if answered else "no answer",
                       answered and errors == 0))
    if mix:
        checks.append((f"{MIX} every webhook delivered, signed",
                       f"{mix['webhooks_received']} / {mix['webhooks_expected']}",
                       mix["webhooks_expected"] > 0
                       and mix["webhooks_received"] == mix["webhooks_expected"]
                       and mix["webhooks_bad_signatures"] == 0
                       and mix["payments_succeeded"] >= mix["payments_paid"]))
    fair = paymock.get(FAIRNESS)
    if fair:
        value = fair["probe_max_ms"]
        checks.append((f"{FAIRNESS} control probe max < {TARGETS['probe_max_ms']:g} ms",
                       value if value is not None else "no sample",
                       value is not None and value < TARGETS["probe_max_ms"]
                       and fair["probe_failures"] == 0))
    if paymock:
        cold = next(iter(paymock.values()))["cold_start_s"]
        checks.append(("cold start < 0.5 s", cold, cold < TARGETS["cold_start_s"]))
    if memory:
        checks.append(("idle RSS < 80 MB", memory["idle_rss_mb"],
                       memory["idle_rss_mb"] < TARGETS["idle_rss_mb"]))
        checks.append((f"{memory['sessions']:,} sessions < 400 MB", memory["loaded_rss_mb"],
                       memory["loaded_rss_mb"] < TARGETS["loaded_rss_mb"]
                       and memory["sessions"] >= args.sessions))
        checks.append(("eviction returns >= 75% of the growth", memory["returned_fraction"],
                       memory["returned_fraction"] >= TARGETS["returned_fraction"]
                       and memory["objects_left"] < 1000))
    if dashboard:
        slowest = max(t["max_ms"] for t in dashboard["pages"].values())
        checks.append((f"dashboard pages over {DASHBOARD_OBJECTS:,} objects < "
                       f"{TARGETS['dashboard_ms']:g} ms", slowest,
                       slowest < TARGETS["dashboard_ms"]
                       and dashboard["objects"] >= DASHBOARD_OBJECTS))
    text += "\n\n" + h.markdown_table(["target", "measured", "result"], [
        [name, round(value, 3) if isinstance(value, float) else value, "PASS" if ok else "FAIL"]
        for name, value, ok in checks])
    return text.lstrip("\n"), checks


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    wrk = subprocess.run([h.wrk_path(), "--version"], capture_output=True, text=True).stdout
    return (f"{platform.node() or 'host'}: {cpu}, {len(__import__('os').sched_getaffinity(0))} cores, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
            f"{wrk.split(chr(10))[0].split(' [')[0]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # Five short rounds rather than three long ones: this VM's speed drifts by a quarter within
    # a minute, and the median of five is less at the mercy of one slow stretch.
    parser.add_argument("--duration", type=float, default=8, help="seconds per run (default 8)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of paymock, Prism, Steady in turn; figures are the median "
                             "round's (default 5)")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds (default 2)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--sessions", type=int, default=100_000, help="for the memory run")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--only", nargs="+", choices=SERVERS, default=list(SERVERS),
                        metavar="SERVER",
                        help="servers to run: paymock, prism, steady (default all three)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-dashboard", action="store_true",
                        help="skip timing the dashboard over a namespace of 10,000 objects")
    parser.add_argument("--server", default=None,
                        help="pass `--server NAME` to `paymock serve` (default: no flag, the "
                             "server paymock serve picks for a user)")
    parser.add_argument("--paymock-arg", action="append", default=[],
                        help="extra argument for `paymock serve` (repeatable)")
    parser.add_argument("--stalled", type=int, default=200,
                        help=f"stalled connections in {FAIRNESS} (default 200)")
    parser.add_argument("--webhook-endpoints", type=int, default=4,
                        help=f"webhook endpoints every payment of {MIX} is delivered to "
                             "(default 4)")
    parser.add_argument("--drain-timeout", type=float, default=60,
                        help=f"seconds to wait for {MIX}'s webhooks after wrk (default 60)")
    args = parser.parse_args(argv)

    serve_args = (["--server", args.server] if args.server else []) + args.paymock_arg
    args.paymock_arg = serve_args
    only = [s for s in SERVERS if s in args.only]
    header = (f"{machine()}\n`paymock serve{''.join(' ' + a for a in serve_args)}`; "
              f"peers: {', '.join(PEERS[p][0] for p in only if p in PEERS) or 'none'}; "
              f"`wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s` after a "
              f"{args.warmup:g} s warm-up, {args.rounds} round(s), "
              f"{time.strftime('%Y-%m-%d %H:%M')}")
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="paymock-bench-") as tmp:
        workdir = Path(tmp)
        rounds: dict[str, list[dict]] = {server: [] for server in only}
        for number in range(1, max(1, args.rounds) + 1):
            if args.rounds > 1:
                print(f"round {number} of {args.rounds}", flush=True)
            for server in only:
                rounds[server].append(run_paymock(args, workdir, serve_args)
                                      if server == "paymock" else run_peer(server, args, workdir))
        servers = {server: median_rounds(runs) for server, runs in rounds.items()}
        memory = None
        if not args.skip_memory and "paymock" in only:
            memory = run_memory(args, workdir, serve_args)
        dashboard = None
        if not args.skip_dashboard and "paymock" in only:
            dashboard = run_dashboard(args, workdir, serve_args)
    text, checks = report(servers, memory, args, dashboard)
    text = header + "\n\n" + text
    print("\n" + text)
    out = h.BENCH_DIR / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(text + "\n")
    (out / "latest.json").write_text(json.dumps(
        {**{server: servers.get(server, {}) for server in SERVERS}, "memory": memory,
         "dashboard": dashboard,
         "args": vars(args),
         "checks": [{"target": n, "value": v, "pass": ok} for n, v, ok in checks]}, indent=2))
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
