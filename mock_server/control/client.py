"""A small requests-based client for the /_mock control API.

    from mock_server.control import Client
    mock = Client("http://127.0.0.1:8787")
    mock.clock.advance(minutes=46)
    mock.reset()
"""
from __future__ import annotations

import os

import requests

from ..core.http import credential_namespace


class ControlAPIError(RuntimeError):
    pass


class _Clock:
    def __init__(self, client: Client):
        self._client = client

    def get(self) -> dict:
        return self._client._call("GET", "/clock")

    def freeze(self, at: float | None = None) -> dict:
        return self._client._call("POST", "/clock/freeze", {} if at is None else {"at": at})

    def resume(self) -> dict:
        return self._client._call("POST", "/clock/resume")

    def reset(self) -> dict:
        return self._client._call("POST", "/clock/reset")

    def advance(self, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0) -> dict:
        total = seconds + 60 * minutes + 3600 * hours + 86400 * days
        return self._client._call("POST", "/clock/advance", {"seconds": total})


class _Faults:
    def __init__(self, client: Client):
        self._client = client

    def add(self, rule: dict | None = None, **fields) -> dict:
        """Add one rule (see README, "Fault injection"); returns it with its id."""
        return self._client._call("POST", "/faults", {**(rule or {}), **fields})["rules"][0]

    def list(self) -> list[dict]:
        return self._client._call("GET", "/faults")["rules"]

    def get(self, rule_id: str) -> dict:
        return next(r for r in self.list() if r["id"] == rule_id)

    def switch(self, rule_id: str, enabled: bool) -> dict:
        """Switch a rule off (kept with its counts, never matched) or back on; returns it."""
        return self._client._call("PATCH", f"/faults/{rule_id}", {"enabled": enabled})

    def delete(self, rule_id: str) -> None:
        self._client._call("DELETE", f"/faults/{rule_id}")

    def reset(self) -> int:
        return self._client._call("DELETE", "/faults")["deleted"]


class _Payments:
    def __init__(self, client: Client):
        self._client = client

    def outcome(self, obj_id: str, outcome: str = "paid", reason: str | None = None,
                namespace: str | None = None, customer: dict | None = None) -> dict:
        """Drive a payment without a browser. `obj_id`: a payment id, or the id of what a
        provider's payment is for (a checkout session, an order); `outcome`: paid, declined,
        3ds_required, 3ds_passed, 3ds_failed,
        processing, abandoned or cancelled; `reason`: insufficient_funds, card_declined, ..."""
        body = {"outcome": outcome}
        body.update({k: v for k, v in (("reason", reason), ("namespace", namespace),
                                       ("customer", customer)) if v is not None})
        return self._client._call("POST", f"/payments/{obj_id}/outcome", body)["payment"]

    def get(self, obj_id: str) -> dict:
        return self._client._call("GET", f"/payments/{obj_id}")["payment"]

    def list(self, namespace: str | None = None) -> list[dict]:
        return self._client._call("GET", "/payments",
                                  params={"namespace": namespace} if namespace else None)["payments"]

    def cards(self) -> dict:
        return self._client._call("GET", "/cards")


