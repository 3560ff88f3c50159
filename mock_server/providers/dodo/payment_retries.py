"""Manual retry of a failed subscription renewal (`POST /payments/{payment_id}/retry` and its
`GET`, SDK 1.123.0): the invoice of an on_hold (or past_due) subscription is charged again with the
saved payment method; success brings the subscription back as any payment of its dues does.

The limits are undocumented; paymock's (../shared/reference/dodo-lifecycle.md, choice 12): 3 sends
per invoice, 24 hours apart. The invoice is the failed renewal's: every retry of it carries the
same `invoice_id`. Error codes: SUBSCRIPTION_PAYMENT_RETRY_LIMIT_EXCEEDED is Dodo's; the cooldown's
SUBSCRIPTION_PAYMENT_RETRY_COOLDOWN is paymock's own (Dodo names none), INVALID_REQUEST_PARAMETERS
for a payment that is not a failed renewal of a subscription waiting for its dues.
"""
from __future__ import annotations

from ...core.clock import iso
from ...core.errors import ApiError
from ...core.store import Namespace
from .models import PAYMENT, not_found
from .payments import STATUS
from .subscription_renewals import DUES, RENEWAL
from .subscriptions import INTERNAL, SUBSCRIPTION

SENDS_ALLOWED = 3
COOLDOWN = 24 * 3600.0


class ManualRetries:
    def __init__(self, backend):
        self.backend = backend
        self.clock = backend.clock

    def state(self, ns: Namespace, payment_id: str) -> dict:
        """GET: whether POST would charge now, and if not the code it would fail with."""
        with ns.lock:
            payment, sub = self._find(ns, payment_id)
            sends = self._sends(sub)
            problem = self._problem(payment, sub, sends)
            return {"can_retry": problem is None, "reason": problem and problem.code,
                    "sends_allowed": SENDS_ALLOWED, "sends_used": len(sends),
                    "retry_available_at": self._available_at(sends),
                    "next_automatic_retry_at": None, "automatic_retry_number": None,
                    "automatic_retry_total": None}

    def retry(self, ns: Namespace, payment_id: str) -> dict:
        with ns.lock:
            payment, sub = self._find(ns, payment_id)
            sends = self._sends(sub)
            problem = self._problem(payment, sub, sends)
            if problem is not None:
                raise problem
            dunning = sub[INTERNAL]["dunning"]
            sends.append(self.clock.now())
            dunning["sends"] = sends
            self.backend.subscriptions.save(ns, sub)  # before the charge: its hooks read it
            new = self.backend.renewals.charge(ns, sub, DUES, retry_attempt=len(sends),
                                               invoice_id=dunning["invoice_id"])
            return {"invoice_id": dunning["invoice_id"], "is_manual_retry": True,
                    "payment_id": new["id"], "retry_attempt": len(sends),
                    "sends_allowed": SENDS_ALLOWED, "sends_used": len(sends),
                    "retry_available_at": self._available_at(sends),
                    "status": STATUS[new["status"]]}

    # -- rules -------------------------------------------------------------------------------
    def _find(self, ns: Namespace, payment_id: str) -> tuple[dict, dict | None]:
        payment = ns.get(PAYMENT, payment_id)
        if payment is None or payment.get("provider") != "dodo":
            raise not_found("Payment not found")
        sub_id = payment["data"].get("subscription_id")
        return payment, ns.get(SUBSCRIPTION, sub_id) if sub_id else None

    @staticmethod
    def _sends(sub: dict | None) -> list[float]:
        dunning = (sub or {}).get(INTERNAL, {}).get("dunning") or {}
        return list(dunning.get("sends") or [])

    def _problem(self, payment: dict, sub: dict | None, sends: list[float]) -> ApiError | None:
        if payment["status"] != "failed" or payment["data"].get("charge_type") not in (RENEWAL, DUES):
            return ApiError(422, f"Payment {payment['id']} is not a failed subscription renewal; "
                            "only those can be retried", "INVALID_REQUEST_PARAMETERS")
        if sub is None or sub["status"] not in ("on_hold", "past_due") \
                or not sub[INTERNAL].get("dunning"):
            status = sub["status"] if sub else "gone"
            return ApiError(422, f"Subscription {payment['data']['subscription_id']} is {status}; "
                            "there are no dues to retry", "INVALID_REQUEST_PARAMETERS")
        if len(sends) >= SENDS_ALLOWED:
            return ApiError(422, f"This invoice was retried {len(sends)} times, the most allowed; "
                            "update the payment method instead",
                            "SUBSCRIPTION_PAYMENT_RETRY_LIMIT_EXCEEDED")
        if sends and sends[-1] + COOLDOWN > self.clock.now():
            return ApiError(422, f"The next retry of this invoice is available at "
                            f"{iso(sends[-1] + COOLDOWN)}", "SUBSCRIPTION_PAYMENT_RETRY_COOLDOWN")
        return None

    @staticmethod
    def _available_at(sends: list[float]) -> str | None:
        if len(sends) >= SENDS_ALLOWED:
            return None
        return iso(sends[-1] + COOLDOWN) if sends else None
