"""What `paymock contract waffo` needs: Waffo's credentials, where they come from, how requests
carry them (contract_credentials.py, contract_auth.py), the hooks that point generated ids at real ones (contract_ids.py),
and how its webhooks verify.

Credentials, highest first: --merchant-id / --private-key-file / --store-id, the environment
(`WAFFO_MERCHANT_ID` with `WAFFO_PRIVATE_KEY` (PEM text) or `WAFFO_PRIVATE_KEY_FILE`, optional
`WAFFO_STORE_ID`), and, only when the target is paymock, the TEST-ONLY fixture merchant acme.

Safe operations (run against a real API without --allow-writes): every GET, plus
`issueSessionToken`: a short-lived JWT for a buyer; it creates no order, session or customer record
the merchant sees.

This module is imported whenever the provider registers; the request-sending halves
(contract_auth.py, contract_ids.py, which import requests) are imported when a run needs them.
"""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from ..contract_support import (ContractSupport, CredentialOption, RunContext, VerifiedWebhook,
                                WebhookRejected)
from .contract_credentials import WaffoCredentials, fixture_waffo, load_waffo

WEBHOOK_PAST, WEBHOOK_FUTURE = 45 * 60, 60  # seconds a delivery's `t` may be old / ahead


def verify_waffo(headers, body: bytes, public_key_pem: str, now: float | None = None) -> str:
    """`X-Waffo-Signature: t=<unix ms>,v1=<base64 RSA-SHA256 of "{t}.{body}">`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = dict(item.split("=", 1) for item in headers.get("X-Waffo-Signature", "").split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts:
        raise WebhookRejected("X-Waffo-Signature must be t=<ms>,v1=<signature>")
    try:
        age = (now or time.time()) - int(parts["t"]) / 1000
    except ValueError:
        raise WebhookRejected("X-Waffo-Signature t is not a unix time in milliseconds") from None
    if age > WEBHOOK_PAST or age < -WEBHOOK_FUTURE:
        raise WebhookRejected("X-Waffo-Signature t is outside 45 minutes old / 1 minute ahead")
    key = serialization.load_pem_public_key(public_key_pem.encode())
    try:
        key.verify(base64.b64decode(parts["v1"]), f"{parts['t']}.".encode() + body,
                   padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise WebhookRejected("X-Waffo-Signature does not verify with the configured public key") from None
    try:
        return str(json.loads(body).get("id"))
    except (ValueError, AttributeError):
        raise WebhookRejected("body is not a JSON object") from None


class WaffoContractSupport(ContractSupport):
    default_base_url = "https://api.waffo.ai"
    accepted_statuses = ("2xx", "400", "401", "403", "404", "409")
    safe_operations = frozenset({"issueSessionToken"})
    webhook_headers = ("X-Waffo-Signature",)

    def cli_options(self):
        return (CredentialOption("--merchant-id", "Waffo merchant id (default WAFFO_MERCHANT_ID)"),
                CredentialOption("--private-key-file", "PEM private key (default WAFFO_PRIVATE_KEY "
                                 "or WAFFO_PRIVATE_KEY_FILE)", metavar="PATH"),
                CredentialOption("--store-id", "store for session tokens (default WAFFO_STORE_ID)"))

    def env_vars(self):
        return ("WAFFO_MERCHANT_ID", "WAFFO_PRIVATE_KEY", "WAFFO_PRIVATE_KEY_FILE", "WAFFO_STORE_ID")

    def load_credentials(self, values, env, allow_fixture) -> WaffoCredentials:
        return load_waffo(values.get("merchant_id"), values.get("private_key_file"),
                          values.get("store_id"), env, allow_fixture)

    def fixture_credentials(self) -> WaffoCredentials:
        return fixture_waffo()

    def install_auth(self, schema, credentials: WaffoCredentials, run: RunContext):
        """API-key operations signed, customer operations with a session token; returns the
        token issuer (WaffoTokens) that prepare_run uses."""
        from .contract_auth import install_waffo_auth
        return install_waffo_auth(schema, credentials, run.base_url, run.redact, run.on_request)

    def prepare_run(self, schema, credentials: WaffoCredentials, run: RunContext) -> None:
        from .contract_ids import WaffoIds, install_waffo_hooks, waffo_fixture_products

        tokens = run.auth
        if credentials.store_id:
            tokens.current()  # a rejected key stops the run here, not as a run of 401s
        products = waffo_fixture_products() if run.is_mock else {}
        install_waffo_hooks(schema, WaffoIds(tokens, products, run.control, on_request=run.on_request))

    def curl_variables(self):
        return {"authorization": "Bearer $WAFFO_SESSION_TOKEN", "x-signature": "$WAFFO_SIGNATURE",
                "x-timestamp": "$WAFFO_TIMESTAMP"}

    def curl_note(self, path, header_names):
        if "x-signature" not in header_names:
            return None
        return (f"# X-Signature: base64 RSA-SHA256 over 'POST\\n<path below the mount, e.g. "
                f"{path}>\\n$WAFFO_TIMESTAMP\\n<base64 sha256 of the body>'")

    def webhook_key(self, env):
        """The public key: WAFFO_WEBHOOK_PUBLIC_KEY (PEM text) or WAFFO_WEBHOOK_PUBLIC_KEY_FILE."""
        key = env.get("WAFFO_WEBHOOK_PUBLIC_KEY")
        if not key and env.get("WAFFO_WEBHOOK_PUBLIC_KEY_FILE"):
            key = Path(env["WAFFO_WEBHOOK_PUBLIC_KEY_FILE"]).read_text()
        return key or None

    def verify_webhook(self, headers, body, key, now=None) -> VerifiedWebhook:
        if not key:
            raise WebhookRejected("a Waffo delivery, but no WAFFO_WEBHOOK_PUBLIC_KEY is configured")
        delivery = verify_waffo(headers, body, key, now)
        return VerifiedWebhook(delivery, json.loads(body).get("eventType"))
