"""What a run found, in forms a person and a CI server can act on: a summary table per operation
(cases run, its status, failures by check), each distinct failure with the request that reproduces
it as a curl command, the stateful link transitions exercised, JUnit XML and a JSON report. Every
string leaving this module goes through the run's Redactor; credentials in curl commands become
shell variables.

An operation is `passed` only when cases ran and none failed: one that got no case at all is
`not tested` (its own status, never counted as passed), one left out on purpose (a write against
a real API) is `skipped`."""
from __future__ import annotations

import json
import re
import shlex
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .redact import Redactor

SKIP_HEADERS = {"user-agent", "accept-encoding", "accept", "connection", "content-length",
                "x-schemathesis-testcaseid"}


@dataclass
class FailureRecord:
    operation: str
    check: str
    title: str
    message: str
    curl: str
    status: int | None
    occurrences: int = 1
    field: str | None = None   # JSON pointer of the offending value in the response body
    answer: str | None = None  # the start of the response body, as the server said it


PASSED, FAILED, NOT_TESTED, SKIPPED = "passed", "failed", "not tested", "skipped"
STATUSES = (PASSED, FAILED, NOT_TESTED, SKIPPED)
JSON_FORMAT_VERSION = 1


@dataclass
class OperationStats:
    label: str                  # "METHOD /path", as Schemathesis names the operation
    operation_id: str | None = None
    cases: int = 0
    failures: Counter = field(default_factory=Counter)   # check name -> distinct failures
    errors: int = 0             # errors Schemathesis reported for this operation
    skipped: str | None = None  # why the run leaves it out on purpose
    # Why a phase ran no case for it ("examples: No examples in schema"): the explanation of a
    # `not tested`, which would otherwise be a bare 0.
    phase_skips: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        return self.label.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.label.split(" ", 1)[1] if " " in self.label else ""