class _Webhooks:
    def __init__(self, client: Client):
        self._client = client

    def add_endpoint(self, url: str, namespace: str | None = None, provider: str | None = None,
                     events: list | None = None, secret: str | None = None) -> dict:
        body = {"url": url}
        body.update({k: v for k, v in (("namespace", namespace), ("provider", provider),
                                       ("events", events), ("secret", secret)) if v is not None})
        return self._client._call("POST", "/webhooks/endpoints", body)

    def endpoints(self, namespace: str | None = None) -> list[dict]:
        return self._client._call("GET", "/webhooks/endpoints",
                                  params={"namespace": namespace} if namespace else None)["endpoints"]

    def delete_endpoint(self, endpoint_id: str) -> None:
        self._client._call("DELETE", f"/webhooks/endpoints/{endpoint_id}")

    def delete_endpoints(self, namespace: str | None = None) -> int:
        """Remove every endpoint (of `namespace`); how many went."""
        return self._client._call("DELETE", "/webhooks/endpoints",
                                  params={"namespace": namespace} if namespace else None)["deleted"]

    def rotate_secret(self, endpoint_id: str, secret: str | None = None,
                      grace_seconds: float | None = None) -> dict:
        """Give an endpoint a new signing secret (random unless given); the old one still signs
        beside it for `grace_seconds` of mock time (default 24 h). Returns the endpoint with
        its new `secret`."""
        body = {k: v for k, v in (("secret", secret), ("grace_seconds", grace_seconds))
                if v is not None}
        return self._client._call("POST", f"/webhooks/endpoints/{endpoint_id}/rotate-secret", body)

    def deliveries(self, namespace: str | None = None, status: str | None = None,
                   type: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("namespace", namespace), ("status", status), ("type", type)) if v}
        return self._client._call("GET", "/webhooks/deliveries", params=params)["deliveries"]

    def delivery(self, delivery_id: str) -> dict:
        return self._client._call("GET", f"/webhooks/deliveries/{delivery_id}")

    def redeliver(self, delivery_id: str) -> dict:
        return self._client._call("POST", f"/webhooks/deliveries/{delivery_id}/redeliver")

    def flush(self, wait: float = 10) -> dict:
        """Run every pending retry now and wait until the outbox is idle."""
        return self._client._call("POST", "/webhooks/flush", {"wait": wait})

    def events(self, namespace: str | None = None) -> list[dict]:
        return self._client._call("GET", "/webhooks/events",
                                  params={"namespace": namespace} if namespace else None)["events"]

    # What receivers verify webhooks with. `provider` may be left out while only one provider
    # signs that way (the server says which do when it is not).
    def secret(self, provider: str | None = None) -> str:
        """The shared secret `provider` signs its webhooks with."""
        return self._client._call("GET", "/webhooks/secret",
                                  params={"provider": provider} if provider else None)["secret"]

    def set_secret(self, secret: str, provider: str | None = None) -> str:
        body = {"secret": secret, **({"provider": provider} if provider else {})}
        return self._client._call("POST", "/webhooks/secret", body)["secret"]

    def public_key(self, provider: str | None = None) -> str:
        """The public key (PEM) that verifies `provider`'s webhook signatures."""
        return self._client._text("/webhooks/public-key",
                                  params={"provider": provider} if provider else None)


class _Disputes:
    """Dodo disputes, which only the card network opens and moves (/_mock/dodo/disputes)."""

    ACTIONS = ("challenge", "accept", "cancel", "expire", "win", "lose")

    def __init__(self, client: Client):
        self._client = client

    def open(self, payment_id: str, amount: int | None = None, reason: str | None = None,
             stage: str | None = None, remarks: str | None = None,
             namespace: str | None = None) -> dict:
        """The customer disputes a succeeded payment (`amount` in minor units, default all of
        it; `stage` pre_dispute, dispute or pre_arbitration); returns the dispute (dispute.opened
        goes out)."""
        body = {"payment_id": payment_id}
        body.update({k: v for k, v in (("amount", amount), ("reason", reason), ("stage", stage),
                                       ("remarks", remarks), ("namespace", namespace))
                     if v is not None})
        return self._client._call("POST", "/dodo/disputes", body)["dispute"]

    def move(self, dispute_id: str, action: str, stage: str | None = None,
             remarks: str | None = None, namespace: str | None = None) -> dict:
        """`action`: challenge, accept, cancel or expire (an opened dispute); win or lose (a
        challenged one). Returns the dispute; its dispute.* event goes out."""
        body = {k: v for k, v in (("stage", stage), ("remarks", remarks),
                                  ("namespace", namespace)) if v is not None}
        return self._client._call("POST", f"/dodo/disputes/{dispute_id}/{action}", body)["dispute"]


class _Refunds:
    """How Dodo refunds end (/_mock/dodo/refunds): at once and succeeded unless told."""

    def __init__(self, client: Client):
        self._client = client

    def outcome(self, namespace: str, outcome: str, times: int | None = None) -> dict:
        """The namespace's next refunds (`times` of them, or all) end `outcome`: succeeded,
        failed, or pending / review until `settle`."""
        body = {"namespace": namespace, "outcome": outcome}
        if times is not None:
            body["times"] = times
        return self._client._call("POST", "/dodo/refunds/outcome", body)

    def settle(self, refund_id: str, outcome: str = "succeeded",
               namespace: str | None = None) -> dict:
        """A pending (or review) refund ends: outcome succeeded or failed (refund.succeeded /
        .failed)."""
        action = {"succeeded": "succeed", "failed": "fail"}.get(outcome, outcome)
        body = {"namespace": namespace} if namespace else {}
        return self._client._call("POST", f"/dodo/refunds/{refund_id}/{action}", body)["refund"]


