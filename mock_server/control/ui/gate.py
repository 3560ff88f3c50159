"""The dashboard's part of the control API's guard (guards.py calls `refusal` for every /_mock
request that did not present the control token): who may read, and which actions carry their
CSRF token. Origin and Host were checked before.

- /_mock/ui/static/ and the sign-in page are open (they show nothing of the mock's state).
- Other dashboard pages need a session that may read (signed in, when a control token is set):
  a browser without one is sent to the sign-in page.
- A control API call made with the dashboard's cookie (the page's scripts) reads with the
  session's rights, and every call that changes something must carry the session's CSRF token.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import redirect

from ...core.http import json_response
from .session import COOKIE, CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, DashboardKeys

UI = "/_mock/ui"
OPEN = (UI + "/static/", UI + "/sign-in")
SESSION_ENV = "paymock.ui_session"


def refusal(req, keys: DashboardKeys):
    """A response refusing the request, or None to let it through."""
    path = req.path
    session = keys.session(req.cookies.get(COOKIE))
    req.environ[SESSION_ENV] = session
    in_ui = path == UI or path.startswith(UI + "/")
    if in_ui and path.startswith(OPEN):
        return _csrf_refusal(req, keys, session) if path.startswith(OPEN[1]) else None
    if in_ui:
        if not keys.may_read(session):
            if req.method in SAFE_METHODS:
                return redirect(f"{UI}/sign-in?next={quote(req.full_path.rstrip('?'), safe='/')}",
                                303)
            return _unauthorized()
        return _csrf_refusal(req, keys, session)
    if session is None:
        return _unauthorized() if keys.needs_sign_in else None
    if not keys.may_read(session):
        return _unauthorized()
    return _csrf_refusal(req, keys, session)


def _csrf_refusal(req, keys, session):
    if req.method in SAFE_METHODS:
        return None
    presented = req.headers.get(CSRF_HEADER)
    if presented is None and req.mimetype == "application/x-www-form-urlencoded":
        presented = req.form.get(CSRF_FIELD)
    if session is None or not keys.csrf_ok(session, presented):
        return json_response({"error": "this action needs the dashboard's CSRF token (the page's "
                                       f"{CSRF_HEADER} header): reload the page and try again"},
                             403)
    return None


def _unauthorized():
    return json_response(
        {"error": "the control API needs the server's control token: send "
                  "Authorization: Bearer <token> or X-Paymock-Control-Token: <token>, or sign "
                  f"in to the dashboard at {UI}/sign-in"},
        401, {"WWW-Authenticate": 'Bearer realm="paymock control"'})
