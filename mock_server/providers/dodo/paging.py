"""Dodo's page-number paging: `page_size` (default 10, at most 100) and `page_number` (from 0),
as every list operation of the spec takes them."""
from __future__ import annotations

DEFAULT_SIZE, MAX_SIZE = 10, 100


def page(rows: list, query: dict) -> list:
    size = min(max(query.get("page_size") or DEFAULT_SIZE, 0), MAX_SIZE) or DEFAULT_SIZE
    number = max(query.get("page_number") or 0, 0)
    return rows[number * size:(number + 1) * size]