class _EntitlementGrants:
    """How Dodo's entitlement deliveries end (/_mock/dodo/entitlement_grants): automatic ones
    are delivered unless told; account integrations (Discord, GitHub, ...) wait for the
    customer, whom `settle` plays."""

    def __init__(self, client: Client):
        self._client = client

    def outcome(self, namespace: str, outcome: str, times: int | None = None,
                error_code: str | None = None, error_message: str | None = None) -> dict:
        """The namespace's next deliveries (`times` of them, or all) end `outcome`: failed (the
        grant fails, no key is issued: entitlement_grant.failed) or delivered."""
        body = {"namespace": namespace, "outcome": outcome}
        body.update({k: v for k, v in (("times", times), ("error_code", error_code),
                                       ("error_message", error_message)) if v is not None})
        return self._client._call("POST", "/dodo/entitlement_grants/outcome", body)

    def settle(self, grant_id: str, action: str = "deliver", namespace: str | None = None) -> dict:
        """A pending grant of an account integration: the customer connected their account
        (`deliver`: entitlement_grant.delivered) or could not (`fail`); returns the grant."""
        body = {"namespace": namespace} if namespace is not None else {}
        return self._client._call("POST", f"/dodo/entitlement_grants/{grant_id}/{action}",
                                  body)["entitlement_grant"]


class _Payouts:
    """Dodo paying the merchant's balance out (/_mock/dodo/payouts): made and moved here only."""

    ACTIONS = ("hold", "process", "fail", "succeed")

    def __init__(self, client: Client):
        self._client = client

    def balance(self, namespace: str, currency: str | None = None) -> dict:
        """{available, refunds, chargebacks, currency}: what a payout would pay now."""
        params = {"namespace": namespace}
        if currency is not None:
            params["currency"] = currency
        return self._client._call("GET", "/dodo/payouts/balance", params=params)

    def create(self, namespace: str, amount: int | None = None, currency: str | None = None,
               remarks: str | None = None) -> dict:
        """A payout of the namespace's balance in `currency` (default USD), or of `amount` of it
        (minor units); returns the payout (payout.created goes out)."""
        body = {"namespace": namespace}
        body.update({k: v for k, v in (("amount", amount), ("currency", currency),
                                       ("remarks", remarks)) if v is not None})
        return self._client._call("POST", "/dodo/payouts", body)["payout"]

    def move(self, payout_id: str, action: str, remarks: str | None = None,
             namespace: str | None = None) -> dict:
        """`action`: hold (on_hold), process (in_progress), fail (failed), succeed (success);
        returns the payout; its payout.* event goes out."""
        body = {k: v for k, v in (("remarks", remarks), ("namespace", namespace)) if v is not None}
        return self._client._call("POST", f"/dodo/payouts/{payout_id}/{action}", body)["payout"]


class _Credits:
    """Spending a customer's Dodo credits (/_mock/dodo/credits/usage), as metered usage would."""

    def __init__(self, client: Client):
        self._client = client

    def usage(self, namespace: str, customer_id: str, credit_entitlement_id: str,
              units, reason: str | None = None) -> dict:
        """Spend `units` (a number or decimal string) FIFO, the rest as overage when allowed;
        returns {"entries": [CreditLedgerEntry...], "balance": CustomerCreditBalance}."""
        body = {"namespace": namespace, "customer_id": customer_id,
                "credit_entitlement_id": credit_entitlement_id, "units": str(units)}
        if reason is not None:
            body["reason"] = reason
        return self._client._call("POST", "/dodo/credits/usage", body)


