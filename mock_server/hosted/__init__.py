"""Hosted checkout pages (Dodo, Waffo) and the fake PSP payment page, server-rendered.

No JavaScript and no external assets: plain forms, 303 redirects, CSS inline in the templates,
Jinja autoescaping on every value. Every page carries a strict Content-Security-Policy; form-action
allows http(s) because a form's answer redirects the buyer to the merchant's return URL.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.exceptions import HTTPException

bp = Blueprint("hosted", __name__, template_folder="templates")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "form-action 'self' http: https:; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@bp.after_request
def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


@bp.errorhandler(Exception)
def _unexpected(exc):
    # A buyer sees a page, never a traceback or a JSON body; details go to the server log.
    if isinstance(exc, HTTPException):
        return exc
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return render_template("message.html", title="Error", theme="system",
                           heading="Something went wrong",
                           message="The checkout hit an unexpected error. Try again."), 500


from . import dodo, psp, waffo  # noqa: E402,F401  (routes register themselves on bp)
