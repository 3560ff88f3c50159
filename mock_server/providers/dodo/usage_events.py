"""Usage events and the meters that count them: `POST /events/ingest`, `GET /events[/{event_id}]`.

An event is kept as sent (`event_id` is its idempotency key: a second event with the same id is
ignored and not counted), stamped with the mock clock when it gives no `timestamp`. It must name
a customer of the merchant (paymock's choice of the spec's 422 for one that is not). A meter
(made through the generic engine, `/meters`) counts the events whose `event_name` is its own and
whose metadata passes its `filter` (conditions joined by and/or, nested up to three levels);
`GET /events?meter_id=` lists those, and `usage()` aggregates them (count, sum, max, last of the
metadata key the aggregation names) for a customer over a period.
"""
from __future__ import annotations

from ...core.clock import epoch, iso
from ...core.request import Request
from ...core.resource_engine import kind
from ...core.store import Namespace
from . import paging
from ..base import handler
from .errors import invalid, not_found
from .models import CUSTOMER

EVENT = "usage_event"
METERS = kind("/meters")


class UsageEvents:
    def __init__(self, backend):
        self.backend = backend  # clock, business_id

    def ingest(self, ns: Namespace, body: dict) -> dict:
        events = body["events"]
        for index, event in enumerate(events):
            if ns.get(CUSTOMER, event["customer_id"]) is None:
                raise invalid(f"events[{index}].customer_id: customer {event['customer_id']} "
                              "does not exist")
        count = 0
        with ns.lock:
            for event in events:
                if ns.get(EVENT, event["event_id"]) is not None:
                    continue  # the idempotency key: sent before
                ns.put(EVENT, event["event_id"], {
                    "event_id": event["event_id"], "business_id": self.backend.business_id,
                    "customer_id": event["customer_id"], "event_name": event["event_name"],
                    "timestamp": iso(epoch(event["timestamp"])) if event.get("timestamp")
                    else iso(self.backend.clock.now()),
                    "metadata": event.get("metadata")})
                count += 1
        return {"ingested_count": count}

    def get(self, ns: Namespace, event_id: str) -> dict:
        event = ns.get(EVENT, event_id)
        if event is None:
            raise not_found("Event not found")
        return event

    def list(self, ns: Namespace, query: dict) -> dict:
        meter = None
        if query.get("meter_id"):
            meter = ns.get(METERS, query["meter_id"])
            if meter is None:
                raise not_found("Meter not found")
        start, end = paging.when(query, "start"), paging.when(query, "end")
        rows = [e for e in ns.values(EVENT)
                if query.get("customer_id") in (None, e["customer_id"])
                and query.get("event_name") in (None, e["event_name"])
                and (meter is None or counts(meter, e))
                and (start is None or epoch(e["timestamp"]) >= start)
                and (end is None or epoch(e["timestamp"]) <= end)]
        rows.sort(key=lambda e: (e["timestamp"], e["event_id"]), reverse=True)
        return {"items": paging.page(rows, query)}

    def usage(self, ns: Namespace, meter: dict, customer_id: str, start: float, end: float):
        """The meter's aggregate of a customer's events in [start, end): a number."""
        values = [e for e in ns.values(EVENT)
                  if e["customer_id"] == customer_id and counts(meter, e)
                  and start <= epoch(e["timestamp"]) < end]
        values.sort(key=lambda e: e["timestamp"])
        aggregation = meter["aggregation"]
        if aggregation["type"] == "count":
            return len(values)
        numbers = [_number((e.get("metadata") or {}).get(aggregation.get("key"))) for e in values]
        numbers = [n for n in numbers if n is not None]
        if not numbers:
            return 0
        return {"sum": sum, "max": max, "last": lambda seen: seen[-1]}[aggregation["type"]](numbers)


def counts(meter: dict, event: dict) -> bool:
    """Whether the meter counts the event: its name, and its metadata through the filter."""
    return event["event_name"] == meter["event_name"] and \
        _passes(meter.get("filter"), event.get("metadata") or {})


def _passes(node, metadata: dict) -> bool:
    if not node:
        return True
    clauses = node.get("clauses")
    if clauses is None:  # a condition
        return _condition(node, metadata)
    results = [_passes(clause, metadata) for clause in clauses]
    return all(results) if node.get("conjunction", "and") == "and" else any(results)


def _condition(condition: dict, metadata: dict) -> bool:
    actual, wanted, op = metadata.get(condition.get("key")), condition.get("value"), \
        condition.get("operator")
    if op in ("equals", "not_equals"):
        return (actual == wanted) == (op == "equals")
    if op in ("contains", "does_not_contain"):
        found = isinstance(actual, str) and str(wanted) in actual
        return found == (op == "contains")
    left, right = _number(actual), _number(wanted)
    if left is None or right is None:
        return False
    return {"greater_than": left > right, "greater_than_or_equals": left >= right,
            "less_than": left < right, "less_than_or_equals": left <= right}.get(op, False)


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class UsageEventHandlers:
    def __init__(self, events: UsageEvents):
        self.events = events

    @handler("ingest_events")
    def ingest(self, req: Request):
        return self.events.ingest(req.ns, req.body)

    @handler("get_events")
    def list(self, req: Request):
        return self.events.list(req.ns, req.query)

    @handler("get_event_by_id")
    def get(self, req: Request):
        return self.events.get(req.ns, req.path["event_id"])
