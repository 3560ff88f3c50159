"""abandoned_checkout.* on demand (POST /_mock/trigger). The detection runs now, through the same
rule the clock's job runs when a session's minutes are up, so no clock has to move; the job's later
look finds the checkout already detected."""
from __future__ import annotations

from ...core.triggers import TriggerError
from .abandoned_checkouts import ABANDONED
from .models import SESSION


class AbandonedTriggers:
    def __init__(self, backend):
        self.backend = backend

    def register(self, triggers) -> None:
        triggers.register("dodo", "abandoned_checkout.detected", self.detected)
        triggers.register("dodo", "abandoned_checkout.recovered", self.recovered)

    def detected(self, ns, params: dict) -> dict:
        """The checkout `session_id` names (it must have a payment not paid), or a new confirmed
        checkout left unpaid (`product_id`, `customer` as for payment triggers), is abandoned."""
        with ns.lock:
            session_id = params.get("session_id") or self._new_checkout(ns, params)
            session = ns.get(SESSION, session_id, include_expired=True)
            if session is None:
                raise TriggerError(f"no checkout session {session_id} in {ns.name}", 404)
            if not session.get("payment_id"):
                raise TriggerError(f"checkout session {session_id} has no payment yet (the buyer "
                                   "never reached the details step): nothing to abandon", 409)
            if ns.get(ABANDONED, session["payment_id"]) is not None:
                raise TriggerError(f"the checkout of payment {session['payment_id']} is already "
                                   "detected as abandoned", 409)
            record = self.backend.abandoned.detect(ns, session_id)
            if record is None:
                raise TriggerError(f"checkout session {session_id} is paid (or its payment is "
                                   "processing): not abandoned", 409)
        return {"abandoned_checkout": record, "session_id": session_id}

    def recovered(self, ns, params: dict) -> dict:
        """The abandoned checkout of `payment_id` (else one detected now, as `.detected` does) is
        recovered: its customer pays a new checkout (of `product_id`, else the first product)."""
        payment_id = params.get("payment_id")
        if payment_id is None:
            record = self.detected(ns, params)["abandoned_checkout"]
        else:
            record = ns.get(ABANDONED, payment_id)
            if record is None:
                raise TriggerError(f"no abandoned checkout of payment {payment_id} in {ns.name}",
                                   404)
            if record["status"] != "abandoned":
                raise TriggerError(f"the abandoned checkout of payment {payment_id} is "
                                   f"{record['status']}", 409)
        paid = self.backend.triggers.paid_payment(ns, {
            "product_id": params.get("product_id"),
            "customer": {"customer_id": record["customer_id"]}})
        return {"abandoned_checkout": self.backend.abandoned.get(ns, record["payment_id"]),
                "payment": self.backend.payments.get(ns, paid["id"])}

    def _new_checkout(self, ns, params: dict) -> str:
        payment = self.backend.triggers.open_payment(ns, params)
        return payment["ref"]["id"]
