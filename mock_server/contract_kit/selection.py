"""Which of a contract's operations a run covers: the operations and links the contract declares,
and the `--operation` ids a user picked, checked against them before anything runs (a typo must
not turn into a run of nothing that passes)."""
from __future__ import annotations

import difflib
import textwrap
from dataclasses import dataclass

METHODS = ("get", "put", "post", "delete", "patch")


class UnknownOperations(LookupError):
    """`--operation` named ids the contract does not have; the message names the valid ones."""


@dataclass(frozen=True)
class Operation:
    method: str                 # upper case
    path: str
    operation_id: str | None

    @property
    def label(self) -> str:
        """What Schemathesis calls the operation, and the key of the kit's report."""
        return f"{self.method} {self.path}"


def operations(document: dict) -> list[Operation]:
    """Every operation of an OpenAPI document, in document order."""
    return [Operation(method.upper(), path, op.get("operationId"))
            for path, item in document["paths"].items() for method, op in item.items()
            if method in METHODS]


def links(document: dict) -> list[tuple[str, str, str]]:
    """(source operationId, target operationId, link name) for every link in the contract."""
    found = []
    for item in document["paths"].values():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            for response in op.get("responses", {}).values():
                for name, link in (response.get("links") or {}).items():
                    found.append((op.get("operationId"), link.get("operationId"), name))
    return found


def check_selected(wanted: list[str] | set[str], ops: list[Operation], provider: str) -> None:
    """Raise UnknownOperations for ids in `wanted` that no operation in `ops` has: for each, the
    closest valid ids first (a case slip or a typo is the usual cause), then the whole list."""
    valid = sorted({op.operation_id for op in ops if op.operation_id})
    unknown = sorted(set(wanted) - set(valid))
    if not unknown:
        return
    lines = [f"unknown operation id{'s' if len(unknown) > 1 else ''} for {provider}: "
             f"{', '.join(unknown)}"]
    for name in unknown:
        close = closest(name, valid)
        if close:
            lines.append(f"  {name}: did you mean {', '.join(close)}?")
    lines.append(f"valid operation ids ({len(valid)}):")
    lines.extend(textwrap.wrap(", ".join(valid), width=100, initial_indent="  ",
                               subsequent_indent="  ", break_on_hyphens=False))
    raise UnknownOperations("\n".join(lines))


def closest(name: str, valid: list[str], n: int = 3) -> list[str]:
    """The valid ids nearest to `name`, best first. Compared case-insensitively so that
    `CreateCheckoutSession` finds `createCheckoutSession`."""
    by_lower: dict[str, str] = {}
    for op_id in valid:
        by_lower.setdefault(op_id.lower(), op_id)
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[match] for match in matches]
