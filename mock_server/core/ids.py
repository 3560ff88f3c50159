"""Random identifiers in the providers' formats."""
from __future__ import annotations

import secrets
import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def prefixed(prefix: str, length: int, sep: str = "_") -> str:
    """`prefixed("cks", 21)` -> `cks_Gi6KGJ2zFJo9rq9Ukifwa`."""
    return f"{prefix}{sep}{base62(length)}"
