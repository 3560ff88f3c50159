"""Refund tickets: `refund-ticket/create-ticket` and `resubmit-ticket`, their review (played by
the control API, `POST /_mock/waffo/refund-tickets/{id}/approve|reject`, or at once by a review
rule, `POST /_mock/waffo/refund-review`) and the refund they execute, which sends
`refund.succeeded` or `refund.failed`.

From the SDK's types and Waffo's refund pages (waffo-lifecycle.md section 5):
- a customer's ticket (session token) starts `pending`, waiting for Waffo's review; approved it
  goes `approved`, `processing`, then `succeeded` or `failed` as the refund executes; rejected it
  is `rejected` with a `rejectReason`. A merchant's ticket (API key; open question 8) is approved
  at once and starts `processing`, so its refund executes at once;
- a ticket needs a payment of the caller's (a customer: their own order's), `succeeded`
  (409 `Payment status is X, must be succeeded`), at most 14 days old (open question 7), an
  amount above zero and at most what is still refundable, in the payment's currency, and no
  other ticket of the payment pending or being processed, nor a refund that already took it all;
- resubmit-ticket works from `rejected` or `failed` (409 otherwise), by the same submitter (403
  `Submitter is not the original ticket owner`): the ticket keeps its id, gets a new version
  (`versionNumber` + 1, a new `currentVersionId`, the new `versionData`) and goes back to
  `pending` (customer) or `processing` (merchant);
- how the refund ends is `succeeded` unless the approval says `outcome: failed`; each end sends
  its event, with the refund id (`REF_`) as `eventId` (open question 10) and the amounts
  (`refundedAmount`, `originalChargedAmount`, the `originalPayment` block), and sets the
  payment's `refundStatus` (refunded, or failed) on the order.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ...core import ids
from ...core.clock import epoch, iso
from ...core.request import Request
from ...core.store import Namespace
from ..base import handler
from .common import ORDER, error
from .payments import REFUND_FAILED, REFUND_SUCCEEDED
from .subscriptions import payments_of

TICKET = "refund_ticket"
WINDOW = 14 * 24 * 3600  # seconds after the payment a ticket may be opened (open question 7)
OPEN = ("pending", "under_review", "approved", "processing")
SHOWN = ("id", "type", "status", "subjectId", "submitterId", "submitterType", "currentVersionId",
         "reviewerId", "reviewedAt", "reviewNote", "rejectReason", "executedAt", "metadata",
         "refundTicketMerchantExternalId", "versionNumber", "versionData", "createdAt",
         "updatedAt")


def render(ticket: dict) -> dict:
    return {name: ticket.get(name) for name in SHOWN}


class RefundTickets:
    def __init__(self, backend):
        self.backend = backend  # clock, payments (WaffoPayments: the envelope, the outbox)
        # The review rule (POST /_mock/waffo/refund-review): namespace (or "*") -> how Waffo's
        # review answers a customer's ticket as it is made; none: the ticket waits.
        self.rules: dict[str, dict] = {}

    def set_rule(self, namespace: str, action: str, outcome: str = "succeeded",
                 reason: str | None = None) -> dict:
        if action not in ("approve", "reject", "manual"):
            raise ValueError(f"action must be approve, reject or manual, got {action!r}")
        if outcome not in ("succeeded", "failed"):
            raise ValueError(f"outcome must be succeeded or failed, got {outcome!r}")
        if action == "manual":
            self.rules.pop(namespace, None)
            return {"action": "manual"}
        self.rules[namespace] = {"action": action, "outcome": outcome, "reason": reason}
        return dict(self.rules[namespace])

    def _reviewed_by_rule(self, ns: Namespace, ticket: dict) -> None:
        rule = self.rules.get(ns.name) or self.rules.get("*")
        if rule is not None:
            self.review(ns, ticket["id"], rule["action"], rule["reason"], rule["outcome"])

    # -- the API -------------------------------------------------------------------------------
    def create(self, ns: Namespace, caller, body: dict) -> dict:
        with ns.lock:
            order = self._order_of(ns, caller, body["paymentId"])
            self._check(ns, order, body["paymentId"], body["requestedAmount"], exclude=None)
            now = iso(self.backend.clock.now())
            merchant = caller.kind == "api_key"
            ticket = {
                "id": ids.prefixed("TKT", 22), "type": "refund", "status": "pending",
                "subjectId": body["paymentId"], "orderId": order["orderId"],
                "submitterId": caller.merchant_id if merchant else caller.buyer_identity,
                "submitterType": "merchant" if merchant else "customer",
                "currentVersionId": ids.prefixed("TVER", 22), "reviewerId": None,
                "reviewedAt": None, "reviewNote": None, "rejectReason": None, "executedAt": None,
                "metadata": dict(body.get("metadata") or {}),
                "refundTicketMerchantExternalId": body.get("refundTicketMerchantExternalId"),
                "versionNumber": 1, "versionData": _version(body),
                "createdAt": now, "updatedAt": now, "refundId": None,
            }
            ns.put(TICKET, ticket["id"], ticket)
            if merchant:  # the merchant's own ticket needs no review: it executes now
                self._approve(ns, ticket, "succeeded", caller.merchant_id, None)
            else:
                self._reviewed_by_rule(ns, ticket)
                ticket = ns.get(TICKET, ticket["id"])
            return {"ticket": render(ticket)}

    def resubmit(self, ns: Namespace, caller, body: dict) -> dict:
        with ns.lock:
            ticket = ns.get(TICKET, body["ticketId"])
            if ticket is None or ticket["subjectId"] != body["paymentId"]:
                raise error(404, "Ticket not found", "ticket")
            submitter = caller.merchant_id if caller.kind == "api_key" else caller.buyer_identity
            if submitter != ticket["submitterId"]:
                raise error(403, "Submitter is not the original ticket owner", "ticket")
            if ticket["status"] not in ("rejected", "failed"):
                raise error(409, f"Ticket status is {ticket['status']}, only rejected/failed can "
                                 "be resubmitted", "ticket")
            order = self._order_of(ns, caller, body["paymentId"])
            self._check(ns, order, body["paymentId"], body["requestedAmount"],
                        exclude=ticket["id"])
            ticket.update(status="pending", versionNumber=ticket["versionNumber"] + 1,
                          currentVersionId=ids.prefixed("TVER", 22),
                          versionData=_version(body), rejectReason=None,
                          reviewerId=None, reviewedAt=None, reviewNote=None, executedAt=None,
                          updatedAt=iso(self.backend.clock.now()))
            ns.save(TICKET, ticket["id"], ticket)
            if caller.kind == "api_key":
                self._approve(ns, ticket, "succeeded", caller.merchant_id, None)
            else:
                self._reviewed_by_rule(ns, ticket)
                ticket = ns.get(TICKET, ticket["id"])
            return {"ticket": render(ticket)}

    # -- Waffo's review, played by the control API -----------------------------------------------
    def review(self, ns: Namespace, ticket_id: str, action: str, reason: str | None = None,
               outcome: str = "succeeded") -> dict:
        if action not in ("approve", "reject"):
            raise ValueError(f"action must be approve or reject, got {action!r}")
        if outcome not in ("succeeded", "failed"):
            raise ValueError(f"outcome must be succeeded or failed, got {outcome!r}")
        with ns.lock:
            ticket = ns.get(TICKET, ticket_id)
            if ticket is None:
                raise LookupError(f"no refund ticket {ticket_id!r}")
            if ticket["status"] not in ("pending", "under_review"):
                raise error(409, f"Ticket status is {ticket['status']}, not awaiting review",
                            "ticket")
            if action == "reject":
                now = iso(self.backend.clock.now())
                ticket.update(status="rejected", rejectReason=reason or "Rejected by review",
                              reviewerId="waffo-review", reviewedAt=now, updatedAt=now)
                ns.save(TICKET, ticket_id, ticket)
            else:
                self._approve(ns, ticket, outcome, "waffo-review", reason)
            return render(ticket)

    def _approve(self, ns: Namespace, ticket: dict, outcome: str, reviewer: str,
                 note: str | None) -> None:
        """Approved, processing, then the refund executes (at once: no PSP delay is modelled)."""
        now = iso(self.backend.clock.now())
        order = ns.get(ORDER, ticket["orderId"])
        # Approved and processing pass in the same instant: the ticket lands on how it ended.
        ticket.update(status=outcome, reviewerId=reviewer, reviewedAt=now, reviewNote=note,
                      executedAt=now, refundId=ids.prefixed("REF", 22), updatedAt=now)
        ns.save(TICKET, ticket["id"], ticket)
        pay = _payment(order, ticket["subjectId"])
        pay["refundStatus"] = "refunded" if outcome == "succeeded" else "failed"
        if outcome == "succeeded":
            refunded = Decimal(pay.get("refundedAmount") or "0") + Decimal(
                ticket["versionData"]["requestedAmount"]["amount"])
            pay["refundedAmount"] = _text(refunded, order["total"])
        order["updatedAt"] = now
        ns.save(ORDER, order["orderId"], order)
        self._emit(ns, order, ticket, REFUND_SUCCEEDED if outcome == "succeeded" else REFUND_FAILED)

    def _emit(self, ns: Namespace, order: dict, ticket: dict, event: str) -> None:
        payments = self.backend.payments
        if payments is None or payments.webhooks is None:
            return
        core = payments.payments.get(ns, order["payment"]["paymentId"])
        envelope = payments.envelope(ns, order, event, core or {"status": "succeeded"})
        pay = _payment(order, ticket["subjectId"])
        paid = _collected(order, pay)
        requested = ticket["versionData"]["requestedAmount"]["amount"]
        data = envelope["data"]
        for stale in ("paymentDate", "paymentStatus", "listPrice", "chargedAmount"):
            data.pop(stale, None)
        data.update(
            refundStatus="succeeded" if event == REFUND_SUCCEEDED else "failed",
            refundReason=ticket["versionData"]["reason"], refundCreatedAt=ticket["executedAt"],
            originalChargedAmount=paid["total"], originalPayment=paid,
            paymentId=ticket["subjectId"], periodNumber=pay.get("periodNumber"),
            refundTicketMerchantExternalId=ticket["refundTicketMerchantExternalId"])
        if event == REFUND_SUCCEEDED:
            data["refundedAmount"] = requested
        envelope.update(eventId=ticket["refundId"],
                        data={k: v for k, v in data.items() if v is not None})
        payments.webhooks.emit(ns.name, "waffo", event, envelope)

    # -- rules ---------------------------------------------------------------------------------
    @staticmethod
    def _order_of(ns: Namespace, caller, payment_id: str) -> dict:
        order = next((o for o in ns.values(ORDER)
                      if any(p["paymentId"] == payment_id for p in payments_of(o))), None)
        if order is None or (caller.kind == "session_token" and (
                order["storeId"] != caller.store_id
                or order["buyerIdentity"] != caller.buyer_identity)):
            raise error(404, "Payment not found", "ticket")
        return order

    def _check(self, ns: Namespace, order: dict, payment_id: str, requested: dict,
               exclude: str | None) -> None:
        pay = _payment(order, payment_id)
        if pay["status"] != "succeeded":
            raise error(409, f"Payment status is {pay['status']}, must be succeeded", "ticket")
        paid_at = pay.get("paidAt")
        if paid_at is not None and self.backend.clock.now() - epoch(paid_at) > WINDOW:
            raise error(400, "Refund window has passed: tickets may be opened within 14 days of "
                             "the payment", "ticket")
        try:
            amount = Decimal(requested["amount"])
        except InvalidOperation:
            raise error(400, "Invalid requestedAmount.amount format", "ticket") from None
        if requested["currency"] != order["currency"]:
            raise error(400, f"requestedAmount.currency must be the payment's currency "
                             f"{order['currency']}", "ticket")
        left = Decimal(_collected(order, pay)["total"]) - Decimal(pay.get("refundedAmount") or "0")
        if amount <= 0 or amount > left:
            raise error(400, f"requestedAmount.amount must be above 0 and at most {left}",
                        "ticket")
        if any(t["subjectId"] == pay["paymentId"] and t["status"] in OPEN and t["id"] != exclude
               for t in ns.values(TICKET)):
            raise error(409, "A refund ticket for this payment is already open", "ticket")


def _payment(order: dict, payment_id: str) -> dict:
    """The order's record of one of its payments (the checkout's, a renewal's, ...)."""
    return next(p for p in payments_of(order) if p["paymentId"] == payment_id)


