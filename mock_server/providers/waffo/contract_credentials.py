"""Waffo's credentials for `paymock contract waffo`: the merchant's signing key, where it comes
from (flags, then the environment, then, only against paymock, the TEST-ONLY fixture merchant),
and the catalog paymock ships. Below both contract_support.py and the request-sending halves
(contract_auth.py, contract_ids.py), which all read it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ... import resources
from ..contract_support import Credentials, CredentialsError
from . import auth as waffo_auth

FIXTURE_WAFFO_MERCHANT = "acme"
FIXTURE_WAFFO_STORE_SLUG = "acme-digital"
BUYER_IDENTITY = "contract-kit@example.com"


@dataclass
class WaffoCredentials(Credentials):
    merchant_id: str
    private_key_pem: str = field(repr=False)
    store_id: str | None
    source: str
    environment: str = "test"
    buyer_identity: str = BUYER_IDENTITY

    def secrets(self) -> list[str]:
        return [self.private_key_pem]


def shipped_catalog() -> dict:
    """The TEST-ONLY catalog paymock ships (fixtures/catalog.json)."""
    return json.loads(resources.catalog().read_text(encoding="utf-8"))


def fixture_waffo() -> WaffoCredentials:
    waffo = shipped_catalog()["waffo"]
    merchant = next(m for m in waffo["merchants"] if m["fixture"] == FIXTURE_WAFFO_MERCHANT)
    key = next(k for k in merchant["keys"] if k["environment"] == "test")
    store = next(s for s in waffo["stores"] if s["slug"] == FIXTURE_WAFFO_STORE_SLUG)
    pem = (resources.fixtures() / key["privateKeyFile"]).read_text()
    return WaffoCredentials(merchant["merchantId"], pem, store["id"], "TEST-ONLY fixture merchant acme")


def load_waffo(merchant_id: str | None, private_key_file: str | None, store_id: str | None, env,
               allow_fixture: bool) -> WaffoCredentials:
    merchant_id = merchant_id or env.get("WAFFO_MERCHANT_ID")
    store_id = store_id or env.get("WAFFO_STORE_ID")
    pem, source = None, None
    key_file = private_key_file or env.get("WAFFO_PRIVATE_KEY_FILE")
    if private_key_file:
        source = "--private-key-file"
    elif env.get("WAFFO_PRIVATE_KEY"):
        pem, source = env["WAFFO_PRIVATE_KEY"].replace("\\n", "\n"), "WAFFO_PRIVATE_KEY"
    elif key_file:
        source = "WAFFO_PRIVATE_KEY_FILE"
    if pem is None and key_file:
        try:
            pem = Path(key_file).read_text()
        except OSError as exc:
            raise CredentialsError(f"cannot read the Waffo private key file: {exc.strerror}") from None
    if merchant_id and pem:
        try:
            waffo_auth.sign(pem, "POST", "/", "0", b"")
        except (ValueError, TypeError):
            raise CredentialsError(f"the Waffo private key ({source}) is not a PEM private key") from None
        return WaffoCredentials(merchant_id, pem, store_id, f"WAFFO_MERCHANT_ID + {source}")
    if allow_fixture and not merchant_id and not pem:
        creds = fixture_waffo()
        creds.store_id = store_id or creds.store_id
        return creds
    missing = [name for name, value in (("WAFFO_MERCHANT_ID (--merchant-id)", merchant_id),
               ("WAFFO_PRIVATE_KEY or WAFFO_PRIVATE_KEY_FILE (--private-key-file)", pem)) if not value]
    raise CredentialsError("Waffo credentials incomplete: set " + " and ".join(missing))