class Client:
    def __init__(self, base_url: str = "http://127.0.0.1:8787", session: requests.Session | None = None,
                 timeout: float = 10.0, token: str | None = None):
        """`token`: the server's --control-token (default: PAYMOCK_CONTROL_TOKEN, if set)."""
        self.base_url = base_url.rstrip("/")
        self.http = session or requests.Session()
        self.timeout = timeout
        self.token = token if token is not None else os.environ.get("PAYMOCK_CONTROL_TOKEN") or None
        self.clock = _Clock(self)
        self.faults = _Faults(self)
        self.payments = _Payments(self)
        self.webhooks = _Webhooks(self)
        self.disputes = _Disputes(self)
        self.payouts = _Payouts(self)
        self.entitlement_grants = _EntitlementGrants(self)
        self.refunds = _Refunds(self)
        self.credits = _Credits(self)

    @staticmethod
    def namespace_for(provider: str, credential: str) -> str:
        """The namespace a provider's credential maps to (an API key, a merchant id)."""
        return credential_namespace(provider, credential)

    def _request(self, method: str, path: str, body: dict | None = None,
                 params: dict | None = None) -> requests.Response:
        headers = {"X-Paymock-Control-Token": self.token} if self.token else None
        return self.http.request(method, f"{self.base_url}/_mock{path}", json=body,
                                 params=params, timeout=self.timeout, headers=headers)

    def _call(self, method: str, path: str, body: dict | None = None, params: dict | None = None):
        return self._json(method, path, self._request(method, path, body, params))

    @staticmethod
    def _json(method: str, path: str, response: requests.Response):
        try:
            payload = response.json()
        except ValueError:
            raise ControlAPIError(f"{method} /_mock{path}: HTTP {response.status_code}, not JSON") from None
        if response.status_code >= 400:
            raise ControlAPIError(f"{method} /_mock{path}: {payload.get('error', payload)}")
        return payload

    def _text(self, path: str, params: dict | None = None) -> str:
        """A GET whose answer is not JSON (a PEM key); errors are JSON as ever."""
        response = self._request("GET", path, params=params)
        if response.status_code >= 400:
            self._json("GET", path, response)  # raises ControlAPIError with the server's words
        return response.text

    def health(self) -> dict:
        return self._call("GET", "/health")

    def reset(self, namespace: str | None = None) -> list[str]:
        return self._call("POST", "/reset", {} if namespace is None else {"namespace": namespace})["reset"]

    def state(self, namespace: str | None = None) -> dict:
        return self._call("GET", "/state", params={"namespace": namespace} if namespace else None)

    def journal(self, namespace: str | None = None, limit: int | None = None) -> list[dict]:
        params = {k: v for k, v in (("namespace", namespace), ("limit", limit)) if v is not None}
        return self._call("GET", "/journal", params=params)["entries"]

    def fail(self, operation: str, status: int = 500, times: int | None = 1, **action) -> dict:
        """Make `operation` ("<provider>.<operationId>", or a bare operationId) answer `status`
        (with the provider's documented body) `times` times."""
        rule_fields = {k: action.pop(k) for k in list(action)
                       if k in ("after", "probability", "seed", "namespace", "body_equals",
                                "for_seconds", "method", "path", "id", "description")}
        provider, _, op = operation.rpartition(".")
        rule = {"operation": op, "action": {"status": status, **action}, **rule_fields}
        if provider:
            rule["provider"] = provider
        if times is not None:
            rule["times"] = times
        return self.faults.add(rule)

    def psp_outage(self, seconds: float | None = None, status: int = 503, times: int | None = None) -> dict:
        """Make the mock PSP fail every checkout creation (for `seconds` of mock time, or `times`)."""
        rule = {"provider": "psp", "action": {"status": status}}
        if seconds is not None:
            rule["for_seconds"] = seconds
        if times is not None:
            rule["times"] = times
        return self.faults.add(rule)

    def expire(self, kind: str, obj_id: str, namespace: str | None = None) -> dict:
        """Expire one thing now: kind "session", "order", "token" or "idempotency-key"."""
        return self._call("POST", f"/expire/{kind}/{obj_id}",
                          {"namespace": namespace} if namespace else {})["expired"]

    def pay(self, obj_id: str, outcome: str = "paid", reason: str | None = None, **kwargs) -> dict:
        """Shortcut for `payments.outcome`: `mock.pay(session_id, "declined", "insufficient_funds")`."""
        return self.payments.outcome(obj_id, outcome, reason, **kwargs)

    def triggers(self) -> dict[str, list[str]]:
        """{provider: [event types it can trigger]}."""
        return self._call("GET", "/trigger")["providers"]

    def trigger(self, event: str, provider: str | None = None, namespace: str | None = None,
                **params) -> dict:
        """Make `event` happen with consistent state (POST /_mock/trigger): `trigger(
        "dispute.opened", namespace=ns, payment_id=...)`. Without `provider`, the server takes
        the one that triggers the event, else the namespace's, else the one holding an object
        a parameter names."""
        body = {"event": event, **params}
        if provider is not None:
            body["provider"] = provider
        if namespace is not None:
            body["namespace"] = namespace
        return self._call("POST", "/trigger", body)

    def load_scenario(self, scenario: dict) -> list[dict]:
        return self._call("POST", "/scenario", scenario)["rules"]
