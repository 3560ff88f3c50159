"""When credits come and go on their own: purchases grant them, billing cycles roll them over (or
forfeit them) and reset overage, and each grant expires at its time on the mock clock.

Purchases (DodoPayments.after_emit, once a payment newly succeeded): each product of the payment's
cart that attaches credit entitlements grants `credits_amount` x quantity of each to the customer —
a one-time purchase once (source `one_time`), a subscription at its first payment and at each
renewal (source `subscription`; renewals are payments too).

A subscription's renewal first closes the cycle that ends (before its new grant), for each
entitlement the subscription granted:
- its grants still holding credits roll over when rollover is enabled and the grant has rolled
  fewer than `max_rollover_count` times: `rollover_percentage` (default 100) of what is left moves
  to a new grant (source `rollover`, credit.rolled_over, expiring after the rollover timeframe when
  one is set, else when its parent did), the rest is forfeited (credit.rollover_forfeited); past
  the count everything left is forfeited; without rollover what is left expires (credit.expired);
- overage is forgiven (`forgive_at_reset`) or billed (`invoice_at_billing`; paymock does not add
  it to the renewal's amount) and reset to 0 (credit.overage_reset); `carry_deficit*` keep it
  (`carry_deficit_auto_repay`: the new grant pays it back first, credit_ledger.py).

Expiry: a grant expires after `expires_after_days` (default 30, dodo-lifecycle.md section 8), or at
a manual credit's `expires_at`. Each grant with an expiry goes on a due-time heap; the scheduler's
job pops what is due and looks at that grant only (never a scan of every namespace).
"""
from __future__ import annotations

from decimal import Decimal

from ...core.clock import iso
from ...core.due_times import DueTimes
from ...core.store import Namespace
from .credit_ledger import BALANCE, GRANT, active, key
from .credits import ENTITLEMENT
from .products import PRODUCT

DEFAULT_EXPIRY_DAYS = 30
DAY = 86400
INTERVAL_DAYS = {"Day": 1, "Week": 7, "Month": 30, "Year": 365}


