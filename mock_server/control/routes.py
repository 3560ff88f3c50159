"""/_mock: health, reset, state, clock and journal. JSON in, JSON out; bad input is a 400 that
says what was wrong."""
from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException

from .. import __version__
from ..core.http import json_response

bp = Blueprint("control", __name__)
clock_log = logging.getLogger("paymock.clock")
STARTED = time.time()


class ControlError(Exception):
    """Bad input to a control endpoint: a 400 (or `status`) whose `error` says what to fix.
    Rendered by an app-level handler, so every control blueprint can raise it."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def render_control_error(exc: ControlError):
    return json_response({"error": str(exc)}, exc.status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return json_response({"error": exc.description}, exc.code or 500)


def _core():
    return current_app.extensions["paymock"]


def _json() -> dict:
    if not request.get_data():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object, e.g. {\"namespace\": \"<provider>:...\"}")
    return body


def _number(body: dict, name: str, required: bool = True) -> float | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(f"{name} must be a number of seconds, got {value!r}")
    if not -LATEST_EPOCH <= value <= LATEST_EPOCH:  # beyond that no date can be written
        raise ControlError(f"{name} must be at most {LATEST_EPOCH:.0f} seconds, got {value!r}")
    return float(value)


LATEST_EPOCH = 100_000_000_000.0  # the year 5138: the clock never moves past it


@bp.get("/health")
def health():
    core = _core()
    return json_response({
        "status": "ok", "version": __version__, "uptime_seconds": round(time.time() - STARTED, 3),
        "providers": {p.name: p.mount for p in current_app.extensions["paymock.providers"]},
        "public_url": core.public_url, "clock": core.clock.describe(),
    })


@bp.post("/reset")
def reset():
    core = _core()
    body = _json()
    namespace = body.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise ControlError("namespace must be a string such as \"<provider>:1f2e3d4c5b6a7988\"")
    dropped = core.store.reset(namespace)
    core.journal.reset(namespace)
    idempotency = current_app.extensions.get("paymock.idempotency")
    if idempotency is not None:  # a replay must not point at objects that are gone
        idempotency.forget(namespace)
    if namespace is None and body.get("clock", True):
        core.clock.reset()
    return json_response({"reset": dropped})


STATE_PAGE = 100  # namespaces a GET /_mock/state answers at once (20,000 took 8 s and 285 MB)


def _count_arg(name: str, default: int, most: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or (most is not None and not 1 <= int(raw) <= most):
        bound = f" from 1 to {most}" if most is not None else ""
        raise ControlError(f"{name} must be a whole number{bound}, got {raw[:40]!r}")
    return int(raw)


@bp.get("/state")
def state():
    """Every live object by namespace and kind: one namespace (?namespace=), or a page of them
    in name order (?limit=, default 100, and ?offset=)."""
    core = _core()
    namespace = request.args.get("namespace")
    if namespace is not None:
        if core.store.find(namespace) is None:
            known = core.store.names()
            more = f" and {len(known) - 10} more: GET /_mock/namespaces lists them" \
                if len(known) > 10 else ""
            raise ControlError(f"no namespace {namespace!r}; known: {known[:10]}{more}", 404)
        return json_response({"clock": core.clock.describe(),
                              "namespaces": core.store.snapshot(namespace)})
    limit = _count_arg("limit", STATE_PAGE, 1000)
    offset = _count_arg("offset", 0)
    names = core.store.names()
    page = names[offset:offset + limit]
    return json_response({
        "clock": core.clock.describe(), "namespaces": core.store.snapshot(names=page),
        "total": len(names), "offset": offset,
        "next_offset": offset + limit if offset + limit < len(names) else None})


@bp.get("/namespaces")
def namespaces():
    core = _core()
    return json_response({"namespaces": [
        {"name": name, "objects": core.store.find(name).count()} for name in core.store.names()
    ]})


@bp.get("/operations")
def list_operations():
    """Every documented operation of every provider, and whether paymock emulates it (what the
    app's routes listed when they were mounted, http/routes.py)."""
    listed = current_app.extensions["paymock.operations"]
    providers: dict[str, list[dict]] = {}
    for item in listed:
        providers.setdefault(item.provider, []).append(item.to_dict())
    return json_response({"total": len(listed), "emulated": sum(item.emulated for item in listed),
                          "providers": providers})


@bp.get("/clock")
def clock():
    return json_response(_core().clock.describe())


@bp.post("/clock")
def set_clock():
    body = _json()
    action = body.get("action")
    if action not in CLOCK_ACTIONS:
        raise ControlError(f"action must be one of {sorted(CLOCK_ACTIONS)}, got {action!r}")
    return CLOCK_ACTIONS[action](body)


@bp.post("/clock/<action>")
def clock_action(action: str):
    if action not in CLOCK_ACTIONS:
        raise ControlError(f"unknown clock action {action!r}; use one of {sorted(CLOCK_ACTIONS)}", 404)
    return CLOCK_ACTIONS[action](_json())


def _freeze(body):
    core = _core()
    at = _number(body, "at", required=False)
    if at is not None and at < 0:
        raise ControlError(f"at must be epoch seconds >= 0, got {at!r}")
    core.clock.freeze(at)
    return _moved("frozen", core)


def _advance(body):
    core = _core()
    seconds = _number(body, "seconds")
    if seconds is not None and core.clock.now() + seconds > LATEST_EPOCH:
        raise ControlError(f"the clock cannot move past {LATEST_EPOCH:.0f} (the year 5138)")
    if seconds < 0:
        raise ControlError("seconds must be >= 0: the clock only moves forward")
    outbox = current_app.extensions["paymock.webhooks"]
    mark = outbox.last_event
    core.clock.advance(seconds)
    # Everything the move made due (expiries, webhook attempts) happens before the answer,
    # which lists the events that came of it (renewals, dunning, expiries).
    core.scheduler.run_due(everything=True)
    fell_due = [{key: event[key] for key in ("namespace", "provider", "type", "at")}
                for event in outbox.events_since(mark)]
    return _moved(f"advanced {seconds:g} s", core, fell_due=fell_due)


def _resume(_body):
    core = _core()
    core.clock.resume()
    return _moved("resumed", core)


def _reset_clock(_body):
    core = _core()
    core.clock.reset()
    return _moved("reset", core)


def _moved(how: str, core, **more):
    described = {**core.clock.describe(), **more}
    clock_log.info("clock %s: now %s%s", how, described["now"],
                   " (frozen)" if described["frozen"] else "",
                   extra={"clock": how, "now": described["now"], "frozen": described["frozen"]})
    return json_response(described)


CLOCK_ACTIONS = {"freeze": _freeze, "advance": _advance, "resume": _resume, "reset": _reset_clock}


@bp.get("/journal")
def journal():
    core = _core()
    limit = request.args.get("limit")
    if limit is not None and not limit.isdigit():
        raise ControlError(f"limit must be a positive integer, got {limit!r}")
    entries = core.journal.entries(request.args.get("namespace"), int(limit) if limit else None)
    return json_response({"entries": entries})
