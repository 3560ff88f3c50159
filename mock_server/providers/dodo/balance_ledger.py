"""The merchant's balance ledger, `GET /balances/ledger`: every move of the balance payouts are
made from, derived from what happened in the namespace when it is read (so it never disagrees
with the payments, refunds, disputes and payouts it reports):

    a payment that succeeded        credit  payment
    a refund that succeeded         debit   refund
    a dispute lost or accepted      debit   dispute
    a payout not failed             debit   payout

Oldest first within a currency, each with the balance before and after it; listed newest first,
filtered by the spec's `created_at_gte` / `_lte`, `reference_object_id`, `event_type`,
`currency`, paged by `page_size` / `page_number` after `limit`. Fees, tax and conversions are
not emulated; `usd_equivalent_amount` is the amount itself (the mock keeps no exchange rates).
"""
from __future__ import annotations

from ...core import payments as core_payments
from ...core.clock import epoch
from ...core.request import Request
from ...core.store import Namespace
from ..base import handler
from . import paging
from .disputes import DISPUTE
from .payouts import CHARGEBACK, PAYOUT
from .refunds import REFUND


class BalanceLedger:
    def __init__(self, backend):
        self.backend = backend  # business_id

    def entries(self, ns: Namespace) -> list[dict]:
        """Every entry, oldest first, with running balances per currency."""
        moves = []
        for payment in ns.values(core_payments.PAYMENT):
            if payment.get("provider") == "dodo" and payment["status"] == core_payments.SUCCEEDED:
                at = next((h["at"] for h in payment["history"]
                           if h["status"] == core_payments.SUCCEEDED), payment["updated_at"])
                moves.append((at, "payment", True, payment["amount"], payment["currency"],
                              payment["id"]))
        for refund in ns.values(REFUND):
            if refund["status"] == "succeeded":
                moves.append((refund["created_at"], "refund", False, refund["amount"],
                              refund["currency"], refund["refund_id"]))
        for dispute in ns.values(DISPUTE):
            if dispute["dispute_status"] in CHARGEBACK:
                moves.append((dispute.get("updated_at") or dispute["created_at"], "dispute", False,
                              int(dispute["amount"]), dispute["currency"], dispute["dispute_id"]))
        for payout in ns.values(PAYOUT):
            if payout["status"] != "failed":
                moves.append((payout["created_at"], "payout", False, payout["amount"],
                              payout["currency"], payout["payout_id"]))
        moves.sort(key=lambda m: (epoch(m[0]), m[5]))
        balances: dict[str, int] = {}
        out = []
        for at, event_type, credit, amount, currency, reference in moves:
            before = balances.get(currency, 0)
            after = before + amount if credit else before - amount
            balances[currency] = after
            out.append({
                "id": f"ble_{reference.partition('_')[2]}", "business_id": self.backend.business_id,
                "event_type": event_type, "amount": amount, "currency": currency,
                "is_credit": credit, "created_at": at, "usd_equivalent_amount": amount,
                "before_balance": before, "after_balance": after,
                "reference_object_id": reference, "description": None})
        return out

    def list(self, ns: Namespace, query: dict) -> dict:
        created = paging.created_between(query)
        rows = [e for e in reversed(self.entries(ns))
                if created(e["created_at"])
                and query.get("reference_object_id") in (None, e["reference_object_id"])
                and query.get("event_type") in (None, e["event_type"])
                and query.get("currency") in (None, e["currency"])]
        if query.get("limit") is not None:
            rows = rows[:max(query["limit"], 0)]
        return {"items": paging.page(rows, query)}


class BalanceLedgerHandlers:
    def __init__(self, ledger: BalanceLedger):
        self.ledger = ledger

    @handler("list_ledger_entries_merchant_handler")
    def list(self, req: Request):
        return self.ledger.list(req.ns, req.query)