@dataclass
class Report:
    provider: str
    target: str
    target_note: str
    credentials: str
    redact: Redactor
    operations: dict[str, OperationStats] = field(default_factory=dict)
    failures: dict[tuple, FailureRecord] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    transitions: Counter = field(default_factory=Counter)
    links_in_contract: int = 0
    requests: int = 0
    rate_limited: int = 0
    # 400s to a request whose header value holds a byte HTTP forbids (negative data may): the
    # HTTP layer refuses it before any API reads it, as a real server does (_malformed_headers).
    malformed_refused: int = 0
    elapsed: float = 0.0
    stop_note: str | None = None
    settings_line: str = ""
    known_rules: list = field(default_factory=list)   # KnownDivergence rules, when the target is paymock
    known: dict[tuple, tuple[FailureRecord, str]] = field(default_factory=dict)
    # --require-all: an operation that was not tested fails the run (otherwise: a warning).
    require_all: bool = False

    # -- collecting ---------------------------------------------------------------------------
    def op(self, label: str, operation_id: str | None = None) -> OperationStats:
        if label not in self.operations:
            self.operations[label] = OperationStats(label, operation_id)
        elif operation_id and not self.operations[label].operation_id:
            self.operations[label].operation_id = operation_id
        return self.operations[label]

    def add_recorder(self, recorder, curl_env: dict[str, str], curl_note=None) -> None:
        for case_id, node in recorder.cases.items():
            label = node.value.operation.label
            if case_id in recorder.interactions:
                self.op(label).cases += 1
            transition = node.transition
            if transition is not None and node.is_transition_applied:
                name = transition.id + (" (inferred by Schemathesis)" if transition.is_inferred else "")
                self.transitions[name] += 1
        for case_id, checks in recorder.checks.items():
            for check in checks:
                info = check.failure_info
                if info is None:
                    continue
                failure = info.failure
                case_id_ = failure.case_id or case_id
                node = recorder.cases.get(case_id_) or recorder.cases.get(case_id)
                label = node.value.operation.label if node is not None else recorder.label
                interaction = recorder.interactions.get(case_id_) or recorder.interactions.get(case_id)
                if interaction is not None and interaction.response is not None \
                        and interaction.response.status_code == 429:
                    continue  # a rate limit, waited out as Retry-After said: not the contract's business
                if interaction is not None and interaction.response is not None \
                        and interaction.response.status_code == 400 \
                        and _malformed_headers(interaction.request.headers):
                    self.malformed_refused += 1
                    continue
                key = (label, check.name, failure.title, _first_line(failure.message))
                why = self._known(node, check.name, failure.message)
                bucket = self.known if why else self.failures
                if key in bucket:
                    (bucket[key][0] if why else bucket[key]).occurrences += 1
                    continue
                curl = curl_command(interaction.request, curl_env, curl_note) if interaction is not None else ""
                status = interaction.response.status_code if interaction and interaction.response else None
                record = FailureRecord(label, check.name, failure.title, failure.message, curl, status,
                                       field=_pointer(getattr(failure, "instance_path", None)),
                                       answer=_answer(interaction))
                if why:
                    self.known[key] = (record, why)
                else:
                    self.op(label).failures[check.name] += 1
                    self.failures[key] = record

    def _known(self, node, check: str, message: str) -> str | None:
        op_id = node.value.operation.definition.raw.get("operationId") if node is not None else None
        for op_ids, check_name, text, why in self.known_rules:
            if op_id in op_ids and check == check_name and text in (message or ""):
                return why
        return None

    def add_error(self, label: str, message: str) -> None:
        self.errors.append((label, message))
        if label in self.operations:
            self.operations[label].errors += 1

    def skip(self, label: str, reason: str) -> None:
        self.op(label).skipped = reason

    def phase_skipped(self, label: str, phase: str, reason: str) -> None:
        """A phase ran no case for the operation, and Schemathesis said why."""
        stats = self.op(label)
        note = f"{phase}: {reason}"
        if note not in stats.phase_skips:
            stats.phase_skips.append(note)

    # -- verdict ------------------------------------------------------------------------------
    def status(self, stats: OperationStats) -> tuple[str, str | None]:
        """(one of STATUSES, why) for one operation; `why` explains skipped and not tested."""
        if stats.skipped:
            return SKIPPED, stats.skipped
        if stats.failures or stats.errors:
            return FAILED, None
        if stats.cases:
            return PASSED, None
        if self.stop_note:
            return NOT_TESTED, "; ".join([f"not reached: {self.stop_note}", *stats.phase_skips])
        why = "no case generated"
        if stats.phase_skips:
            why += f" ({'; '.join(stats.phase_skips)})"
        return NOT_TESTED, why

    def by_status(self) -> dict[str, list[OperationStats]]:
        grouped: dict[str, list[OperationStats]] = {name: [] for name in STATUSES}
        for stats in self._sorted():
            grouped[self.status(stats)[0]].append(stats)
        return grouped

    @property
    def verdict(self) -> str:
        """failed: a check failed or the run hit errors; incomplete: nothing failed, but some
        operation (or every one) was not tested; passed: every operation meant to run did."""
        grouped = self.by_status()
        if self.failures or self.errors or grouped[FAILED]:
            return "failed"
        if grouped[NOT_TESTED] or not grouped[PASSED]:
            return "incomplete"
        return "passed"

    @property
    def failed(self) -> bool:
        verdict = self.verdict
        return verdict == "failed" or (verdict == "incomplete" and self.require_all)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def totals(self) -> dict[str, int]:
        grouped = self.by_status()
        return {"operations": len(self.operations), "passed": len(grouped[PASSED]),
                "failed": len(grouped[FAILED]), "not_tested": len(grouped[NOT_TESTED]),
                "skipped": len(grouped[SKIPPED]),
                "cases": sum(s.cases for s in self.operations.values()),
                "requests": self.requests, "failures": len(self.failures), "errors": len(self.errors),
                "known_divergences": len(self.known), "rate_limited": self.rate_limited,
                "malformed_refused": self.malformed_refused,
                "link_transitions": sum(self.transitions.values())}

    def _sorted(self) -> list[OperationStats]:
        return sorted(self.operations.values(), key=lambda s: s.label.split(" ", 1)[::-1])

    # -- text ---------------------------------------------------------------------------------
    def render(self) -> str:
        lines = [f"paymock contract {self.provider} -> {self.target} ({self.target_note})",
                 f"credentials: {self.credentials}"]
        if self.settings_line:
            lines.append(self.settings_line)
        lines.append("")
        width = max([len(s.label) for s in self.operations.values()] + [9])
        lines.append(f"{'operation':<{width}}  {'cases':>6}  {'status':<10}  failures by check")
        for stats in self._sorted():
            status, why = self.status(stats)
            cases = "-" if status == SKIPPED else stats.cases
            if status == FAILED:
                detail = ", ".join(f"{name} {count}" for name, count in sorted(stats.failures.items()))
                if stats.errors:
                    detail = ", ".join(filter(None, [detail, f"errors {stats.errors}"]))
            else:
                detail = why or "none"
            lines.append(f"{stats.label:<{width}}  {cases:>6}  {status:<10}  {detail}")
        lines.append("")
        if self.links_in_contract or self.transitions:
            lines.append(f"stateful: {sum(self.transitions.values())} link transitions exercised "
                         f"({len(self.transitions)} distinct; {self.links_in_contract} links in the contract)")
            for name, count in sorted(self.transitions.items()):
                lines.append(f"  {count:>5} x {name}")
            lines.append("")
        if self.failures:
            lines.append(f"FAILURES ({len(self.failures)} distinct)")
            for number, record in enumerate(self.failures.values(), 1):
                times = f", seen {record.occurrences} times" if record.occurrences > 1 else ""
                lines.append(f"{number}. {record.operation}: {record.check}: {record.title}"
                             f" (status {record.status}{times})")
                if record.field is not None:
                    lines.append(f"   field: {record.field or '/'} in the response body")
                lines.extend("   " + line for line in record.message.strip().splitlines())
                if record.answer:
                    lines.append(f"   answered: {record.answer}")
                if record.curl:
                    lines.append("   reproduce:")
                    lines.extend("     " + line for line in record.curl.splitlines())
                lines.append("")
        if self.known:
            lines.append(f"KNOWN DIVERGENCES ({len(self.known)}; listed in the provider's "
                         "ContractSupport.known_divergences, not counted as failures)")
            for record, why in self.known.values():
                lines.append(f"- {record.operation}: {record.check}: {_first_line(record.message)}")
                lines.append(f"  why: {why}")
            lines.append("")
        if self.errors:
            lines.append(f"ERRORS ({len(self.errors)})")
            for label, message in self.errors:
                lines.append(f"- {label}: {message.strip()}")
            lines.append("")
        if self.rate_limited:
            lines.append(f"rate limits: {self.rate_limited} answers were 429; each was waited out "
                         "as its Retry-After said and the request sent again")
            lines.append("")
        if self.malformed_refused:
            lines.append(f"malformed requests: {self.malformed_refused} answers were 400 to a "
                         "header name or value HTTP forbids (generated as negative data): "
                         "HTTP refuses such a request before the API sees it, so it is not a "
                         "contract failure")
            lines.append("")
        lines.extend(self._not_tested_lines())
        lines.append(self.summary_line())
        return self.redact("\n".join(lines))

    def summary_line(self) -> str:
        totals = self.totals()
        verdict = {"failed": "FAILED", "incomplete": "INCOMPLETE", "passed": "passed"}[self.verdict]
        if verdict == "INCOMPLETE" and self.require_all:
            verdict = "FAILED (--require-all)"
        plural = "" if totals["passed"] == 1 else "s"
        summary = (f"{verdict}: {totals['passed']} operation{plural} passed, {totals['failed']} failed, "
                   f"{totals['not_tested']} not tested, {totals['skipped']} skipped; "
                   f"{self.requests} requests in {self.elapsed:.1f}s, "
                   f"{len(self.failures)} failures, {len(self.errors)} errors")
        if self.stop_note:
            summary += f" ({self.stop_note})"
        return summary

    def _not_tested_lines(self) -> list[str]:
        grouped = self.by_status()
        missing = grouped[NOT_TESTED]
        if missing:
            names = ", ".join(s.label for s in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            meant = len(self.operations) - len(grouped[SKIPPED])
            what = (f"{len(missing)} of {meant} operations not tested (no case ran; "
                    f"\"not tested\" above): {names}{more}")
        elif not grouped[PASSED] and not grouped[FAILED]:
            what = "no operation was tested (every one was skipped)"
        else:
            return []
        if self.require_all:
            return [f"NOT TESTED: {what}. --require-all: this fails the run.", ""]
        if self.verdict == "failed":
            return [f"WARNING: {what}. They are not counted as passed.", ""]
        return [f"WARNING: {what}. They are not counted as passed; the exit status stays 0 "
                "unless --require-all is given.", ""]

    # -- JUnit XML ----------------------------------------------------------------------------
    def junit(self) -> str:
        by_op: dict[str, list[FailureRecord]] = defaultdict(list)
        for record in self.failures.values():
            by_op[record.operation].append(record)
        totals = self.totals()
        # Not tested is a failure under --require-all, a skip otherwise: never a pass.
        untested_fail = self.require_all
        suite = ET.Element("testsuite", name=f"paymock contract {self.provider}",
                           tests=str(len(self.operations) + (1 if self.errors else 0)),
                           failures=str(sum(1 for label in self.operations if by_op.get(label))
                                        + (totals["not_tested"] if untested_fail else 0)),
                           errors=str(1 if self.errors else 0),
                           skipped=str(totals["skipped"] + (0 if untested_fail else totals["not_tested"])),
                           time=f"{self.elapsed:.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="target", value=self.redact(self.target))
        ET.SubElement(props, "property", name="requests", value=str(self.requests))
        ET.SubElement(props, "property", name="link_transitions", value=str(sum(self.transitions.values())))
        ET.SubElement(props, "property", name="verdict", value=self.verdict)
        ET.SubElement(props, "property", name="not_tested", value=str(totals["not_tested"]))
        for number, (record, why) in enumerate(self.known.values(), 1):
            ET.SubElement(props, "property", name=f"known_divergence_{number}",
                          value=self.redact(f"{record.operation}: {record.check}: {why}"))
        for stats in sorted(self.operations.values(), key=lambda s: s.label):
            case = ET.SubElement(suite, "testcase", classname=f"paymock.contract.{self.provider}",
                                 name=stats.label)
            ET.SubElement(case, "system-out").text = f"cases: {stats.cases}"
            status, why = self.status(stats)
            if status == SKIPPED:
                ET.SubElement(case, "skipped", message=self.redact(why))
            elif status == NOT_TESTED:
                ET.SubElement(case, "failure" if untested_fail else "skipped", type=NOT_TESTED,
                              message=self.redact(f"not tested: {why}"))
            for record in by_op.get(stats.label, []):
                failure = ET.SubElement(case, "failure", type=record.check,
                                        message=self.redact(f"{record.check}: {record.title}"))
                where = f"field: {record.field or '/'} in the response body\n" if record.field is not None else ""
                answered = f"\nanswered: {record.answer}" if record.answer else ""
                failure.text = self.redact(f"{where}{record.message}{answered}\n\nreproduce:\n"
                                           f"{record.curl}\n")
        if self.errors:
            case = ET.SubElement(suite, "testcase", classname=f"paymock.contract.{self.provider}",
                                 name="run errors")
            for label, message in self.errors:
                ET.SubElement(case, "error", message=self.redact(label)).text = self.redact(message)
        ET.indent(suite)
        return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"

    # -- JSON -----------------------------------------------------------------------------------
    def as_json(self) -> dict:
        """The run as data: per operation its id, method, path, cases, status (and why, for
        skipped and not tested) and failures; the totals; the verdict and exit code."""
        failures: dict[str, list[FailureRecord]] = defaultdict(list)
        for record in self.failures.values():
            failures[record.operation].append(record)
        known: dict[str, list[tuple[FailureRecord, str]]] = defaultdict(list)
        for record, why in self.known.values():
            known[record.operation].append((record, why))
        errors: dict[str, list[str]] = defaultdict(list)
        for label, message in self.errors:
            errors[label].append(message)
        operations = []
        for stats in self._sorted():
            status, why = self.status(stats)
            operations.append({
                "operation_id": stats.operation_id, "method": stats.method, "path": stats.path,
                "cases": stats.cases, "status": status, "reason": why,
                "failures": [{"check": r.check, "title": r.title,
                              "message": _first_line(r.message) or r.title,
                              "status_code": r.status, "field": r.field, "occurrences": r.occurrences,
                              "details": r.message.strip(), "answer": r.answer,
                              "reproduce": r.curl}
                             for r in failures.get(stats.label, [])]
                + [{"check": "error", "title": "error", "message": _first_line(message),
                    "status_code": None, "field": None, "occurrences": 1,
                    "details": message.strip(), "answer": None, "reproduce": ""}
                   for message in errors.get(stats.label, [])],
                "known_divergences": [{"check": r.check, "message": _first_line(r.message), "why": why_}
                                      for r, why_ in known.get(stats.label, [])],
            })
        data = {
            "format": "paymock-contract-report", "version": JSON_FORMAT_VERSION,
            "provider": self.provider, "target": self.target, "target_note": self.target_note,
            "credentials": self.credentials, "settings": self.settings_line,
            "verdict": self.verdict, "exit_code": self.exit_code, "require_all": self.require_all,
            "stopped": self.stop_note, "elapsed_seconds": round(self.elapsed, 3),
            "totals": self.totals(), "operations": operations,
            "errors": [{"where": label, "message": message.strip()} for label, message in self.errors
                       if label not in self.operations],
            "link_transitions": dict(sorted(self.transitions.items())),
        }
        return _redacted(data, self.redact)

    def to_json(self) -> str:
        return json.dumps(self.as_json(), indent=2) + "\n"

    def write(self, path: str | Path) -> Path:
        """PATH.xml: JUnit XML; PATH.json: the JSON report; any other name: the text summary."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if suffix == ".xml":
            path.write_text(self.junit())
        elif suffix == ".json":
            path.write_text(self.to_json())
        else:
            path.write_text(self.render() + "\n")
        return path


def _redacted(value, redact: Redactor):
    """Every string in a JSON-ready structure through the Redactor (before dumping: a mask put
    into the dumped text could land inside an escape sequence)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redact) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, redact) for item in value]
    return value


