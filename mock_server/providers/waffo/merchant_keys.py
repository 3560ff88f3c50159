"""Key pairs and merchant ids for Waffo merchants made up on the spot (a test's own merchant,
providers/waffo/merchant_handle.py): a fresh RSA-2048 key pair, as a Waffo merchant generates in
the dashboard, and a random `MER_` id of the form the SDK accepts.

Generating an RSA-2048 key costs 15 to 250 ms of CPU (50 to 100 typical; prime search is luck).
OpenSSL does it without holding the GIL, so `KeyPool` makes the next key in a background thread
while the current test runs: a suite's first Waffo merchant waits for its key, later ones
usually find one ready. Nothing is generated before the first `take()`, so a session that never
asks for a Waffo merchant spends nothing, and no key is ever handed out twice.
"""
from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ID_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase  # base62
KEY_BITS = 2048


def new_merchant_id() -> str:
    """`MER_` and 22 random base62 characters (what /_mock/waffo/merchants and the SDK accept)."""
    return "MER_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(22))


@dataclass(frozen=True)
class KeyPair:
    private_pem: str  # PKCS#8 PEM, what @waffo/pancake-ts takes as `privateKey`
    public_pem: str   # SPKI PEM, what the merchant registers with Waffo

    def __repr__(self) -> str:  # a test-only key, but still no reason to print it in a report
        return "KeyPair(<RSA-2048>)"


def new_key_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return KeyPair(private_pem, public_pem)


class KeyPool:
    """Fresh key pairs, up to `size` of them made ahead in a background thread once the first
    one is taken. Each pair is handed out once."""

    def __init__(self, size: int = 2, make=new_key_pair):
        self.size = size
        self._make = make
        self._ready: list[KeyPair] = []
        self._lock = threading.Lock()
        self._filling = False

    def take(self) -> KeyPair:
        with self._lock:
            pair = self._ready.pop() if self._ready else None
        if pair is None:
            pair = self._make()  # nothing ready (the first key, or a burst): make it here
        self._refill()
        return pair

    def ready(self) -> int:
        """How many pairs wait to be taken."""
        return len(self._ready)

    def _refill(self) -> None:
        with self._lock:
            if self._filling or len(self._ready) >= self.size or self.size <= 0:
                return
            self._filling = True
        # A daemon thread that ends once the pool is full: a session that stops asking leaves
        # nothing running, and an interpreter exiting mid-key does not wait for it.
        threading.Thread(target=self._fill, name="paymock-waffo-keys", daemon=True).start()

    def _fill(self) -> None:
        while True:
            with self._lock:  # the check and the flag under one lock: a take() in between
                if len(self._ready) >= self.size:  # either sees us filling or starts a filler
                    self._filling = False
                    return
            try:
                pair = self._make()
            except BaseException:
                with self._lock:
                    self._filling = False
                raise
            with self._lock:
                self._ready.append(pair)


#: The process's pool (the pytest plugin's tests, `testing.Paymock` outside pytest).
POOL = KeyPool()
