"""Waffo subscription orders on the mock clock: the first charge, renewals each period, a failed
renewal and its retries (past due, recovered), a cancel that takes effect at the period's end,
reactivation, and the webhooks each of these sends (waffo-lifecycle.md section 4).

An active subscription has one due time, the end of its current period, kept on the order
(`renewal.due`) and in a DueTimes heap; the heap entry is a hint, the order decides (an entry whose
time no longer matches is stale). What falls due happens at its own instant (`clock.as_of`), so
a one-year clock advance renews a monthly subscription twelve times, each dated at its billing day:
- active: the period is charged to the card the first payment saved, off-session, through the
  PSP seam (a `chargeSavedMethod` fault rule, a card that declines later, or a trigger can make
  it fail). Paid: `subscription.payment_succeeded` then `subscription.renewed` (choice 9: the
  payment first). Declined: `past_due`, then a retry every RETRY_EVERY, RETRIES times; a retry that
  pays brings it back (`payment_succeeded`, `recovered`; the period counts from the date that was
  due, so the billing day does not move); the last failure ends it (`canceled`).
- canceling (a customer's or merchant's cancel): `canceled` at the period's end. A cancel while
  past due ends the subscription at once (on the scheduler's next pass, as the PSP's answer
  arrives), and reactivation is refused meanwhile (an unpaid balance).

Events' eventId is the order id (choice 10) except payment_succeeded's, which is the payment's, as
order.completed's is; periodNumber is the channel period (1 the first charge, 0 a trial's card
check), absent on canceling and uncanceled, as the changelog documents.
"""
from __future__ import annotations

from ...core import billing_cycles, ids
from ...core import payments as core_payments
from ...core.clock import epoch, iso
from ...core.due_times import DueTimes
from ...core.store import Namespace
from . import billing
from .common import ORDER, STORE
from .payments import PAYMENT_STATUS

# billingPeriod -> (count, unit) for core.billing_cycles (waffo-lifecycle.md section 3).
PERIODS = {"weekly": (1, "Week"), "monthly": (1, "Month"), "quarterly": (3, "Month"),
           "yearly": (1, "Year")}
DAY = 86400
RETRY_EVERY = 3 * DAY  # Waffo documents no dunning schedule: paymock's choice, in docs/waffo.md
RETRIES = 3

PAYMENT_SUCCEEDED = "subscription.payment_succeeded"
ACTIVATED, RENEWED = "subscription.activated", "subscription.renewed"
PAST_DUE, RECOVERED = "subscription.past_due", "subscription.recovered"
CANCELING, UNCANCELED = "subscription.canceling", "subscription.uncanceled"
CANCELED = "subscription.canceled"
EVENTS = (PAYMENT_SUCCEEDED, ACTIVATED, RENEWED, PAST_DUE, RECOVERED, CANCELING, UNCANCELED,
          CANCELED)
# What a charge made here is for (its core payment's data.purpose).
RENEWAL, RETRY = "renewal", "retry"
LIVE = ("active", "canceling", "past_due")


def payments_of(order: dict) -> list[dict]:
    """An order's payments, first (the checkout's) to last (renewals, retries, plan changes)."""
    return [order["payment"], *order.get("charges", ())]


def period_end(start: float, billing_period: str) -> float:
    count, unit = PERIODS[billing_period]
    return billing_cycles.after(start, count, unit)


def price_block(order: dict) -> dict:
    """The webhook's amount breakdown of the order's plan (listPrice / planPrice)."""
    return {"total": order["total"], "subtotal": order["subtotal"],
            "taxAmount": order["taxAmount"], "taxRate": float(order["taxRate"])}


