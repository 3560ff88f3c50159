"""Entitlement grants of License Key entitlements: how Dodo delivers an issued license key.

Dodo now issues every license key through a License Key entitlement attached to the product (the
older `license_key_enabled` products were migrated to one, D:features/license-keys). Each key
delivered is a grant (EntitlementGrantResponse, `integration_type: license_key`) whose
`license_key` part shows the key, its expiry and activations; the grant's lifecycle sends
`entitlement_grant.created` and `.delivered` (automatic fulfilment delivers at once, so both carry
the delivered grant, as the vendor's example of `.created` does), `.revoked` when the key is
disabled (`revocation_reason: license_key_disabled`) and `.delivered` again when it is enabled.
`.failed` never happens here: automatic fulfilment of a generated key cannot fail.

Only what license keys need is modelled: no grants API, no other integrations.
"""
from __future__ import annotations

from ...core import ids
from ...core.clock import iso
from ...core.store import Namespace

GRANT = "entitlement_grant"
DELIVERED, REVOKED = "Delivered", "Revoked"  # EntitlementGrantStatus (spec and SDK casing)


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
    def render(grant: dict, lic: dict) -> dict:
        """EntitlementGrantResponse, with the key's current state in `license_key`."""
        shown = {name: grant[name] for name in (
            "id", "business_id", "brand_id", "entitlement_id", "customer_id", "payment_id",
            "subscription_id", "status", "created_at", "updated_at", "delivered_at", "revoked_at",
            "revocation_reason", "metadata")}
        shown.update(
            integration_type="license_key", error_code=None, error_message=None,
            digital_product_delivery=None, feature=None, oauth_url=None, oauth_expires_at=None,
            license_key={"key": lic["key"], "activations_used": lic["instances_count"],
                         "activations_limit": lic["activations_limit"],
                         "expires_at": lic["expires_at"]})
        return shown

    def _emit(self, ns: Namespace, event: str, grant: dict, lic: dict) -> None:
        self.backend.events.emit(ns, event, "EntitlementGrant", self.render(grant, lic))
