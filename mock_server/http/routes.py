"""A provider's URL map, built from its contract: one rule per documented operation.

Every operation of `contracts/<provider>/openapi.json` gets a route at the provider's mount; the
provider's handler registry (operationId -> function) says which of them are emulated. The others
answer 501 `not emulated by paymock: <operationId>` in the provider's envelope, so a client sees
"documented, not built yet" where an undocumented path gets the provider's 404. A handler whose
operation the contract lacks stops the start (a typo in an operationId would otherwise leave the
operation unanswered). `GET /_mock/operations` lists every operation and whether it is emulated.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.routing import BaseConverter

from .pipeline import Operation

_PARAM = re.compile(r"\{([^}]+)\}")


class UnknownOperation(RuntimeError):
    """A provider has a handler for an operation its contract does not document."""


class SegmentConverter(BaseConverter):
    """One path segment, except the literal names a sibling path uses at the same place: with
    `/checkouts/preview` and `/checkouts/{id}` both documented, `GET /checkouts/preview` is not
    session "preview" (and OPTIONS on it advertises only what the preview operation takes)."""

    def __init__(self, url_map, *excluded: str):
        super().__init__(url_map)
        if excluded:
            self.regex = "(?!(?:" + "|".join(re.escape(word) for word in excluded) + ")$)[^/]+"


@dataclass(frozen=True)
class Listed:
    provider: str
    operation_id: str
    method: str
    path: str
    emulated: bool
    served_by: str | None = None  # "rules" (a provider's handler), "generic" (the engine), None

    def to_dict(self) -> dict:
        return {"operation_id": self.operation_id, "method": self.method, "path": self.path,
                "emulated": self.emulated, "served_by": self.served_by}


def _literals_beside(paths: list[str]) -> dict[tuple[str, int], set[str]]:
    """(prefix, segment index) -> the literal segments documented there."""
    literals: dict[tuple[str, int], set[str]] = {}
    for path in paths:
        parts = path.strip("/").split("/")
        for index, part in enumerate(parts):
            if not _PARAM.fullmatch(part):
                literals.setdefault(("/".join(parts[:index]), index), set()).add(part)
    return literals


def _rule(path: str, literals) -> tuple[str, dict[str, str]]:
    """The werkzeug rule for a contract path, and werkzeug-safe parameter names -> the
    contract's own (which may hold characters a Python identifier may not)."""
    parts = path.strip("/").split("/")
    names: dict[str, str] = {}
    out = []
    for index, part in enumerate(parts):
        found = _PARAM.fullmatch(part)
        if found is None:
            out.append(part)
            continue
        name = found.group(1)
        safe = re.sub(r"\W", "_", name)
        if not safe.isidentifier() or safe in names:
            safe = f"p{len(names)}_{safe}"
        names[safe] = name
        excluded = sorted(literals.get(("/".join(parts[:index]), index), ()))
        args = "(" + ", ".join(repr(word) for word in excluded) + ")" if excluded else ""
        out.append(f"<segment{args}:{safe}>")
    slash = "/" if path.endswith("/") and len(path) > 1 else ""  # "/docs/" is not "/docs"
    return "/" + "/".join(out) + slash, {safe: name for safe, name in names.items()
                                         if safe != name}


def mount(app, core, provider) -> list[Listed]:
    """Add the provider's routes to the app; the operations as listed by /_mock/operations."""
    contract = core.contracts[provider.name]
    handlers = dict(provider.handlers())
    generic = provider.generic_operations()
    unknown = sorted(set(handlers) - set(contract.operations))
    if unknown:
        raise UnknownOperation(
            f"{provider.name} has a handler for {', '.join(unknown)}, which "
            f"contracts/{provider.name}/openapi.json does not document: fix the operationId or "
            "add the operation to the contract")
    app.url_map.converters.setdefault("segment", SegmentConverter)
    literals = _literals_beside([op.path for op in contract.operations.values()])
    policy = provider.idempotency
    listed = []
    for op in contract.operations.values():
        rule, names = _rule(op.path, literals)
        handler = handlers.get(op.operation_id)
        view = Operation(core, provider, contract, op, handler,
                         policy is not None and policy.applies(op.operation_id), names)
        app.add_url_rule(provider.mount + rule, endpoint=f"{provider.name}.{op.operation_id}",
                         view_func=view, methods=[op.method])
        served_by = None if handler is None else \
            "generic" if op.operation_id in generic else "rules"
        listed.append(Listed(provider.name, op.operation_id, op.method, op.path,
                             handler is not None, served_by))
    return listed

