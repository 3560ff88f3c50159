"""Progress while a run works, on stderr so that stdout carries only the results (the summary
table, `report written to`), which a user may pipe or diff.

On a terminal: a live `rich` display (the phase, operations done of how many, the operation under
test, requests sent and failures so far, elapsed time), with a line printed above it for each
operation as it finishes. Anywhere else (CI logs, a pipe, a file): no bar, no cursor movement, only
those lines, one per operation, plus one for the stateful phase, which is not per operation.

An operation is finished when the last per-operation phase of the run (examples, coverage, fuzzing:
whichever of them run, in that order) is done with it, or when the run ends first (a budget,
--fail-fast) after some phase worked on it; its line gives the cases and failures counted so far.
The stateful phase that follows may still send it requests: the verdict is the summary table's.
"""
from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console
from rich.progress import (BarColumn, Progress as Bars, ProgressColumn, SpinnerColumn, TextColumn,
                           TimeElapsedColumn)
from rich.table import Column
from rich.text import Text
from schemathesis.engine import Status, events

UNIT_PHASES = ("examples", "coverage", "fuzzing")


class Progress:
    """One line per finished operation (the plain form, for anything that is not a terminal).
    Subclasses change how a line is shown and add a live display; the bookkeeping is here."""

    def __init__(self, report, stream, unit_phases: list[str], operations: int,
                 requests: Callable[[], int]):
        self.report = report            # the run's Report: cases and failures per operation
        self.stream = stream
        # The per-operation phase after which an operation is finished (None: only stateful runs).
        self.last_unit_phase = next((p for p in reversed(UNIT_PHASES) if p in unit_phases), None)
        self.operations = operations    # operations the run tests (skipped ones left out)
        self.requests = requests
        self.phase: str | None = None
        self.total = operations
        self.done: set[str] = set()     # operations finished in the current phase
        self.touched: dict[str, None] = {}  # operations some phase worked on, in order
        self.finished: set[str] = set()  # operations whose line was printed
        self.current = ""
        self.scenarios = 0
        self.failures_before = 0

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> Progress:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    # -- events -----------------------------------------------------------------------------
    def event(self, event) -> None:
        """Called for every engine event, after the report has taken it in."""
        if isinstance(event, events.PhaseStarted):
            name = event.phase.name.value
            if event.phase.is_enabled and (name in UNIT_PHASES or name == "stateful"):
                self.phase, self.done, self.current, self.scenarios = name, set(), "", 0
                self.total = len(event.operations) if event.operations else self.operations
                self.failures_before = len(self.report.failures)
                self.phase_started(name)
        elif isinstance(event, events.ScenarioStarted):
            if event.label and event.phase.value in UNIT_PHASES:
                self.current = event.label
                self.refresh()
        elif isinstance(event, events.ScenarioFinished):
            phase = event.phase.value
            if phase in UNIT_PHASES and event.label:
                self.done.add(event.label)
                self.touched[event.label] = None
                self.refresh()
                if phase == self.last_unit_phase:
                    self.finish(event.label)
            elif phase == "stateful":
                self.scenarios += 1
                self.refresh()
        elif isinstance(event, events.PhaseFinished):
            if event.phase.name.value == "stateful" and event.phase.is_enabled:
                new = len(self.report.failures) - self.failures_before
                transitions = sum(self.report.transitions.values())
                failed = new > 0 or event.status in (Status.FAILURE, Status.ERROR)
                self.emit(f"stateful: {self.scenarios} scenarios, {transitions} link transitions, "
                          f"{new} new failure{'' if new == 1 else 's'}", "failed" if failed else "passed")
            self.phase = None
            self.refresh()
        elif isinstance(event, events.EngineFinished):
            # The run stopped before its last per-operation phase reached these.
            for label in self.touched:
                self.finish(label)

    def finish(self, label: str) -> None:
        if label not in self.finished:
            self.finished.add(label)
            self.emit(*self._operation_line(label))

    def _operation_line(self, label: str) -> tuple[str, str]:
        """(text, status) for a finished operation: facts so far, the verdict comes at the end."""
        stats = self.report.operations.get(label)
        width = len(str(self.operations))
        where = f"[{len(self.finished):>{width}}/{self.operations}] {label}"
        if stats is None or (not stats.cases and not stats.failures and not stats.errors):
            _, why = self.report.status(stats) if stats is not None else (None, "no case generated")
            return f"{where}: {why}", "not tested"
        found = sum(stats.failures.values()) + stats.errors
        text = f"{where}: {stats.cases} case{'' if stats.cases == 1 else 's'}"
        if found:
            checks = ", ".join(sorted(stats.failures)) or "errors"
            return f"{text}, {found} failure{'' if found == 1 else 's'} ({checks})", "failed"
        return f"{text}, no failure", "passed"

    # -- output (overridden by LiveProgress) ------------------------------------------------
    def phase_started(self, phase: str) -> None:
        pass

    def refresh(self) -> None:
        pass

    def emit(self, text: str, status: str) -> None:
        print(text, file=self.stream, flush=True)


