"""What a run found, in forms a person and a CI server can act on: a summary table per operation
(cases run, failures by check), each distinct failure with the request that reproduces it as a
curl command, the stateful link transitions exercised, and JUnit XML. Every string leaving this
module goes through the run's Redactor; credentials in curl commands become shell variables."""
from __future__ import annotations

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


@dataclass
class OperationStats:
    label: str
    cases: int = 0
    failures: Counter = field(default_factory=Counter)   # check name -> distinct failures
    skipped: str | None = None


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
    elapsed: float = 0.0
    stop_note: str | None = None
    settings_line: str = ""
    known_rules: list = field(default_factory=list)   # KnownDivergence rules, when the target is paymock
    known: dict[tuple, tuple[FailureRecord, str]] = field(default_factory=dict)

    # -- collecting ---------------------------------------------------------------------------
    def op(self, label: str) -> OperationStats:
        if label not in self.operations:
            self.operations[label] = OperationStats(label)
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
                key = (label, check.name, failure.title, _first_line(failure.message))
                why = self._known(node, check.name, failure.message)
                bucket = self.known if why else self.failures
                if key in bucket:
                    (bucket[key][0] if why else bucket[key]).occurrences += 1
                    continue
                curl = curl_command(interaction.request, curl_env, curl_note) if interaction is not None else ""
                status = interaction.response.status_code if interaction and interaction.response else None
                record = FailureRecord(label, check.name, failure.title, failure.message, curl, status,
                                       field=_pointer(getattr(failure, "instance_path", None)))
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

    def skip(self, label: str, reason: str) -> None:
        self.op(label).skipped = reason

    # -- verdict ------------------------------------------------------------------------------
    @property
    def failed(self) -> bool:
        return bool(self.failures or self.errors)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    # -- text ---------------------------------------------------------------------------------
    def render(self) -> str:
        lines = [f"paymock contract {self.provider} -> {self.target} ({self.target_note})",
                 f"credentials: {self.credentials}"]
        if self.settings_line:
            lines.append(self.settings_line)
        lines.append("")
        width = max([len(s.label) for s in self.operations.values()] + [9])
        lines.append(f"{'operation':<{width}}  {'cases':>6}  failures by check")
        for stats in sorted(self.operations.values(), key=lambda s: s.label.split(" ", 1)[::-1]):
            if stats.skipped:
                lines.append(f"{stats.label:<{width}}  {'-':>6}  skipped: {stats.skipped}")
                continue
            failures = ", ".join(f"{name} {count}" for name, count in sorted(stats.failures.items()))
            lines.append(f"{stats.label:<{width}}  {stats.cases:>6}  {failures or 'none'}")
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
        verdict = "FAILED" if self.failed else "passed"
        summary = (f"{verdict}: {self.requests} requests in {self.elapsed:.1f}s, "
                   f"{len(self.failures)} failures, {len(self.errors)} errors")
        if self.stop_note:
            summary += f" ({self.stop_note})"
        lines.append(summary)
        return self.redact("\n".join(lines))

    # -- JUnit XML ----------------------------------------------------------------------------
    def junit(self) -> str:
        by_op: dict[str, list[FailureRecord]] = defaultdict(list)
        for record in self.failures.values():
            by_op[record.operation].append(record)
        suite = ET.Element("testsuite", name=f"paymock contract {self.provider}",
                           tests=str(len(self.operations) + (1 if self.errors else 0)),
                           failures=str(sum(1 for label in self.operations if by_op.get(label))),
                           errors=str(1 if self.errors else 0),
                           skipped=str(sum(1 for s in self.operations.values() if s.skipped)),
                           time=f"{self.elapsed:.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="target", value=self.redact(self.target))
        ET.SubElement(props, "property", name="requests", value=str(self.requests))
        ET.SubElement(props, "property", name="link_transitions", value=str(sum(self.transitions.values())))
        for number, (record, why) in enumerate(self.known.values(), 1):
            ET.SubElement(props, "property", name=f"known_divergence_{number}",
                          value=self.redact(f"{record.operation}: {record.check}: {why}"))
        for stats in sorted(self.operations.values(), key=lambda s: s.label):
            case = ET.SubElement(suite, "testcase", classname=f"paymock.contract.{self.provider}",
                                 name=stats.label)
            ET.SubElement(case, "system-out").text = f"cases: {stats.cases}"
            if stats.skipped:
                ET.SubElement(case, "skipped", message=stats.skipped)
            for record in by_op.get(stats.label, []):
                failure = ET.SubElement(case, "failure", type=record.check,
                                        message=self.redact(f"{record.check}: {record.title}"))
                where = f"field: {record.field or '/'} in the response body\n" if record.field is not None else ""
                failure.text = self.redact(f"{where}{record.message}\n\nreproduce:\n{record.curl}\n")
        if self.errors:
            case = ET.SubElement(suite, "testcase", classname=f"paymock.contract.{self.provider}",
                                 name="run errors")
            for label, message in self.errors:
                ET.SubElement(case, "error", message=self.redact(label)).text = self.redact(message)
        ET.indent(suite)
        return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".xml":
            path.write_text(self.junit())
        else:
            path.write_text(self.render() + "\n")
        return path


def _pointer(path) -> str | None:
    if path is None:
        return None
    return "".join(f"/{part}" for part in path)


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


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
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.body:
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
        parts += ["--data-raw", shlex.quote(body)]
    command = " ".join(parts)
    note = curl_note(urlsplit(request.uri).path, {n.lower() for n in request.headers}) if curl_note else None
    return f"{note}\n{command}" if note else command
