"""Dodo's page-number paging: `page_size` (default 10, at most 100) and `page_number` (from 0),
as every list operation of the spec takes them; and the `created_at_gte` / `created_at_lte`
bounds most of them filter by."""
from __future__ import annotations

from ...core.clock import epoch
from ...core.errors import ApiError

DEFAULT_SIZE, MAX_SIZE = 10, 100


def page(rows: list, query: dict) -> list:
    size = min(max(query.get("page_size") or DEFAULT_SIZE, 0), MAX_SIZE) or DEFAULT_SIZE
    number = max(query.get("page_number") or 0, 0)
    return rows[number * size:(number + 1) * size]


def when(query: dict, name: str) -> float | None:
    """A query parameter's date-time as epoch seconds (None when absent); Dodo's 422 else."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return epoch(raw)
    except ValueError:
        raise not_a_date(name, raw) from None


def not_a_date(name: str, raw) -> ApiError:
    """Dodo's 422 for a query parameter that is not an RFC 3339 date-time."""
    return ApiError(422, f"query parameter {name}: {str(raw)[:64]!r} is not an RFC 3339 date-time",
                    "INVALID_REQUEST_BODY")


def created_between(query: dict):
    """A test of an object's `created_at` against the query's created_at_gte / _lte bounds."""
    after, before = when(query, "created_at_gte"), when(query, "created_at_lte")

    def keep(created_at: str) -> bool:
        created = epoch(created_at)
        return (after is None or created >= after) and (before is None or created <= before)
    return keep
