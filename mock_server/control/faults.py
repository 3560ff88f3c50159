"""/_mock/faults, /_mock/expire and /_mock/scenario: fault rules, expiring things now, scenarios."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from ..core.fault_actions import PRESETS, FaultRuleError
from ..core.http import json_response
from ..core.scenarios import ScenarioError
from ..core import scenarios
from .routes import ControlError, _json

bp = Blueprint("control_faults", __name__)


def _core():
    return current_app.extensions["paymock"]


@bp.post("/faults")
def add_faults():
    core = _core()
    body = request.get_json(silent=True)
    if body is None:
        raise ControlError("body must be a fault rule (JSON object) or {\"rules\": [...]}")
    raw_rules = body.get("rules") if isinstance(body, dict) and "rules" in body else [body]
    if not isinstance(raw_rules, list):
        raise ControlError("rules must be a list of fault rules")
    try:
        for index, raw in enumerate(raw_rules):  # all or nothing
            try:
                core.faults.parse(raw)
            except FaultRuleError as exc:
                raise ControlError(f"rules[{index}]: {exc}" if len(raw_rules) > 1 else str(exc)) from None
        added = [core.faults.add(raw).to_dict() for raw in raw_rules]
    except FaultRuleError as exc:
        raise ControlError(str(exc)) from None
    return json_response({"rules": added}, 201)


@bp.get("/faults")
def list_faults():
    return json_response({"rules": [rule.to_dict() for rule in _core().faults.rules()]})


@bp.get("/faults/presets")
def presets():
    return json_response({"presets": PRESETS})


@bp.patch("/faults/<rule_id>")
def switch_fault(rule_id: str):
    """{"enabled": false} switches a rule off (kept, with its counters); true, back on."""
    body = _json()
    if set(body) != {"enabled"} or not isinstance(body["enabled"], bool):
        raise ControlError('body must be {"enabled": true} or {"enabled": false}')
    rule = _core().faults.switch(rule_id, body["enabled"])
    if rule is None:
        raise ControlError(f"no fault rule {rule_id!r}; GET /_mock/faults lists them", 404)
    return json_response(rule.to_dict())


@bp.delete("/faults/<rule_id>")
def delete_fault(rule_id: str):
    if not _core().faults.delete(rule_id):
        raise ControlError(f"no fault rule {rule_id!r}; GET /_mock/faults lists them", 404)
    return json_response({"deleted": rule_id})


@bp.delete("/faults")
def reset_faults():
    return json_response({"deleted": _core().faults.reset(request.args.get("namespace"))})


@bp.post("/faults/reset")
def reset_faults_post():
    namespace = _json().get("namespace")
    return json_response({"deleted": _core().faults.reset(namespace)})


@bp.post("/scenario")
def load_scenario():
    core = _core()
    doc = request.get_json(silent=True)
    try:
        added = scenarios.apply(doc, core.faults, core.clock)
    except (ScenarioError, FaultRuleError) as exc:
        raise ControlError(str(exc)) from None
    return json_response({"rules": added, "clock": core.clock.describe()}, 201)


@bp.post("/expire/<kind>/<path:obj_id>")
def expire(kind: str, obj_id: str):
    """Expire one object now: a store object by kind (`session`, `checkout_session`, `order`,
    ...), an idempotency key (`idempotency-key`), or what a provider registers (`token`)."""
    core = _core()
    body = _json()
    namespace = body.get("namespace") or request.args.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise ControlError("namespace must be a string")
    if kind == "idempotency-key":
        idem = current_app.extensions.get("paymock.idempotency")
        scopes = [namespace] if namespace else sorted({s for s, _ in idem.keys()}) if idem else []
        hits = [scope for scope in scopes if idem.expire(scope, obj_id)]
        if not hits:
            raise ControlError(f"no cached idempotency key {obj_id!r}"
                               + (f" in {namespace}" if namespace else ""), 404)
        return json_response({"expired": {"kind": kind, "id": obj_id, "namespaces": hits}})
    expirer = core.expirers.get(kind)
    if expirer is not None:
        try:
            expirer(obj_id)
        except (LookupError, ValueError) as exc:
            raise ControlError(str(exc), 404) from None
        return json_response({"expired": {"kind": kind, "id": obj_id}})
    names = [namespace] if namespace else core.store.holding(obj_id)
    now = core.clock.now()
    hits = []
    for name in names:
        ns = core.store.find(name)
        if ns is None:
            continue
        for found_kind in ns.kinds_of(obj_id):
            if kind in (found_kind, "any") or (kind == "session" and found_kind.endswith("session")):
                ns.set_expiry(found_kind, obj_id, now)
                hits.append({"namespace": name, "kind": found_kind})
    if not hits:
        raise ControlError(f"no {kind} {obj_id!r} in {namespace or 'any namespace'}", 404)
    return json_response({"expired": {"id": obj_id, "where": hits}})
