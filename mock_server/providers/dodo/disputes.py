"""Dodo disputes: a customer's chargeback on a paid payment, read through GET /disputes and
GET /disputes/{id}, moved by the card network (here: the control API and the dispute.* triggers).

The API cannot open or move one, so `open` and `move` are called by /_mock/dodo/disputes. Paths
(docs developer-resources/webhooks/intents/dispute): opened -> challenged -> won | lost;
opened -> accepted | cancelled | expired. Each move emits dispute.<status>, whose data is the
dispute as GET /disputes/{id} reads it, customer included (reference choice 10). An opened
dispute the merchant leaves unanswered expires 10 days after it opened (choice 12): the scheduler
runs it on the mock clock, and every read catches what the scheduler has not reached yet (after a
restart from a state file, say), so a read never shows an opened dispute past its deadline.
"""
from __future__ import annotations


from ...core import ids
from ...core import payments as core_payments
from ...core.clock import iso
from ...core.due_times import DueTimes
from ...core.store import Namespace
from . import paging
from .models import not_found

DISPUTE = "dispute"
RESPONSE_DAYS = 10
STAGES = ("pre_dispute", "dispute", "pre_arbitration")
# action -> (the status it leads to, the statuses it may leave)
MOVES = {
    "challenge": ("dispute_challenged", {"dispute_opened"}),
    "accept": ("dispute_accepted", {"dispute_opened"}),
    "cancel": ("dispute_cancelled", {"dispute_opened"}),
    "expire": ("dispute_expired", {"dispute_opened"}),
    "win": ("dispute_won", {"dispute_challenged"}),
    "lose": ("dispute_lost", {"dispute_challenged"}),
}
ACTIVE = frozenset({"dispute_opened", "dispute_challenged"})
# The way a trigger takes a new dispute to each event's status.
PATHS = {
    "dispute.opened": (), "dispute.challenged": ("challenge",),
    "dispute.won": ("challenge", "win"), "dispute.lost": ("challenge", "lose"),
    "dispute.accepted": ("accept",), "dispute.cancelled": ("cancel",),
    "dispute.expired": ("expire",),
}


class DisputeError(ValueError):
    """The control API asked for something the dispute's state refuses (a 409)."""


