"""Dodo subscriptions: made by a paid checkout of a recurring product, read, listed and changed
(PATCH /subscriptions/{id}: cancel now or at the next billing date, pause and resume, billing,
metadata, dates). Renewals, failed charges and their recovery are subscription_renewals.py's.

A subscription is stored as the vendor's SubscriptionResponse plus one private key, `_paymock`
(the saved card, the charge amount, epoch dates), which `render` leaves out. Every save goes
through `save()`, which tells the renewal index when the subscription next falls due.
Events follow paymock's choices (../shared/reference/dodo-lifecycle.md, open questions): a
specific subscription.* event, then subscription.updated (choice 11).
"""
from __future__ import annotations


from ...core import billing_cycles, ids
from ...core.clock import epoch, iso
from ...core.store import Namespace
from . import paging
from .models import DISCOUNT, PRODUCT, SESSION, invalid, not_found
from .payment_links import RESERVED

SUBSCRIPTION = "subscription"
INTERNAL = "_paymock"
DAY = 86400.0
ENDED = frozenset({"cancelled", "expired", "failed"})
CANCEL_FIELDS = ("cancel_reason", "cancellation_feedback", "cancellation_comment")
API_CALLER = {"actor_type": "api_key", "email": None, "name": None}


def customer_caller(sub: dict) -> dict:
    """cancelled_by when the customer acts through the customer portal."""
    customer = sub["customer"]
    return {"actor_type": "customer", "email": customer.get("email"), "name": customer.get("name")}


def inactive(message: str):
    return invalid(message, "SUBSCRIPTION_INACTIVE")


