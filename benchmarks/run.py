#!/usr/bin/env python3
"""Benchmark paymock against Prism, side by side, with wrk; then paymock's memory under 100,000 sessions.

    python benchmarks/run.py                 # everything (about 9 minutes)
    python benchmarks/run.py --rounds 1 --duration 5 --skip-memory
    python benchmarks/run.py --only paymock  # no Prism

Needs wrk (Debian: apt-get install -y wrk) and, for the peer, `npm ci` in benchmarks/ (Node 20).
Prints Markdown tables (throughput, latency, errors, RSS, cold start, paymock/Prism ratio, memory)
and the design's targets with PASS/FAIL; exits 1 when a target is missed. Servers take turns over
--rounds rounds (paymock, then Prism, then paymock again...) and each figure is the median round's,
so that a machine whose speed drifts during the run (shared or throttled VMs) favours neither. Results also go to
benchmarks/results/latest.{md,json} (not committed; benchmarks/README.md keeps the figures).
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

SCENARIOS = ("dodo.create_session", "dodo.get_session", "waffo.create_session",
             "waffo.create_order")
TARGETS = {"ratio": 2.0, "p99_ms": 25.0, "cold_start_s": 0.5, "idle_rss_mb": 80.0,
           "loaded_rss_mb": 400.0, "returned_fraction": 0.75}


# -- preparing each scenario's requests ---------------------------------------------------------
def prepare(scenario: str, server: h.ServerProcess, prefix: str, workdir: Path, mock: bool) -> Path:
    """The requests file for one scenario on one server. `mock` says whether it is paymock (whose
    state the requests must refer to) or a stateless peer (any well-formed id will do)."""
    out = workdir / f"{server.name}-{scenario}.tsv"
    if scenario == "dodo.create_session":
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


def bench(server: h.ServerProcess, prefix_of, scenarios, args, workdir: Path, mock: bool) -> dict:
    results = {}
    for scenario in scenarios:
        prefix = prefix_of(scenario)
        requests_file = prepare(scenario, server, prefix, workdir, mock)
        if args.warmup:
            h.run_wrk(server.url, requests_file, args.warmup, args.connections, args.threads)
        result = h.run_wrk(server.url, requests_file, args.duration, args.connections, args.threads)
        results[scenario] = {**result.__dict__, "peak_rss_mb": server.peak_rss(),
                             "cold_start_s": server.cold_start}
        print(f"  {server.name:<12} {scenario:<22} {result.rps:>9,.0f} req/s  p50 "
              f"{result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  errors {result.errors}",
              flush=True)
    return results


def run_paymock(args, workdir: Path, extra: list[str]) -> dict:
    server = h.paymock_server(h.free_port(), extra).start()
    try:
        print(f"paymock: first answer {server.cold_start * 1000:.0f} ms after start", flush=True)
        results = bench(server, lambda s: "/" + s.split(".")[0], args.scenarios, args, workdir, True)
    finally:
        code = server.stop()
    if code != 0:
        raise RuntimeError(f"paymock exited with {code} on SIGTERM; see {server.log}")
    return results


def run_prism(args, workdir: Path) -> dict:
    results = {}
    for provider in ("dodo", "waffo"):
        scenarios = [s for s in args.scenarios if s.startswith(provider + ".")]
        if not scenarios:
            continue
        server = h.prism_server(h.free_port(), provider).start()
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


def _dodo_objects(url: str) -> int:
    return sum(ns["objects"] for ns in h.control(url, "/namespaces")["namespaces"]
               if ns["name"].startswith("dodo:"))


# -- report ---------------------------------------------------------------------------------------
def median_rounds(rounds: list[dict]) -> dict:
    """{scenario: result} of the round with the median throughput, per scenario."""
    out = {}
    for scenario in {s for results in rounds for s in results}:
        runs = [r[scenario] for r in rounds if scenario in r]
        middle = (len(runs) - 1) // 2
        colds = sorted(res["cold_start_s"] for res in runs)
        out[scenario] = dict(sorted(runs, key=lambda res: res["rps"])[middle],
                             cold_start_s=colds[middle], rounds_rps=[res["rps"] for res in runs])
    return out


def report(paymock: dict, prism: dict, memory: dict | None, args) -> tuple[str, list[tuple]]:
    headers = ["scenario", "server", "req/s", "p50 ms", "p99 ms", "errors", "peak RSS MB",
               "cold start s", "paymock/Prism"]
    rows = []
    for scenario in args.scenarios:
        mine, peer = paymock.get(scenario), prism.get(scenario)
        ratio = mine["rps"] / peer["rps"] if mine and peer and peer["rps"] else None
        server = getattr(args, "server", None)
        for name, res in ((f"paymock ({server})" if server else "paymock", mine), ("Prism 5.16", peer)):
            if res is None:
                continue
            rows.append([scenario, name, res["rps"], res["p50_ms"], res["p99_ms"], res["errors"],
                         res["peak_rss_mb"], res["cold_start_s"],
                         f"**{ratio:.2f}x**" if name.startswith("paymock") and ratio else ""])
    text = h.markdown_table(headers, rows)
    if getattr(args, "rounds", 1) > 1:
        per_round = []
        for scenario in args.scenarios:
            mine, peer = paymock.get(scenario), prism.get(scenario)
            if mine and peer:
                per_round.append([scenario, " / ".join(f"{v:,.0f}" for v in mine["rounds_rps"]),
                                  " / ".join(f"{v:,.0f}" for v in peer["rounds_rps"]),
                                  " / ".join(f"{a / b:.2f}x" for a, b in
                                             zip(mine["rounds_rps"], peer["rounds_rps"]) if b)])
        if per_round:
            text += "\n\n" + h.markdown_table(
                ["scenario", "paymock req/s by round", "Prism req/s by round", "ratio by round"],
                per_round)
    if memory:
        text += "\n\n" + h.markdown_table(
            ["paymock memory", "RSS MB"],
            [["idle (after start, one request per provider)", memory["idle_rss_mb"]],
             [f"{memory['sessions']:,} live Dodo sessions (made through the API in "
              f"{memory['fill_seconds']:.0f} s)", memory["loaded_rss_mb"]],
             [f"after they expired and were evicted ({memory['objects_left']} objects left, "
              f"{memory['returned_fraction']:.0%} of the growth returned)",
              memory["evicted_rss_mb"]]])
    checks = []
    create = paymock.get("dodo.create_session")
    peer = prism.get("dodo.create_session")
    if create and peer:
        checks.append(("create-session throughput >= 2x Prism", create["rps"] / peer["rps"],
                       create["rps"] / peer["rps"] >= TARGETS["ratio"]))
    for scenario, res in paymock.items():
        checks.append((f"{scenario} p99 < 25 ms", res["p99_ms"], res["p99_ms"] < TARGETS["p99_ms"]))
        checks.append((f"{scenario} no errors", res["errors"], res["errors"] == 0))
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
    text += "\n\n" + h.markdown_table(["target", "measured", "result"], [
        [name, round(value, 3) if isinstance(value, float) else value, "PASS" if ok else "FAIL"]
        for name, value, ok in checks])
    return text, checks


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
    # a minute, and the median of five pairs is less at the mercy of one slow stretch.
    parser.add_argument("--duration", type=float, default=8, help="seconds per run (default 8)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of paymock-then-Prism; figures are the median round's (default 5)")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds (default 2)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--sessions", type=int, default=100_000, help="for the memory run")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--only", choices=("paymock", "prism"))
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--server", choices=("granian", "waitress"), default="granian",
                        help="paymock's server (default granian, `paymock serve --server granian`)")
    parser.add_argument("--paymock-arg", action="append", default=[],
                        help="extra argument for `paymock serve` (repeatable)")
    args = parser.parse_args(argv)

    args.paymock_arg = ["--server", args.server, *args.paymock_arg]
    header = (f"{machine()}\n`paymock serve --server {args.server}`; `wrk -t{args.threads} "
              f"-c{args.connections} -d{args.duration:g}s` after a {args.warmup:g} s warm-up, "
              f"{args.rounds} round(s), {time.strftime('%Y-%m-%d %H:%M')}")
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="paymock-bench-") as tmp:
        workdir = Path(tmp)
        mine, theirs = [], []
        for number in range(1, max(1, args.rounds) + 1):
            if args.rounds > 1:
                print(f"round {number} of {args.rounds}", flush=True)
            mine.append(run_paymock(args, workdir, args.paymock_arg) if args.only != "prism" else {})
            theirs.append(run_prism(args, workdir) if args.only != "paymock" else {})
        paymock, prism = median_rounds(mine), median_rounds(theirs)
        memory = None
        if not args.skip_memory and args.only != "prism":
            memory = run_memory(args, workdir, args.paymock_arg)
    text, checks = report(paymock, prism, memory, args)
    text = header + "\n\n" + text
    print("\n" + text)
    out = h.BENCH_DIR / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(text + "\n")
    (out / "latest.json").write_text(json.dumps(
        {"paymock": paymock, "prism": prism, "memory": memory, "args": vars(args),
         "checks": [{"target": n, "value": v, "pass": ok} for n, v, ok in checks]}, indent=2))
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
