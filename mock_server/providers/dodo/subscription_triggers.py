"""Dodo's subscription.* and dunning.* events on demand (POST /_mock/trigger). Each causes its
event through the subscription rules: `subscription_id` names the subscription to act on; without
it, a new one is bought (a confirmed checkout of `product_id`, else the catalog's first
subscription product, scripted paid)."""
from __future__ import annotations

from ...core import payments as core_payments
from ...core.clock import iso
from ...core.errors import ApiError
from ...core.triggers import TriggerError
from .subscription_renewals import RENEWAL
from .models import PRODUCT
from .subscriptions import INTERNAL, SUBSCRIPTION, render


class SubscriptionTriggers:
    def __init__(self, backend):
        self.backend = backend

    def register(self, triggers) -> None:
        for event, fn in {
            "subscription.active": self.active, "subscription.renewed": self.renewed,
            "subscription.on_hold": self.on_hold, "subscription.past_due": self.past_due,
            "subscription.paused": self.paused, "subscription.unpaused": self.unpaused,
            "subscription.cancelled": self.cancelled, "subscription.expired": self.expired,
            "subscription.updated": self.updated,
            "subscription.update_payment_method": self.update_payment_method,
            "subscription.plan_changed": self.plan_changed, "subscription.failed": self.failed,
            "dunning.started": self.on_hold, "dunning.recovered": self.recovered,
        }.items():
            triggers.register("dodo", event, fn)

    # -- finding or making one ---------------------------------------------------------------
    def _new(self, ns, params: dict) -> dict:
        opener = self.backend.triggers
        payment = opener.open_payment(ns, params, recurring=True)
        try:
            payment = self.backend.payments.payments.script(ns, payment, "paid")
        except (core_payments.TransitionError, ValueError) as exc:
            raise TriggerError(str(exc), 409) from None
        return ns.get(SUBSCRIPTION, payment["data"]["subscription_id"])

    def _sub(self, ns, params: dict, *statuses: str) -> dict:
        sub_id = params.get("subscription_id")
        if sub_id is None:
            sub = self._new(ns, params)
        else:
            sub = ns.get(SUBSCRIPTION, sub_id)
            if sub is None:
                raise TriggerError(f"no subscription {sub_id} in {ns.name}", 404)
        if statuses and sub["status"] not in statuses:
            raise TriggerError(f"subscription {sub['subscription_id']} is {sub['status']}, not "
                               f"{' or '.join(statuses)}", 409)
        return sub

    def _read(self, ns, sub_id: str, **more) -> dict:
        return dict({"subscription": render(ns.get(SUBSCRIPTION, sub_id))}, **more)

    def _patch(self, ns, sub: dict, body: dict) -> dict:
        try:
            self.backend.subscriptions.patch(ns, sub["subscription_id"], body)
        except ApiError as exc:
            raise TriggerError(exc.message, 409) from None
        return self._read(ns, sub["subscription_id"])

    # -- the triggers ------------------------------------------------------------------------
    def active(self, ns, params: dict) -> dict:
        """A new subscription (or an on_hold one recovered)."""
        if params.get("subscription_id"):
            return self.recovered(ns, params)
        return self._read(ns, self._new(ns, params)["subscription_id"])

    def failed(self, ns, params: dict) -> dict:
        """A new subscription checkout whose payment is declined (`reason`)."""
        payment = self.backend.triggers.open_payment(ns, params, recurring=True)
        try:
            payment = self.backend.payments.payments.script(ns, payment, "declined",
                                                             params.get("reason"))
        except (core_payments.TransitionError, ValueError) as exc:
            raise TriggerError(str(exc), 409) from None
        return self._read(ns, payment["data"]["subscription_id"],
                          payment=self.backend.payments.render(ns, payment))

    def renewed(self, ns, params: dict) -> dict:
        """Renew it now: the period that starts at next_billing_date is charged and the dates
        move one cycle on."""
        sub = self._sub(ns, params, "active")
        with ns.lock:
            payment = self.backend.renewals.charge(ns, sub, RENEWAL)
        return self._read(ns, sub["subscription_id"], payment=self.backend.payments.render(ns, payment))

    def on_hold(self, ns, params: dict) -> dict:
        """Its renewal fails now (`reason`, default card_declined): payment.failed,
        subscription.on_hold (past_due with a grace period), dunning.started."""
        sub = self._sub(ns, params, "active")
        with ns.lock:
            sub[INTERNAL]["fail_next"] = params.get("reason") or "CARD_DECLINED"
            self.backend.subscriptions.save(ns, sub)
            try:
                payment = self.backend.renewals.charge(ns, sub, RENEWAL)
            except ValueError as exc:  # an unknown reason
                raise TriggerError(str(exc)) from None
        return self._read(ns, sub["subscription_id"], payment=self.backend.payments.render(ns, payment))

    def past_due(self, ns, params: dict) -> dict:
        if not self.backend.subscriptions.grace_days:
            raise TriggerError("subscriptions go past_due only with a grace period: start the "
                               "server with dodo_subscription_grace_days > 0", 409)
        return self.on_hold(ns, params)

    def paused(self, ns, params: dict) -> dict:
        return self._patch(ns, self._sub(ns, params, "active"), {"status": "paused"})

    def unpaused(self, ns, params: dict) -> dict:
        sub = self._sub(ns, params, "active", "paused")
        if sub["status"] == "active":
            self._patch(ns, sub, {"status": "paused"})
        return self._patch(ns, sub, {"status": "active"})

    def cancelled(self, ns, params: dict) -> dict:
        return self._patch(ns, self._sub(ns, params, "active", "on_hold", "paused", "past_due"),
                           {"status": "cancelled", "cancel_reason": "cancelled_by_merchant"})

    def updated(self, ns, params: dict) -> dict:
        sub = self._sub(ns, params)
        metadata = dict(sub["metadata"], **(params.get("metadata") or {"triggered": "true"}))
        return self._patch(ns, sub, {"metadata": metadata})

    def expired(self, ns, params: dict) -> dict:
        """Its term ends now (expires_at is moved to the present, then the job ends it)."""
        sub = self._sub(ns, params, "active")
        renewals, now = self.backend.renewals, self.backend.clock.now()
        with ns.lock:
            sub[INTERNAL]["ends_at"] = now
            sub["expires_at"] = iso(now)
            self.backend.subscriptions.save(ns, sub)
            renewals.fall_due(ns, ns.get(SUBSCRIPTION, sub["subscription_id"]), now)
        return self._read(ns, sub["subscription_id"])

    def plan_changed(self, ns, params: dict) -> dict:
        """It moves to `to_product_id` (else the catalog's next subscription product), billed as
        `proration_billing_mode` says (default prorated_immediately)."""
        sub = self._sub(ns, params, "active")
        target = params.get("to_product_id") or next(
            (p["product_id"] for p in sorted(ns.values(PRODUCT), key=lambda p: p["created_at"])
             if p["is_recurring"] and p["product_id"] != sub["product_id"]
             and p["price"]["currency"] == sub["currency"]), None)
        if target is None:
            raise TriggerError("no other subscription product to change to: pass to_product_id", 409)
        try:
            answer = self.backend.plans.change(ns, sub["subscription_id"], {
                "product_id": target, "quantity": params.get("quantity") or sub["quantity"],
                "proration_billing_mode": params.get("proration_billing_mode")
                or "prorated_immediately"})
        except ApiError as exc:
            raise TriggerError(exc.message, 409) from None
        return self._read(ns, sub["subscription_id"], change=answer)

    def update_payment_method(self, ns, params: dict) -> dict:
        sub = self._sub(ns, params, "active")
        answer = self.backend.renewals.update_payment_method(
            ns, sub["subscription_id"], {"type": "existing",
                                         "payment_method_id": sub["payment_method_id"]})
        return self._read(ns, sub["subscription_id"], update=answer)

    def recovered(self, ns, params: dict) -> dict:
        """An on_hold subscription (made so if params name none) pays its dues with its saved
        method: payment.succeeded, subscription.active, dunning.recovered."""
        sub = self._sub(ns, params)
        if sub["status"] == "active":
            self.on_hold(ns, {"subscription_id": sub["subscription_id"]})
            sub = ns.get(SUBSCRIPTION, sub["subscription_id"])
        if sub["status"] not in ("on_hold", "past_due"):
            raise TriggerError(f"subscription {sub['subscription_id']} is {sub['status']}, not "
                               "on_hold", 409)
        for card in [sub[INTERNAL]["card"], *sub[INTERNAL]["methods"].values()]:
            card.pop("later_decline", None)  # the customer had their card fixed
        with ns.lock:
            self.backend.subscriptions.save(ns, sub)
        answer = self.backend.renewals.update_payment_method(
            ns, sub["subscription_id"], {"type": "existing",
                                         "payment_method_id": sub["payment_method_id"]})
        return self._read(ns, sub["subscription_id"], update=answer)
