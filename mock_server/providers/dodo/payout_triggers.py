"""payout.* on demand (POST /_mock/trigger): each moves a payout (the one `payout_id` names, else
a new one of the namespace's balance, a paid payment made first when there is none) through the
moves the control API makes, so every event on the way goes out too."""
from __future__ import annotations

from ...core.triggers import TriggerError
from .payouts import MOVES, PayoutError

# event -> the actions that lead there from a new payout
PATHS = {"payout.created": (), "payout.on_hold": ("hold",), "payout.in_progress": ("process",),
         "payout.success": ("process", "succeed"), "payout.failed": ("process", "fail")}


class PayoutTriggers:
    def __init__(self, backend):
        self.backend = backend

    def register(self, triggers) -> None:
        for event, path in PATHS.items():
            triggers.register("dodo", event, lambda ns, params, p=path: self.move(ns, params, p))

    def move(self, ns, params: dict, path: tuple) -> dict:
        payouts = self.backend.payouts
        payout_id = params.get("payout_id")
        try:
            if payout_id is None:
                payout = self._new(ns, params)
            else:
                payout = payouts.get(ns, payout_id)
                if payout is None:
                    raise TriggerError(f"no payout {payout_id} in {ns.name}", 404)
                if not path:
                    raise TriggerError("payout.created makes a new payout: leave out payout_id")
                # A named payout takes the last step, after `process` if it cannot take it yet.
                last = path[-1]
                path = ("process", last) if last != "process" and \
                    payout["status"] not in MOVES[last][1] and \
                    payout["status"] in MOVES["process"][1] else (last,)
            for action in path:
                payout = payouts.move(ns, payout["payout_id"], action, params.get("remarks"))
        except TriggerError:
            raise
        except PayoutError as exc:
            raise TriggerError(str(exc), 409) from None
        except ValueError as exc:
            raise TriggerError(str(exc)) from None
        return {"payout": payout}

    def _new(self, ns, params: dict) -> dict:
        currency = params.get("currency") or "USD"
        with ns.lock:
            # Something to pay out: paid payments until the balance is positive (it can be
            # negative: a refunded payment's lost dispute counts both); 50 at most, then a 409.
            for _ in range(50):
                if params.get("amount") is not None or \
                        self.backend.payouts.balance(ns, currency)["available"] > 0:
                    break
                self.backend.triggers.paid_payment(ns, params)
            return self.backend.payouts.create(ns, params.get("amount"), currency,
                                               params.get("remarks"))
