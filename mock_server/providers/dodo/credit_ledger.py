"""A customer's credits under one entitlement: the balance, its grants and its ledger.

Every change is one ledger entry (CreditLedgerEntry, `cle_`) and one webhook: a grant adds
(credit.added), usage spends (credit.deducted) FIFO — the grant that expires first, then the
oldest — and what usage spends beyond the balance is overage (credit.overage_charged) when the
entitlement allows it, up to `overage_limit` (400 OVERAGE_LIMIT_EXCEEDED beyond). A debit the
balance cannot cover without overage is refused: 400 INSUFFICIENT_CREDIT_BALANCE (paymock's code;
the spec says only "insufficient balance"). The merchant's own entries (POST .../ledger-entries)
are `manual_adjustment` (credit.manual_adjustment); an `idempotency_key` seen before answers the
first entry again, or 409 IDEMPOTENCY_KEY_ALREADY_EXISTS when the body differs.

The settings that apply are the entitlement's, overlaid by the non-null ones of the product
attachment that last granted (`terms` on the balance: credits_amount, low_balance_threshold_percent,
overage and rollover settings). credit.balance_low fires when a spend takes the balance from at
least `low_balance_threshold_percent` of the attachment's credits_amount to below it.

Cycles (rollover, overage reset) and expiry are credit_cycles.py's; they call `record`.
"""
from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from ...core import ids
from ...core.clock import epoch, iso
from ...core.errors import ApiError
from ...core.store import Namespace
from . import paging
from .credits import DELETED, ENTITLEMENT, MISSING, SETTINGS, amount, text
from .errors import not_found

BALANCE = "credit_balance"          # "{entitlement id}:{customer id}"
GRANT = "credit_grant"
ENTRY = "credit_ledger_entry"
IDEMPOTENCY = "credit_idempotency"  # "{entitlement id}:{customer id}:{key}" -> first entry
CUSTOMER = "customer"
EVENTS = {"credit_added": "credit.added", "credit_deducted": "credit.deducted",
          "credit_expired": "credit.expired", "credit_rolled_over": "credit.rolled_over",
          "rollover_forfeited": "credit.rollover_forfeited",
          "overage_charged": "credit.overage_charged", "overage_reset": "credit.overage_reset",
          "manual_adjustment": "credit.manual_adjustment"}
GRANT_FIELDS = ("id", "credit_entitlement_id", "customer_id", "source_type", "source_id",
                "initial_amount", "remaining_amount", "rollover_count", "is_expired",
                "is_rolled_over", "parent_grant_id", "expires_at", "metadata", "created_at",
                "updated_at")
D0 = Decimal(0)


def key(entitlement_id: str, customer_id: str) -> str:
    return f"{entitlement_id}:{customer_id}"


def active(grant: dict) -> bool:
    return not grant["is_expired"] and not grant["is_rolled_over"] \
        and Decimal(grant["remaining_amount"]) > 0


