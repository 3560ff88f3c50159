"""Which documented operations paymock emulates, and a 501 for the others.

Every operation of a provider's contract is reachable: one the provider routes is emulated; one
it does not yet answers 501 in the provider's envelope, `not emulated by paymock: <operationId>`,
so that a client sees "documented, not built yet" instead of the 404 an undocumented path gets.
`GET /_mock/operations` lists them all. The other way round, a route under a provider's mount
that no operation of its contract documents stops the start: what paymock serves is what the
contract says. Nothing here knows a provider: it reads the contracts and the URL map the
providers filled.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.exceptions import HTTPException

NOT_EMULATED_CODE = "NOT_IMPLEMENTED"
_PARAM = re.compile(r"\{([^}]+)\}")
_RULE_PARAM = re.compile(r"<[^>]+>")
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by Flask for every route


class UndocumentedRoute(RuntimeError):
    """A provider routes a method and path its contract does not document."""


@dataclass(frozen=True)
class Listed:
    provider: str
    operation_id: str
    method: str
    path: str
    emulated: bool

    def to_dict(self) -> dict:
        return {"operation_id": self.operation_id, "method": self.method, "path": self.path,
                "emulated": self.emulated}


def _routed(adapter, url: str, method: str) -> bool:
    try:
        adapter.match(url, method=method)
    except HTTPException:  # 404 or 405: no route answers this method on this path
        return False
    return True


def _check_documented(app, provider, contract) -> None:
    for rule in app.url_map.iter_rules():
        if not provider.owns(rule.rule):
            continue
        sample = _RULE_PARAM.sub("paymock-sample", rule.rule)[len(provider.mount):] or "/"
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            if contract.match(method, sample) is None:
                raise UndocumentedRoute(
                    f"{provider.name} routes {method} {rule.rule} ({rule.endpoint}), which "
                    f"contracts/{provider.name}/openapi.json does not document: add the operation "
                    "to the contract or remove the route")


def mount(app, providers, contracts) -> list[Listed]:
    """Check that every provider route is documented; add a 501 route for each documented
    operation no provider route answers; the listing."""
    adapter = app.url_map.bind("paymock.local")
    listed = []
    for provider in providers:
        contract = contracts.get(provider.name)
        if contract is None:
            continue
        _check_documented(app, provider, contract)
        for op in contract.operations.values():
            sample = _PARAM.sub("paymock-sample", op.path)
            emulated = _routed(adapter, provider.mount + sample, op.method)
            if not emulated:
                app.add_url_rule(provider.mount + _PARAM.sub(r"<\1>", op.path),
                                 endpoint=f"not_emulated.{provider.name}.{op.operation_id}",
                                 view_func=_not_emulated(provider, op.operation_id),
                                 methods=[op.method])
            listed.append(Listed(provider.name, op.operation_id, op.method, op.path, emulated))
    return listed


def _not_emulated(provider, operation_id: str):
    def view(**_path):
        return provider.render_error(501, NOT_EMULATED_CODE,
                                     f"not emulated by paymock: {operation_id}")
    return view


def describe(listed: list[Listed]) -> dict:
    """The body of GET /_mock/operations."""
    providers: dict[str, list[dict]] = {}
    for item in listed:
        providers.setdefault(item.provider, []).append(item.to_dict())
    return {"total": len(listed), "emulated": sum(item.emulated for item in listed),
            "providers": providers}
