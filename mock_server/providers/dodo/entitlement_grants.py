"""Entitlement grants: what a customer's purchase gives them of each entitlement attached to the
product (`/entitlements`, made through the generic engine), and the grants API that reads and
moves them.

A newly paid purchase (a one-time payment, a subscription's first payment; renewals grant nothing
new) makes one grant per entitlement of each product bought (a License Key entitlement: one per
unit, as keys are). How it is delivered depends on the integration (D:features/entitlements):

- `license_key`, automatic fulfilment: the key issued by license_keys.py, delivered at once;
  `entitlement_grant.created` and `.delivered` both carry the delivered grant, as the vendor's
  example of `.created` does. `.revoked` when the key is disabled
  (`revocation_reason: license_key_disabled`), `.delivered` again when it is enabled.
- `license_key` with `fulfillment_mode: manual`: `Pending` with no key until the merchant supplies
  one (`POST /grants/{grant_id}/license-key`): then the key is made (source `manual`), and
  `license_key.created` and `.delivered` go out.
- `feature_flag` and `digital_files`: delivered at once, with the `feature`, or the files attached
  to the entitlement (`digital_product_delivery`).
- `discord`, `telegram`, `github`, `figma`, `framer`, `notion`: `Pending` until the customer
  connects their account in the customer portal, which a mock cannot do: the control API plays it
  (`POST /_mock/dodo/entitlement_grants/{grant_id}/deliver|fail`).

A grant ends `Revoked` when the merchant revokes it (`DELETE /entitlements/{id}/grants/{grant_id}`,
idempotent; a license key's grant disables its key), when the subscription that bought it ends
(`subscription_ended`), or when its one-time payment is refunded (`refunded`); license-key grants
follow their key instead (license_keys.py).

Automatic delivery has no reason of its own to fail, so it fails only when told to
(`POST /_mock/dodo/entitlement_grants/outcome`, like the refunds' outcome): the namespace's next
deliveries (`times` of them, or all until told otherwise) fail: the grant is made `Pending`
(.created) then `Failed` with `error_code` / `error_message` (.failed), and no key is issued.
"""
from __future__ import annotations

from ...core import ids
from ...core.clock import iso
from ...core.errors import ApiError
from ...core.request import Request
from ...core.resource_engine import INTERNAL, kind
from ...core.store import Namespace
from ..base import handler
from . import paging
from .errors import not_found
from .models import CUSTOMER, PRODUCT

GRANT = "entitlement_grant"
DELIVERED, REVOKED = "Delivered", "Revoked"  # EntitlementGrantStatus (spec and SDK casing)
PENDING, FAILED = "Pending", "Failed"
OUTCOME = "entitlement_outcome"  # the namespace's scripted delivery outcome, id "next"
FAILURE = {"error_code": "DELIVERY_FAILED",
           "error_message": "The entitlement could not be delivered"}
ENTITLEMENTS, FILES = kind("/entitlements"), kind("/entitlements/{id}/files")  # the engine's
AT_ONCE = {"feature_flag", "digital_files"}  # delivered with the purchase; the others wait
DOWNLOAD_SECONDS = 3600  # how long a digital file's download_url is good for (paymock's choice)
SUBSCRIPTION_ENDS = ("subscription.cancelled", "subscription.expired", "subscription.failed")


def manual(entitlement: dict) -> bool:
    """A License Key entitlement whose keys the merchant supplies."""
    return (entitlement.get("integration_config") or {}).get("fulfillment_mode") == "manual"


