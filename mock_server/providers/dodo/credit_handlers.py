"""HTTP handlers of Dodo's credit-based billing: /credit-entitlements (the entitlements, their
balances, grants and ledger) and GET /customers/{customer_id}/credit-entitlements."""
from __future__ import annotations

from ...core.request import Reply, Request
from ..base import handler


class CreditHandlers:
    def __init__(self, backend):
        self.backend = backend  # .credits (CreditEntitlements), .credit_ledger (CreditLedger)

    # -- entitlements ----------------------------------------------------------------------------
    @handler("create_credit_entitlement")
    def create(self, req: Request):
        return Reply(self.backend.credits.create(req.ns, req.body), 201)

    @handler("get_credit_entitlement_handler")
    def get(self, req: Request):
        return self.backend.credits.get(req.ns, req.path["id"])

    @handler("list_credit_entitlements_handler")
    def list(self, req: Request):
        return self.backend.credits.list(req.ns, req.query)

    @handler("patch_credit_entitlement")
    def patch(self, req: Request):
        # the API answers 200 without a body (SDK 1.123.0: update() -> None)
        self.backend.credits.patch(req.ns, req.path["id"], req.body or {})
        return Reply(None, 200, no_body=True)

    @handler("delete_credit_entitlement")
    def delete(self, req: Request):
        self.backend.credits.delete(req.ns, req.path["id"])
        return Reply(None, 200, no_body=True)

    @handler("undelete_credit_entitlement")
    def undelete(self, req: Request):
        self.backend.credits.undelete(req.ns, req.path["id"])
        return Reply(None, 200, no_body=True)

    # -- balances, grants, ledger ----------------------------------------------------------------
    @handler("list_balances_handler")
    def list_balances(self, req: Request):
        return self.backend.credit_ledger.list_balances(
            req.ns, req.path["credit_entitlement_id"], req.query)

    @handler("get_customer_balance_handler")
    def get_balance(self, req: Request):
        return self.backend.credit_ledger.get_balance(
            req.ns, req.path["credit_entitlement_id"], req.path["customer_id"])

    @handler("list_customer_grants_handler")
    def list_grants(self, req: Request):
        return self.backend.credit_ledger.list_grants(
            req.ns, req.path["credit_entitlement_id"], req.path["customer_id"], req.query)

    @handler("list_customer_ledger_handler")
    def list_ledger(self, req: Request):
        return self.backend.credit_ledger.list_ledger(
            req.ns, req.path["credit_entitlement_id"], req.path["customer_id"], req.query)

    @handler("create_ledger_entry_handler")
    def create_entry(self, req: Request):
        return Reply(self.backend.credit_ledger.create_entry(
            req.ns, req.path["credit_entitlement_id"], req.path["customer_id"], req.body), 201)

    @handler("get_customer_credit_entitlements")
    def customer_entitlements(self, req: Request):
        return self.backend.credit_ledger.customer_entitlements(req.ns, req.path["customer_id"])
