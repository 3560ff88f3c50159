"""Dodo license keys: issued when a product with a License Key entitlement is paid, and managed by
the merchant (`/license_keys`, `/license_key_instances`). The public `/licenses/*` operations the
merchant's software calls live in licenses.py; the entitlement grant each issued key is delivered
through in entitlement_grants.py.

Issuing (D:features/license-keys, "How Keys Are Issued"): a one-time payment's success issues one
key per unit bought, expiring after the entitlement's duration on the mock clock; a subscription's
first payment one key per seat, without expiry (its validity follows the subscription); a renewal
issues none. `license_key.created` follows `payment.succeeded` (the payment's `after_emit` hook).

A key's `status` is read, not stored: `disabled` when the merchant disabled it, else `expired` once
the clock passes `expires_at`, else `active`. Keys are found by their key string too (kind
`BY_STRING`), which also puts the string in the store's id index: a public call that carries no API
key finds the namespace that issued it (auth.public_caller).
"""
from __future__ import annotations

import uuid

from ...core import billing_cycles, ids
from ...core.clock import epoch, iso
from ...core.errors import ApiError
from ...core.request import Reply
from ...core.store import Namespace
from . import paging
from .entitlement_grants import ENTITLEMENTS, EntitlementGrants, manual
from .models import CUSTOMER, PRODUCT, invalid, not_found

KEY, INSTANCE, BY_STRING = "license_key", "license_key_instance", "license_key_string"
ACTIVE, EXPIRED, DISABLED = "active", "expired", "disabled"


def terms_of(product: dict) -> dict | None:
    """How a product issues keys, or None when it issues none: its License Key entitlement (Dodo
    migrated every `license_key_enabled` product to one), else the deprecated product fields.
    An entitlement of manual fulfilment issues none: its grants wait for the merchant's key
    (entitlement_grants.py)."""
    for entitlement in product.get("entitlements") or []:
        if entitlement.get("integration_type") == "license_key" and not manual(entitlement):
            config = entitlement.get("integration_config") or {}
            count, interval = config.get("duration_count"), config.get("duration_interval")
            return {"entitlement_id": entitlement["id"],
                    "activations_limit": config.get("activations_limit"),
                    "duration": (count, interval) if count and interval else None}
    if product.get("license_key_enabled"):
        duration = product.get("license_key_duration")
        return {"entitlement_id": None,
                "activations_limit": product.get("license_key_activations_limit"),
                "duration": (duration["count"], duration["interval"]) if duration else None}
    return None


def status_of(key: dict, now: float) -> str:
    if key["disabled"]:
        return DISABLED
    if key["expires_at"] is not None and epoch(key["expires_at"]) <= now:
        return EXPIRED
    return ACTIVE


