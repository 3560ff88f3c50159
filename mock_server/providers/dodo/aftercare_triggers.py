"""The refund.* and dispute.* triggers (POST /_mock/trigger): each refunds or disputes a paid
payment through the rules of refunds.py and disputes.py, which emit the event.

    refund.succeeded / refund.failed   payment_id? (else a new paid payment), items?, reason?,
                                       metadata?: a refund that ends that way
    dispute.<status>                   dispute_id (an existing dispute, moved on along its path)
                                       or payment_id? (else a new paid payment), amount?,
                                       reason?, stage?: a dispute taken to that status the way
                                       the network would (dispute.won: opened, challenged, won)
"""
from __future__ import annotations

from ...core.triggers import TriggerError
from .disputes import MOVES, PATHS, DisputeError

REFUND_EVENTS = {"refund.succeeded": "succeeded", "refund.failed": "failed"}
REFUND_PARAMS = ("items", "reason", "metadata")


class AftercareTriggers:
    def __init__(self, backend):
        self.backend = backend

    def register(self, triggers) -> None:
        for event, outcome in REFUND_EVENTS.items():
            triggers.register("dodo", event, lambda ns, p, o=outcome: self.refund(ns, p, o))
        for event in PATHS:
            triggers.register("dodo", event, lambda ns, p, e=event: self.dispute(ns, p, e))

    def refund(self, ns, params: dict, outcome: str) -> dict:
        payment = self.backend.triggers.paid_payment(ns, params)
        if outcome == "succeeded" and self.backend.refunds._disputed(ns, payment):
            raise TriggerError(f"payment {payment['id']} is disputed: its refunds fail "
                               "(trigger refund.failed, or pick another payment)", 409)
        body = {"payment_id": payment["id"], **{k: params[k] for k in REFUND_PARAMS if k in params}}
        refund = self.backend.refunds.create(ns, body, outcome)
        return {"refund": refund, "payment": self.backend.payments.get(ns, payment["id"])}

    def dispute(self, ns, params: dict, event: str) -> dict:
        disputes = self.backend.disputes
        path = PATHS[event]
        try:
            if params.get("dispute_id") is not None:
                dispute = disputes.get(ns, params["dispute_id"])
                path = _rest_of(path, dispute["dispute_status"], params["dispute_id"], event)
            else:
                payment = self.backend.triggers.paid_payment(ns, params)
                dispute = disputes.open(ns, payment["id"], params.get("amount"),
                                        params.get("reason"), params.get("stage") or "dispute")
            for action in path:
                dispute = disputes.move(ns, dispute["dispute_id"], action)
        except TriggerError:
            raise
        except DisputeError as exc:
            raise TriggerError(str(exc), 409) from None
        except (LookupError, ValueError) as exc:
            raise TriggerError(str(exc), 400) from None
        return {"dispute": dispute, "payment": self.backend.payments.get(ns, dispute["payment_id"])}


def _rest_of(path: tuple, status: str, dispute_id: str, event: str) -> tuple:
    """What is left of `path` for a dispute standing at `status`."""
    reached = "dispute_opened"
    for index, action in enumerate(path):
        if status == reached:
            return path[index:]
        reached = MOVES[action][0]
    raise TriggerError(f"dispute {dispute_id} is {status}: {event} cannot happen to it", 409)