class CreditCycles:
    def __init__(self, backend, ledger, store, wake=lambda: None):
        self.backend = backend  # clock, events
        self.ledger = ledger
        self.expiries = DueTimes(store, backend.clock, self.expire, wake, "credit grant")
        self.run, self.dump, self.load = self.expiries.run, self.expiries.dump, self.expiries.load
        ledger.on_grant.append(self.schedule)

    # -- purchases -------------------------------------------------------------------------------
    def on_payment(self, ns: Namespace, payment: dict, previous: str) -> None:
        """after_emit: a newly paid payment grants its products' credits."""
        if payment["status"] != "succeeded" or previous == "succeeded":
            return
        data = payment["data"]
        customer_id = (data.get("customer") or {}).get("customer_id")
        if customer_id is None:
            return
        subscription_id = data.get("subscription_id")
        for item in data.get("product_cart") or []:
            product = ns.read(PRODUCT, item["product_id"])
            for mapping in (product or {}).get("credit_entitlements") or []:
                self.purchase(ns, customer_id, mapping, item.get("quantity") or 1,
                              payment, subscription_id)

    def purchase(self, ns: Namespace, customer_id: str, mapping: dict, quantity: int,
                 payment: dict, subscription_id: str | None) -> dict | None:
        entitlement = ns.get(ENTITLEMENT, mapping["credit_entitlement_id"])
        if entitlement is None or entitlement["deleted"]:
            return None  # deleted since the product attached it: grants nothing
        if subscription_id is not None:
            self.close_cycle(ns, entitlement["id"], customer_id, subscription_id)
        days = mapping.get("expires_after_days")
        if days is None:
            days = entitlement.get("expires_after_days")
        days = DEFAULT_EXPIRY_DAYS if days is None else days
        now = self.backend.clock.now()
        return self.ledger.grant(
            ns, entitlement["id"], customer_id, Decimal(mapping["credits_amount"]) * quantity,
            source_type="subscription" if subscription_id else "one_time",
            source_id=subscription_id or payment["id"], expires_at=now + days * DAY,
            terms=mapping, subscription_id=subscription_id,
            metadata=payment["data"].get("metadata") or {},
            description="Credits granted from subscription" if subscription_id
            else "Credits granted from purchase",
            reference=("subscription", subscription_id) if subscription_id
            else ("payment", payment["id"]))

    # -- the cycle's end -----------------------------------------------------------------------
    def close_cycle(self, ns: Namespace, entitlement_id: str, customer_id: str,
                    subscription_id: str) -> None:
        balance = ns.get(BALANCE, key(entitlement_id, customer_id))
        if balance is None:
            return
        settings = self.ledger.settings(ns, balance)
        for grant in self.ledger.grants(ns, balance):
            if grant["source_id"] != subscription_id or not active(grant):
                continue
            balance = ns.get(BALANCE, key(entitlement_id, customer_id))
            self._roll(ns, balance, grant, settings)
        balance = ns.get(BALANCE, key(entitlement_id, customer_id))
        overage = Decimal(balance["overage"])
        if overage > 0 and settings["overage_behavior"] in ("forgive_at_reset",
                                                            "invoice_at_billing"):
            self.ledger.record(ns, balance, "overage_reset", overage, credit=True,
                               balance_after=Decimal(balance["balance"]), overage_after=Decimal(0),
                               description=f"Overage reset at cycle end "
                               f"({settings['overage_behavior']})",
                               reference=("subscription", subscription_id))

    def _roll(self, ns: Namespace, balance: dict, grant: dict, settings: dict) -> None:
        left = Decimal(grant["remaining_amount"])
        count = settings["max_rollover_count"]
        if not settings["rollover_enabled"]:
            self._close(ns, grant, "is_expired")
            self.ledger.record(ns, balance, "credit_expired", left, credit=False,
                               balance_after=Decimal(balance["balance"]) - left,
                               overage_after=Decimal(balance["overage"]), grant_id=grant["id"],
                               description="Unused credits expired at cycle end")
            return
        rolled = Decimal(0)
        if count is None or grant["rollover_count"] < count:
            percent = settings["rollover_percentage"]
            percent = 100 if percent is None else percent
            rolled = self.ledger.quantize(left * percent / 100, settings)
        self._close(ns, grant, "is_rolled_over")
        balance = ns.get(BALANCE, key(balance["credit_entitlement_id"], balance["customer_id"]))
        if left - rolled > 0:
            self.ledger.record(ns, balance, "rollover_forfeited", left - rolled, credit=False,
                               balance_after=Decimal(balance["balance"]) - (left - rolled),
                               overage_after=Decimal(balance["overage"]), grant_id=grant["id"],
                               description="Credits forfeited at rollover")
            balance = ns.get(BALANCE, key(balance["credit_entitlement_id"],
                                          balance["customer_id"]))
        if rolled > 0:
            self.ledger.grant(ns, balance["credit_entitlement_id"], balance["customer_id"],
                              rolled, source_type="rollover", source_id=grant["source_id"],
                              expires_at=self._rollover_expiry(grant, settings), parent=grant,
                              transaction_type="credit_rolled_over",
                              description="Credits rolled over to the next cycle",
                              reference=("subscription", grant["source_id"]))

    def _rollover_expiry(self, grant: dict, settings: dict) -> float | None:
        count, interval = settings["rollover_timeframe_count"], \
            settings["rollover_timeframe_interval"]
        if count and interval:
            return self.backend.clock.now() + count * INTERVAL_DAYS.get(interval, 30) * DAY
        return grant["expires_epoch"]

    def _close(self, ns: Namespace, grant: dict, flag: str) -> None:
        grant = ns.get(GRANT, grant["id"])
        grant.update({flag: True, "remaining_amount": "0",
                      "updated_at": iso(self.backend.clock.now())})
        ns.save(GRANT, grant["id"], grant)

    # -- expiry on the mock clock --------------------------------------------------------------
    def schedule(self, ns: Namespace, grant: dict) -> None:
        """CreditLedger.on_grant: a grant with an expiry is looked at then."""
        due = grant.get("expires_epoch")
        if due is None:
            return
        self.expiries.add(ns.name, grant["id"], due)

    def expire(self, ns: Namespace, grant_id: str) -> dict | None:
        """The grant's credits left expire now (credit.expired). Under ns.lock."""
        grant = ns.get(GRANT, grant_id)
        if grant is None or grant["is_expired"] or grant["is_rolled_over"]:
            return None
        left = Decimal(grant["remaining_amount"])
        self._close(ns, grant, "is_expired")
        if left <= 0:
            return None
        balance = ns.get(BALANCE, key(grant["credit_entitlement_id"], grant["customer_id"]))
        return self.ledger.record(ns, balance, "credit_expired", left, credit=False,
                                  balance_after=Decimal(balance["balance"]) - left,
                                  overage_after=Decimal(balance["overage"]), grant_id=grant_id,
                                  description="Credits expired")
