"""The fake PSP payment page every provider's checkout hands buyers to, and the layout all hosted
pages share (each provider's own checkout pages live in providers/<name>/hosted.py).

No JavaScript and no external assets: plain forms, 303 redirects, CSS inline in the templates,
Jinja autoescaping on every value. Every page carries a strict Content-Security-Policy; form-action
allows http(s) because a form's answer redirects the buyer to the merchant's return URL.
"""
from __future__ import annotations

from .pages import blueprint

bp = blueprint("hosted", __name__)

from . import psp  # noqa: E402,F401  (routes register themselves on bp)
from . import home  # noqa: E402

home.register(bp)
