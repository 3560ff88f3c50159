"""The dashboard at /_mock/ui: see and steer what the mock holds, in a browser.

session.py: the signed session cookie and CSRF tokens; gate.py: who may read and act (called by
guards.py for every /_mock request); browse.py: what the pages show, read from the mock's state;
views.py: the pages; templates/ui and static/ (ui.css, ui.js: first-party, no CDN).
"""
from .views import bp

__all__ = ["bp"]