class NoProgress(Progress):
    """--no-progress: nothing on stderr."""

    def event(self, event) -> None:
        pass


class LiveProgress(Progress):
    """A rich live display on a terminal: one row for the phase under way; finished operations
    scroll above it."""

    STYLES = {"passed": ("✓", "green"), "failed": ("✗", "bold red"), "not tested": ("–", "yellow")}

    def __init__(self, *args, console: Console | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.console = console or Console(file=self.stream)
        # The request count moves between engine events (a phase may spend a minute on one
        # operation), so it is read when the display refreshes, not when an event arrives. The
        # operation's label comes last and is the one column rich may narrow: on a small terminal
        # it is cut short with an ellipsis, and the row stays one line.
        def fixed() -> Column:
            return Column(no_wrap=True)
        self.bars = Bars(SpinnerColumn(table_column=fixed()),
                         TextColumn("{task.description:<8}", table_column=fixed()),
                         BarColumn(bar_width=12, table_column=fixed()),
                         TextColumn("{task.fields[count]}", table_column=fixed()),
                         _TextOf(self._counters, table_column=fixed()), TimeElapsedColumn(table_column=fixed()),
                         _TextOf(lambda: self.current if self.phase in UNIT_PHASES else ""),
                         console=self.console, transient=True, refresh_per_second=4)
        self.task = self.bars.add_task("starting", total=None, count="")

    def open(self) -> None:
        self.bars.start()

    def close(self) -> None:
        self.bars.stop()

    def _counters(self) -> str:
        failures = len(self.report.failures)
        requests = self.requests()
        return (f"{requests} request{'' if requests == 1 else 's'}, "
                f"{failures} failure{'' if failures == 1 else 's'}")

    def phase_started(self, phase: str) -> None:
        # A task per phase: a total, once set, cannot go back to "unknown" (the stateful phase
        # has no count of scenarios in advance).
        self.bars.remove_task(self.task)
        if phase == "stateful":
            self.task = self.bars.add_task(phase, total=None, count="0 scenarios")
        else:
            self.task = self.bars.add_task(phase, total=self.total, count=f"0/{self.total}")

    def refresh(self) -> None:
        if self.phase == "stateful":
            self.bars.update(self.task, count=f"{self.scenarios} scenarios")
        elif self.phase:
            self.bars.update(self.task, completed=len(self.done), count=f"{len(self.done)}/{self.total}")

    def emit(self, text: str, status: str) -> None:
        mark, style = self.STYLES.get(status, ("·", ""))
        # Printing redraws the live row from its last frame: render the current one first.
        self.bars.refresh()
        self.console.print(Text.assemble((mark, style), " ", text), highlight=False)


class _TextOf(ProgressColumn):
    """A column whose text a function gives at each refresh, on one line (cut short with an
    ellipsis when the column is narrowed)."""

    def __init__(self, text: Callable[[], str], table_column: Column | None = None):
        super().__init__(table_column=table_column)
        self.text = text

    def render(self, task) -> Text:
        return Text(self.text(), no_wrap=True, overflow="ellipsis")


def progress_for(report, enabled: bool, unit_phases: list[str], operations: int,
                 requests: Callable[[], int], stream=None) -> Progress:
    """The display for a run: live on a terminal, lines elsewhere, nothing when disabled."""
    stream = sys.stderr if stream is None else stream
    args = (report, stream, unit_phases, operations, requests)
    if not enabled:
        return NoProgress(*args)
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return LiveProgress(*args)
    return Progress(*args)
