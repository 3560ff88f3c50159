"""The dashboard's pages at /_mock/ui: thin routes that read what browse.py gathers and render it.

Every change a page makes goes through the control API itself (ui.js sends it, with the
session's CSRF token): the dashboard is one more client of the one model, like the CLI and the
pytest plugin. Pages are rendered on the server with Jinja's escaping; the live panels fetch
fragments of these same templates.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, make_response, redirect, render_template, request

from ... import __version__
from ...core import cards
from ...core.fault_actions import PRESETS
from . import browse
from .gate import SESSION_ENV, UI
from .session import COOKIE, CSRF_FIELD

bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")
DELIVERY_STATUSES = ("pending", "held", "delivered", "failed")
LIVE_JOURNAL = 100  # journal entries a live panel shows
# What "decline" offers: the reasons the declining test cards give, in the cards' order.
DECLINE_REASONS = tuple(dict.fromkeys(
    (card.reason.lower(), card.label) for card in cards.CARDS.values()
    if card.outcome == cards.DECLINE and card.reason))


def _core():
    return current_app.extensions["paymock"]


def _outbox():
    return current_app.extensions.get("paymock.webhooks")


def _keys():
    return current_app.extensions["paymock.ui_keys"]


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


@bp.before_request
def _session():
    """Every page knows its session (the gate read it) and a nonce for its one script; a visitor
    without a session gets one (nothing to sign in to when no control token is set)."""
    g.csp_nonce = secrets.token_urlsafe(16)
    g.ui_session = request.environ.get(SESSION_ENV)
    g.new_cookie = None
    if g.ui_session is None:
        g.new_cookie = _keys().new_cookie(signed_in=False)
        g.ui_session = _keys().session(g.new_cookie)


@bp.after_request
def _headers(response):
    nonce = getattr(g, "csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    if getattr(g, "new_cookie", None):
        _set_cookie(response, g.new_cookie)
    return response


def _set_cookie(response, value: str) -> None:
    response.set_cookie(COOKIE, value, path="/_mock", httponly=True, samesite="Strict",
                        secure=request.scheme == "https")


@bp.context_processor
def _common():
    core = _core()
    return {"csp_nonce": g.csp_nonce, "csrf": _keys().csrf_token(g.ui_session),
            "csrf_field": CSRF_FIELD, "clock": core.clock.describe(), "version": __version__,
            "signed_in": g.ui_session.signed_in, "needs_sign_in": _keys().needs_sign_in,
            "may_read": _keys().may_read(g.ui_session),
            "ui": UI, "kind_title": browse.kind_title}


# -- signing in -----------------------------------------------------------------------------------
@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    keys = _keys()
    target = _local(request.values.get("next", UI))
    if not keys.needs_sign_in:
        return redirect(target, 303)
    error = None
    if request.method == "POST":
        token = current_app.extensions["paymock.settings"].control_token or ""
        if secrets.compare_digest(request.form.get("token", "").encode(), token.encode()):
            response = redirect(target, 303)
            # the same session id, so the page's CSRF token stays valid
            g.new_cookie = None
            _set_cookie(response, keys.new_cookie(signed_in=True, session_id=g.ui_session.id))
            return response
        error = "That is not this server's control token."
    status = 401 if error else 200
    return render_template("ui/sign_in.html", title="Sign in", next=target, error=error), status


@bp.post("/sign-out")
def sign_out():
    response = redirect(f"{UI}/sign-in" if _keys().needs_sign_in else UI, 303)
    g.new_cookie = None
    response.delete_cookie(COOKIE, path="/_mock")
    return response


def _local(target: str) -> str:
    """Only a path of this dashboard: a sign-in link may not send anyone elsewhere."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(UI) or "\\" in target:
        return UI
    return target


# -- pages -----------------------------------------------------------------------------------
@bp.get("")
@bp.get("/")
def overview():
    core = _core()
    outbox = _outbox()
    statuses = outbox.status_counts() if outbox is not None else {}
    return render_template(
        "ui/overview.html", title="Overview",
        namespaces=browse.namespaces(core.store, current_app.extensions["paymock.providers"]),
        deliveries=statuses, rules=[rule.to_dict() for rule in core.faults.rules()])


