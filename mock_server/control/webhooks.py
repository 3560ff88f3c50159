"""/_mock/webhooks: endpoints, the delivery log, redelivery, and what receivers verify with.

    POST /_mock/webhooks/endpoints {"url": "http://127.0.0.1:9000/hooks", "namespace": "<provider>:..."}
    GET  /_mock/webhooks/deliveries?namespace=&status=&type=
    POST /_mock/webhooks/deliveries/{id}/redeliver
    POST /_mock/webhooks/flush            run every pending retry now (and wait for it)
    POST /_mock/webhooks/endpoints/{id}/rotate-secret {"secret"?, "grace_seconds"?}
    GET  /_mock/webhooks/secret?provider=      the shared signing secret (POST changes it)
    GET  /_mock/webhooks/public-key?provider=  the public key (PEM)

Which provider signs how is its webhook channel's business (core/webhook_endpoints.py): without
`provider`, the secret and the key are the only provider's that has one.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ..core.http import json_response
from ..core.urls import url_problem
from ..core.webhooks import ROTATION_GRACE
from .routes import ControlError, _json

bp = Blueprint("control_webhooks", __name__)


def _outbox():
    return current_app.extensions["paymock.webhooks"]


def _optional_str(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ControlError(f"{name} must be a string")
    return value


@bp.post("/webhooks/endpoints")
def add_endpoint():
    body = _json()
    url = body.get("url")
    problem = url_problem(url)
    if problem is not None:
        raise ControlError(f"url {problem}: give an http or https URL such as "
                           "http://127.0.0.1:9000/webhooks")
    provider = _optional_str(body, "provider")
    outbox = _outbox()
    if provider is not None and provider not in outbox.channels:
        raise ControlError(f"provider must be one of {sorted(outbox.channels)}")
    events = body.get("events")
    if events is not None and (not isinstance(events, list)
                               or not all(isinstance(e, str) for e in events)):
        raise ControlError("events must be a list of event types such as [\"payment.succeeded\"]")
    secret = _optional_str(body, "secret")
    if secret is not None:
        _check_endpoint_secret(secret, provider)
    endpoint = outbox.add_endpoint(url, _optional_str(body, "namespace"), provider, events, secret)
    return json_response(endpoint.to_dict(), 201)


@bp.get("/webhooks/endpoints")
def list_endpoints():
    namespace = request.args.get("namespace")
    return json_response({"endpoints": [e.to_dict() for e in list(_outbox().endpoints.values())
                                        if namespace is None or e.namespace == namespace]})


@bp.delete("/webhooks/endpoints/<endpoint_id>")
def delete_endpoint(endpoint_id: str):
    if not _outbox().remove_endpoints(endpoint_id):
        raise ControlError(f"no webhook endpoint {endpoint_id!r}", 404)
    return json_response({"deleted": endpoint_id})


@bp.delete("/webhooks/endpoints")
def delete_endpoints():
    return json_response({"deleted": _outbox().remove_endpoints(namespace=request.args.get("namespace"))})


@bp.post("/webhooks/endpoints/<endpoint_id>/rotate-secret")
def rotate_secret(endpoint_id: str):
    """A new secret for one endpoint (the given one, or a random one of its provider's kind);
    for `grace_seconds` of mock time (default 24 h, as Dodo's dashboard keeps the old one) it
    signs with both. Mock-only: Dodo's API has no rotate operation."""
    body = _json()
    outbox = _outbox()
    endpoint = outbox.endpoint(endpoint_id)
    if endpoint is None:
        raise ControlError(f"no webhook endpoint {endpoint_id!r}", 404)
    channel = _secret_channel(endpoint.provider)
    secret = _optional_str(body, "secret")
    if secret is not None:
        _check(channel.secret, secret)
    grace = body.get("grace_seconds", ROTATION_GRACE)
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
        raise ControlError("grace_seconds must be a number of seconds, 0 or more")
    try:
        rotated = outbox.rotate_secret(
            endpoint_id, secret or channel.secret.generate(), channel.secret.value, float(grace),
            # A secret the user brings stays out of state files, like any the user brings.
            keep_secret=endpoint.keep_secret and secret is None)
    except LookupError as exc:  # deleted meanwhile
        raise ControlError(str(exc), 404) from None
    return json_response({**rotated.to_dict(), "secret": rotated.secret})


@bp.get("/webhooks/deliveries")
def deliveries():
    args = request.args
    return json_response({"deliveries": _outbox().deliveries(
        args.get("namespace"), args.get("status"), args.get("type"))})


@bp.get("/webhooks/deliveries/<delivery_id>")
def delivery(delivery_id: str):
    found = _outbox().delivery(delivery_id)
    if found is None:
        raise ControlError(f"no delivery {delivery_id!r}", 404)
    return json_response(found)


@bp.post("/webhooks/deliveries/<delivery_id>/redeliver")
def redeliver(delivery_id: str):
    try:
        return json_response(_outbox().redeliver(delivery_id), 202)
    except LookupError as exc:
        raise ControlError(str(exc), 404) from None


@bp.get("/webhooks/events")
def events():
    return json_response({"events": _outbox().events(request.args.get("namespace"))})


@bp.post("/webhooks/flush")
def flush():
    wait = _json().get("wait", 10)
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait <= 120:
        raise ControlError("wait must be a number of seconds from 0 to 120")
    idle = _outbox().flush(float(wait))
    return json_response({"idle": idle, "pending": len(_outbox().deliveries(status="pending"))})


def _check_endpoint_secret(secret: str, provider: str | None) -> None:
    """An endpoint's own secret replaces its channels' shared one: it must be of their kind."""
    channels = [c for name, c in _outbox().channels.items() if provider in (None, name)]
    signing = [c.secret for c in channels if c.secret is not None]
    if not signing:
        raise ControlError(f"{provider} webhooks are not signed with a shared secret: leave "
                           "secret out")
    for shared in signing:
        _check(shared, secret)


def _check(shared, secret: str) -> None:
    try:
        shared.check(secret)
    except Exception as exc:  # binascii and ValueError alike: say what a secret looks like
        raise ControlError(f"secret must be {shared.form} ({exc})") from None


def _channel(provider: str | None, has, what: str):
    """The channel of `provider`, or the only one, that has `what` (`has(channel)`)."""
    channels = _outbox().channels
    if provider is not None:
        if provider not in channels:
            raise ControlError(f"provider must be one of {sorted(channels)}")
        if not has(channels[provider]):
            raise ControlError(f"{provider} webhooks have no {what}", 404)
        return channels[provider]
    having = [channel for channel in channels.values() if has(channel)]
    if len(having) != 1:
        names = sorted(channel.provider for channel in having)
        raise ControlError(f"name the provider (provider=...): webhooks with a {what}: {names}",
                           404 if not having else 400)
    return having[0]


def _secret_channel(provider: str | None):
    return _channel(provider, lambda channel: channel.secret is not None, "shared signing secret")


@bp.get("/webhooks/secret")
def get_secret():
    channel = _secret_channel(request.args.get("provider"))
    return json_response({"secret": channel.secret.value, "provider": channel.provider})


@bp.post("/webhooks/secret")
def set_secret():
    body = _json()
    secret = body.get("secret")
    channel = _secret_channel(_optional_str(body, "provider"))
    if not isinstance(secret, str):
        raise ControlError(f"secret must be a string: {channel.secret.form}")
    _check(channel.secret, secret)
    channel.secret.set(secret)
    return json_response({"secret": secret, "provider": channel.provider})


@bp.get("/webhooks/public-key")
def public_key():
    channel = _channel(request.args.get("provider"),
                       lambda channel: channel.public_key is not None, "public key")
    return Response(channel.public_key(), mimetype="application/x-pem-file")
