"""Dodo refunds: POST /refunds (whole payment or line items), GET /refunds, GET /refunds/{id},
refund.succeeded / refund.failed, and what a payment shows of its refunds.

Rules (docs features/transactions/refunds, api-reference/error-codes): the payment must have
succeeded, within 30 days of its creation (mock clock), one pending refund at a time, never more
than what is left; line items by product id, each refunded at most to what it was paid (tax
included). A refund of a disputed payment is accepted and then fails ("Payment was disputed" is a
documented reason for `failed`). The docs give no HTTP status for these refusals: paymock answers
422 with Dodo's code and message (one place to change: REFUSED).

How a refund ends is the mock's choice: at once, `succeeded`, unless the namespace scripted
otherwise (`script_outcome`: `failed`, or `pending` / `review` until `settle` moves it), which the
control API (/_mock/dodo/refunds/...) and the refund.* triggers use.
"""
from __future__ import annotations

from ...core import ids
from ...core import payments as core_payments
from ...core.clock import epoch, iso
from ...core.errors import ApiError
from ...core.store import Namespace
from . import paging
from .disputes import DISPUTE
from .models import PRODUCT, SESSION, invalid, not_found

REFUND = "refund"
OUTCOME = "refund_outcome"  # kind of the namespace's scripted outcome (one object, id NEXT)
NEXT = "scripted_refund_outcome"
WINDOW_DAYS = 30
REFUSED = 422
OUTCOMES = ("succeeded", "failed", "pending", "review")
IN_FLIGHT = frozenset({"pending", "review"})  # not settled yet: they hold their amount
EVENTS = {"succeeded": "refund.succeeded", "failed": "refund.failed"}
# A dispute in one of these leaves the money with the customer, or may yet: a refund then fails.
DISPUTED = frozenset({"dispute_opened", "dispute_challenged", "dispute_accepted", "dispute_lost",
                      "dispute_expired"})


class RefundStateError(ValueError):
    """The control API asked a refund to move where its state refuses (a 409)."""


def refused(code: str, message: str) -> ApiError:
    return ApiError(REFUSED, message, code)


def payment_lines(ns: Namespace, payment: dict) -> list[dict]:
    """What the payment charged per item `{item_id, amount (tax included), tax}`: from its
    checkout's price calculation, which the payment keeps once it succeeds (`remember_lines`);
    without one, the total split evenly over the cart (the remainder on the first line)."""
    lines = payment["data"].get("lines")
    if lines is None:
        session = ns.get(SESSION, payment["ref"]["id"], include_expired=True) \
            if payment.get("ref", {}).get("kind") == SESSION else None
        lines = _quoted_lines(session["pricing"]) if session else None
    if lines is None or sum(line["amount"] for line in lines) != payment["amount"]:
        cart = payment["data"].get("product_cart") or [{"product_id": "item"}]
        share, rest = divmod(payment["amount"], len(cart))
        tax = payment["data"].get("tax") or 0
        lines = [{"item_id": item["product_id"], "amount": share + (rest if i == 0 else 0),
                  "tax": tax if i == 0 else 0} for i, item in enumerate(cart)]
    return lines


def _quoted_lines(quote: dict) -> list[dict]:
    lines = []
    for item in quote["product_cart"]:
        net = item["og_price"] * item["quantity"] - (item.get("discount_amount") or 0)
        amount = net if item["tax_inclusive"] else net + item["tax"]
        lines.append({"item_id": item["product_id"], "amount": amount, "tax": item["tax"]})
    if quote["total_price"] == 0:  # a free trial's first payment charged nothing
        lines = [dict(line, amount=0, tax=0) for line in lines]
    return lines


