"""Random identifiers in the providers' formats."""
from __future__ import annotations

import os
import string
import threading

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
# byte -> its base62 character; bytes >= 248 are deleted, so each of the 62 characters stays
# equally likely (248 = 4 * 62). One urandom read and one C-level translate per id.
_TABLE = bytes(ord(BASE62[b % 62]) for b in range(248)) + bytes(8)
_DROP = bytes(range(248, 256))


_pool = b""
_taken = 0  # characters of _pool already handed out (slicing off the rest would copy it)
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    global _pool, _taken
    _pool, _taken = b"", 0  # a forked child must not hand out its parent's ids


os.register_at_fork(after_in_child=_forget_pool)


def base62(length: int) -> str:
    # Characters come from a pool refilled 4 KB at a time: one getrandom call per ~150 ids.
    global _pool, _taken
    with _pool_lock:
        if len(_pool) - _taken < length:
            _pool = _pool[_taken:]
            while len(_pool) < length:
                _pool += os.urandom(4096).translate(_TABLE, _DROP)
            _taken = 0
        start = _taken
        _taken += length
        return _pool[start:_taken].decode("ascii")


def prefixed(prefix: str, length: int, sep: str = "_") -> str:
    """`prefixed("cks", 21)` -> `cks_Gi6KGJ2zFJo9rq9Ukifwa`."""
    return f"{prefix}{sep}{base62(length)}"
