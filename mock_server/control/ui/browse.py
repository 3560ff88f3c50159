"""What the dashboard shows, read from the mock's state: namespaces with their names for people,
pages of objects, one object with its timeline and the requests that touched it, deliveries.
No Flask here: the views (views.py) render what these return.
"""
from __future__ import annotations

import math

import orjson

from ...core.clock import iso
from ...core.payments import PAYMENT

PAGE = 50
# The kinds a person looks for first, in this order; every other kind follows by name.
FIRST_KINDS = ("session", "checkout_session", "order", "payment", "subscription", "refund", "refund_ticket",
               "dispute", "license_key", "customer")
# Where an object keeps what the lists show (the first key present wins; one level of nesting
# is searched too, e.g. a Dodo payment's data.customer.email).
STATUS_KEYS = ("status", "orderStatus", "payment_status")
EMAIL_KEYS = ("email", "buyerEmail", "customer_email", "customerEmail")
NAME_KEYS = ("name", "title", "productName")
CREATED_KEYS = ("created_at", "createdAt")
# What the steering buttons act on: a Dodo checkout session and a Waffo order are paid or
# declined (a Waffo checkout session has no payment until the buyer places its order); each of
# them, and a Waffo checkout session, can be expired.
PAYABLE_KINDS = ("session", "order", PAYMENT)  # (a payment itself, too: pending, it moves)
EXPIRABLE_KINDS = ("session", "order", "checkout_session")


def kind_title(kind: str) -> str:
    """`license_key` -> "license keys"."""
    words = kind.replace("_", " ")
    return words if words.endswith("s") else words + "s"


def ordered_kinds(counts: dict[str, int]) -> list[tuple[str, int]]:
    first = [(kind, counts[kind]) for kind in FIRST_KINDS if kind in counts]
    rest = sorted((kind, n) for kind, n in counts.items() if kind not in FIRST_KINDS)
    return first + rest


def find(obj, keys: tuple[str, ...], depth: int = 2):
    """The first of `keys` found in `obj` or, failing that, in its nested objects."""
    if not isinstance(obj, dict):
        return None
    for key in keys:
        value = obj.get(key)
        if value not in (None, "", {}, []) and not isinstance(value, (dict, list)):
            return value
    if depth > 1:
        for value in obj.values():
            found = find(value, keys, depth - 1) if isinstance(value, dict) else None
            if found is not None:
                return found
    return None


def namespaces(store, providers) -> list[dict]:
    """Every namespace: its name, provider, what people call it, and its objects by kind."""
    labels = {provider.name: provider for provider in providers}
    rows = []
    for name in store.names():
        ns = store.find(name)
        if ns is None:  # dropped meanwhile
            continue
        provider_name = name.split(":", 1)[0]
        provider = labels.get(provider_name)
        counts = ns.counts()
        rows.append({"name": name, "provider": provider_name,
                     "label": provider.namespace_label(name) if provider else None,
                     "kinds": ordered_kinds(counts), "total": sum(counts.values())})
    return rows


def summary(obj_id: str, obj: dict, expires_at: float | None, now: float) -> dict:
    return {"id": obj_id, "status": find(obj, STATUS_KEYS), "email": find(obj, EMAIL_KEYS),
            "name": find(obj, NAME_KEYS), "created": find(obj, CREATED_KEYS, depth=1),
            "expired": expires_at is not None and now >= expires_at}


def objects(ns, kind: str, text: str | None, page: int, now: float) -> dict:
    """One page of a kind, newest first, filtered by `text` (an id, an email, any text)."""
    page = max(1, page)
    total, found = ns.browse(kind, (page - 1) * PAGE, PAGE, text or None)
    return {"kind": kind, "title": kind_title(kind), "text": text or "", "total": total,
            "page": page, "pages": max(1, math.ceil(total / PAGE)),
            "rows": [summary(obj_id, obj, exp, now) for obj_id, obj, exp in found]}


def mentions(text: str | None, needle: str) -> bool:
    return bool(text) and needle in text


def detail(ns, kind: str, obj_id: str, outbox, journal, now: float) -> dict | None:
    """One object: its JSON, state, the events that name it (with their deliveries) and the
    requests whose path or bodies name it, oldest first."""
    obj = ns.get(kind, obj_id, include_expired=True)
    if obj is None:
        return None
    expires_at = ns.expires_at(kind, obj_id)
    events = outbox.events_about(ns.name, obj_id) if outbox is not None else []
    deliveries = outbox.deliveries_page(0, PAGE, ns.name, text=obj_id)[1] \
        if outbox is not None else []
    requests = [entry for entry in journal.entries(ns.name)
                if obj_id in entry["path"] or mentions(entry["request_body"], obj_id)
                or mentions(entry["response_body"], obj_id)]
    return {"kind": kind, "id": obj_id, "object": obj,
            "timeline": timeline(obj, events, expires_at, now),
            "json": orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode(),
            "summary": summary(obj_id, obj, expires_at, now),
            "payable": kind in PAYABLE_KINDS, "expirable": kind in EXPIRABLE_KINDS,
            "events": events, "deliveries": deliveries, "requests": requests}


def timeline(obj: dict, events: list[dict], expires_at: float | None, now: float) -> list[dict]:
    """What happened to an object, oldest first: made, its status changes (a `history` the
    object keeps), the events that name it, its expiry."""
    steps = []
    created = find(obj, CREATED_KEYS, depth=1)
    if isinstance(created, str):
        steps.append({"at": created, "what": "created"})
    history = obj.get("history")
    for step in history if isinstance(history, list) else []:
        if isinstance(step, dict) and isinstance(step.get("at"), str) and step.get("status"):
            reason = f" ({step['reason']})" if step.get("reason") else ""
            steps.append({"at": step["at"], "what": f"{step['status']}{reason}"})
    for event in events:
        steps.append({"at": event["at"], "what": "event", "event": event["type"]})
    if expires_at is not None:
        steps.append({"at": iso(expires_at), "what": "expired" if now >= expires_at else "expires"})
    return sorted(steps, key=lambda step: step["at"])  # one ISO format: text order is time order


def deliveries(outbox, namespace: str | None, status: str | None, text: str | None,
               page: int) -> dict:
    """A page of webhook deliveries, newest first."""
    page = max(1, page)
    total, rows = outbox.deliveries_page((page - 1) * PAGE, PAGE, namespace or None,
                                         status or None, text or None)
    return {"total": total, "page": page, "pages": max(1, math.ceil(total / PAGE)), "rows": rows}