class Refunds:
    def __init__(self, backend, events):
        self.backend = backend
        self.events = events
        # What a settled refund sets off elsewhere, each `(ns, refund)` once it has its event
        # (a one-time payment's license keys are disabled).
        self.on_settled: list = []

    # -- hooks on the payment ------------------------------------------------------------------
    def remember_lines(self, ns: Namespace, payment: dict, previous: str) -> None:
        """DodoPayments.before_emit: a succeeded payment keeps what each line charged (its
        checkout session expires, the refund window is 30 days). Any other payment's lines are
        its own total split over its cart (payment_lines), computed when a refund asks."""
        if payment["status"] == core_payments.SUCCEEDED and "lines" not in payment["data"] \
                and payment["ref"].get("kind") == SESSION:
            payment["data"]["lines"] = payment_lines(ns, payment)

    def extend_payment(self, ns: Namespace, payment: dict, rendered: dict) -> None:
        """DodoPayments.renderers: `refunds[]` (RefundListItem) and `refund_status`."""
        if not payment["data"].get("refund_ids"):
            return  # render() starts with none (every renewal's payment, most checkouts')
        refunds = self._of_payment(ns, payment)
        rendered["refunds"] = [self._list_item(r) for r in refunds]
        done = sum(r["amount"] for r in refunds if r["status"] == "succeeded")
        if any(r["status"] == "succeeded" for r in refunds):
            rendered["refund_status"] = "full" if done >= payment["amount"] else "partial"

    # -- POST /refunds -------------------------------------------------------------------------
    def create(self, ns: Namespace, body: dict, outcome: str | None = None) -> dict:
        """Refund `body["payment_id"]` (all that is left, or `items`); `outcome` overrides the
        namespace's scripted one (the refund.* triggers)."""
        with ns.lock:
            payment = ns.get(core_payments.PAYMENT, body["payment_id"])
            if payment is None or payment.get("provider") != "dodo":
                raise not_found("Payment not found")
            amount, items = self._amount(ns, payment, body)
            refund = {
                "refund_id": ids.prefixed("ref", 21), "payment_id": payment["id"],
                "business_id": self.backend.business_id, "brand_id": self.backend.business_id,
                "status": "pending", "created_at": iso(self.backend.clock.now()),
                "is_partial": amount < payment["amount"], "amount": amount,
                "currency": payment["currency"], "reason": body.get("reason"),
                "metadata": dict(body.get("metadata") or {}),
                "customer": payment["data"]["customer"], "items": items,
                "subscription_id": payment["data"].get("subscription_id"),
            }
            ns.put(REFUND, refund["refund_id"], refund)
            payment["data"].setdefault("refund_ids", []).append(refund["refund_id"])
            ns.save(core_payments.PAYMENT, payment["id"], payment)
            if self._disputed(ns, payment):
                outcome = "failed"  # documented: "Payment was disputed"
            elif outcome is None:
                outcome = self._scripted(ns)
            if outcome == "review":  # held for manual review: settles like a pending one
                refund["status"] = "review"
                ns.save(REFUND, refund["refund_id"], refund)
            elif outcome != "pending":
                refund = self._finish(ns, refund, outcome)
            return self.render(refund)

    def _amount(self, ns: Namespace, payment: dict, body: dict) -> tuple[int, list[dict]]:
        """The refund's amount and its lines, or the refusal Dodo gives."""
        if payment["status"] != core_payments.SUCCEEDED:
            raise refused("PAYMENT_NOT_SUCCEEDED", "The provided payment has not succeeded")
        if payment["amount"] == 0:
            raise refused("ZERO_AMOUNT_PAYMENT_REFUND_NOT_ALLOWED",
                          "Cannot refund a payment with zero currency amount")
        refunds = self._of_payment(ns, payment)
        if any(r["status"] in IN_FLIGHT for r in refunds):
            raise refused("EXISTING_REFUND_REQUEST_PROCESSING",
                          'A refund request with status "Pending" is still being processed')
        left, done = self._refunded(ns, payment)
        if left <= 0:
            raise refused("PAYMENT_ALREADY_REFUNDED", "This payment has already been refunded")
        if self.backend.clock.now() - epoch(payment["created_at"]) > WINDOW_DAYS * 86400:
            raise refused("REFUND_WINDOW_EXPIRED", f"Refunds cannot be initiated {WINDOW_DAYS} "
                          "days after payment creation. Contact support@dodopayments.com.")
        currency = body.get("currency")
        if currency is not None and currency != payment["currency"]:
            raise invalid(f"currency must be {payment['currency']}, the currency the customer "
                          f"paid in (got {currency})")
        if not body.get("items"):
            return left, []
        lines = {line["item_id"]: line for line in payment_lines(ns, payment)}
        items, seen = [], set()
        for item in body["items"]:
            item_id = item["item_id"]
            if item_id in seen:
                raise invalid(f"items: line item {item_id} is listed twice; give each item once")
            seen.add(item_id)
            line = lines.get(item_id)
            if line is None:
                raise refused("LINE_ITEM_NOT_FOUND", f"Line item {item_id} not found in payment")
            line_left = line["amount"] - done.get(item_id, 0)
            if line_left <= 0:
                raise refused("LINE_ITEM_FULLY_REFUNDED", f"Line item {item_id} has been fully "
                              "refunded cannot be refunded further.")
            wanted = _with_tax(item, line, line_left)
            if wanted <= 0:
                raise refused("LINE_ITEM_REFUND_AMOUNT_TOO_LOW",
                              f"Line item {item_id} requested refund amount is {wanted} which is "
                              "too low")
            if wanted > line_left:
                raise refused("LINE_ITEM_REFUND_AMOUNT_TOO_HIGH",
                              f"Line item {item_id} requested refund amount including tax is "
                              f"{wanted} which is above the paid amount {line_left}")
            items.append({"item_id": item_id, "amount": wanted})
        total = sum(item["amount"] for item in items)
        if total > left:
            raise refused("REFUND_AMOUNT_EXCEEDS_PAID_AMOUNT",
                          "The calculated refund amount is larger than the paid amount")
        return total, items

    def _refunded(self, ns: Namespace, payment: dict) -> tuple[int, dict[str, int]]:
        """What is left to refund of the payment, and what each line item has had refunded
        (refunds that succeeded or are in flight)."""
        counted = [r for r in self._of_payment(ns, payment)
                   if r["status"] in IN_FLIGHT or r["status"] == "succeeded"]
        done: dict[str, int] = {}
        for refund in counted:
            for item in refund["items"]:
                done[item["item_id"]] = done.get(item["item_id"], 0) + item["amount"]
        return payment["amount"] - sum(r["amount"] for r in counted), done

    # -- GET /payments/{payment_id}/line-items -----------------------------------------------------
    def line_items(self, ns: Namespace, payment_id: str) -> dict:
        """Each line the payment charged (PaymentLineItem), with what can still be refunded of
        it: its amount less what refunds by item took, and never more than is left of the
        payment after refunds of an amount."""
        payment = ns.get(core_payments.PAYMENT, payment_id)
        if payment is None or payment.get("provider") != "dodo":
            raise not_found("Payment not found")
        left, done = self._refunded(ns, payment)
        paid = payment["status"] == core_payments.SUCCEEDED
        items = []
        for line in payment_lines(ns, payment):
            product = ns.read(PRODUCT, line["item_id"]) or {}
            items.append({
                "items_id": line["item_id"], "amount": line["amount"], "tax": line["tax"],
                "refundable_amount": max(0, min(line["amount"] - done.get(line["item_id"], 0),
                                                left)) if paid else 0,
                "name": product.get("name"), "description": product.get("description")})
        return {"currency": payment["currency"], "items": items}

    # -- settling -------------------------------------------------------------------------------
    def settle(self, ns: Namespace, refund_id: str, outcome: str) -> dict:
        """A pending (or in review) refund succeeds or fails (control API)."""
        if outcome not in ("succeeded", "failed"):
            raise ValueError(f"outcome must be succeeded or failed, got {outcome!r}")
        with ns.lock:
            refund = ns.get(REFUND, refund_id)
            if refund is None:
                raise not_found("Refund not found")
            if refund["status"] not in IN_FLIGHT:
                raise RefundStateError(f"refund {refund_id} is {refund['status']}, not pending "
                                       "or in review")
            return self.render(self._finish(ns, refund, outcome))

    def script_outcome(self, ns: Namespace, outcome: str, times: int | None = None) -> dict:
        """How the namespace's next refunds end (`times` of them, or all until told again)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {list(OUTCOMES)}, got {outcome!r}")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)
                                  or times < 1):
            raise ValueError("times must be an integer >= 1 (omit it for every refund)")
        with ns.lock:
            ns.delete(OUTCOME, NEXT)
            scripted = {"outcome": outcome, "times": times}
            if outcome != "succeeded" or times is not None:
                ns.put(OUTCOME, NEXT, scripted)
        return scripted

    def _scripted(self, ns: Namespace) -> str:
        scripted = ns.get(OUTCOME, NEXT)
        if scripted is None:
            return "succeeded"
        if scripted["times"] is not None:
            scripted["times"] -= 1
            if scripted["times"] <= 0:
                ns.delete(OUTCOME, NEXT)
            else:
                ns.save(OUTCOME, NEXT, scripted)
        return scripted["outcome"]

    def _finish(self, ns: Namespace, refund: dict, outcome: str) -> dict:
        refund["status"] = outcome
        ns.save(REFUND, refund["refund_id"], refund)
        self.events.emit(ns, EVENTS[outcome], "Refund", self.render(refund))
        for hook in self.on_settled:
            hook(ns, refund)
        return refund

    def _disputed(self, ns: Namespace, payment: dict) -> bool:
        disputes = (ns.get(DISPUTE, d) for d in payment["data"].get("dispute_ids", ()))
        return any(d is not None and d["dispute_status"] in DISPUTED for d in disputes)

    # -- reading --------------------------------------------------------------------------------
    def get(self, ns: Namespace, refund_id: str) -> dict:
        refund = ns.get(REFUND, refund_id)
        if refund is None:
            raise not_found("Refund not found")
        return self.render(refund)

    def find(self, ns: Namespace, refund_id: str) -> dict | None:
        return ns.get(REFUND, refund_id)

    def list(self, ns: Namespace, query: dict) -> dict:
        created = paging.created_between(query)
        rows = []
        for refund in ns.values(REFUND):
            if (query.get("status") not in (None, refund["status"])
                    or query.get("customer_id") not in (None, refund["customer"]["customer_id"])
                    or query.get("subscription_id") not in (None, refund.get("subscription_id"))
                    or not created(refund["created_at"])):
                continue
            rows.append(refund)
        rows.sort(key=lambda r: (r["created_at"], r["refund_id"]), reverse=True)
        return {"items": [self._list_item(r) for r in paging.page(rows, query)]}

    @staticmethod
    def render(refund: dict) -> dict:
        """RefundResponse."""
        return {key: refund[key] for key in (
            "refund_id", "payment_id", "business_id", "brand_id", "status", "created_at",
            "is_partial", "amount", "currency", "reason", "metadata", "customer")}

    @staticmethod
    def _list_item(refund: dict) -> dict:
        return {key: refund[key] for key in (
            "refund_id", "payment_id", "business_id", "status", "created_at", "is_partial",
            "amount", "currency", "reason")}

    @staticmethod
    def _of_payment(ns: Namespace, payment: dict) -> list[dict]:
        found = (ns.get(REFUND, r) for r in payment["data"].get("refund_ids", ()))
        return [r for r in found if r is not None]


def _with_tax(item: dict, line: dict, line_left: int) -> int:
    """What refunding `item` takes off its line, tax included: the rest of the line when no
    amount is given; an amount given without tax (`tax_inclusive: false`) gains the line's tax
    rate on top."""
    amount = item.get("amount")
    if amount is None:
        return line_left
    if item.get("tax_inclusive", True) or not line["tax"]:
        return amount
    pre_tax = line["amount"] - line["tax"]
    return amount + (round(amount * line["tax"] / pre_tax) if pre_tax else 0)
