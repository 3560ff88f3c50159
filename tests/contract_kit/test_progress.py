"""Progress while a run works goes to stderr, stdout keeps the results: in a pipe or a CI log one
plain line per finished operation (no bar, no escape codes); on a terminal a live rich display."""
from __future__ import annotations

import io
import re
import uuid

from rich.console import Console
from schemathesis.engine import Status, StopReason, events
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.engine.run import Phase, PhaseName

from mock_server.contract_kit.progress import LiveProgress, NoProgress, Progress, progress_for
from mock_server.contract_kit.redact import Redactor
from mock_server.contract_kit.report import Report

LINE = re.compile(r"^\[([ \d]+)/(\d+)\] (GET|POST) (\S+): (.+)$")


def test_progress_lines_go_to_stderr_one_per_operation(kit):
    result = kit("contract", "dodo", "--operation", "list_products_handler", "--operation",
                 "get_product_handler", "--phases", "examples,fuzzing", "--max-examples", "2")
    assert result.code == 0, result.text
    lines = result.err.splitlines()
    assert len(lines) == 2 and all(LINE.match(line) for line in lines), result.err
    assert {LINE.match(line).group(4) for line in lines} == {"/products", "/products/{id}"}
    assert sorted(LINE.match(line).group(1).strip() for line in lines) == ["1", "2"]
    assert all(" cases, no failure" in line or " case, no failure" in line for line in lines)
    assert "\x1b[" not in result.err  # not a terminal: no colours, no cursor movement
    assert "[1/2]" not in result.out and "passed:" in result.out  # stdout: the results only


def test_no_progress_leaves_stderr_empty(kit):
    result = kit("contract", "dodo", "--operation", "list_products_handler", "--phases", "examples,fuzzing",
                 "--max-examples", "2", "--no-progress")
    assert result.code == 0, result.text
    assert result.err == ""


# -- the display itself, fed engine events as a run would -------------------------------------

def _report(*labels: str) -> Report:
    report = Report("dodo", "http://127.0.0.1:1/dodo", "test", "fixture", Redactor())
    for label in labels:
        report.op(label)
    return report


def _phase(name: PhaseName) -> Phase:
    return Phase(name=name, is_enabled=True, skip_reason=None)


def _run_through(progress: Progress, report: Report, phase: PhaseName = PhaseName.FUZZING) -> None:
    """A phase over two operations: the first gets 3 cases, the second none."""
    suite = uuid.uuid4()
    progress.event(events.PhaseStarted(phase=_phase(phase), payload=None))
    for label, cases in (("GET /products", 3), ("GET /products/{id}", 0)):
        started = events.ScenarioStarted(phase=phase, suite_id=suite, label=label)
        progress.event(started)
        report.op(label).cases += cases
        progress.event(events.ScenarioFinished(
            id=started.id, phase=phase, suite_id=suite, label=label, status=Status.SUCCESS,
            recorder=ScenarioRecorder(label=label), elapsed_time=0.1, skip_reason=None, is_final=True))
    progress.event(events.PhaseFinished(phase=_phase(phase), status=Status.SUCCESS, payload=None))


def test_plain_lines_name_each_finished_operation():
    report, stream = _report("GET /products", "GET /products/{id}"), io.StringIO()
    with Progress(report, stream, ["examples", "fuzzing"], 2, requests=lambda: 0) as progress:
        _run_through(progress, report)
    assert stream.getvalue().splitlines() == [
        "[1/2] GET /products: 3 cases, no failure",
        "[2/2] GET /products/{id}: no case generated",
    ]


def test_only_the_last_per_operation_phase_finishes_an_operation():
    report, stream = _report("GET /products", "GET /products/{id}"), io.StringIO()
    with Progress(report, stream, ["examples", "fuzzing"], 2, requests=lambda: 0) as progress:
        _run_through(progress, report, PhaseName.EXAMPLES)
        assert stream.getvalue() == ""  # fuzzing is still to come for both
        _run_through(progress, report, PhaseName.FUZZING)
    assert stream.getvalue().splitlines() == [
        "[1/2] GET /products: 6 cases, no failure",   # the cases of both phases
        "[2/2] GET /products/{id}: no case generated",
    ]


def test_a_run_that_stops_early_still_names_the_operations_it_worked_on():
    report, stream = _report("GET /products", "GET /products/{id}"), io.StringIO()
    with Progress(report, stream, ["examples", "fuzzing"], 2, requests=lambda: 0) as progress:
        _run_through(progress, report, PhaseName.EXAMPLES)
        assert stream.getvalue() == ""
        # e.g. the request budget ran out: no fuzzing phase, the engine finishes.
        progress.event(events.EngineFinished(running_time=1.0, stop_reason=StopReason.INTERRUPTED))
    assert stream.getvalue().splitlines() == [
        "[1/2] GET /products: 3 cases, no failure",
        "[2/2] GET /products/{id}: no case generated",
    ]


def test_on_a_terminal_the_display_is_live():
    report, stream = _report("GET /products", "GET /products/{id}"), io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100, color_system="standard")
    with LiveProgress(report, stream, ["fuzzing"], 2, requests=lambda: 7, console=console) as progress:
        _run_through(progress, report)
    text = stream.getvalue()
    assert "\x1b[" in text  # drawn with escape codes
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert "✓ [1/2] GET /products: 3 cases, no failure" in plain
    assert "– [2/2] GET /products/{id}: no case generated" in plain
    assert "7 requests, 0 failures" in plain  # the live row, read from the request counter


def test_the_display_follows_the_stream():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    report = _report("GET /products")
    assert isinstance(progress_for(report, True, ["fuzzing"], 1, lambda: 0, stream=Terminal()), LiveProgress)
    assert type(progress_for(report, True, ["fuzzing"], 1, lambda: 0, stream=io.StringIO())) is Progress
    assert isinstance(progress_for(report, False, ["fuzzing"], 1, lambda: 0, stream=Terminal()), NoProgress)
