"""Random identifiers in the providers' formats."""
from __future__ import annotations

import os
import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
# byte -> its base62 character; bytes >= 248 are deleted, so each of the 62 characters stays
# equally likely (248 = 4 * 62). One urandom read and one C-level translate per id.
_TABLE = bytes(ord(BASE62[b % 62]) for b in range(248)) + bytes(8)
_DROP = bytes(range(248, 256))


def base62(length: int) -> str:
    out = b""
    while len(out) < length:
        out += os.urandom(length + 8).translate(_TABLE, _DROP)
    return out[:length].decode("ascii")


def prefixed(prefix: str, length: int, sep: str = "_") -> str:
    """`prefixed("cks", 21)` -> `cks_Gi6KGJ2zFJo9rq9Ukifwa`."""
    return f"{prefix}{sep}{base62(length)}"
