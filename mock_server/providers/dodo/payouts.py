"""Payouts: Dodo paying the merchant's balance out to their bank account.

Nothing in the mock pays out by itself (Dodo does it on its own schedule, from its side), so the
control API does what Dodo's payout run would (`POST /_mock/dodo/payouts`): a payout of the
namespace's balance in one currency, or of an amount given, then moves it through PayoutStatus,
each move sending its event:

    not_initiated (payout.created) -> in_progress | on_hold
    on_hold (payout.on_hold)       -> in_progress | failed
    in_progress (payout.in_progress) -> success | failed | on_hold
    success (payout.success), failed (payout.failed): final

The balance of a currency: succeeded payments, minus succeeded refunds, minus disputes the merchant
lost or accepted (chargebacks), minus every payout not failed (a failed payout's funds are credited
back to the wallet, as payout.failed says). Dodo's own fees are not modelled: `fee` and `tax` are 0.
`refunds` and `chargebacks` (deprecated fields) are what came since the currency's previous payout.
`GET /payouts` lists them, newest first.
"""
from __future__ import annotations

from ...core import ids
from ...core import payments as core_payments
from ...core.clock import iso
from ...core.store import Namespace
from . import paging
from .disputes import DISPUTE
from .refunds import REFUND

PAYOUT = "payout"
MOVES = {  # action -> (status it moves to, statuses it moves from)
    "hold": ("on_hold", {"not_initiated", "in_progress"}),
    "process": ("in_progress", {"not_initiated", "on_hold"}),
    "fail": ("failed", {"on_hold", "in_progress"}),
    "succeed": ("success", {"in_progress"}),
}
CHARGEBACK = frozenset({"dispute_lost", "dispute_accepted"})
FIELDS = ("payout_id", "business_id", "payment_method", "status", "fee", "tax", "amount",
          "created_at", "updated_at", "currency", "refunds", "chargebacks", "name",
          "payout_document_url", "remarks")


class PayoutError(ValueError):
    """A move the payout's status does not allow, or nothing to pay out (a 409)."""


class Payouts:
    def __init__(self, backend):
        self.backend = backend  # clock, events, business_id

    def balance(self, ns: Namespace, currency: str = "USD") -> dict:
        """What the namespace could pay out now in `currency` (minor units), and its parts."""
        paid = sum(p["amount"] for p in ns.values(core_payments.PAYMENT)
                   if p.get("provider") == "dodo" and p["status"] == core_payments.SUCCEEDED
                   and p["currency"] == currency)
        refunds = sum(r["amount"] for r in ns.values(REFUND)
                      if r["status"] == "succeeded" and r["currency"] == currency)
        chargebacks = sum(int(d["amount"]) for d in ns.values(DISPUTE)
                          if d["dispute_status"] in CHARGEBACK and d["currency"] == currency)
        earlier = [p for p in ns.values(PAYOUT) if p["currency"] == currency
                   and p["status"] != "failed"]
        paid_out = sum(p["amount"] for p in earlier)
        return {"currency": currency, "available": paid - refunds - chargebacks - paid_out,
                "refunds": refunds - sum(p["refunds"] for p in earlier),
                "chargebacks": chargebacks - sum(p["chargebacks"] for p in earlier)}

    def create(self, ns: Namespace, amount: int | None = None, currency: str | None = None,
               remarks: str | None = None) -> dict:
        """A payout of the balance in `currency` (default USD), or of `amount` of it; sends
        payout.created. ValueError for a bad amount, PayoutError when there is nothing to pay."""
        currency = currency or "USD"
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
            raise ValueError(f"currency must be an ISO 4217 code such as \"USD\", got {currency!r}")
        if remarks is not None and not isinstance(remarks, str):
            raise ValueError("remarks must be a string")
        with ns.lock:
            balance = self.balance(ns, currency)
            available = balance["available"]
            if amount is None:
                if available <= 0:
                    raise PayoutError(f"nothing to pay out: the {currency} balance of {ns.name} "
                                      f"is {available}")
                amount = available
            elif isinstance(amount, bool) or not isinstance(amount, int) \
                    or not 0 < amount <= max(available, 0):
                raise ValueError(f"amount must be an integer from 1 to the {currency} balance "
                                 f"{available} (minor units), got {amount!r}")
            now = iso(self.backend.clock.now())
            payout = {
                "payout_id": ids.prefixed("pyt", 21), "business_id": self.backend.business_id,
                "payment_method": "bank_transfer", "status": "not_initiated", "fee": 0, "tax": 0,
                "amount": amount, "currency": currency, "created_at": now, "updated_at": now,
                "refunds": balance["refunds"], "chargebacks": balance["chargebacks"],
                "name": None, "payout_document_url": None, "remarks": remarks,
            }
            ns.put(PAYOUT, payout["payout_id"], payout)
            self._emit(ns, "payout.created", payout)
        return self.render(payout)

    def move(self, ns: Namespace, payout_id: str, action: str, remarks: str | None = None) -> dict:
        """hold, process, fail or succeed the payout; sends payout.<its new status>."""
        if action not in MOVES:
            raise LookupError(f"unknown payout action {action!r}; use {', '.join(MOVES)}")
        if remarks is not None and not isinstance(remarks, str):
            raise ValueError("remarks must be a string")
        status, sources = MOVES[action]
        with ns.lock:
            payout = ns.get(PAYOUT, payout_id)
            if payout is None:
                raise LookupError(f"no payout {payout_id} in {ns.name}")
            if payout["status"] not in sources:
                raise PayoutError(f"payout {payout_id} is {payout['status']}; {action} needs "
                                  f"{' or '.join(sorted(sources))}")
            payout.update(status=status, updated_at=iso(self.backend.clock.now()))
            if remarks is not None:
                payout["remarks"] = remarks
            ns.save(PAYOUT, payout_id, payout)
            self._emit(ns, f"payout.{status}", payout)
        return self.render(payout)

    def get(self, ns: Namespace, payout_id: str) -> dict | None:
        payout = ns.get(PAYOUT, payout_id)
        return None if payout is None else self.render(payout)

    def list(self, ns: Namespace, query: dict) -> dict:
        """GET /payouts: newest first, created_at_gte / _lte, page_size / page_number."""
        created = paging.created_between(query)
        rows = [p for p in ns.values(PAYOUT) if created(p["created_at"])]
        rows.sort(key=lambda p: (p["created_at"], p["payout_id"]), reverse=True)
        return {"items": [self.render(p) for p in paging.page(rows, query)]}

    @staticmethod
    def render(payout: dict) -> dict:
        """PayoutsResponse."""
        return {name: payout[name] for name in FIELDS}

    def _emit(self, ns: Namespace, event: str, payout: dict) -> None:
        self.backend.events.emit(ns, event, "Payout", self.render(payout))