def _pointer(path) -> str | None:
    if path is None:
        return None
    return "".join(f"/{part}" for part in path)


# What RFC 9110 allows: a field name is a token; a field value holds no control character but
# HTAB, and no DEL.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FORBIDDEN_IN_VALUES = frozenset(chr(i) for i in range(32) if i != 9) | {"\x7f"}


def _malformed_headers(headers) -> bool:
    """Whether a recorded request (headers: {name: [values]}) sent a header HTTP forbids: a name
    that is not a token, or a value with a forbidden character."""
    for name, values in (headers or {}).items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            return True
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and not _FORBIDDEN_IN_VALUES.isdisjoint(value):
                return True
    return False


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


ANSWER_EXCERPT = 300


def _answer(interaction) -> str | None:
    """The start of the answer's body, on one line (what a 400 or 500 said it was about)."""
    response = getattr(interaction, "response", None)
    content = getattr(response, "content", None)
    if not content:
        return None
    text = content[:ANSWER_EXCERPT * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text[:ANSWER_EXCERPT] + ("…" if len(text) > ANSWER_EXCERPT else "")


def _shell_quote(text: str) -> str:
    """shlex.quote, except that text holding a control character (or DEL) is written in bash's
    $'...' form with the character as \\xHH, so that a pasted command sends what was sent and a
    reader sees it."""
    if text.isprintable():
        return shlex.quote(text)
    out = []
    for char in text:
        if char in "\\'":
            out.append("\\" + char)
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "$'" + "".join(out) + "'"


def curl_command(request, curl_env: dict[str, str], curl_note=None) -> str:
    """The request as curl. Credential headers become shell variables (`curl_env`: lower-case
    header name -> replacement value) so the command is safe to paste into a ticket. `curl_note`
    (ContractSupport.curl_note) may put a comment above it, e.g. how to recompute a signature."""
    parts = ["curl", "-X", request.method, shlex.quote(request.uri)]
    for name, values in request.headers.items():
        lower = name.lower()
        if lower in SKIP_HEADERS:
            continue
        value = values[0] if isinstance(values, list) else values
        if lower in curl_env:
            parts += ["-H", f'"{name}: {curl_env[lower]}"']
        else:
            parts += ["-H", _shell_quote(f"{name}: {value}")]
    if request.body:
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
        parts += ["--data-raw", _shell_quote(body)]
    command = " ".join(parts)
    note = curl_note(urlsplit(request.uri).path, {n.lower() for n in request.headers}) if curl_note else None
    return f"{note}\n{command}" if note else command
