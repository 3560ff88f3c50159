"""The benchmark's helpers work (benchmarks/harness.py): the request files replay.lua reads are
well-formed and every prepared request, pre-signed Waffo ones included, is answered 2xx by a live
server; wrk's summary line parses; tables render. No load is generated and nothing is timed."""
from __future__ import annotations

import sys
from pathlib import Path

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


@pytest.mark.parametrize("scenario", bench_run.SCENARIOS)
def test_every_scenario_is_answered_2xx_by_paymock(server, tmp_path, scenario):
    target = h.ServerProcess("paymock", [], server.port, h.dodo_create("/dodo", 1)[0])
    prefix = "/" + scenario.split(".")[0]
    path = bench_run.prepare(scenario, target, prefix, tmp_path, mock=True)
    statuses = replay_all(server.url, path)
    assert statuses and set(statuses) == {200}, statuses


def test_wrk_summary_line_parses():
    out = ('Running 10s test\nWRK_JSON {"requests": 1000, "duration_us": 2000000, "bytes": 1, '
           '"connect_errors": 1, "read_errors": 2, "write_errors": 0, "timeout_errors": 3, '
           '"status_errors": 4, "p50_us": 1500, "p90_us": 2000, "p99_us": 9000, "max_us": 1, '
           '"mean_us": 1.0}\n')
    result = h.WrkResult.parse(out)
    assert (result.rps, result.p50_ms, result.p99_ms, result.errors) == (500.0, 1.5, 9.0, 10)
    with pytest.raises(RuntimeError, match="WRK_JSON"):
        h.WrkResult.parse("nothing")


def test_report_table_and_checks():
    args = type("A", (), {"scenarios": ["dodo.create_session"], "sessions": 10})()
    res = {"rps": 9000.0, "p50_ms": 2.0, "p99_ms": 9.0, "errors": 0, "peak_rss_mb": 70.0,
           "cold_start_s": 0.4}
    text, checks = bench_run.report({"dodo.create_session": res},
                                    {"dodo.create_session": {**res, "rps": 3000.0}}, None, args)
    assert "**3.00x**" in text and "| dodo.create_session | Prism 5.16 |" in text
    assert all(ok for _, _, ok in checks)


def test_rounds_take_the_median_round_and_show_every_round():
    def res(rps, cold):
        return {"rps": rps, "p50_ms": 2.0, "p99_ms": rps / 1000, "errors": 0, "peak_rss_mb": 70.0,
                "cold_start_s": cold}
    mine = bench_run.median_rounds([{"dodo.create_session": res(7000.0, 0.4)},
                                    {"dodo.create_session": res(5000.0, 0.6)},
                                    {"dodo.create_session": res(6000.0, 0.3)}])
    theirs = bench_run.median_rounds([{"dodo.create_session": res(r, 1.0)} for r in (3000.0, 2000.0, 4000.0)])
    chosen = mine["dodo.create_session"]
    # The median round's own figures (not a mix), the median cold start, every round kept.
    assert (chosen["rps"], chosen["p99_ms"], chosen["cold_start_s"]) == (6000.0, 6.0, 0.4)
    assert chosen["rounds_rps"] == [7000.0, 5000.0, 6000.0]
    args = type("A", (), {"scenarios": ["dodo.create_session"], "sessions": 10, "rounds": 3})()
    text, checks = bench_run.report(mine, theirs, None, args)
    assert "**2.00x**" in text
    assert "| dodo.create_session | 7,000 / 5,000 / 6,000 | 3,000 / 2,000 / 4,000 | 2.33x / 2.50x / 1.50x |" in text
    assert ("create-session throughput >= 2x Prism", 2.0, True) in checks


def test_rss_of_this_process_is_readable():
    import os
    assert 5 < h.rss_mb(os.getpid()) <= h.peak_rss_mb(os.getpid())