class Subscriptions:
    def __init__(self, backend, grace_days: int = 0):
        self.backend = backend
        self.clock = backend.clock
        self.grace_days = grace_days  # past_due before on_hold; 0 = off, Dodo's default
        self.schedule = lambda ns_name, sub_id, due: None  # the renewal index (set by Renewals)
        # What a subscription's event sets off elsewhere, each `(ns, event, sub)` after it is
        # sent (its license keys are disabled on hold and enabled on recovery).
        self.on_event: list = []

    # -- made by a checkout's payment (DodoPayments.before_emit) ---------------------------
    def on_payment(self, ns: Namespace, payment: dict, previous: str) -> None:
        """Paid: an active subscription. Declined: a failed one (its mandate failed); if the
        buyer then pays on the same page, that payment makes a new, active subscription. The
        subscription's event goes out before the payment's."""
        data, status = payment["data"], payment["status"]
        if status not in ("succeeded", "failed") or payment["ref"]["kind"] != SESSION \
                or not data.get("is_recurring"):
            return
        named = data.get("subscription_id")
        if named is not None and (status == "failed" or (ns.get(SUBSCRIPTION, named) or {})
                                  .get("status") != "failed"):
            return  # told already (a failed one is failed once)
        session = ns.get(SESSION, payment["ref"]["id"], include_expired=True)
        if session is None:
            return
        sub = self.create(ns, session, payment, "active" if status == "succeeded" else "failed")
        data["subscription_id"] = sub["subscription_id"]  # saved with the payment
        data["payment_method_id"] = sub["payment_method_id"]

    def create(self, ns: Namespace, session: dict, payment: dict, status: str = "active") -> dict:
        """Active from the first payment (also while trialing: Dodo has no trialing status),
        or failed when that payment was declined."""
        quote, request = session["pricing"], session["request"]
        line = quote["product_cart"][0]
        product = ns.read(PRODUCT, line["product_id"])
        price = product["price"]
        now = self.clock.now()
        trial = quote.get("trial_period_days") or 0
        every = (price.get("payment_frequency_count") or 1,
                 price.get("payment_frequency_interval") or "Month")
        term = (price.get("subscription_period_count") or 1,
                price.get("subscription_period_interval") or "Year")
        # A free trial's first charge is at its end (a renewal: choice 3); otherwise one cycle on.
        first = now + trial * DAY if trial else billing_cycles.after(now, *every)
        ends = billing_cycles.after(now, *term)
        recurring = quote["recurring_breakup"]
        discounts = self._discounts(ns, request)
        card = dict(payment.get("card") or {})
        methods = getattr(self.backend, "payment_methods", None)
        customer_id = payment["data"]["customer"]["customer_id"]
        # An active one saves the card on the customer (one pm_ per card per customer); a
        # declined card gives no mandate and is not saved.
        method = methods.record(ns, customer_id, card, payment) \
            if methods is not None and status == "active" and card else ids.prefixed("pm", 21)
        sub = {
            "subscription_id": _new_id(ns, session),
            "brand_id": product.get("brand_id") or self.backend.business_id,
            "status": status, "created_at": iso(now), "product_id": product["product_id"],
            "quantity": line["quantity"],
            "recurring_pre_tax_amount": recurring["subtotal"] - recurring["discount"],
            "tax_inclusive": bool(price.get("tax_inclusive")), "currency": quote["currency"],
            "trial_period_days": trial, "trial_amount": None,
            "payment_frequency_count": every[0], "payment_frequency_interval": every[1],
            "subscription_period_count": term[0], "subscription_period_interval": term[1],
            "previous_billing_date": iso(now), "next_billing_date": iso(first),
            "expires_at": iso(ends), "customer": payment["data"]["customer"],
            "billing": dict(payment["data"]["billing"]),
            "metadata": dict(request.get("metadata") or {}),
            "cancel_at_next_billing_date": False, "cancelled_at": None, "cancelled_by": None,
            "cancellation_comment": None, "cancellation_feedback": None, "paused_at": None,
            "on_demand": False, "addons": [], "meters": [], "credit_entitlement_cart": [],
            "meter_credit_entitlement_cart": [], "discounts": discounts,
            "discount_id": discounts[0]["discount_id"] if discounts else None,
            "discount_cycles_remaining": discounts[0]["cycles_remaining"] if discounts else None,
            "payment_method_id": method, "has_payment_method": True, "scheduled_change": None,
            "tax_id": request.get("tax_id"), "customer_business_name": None,
            "custom_field_responses": None,
            # Billing dates count from one anchor (cycle n ends n cycles after it), so that a
            # subscription bought on January 31 renews on the last day of each shorter month
            # and on the 31st again after it, rather than drifting to the 28th.
            INTERNAL: {"next_at": first, "ends_at": ends, "anchor": first if trial else now,
                       "cycles": 0 if trial else 1, "card": card, "methods": {method: card},
                       "amount": recurring["total_amount"], "tax": recurring["tax"],
                       "product_name": line.get("name") or product.get("name"),
                       "paused_at": None, "past_due_ends_at": None, "fail_next": None,
                       "due": None},
        }
        ns.put(SUBSCRIPTION, sub["subscription_id"], sub)
        self.save(ns, sub)
        self.announce(ns, f"subscription.{status}", sub)
        return sub

    def _discounts(self, ns: Namespace, request: dict) -> list[dict]:
        codes = request.get("discount_codes")
        if codes is None:
            codes = [request["discount_code"]] if request.get("discount_code") else []
        found = []
        for position, code in enumerate(codes):
            discount = ns.get(DISCOUNT, code.upper())
            if discount is not None:
                found.append(dict(discount, position=position,
                                  cycles_remaining=discount.get("subscription_cycles")))
        return found

    # -- storing and telling -----------------------------------------------------------------
    def save(self, ns: Namespace, sub: dict) -> None:
        """Write the subscription back; the renewal index learns when it next falls due."""
        extra = sub[INTERNAL]
        due = due_of(sub)
        changed = due != extra["due"]
        extra["due"] = due
        ns.save(SUBSCRIPTION, sub["subscription_id"], sub)
        if changed and due is not None:
            self.schedule(ns.name, sub["subscription_id"], due)

    def announce(self, ns: Namespace, event: str, sub: dict, payment_id: str | None = None) -> None:
        """`event`, then subscription.updated (choice 11). `data.payment_id` is set on
        subscription.renewed only, as SDK 1.123.0 documents."""
        events = self.backend.events
        data = self.event_data(sub)
        events.emit(ns, event, "Subscription", dict(data, payment_id=payment_id))
        if event != "subscription.updated":
            events.emit(ns, "subscription.updated", "Subscription", data)
        for hook in self.on_event:
            hook(ns, event, sub)

    def event_data(self, sub: dict) -> dict:
        data = render(sub)
        ends = sub[INTERNAL]["past_due_ends_at"]
        data["past_due_ends_at"] = iso(ends) if ends is not None else None
        data["payment_id"] = None
        return data

    # -- reading -----------------------------------------------------------------------------
    def find(self, ns: Namespace, sub_id: str) -> dict:
        sub = ns.get(SUBSCRIPTION, sub_id)
        if sub is None:
            raise not_found("Subscription not found")
        return sub

    def get(self, ns: Namespace, sub_id: str) -> dict:
        return render(self.find(ns, sub_id))

    @staticmethod
    def of_customer(ns: Namespace, customer_id: str) -> list[dict]:
        return [sub for sub in ns.values(SUBSCRIPTION)
                if sub["customer"]["customer_id"] == customer_id]

    @staticmethod
    def chargeable(sub: dict) -> bool:
        """Can still be charged, so its payment method is in use."""
        return sub["status"] not in ENDED

    def forget_method(self, ns: Namespace, sub: dict, method_id: str) -> None:
        """A deleted payment method is no longer one of this subscription's."""
        if sub[INTERNAL]["methods"].pop(method_id, None) is not None:
            self.save(ns, sub)

    def list(self, ns: Namespace, query: dict) -> dict:
        """Newest first, as GET /payments; each filter the spec declares."""
        created_between = paging.created_between(query)
        rows = []
        for sub in ns.values(SUBSCRIPTION):
            if (query.get("status") not in (None, sub["status"])
                    or query.get("customer_id") not in (None, sub["customer"]["customer_id"])
                    or query.get("product_id") not in (None, sub["product_id"])
                    or query.get("brand_id") not in (None, sub["brand_id"])
                    or query.get("cancel_at_next_billing_date") not in (
                        None, sub["cancel_at_next_billing_date"])
                    or not created_between(sub["created_at"])):
                continue
            rows.append(sub)
        rows.sort(key=lambda s: (s["created_at"], s["subscription_id"]), reverse=True)
        return {"items": [dict(render(s), product_name=s[INTERNAL]["product_name"])
                          for s in paging.page(rows, query)]}

    # -- PATCH -------------------------------------------------------------------------------
    def patch(self, ns: Namespace, sub_id: str, body: dict, by: dict | None = None) -> dict:
        """`by`: cancelled_by when this cancels or schedules a cancel (the API key's by
        default; the customer portal passes the customer's)."""
        by = by or API_CALLER
        given = {k: v for k, v in body.items() if v is not None}
        if "pause" in given:
            raise invalid("pause was removed: send status \"paused\" to pause and status "
                          "\"active\" to resume")
        status = given.get("status")
        with ns.lock:
            sub = self.find(ns, sub_id)
            if status in ("paused", "active"):
                others = sorted(set(given) - {"status"})
                if others:
                    raise invalid(f"status {status} must be sent alone; the request also has "
                                  f"{', '.join(others)}")
                (self._pause if status == "paused" else self._resume)(ns, sub)
                return render(sub)
            if status is not None and status != "cancelled":
                raise invalid(f"status can be set to cancelled, paused or active, not {status}")
            if sub["status"] in ENDED:
                raise inactive(f"Subscription is {sub['status']}; it can no longer be changed")
            cancelling = status == "cancelled" or given.get("cancel_at_next_billing_date") is True
            stray = [name for name in CANCEL_FIELDS if name in given]
            if stray and not cancelling:
                raise invalid(f"{', '.join(stray)} only valid when cancelling (status cancelled) "
                              "or scheduling a cancellation (cancel_at_next_billing_date true)")
            changed = self._fields(sub, given)
            if status == "cancelled":
                self.end(ns, sub, "cancelled", by, given)
                return render(sub)
            if "cancel_at_next_billing_date" in given:
                scheduled = given["cancel_at_next_billing_date"]
                changed |= scheduled != sub["cancel_at_next_billing_date"]
                sub["cancel_at_next_billing_date"] = scheduled
                sub["cancelled_by"] = dict(by) if scheduled else None
                if scheduled:
                    sub["cancellation_feedback"] = given.get("cancellation_feedback")
                    sub["cancellation_comment"] = given.get("cancellation_comment")
            self.save(ns, sub)
            if changed:  # a scheduled cancel is a change like any other (choice 2)
                self.announce(ns, "subscription.updated", sub)
            return render(sub)

    def _fields(self, sub: dict, given: dict) -> bool:
        """Apply the plain field changes; whether anything changed."""
        extra, before = sub[INTERNAL], render(sub)
        if "next_billing_date" in given:
            at = _parse(given["next_billing_date"], "next_billing_date")
            if at <= self.clock.now():
                raise invalid("next_billing_date must be in the future",
                              "INVALID_REQUEST_PARAMETERS")
            if sub["status"] not in ("active", "past_due"):
                raise inactive(f"next_billing_date cannot be moved on a {sub['status']} "
                               "subscription")
            extra.update(next_at=at, anchor=at, cycles=0)  # the new date anchors the cycles
            sub["next_billing_date"] = iso(at)
        if "subscription_period_count" in given or "subscription_period_interval" in given:
            count = given.get("subscription_period_count", sub["subscription_period_count"])
            interval = given.get("subscription_period_interval", sub["subscription_period_interval"])
            if count < 1:
                raise invalid("subscription_period_count must be at least 1")
            ends = billing_cycles.after(epoch(sub["created_at"]), count, interval)
            if ends < extra["ends_at"]:
                raise invalid("the subscription period can only be extended: "
                              f"{count} {interval} ends before the current expires_at "
                              f"{sub['expires_at']}", "INVALID_REQUEST_PARAMETERS")
            sub.update(subscription_period_count=count, subscription_period_interval=interval,
                       expires_at=iso(ends))
            extra["ends_at"] = ends
        if "disable_on_demand" in given:
            raise invalid("disable_on_demand applies to on-demand subscriptions only; this one "
                          "is not on-demand")
        if given.get("credit_entitlement_cart"):
            raise invalid("this subscription has no credit entitlements to update")
        for name in ("billing", "metadata", "tax_id", "customer_business_name"):
            if name in given:
                sub[name] = given[name]
        if "customer_name" in given:
            sub["customer"] = dict(sub["customer"], name=given["customer_name"])
        return render(sub) != before

    def _pause(self, ns: Namespace, sub: dict) -> None:
        if sub["status"] != "active":
            raise inactive(f"Only an active subscription can be paused; this one is "
                           f"{sub['status']}")
        now = self.clock.now()
        sub["status"], sub["paused_at"] = "paused", iso(now)
        sub[INTERNAL]["paused_at"] = now
        self.save(ns, sub)
        self.announce(ns, "subscription.paused", sub)

    def _resume(self, ns: Namespace, sub: dict) -> None:
        """The pause moves the next billing date and the term's end by its length."""
        if sub["status"] == "on_hold":
            raise inactive("An on_hold subscription resumes when its dues are paid: POST "
                           f"/subscriptions/{sub['subscription_id']}/update-payment-method")
        if sub["status"] != "paused":
            raise inactive(f"Only a paused subscription can be resumed; this one is "
                           f"{sub['status']}")
        extra = sub[INTERNAL]
        paused_for = self.clock.now() - extra["paused_at"]
        extra["next_at"] += paused_for
        extra["anchor"] += paused_for
        extra["ends_at"] += paused_for
        extra["paused_at"] = None
        sub.update(status="active", paused_at=None, next_billing_date=iso(extra["next_at"]),
                   expires_at=iso(extra["ends_at"]))
        self.save(ns, sub)
        self.announce(ns, "subscription.unpaused", sub)

    def end(self, ns: Namespace, sub: dict, status: str, by: dict | None,
            given: dict | None = None) -> None:
        """cancelled (now, or at the date it was scheduled for) or expired (its term ran out)."""
        given = given or {}
        sub["status"] = status
        if status == "cancelled":
            sub["cancelled_at"] = iso(self.clock.now())
            if by is not None:
                sub["cancelled_by"] = dict(by)
            for name in ("cancellation_feedback", "cancellation_comment"):
                if name in given:
                    sub[name] = given[name]
        sub[INTERNAL]["past_due_ends_at"] = None
        self.save(ns, sub)
        self.announce(ns, f"subscription.{status}", sub)


def due_of(sub: dict) -> float | None:
    """When the renewal job next has something to do with it: the next charge, the scheduled
    end or the term's end for an active one, the grace deadline for a past_due one."""
    extra = sub[INTERNAL]
    if sub["status"] == "active":
        return min(extra["next_at"], extra["ends_at"])
    if sub["status"] == "past_due":
        return extra["past_due_ends_at"]
    return None


def _new_id(ns: Namespace, session: dict) -> str:
    """The id POST /subscriptions gave the session's subscription ahead of its payment
    (payment_links.py), the first time; a new one for any other."""
    reserved = session.get(RESERVED)
    if reserved and ns.get(SUBSCRIPTION, reserved) is None:
        return reserved
    return ids.prefixed("sub", 21)


def render(sub: dict) -> dict:
    out = dict(sub)
    out.pop(INTERNAL, None)
    return out


def _parse(text: str, name: str) -> float:
    try:
        return epoch(text)
    except ValueError:
        raise invalid(f"{name}: {text[:64]!r} is not an RFC 3339 date-time") from None