def _collected(order: dict, pay: dict) -> dict:
    """What a payment collected, as the webhook's amount block: a later charge's own amount;
    the checkout's, the order's price (a trial's card check collected nothing to refund)."""
    if pay.get("amount"):
        return dict(pay["amount"])
    total = pay.get("chargedAmount") or order["total"]
    if total != order["total"]:
        return {"total": total, "taxAmount": "0.00" if "." in total else "0"}
    return {"total": order["total"], "subtotal": order["subtotal"],
            "taxAmount": order["taxAmount"], "taxRate": float(order["taxRate"])}


def _version(body: dict) -> dict:
    requested = body["requestedAmount"]
    return {"reason": body["reason"],
            "requestedAmount": {"amount": requested["amount"], "currency": requested["currency"]}}


def _text(value: Decimal, like: str) -> str:
    """A decimal as the order writes its amounts (as many decimals as `like`)."""
    places = len(like.split(".")[1]) if "." in like else 0
    return f"{value:.{places}f}"


class RefundTicketHandlers:
    def __init__(self, tickets: RefundTickets):
        self.tickets = tickets

    @handler("createRefundTicket")
    def create(self, req: Request):
        return self.tickets.create(req.ns, req.caller, req.body)

    @handler("resubmitRefundTicket")
    def resubmit(self, req: Request):
        return self.tickets.resubmit(req.ns, req.caller, req.body)