class Subscriptions:
    def __init__(self, backend, store, outbox=None, wake=lambda: None):
        self.backend = backend
        self.clock = backend.clock
        self.outbox = outbox  # core webhooks (None: the app delivers none)
        self.due = DueTimes(store, self.clock, self._fall_due, wake, "Waffo subscription")
        self.plan_changes = None  # plan_changes.PlanChanges: a scheduled change applies at renewal

    # -- the first charge ------------------------------------------------------------------------
    def activate(self, ns: Namespace, order: dict, payment: dict) -> list[tuple[str, dict]]:
        """The checkout's payment succeeded: the first period (the trial, if any) starts now and
        the card is kept for renewals. Answers the events to send once the order is saved."""
        now = self.clock.now()
        trial = order.get("trialDays")
        end = now + trial * DAY if trial else period_end(now, order["billingPeriod"])
        order["status"] = "active"
        order.update(currentPeriodStart=iso(now), currentPeriodEnd=iso(end), canceledAt=None,
                     periodNumber=0 if trial else 1, charges=[],
                     renewal={"due": end, "card": dict(payment.get("card") or {}),
                              "retries": 0, "failNext": None})
        self.due.add(ns.name, order["orderId"], end)
        pay = order["payment"]
        pay["periodNumber"] = order["periodNumber"]
        return [(PAYMENT_SUCCEEDED, self.payment_event(ns, order, pay)),
                (ACTIVATED, self.status_event(ns, order, ACTIVATED))]

    # -- what falls due ----------------------------------------------------------------------
    def _fall_due(self, ns: Namespace, order_id: str) -> None:
        order = ns.get(ORDER, order_id)
        now = self.clock.now()  # the due time (DueTimes runs each at its own instant)
        if order is None or (order.get("renewal") or {}).get("due") != now:
            return  # gone, or moved since: its new time has its own entry
        status = order["status"]
        if status == "canceling":
            self.end(ns, order)
        elif status == "past_due":
            self.charge(ns, order, RETRY)
        elif status == "active":
            if self.plan_changes is not None and order["renewal"].get("scheduledPlan"):
                order = self.plan_changes.apply_scheduled(ns, order)
            self.charge(ns, order, RENEWAL)

    def schedule(self, ns: Namespace, order: dict, due: float | None) -> None:
        order.setdefault("renewal", {})["due"] = due
        if due is not None:
            self.due.add(ns.name, order["orderId"], due)

    # -- charging the saved card ---------------------------------------------------------------
    def charge(self, ns: Namespace, order: dict, purpose: str, amount: dict | None = None,
               data: dict | None = None) -> dict:
        """Charge the saved card off-session; the outcome reaches `on_charge` through the core
        payment's listener (WaffoPayments.on_event). `amount`: a breakdown other than the plan's
        (a plan change's proration)."""
        renewal = order["renewal"]
        number = order["periodNumber"] + (1 if purpose == RENEWAL else 0)
        amount = amount or price_block(order)
        reason = renewal.get("failNext")
        if reason:
            renewal["failNext"] = None
        payments = self.backend.payments
        pay_id = ids.prefixed("PAY", 22)
        payment = payments.payments.create(
            ns, "waffo", billing.to_minor(amount["total"], order["currency"]), order["currency"],
            {"kind": ORDER, "id": order["orderId"]}, payment_id=pay_id,
            data={"purpose": purpose, "periodNumber": number, "amount": amount, **(data or {})},
            can_expire=False, stored=False)
        reason = reason or self.backend.psp.charge_saved(
            {"paymentId": pay_id, "orderId": order["orderId"], "amount": amount["total"],
             "currency": order["currency"], "purpose": purpose}, ns.name)
        ns.save(ORDER, order["orderId"], order)  # failNext spent; on_charge reads it again
        return payments.payments.charge_saved(ns, payment, renewal["card"], reason)

    def on_charge(self, ns: Namespace, order: dict, payment: dict) -> list[tuple[str, dict]]:
        """A charge made here ended: the order moves, and answers the events to send once it is
        saved (WaffoPayments.on_event saves it)."""
        status = payment["status"]
        if status not in (core_payments.SUCCEEDED, core_payments.FAILED):
            return []
        data = payment["data"]
        pay = self._record(order, payment)
        purpose = data["purpose"]
        if purpose not in (RENEWAL, RETRY):  # a plan change's charge
            return self.plan_changes.on_charge(ns, order, payment, pay)
        renewal = order["renewal"]
        events: list[tuple[str, dict]] = []
        if status == core_payments.SUCCEEDED:
            start = order["currentPeriodEnd"] if purpose == RENEWAL else renewal["unpaidFrom"]
            start_at = epoch(start)
            end = period_end(start_at, order["billingPeriod"])
            was_past_due = order["status"] == "past_due"
            order.update(status="active", currentPeriodStart=iso(start_at),
                         currentPeriodEnd=iso(end), periodNumber=data["periodNumber"])
            renewal.update(retries=0, unpaidFrom=None)
            self.schedule(ns, order, end)
            events.append((PAYMENT_SUCCEEDED, self.payment_event(ns, order, pay)))
            events.append((RECOVERED if was_past_due else RENEWED,
                           self.status_event(ns, order, RECOVERED if was_past_due else RENEWED)))
            return events
        if purpose == RENEWAL:
            order.update(status="past_due", periodNumber=data["periodNumber"])
            renewal.update(retries=0, unpaidFrom=order["currentPeriodEnd"])
            self.schedule(ns, order, self.clock.now() + RETRY_EVERY)
            return [(PAST_DUE, self.status_event(ns, order, PAST_DUE))]
        renewal["retries"] += 1
        if renewal["retries"] >= RETRIES:
            return self._ended(ns, order)
        self.schedule(ns, order, self.clock.now() + RETRY_EVERY)
        return []

    def _record(self, order: dict, payment: dict) -> dict:
        """The order's record of a charge made here (as `order.payment` is of the first)."""
        data = payment["data"]
        now = iso(self.clock.now())
        amount = data["amount"]
        pay = {"paymentId": payment["id"], "status": PAYMENT_STATUS[payment["status"]],
               "purpose": data["purpose"], "periodNumber": data["periodNumber"],
               "paymentMethod": payment.get("method") or "card",
               "paymentLast4": (payment.get("card") or {}).get("last4"),
               "failureReason": payment["reason"] if payment["status"] == "failed" else None,
               "paidAt": now if payment["status"] == "succeeded" else None,
               "chargedAmount": amount["total"] if payment["status"] == "succeeded" else None,
               "amount": amount, "createdAt": now}
        order.setdefault("charges", []).append(pay)
        order["updatedAt"] = now
        return pay

    # -- cancel, reactivate, the end -----------------------------------------------------------
    def canceled(self, ns: Namespace, order: dict, previous: str) -> list[tuple[str, dict]]:
        """orders.cancel moved a live subscription to canceling: the event now; the end at the
        period's end, or at once when it was past due (the PSP cancels an unpaid one now)."""
        if previous == "pending":
            return []  # never active: no event (waffo-lifecycle.md section 4)
        if previous == "past_due":  # the PSP cancels now; its answer ends it on the next pass
            self.schedule(ns, order, self.clock.now())
        return [(CANCELING, self.status_event(ns, order, CANCELING))]

    def reactivated(self, ns: Namespace, order: dict) -> list[tuple[str, dict]]:
        return [(UNCANCELED, self.status_event(ns, order, UNCANCELED))]

    def end(self, ns: Namespace, order: dict) -> None:
        events = self._ended(ns, order)
        ns.save(ORDER, order["orderId"], order)
        self.send(ns, events)

    def _ended(self, ns: Namespace, order: dict) -> list[tuple[str, dict]]:
        now = iso(self.clock.now())
        order.update(status="canceled", canceledAt=now, updatedAt=now)
        self.schedule(ns, order, None)
        return [(CANCELED, self.status_event(ns, order, CANCELED))]

    # -- webhooks --------------------------------------------------------------------------------
    def send(self, ns: Namespace, events: list[tuple[str, dict]]) -> None:
        if self.outbox is None:
            return
        for event, envelope in events:
            self.outbox.emit(ns.name, "waffo", event, envelope)

    def _envelope(self, ns: Namespace, order: dict, event: str, event_id: str, data: dict) -> dict:
        store = ns.get(STORE, order["storeId"]) or {}
        common = {
            "orderId": order["orderId"], "buyerEmail": order["buyerEmail"],
            "merchantProvidedBuyerIdentity": order.get("buyerIdentity"),
            "orderMerchantExternalId": order.get("orderMerchantExternalId"),
            "currency": order["currency"], "productName": order["productName"],
            "billingDetail": order["billingDetail"], "orderMetadata": order.get("metadata") or {},
            "taxAmount": order["taxAmount"], "taxRate": float(order["taxRate"]) / 100,
            "subtotal": order["subtotal"], "total": order["total"],
        }
        common.update(data)
        return {"timestamp": iso(self.clock.now()), "eventType": event, "eventId": event_id,
                "storeId": order["storeId"], "storeName": store.get("name", ""),
                "mode": order["environment"],
                "data": {k: v for k, v in common.items() if v is not None}}

    def payment_event(self, ns: Namespace, order: dict, pay: dict) -> dict:
        """subscription.payment_succeeded: one charge, no status or period."""
        charged = pay.get("chargedAmount") or order["total"]
        return self._envelope(ns, order, PAYMENT_SUCCEEDED, pay["paymentId"], {
            "amount": charged, "chargedAmount": charged, "listPrice": price_block(order),
            "paymentId": pay["paymentId"], "paymentStatus": "succeeded",
            "paymentMethod": pay.get("paymentMethod"), "paymentLast4": pay.get("paymentLast4"),
            "paymentDate": iso(self.clock.now())[:10], "periodNumber": pay.get("periodNumber"),
            "billingPeriod": order.get("billingPeriod")})

    def status_event(self, ns: Namespace, order: dict, event: str,
                     numbered: bool | None = None) -> dict:
        """Every other subscription.* event: the status, the period and the plan's price;
        periodNumber is left out of the events about no charge (canceling, uncanceled,
        plan_change_failed)."""
        numbered = event not in (CANCELING, UNCANCELED) if numbered is None else numbered
        return self._envelope(ns, order, event, order["orderId"], {
            "orderStatus": order["status"], "amount": order["total"],
            "planPrice": price_block(order), "billingPeriod": order.get("billingPeriod"),
            "currentPeriodStart": order.get("currentPeriodStart"),
            "currentPeriodEnd": order.get("currentPeriodEnd"),
            "canceledAt": order.get("canceledAt"),
            "periodNumber": order.get("periodNumber") if numbered else None})

    # -- persistence ---------------------------------------------------------------------------
    def dump(self) -> list:
        return self.due.dump()

    def load(self, data: list) -> None:
        self.due.load(data)

