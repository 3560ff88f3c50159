"""What keeps a server on a developer machine safe and its state durable: the control token, the
body-size limit (413 in the provider's envelope), who may listen where, and --state-file wiring.
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

import orjson
from flask import current_app, request
from flask.json.provider import DefaultJSONProvider

from .core.http import json_response, too_deep
from .core.urls import is_loopback  # noqa: F401 - also guards.is_loopback for callers
from .core.persistence import AutoSaver, StateFileError, register_core
from .control.ui import gate as dashboard_gate
from .control.ui.session import DashboardKeys

CONTROL_PREFIX = "/_mock"
# How deep a control request's JSON may nest: a fault rule's `body` or `patch` nested past what
# the JSON encoder writes (orjson: 254 levels) would be stored, then break listing the rules and
# every state-file save.
CONTROL_MAX_DEPTH = 64
TOKEN_HEADER = "X-Paymock-Control-Token"
# Set by a server that gave up waiting for a request's body (rsgi_bridge.py): the seconds waited.
INCOMPLETE_BODY_ENV = "paymock.incomplete_body"


def install(app, core, settings) -> None:
    """Hooks create_app adds: the control-token check, the 413 envelope, state components."""
    register_core(core.persistence, core)
    app.json = SafeJSONProvider(app)
    token = (settings.control_token or "").encode()
    keys = app.extensions["paymock.ui_keys"] = DashboardKeys(settings.control_token)
    public = urlsplit(settings.base_url())
    public_origin = f"{public.scheme}://{public.netloc}".lower()
    public_host = (public.hostname or "").lower()

    limit = settings.max_body_bytes
    # A body without a length (chunked, as granian hands it over) is read up to this many bytes
    # and refused past it (flaskapp.PaymockRequest.get_data); Flask keeps the number here.
    app.config["MAX_CONTENT_LENGTH"] = limit

    # One hook for every request, reading the request once: it runs before each API call too.
    @app.before_request
    def _guard():
        req = request._get_current_object()
        environ = req.environ
        # A body with its length (waitress de-chunks first) is refused before it is read.
        length = environ.get("CONTENT_LENGTH", "")
        if limit and length.isdigit() and int(length) > limit:
            return too_large(limit, _provider_of(req.path))
        if INCOMPLETE_BODY_ENV in environ:
            return too_slow(environ[INCOMPLETE_BODY_ENV], _provider_of(req.path))
        path = req.path
        # (slices, not str.startswith: that parses its arguments, on every request)
        if path[:6] == CONTROL_PREFIX and (len(path) == 6 or path[6] == "/"):
            return _control_refusal(req)
        return None

    def _control_refusal(req):
        refusal = foreign_request(req.headers, req.host_url, public_origin, public_host,
                                  check_host=not token)
        if refusal:
            return json_response({"error": refusal}, 403)
        # The token proves a script; without it, the dashboard's session cookie (and its CSRF
        # token on changes) proves a person, or nothing is needed when no token is set.
        if not (token and token_ok(req.headers, token)):
            refused = dashboard_gate.refusal(req, keys)
            if refused is not None:
                return refused
        return control_body_refusal(req.get_data(cache=True))

    @app.errorhandler(413)
    def _too_large(_exc):
        return too_large(limit, _provider_of(request.path))


def _provider_of(path: str):
    from .providers.base import for_path

    return for_path(current_app.extensions["paymock.providers"], path)


def too_large(limit: int, provider=None):
    """413 in the envelope of `provider` (the one the path belongs to; None: paymock's own)."""
    from .core.fault_http import default_code

    message = f"Request body is larger than the limit of {limit} bytes"
    if provider is not None:
        return provider.render_error(413, default_code(413), message)
    return json_response({"error": message}, 413)


def too_slow(seconds: float, provider=None):
    """408 in the provider's envelope: the body did not arrive within the server's read timeout."""
    from .core.fault_http import default_code

    message = f"Request body not received within {seconds:g} seconds"
    if provider is not None:
        response = provider.render_error(408, default_code(408), message)
    else:
        response = json_response({"error": message}, 408)
    response.headers["Connection"] = "close"
    return response


class SafeJSONProvider(DefaultJSONProvider):
    """request.get_json() through orjson: a document nested past 1024 levels is a ValueError
    (a 400 from the control API), never a RecursionError (a 500)."""

    def loads(self, s, **kwargs):
        return orjson.loads(s)


def control_body_refusal(raw: bytes):
    """A 400 for a control body nested deeper than CONTROL_MAX_DEPTH, before any endpoint reads
    (and stores) it; its size is bounded by max_body_bytes like every body. A body that is not
    JSON is left to the endpoint, which says what it expected."""
    if raw.count(b"[") + raw.count(b"{") <= CONTROL_MAX_DEPTH:
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if too_deep(body, CONTROL_MAX_DEPTH):
        return json_response({"error": f"the body nests deeper than {CONTROL_MAX_DEPTH} levels: "
                                       "refused, nothing was stored"}, 400)
    return None


def foreign_request(headers, host_url: str, public_origin: str, public_host: str,
                    check_host: bool) -> str | None:
    """Why a control request must be refused as coming from a web page the developer visits
    (None: it may go on). A browser sends `Origin` on every cross-site POST and on any fetch a
    page makes: one that is neither this server's origin nor the public URL's is refused, token
    or not. Without a control token the Host must also be a loopback name or the public URL's
    host, or a DNS-rebinding page (a name of the attacker's resolving to 127.0.0.1) could read
    /_mock/state; with a token the token proves the caller, whatever name it used."""
    host = headers.get("Host", "")
    if check_host:
        try:
            name = (urlsplit(f"//{host}").hostname or "").lower()
        except ValueError:  # a malformed port or bracket
            name = ""
        if not (name and (is_loopback(name) or name == public_host)):
            return (f"the control API answers only requests to a loopback name (localhost, "
                    f"127.0.0.1, [::1]) or the public URL's host {public_host!r}, not Host "
                    f"{host!r}: a page from another site may not reach it through DNS rebinding")
    origin = headers.get("Origin")
    if origin is not None:
        own = host_url.rstrip("/").lower()
        if origin.strip().lower() not in (own, public_origin):
            return (f"the control API refuses requests from web pages of another origin "
                    f"(Origin {origin!r}; allowed: {own!r}, {public_origin!r})")
    return None


def token_ok(headers, token: bytes) -> bool:
    presented = headers.get(TOKEN_HEADER)
    if presented is None:
        scheme, _, value = headers.get("Authorization", "").partition(" ")
        presented = value.strip() if scheme.lower() == "bearer" else ""
    return hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), token)