class LicenseKeys:
    def __init__(self, backend):
        self.backend = backend  # clock, events, business_id
        self.grants = EntitlementGrants(backend)
        self.grants.keys = self

    # -- issuing ---------------------------------------------------------------------------
    def mark_payment(self, ns: Namespace, payment: dict, previous: str) -> None:
        """before_emit: a paid payment of a license-key product says so (`has_license_key` of
        the payment list) in the very payment.succeeded that announces it."""
        if _newly_paid(payment, previous) and _bought(payment) and self._issuing(ns, payment):
            payment["data"]["has_license_key"] = True

    def on_payment(self, ns: Namespace, payment: dict, previous: str) -> None:
        """after_emit: issue the keys a newly paid payment buys."""
        if not _newly_paid(payment, previous) or not _bought(payment):
            return
        data = payment["data"]
        subscription_id = data.get("subscription_id") if data.get("is_recurring") else None
        if subscription_id is not None and any(k["subscription_id"] == subscription_id
                                               for k in ns.values(KEY)):
            return  # a renewal: the subscription's keys persist
        now = self.backend.clock.now()
        for product, quantity, terms in self._issuing(ns, payment):
            expires = None
            if subscription_id is None and terms["duration"] is not None:
                expires = billing_cycles.after(now, *terms["duration"])
            for _ in range(quantity):
                self.issue(ns, product, data["customer"]["customer_id"], terms,
                           payment_id=payment["id"], subscription_id=subscription_id,
                           expires_at=expires)

    def _issuing(self, ns: Namespace, payment: dict) -> list[tuple[dict, int, dict]]:
        found = []
        for item in payment["data"].get("product_cart") or []:
            product = ns.read(PRODUCT, item["product_id"])
            terms = terms_of(product) if product is not None else None
            if terms is not None:
                found.append((product, item["quantity"], terms))
        return found

    def issue(self, ns: Namespace, product: dict, customer_id: str, terms: dict, *,
              payment_id: str | None = None, subscription_id: str | None = None,
              expires_at: float | None = None, key: str | None = None,
              source: str = "auto", pending: dict | None = None) -> dict | None:
        """A new key (and, for an entitlement, its delivered grant), announced by webhook; None
        when its grant's delivery was scripted to fail (entitlement_grants.py)."""
        now = self.backend.clock.now()
        business = self.backend.business_id
        failure = self.grants.take_failure(ns) if terms["entitlement_id"] is not None \
            and source == "auto" else None
        if failure is not None:  # delivering the key failed (scripted): a failed grant, no key
            self.grants.fail(ns, failure, terms["entitlement_id"], business_id=business,
                             brand_id=product.get("brand_id") or business,
                             customer_id=customer_id, payment_id=payment_id,
                             subscription_id=subscription_id, product_id=product["product_id"])
            return None
        lic = {
            "id": ids.prefixed("lic", 21), "business_id": business,
            "brand_id": product.get("brand_id") or business,
            "key": key if key is not None else str(uuid.uuid4()),
            "disabled": False, "disabled_by": None,  # "merchant", or disable_for's reason
            "customer_id": customer_id, "product_id": product["product_id"],
            "payment_id": payment_id, "subscription_id": subscription_id,
            "activations_limit": terms["activations_limit"], "instances_count": 0,
            "expires_at": None if expires_at is None else iso(expires_at),
            "created_at": iso(now), "source": source, "grant_id": None,
        }
        with ns.lock:
            ns.put(KEY, lic["id"], lic)
            ns.put(BY_STRING, lic["key"], {"license_key_id": lic["id"]})
            self.backend.events.emit(ns, "license_key.created", "LicenseKey", self.render(lic))
            if terms["entitlement_id"] is not None:
                grant = self.grants.deliver(ns, lic, terms["entitlement_id"], pending)
                lic["grant_id"] = grant["id"]
                ns.save(KEY, lic["id"], lic)
        return lic

    def return_params(self, ns: Namespace, payment: dict) -> dict:
        """What Dodo adds to the return_url after a purchase that issued keys
        (D:features/license-keys): `license_key=K1,K2` and the buyer's `email`."""
        data = payment["data"]
        if payment["status"] != "succeeded" or not data.get("has_license_key"):
            return {}
        subscription_id = data.get("subscription_id")
        keys = sorted((k for k in ns.values(KEY) if k["payment_id"] == payment["id"] or (
            subscription_id is not None and k["subscription_id"] == subscription_id)),
            key=lambda k: (k["created_at"], k["id"]))
        if not keys:
            return {}
        return {"license_key": ",".join(k["key"] for k in keys),
                "email": data["customer"]["email"]}

    # -- reading ---------------------------------------------------------------------------
    def render(self, lic: dict) -> dict:
        """LicenseKeyResponse."""
        return {
            "id": lic["id"], "business_id": lic["business_id"], "brand_id": lic["brand_id"],
            "key": lic["key"], "status": status_of(lic, self.backend.clock.now()),
            "customer_id": lic["customer_id"], "product_id": lic["product_id"],
            "payment_id": lic["payment_id"], "subscription_id": lic["subscription_id"],
            "activations_limit": lic["activations_limit"],
            "instances_count": lic["instances_count"], "expires_at": lic["expires_at"],
            "created_at": lic["created_at"], "source": lic["source"],
        }

    def find(self, ns: Namespace, key: str) -> dict | None:
        """The stored key whose key string is `key`."""
        entry = ns.get(BY_STRING, key)
        return None if entry is None else ns.get(KEY, entry["license_key_id"])

    def stored(self, ns: Namespace, license_key_id: str) -> dict:
        lic = ns.get(KEY, license_key_id)
        if lic is None:
            raise not_found("License key not found")
        return lic

    def get(self, ns: Namespace, license_key_id: str) -> dict:
        return self.render(self.stored(ns, license_key_id))

    def list(self, ns: Namespace, query: dict) -> dict:
        """GET /license_keys, newest first: customer_id, status, product_id, source,
        created_at_gte / created_at_lte."""
        created_between = paging.created_between(query)
        rows = []
        for lic in ns.values(KEY):
            shown = self.render(lic)
            if any(query.get(name) not in (None, shown[name])
                   for name in ("customer_id", "status", "product_id", "source")):
                continue
            if not created_between(lic["created_at"]):
                continue
            rows.append(shown)
        rows.sort(key=lambda k: (k["created_at"], k["id"]), reverse=True)
        return {"items": paging.page(rows, query)}

    # -- the merchant's changes ------------------------------------------------------------
    def fulfill(self, ns: Namespace, grant: dict, body: dict) -> dict:
        """The merchant's key for a pending grant of a manual License Key entitlement (source
        `manual`): its limit and expiry are the body's, else the entitlement's."""
        if ns.get(BY_STRING, body["key"]) is not None:
            raise ApiError(409, "License key already exists", "LICENSE_KEY_ALREADY_EXISTS")
        product = ns.read(PRODUCT, grant["product_id"]) or {
            "product_id": grant["product_id"], "brand_id": grant["brand_id"]}
        config = (ns.get(ENTITLEMENTS, grant["entitlement_id"]) or {}).get(
            "integration_config") or {}
        limit = body.get("activations_limit")
        expires = _timestamp(body.get("expires_at"), "expires_at")
        if expires is not None:
            expires = epoch(expires)
        elif config.get("duration_count") and config.get("duration_interval") \
                and grant["subscription_id"] is None:
            expires = billing_cycles.after(self.backend.clock.now(), config["duration_count"],
                                           config["duration_interval"])
        terms = {"entitlement_id": grant["entitlement_id"],
                 "activations_limit": limit if limit is not None
                 else config.get("activations_limit")}
        return self.issue(ns, product, grant["customer_id"], terms,
                          payment_id=grant["payment_id"], subscription_id=grant["subscription_id"],
                          expires_at=expires, key=body["key"], source="manual", pending=grant)

    def update(self, ns: Namespace, license_key_id: str, body: dict) -> dict:
        """PATCH /license_keys/{id}: a field left out stays; `null` removes the limit or the
        expiry; `disabled` true/false disables or enables (null leaves it)."""
        with ns.lock:
            lic = self.stored(ns, license_key_id)
            if body.get("expires_at") is not None and lic["subscription_id"] is not None:
                raise ApiError(400, "Cannot set expiry date for subscription-based license key",
                               "NO_EXPIRY_ON_SUBSCRIPTION_LICENSE_KEYS")
            if "activations_limit" in body:
                limit = body["activations_limit"]
                if limit is not None and limit < lic["instances_count"]:
                    raise invalid("New activation limit cannot be less than current instances "
                                  "count", "ACTIVATION_LIMIT_LESS_THAN_CURRENT_AMOUNT")
                lic["activations_limit"] = limit
            if "expires_at" in body:
                lic["expires_at"] = _timestamp(body["expires_at"], "expires_at")
            was_disabled = lic["disabled"]
            if body.get("disabled") is not None:
                lic["disabled"] = body["disabled"]
                lic["disabled_by"] = "merchant" if body["disabled"] else None
            ns.save(KEY, lic["id"], lic)
            if lic["grant_id"] is not None and lic["disabled"] != was_disabled:
                # Dodo: disabling a key revokes its grant (revocation_reason
                # license_key_disabled); enabling it again re-activates the grant.
                if lic["disabled"]:
                    self.grants.revoke(ns, lic, "license_key_disabled")
                else:
                    self.grants.redeliver(ns, lic)
        return self.render(lic)

    def disable_for(self, ns: Namespace, *, payment_id: str | None = None,
                    subscription_id: str | None = None, reason: str = "refunded") -> list[dict]:
        """Disable the keys a payment or subscription issued, for `reason` (a one-time refund, a
        subscription on hold or cancelled: for the refunds and subscriptions areas to call);
        returns them as rendered."""
        changed = []
        with ns.lock:
            for lic in self._issued_by(ns, payment_id, subscription_id):
                if lic["disabled"]:
                    continue
                lic.update(disabled=True, disabled_by=reason)
                ns.save(KEY, lic["id"], lic)
                if lic["grant_id"] is not None:
                    self.grants.revoke(ns, lic, reason)
                changed.append(self.render(lic))
        return changed

    # What each subscription event does to its keys (reference section 5: on_hold and paused
    # disable them until recovery, past_due keeps them, an ended subscription disables them for
    # good); the reason is what enable_for matches to undo only its own doing.
    ON_SUBSCRIPTION = {
        "subscription.on_hold": ("disable", "subscription_on_hold"),
        "subscription.paused": ("disable", "subscription_paused"),
        "subscription.active": ("enable", "subscription_on_hold"),
        "subscription.unpaused": ("enable", "subscription_paused"),
        "subscription.cancelled": ("disable", "subscription_ended"),
        "subscription.expired": ("disable", "subscription_ended"),
        "subscription.failed": ("disable", "subscription_ended"),
    }

    def on_subscription(self, ns: Namespace, event: str, sub: dict) -> None:
        """Subscriptions.on_event hook."""
        action = self.ON_SUBSCRIPTION.get(event)
        if action is None:
            return
        verb, reason = action
        if verb == "disable":
            self.disable_for(ns, subscription_id=sub["subscription_id"], reason=reason)
        else:
            self.enable_for(ns, subscription_id=sub["subscription_id"], reason=reason)

    def on_refund(self, ns: Namespace, refund: dict) -> None:
        """Refunds.on_settled hook: a succeeded refund of a one-time payment disables the keys
        it issued (a subscription's keys follow the subscription instead)."""
        if refund["status"] != "succeeded":
            return
        payment = self.backend.payments.payments.get(ns, refund["payment_id"])
        if payment is not None and not payment["data"].get("subscription_id"):
            self.disable_for(ns, payment_id=refund["payment_id"], reason="refunded")

    def enable_for(self, ns: Namespace, *, subscription_id: str, reason: str) -> list[dict]:
        """Enable again the keys `disable_for` disabled for `reason` (a subscription back from
        on_hold): a key the merchant disabled, or one disabled for another reason, stays so."""
        changed = []
        with ns.lock:
            for lic in self._issued_by(ns, None, subscription_id):
                if not lic["disabled"] or lic.get("disabled_by") != reason:
                    continue
                lic.update(disabled=False, disabled_by=None)
                ns.save(KEY, lic["id"], lic)
                if lic["grant_id"] is not None:
                    self.grants.redeliver(ns, lic)
                changed.append(self.render(lic))
        return changed

    @staticmethod
    def _issued_by(ns: Namespace, payment_id: str | None, subscription_id: str | None) -> list:
        return [lic for lic in ns.values(KEY)
                if (payment_id is not None and lic["payment_id"] == payment_id)
                or (subscription_id is not None and lic["subscription_id"] == subscription_id)]

    def create(self, ns: Namespace, body: dict) -> Reply:
        """POST /license_keys: import a key string the merchant already sold (source `import`,
        no payment; the customer gets no email)."""
        if not body["key"].strip():
            raise invalid("key must not be empty")
        if ns.get(CUSTOMER, body["customer_id"]) is None:
            raise not_found("Customer not found")
        product = ns.read(PRODUCT, body["product_id"])
        if product is None:
            raise not_found("Product not found")
        expires = _timestamp(body.get("expires_at"), "expires_at")
        with ns.lock:
            if ns.get(BY_STRING, body["key"]) is not None:
                # Not in Dodo's error-code list; named like its other *_ALREADY_EXISTS codes.
                raise ApiError(409, "License key already exists", "LICENSE_KEY_ALREADY_EXISTS")
            lic = self.issue(ns, product, body["customer_id"],
                             {"entitlement_id": None,
                              "activations_limit": body.get("activations_limit")},
                             expires_at=None if expires is None else epoch(expires),
                             key=body["key"], source="import")
        return Reply(self.render(lic), 201)

    # -- activation instances (the merchant's view) -----------------------------------------
    @staticmethod
    def render_instance(instance: dict) -> dict:
        """LicenseKeyInstanceResponse."""
        return {name: instance[name]
                for name in ("id", "business_id", "license_key_id", "name", "created_at")}

    def stored_instance(self, ns: Namespace, instance_id: str) -> dict:
        instance = ns.get(INSTANCE, instance_id)
        if instance is None:
            raise not_found("License key instance not found")
        return instance

    def get_instance(self, ns: Namespace, instance_id: str) -> dict:
        return self.render_instance(self.stored_instance(ns, instance_id))

    def list_instances(self, ns: Namespace, query: dict) -> dict:
        """GET /license_key_instances, newest first: license_key_id, grant_id."""
        wanted_key, grant = query.get("license_key_id"), query.get("grant_id")
        keys_of_grant = None if grant is None else {
            k["id"] for k in ns.values(KEY) if k["grant_id"] == grant}
        rows = [i for i in ns.values(INSTANCE)
                if wanted_key in (None, i["license_key_id"])
                and (keys_of_grant is None or i["license_key_id"] in keys_of_grant)]
        rows.sort(key=lambda i: (i["created_at"], i["id"]), reverse=True)
        return {"items": [self.render_instance(i) for i in paging.page(rows, query)]}

    def rename_instance(self, ns: Namespace, instance_id: str, body: dict) -> dict:
        with ns.lock:
            instance = self.stored_instance(ns, instance_id)
            instance["name"] = body["name"]
            ns.save(INSTANCE, instance_id, instance)
        return self.render_instance(instance)


def _newly_paid(payment: dict, previous: str) -> bool:
    return payment["status"] == "succeeded" and previous != "succeeded"


def _timestamp(raw: str | None, name: str) -> str | None:
    """A body's date-time, as the mock writes timestamps (UTC, milliseconds), or None."""
    if raw is None:
        return None
    try:
        return iso(epoch(raw))
    except ValueError:
        raise invalid(f"{name} must be an RFC 3339 date-time, got {raw[:64]!r}") from None


def _bought(payment: dict) -> bool:
    """Keys are issued by a checkout's purchase; a subscription's later charges (renewals, plan
    changes, on-demand charges: payments for the subscription itself) issue none, and they are
    most of the payments a long run makes, so they leave here before any lookup."""
    return payment["ref"].get("kind") != "subscription"
