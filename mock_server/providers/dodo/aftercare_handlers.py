"""Dodo's operations after a payment: refunds, disputes and invoices (operationIds of
contracts/dodo/openapi.json). The rules live in refunds.py, disputes.py and invoices.py."""
from __future__ import annotations

from ...core.request import Request
from ..base import handler


class RefundHandlers:
    def __init__(self, backend):
        self.backend = backend

    @handler("create_refund_handler")
    def create_refund(self, req: Request):
        return self.backend.refunds.create(req.ns, req.body)

    @handler("get_payment_line_items_handler")
    def payment_line_items(self, req: Request):
        return self.backend.refunds.line_items(req.ns, req.path["payment_id"])

    @handler("list_refunds")
    def list_refunds(self, req: Request):
        return self.backend.refunds.list(req.ns, req.query)

    @handler("get_refund_handler")
    def get_refund(self, req: Request):
        return self.backend.refunds.get(req.ns, req.path["refund_id"])


class DisputeHandlers:
    def __init__(self, backend):
        self.backend = backend

    @handler("list_disputes")
    def list_disputes(self, req: Request):
        return self.backend.disputes.list(req.ns, req.query)

    @handler("get_dispute_handler")
    def get_dispute(self, req: Request):
        return self.backend.disputes.get(req.ns, req.path["dispute_id"])


class InvoiceHandlers:
    def __init__(self, backend):
        self.backend = backend

    @handler("get_payment_invoice_no_auth")
    def payment_invoice(self, req: Request):
        return self.backend.invoices.for_payment(req.ns, req.path["payment_id"])

    @handler("get_refund_invoice_no_auth")
    def refund_invoice(self, req: Request):
        return self.backend.invoices.for_refund(req.ns, req.path["refund_id"])

    @handler("get_payout_invoice_no_auth")
    def payout_invoice(self, req: Request):
        return self.backend.invoices.for_payout(req.ns, req.path["payout_id"])


class PayoutHandlers:
    def __init__(self, backend):
        self.backend = backend

    @handler("list_payouts")
    def list_payouts(self, req: Request):
        return self.backend.payouts.list(req.ns, req.query)
