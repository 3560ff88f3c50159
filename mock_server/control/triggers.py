"""/_mock/trigger: make an event happen, with consistent state, the way `stripe trigger` does.

    POST /_mock/trigger {"provider": "dodo", "event": "dispute.opened",
                         "namespace": "dodo:...", "payment_id": "pay_..."}
    GET  /_mock/trigger            every event each provider can trigger

Everything besides provider, event and namespace is the trigger's own parameters (which object to
act on; without one, a trigger makes what it needs). The namespace may be left out when one of
those parameters names an object the server holds: its namespace is used.
"""
from __future__ import annotations

from flask import Blueprint, current_app

from ..core.errors import ApiError
from ..core.http import json_response
from ..core.triggers import TriggerError
from .routes import ControlError, _json

bp = Blueprint("control_triggers", __name__)


def _core():
    return current_app.extensions["paymock"]


@bp.get("/trigger")
def list_triggers():
    triggers = _core().triggers
    return json_response({"providers": {p: triggers.events(p) for p in triggers.providers()}})


@bp.post("/trigger")
def trigger():
    core = _core()
    body = _json()
    provider, event = body.pop("provider", None), body.pop("event", None)
    if provider is None and isinstance(event, str):
        provider = _provider_of(core, event, body)
    if not isinstance(provider, str) or provider not in core.triggers.providers():
        raise ControlError(f"provider must be one of {core.triggers.providers()}, got {provider!r}")
    if not isinstance(event, str):
        raise ControlError(f"event must be an event type such as \"dispute.opened\"; {provider} "
                           f"triggers: {', '.join(core.triggers.events(provider))}")
    ns = core.store.namespace(_namespace(core, provider, body))
    try:
        made = core.triggers.fire(provider, event, ns, body)
    except TriggerError as exc:
        raise ControlError(str(exc), exc.status) from None
    except ApiError as exc:  # the provider's own rule refused it (e.g. nothing left to refund)
        raise ControlError(f"{exc.code}: {exc.message}", exc.status) from None
    return json_response({"provider": provider, "event": event, "namespace": ns.name, **made})


def _provider_of(core, event: str, body: dict) -> str:
    """The provider of a trigger that names none: the one provider that triggers `event`, else
    the namespace's (its prefix), else the one holding an object a parameter names."""
    owners = [p for p in core.triggers.providers() if event in core.triggers.events(p)]
    if len(owners) == 1:
        return owners[0]
    namespace = body.get("namespace")
    if isinstance(namespace, str) and namespace.split(":", 1)[0] in owners:
        return namespace.split(":", 1)[0]
    for value in body.values():
        if isinstance(value, str):
            held = {name.split(":", 1)[0] for name in core.store.holding(value)}
            if len(held & set(owners)) == 1:
                return (held & set(owners)).pop()
    if not owners:
        raise ControlError(f"no provider triggers {event!r}; GET /_mock/trigger lists them", 404)
    raise ControlError(f"say which provider triggers {event!r} (\"provider\": one of "
                       f"{owners}), or give a namespace or an object of one")


def _namespace(core, provider: str, body: dict) -> str:
    namespace = body.pop("namespace", None)
    if namespace is not None:
        if not isinstance(namespace, str) or not namespace.startswith(f"{provider}:"):
            raise ControlError(f"namespace must be a {provider} namespace such as "
                               f"\"{provider}:1f2e3d4c5b6a7988\" (GET /_mock/namespaces lists them)")
        return namespace
    for value in body.values():
        if isinstance(value, str):
            held = [name for name in core.store.holding(value) if name.startswith(f"{provider}:")]
            if held:
                return held[0]
    raise ControlError("namespace is required unless a parameter names an object the server "
                       "holds (e.g. \"payment_id\"); GET /_mock/namespaces lists them")