@bp.get("/find")
def find():
    """Go to the object an id names, in whichever namespace holds it."""
    core = _core()
    wanted = request.args.get("id", "").strip()
    for name in core.store.holding(wanted):
        ns = core.store.find(name)
        kinds = ns.kinds_of(wanted) if ns is not None else []
        if kinds:
            return redirect(f"{UI}/ns/{name}/{kinds[0]}/{wanted}", 303)
    return render_template("ui/not_found.html", title="Not found", wanted=wanted), 404


@bp.get("/ns/<namespace>")
def namespace(namespace: str):
    core = _core()
    ns = core.store.find(namespace)
    if ns is None:
        return render_template("ui/not_found.html", title="Not found", wanted=namespace), 404
    kinds = browse.ordered_kinds(ns.counts())
    kind = request.args.get("kind") or (kinds[0][0] if kinds else "")
    listing = browse.objects(ns, kind, request.args.get("q", "").strip(), _page_number(),
                             core.clock.now())
    provider = namespace.split(":", 1)[0]
    providers = {p.name: p for p in current_app.extensions["paymock.providers"]}
    label = providers[provider].namespace_label(namespace) if provider in providers else None
    events = core.triggers.events(provider) if provider in core.triggers.providers() else []
    return render_template("ui/namespace.html", title=label or namespace, namespace=namespace,
                           label=label, provider=provider, kinds=kinds, listing=listing,
                           events=events)


@bp.get("/ns/<namespace>/<kind>/<obj_id>")
def object_page(namespace: str, kind: str, obj_id: str):
    core = _core()
    ns = core.store.find(namespace)
    found = browse.detail(ns, kind, obj_id, _outbox(), core.journal, core.clock.now()) \
        if ns is not None else None
    if found is None:
        return render_template("ui/not_found.html", title="Not found", wanted=obj_id), 404
    return render_template("ui/object.html", title=obj_id, namespace=namespace, item=found,
                           decline_reasons=DECLINE_REASONS)


@bp.get("/webhooks")
def webhooks():
    outbox = _outbox()
    if outbox is None:
        abort(404)
    args = request.args
    listing = browse.deliveries(outbox, args.get("namespace"), args.get("status"),
                                args.get("q", "").strip(), _page_number())
    return render_template("ui/webhooks.html", title="Webhooks", listing=listing,
                           statuses=DELIVERY_STATUSES, endpoints=list(outbox.endpoints.values()),
                           namespaces=_core().store.names(), args=args)


@bp.get("/webhooks/<delivery_id>")
def delivery(delivery_id: str):
    outbox = _outbox()
    found = outbox.delivery(delivery_id) if outbox is not None else None
    if found is None:
        return render_template("ui/not_found.html", title="Not found", wanted=delivery_id), 404
    return render_template("ui/delivery.html", title=delivery_id, d=found)


@bp.get("/faults")
def faults():
    core = _core()
    return render_template("ui/faults.html", title="Faults",
                           rules=[rule.to_dict() for rule in core.faults.rules()],
                           presets=sorted(PRESETS), namespaces=core.store.names(),
                           providers=[p.name for p in current_app.extensions["paymock.providers"]])


@bp.get("/clock")
def clock():
    return render_template("ui/clock.html", title="Clock")


@bp.get("/journal")
def journal():
    return render_template("ui/journal.html", title="Journal",
                           namespace=request.args.get("namespace", ""),
                           namespaces=_core().store.names())


# -- live fragments (polled by ui.js) --------------------------------------------------------------
@bp.get("/live/journal")
def live_journal():
    namespace = request.args.get("namespace") or None
    entries = _core().journal.entries(namespace, LIVE_JOURNAL)
    entries.reverse()
    return _fragment("ui/_journal_rows.html", entries=entries)


@bp.get("/live/deliveries")
def live_deliveries():
    outbox = _outbox()
    args = request.args
    listing = browse.deliveries(outbox, args.get("namespace"), args.get("status"),
                                args.get("q", "").strip(), _page_number())
    return _fragment("ui/_delivery_rows.html", listing=listing)


@bp.get("/live/clock")
def live_clock():
    return _fragment("ui/_clock.html")


FRAGMENT_HEADER = "X-Paymock-Fragment"  # ui.js takes a live panel's HTML only with it


def _fragment(template: str, **context):
    response = make_response(render_template(template, **context))
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers[FRAGMENT_HEADER] = "1"
    return response
