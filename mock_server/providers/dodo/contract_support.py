"""What `paymock contract dodo` needs: Dodo takes `Authorization: Bearer <API key>`
(DODO_PAYMENTS_API_KEY, or --api-key), so this is a BearerTokenSupport plus Dodo's own knowledge:
its statuses for business-rule refusals, its one safe POST, the hooks that swap generated product
ids for the target's products, Standard Webhooks verification, and the vendor spec the contract is
derived from.

Safe operations (run against a real API without --allow-writes): every GET, plus `preview_session`
(POST /checkouts/preview), a price calculation that stores nothing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from collections.abc import MutableMapping

from ..contract_support import (BearerCredentials, BearerTokenSupport, CredentialsError, RunContext,
                                VerifiedWebhook, WebhookRejected)
from . import webhooks

# TEST-ONLY: accepted by a mock the kit starts itself (its API-key allow-list), never by a real API.
FIXTURE_DODO_API_KEY = "sk_test_paymock_contract_kit_TEST_ONLY"
WEBHOOK_TOLERANCE = 300  # seconds: Standard Webhooks receivers refuse timestamps further off


def dodo_products(base_url: str, api_key: str, on_request=None) -> list[dict]:
    """The target's own catalog (GET /products: safe on any account). Doubles as a check of the
    key: a 401 or 403 here stops the run before it starts (every answer would be a 401, which
    the contract documents, and the run would pass without testing anything)."""
    import requests  # not at import time: the provider registers on every `paymock serve`

    if on_request:
        on_request()
    try:
        response = requests.get(f"{base_url}/products", params={"page_size": 50},
                                headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
    except requests.RequestException:
        return []
    if response.status_code in (401, 403):
        raise CredentialsError(f"the target answered {response.status_code} to GET /products "
                               "with this API key: check the key (test-mode keys work only on "
                               "https://test.dodopayments.com)")
    try:
        items = response.json().get("items", []) if response.status_code == 200 else []
    except (ValueError, AttributeError):
        return []
    return [item for item in items if isinstance(item, dict) and item.get("product_id")]


def _phase(case) -> str | None:
    meta = getattr(case, "meta", None)
    return str(meta.phase.name) if meta is not None and meta.phase is not None else None


def _is_positive(case) -> bool:
    meta = getattr(case, "meta", None)
    return meta is None or str(meta.generation.mode) == "positive"


def install_dodo_hooks(schema, products: list[dict]) -> None:
    """Generated product ids never exist: swap the ids in a cart for the target's products.

    In the stateful phase a positive create-session body becomes a minimal valid one (one one-time
    product, quantity 1, plus any generated return_url/metadata), so that flows reach a 200 and
    the links behind it run; values a link supplies (the customer) are merged afterwards."""
    ids = [p["product_id"] for p in products]
    one_time = [p["product_id"] for p in products if not p.get("is_recurring")] or ids
    if not ids:
        return

    def map_case(context, case):
        body = case.body
        if not isinstance(body, MutableMapping) or not isinstance(body.get("product_cart"), list):
            return case
        rng = random.Random(len(body["product_cart"]))
        if _phase(case) == "stateful" and _is_positive(case):
            kept = {key: body[key] for key in ("return_url", "metadata") if key in body}
            body.clear()
            body.update(kept, product_cart=[{"product_id": rng.choice(one_time), "quantity": 1}])
            return case
        for item in body["product_cart"]:
            if isinstance(item, MutableMapping) and isinstance(item.get("product_id"), str):
                item["product_id"] = rng.choice(ids)
        return case

    schema.hook(map_case)


# -- webhooks: Standard Webhooks --------------------------------------------------------------------
# `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
# "{id}.{timestamp}.{body}">`, key = the base64 part of the `whsec_` secret.

def dodo_sign(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_dodo(headers, body: bytes, secret: str, now: float | None = None) -> str:
    msg_id, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature", "")
    if not msg_id or not stamp or not signatures:
        raise WebhookRejected("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        if abs((now or time.time()) - int(stamp)) > WEBHOOK_TOLERANCE:
            raise WebhookRejected("webhook-timestamp is more than 5 minutes off")
    except ValueError:
        raise WebhookRejected("webhook-timestamp is not a unix time") from None
    expected = dodo_sign(secret, msg_id, stamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures.split()):
        raise WebhookRejected("webhook-signature does not match")
    return msg_id


class DodoContractSupport(BearerTokenSupport):
    token_env = "DODO_PAYMENTS_API_KEY"
    fixture_token = FIXTURE_DODO_API_KEY
    key_name = "Dodo API key"
    key_hint = "use a test-mode key: https://test.dodopayments.com"
    default_base_url = "https://test.dodopayments.com"
    accepted_statuses = ("2xx", "401", "403", "404", "409", "422", "429")
    safe_operations = frozenset({"preview_session"})
    webhook_headers = ("webhook-id", "webhook-timestamp", "webhook-signature")
    derivation_module = "mock_server.providers.dodo.contract_derivation"
    regenerate_command = "python tools/derive_dodo_contract.py VENDOR_SPEC"

    def mock_settings(self) -> dict:
        return {"dodo_api_keys": FIXTURE_DODO_API_KEY}

    def prepare_run(self, schema, credentials: BearerCredentials, run: RunContext) -> None:
        install_dodo_hooks(schema, dodo_products(run.base_url, credentials.token, run.on_request))

    def webhook_key(self, env) -> str:
        """DODO_PAYMENTS_WEBHOOK_KEY, else the TEST-ONLY secret paymock signs with by default."""
        return env.get("DODO_PAYMENTS_WEBHOOK_KEY") or webhooks.DEFAULT_SECRET

    def verify_webhook(self, headers, body, key, now=None) -> VerifiedWebhook:
        delivery = verify_dodo(headers, body, key or webhooks.DEFAULT_SECRET, now)
        try:
            event_type = json.loads(body).get("type")
        except (ValueError, AttributeError):
            raise WebhookRejected("body is not a JSON object") from None
        return VerifiedWebhook(delivery, event_type)
