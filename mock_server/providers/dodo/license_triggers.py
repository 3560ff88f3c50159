"""License-key events on demand (POST /_mock/trigger), caused through the license rules:
`license_key.created`, `entitlement_grant.created` and `.delivered` buy a license-key product (the
one `product_id` names, else the catalog's first); `entitlement_grant.revoked` disables a key (the
one `license_key_id` names, else one bought for the purpose); `entitlement_grant.failed` buys one
with the namespace's next delivery scripted to fail (as /_mock/dodo/entitlement_grants/outcome
does)."""
from __future__ import annotations

from ...core import payments as core_payments
from ...core.triggers import TriggerError
from .entitlement_grants import GRANT, OUTCOME
from .license_keys import KEY, terms_of
from .models import PRODUCT

BUYING = ("license_key.created", "entitlement_grant.created", "entitlement_grant.delivered")


class LicenseTriggers:
    def __init__(self, backend):
        self.backend = backend

    def register(self, triggers) -> None:
        for event in BUYING:
            triggers.register("dodo", event,
                              lambda ns, params, e=event: self.buy(ns, params, e != BUYING[0]))
        triggers.register("dodo", "entitlement_grant.revoked", self.revoke)
        triggers.register("dodo", "entitlement_grant.failed", self.fail)

    def buy(self, ns, params: dict, grant: bool = False) -> dict:
        """A paid checkout of a license-key product, and the keys (and grants) it issued."""
        product_id = params.get("product_id") or self._first_product(ns, grant)
        product = ns.read(PRODUCT, product_id)
        terms = terms_of(product) if product is not None else None
        if product is not None and terms is None:
            raise TriggerError(f"product {product_id} issues no license keys", 409)
        if grant and terms is not None and terms["entitlement_id"] is None:
            raise TriggerError(f"product {product_id} has no License Key entitlement, so its "
                               "keys have no grant", 409)
        payment = self.backend.triggers.open_payment(ns, dict(params, product_id=product_id))
        try:
            self.backend.payments.payments.script(ns, payment, "paid")
        except (core_payments.TransitionError, ValueError) as exc:
            raise TriggerError(str(exc), 409) from None
        keys = sorted((k for k in ns.values(KEY) if k["payment_id"] == payment["id"]),
                      key=lambda k: k["created_at"])
        made = {"payment": self.backend.payments.get(ns, payment["id"]),
                "license_keys": [self.backend.license_keys.render(k) for k in keys]}
        if grant:
            made["entitlement_grants"] = [self._grant(ns, k) for k in keys]
        return made

    def revoke(self, ns, params: dict) -> dict:
        """Disable a key with a grant, through PATCH /license_keys/{id}'s rule."""
        license_key_id = params.get("license_key_id")
        if license_key_id is None:
            license_key_id = self.buy(ns, params, grant=True)["license_keys"][0]["id"]
        lic = ns.get(KEY, license_key_id)
        if lic is None:
            raise TriggerError(f"no license key {license_key_id} in {ns.name}", 404)
        if lic["grant_id"] is None:
            raise TriggerError(f"license key {license_key_id} was not delivered by an "
                               "entitlement grant (an imported key)", 409)
        if lic["disabled"]:
            raise TriggerError(f"license key {license_key_id} is already disabled", 409)
        shown = self.backend.license_keys.update(ns, license_key_id, {"disabled": True})
        return {"license_key": shown, "entitlement_grant": self._grant(ns, ns.get(KEY, license_key_id))}

    def fail(self, ns, params: dict) -> dict:
        """A paid checkout of a license-key product with an entitlement whose delivery fails
        (`error_code`, `error_message` may be given): a failed grant and no key."""
        grants = self.backend.license_keys.grants
        with ns.lock:
            before = ns.get(OUTCOME, "next")
            grants.script_outcome(ns, "failed", 1, params.get("error_code"),
                                  params.get("error_message"))
            try:
                made = self.buy(ns, params, grant=True)
            finally:  # whatever was scripted before holds again (the one failure was used)
                ns.delete(OUTCOME, "next")
                if before is not None:
                    ns.put(OUTCOME, "next", before)
        payment_id = made["payment"]["payment_id"]
        made["entitlement_grants"] = [grants.render(ns, g) for g in ns.values(GRANT)
                                      if g["payment_id"] == payment_id]
        return made

    def _grant(self, ns, lic: dict) -> dict:
        return self.backend.license_keys.grants.render(ns, ns.get(GRANT, lic["grant_id"]), lic)

    @staticmethod
    def _first_product(ns, grant: bool) -> str:
        products = sorted((p for p in ns.values(PRODUCT) if not p["is_recurring"]
                           and terms_of(p) is not None
                           and (not grant or terms_of(p)["entitlement_id"] is not None)),
                          key=lambda p: p["created_at"])
        if not products:
            raise TriggerError(f"no one-time license-key product in {ns.name}: pass product_id", 409)
        return products[0]["product_id"]
