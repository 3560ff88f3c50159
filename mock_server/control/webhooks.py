"""/_mock/webhooks: endpoints, the delivery log, redelivery, the Dodo secret, Waffo's public key.

    POST /_mock/webhooks/endpoints {"url": "http://127.0.0.1:9000/hooks", "namespace": "dodo:..."}
    GET  /_mock/webhooks/deliveries?namespace=&status=&type=
    POST /_mock/webhooks/deliveries/{id}/redeliver
    POST /_mock/webhooks/flush            run every pending retry now (and wait for it)
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from ..core.http import json_response
from ..providers.dodo.webhooks import Secret
from ..providers.waffo import webhooks as waffo_webhooks
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
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") \
            or not urlsplit(url).netloc:
        raise ControlError("url must be an http(s) URL such as http://127.0.0.1:9000/webhooks")
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
        try:
            Secret(secret)
        except Exception as exc:  # binascii and ValueError alike: say what a secret looks like
            raise ControlError(f"secret must be whsec_ followed by base64 ({exc})") from None
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


@bp.get("/webhooks/secret")
def get_secret():
    return json_response({"secret": current_app.extensions["paymock.dodo.webhook_secret"].value})


@bp.post("/webhooks/secret")
def set_secret():
    secret = _json().get("secret")
    if not isinstance(secret, str):
        raise ControlError("secret must be a string: whsec_ followed by base64")
    try:
        current_app.extensions["paymock.dodo.webhook_secret"].set(secret)
    except Exception as exc:
        raise ControlError(f"secret must be whsec_ followed by base64 ({exc})") from None
    return json_response({"secret": secret})


@bp.get("/waffo/webhook-public-key")
def waffo_public_key():
    return Response(waffo_webhooks.public_key_pem(), mimetype="application/x-pem-file")