class Disputes:
    def __init__(self, backend, events, store=None, wake=None):
        self.backend = backend
        self.events = events
        # Unanswered deadlines, run by the scheduler's job (without a store, reads catch up).
        self.deadlines = DueTimes(store, backend.clock, self._deadline, wake or (lambda: None),
                                  "dispute")
        self.expire_due = self.deadlines.run
        self.dump, self.load = self.deadlines.dump, self.deadlines.load

    # -- opening and moving (control API, triggers) ---------------------------------------------
    def open(self, ns: Namespace, payment_id: str, amount: int | None = None,
             reason: str | None = None, stage: str = "dispute", remarks: str | None = None) -> dict:
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {list(STAGES)}, got {stage!r}")
        with ns.lock:
            payment = ns.get(core_payments.PAYMENT, payment_id)
            if payment is None or payment.get("provider") != "dodo":
                raise LookupError(f"no Dodo payment {payment_id} in {ns.name}")
            if payment["status"] != core_payments.SUCCEEDED:
                raise DisputeError(f"payment {payment_id} is {payment['status']}: only a "
                                   "succeeded payment can be disputed")
            if amount is None:
                amount = payment["amount"]
            if isinstance(amount, bool) or not isinstance(amount, int) \
                    or not 0 < amount <= payment["amount"]:
                raise ValueError(f"amount must be an integer from 1 to the payment's "
                                 f"{payment['amount']} (minor units), got {amount!r}")
            for other in self._of_payment(ns, payment):
                if other["dispute_status"] in ACTIVE:
                    raise DisputeError(f"payment {payment_id} has an open dispute already: "
                                       f"{other['dispute_id']} ({other['dispute_status']})")
            now = self.backend.clock.now()
            dispute = {
                "dispute_id": ids.prefixed("dp", 20), "payment_id": payment_id,
                "business_id": self.backend.business_id, "brand_id": self.backend.business_id,
                "amount": str(amount), "currency": payment["currency"],
                "dispute_status": "dispute_opened", "dispute_stage": stage,
                "created_at": iso(now), "customer": payment["data"]["customer"],
                "reason": reason, "remarks": remarks, "is_resolved_by_rdr": None,
                "payment_provider": "dodo", "respond_by": now + RESPONSE_DAYS * 86400,
                "history": [{"status": "dispute_opened", "at": iso(now)}],
            }
            ns.put(DISPUTE, dispute["dispute_id"], dispute)
            payment["data"].setdefault("dispute_ids", []).append(dispute["dispute_id"])
            ns.save(core_payments.PAYMENT, payment_id, payment)
            self.events.emit(ns, "dispute.opened", "Dispute", self.render(dispute))
        self.deadlines.add(ns.name, dispute["dispute_id"], dispute["respond_by"])
        return self.render(dispute)

    def move(self, ns: Namespace, dispute_id: str, action: str, stage: str | None = None,
             remarks: str | None = None) -> dict:
        if action not in MOVES:
            raise ValueError(f"action must be one of {sorted(MOVES)}, got {action!r}")
        if stage is not None and stage not in STAGES:
            raise ValueError(f"stage must be one of {list(STAGES)}, got {stage!r}")
        with ns.lock:
            dispute = self._expired_if_due(ns, ns.get(DISPUTE, dispute_id))
            if dispute is None:
                raise LookupError(f"no dispute {dispute_id} in {ns.name}")
            status, sources = MOVES[action]
            if dispute["dispute_status"] not in sources:
                raise DisputeError(f"dispute {dispute_id} is {dispute['dispute_status']}; "
                                   f"{action} needs it {' or '.join(sorted(sources))}")
            return self.render(self._move(ns, dispute, status, stage, remarks))

    def _move(self, ns: Namespace, dispute: dict, status: str, stage: str | None = None,
              remarks: str | None = None) -> dict:
        dispute["dispute_status"] = status
        if stage is not None:
            dispute["dispute_stage"] = stage
        if remarks is not None:
            dispute["remarks"] = remarks
        dispute["history"].append({"status": status, "at": iso(self.backend.clock.now())})
        ns.save(DISPUTE, dispute["dispute_id"], dispute)
        self.events.emit(ns, "dispute." + status.removeprefix("dispute_"), "Dispute",
                         self.render(dispute))
        return dispute

    # -- the response deadline ------------------------------------------------------------------
    def _deadline(self, ns: Namespace, dispute_id: str) -> None:
        """DueTimes: a dispute's deadline came (the clock reads it)."""
        self._expired_if_due(ns, ns.get(DISPUTE, dispute_id))

    def _expired_if_due(self, ns: Namespace, dispute: dict | None):
        """The dispute, expired first if it sat opened past its deadline (under ns.lock)."""
        if dispute is None or dispute["dispute_status"] != "dispute_opened":
            return dispute
        if self.backend.clock.now() < dispute["respond_by"]:
            return dispute
        return self._move(ns, dispute, "dispute_expired")

    def _current(self, ns: Namespace, dispute: dict) -> dict:
        if dispute["dispute_status"] != "dispute_opened" \
                or self.backend.clock.now() < dispute["respond_by"]:
            return dispute
        with ns.lock:
            return self._expired_if_due(ns, ns.get(DISPUTE, dispute["dispute_id"]))

    # -- reading --------------------------------------------------------------------------------
    def get(self, ns: Namespace, dispute_id: str) -> dict:
        dispute = ns.get(DISPUTE, dispute_id)
        if dispute is None:
            raise not_found("Dispute not found")
        return self.render(self._current(ns, dispute))

    def list(self, ns: Namespace, query: dict) -> dict:
        created = paging.created_between(query)
        rows = []
        for dispute in ns.values(DISPUTE):
            dispute = self._current(ns, dispute)
            if (query.get("dispute_status") not in (None, dispute["dispute_status"])
                    or query.get("dispute_stage") not in (None, dispute["dispute_stage"])
                    or query.get("customer_id") not in (None, dispute["customer"]["customer_id"])
                    or not created(dispute["created_at"])):
                continue
            rows.append(dispute)
        rows.sort(key=lambda d: (d["created_at"], d["dispute_id"]), reverse=True)
        return {"items": [_list_item(d) for d in paging.page(rows, query)]}

    def extend_payment(self, ns: Namespace, payment: dict, rendered: dict) -> None:
        """DodoPayments.renderers: `disputes[]` (DisputeResponse), oldest first."""
        if not payment["data"].get("dispute_ids"):
            return  # render() starts with none
        rendered["disputes"] = [_short(self._current(ns, d)) for d in self._of_payment(ns, payment)]

    @staticmethod
    def render(dispute: dict) -> dict:
        """GetDisputeResponse (also the dispute.* events' data)."""
        return {key: dispute[key] for key in (
            "dispute_id", "payment_id", "business_id", "brand_id", "amount", "currency",
            "dispute_status", "dispute_stage", "created_at", "customer", "reason", "remarks",
            "is_resolved_by_rdr", "payment_provider")}

    @staticmethod
    def _of_payment(ns: Namespace, payment: dict) -> list[dict]:
        found = (ns.get(DISPUTE, d) for d in payment["data"].get("dispute_ids", ()))
        return [d for d in found if d is not None]


def _short(dispute: dict) -> dict:
    """DisputeResponse, as a payment lists its disputes."""
    return {key: dispute[key] for key in (
        "dispute_id", "payment_id", "business_id", "amount", "currency", "dispute_status",
        "dispute_stage", "created_at", "is_resolved_by_rdr", "remarks")}


def _list_item(dispute: dict) -> dict:
    """ListDisputeResponse."""
    return {key: dispute[key] for key in (
        "dispute_id", "payment_id", "business_id", "amount", "currency", "dispute_status",
        "dispute_stage", "created_at", "is_resolved_by_rdr", "payment_provider")}
