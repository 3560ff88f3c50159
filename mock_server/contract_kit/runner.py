"""One contract run: Schemathesis 4.x (as a library) over a provider's contract against a target.

    from mock_server.contract_kit import RunOptions, run
    report = run(RunOptions(name, max_examples=10))   # name: a provider with contract support
    assert report.exit_code == 0, report.render()

Everything about the provider comes from its ContractSupport (mock_server/providers/
contract_support.py), found by name in the provider registry. Against a target that is not
paymock, only safe operations run (reads and the few POSTs its `safe_operations` lists), with
positive data only, unless `allow_writes`; 429 answers are waited out as their Retry-After says
(Schemathesis' `rate-limit = "auto"`); the run stops after `max_requests` requests or `max_time`
seconds (defaults 300 and 300 for a real API, unbounded for a mock), or at the first failure with
`fail_fast` (after `max_failures` distinct ones). Progress goes to stderr while it works
(progress.py); the summary, through `out`, at the end. An operation that got no case is reported
as not tested, never as passed (report.py); `require_all` makes that fail the run.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field

import schemathesis
from schemathesis.engine import Status, StopReason, events, from_schema

from ..providers.contract_support import CredentialsError, RunContext
from . import registry, selection, target as targets
from .progress import UNIT_PHASES, progress_for
from .redact import Redactor
from .report import Report

PHASES = ("examples", "coverage", "fuzzing", "stateful")
REMOTE_MAX_REQUESTS = 300
REMOTE_MAX_TIME = 300.0
STATEFUL_MIN_EXAMPLES = 30


class UsageError(ValueError):
    """Bad options or missing credentials: exit code 2, nothing was run."""


@dataclass
class RunOptions:
    provider: str
    target: str | None = None          # None: a mock the kit starts on a free port
    checks: list[str] | None = None    # Schemathesis check names; None: all of them
    max_examples: int = 20
    # PATH or PATHs: .xml JUnit XML, .json the JSON report, any other suffix the text summary.
    report: str | list[str] | None = None
    allow_writes: bool = False
    stateful: bool = True
    max_requests: int | None = None
    max_time: float | None = None
    phases: list[str] | None = None    # None: examples, coverage, fuzzing, stateful
    operations: list[str] | None = None  # operationIds to include; None: all
    control_token: str | None = None
    remote: bool = False               # treat the target as a real API even if it is paymock
    # The provider's credential flags by dest (ContractSupport.cli_options), e.g. {"api_key": ...}.
    credentials: dict = field(default_factory=dict)
    seed: int | None = None
    fail_fast: bool = False            # stop at the first failure (Schemathesis' max-failures 1)
    max_failures: int | None = None    # stop after N distinct failures
    require_all: bool = False          # an operation that got no case fails the run (exit 1)
    progress: bool = True              # progress on stderr (live on a terminal, else one line per operation)
    env: dict = field(default_factory=lambda: dict(os.environ))

    @property
    def failure_limit(self) -> int | None:
        return 1 if self.fail_fast else self.max_failures


class Budget:
    """Stops the event stream after N requests or S seconds (soft: requests in flight finish)."""

    def __init__(self, max_requests: int | None, max_time: float | None):
        self.max_requests = max_requests
        self.max_time = max_time
        self.count = 0
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._stream = None
        self._timer: threading.Timer | None = None

    def attach(self, stream) -> None:
        self._stream = stream
        if self.max_time:
            self._timer = threading.Timer(self.max_time, self._stop, args=(f"time budget of "
                                          f"{self.max_time:g}s reached (--max-time)",))
            self._timer.daemon = True
            self._timer.start()

    def request(self) -> None:
        with self._lock:
            self.count += 1
            over = self.max_requests is not None and self.count >= self.max_requests
        if over:
            self._stop(f"request budget of {self.max_requests} reached (--max-requests)")

    def _stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        if self._stream is not None:
            self._stream.stop()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _config(options: RunOptions, support, safe_only: bool, stateful: bool) -> dict:
    # Against a real API the coverage phase's boundary values would spend the request budget on
    # one operation; it runs only when asked for (--phases).
    phases = options.phases or [p for p in PHASES if not (safe_only and p == "coverage")]
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise UsageError(f"unknown phase(s): {', '.join(sorted(unknown))} (choose from {', '.join(PHASES)})")
    acceptance = {"expected-statuses": list(support.accepted_statuses)}
    checks: dict = {"positive_data_acceptance": acceptance}
    if options.checks:
        from schemathesis.checks import CHECKS
        known = set(CHECKS.get_all_names())
        unknown = set(options.checks) - known
        if unknown:
            raise UsageError(f"unknown check(s): {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(sorted(known))})")
        checks = {"enabled": False}
        for name in options.checks:
            checks[name] = {"enabled": True}
        checks["positive_data_acceptance"] = {
            **acceptance, "enabled": "positive_data_acceptance" in options.checks}
    config = {
        "checks": checks,
        "generation": {"max-examples": options.max_examples, "database": "none",
                       **({"mode": "positive"} if safe_only else {})},
        "phases": {name: {"enabled": name in phases and (name != "stateful" or stateful)}
                   for name in PHASES},
        "rate-limit": "auto",
        "cache": {"enabled": False},  # nothing written to the working directory (read-only in docker)
        "request-timeout": 30,
        "workers": 1,
        "suppress-health-check": ["all"],
    }
    # The contract's own links only (Schemathesis can infer more; they would crowd out the flows
    # the contracts declare). Flows need more than a handful of scenarios to reach their second
    # and third steps.
    config["phases"]["stateful"]["inference"] = {"algorithms": []}
    config["phases"]["stateful"]["generation"] = {
        "max-examples": max(options.max_examples, STATEFUL_MIN_EXAMPLES), "database": "none",
        **({"mode": "positive"} if safe_only else {})}
    if options.seed is not None:
        config["seed"] = options.seed
    if options.failure_limit is not None:
        if options.failure_limit < 1:
            raise UsageError("--max-failures must be at least 1")
        # Schemathesis stops the engine itself once this many distinct failures are counted (the
        # operations it had not reached then are reported as not tested). It counts every failure
        # its checks find, including one the kit then files as a known divergence or drops as a
        # 429 that was waited out: with a limit, such a failure can stop the run too.
        config["max-failures"] = options.failure_limit
    return config


def run(options: RunOptions, out=print) -> Report:
    try:
        provider = registry.find(options.provider)
    except registry.UnknownProvider as exc:
        raise UsageError(str(exc)) from None
    target = targets.resolve(provider, options.target, options.control_token, options.remote)
    try:
        return _run(options, provider, target, out)
    finally:
        target.stop()


def _control(target, token: str | None):
    """The mock's control client, for hooks that read back what the API does not answer."""
    import requests

    from ..control.client import Client

    http = requests.Session()
    if token:
        http.headers["Authorization"] = f"Bearer {token}"
    return Client(target.origin, session=http)


