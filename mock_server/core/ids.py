"""Random identifiers in the providers' formats."""
from __future__ import annotations

import secrets
import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def base62(length: int) -> str:
    # One urandom read instead of one per character; bytes >= 248 are dropped so that each of
    # the 62 characters stays equally likely (248 = 4 * 62).
    out: list[str] = []
    while len(out) < length:
        out.extend(BASE62[b % 62] for b in secrets.token_bytes(length + 8) if b < 248)
    return "".join(out[:length])


def prefixed(prefix: str, length: int, sep: str = "_") -> str:
    """`prefixed("cks", 21)` -> `cks_Gi6KGJ2zFJo9rq9Ukifwa`."""
    return f"{prefix}{sep}{base62(length)}"