class EntitlementGrants:
    def __init__(self, backend):
        self.backend = backend  # clock, events, business_id
        self.keys = None  # LicenseKeys (license_keys.py), which sets itself here

    # -- granting a purchase ---------------------------------------------------------------------
    def on_payment(self, ns: Namespace, payment: dict, previous: str) -> None:
        """after_emit: the grants a newly paid purchase gives (license keys of automatic
        fulfilment excepted: license_keys.py issues and delivers those)."""
        if payment["status"] != "succeeded" or previous == "succeeded" \
                or payment["ref"].get("kind") == "subscription":
            return
        data = payment["data"]
        subscription_id = data.get("subscription_id") if data.get("is_recurring") else None
        if subscription_id is not None and any(g["subscription_id"] == subscription_id
                                               for g in ns.values(GRANT)):
            return  # the subscription was granted when it started
        for item in data.get("product_cart") or []:
            product = ns.read(PRODUCT, item["product_id"])
            for summary in (product or {}).get("entitlements") or []:
                entitlement = ns.get(ENTITLEMENTS, summary["id"]) or summary
                kind_ = entitlement.get("integration_type")
                if kind_ == "license_key" and not manual(entitlement):
                    continue
                for _ in range(item["quantity"] if kind_ == "license_key" else 1):
                    self.grant(ns, entitlement, product, data["customer"]["customer_id"],
                               payment_id=payment["id"], subscription_id=subscription_id)

    def grant(self, ns: Namespace, entitlement: dict, product: dict, customer_id: str, *,
              payment_id: str | None, subscription_id: str | None) -> dict:
        """A new grant of `entitlement` to the customer: delivered at once where the integration
        allows (unless a failure is scripted), else pending."""
        now = iso(self.backend.clock.now())
        business = self.backend.business_id
        grant = {
            "id": ids.prefixed("entg", 21), "business_id": business,
            "brand_id": product.get("brand_id") or business,
            "entitlement_id": entitlement["id"], "product_id": product["product_id"],
            "integration_type": entitlement.get("integration_type"),
            "customer_id": customer_id, "license_key_id": None, "payment_id": payment_id,
            "subscription_id": subscription_id, "status": PENDING, "created_at": now,
            "updated_at": now, "delivered_at": None, "revoked_at": None,
            "revocation_reason": None, "metadata": {}, "error_code": None, "error_message": None,
        }
        if grant["integration_type"] not in AT_ONCE:
            ns.put(GRANT, grant["id"], grant)
            self._emit(ns, "entitlement_grant.created", grant)
            return grant
        failure = self.take_failure(ns)
        if failure is not None:
            return self._failed(ns, grant, failure)
        self._payload(ns, grant, entitlement)
        grant.update(status=DELIVERED, delivered_at=now)
        ns.put(GRANT, grant["id"], grant)
        for event in ("entitlement_grant.created", "entitlement_grant.delivered"):
            self._emit(ns, event, grant)
        return grant

    def _payload(self, ns: Namespace, grant: dict, entitlement: dict) -> None:
        config = entitlement.get("integration_config") or {}
        if grant["integration_type"] == "feature_flag":
            grant["feature"] = {"feature_type": config.get("feature_type"),
                                "feature_id": config.get("feature_id")}
        elif grant["integration_type"] == "digital_files":
            files = [f for f in ns.values(FILES)
                     if f.get(INTERNAL, {}).get("parents") == [entitlement["id"]]]
            grant["digital_product_delivery"] = {
                "external_url": config.get("external_url"),
                "instructions": config.get("instructions"),
                "files": [{"file_id": f["file_id"], "filename": f["file_id"],
                           "download_url": f"https://paymock.invalid/files/{f['file_id']}",
                           "expires_in": DOWNLOAD_SECONDS, "content_type": None,
                           "file_size": None} for f in files]}

    def deliver(self, ns: Namespace, lic: dict, entitlement_id: str,
                pending: dict | None = None) -> dict:
        """The grant of a key just issued, delivered: a new one (automatic fulfilment: .created
        and .delivered), or the pending grant the merchant fulfilled (.delivered)."""
        now = iso(self.backend.clock.now())
        grant = pending or {
            "id": ids.prefixed("entg", 21), "business_id": lic["business_id"],
            "brand_id": lic["brand_id"], "entitlement_id": entitlement_id,
            "product_id": lic["product_id"], "integration_type": "license_key",
            "customer_id": lic["customer_id"], "payment_id": lic["payment_id"],
            "subscription_id": lic["subscription_id"], "created_at": now, "revoked_at": None,
            "revocation_reason": None, "metadata": {}, "error_code": None,
            "error_message": None}
        grant.update(status=DELIVERED, license_key_id=lic["id"], delivered_at=now, updated_at=now)
        ns.put(GRANT, grant["id"], grant)
        events = ("entitlement_grant.delivered",) if pending else (
            "entitlement_grant.created", "entitlement_grant.delivered")
        for event in events:
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
             subscription_id: str | None, product_id: str | None = None) -> dict:
        """A license key's grant whose delivery failed (no key was issued): .created, then
        .failed."""
        now = iso(self.backend.clock.now())
        grant = {
            "id": ids.prefixed("entg", 21), "business_id": business_id,
            "brand_id": brand_id, "entitlement_id": entitlement_id, "product_id": product_id,
            "integration_type": "license_key", "customer_id": customer_id,
            "license_key_id": None, "payment_id": payment_id, "subscription_id": subscription_id,
            "status": PENDING, "created_at": now, "updated_at": now, "delivered_at": None,
            "revoked_at": None, "revocation_reason": None, "metadata": {},
            "error_code": None, "error_message": None,
        }
        return self._failed(ns, grant, failure)

    def _failed(self, ns: Namespace, grant: dict, failure: dict) -> dict:
        ns.put(GRANT, grant["id"], grant)
        self._emit(ns, "entitlement_grant.created", grant)
        grant.update(status=FAILED, error_code=failure["error_code"],
                     error_message=failure["error_message"])
        ns.save(GRANT, grant["id"], grant)
        self._emit(ns, "entitlement_grant.failed", grant)
        return grant

    # -- the customer's side, played by the control API ------------------------------------------
    def settle(self, ns: Namespace, grant_id: str, action: str) -> dict:
        """A pending grant of an account integration (Discord, GitHub, ...): the customer
        connected their account (`deliver`), or the connection failed (`fail`)."""
        with ns.lock:
            grant = ns.get(GRANT, grant_id)
            if grant is None:
                raise not_found("Grant not found")
            if action not in ("deliver", "fail"):
                raise ValueError(f"action must be deliver or fail, got {action!r}")
            if grant["status"] != PENDING or grant["integration_type"] == "license_key":
                raise ApiError(409, f"Grant {grant_id} is {grant['status']}, not awaiting the "
                               "customer", "CONFLICT")
            now = iso(self.backend.clock.now())
            if action == "fail":
                grant.update(status=FAILED, updated_at=now, **FAILURE)
            else:
                grant.update(status=DELIVERED, delivered_at=now, updated_at=now)
            ns.save(GRANT, grant_id, grant)
            self._emit(ns, "entitlement_grant.failed" if action == "fail"
                       else "entitlement_grant.delivered", grant)
            return self.render(ns, grant)

    # -- revocation ----------------------------------------------------------------------------
    def revoke(self, ns: Namespace, lic: dict, reason: str) -> None:
        """The key `lic` was disabled: its grant is revoked."""
        grant = ns.get(GRANT, lic["grant_id"])
        if grant is not None:
            self._revoke(ns, grant, reason, lic)

    def _revoke(self, ns: Namespace, grant: dict, reason: str, lic: dict | None = None) -> None:
        if grant["status"] == REVOKED:
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

    def revoke_by_merchant(self, ns: Namespace, entitlement_id: str, grant_id: str) -> dict:
        """DELETE /entitlements/{id}/grants/{grant_id}: idempotent (a revoked grant answers as it
        is). A license key's grant is revoked by disabling its key."""
        self._entitlement(ns, entitlement_id)
        with ns.lock:
            grant = ns.get(GRANT, grant_id)
            if grant is None or grant["entitlement_id"] != entitlement_id:
                raise not_found("Grant not found")
            if grant["status"] != REVOKED:
                if grant.get("license_key_id") is not None:
                    self.keys.update(ns, grant["license_key_id"], {"disabled": True})
                    grant = ns.get(GRANT, grant_id)
                self._revoke(ns, grant, "revoked_by_merchant")
            return self.render(ns, grant)

    def on_subscription(self, ns: Namespace, event: str, sub: dict) -> None:
        """Subscriptions.on_event hook: an ended subscription takes back what it granted."""
        if event in SUBSCRIPTION_ENDS:
            self._revoke_where(ns, "subscription_id", sub["subscription_id"], "subscription_ended")

    def on_refund(self, ns: Namespace, refund: dict) -> None:
        """Refunds.on_settled hook: a refunded one-time purchase takes back what it granted."""
        if refund["status"] == "succeeded":
            payment = self.backend.payments.payments.get(ns, refund["payment_id"])
            if payment is not None and not payment["data"].get("subscription_id"):
                self._revoke_where(ns, "payment_id", refund["payment_id"], "refunded")

    def _revoke_where(self, ns: Namespace, field: str, value: str, reason: str) -> None:
        with ns.lock:
            for grant in ns.values(GRANT):
                # A license key's grant follows its key (license_keys.py).
                if grant[field] == value and grant.get("license_key_id") is None \
                        and grant["status"] in (PENDING, DELIVERED):
                    self._revoke(ns, grant, reason)

    # -- fulfilment of a manual license key ----------------------------------------------------
    def fulfill(self, ns: Namespace, grant_id: str, body: dict) -> dict:
        """POST /grants/{grant_id}/license-key: the merchant's key delivers a pending grant."""
        with ns.lock:
            grant = ns.get(GRANT, grant_id)
            if grant is None:
                raise not_found("Grant not found")
            if grant["integration_type"] != "license_key":
                raise ApiError(400, "Grant is not a license-key grant", "INVALID_REQUEST_BODY")
            if not body["key"].strip():
                raise ApiError(400, "key must not be empty", "INVALID_REQUEST_BODY")
            if grant["status"] != PENDING:
                raise ApiError(409, "Grant is not awaiting fulfillment", "CONFLICT")
            self.keys.fulfill(ns, grant, body)
            return self.render(ns, ns.get(GRANT, grant_id))

    # -- reading -------------------------------------------------------------------------------
    def _entitlement(self, ns: Namespace, entitlement_id: str) -> dict:
        entitlement = ns.get(ENTITLEMENTS, entitlement_id)
        if entitlement is None:
            raise not_found("Entitlement not found")
        return entitlement

    def of_entitlement(self, ns: Namespace, entitlement_id: str, query: dict) -> dict:
        self._entitlement(ns, entitlement_id)
        return self._page(ns, query, entitlement_id=entitlement_id,
                          customer_id=query.get("customer_id"))

    def of_customer(self, ns: Namespace, customer_id: str, query: dict) -> dict:
        if ns.get(CUSTOMER, customer_id) is None:
            raise not_found("Customer not found")
        return self._page(ns, query, customer_id=customer_id,
                          integration_type=query.get("integration_type"))

    def _page(self, ns: Namespace, query: dict, **match) -> dict:
        match["status"] = query.get("status")
        rows = [g for g in reversed(ns.values(GRANT))
                if all(value is None or g.get(name) == value for name, value in match.items())]
        return {"items": [self.render(ns, g) for g in paging.page(rows, query)]}

    def customer_entitlements(self, ns: Namespace, customer_id: str) -> dict:
        """GET /customers/{id}/entitlements: the grants delivered or in flight (pending), one
        row each, with their entitlement's name as it is now."""
        if ns.get(CUSTOMER, customer_id) is None:
            raise not_found("Customer not found")
        items = []
        for grant in reversed(ns.values(GRANT)):
            if grant["customer_id"] != customer_id or grant["status"] not in (PENDING, DELIVERED):
                continue
            entitlement = ns.get(ENTITLEMENTS, grant["entitlement_id"]) or {}
            items.append({
                "grant_id": grant["id"], "entitlement_id": grant["entitlement_id"],
                "entitlement_name": entitlement.get("name") or "License key",
                "entitlement_description": entitlement.get("description"),
                "integration_type": grant["integration_type"], "status": grant["status"].lower(),
                "created_at": grant["created_at"], "updated_at": grant["updated_at"],
                "delivered_at": grant["delivered_at"], "revoked_at": grant["revoked_at"]})
        return {"items": items}

    def render(self, ns: Namespace | None, grant: dict, lic: dict | None = None) -> dict:
        """EntitlementGrantResponse; a license key's grant shows the key's current state in
        `license_key` (null while pending, or when its delivery failed)."""
        if lic is None and grant.get("license_key_id") is not None and ns is not None:
            lic = self.keys.stored(ns, grant["license_key_id"])
        shown = {name: grant.get(name) for name in (
            "id", "business_id", "brand_id", "entitlement_id", "customer_id", "payment_id",
            "subscription_id", "status", "created_at", "updated_at", "delivered_at", "revoked_at",
            "revocation_reason", "metadata", "error_code", "error_message", "feature",
            "digital_product_delivery")}
        shown.update(
            integration_type=grant.get("integration_type") or "license_key",
            oauth_url=None, oauth_expires_at=None,
            license_key=None if lic is None else {
                "key": lic["key"], "activations_used": lic["instances_count"],
                "activations_limit": lic["activations_limit"], "expires_at": lic["expires_at"]})
        return shown

    def _emit(self, ns: Namespace, event: str, grant: dict, lic: dict | None = None) -> None:
        self.backend.events.emit(ns, event, "EntitlementGrant", self.render(ns, grant, lic))


class EntitlementGrantHandlers:
    def __init__(self, grants: EntitlementGrants):
        self.grants = grants

    @handler("list_grants_public_handler")
    def of_entitlement(self, req: Request):
        return self.grants.of_entitlement(req.ns, req.path["id"], req.query)

    @handler("revoke_grant_public_handler")
    def revoke(self, req: Request):
        return self.grants.revoke_by_merchant(req.ns, req.path["id"], req.path["grant_id"])

    @handler("fulfill_license_key_grant_handler")
    def fulfill(self, req: Request):
        return self.grants.fulfill(req.ns, req.path["grant_id"], req.body)

    @handler("list_customer_grants_public_handler")
    def of_customer(self, req: Request):
        return self.grants.of_customer(req.ns, req.path["customer_id"], req.query)

    @handler("get_customer_entitlements")
    def customer_entitlements(self, req: Request):
        return self.grants.customer_entitlements(req.ns, req.path["customer_id"])
