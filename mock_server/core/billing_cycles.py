"""Billing periods on the calendar: a price's cycle (count x Day | Week | Month | Year) after a
moment, by dateutil's relativedelta, so that a month after January 31 is the last day of
February, as billing systems count it (a fixed 30 days would drift by a day or two each month)."""
from __future__ import annotations

from calendar import isleap, mdays
from datetime import datetime, timezone

from dateutil.relativedelta import relativedelta

_UNITS = {"Day": "days", "Week": "weeks", "Month": "months", "Year": "years"}


def after(epoch: float, count: int, interval: str) -> float:
    """The moment `count` `interval`s after `epoch` (seconds), in UTC."""
    unit = _UNITS.get(interval)
    if unit is None:
        raise ValueError(f"unknown billing interval {interval!r}; one of {sorted(_UNITS)}")
    start = datetime.fromtimestamp(epoch, timezone.utc)
    if unit in ("months", "years"):  # relativedelta's rule, without its cost (renewals' hot path)
        months = start.month - 1 + (count if unit == "months" else 12 * count)
        year, month = start.year + months // 12, months % 12 + 1
        day = min(start.day, mdays[month] + (month == 2 and isleap(year)))
        return start.replace(year=year, month=month, day=day).timestamp()
    return (start + relativedelta(**{unit: count})).timestamp()