GENERATE = "generate"  # control_token = "generate": a random one, made at start


def generated_token(settings):
    """(settings, whether the token was generated): `control_token = "generate"` becomes a
    random token, for a server that binds beyond this machine (a container's `docker run`) and
    whose user has no token to give: `paymock serve` prints it once."""
    if settings.control_token != GENERATE:
        return settings, False
    return settings.model_copy(update={"control_token": secrets.token_urlsafe(24)}), True


def check_exposure(settings) -> None:
    """Refuse to listen beyond this machine without a control token (raises ValueError)."""
    if not is_loopback(settings.host) and not settings.control_token:
        raise ValueError(
            f"refusing to listen on {settings.host} without a control token: anyone who can reach "
            "it could reset state, move the clock and inject faults through /_mock. Pass "
            "--control-token TOKEN (or set PAYMOCK_CONTROL_TOKEN), or bind 127.0.0.1")


def restore_state(core, settings) -> list[str] | None:
    """Load --state-file if it exists; a corrupt or foreign file raises StateFileError."""
    if not settings.state_file:
        return None
    try:
        return core.persistence.restore(settings.state_file)
    except StateFileError as exc:
        raise StateFileError(f"state file {settings.state_file}: {exc} (the file was left "
                             "untouched; move it away or pass another --state-file)") from None


def start_autosave(core, settings) -> AutoSaver | None:
    if not settings.state_file:
        return None
    return AutoSaver(core.persistence, settings.state_file, settings.state_interval).start()


def startup_lines(settings, restored) -> list[str]:
    lines = []
    if settings.control_token:
        lines.append(f"  control API needs the token: Authorization: Bearer <token> or "
                     f"{TOKEN_HEADER}")
    if not is_loopback(settings.host):
        lines.append(f"  listening on {settings.host}: reachable from other machines")
    if settings.state_file:
        every = (f"every {settings.state_interval:g} s and " if settings.state_interval else "")
        what = (f"restored {', '.join(restored)} from it" if restored is not None
                else "new file")
        lines.append(f"  state    {settings.state_file} ({what}; saved {every}on shutdown)")
    return lines

