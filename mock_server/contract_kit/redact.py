"""Keeping a run's secrets out of everything the kit prints or writes: the provider's credentials
(ContractSupport's Credentials.secrets()), the control token, and every token issued on the way.
"""
from __future__ import annotations

import re
import threading


class Redactor:
    """Knows every secret of a run (keys, issued tokens) and scrubs them from any text."""

    MASK = "[REDACTED]"
    # Session tokens (JWTs), whole or cut short by a report's truncation.
    JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}(?:\.\.\.)?")

    def __init__(self, secrets=()):
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < 6:
            return
        with self._lock:
            self._secrets.add(secret)
            # A PEM is also scrubbed line by line (a report might wrap it differently).
            for line in secret.splitlines():
                if len(line.strip()) >= 16 and "-----" not in line:
                    self._secrets.add(line.strip())

    def __call__(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, self.MASK)
        return self.JWT.sub("[REDACTED JWT]", text)