class CreditLedger:
    def __init__(self, backend):
        self.backend = backend  # clock, events, business_id
        self.on_grant = []      # callables (ns, grant) for grants that expire (the heap)

    # -- settings --------------------------------------------------------------------------------
    def entitlement(self, ns: Namespace, entitlement_id: str, live: bool = False) -> dict:
        found = ns.get(ENTITLEMENT, entitlement_id)
        if found is None:
            raise not_found("Credit entitlement not found")
        if live and found[DELETED]:
            raise ApiError(410, MISSING, "CREDIT_ENTITLEMENT_IS_DELETED")
        return found

    def settings(self, ns: Namespace, balance: dict) -> dict:
        entitlement = self.entitlement(ns, balance["credit_entitlement_id"])
        terms = balance.get("terms") or {}
        merged = {name: terms.get(name) if terms.get(name) is not None else entitlement.get(name)
                  for name in SETTINGS}
        merged["precision"] = entitlement["precision"]
        merged["name"] = entitlement["name"]
        return merged

    def quantize(self, value: Decimal, settings: dict) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-settings["precision"]), rounding=ROUND_DOWN)

    # -- balances ----------------------------------------------------------------------------------
    def balance(self, ns: Namespace, entitlement_id: str, customer_id: str,
                create: bool = False) -> dict | None:
        found = ns.get(BALANCE, key(entitlement_id, customer_id))
        if found is None and create:
            now = iso(self.backend.clock.now())
            found = {"id": ids.prefixed("ccb", 21), "customer_id": customer_id,
                     "credit_entitlement_id": entitlement_id, "balance": "0", "overage": "0",
                     "created_at": now, "updated_at": now, "last_transaction_at": None,
                     "grant_ids": [], "entry_ids": [], "terms": None, "subscription_id": None}
            ns.put(BALANCE, key(entitlement_id, customer_id), found)
        return found

    def grants(self, ns: Namespace, balance: dict) -> list[dict]:
        return [ns.get(GRANT, grant_id) for grant_id in balance["grant_ids"]]

    # -- the moves ------------------------------------------------------------------------------------
    def grant(self, ns: Namespace, entitlement_id: str, customer_id: str, value: Decimal, *,
              source_type: str, source_id: str | None, expires_at: float | None,
              terms: dict | None = None, subscription_id: str | None = None,
              metadata: dict | None = None, description: str | None = None,
              transaction_type: str = "credit_added", parent: dict | None = None,
              reference: tuple = (None, None)) -> dict:
        """New credits (a grant and its ledger entry, announced). With `carry_deficit_auto_repay`
        the grant pays the overage back first. Under ns.lock. Returns the ledger entry."""
        balance = self.balance(ns, entitlement_id, customer_id, create=True)
        if terms is not None:
            balance["terms"] = terms
            balance["subscription_id"] = subscription_id
        settings = self.settings(ns, balance)
        value = self.quantize(value, settings)
        overage = Decimal(balance["overage"])
        # rolled-over credits move from their old grant to this one: the balance keeps them
        moved = transaction_type == "credit_rolled_over"
        repay = min(overage, value) if settings["overage_behavior"] == "carry_deficit_auto_repay" \
            and not moved else D0
        now = self.backend.clock.now()
        grant = {"id": ids.prefixed("cgr", 21), "credit_entitlement_id": entitlement_id,
                 "customer_id": customer_id, "source_type": source_type, "source_id": source_id,
                 "initial_amount": text(value), "remaining_amount": text(value - repay),
                 "rollover_count": parent["rollover_count"] + 1 if parent else 0,
                 "is_expired": False, "is_rolled_over": False,
                 "parent_grant_id": parent["id"] if parent else None,
                 "expires_at": iso(expires_at) if expires_at is not None else None,
                 "expires_epoch": expires_at, "metadata": metadata or {},
                 "created_at": iso(now), "updated_at": iso(now)}
        ns.put(GRANT, grant["id"], grant)
        balance["grant_ids"].append(grant["id"])
        entry = self.record(ns, balance, transaction_type, value, credit=True,
                            balance_after=Decimal(balance["balance"]) + (D0 if moved else value)
                            - repay,
                            overage_after=overage - repay, grant_id=grant["id"],
                            description=description, metadata=metadata, reference=reference)
        for hook in self.on_grant:
            hook(ns, grant)
        return entry

    def deduct(self, ns: Namespace, customer_id: str, entitlement_id: str, units,
               reason: str | None = None) -> list[dict]:
        """Usage spends `units` credits (what metered usage will call; the control API's
        /_mock/dodo/credits/usage for now): 404 unknown customer or entitlement, 410 deleted
        entitlement, 400 when the balance (and overage) cannot cover it."""
        with ns.lock:
            if ns.get(CUSTOMER, customer_id) is None:
                raise not_found("Customer not found")
            value = amount(units, "units")
            if value <= 0:
                raise ApiError(400, f"units must be greater than 0, got {units!r}",
                               "INVALID_REQUEST_BODY")
            return self.spend(ns, entitlement_id, customer_id, value, usage=True,
                              description=reason or "Credits consumed by usage")

    def spend(self, ns: Namespace, entitlement_id: str, customer_id: str, value: Decimal, *,
              usage: bool, description: str | None = None, metadata: dict | None = None) -> list:
        """Take `value` credits FIFO, the rest as overage when allowed. `usage`: a usage
        deduction (credit.deducted + credit.overage_charged), else a manual debit (one
        credit.manual_adjustment). Under ns.lock. Returns the ledger entries."""
        self.entitlement(ns, entitlement_id, live=True)
        balance = self.balance(ns, entitlement_id, customer_id, create=True)
        settings = self.settings(ns, balance)
        value = self.quantize(value, settings)
        before, overage = Decimal(balance["balance"]), Decimal(balance["overage"])
        covered = min(before, value)
        extra = value - covered
        if extra > 0:
            if not settings["overage_enabled"]:
                raise ApiError(400, f"Insufficient credit balance: {text(before)} available, "
                               f"{text(value)} requested", "INSUFFICIENT_CREDIT_BALANCE")
            limit = settings["overage_limit"]
            if limit is not None and overage + extra > Decimal(str(limit)):
                raise ApiError(400, "Overage limit exceeded", "OVERAGE_LIMIT_EXCEEDED")
        first_grant = self._take(ns, balance, covered)
        entries = []
        if not usage:
            entries.append(self.record(ns, balance, "manual_adjustment", value, credit=False,
                                       balance_after=before - covered,
                                       overage_after=overage + extra, grant_id=first_grant,
                                       description=description, metadata=metadata))
        else:
            if covered > 0:
                entries.append(self.record(ns, balance, "credit_deducted", covered, credit=False,
                                           balance_after=before - covered, overage_after=overage,
                                           grant_id=first_grant, description=description,
                                           metadata=metadata))
            if extra > 0:
                entries.append(self.record(ns, balance, "overage_charged", extra, credit=False,
                                           balance_after=before - covered,
                                           overage_after=overage + extra,
                                           description=description, metadata=metadata))
        self._check_low(ns, balance, settings, before, before - covered)
        return entries

    def _take(self, ns: Namespace, balance: dict, value: Decimal) -> str | None:
        """Spend from the active grants, soonest expiry first (none last), then oldest."""
        grants = [g for g in self.grants(ns, balance) if active(g)]
        grants.sort(key=lambda g: (g["expires_epoch"] is None, g["expires_epoch"] or 0,
                                   g["created_at"]))
        first = None
        for grant in grants:
            if value <= 0:
                break
            take = min(value, Decimal(grant["remaining_amount"]))
            grant["remaining_amount"] = text(Decimal(grant["remaining_amount"]) - take)
            grant["updated_at"] = iso(self.backend.clock.now())
            ns.save(GRANT, grant["id"], grant)
            first = first or grant["id"]
            value -= take
        return first

    def record(self, ns: Namespace, balance: dict, transaction_type: str, value: Decimal, *,
               credit: bool, balance_after: Decimal, overage_after: Decimal,
               grant_id: str | None = None, description: str | None = None,
               metadata: dict | None = None, reference: tuple = (None, None)) -> dict:
        """One ledger entry: saves the balance as moved and sends the entry's event."""
        now = iso(self.backend.clock.now())
        business = self.backend.business_id
        entry = {"id": ids.prefixed("cle", 21), "business_id": business, "brand_id": business,
                 "customer_id": balance["customer_id"],
                 "credit_entitlement_id": balance["credit_entitlement_id"],
                 "transaction_type": transaction_type, "amount": text(value), "is_credit": credit,
                 "balance_before": balance["balance"], "balance_after": text(balance_after),
                 "overage_before": balance["overage"], "overage_after": text(overage_after),
                 "created_at": now, "description": description, "grant_id": grant_id,
                 "metadata": metadata or {}, "reference_type": reference[0],
                 "reference_id": reference[1]}
        ns.put(ENTRY, entry["id"], entry)
        balance.update(balance=entry["balance_after"], overage=entry["overage_after"],
                       updated_at=now, last_transaction_at=now)
        balance["entry_ids"].append(entry["id"])
        ns.save(BALANCE, key(balance["credit_entitlement_id"], balance["customer_id"]), balance)
        self.backend.events.emit(ns, EVENTS[transaction_type], "CreditLedgerEntry", entry)
        return entry

    def _check_low(self, ns, balance: dict, settings: dict, before: Decimal,
                   after: Decimal) -> None:
        terms = balance.get("terms") or {}
        percent = terms.get("low_balance_threshold_percent")
        if percent is None:
            return
        granted = Decimal(terms["credits_amount"])
        threshold = granted * percent / 100
        if before >= threshold > after:
            self.backend.events.emit(ns, "credit.balance_low", "CreditBalanceLow", {
                "customer_id": balance["customer_id"],
                "subscription_id": balance.get("subscription_id") or "",
                "credit_entitlement_id": balance["credit_entitlement_id"],
                "credit_entitlement_name": settings["name"], "available_balance": text(after),
                "subscription_credits_amount": text(granted), "threshold_percent": percent,
                "threshold_amount": text(threshold), "brand_id": self.backend.business_id})

    # -- the merchant's entries ------------------------------------------------------------------
    def create_entry(self, ns: Namespace, entitlement_id: str, customer_id: str,
                     body: dict) -> dict:
        """POST .../ledger-entries: a credit (a grant of source `api`) or a debit."""
        with ns.lock:
            self.entitlement(ns, entitlement_id, live=True)
            if ns.get(CUSTOMER, customer_id) is None:
                raise not_found("Customer not found")
            value = amount(body["amount"])
            if value <= 0:
                raise ApiError(400, f"amount must be greater than 0, got {body['amount']!r}",
                               "INVALID_REQUEST_BODY")
            idem = body.get("idempotency_key")
            idem_key = f"{key(entitlement_id, customer_id)}:{idem}"
            if idem is not None:
                seen = ns.get(IDEMPOTENCY, idem_key)
                if seen is not None:
                    if seen["body"] != body:
                        raise ApiError(409, f"Idempotency key {idem} already exists with a "
                                       "different request", "IDEMPOTENCY_KEY_ALREADY_EXISTS")
                    return seen["response"]
            if body["entry_type"] == "credit":
                expires = body.get("expires_at")
                entry = self.grant(ns, entitlement_id, customer_id, value, source_type="api",
                                   source_id=None, transaction_type="manual_adjustment",
                                   expires_at=epoch(expires) if expires else None,
                                   description=body.get("reason"), metadata=body.get("metadata"))
            else:
                if body.get("expires_at") is not None:
                    raise ApiError(400, "expires_at is only allowed for credit entries",
                                   "INVALID_REQUEST_BODY")
                entry = self.spend(ns, entitlement_id, customer_id, value, usage=False,
                                   description=body.get("reason"),
                                   metadata=body.get("metadata"))[0]
            response = {name: entry[name] for name in (
                "id", "customer_id", "credit_entitlement_id", "amount", "is_credit",
                "balance_before", "balance_after", "overage_before", "overage_after",
                "created_at", "grant_id")}
            response.update(entry_type=body["entry_type"], reason=body.get("reason"))
            if idem is not None:
                ns.put(IDEMPOTENCY, idem_key, {"body": body, "response": response})
            return response

    # -- reads -----------------------------------------------------------------------------------
    def render_balance(self, balance: dict) -> dict:
        return {name: balance[name] for name in (
            "id", "customer_id", "credit_entitlement_id", "balance", "overage", "created_at",
            "updated_at", "last_transaction_at")}

    def get_balance(self, ns: Namespace, entitlement_id: str, customer_id: str) -> dict:
        return self.render_balance(self._known(ns, entitlement_id, customer_id))

    def list_balances(self, ns: Namespace, entitlement_id: str, query: dict) -> dict:
        self.entitlement(ns, entitlement_id)
        rows = sorted((b for b in ns.values(BALANCE)
                       if b["credit_entitlement_id"] == entitlement_id
                       and query.get("customer_id") in (None, b["customer_id"])),
                      key=lambda b: b["created_at"])
        return {"items": [self.render_balance(b) for b in paging.page(rows, query)]}

    def list_grants(self, ns: Namespace, entitlement_id: str, customer_id: str,
                    query: dict) -> dict:
        """Newest first; `status`: active, expired or depleted (used up, not expired)."""
        rows = self.grants(ns, self._known(ns, entitlement_id, customer_id))[::-1]
        wanted = query.get("status")
        if wanted is not None:
            rows = [g for g in rows if _grant_status(g) == wanted]
        return {"items": [{k: g[k] for k in GRANT_FIELDS} for g in paging.page(rows, query)]}

    def list_ledger(self, ns: Namespace, entitlement_id: str, customer_id: str,
                    query: dict) -> dict:
        """Newest first, by `transaction_type` and a created_at window (start_date, end_date)."""
        balance = self._known(ns, entitlement_id, customer_id)
        rows = [ns.get(ENTRY, entry_id) for entry_id in balance["entry_ids"][::-1]]
        if query.get("transaction_type"):
            rows = [e for e in rows if e["transaction_type"] == query["transaction_type"]]
        if query.get("start_date"):
            rows = [e for e in rows if epoch(e["created_at"]) >= epoch(query["start_date"])]
        if query.get("end_date"):
            rows = [e for e in rows if epoch(e["created_at"]) <= epoch(query["end_date"])]
        return {"items": paging.page(rows, query)}

    def customer_entitlements(self, ns: Namespace, customer_id: str) -> dict:
        """GET /customers/{id}/credit-entitlements: each live entitlement the customer holds a
        balance of."""
        if ns.get(CUSTOMER, customer_id) is None:
            raise not_found("Customer not found")
        items = []
        for balance in sorted(ns.values(BALANCE), key=lambda b: b["created_at"]):
            if balance["customer_id"] != customer_id:
                continue
            entitlement = ns.get(ENTITLEMENT, balance["credit_entitlement_id"])
            if entitlement is None or entitlement[DELETED]:
                continue
            items.append({"credit_entitlement_id": entitlement["id"], "name": entitlement["name"],
                          "unit": entitlement["unit"], "description": entitlement["description"],
                          "balance": balance["balance"], "overage": balance["overage"]})
        return {"items": items}

    def subscription_usage(self, ns: Namespace, subscription: dict, product: dict | None) -> dict:
        """GET /subscriptions/{id}/credit-usage: for each credit entitlement the subscription's
        product grants, where the customer's balance stands (CreditEntitlementUsageStatus):
        `limit_reached` once the balance is spent and no overage is allowed, or the overage is
        at its limit; `remaining_headroom` what can still be spent (balance plus the overage
        left; null when overage has no limit)."""
        customer_id = subscription["customer"]["customer_id"]
        items = []
        for mapping in (product or {}).get("credit_entitlements") or []:
            entitlement = ns.get(ENTITLEMENT, mapping["credit_entitlement_id"])
            if entitlement is None or entitlement[DELETED]:
                continue
            balance = self.balance(ns, entitlement["id"], customer_id) or \
                {"balance": "0", "overage": "0", "terms": None,
                 "credit_entitlement_id": entitlement["id"]}
            settings = self.settings(ns, balance)
            left, overage = Decimal(balance["balance"]), Decimal(balance["overage"])
            limit = settings.get("overage_limit")
            limit = amount(limit) if limit is not None else None
            if not settings.get("overage_enabled"):
                headroom, reached = left, left <= 0
            elif limit is None:
                headroom, reached = None, False
            else:
                headroom, reached = left + max(limit - overage, D0), left <= 0 and overage >= limit
            items.append({
                "credit_entitlement_id": entitlement["id"],
                "credit_entitlement_name": entitlement["name"], "unit": entitlement["unit"],
                "balance": balance["balance"], "overage": balance["overage"],
                "overage_enabled": bool(settings.get("overage_enabled")),
                "overage_limit": text(limit) if limit is not None else None,
                "remaining_headroom": text(headroom) if headroom is not None else None,
                "limit_reached": reached})
        return {"subscription_id": subscription["subscription_id"], "items": items}

    def _known(self, ns: Namespace, entitlement_id: str, customer_id: str) -> dict:
        self.entitlement(ns, entitlement_id)
        found = self.balance(ns, entitlement_id, customer_id)
        if found is None:
            if ns.get(CUSTOMER, customer_id) is None:
                raise not_found("Customer not found")
            # a customer with no credits yet has an empty balance (shown, not stored)
            now = iso(self.backend.clock.now())
            found = {"id": ids.prefixed("ccb", 21), "customer_id": customer_id,
                     "credit_entitlement_id": entitlement_id, "balance": "0", "overage": "0",
                     "created_at": now, "updated_at": now, "last_transaction_at": None,
                     "grant_ids": [], "entry_ids": []}
        return found


def _grant_status(grant: dict) -> str:
    if grant["is_expired"]:
        return "expired"
    return "active" if Decimal(grant["remaining_amount"]) > 0 else "depleted"


