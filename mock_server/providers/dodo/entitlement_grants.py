"""Entitlement grants of License Key entitlements: how Dodo delivers an issued license key.

Dodo now issues every license key through a License Key entitlement attached to the product (the
older `license_key_enabled` products were migrated to one, D:features/license-keys). Each key
delivered is a grant (EntitlementGrantResponse, `integration_type: license_key`) whose
`license_key` part shows the key, its expiry and activations; the grant's lifecycle sends
`entitlement_grant.created` and `.delivered` (automatic fulfilment delivers at once, so both carry
the delivered grant, as the vendor's example of `.created` does), `.revoked` when the key is
disabled (`revocation_reason: license_key_disabled`) and `.delivered` again when it is enabled.

Automatic fulfilment of a generated key has no reason of its own to fail, so a delivery fails only
when told to (`POST /_mock/dodo/entitlement_grants/outcome`, like the refunds' outcome): the
namespace's next deliveries (`times` of them, or all until told otherwise) fail: the grant is made
`Pending` (.created) then `Failed` with `error_code` / `error_message` (.failed), and no key is
issued (delivering it is what failed; no license_key.created goes out).

Only what license keys need is modelled: no grants API, no other integrations.
"""
from __future__ import annotations

from ...core import ids
from ...core.clock import iso
from ...core.store import Namespace

GRANT = "entitlement_grant"
DELIVERED, REVOKED = "Delivered", "Revoked"  # EntitlementGrantStatus (spec and SDK casing)
PENDING, FAILED = "Pending", "Failed"
OUTCOME = "entitlement_outcome"  # the namespace's scripted delivery outcome, id "next"
FAILURE = {"error_code": "DELIVERY_FAILED",
           "error_message": "The license key could not be delivered"}


class EntitlementGrants:
    def __init__(self, backend):
        self.backend = backend  # clock, events, business_id

    def deliver(self, ns: Namespace, lic: dict, entitlement_id: str) -> dict:
        """A delivered grant of the key `lic` (just issued); sends .created and .delivered."""
        now = iso(self.backend.clock.now())
        grant = {
            "id": ids.prefixed("ent_grant", 21), "business_id": lic["business_id"],
            "brand_id": lic["brand_id"], "entitlement_id": entitlement_id,
            "customer_id": lic["customer_id"], "license_key_id": lic["id"],
            "payment_id": lic["payment_id"], "subscription_id": lic["subscription_id"],
            "status": DELIVERED, "created_at": now, "updated_at": now, "delivered_at": now,
            "revoked_at": None, "revocation_reason": None, "metadata": {},
        }
        ns.put(GRANT, grant["id"], grant)
        for event in ("entitlement_grant.created", "entitlement_grant.delivered"):
            self._emit(ns, event, grant, lic)
        return grant

    # -- scripted failures ---------------------------------------------------------------------
    def script_outcome(self, ns: Namespace, outcome: str, times: int | None = None,
                       error_code: str | None = None, error_message: str | None = None) -> dict:
        """The namespace's next deliveries (`times`, or all) end `outcome`: failed or delivered."""
        if outcome not in ("failed", "delivered"):
            raise ValueError(f"outcome must be failed or delivered, got {outcome!r}")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)
                                  or times < 1):
            raise ValueError(f"times must be a positive integer, got {times!r}")
        for name, value in (("error_code", error_code), ("error_message", error_message)):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        scripted = {"outcome": outcome, "times": times,
                    "error_code": error_code or FAILURE["error_code"],
                    "error_message": error_message or FAILURE["error_message"]}
        if outcome == "delivered":
            ns.delete(OUTCOME, "next")
        else:
            ns.put(OUTCOME, "next", scripted)
        return scripted

    def take_failure(self, ns: Namespace) -> dict | None:
        """The failure the next delivery must end with, if one is scripted (counted off)."""
        with ns.lock:
            scripted = ns.get(OUTCOME, "next")
            if scripted is None:
                return None
            if scripted["times"] is not None:
                scripted["times"] -= 1
                if scripted["times"] <= 0:
                    ns.delete(OUTCOME, "next")
                else:
                    ns.save(OUTCOME, "next", scripted)
            return scripted

    def fail(self, ns: Namespace, failure: dict, entitlement_id: str, *, business_id: str,
             brand_id: str, customer_id: str, payment_id: str | None,
             subscription_id: str | None) -> dict:
        """A grant whose delivery failed (no key was issued): .created, then .failed."""
        now = iso(self.backend.clock.now())
        grant = {
            "id": ids.prefixed("ent_grant", 21), "business_id": business_id,
            "brand_id": brand_id, "entitlement_id": entitlement_id, "customer_id": customer_id,
            "license_key_id": None, "payment_id": payment_id, "subscription_id": subscription_id,
            "status": PENDING, "created_at": now, "updated_at": now, "delivered_at": None,
            "revoked_at": None, "revocation_reason": None, "metadata": {},
            "error_code": None, "error_message": None,
        }
        ns.put(GRANT, grant["id"], grant)
        self._emit(ns, "entitlement_grant.created", grant, None)
        grant.update(status=FAILED, error_code=failure["error_code"],
                     error_message=failure["error_message"])
        ns.save(GRANT, grant["id"], grant)
        self._emit(ns, "entitlement_grant.failed", grant, None)
        return grant

    def revoke(self, ns: Namespace, lic: dict, reason: str) -> None:
        grant = ns.get(GRANT, lic["grant_id"])
        if grant is None or grant["status"] == REVOKED:
            return
        now = iso(self.backend.clock.now())
        grant.update(status=REVOKED, revoked_at=now, updated_at=now, revocation_reason=reason)
        ns.save(GRANT, grant["id"], grant)
        self._emit(ns, "entitlement_grant.revoked", grant, lic)

    def redeliver(self, ns: Namespace, lic: dict) -> None:
        """The key was enabled again: its grant is delivered again."""
        grant = ns.get(GRANT, lic["grant_id"])
        if grant is None or grant["status"] != REVOKED:
            return
        now = iso(self.backend.clock.now())
        grant.update(status=DELIVERED, delivered_at=now, updated_at=now, revoked_at=None,
                     revocation_reason=None)
        ns.save(GRANT, grant["id"], grant)
        self._emit(ns, "entitlement_grant.delivered", grant, lic)

    @staticmethod
    def render(grant: dict, lic: dict | None) -> dict:
        """EntitlementGrantResponse, with the key's current state in `license_key` (null when
        its delivery failed)."""
        shown = {name: grant[name] for name in (
            "id", "business_id", "brand_id", "entitlement_id", "customer_id", "payment_id",
            "subscription_id", "status", "created_at", "updated_at", "delivered_at", "revoked_at",
            "revocation_reason", "metadata")}
        shown.update(
            integration_type="license_key", error_code=grant.get("error_code"),
            error_message=grant.get("error_message"),
            digital_product_delivery=None, feature=None, oauth_url=None, oauth_expires_at=None,
            license_key=None if lic is None else {
                "key": lic["key"], "activations_used": lic["instances_count"],
                "activations_limit": lic["activations_limit"], "expires_at": lic["expires_at"]})
        return shown

    def _emit(self, ns: Namespace, event: str, grant: dict, lic: dict | None) -> None:
        self.backend.events.emit(ns, event, "EntitlementGrant", self.render(grant, lic))
