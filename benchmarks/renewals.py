"""A year of subscription renewals on the mock clock: N subscriptions (each bought through
`POST /_mock/trigger {"event": "subscription.active"}`: a confirmed checkout of a monthly
product, paid), then ONE `POST /_mock/clock/advance` of 366 days, which runs every renewal that
fell due, in order, before it answers. Reports the advance's wall time, renewals per second, and
the server's RSS before and after. The design target: 10,000 subscriptions in under 10 s.

    python benchmarks/renewals.py [--subscriptions 10000] [--namespaces 10]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

TARGET_SECONDS = 10.0
MONTHLY = "pdt_T5Kpc8SCR9JBIdPiEvcN1"  # the fixture catalog's Starter Subscription (monthly)


def buy(url: str, namespace: str, count: int) -> None:
    for _ in range(count):
        h.control(url, "/trigger", {"provider": "dodo", "event": "subscription.active",
                                     "namespace": namespace, "product_id": MONTHLY})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=10, help="API keys they spread over")
    parser.add_argument("--paymock-arg", action="append", default=[])
    args = parser.parse_args(argv)
    server = h.paymock_server(h.free_port(), args.paymock_arg).start()
    try:
        names = [f"dodo:bench{i:04d}" for i in range(args.namespaces)]
        h.control(server.url, "/clock/freeze", {})  # renewals fall due only when told to
        started = time.perf_counter()
        share, extra = divmod(args.subscriptions, len(names))
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: buy(server.url, names[i], share + (i < extra)),
                          range(len(names))))
        bought = time.perf_counter() - started
        idle_rss = server.rss()
        started = time.perf_counter()
        status, raw = h.send(server.url, h.Request(
            "POST", "/_mock/clock/advance", {"Content-Type": "application/json"},
            h.compact({"seconds": 366 * 86400})), timeout=600)
        if status != 200:
            raise RuntimeError(f"clock advance: HTTP {status}: {raw[:300]!r}")
        seconds = time.perf_counter() - started
        rss = server.rss()
        payments = sum(len(h.control(server.url, f"/payments?namespace={name}")["payments"])
                       for name in names)
    finally:
        server.stop()
    renewals = payments - args.subscriptions
    result = {"subscriptions": args.subscriptions, "namespaces": args.namespaces,
              "bought_seconds": round(bought, 1), "renewals": renewals,
              "advance_seconds": round(seconds, 2), "renewals_per_second": round(renewals / seconds),
              "rss_mb_before": round(idle_rss, 1), "rss_mb_after": round(rss, 1),
              "target_seconds": TARGET_SECONDS,
              "pass": seconds < TARGET_SECONDS * args.subscriptions / 10_000}
    print(json.dumps(result, indent=2))
    out = h.BENCH_DIR / "results"
    out.mkdir(exist_ok=True)
    (out / "renewals.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
