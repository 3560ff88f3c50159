"""A customer's wallets: `GET /customers/{id}/wallets`, and their ledger
(`GET`/`POST /customers/{id}/wallets/ledger-entries`).

A wallet per currency, made by its first entry. The merchant's entries (`credit` or `debit`, event
type `merchant_adjustment`) move its balance; a debit may not take it below zero (paymock's
choice: 422 `INSUFFICIENT_WALLET_BALANCE`; the spec names no code). An `idempotency_key` seen
before for the customer answers the wallet again without a second entry.
`total_balance_usd` counts the USD wallet only: the mock keeps no exchange rates (paymock's
choice).
"""
from __future__ import annotations

from ...core import ids
from ...core.clock import iso
from ...core.request import Request
from ...core.store import Namespace
from ..base import handler
from . import paging
from .errors import invalid, not_found
from .models import CUSTOMER

WALLETS = "customer_wallets"  # customer id -> {"wallets": {currency: wallet}, "entries": [...], "keys": [...]}


class Wallets:
    def __init__(self, backend):
        self.backend = backend  # clock, business_id

    def list(self, ns: Namespace, customer_id: str) -> dict:
        book = self._book(ns, customer_id)
        wallets = sorted(book["wallets"].values(), key=lambda w: w["currency"])
        return {"items": wallets,
                "total_balance_usd": book["wallets"].get("USD", {}).get("balance", 0)}

    def add(self, ns: Namespace, customer_id: str, body: dict) -> dict:
        with ns.lock:
            book = self._book(ns, customer_id)
            key = body.get("idempotency_key")
            currency, amount = body["currency"], body["amount"]
            if amount <= 0:
                raise invalid("amount must be a positive number of the currency's minor units")
            now = iso(self.backend.clock.now())
            wallet = book["wallets"].get(currency) or {
                "customer_id": customer_id, "currency": currency, "balance": 0,
                "created_at": now, "updated_at": now}
            if key is not None and key in book["keys"]:
                return wallet  # seen: no second entry
            credit = body["entry_type"] == "credit"
            after = wallet["balance"] + (amount if credit else -amount)
            if after < 0:
                raise invalid(f"The {currency} wallet holds {wallet['balance']}; a debit of "
                              f"{amount} would take it below zero", "INSUFFICIENT_WALLET_BALANCE")
            book["entries"].append({
                "id": ids.prefixed("cwt", 21), "business_id": self.backend.business_id,
                "customer_id": customer_id, "currency": currency, "amount": amount,
                "is_credit": credit, "event_type": "merchant_adjustment", "created_at": now,
                "before_balance": wallet["balance"], "after_balance": after,
                "reason": body.get("reason"), "reference_object_id": None})
            wallet.update(balance=after, updated_at=now)
            book["wallets"][currency] = wallet
            if key is not None:
                book["keys"].append(key)
            ns.put(WALLETS, customer_id, book)
            return wallet

    def entries(self, ns: Namespace, customer_id: str, query: dict) -> dict:
        book = self._book(ns, customer_id)
        rows = [e for e in reversed(book["entries"])
                if query.get("currency") in (None, e["currency"])]
        return {"items": paging.page(rows, query)}

    @staticmethod
    def _book(ns: Namespace, customer_id: str) -> dict:
        if ns.get(CUSTOMER, customer_id) is None:
            raise not_found("Customer not found")
        return ns.get(WALLETS, customer_id) or {"wallets": {}, "entries": [], "keys": []}


class WalletHandlers:
    def __init__(self, wallets: Wallets):
        self.wallets = wallets

    @handler("get_customer_wallets")
    def list(self, req: Request):
        return self.wallets.list(req.ns, req.path["customer_id"])

    @handler("create_customer_ledger_entry")
    def add(self, req: Request):
        return self.wallets.add(req.ns, req.path["customer_id"], req.body)

    @handler("get_customer_wallet_transactions")
    def entries(self, req: Request):
        return self.wallets.entries(req.ns, req.path["customer_id"], req.query)
