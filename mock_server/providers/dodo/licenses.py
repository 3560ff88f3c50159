"""Dodo's public license operations: `POST /licenses/activate`, `/licenses/validate`,
`/licenses/deactivate`, which the merchant's software calls with the key string its customer typed,
and no API key (the vendor spec declares them without `security`; D:features/license-keys).

The namespace is the one that issued the key (auth.public_caller finds it); the rules and refusals
are Dodo's (D:api-reference/error-codes, "License Keys"):
- activate: unknown key 404; a key not active (disabled, expired) 403 INACTIVE_LICENSE_KEY; as many
  instances as `activations_limit` 422 LICENSE_KEY_LIMIT_REACHED; else 201 with a new instance.
- validate: `{valid}`: the key is active; with `license_key_instance_id`, that instance is also one
  of this key's. An unknown key is `{valid: false}`, not a 404 (the spec documents none: choice 9).
- deactivate: unknown key 404; an instance that is not one of the key's 403 LICENSE_KEY_NOT_FOUND;
  else the instance is gone and 200 with no body.
"""
from __future__ import annotations

from ...core import ids
from ...core.clock import iso
from ...core.errors import ApiError
from ...core.request import Reply
from ...core.store import Namespace
from .license_keys import ACTIVE, INSTANCE, KEY, LicenseKeys, status_of
from .models import CUSTOMER, PRODUCT, not_found


class Licenses:
    def __init__(self, keys: LicenseKeys):
        self.keys = keys
        self.backend = keys.backend

    def activate(self, ns: Namespace, body: dict) -> Reply:
        now = self.backend.clock.now()
        with ns.lock:
            lic = self._key(ns, body["license_key"])
            if status_of(lic, now) != ACTIVE:
                raise ApiError(403, "License key is not active", "INACTIVE_LICENSE_KEY")
            limit = lic["activations_limit"]
            if limit is not None and lic["instances_count"] >= limit:
                raise ApiError(422, "License key activation limit reached",
                               "LICENSE_KEY_LIMIT_REACHED")
            instance = {"id": ids.prefixed("lki", 21), "business_id": lic["business_id"],
                        "license_key_id": lic["id"], "name": body["name"],
                        "created_at": iso(now)}
            ns.put(INSTANCE, instance["id"], instance)
            lic["instances_count"] += 1
            ns.save(KEY, lic["id"], lic)
        product = ns.read(PRODUCT, lic["product_id"]) or {}
        return Reply(dict(self.keys.render_instance(instance),
                          customer=self._customer(ns, lic["customer_id"]),
                          product={"product_id": lic["product_id"], "name": product.get("name")}),
                     201)

    def validate(self, ns: Namespace, body: dict) -> dict:
        lic = self.keys.find(ns, body["license_key"])
        if lic is None or status_of(lic, self.backend.clock.now()) != ACTIVE:
            return {"valid": False}
        instance_id = body.get("license_key_instance_id")
        if instance_id is not None:
            instance = ns.get(INSTANCE, instance_id)
            if instance is None or instance["license_key_id"] != lic["id"]:
                return {"valid": False}
        return {"valid": True}

    def deactivate(self, ns: Namespace, body: dict) -> Reply:
        with ns.lock:
            lic = self._key(ns, body["license_key"])
            instance = ns.get(INSTANCE, body["license_key_instance_id"])
            if instance is None or instance["license_key_id"] != lic["id"]:
                raise ApiError(403, "License key instance not found or does not belong to this "
                               "license key", "LICENSE_KEY_NOT_FOUND")
            ns.delete(INSTANCE, instance["id"])
            lic["instances_count"] = max(lic["instances_count"] - 1, 0)
            ns.save(KEY, lic["id"], lic)
        return Reply(None, no_body=True)  # 200 with no body, as the spec declares (the SDK reads none)

    def _key(self, ns: Namespace, key: str) -> dict:
        lic = self.keys.find(ns, key)
        if lic is None:
            raise not_found("License key not found")
        return lic

    @staticmethod
    def _customer(ns: Namespace, customer_id: str) -> dict:
        """CustomerLimitedDetailsResponse of the key's customer."""
        customer = ns.get(CUSTOMER, customer_id) or {"customer_id": customer_id, "name": "",
                                                     "email": ""}
        return {"customer_id": customer["customer_id"], "name": customer["name"],
                "email": customer["email"], "phone_number": customer.get("phone_number"),
                "metadata": customer.get("metadata") or {}}