def _run(options: RunOptions, provider, target, out) -> Report:
    support = provider.contract_support
    try:
        creds = support.load_credentials(options.credentials, options.env, allow_fixture=target.is_mock)
    except CredentialsError as exc:
        raise UsageError(str(exc)) from None
    redact = Redactor(creds.secrets() + [options.control_token or ""])
    safe_only = not target.is_mock and not options.allow_writes
    max_requests = options.max_requests
    max_time = options.max_time
    if not target.is_mock:
        max_requests = max_requests or REMOTE_MAX_REQUESTS
        max_time = max_time or REMOTE_MAX_TIME
    budget = Budget(max_requests, max_time)

    wanted = set(options.operations or [])
    document = support.document(provider)
    operations = selection.operations(document)
    try:
        selection.check_selected(wanted, operations, provider.name)
    except selection.UnknownOperations as exc:
        raise UsageError(str(exc)) from None
    runs = {op.operation_id for op in operations
            if (not wanted or op.operation_id in wanted)
            and (not safe_only or support.is_safe(op.method, op.operation_id))}
    live_links = [link for link in selection.links(document) if link[0] in runs and link[1] in runs]
    stateful = options.stateful and bool(live_links)
    settings = _config(options, support, safe_only, stateful)
    config = schemathesis.Config.from_dict(settings)
    # A copy: document() may hand out a provider's own constant, and Schemathesis keeps (and may
    # change) what it loads.
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(document)), config=config)
    schema.config.update(base_url=target.base_url)

    report = Report(provider.name, target.base_url, target.note, creds.source, redact,
                    known_rules=list(support.known_divergences) if target.is_mock else [],
                    require_all=options.require_all)
    report.settings_line = (
        f"mode: {'safe (GET and safe POSTs, positive data; --allow-writes to run everything)' if safe_only else 'all operations'}"
        f"; max examples {options.max_examples}; stateful {'on' if stateful else 'off'}"
        f"; budget {max_requests or 'unbounded'} requests, {f'{max_time:g}s' if max_time else 'no time limit'}")
    if options.stateful and not live_links:
        report.settings_line += " (no link has both ends among the operations run)"
    if options.failure_limit is not None:
        report.settings_line += ("; --fail-fast" if options.fail_fast
                                 else f"; stop after {options.failure_limit} failures")
    for op in operations:
        if wanted and op.operation_id not in wanted:
            continue
        report.op(op.label, op.operation_id)
        if safe_only and not support.is_safe(op.method, op.operation_id):
            report.skip(op.label, "writes to the real account; pass --allow-writes to run it")

    def included(ctx) -> bool:
        op = ctx.operation
        op_id = op.definition.raw.get("operationId")
        if wanted and op_id not in wanted:
            return False
        return not safe_only or support.is_safe(op.method, op_id)

    schema = schema.include(func=included)

    @schema.hook
    def after_call(context, case, response):
        budget.request()
        if response.status_code == 429:
            report.rate_limited += 1

    context = RunContext(target.base_url, target.is_mock, redact, budget.request,
                         _control(target, options.control_token) if target.is_mock else None)
    try:
        context.auth = support.install_auth(schema, creds, context)
        support.prepare_run(schema, creds, context)
    except CredentialsError as exc:  # refused by the target: stop here, not as a run of 401s
        raise UsageError(f"{exc} ({creds.source})") from None
    curl_env, curl_note = support.curl_variables(), support.curl_note

    unit_phases = [name for name in UNIT_PHASES if settings["phases"][name]["enabled"]]
    progress = progress_for(report, options.progress, unit_phases,
                            operations=sum(1 for s in report.operations.values() if not s.skipped),
                            requests=lambda: budget.count)
    started = time.monotonic()
    stream = from_schema(schema).execute()
    budget.attach(stream)
    stop_reason = None
    try:
        with progress:
            for event in stream:
                _take(event, report, redact, curl_env, curl_note)
                progress.event(event)
                if isinstance(event, events.EngineFinished):
                    stop_reason = event.stop_reason
    finally:
        budget.close()
    report.elapsed = time.monotonic() - started
    report.requests = budget.count
    if budget.reason:
        report.stop_note = budget.reason
    elif stop_reason == StopReason.FAILURE_LIMIT:
        report.stop_note = ("stopped at the first failure (--fail-fast)" if options.fail_fast else
                            f"stopped after {options.failure_limit} failures (--max-failures)")
    elif stop_reason not in (None, StopReason.COMPLETED):
        report.stop_note = f"stopped: {stop_reason.value}"
        if stop_reason in (StopReason.SERVER_UNAVAILABLE, StopReason.INTERRUPTED):
            report.add_error("run", f"the run stopped early: {stop_reason.value}")
    out(report.render())
    paths = [options.report] if isinstance(options.report, str) else list(options.report or [])
    for path in paths:
        out(f"report written to {report.write(path)}")
    return report


def _take(event, report: Report, redact, curl_env, curl_note) -> None:
    """What one engine event adds to the report."""
    if isinstance(event, events.PhaseStarted) and event.payload is not None:
        report.links_in_contract = max(report.links_in_contract, event.payload.transitions_total)
    elif isinstance(event, events.ScenarioFinished):
        report.add_recorder(event.recorder, curl_env, curl_note)
        if event.status == Status.SKIP and event.label and event.skip_reason:
            report.phase_skipped(event.label, event.phase.value, event.skip_reason)
    elif isinstance(event, events.NonFatalError):
        report.add_error(event.label, redact(event.info.format(base_url_is_set=True)))
    elif isinstance(event, events.FatalError):
        report.add_error("fatal", redact(f"{type(event.exception).__name__}: {event.exception}"))
    elif isinstance(event, events.EngineFinished):
        for failure in event.failures or []:
            report.add_error(failure.operation or "run", f"{failure.title}: {failure.message}")
