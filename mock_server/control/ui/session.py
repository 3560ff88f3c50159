"""Who is looking at the dashboard, and whether an action is theirs: a signed session cookie and
the CSRF token bound to it. No Flask here (guards.py and the views call it).

The cookie, `paymock_ui`, is `<session id>.<level>.<signature>`: a random id, `visitor` or
`signed-in` (the control token was given once, on the sign-in page), and an HMAC of both. It is
HttpOnly (no script reads it) and SameSite=Strict (no other site's page sends it), scoped to
/_mock. The dashboard's CSRF token is an HMAC of the session id: a page puts it in a meta tag and
every action the page sends carries it in `X-Paymock-CSRF` (or a `csrf_token` form field). The
signing key is derived from the control token, so a restart with the same token keeps people
signed in and a new token signs everyone out; without a token it is random per process.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

COOKIE = "paymock_ui"
CSRF_HEADER = "X-Paymock-CSRF"
CSRF_FIELD = "csrf_token"
VISITOR, SIGNED_IN = "visitor", "signed-in"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Session:
    id: str
    signed_in: bool


class DashboardKeys:
    def __init__(self, control_token: str | None):
        self.needs_sign_in = bool(control_token)
        seed = control_token.encode() if control_token else secrets.token_bytes(32)
        self._key = hashlib.sha256(b"paymock dashboard\x00" + seed).digest()

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:32]

    def new_cookie(self, signed_in: bool, session_id: str | None = None) -> str:
        """A cookie value for a new session (or the same session, signed in)."""
        session_id = session_id or secrets.token_urlsafe(18)
        level = SIGNED_IN if signed_in else VISITOR
        return f"{session_id}.{level}.{self._sign(f'{session_id}.{level}')}"

    def session(self, cookie: str | None) -> Session | None:
        """The session a cookie stands for, or None (absent, forged, or from another key)."""
        if not cookie or cookie.count(".") != 2:
            return None
        session_id, level, signature = cookie.split(".")
        if level not in (VISITOR, SIGNED_IN) or not hmac.compare_digest(
                signature, self._sign(f"{session_id}.{level}")):
            return None
        return Session(session_id, level == SIGNED_IN)

    def csrf_token(self, session: Session) -> str:
        return self._sign(f"csrf:{session.id}")

    def csrf_ok(self, session: Session, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(presented, self.csrf_token(session))

    def may_read(self, session: Session | None) -> bool:
        """Whether the holder of this session may see what the control API shows."""
        return not self.needs_sign_in or (session is not None and session.signed_in)
