"""Dodo invoices: GET /invoices/payments/{payment_id}, /invoices/refunds/{refund_id} and
/invoices/payouts/{payout_id} answer a PDF (application/pdf) for a succeeded payment, a refund and
a succeeded payout; anything else is Dodo's 404.

The PDF is small and plain: who sold, who bought, the lines, the total, the ids a merchant's tests
look for. fpdf2 writes it; it is imported on the first invoice, so that a server that never
serves one never loads it (cold start, idle memory).
"""
from __future__ import annotations

from ...core import payments as core_payments
from ...core.payments import display_amount
from ...core.request import Reply
from ...core.store import Namespace
from .models import PRODUCT, not_found
from .refunds import payment_lines

PDF = "application/pdf"


class Invoices:
    def __init__(self, backend):
        self.backend = backend

    def for_payment(self, ns: Namespace, payment_id: str) -> Reply:
        payment = ns.get(core_payments.PAYMENT, payment_id)
        if payment is None or payment.get("provider") != "dodo" \
                or payment["status"] != core_payments.SUCCEEDED:
            raise not_found("Payment not found")  # no invoice before the payment succeeds
        currency = payment["currency"]
        lines = [(self._item_name(ns, line["item_id"]), display_amount(line["amount"], currency))
                 for line in payment_lines(ns, payment)]
        return _pdf(f"Invoice {payment_id}", [
            ("Invoice for payment", payment_id), ("Date", payment["updated_at"]),
            ("Seller", self.backend.business_id),
            ("Billed to", _customer(payment["data"]["customer"])),
        ], lines, ("Total", f"{currency} {display_amount(payment['amount'], currency)}"),
            ("Tax included", display_amount(payment["data"].get("tax") or 0, currency)),
            f"invoice-{payment_id}.pdf")

    def for_refund(self, ns: Namespace, refund_id: str) -> Reply:
        refund = self.backend.refunds.find(ns, refund_id)
        if refund is None:
            raise not_found("Refund not found")
        currency = refund["currency"]
        lines = [(self._item_name(ns, item["item_id"]), display_amount(item["amount"], currency))
                 for item in refund["items"]] or [("Refund of the payment",
                                                   display_amount(refund["amount"], currency))]
        return _pdf(f"Credit note {refund_id}", [
            ("Credit note for refund", refund_id), ("Payment", refund["payment_id"]),
            ("Date", refund["created_at"]), ("Status", refund["status"]),
            ("Seller", self.backend.business_id), ("Refunded to", _customer(refund["customer"])),
            ("Reason", refund.get("reason") or "-"),
        ], lines, ("Refunded", f"{currency} {display_amount(refund['amount'], currency)}"), None,
            f"credit-note-{refund_id}.pdf")

    def for_payout(self, ns: Namespace, payout_id: str) -> Reply:
        """A payout's statement: what was paid out, its fees and tax (only once it succeeded)."""
        payout = self.backend.payouts.get(ns, payout_id)
        if payout is None or payout["status"] != "success":
            raise not_found("Payout not found")
        currency = payout["currency"]
        lines = [("Payout", display_amount(payout["amount"], currency)),
                 ("Fee", display_amount(payout["fee"], currency)),
                 ("Tax", display_amount(payout["tax"], currency))]
        return _pdf(f"Payout invoice {payout_id}", [
            ("Invoice for payout", payout_id), ("Date", payout["updated_at"]),
            ("Business", self.backend.business_id),
            ("Payment method", payout.get("payment_method") or "-"),
        ], lines, ("Paid out", f"{currency} {display_amount(payout['amount'], currency)}"), None,
            f"payout-invoice-{payout_id}.pdf")

    @staticmethod
    def _item_name(ns: Namespace, item_id: str) -> str:
        product = ns.read(PRODUCT, item_id)
        return f"{product['name']} ({item_id})" if product else item_id


def _customer(customer: dict) -> str:
    return f"{customer.get('name') or ''} <{customer.get('email') or ''}>".strip()


def _pdf(title: str, facts: list[tuple[str, str]], lines: list[tuple[str, str]],
         total: tuple[str, str], note: tuple[str, str] | None, filename: str) -> Reply:
    from fpdf import FPDF  # on the first invoice only (see the module's docstring)

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("paymock")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in facts:
        pdf.cell(45, 6, _latin1(label))
        pdf.cell(0, 6, _latin1(str(value)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for name, amount in lines:
        pdf.cell(140, 6, _latin1(name))
        pdf.cell(0, 6, amount, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    for label, value in (total, note) if note else (total,):
        pdf.cell(140, 8, label)
        pdf.cell(0, 8, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "I", 8)
    pdf.cell(0, 8, "Issued by paymock, a local emulator: not a tax document.")
    return Reply(bytes(pdf.output()), content_type=PDF,
                 headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _latin1(text: str) -> str:
    """The PDF's core fonts speak Latin-1: anything else is replaced, never an error."""
    return text.encode("latin-1", "replace").decode("latin-1")
