"""Periods of the calendar (a year, a quarter, a month, or any span of days) and what a run did in them.

A weekly step does not fit months, quarters or most years, so what happened in a period is read day by
day: a step's flow is spread evenly over its days, and a step that straddles the period's boundary counts
for the days it has inside. A level (a price) is the day-weighted mean over the period.

``Results.table(name, frequency)`` still assigns whole weekly steps to the period of their first day, so a
month there can differ from the back-test's (the monthly tables are to move onto these periods in a later issue).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    """The days from ``start`` (included) to ``end`` (excluded)."""

    start: dt.date
    end: dt.date
    label: str

    @classmethod
    def parse(cls, written: object) -> Period:
        """``2024`` (a year), ``2025-05`` (a month), ``2011-Q2`` (a quarter), or ``[FIRST_DAY, LAST_DAY]``."""
        if isinstance(written, (list, tuple)) and len(written) == 2:
            first, last = (dt.date.fromisoformat(str(d)) for d in written)
            if last < first:
                raise ValueError(f"period {list(written)}: the last day is before the first")
            return cls(first, last + dt.timedelta(days=1), f"{first.isoformat()}..{last.isoformat()}")
        text = str(written)
        if m := _YEAR.match(text):
            year = int(m[1])
            return cls(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), text)
        if m := _QUARTER.match(text):
            year, q = int(m[1]), int(m[2])
            start = dt.date(year, 3 * q - 2, 1)
            return cls(start, dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1), text)
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12:
                raise ValueError(f"period {text!r}: no month {month}")
            return cls(dt.date(year, month, 1), dt.date(year + (month == 12), month % 12 + 1, 1), text)
        raise ValueError(f"period {written!r}: expected YYYY, YYYY-MM, YYYY-Qn or [YYYY-MM-DD, YYYY-MM-DD]")

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def overlap_days(dates: pd.Series, step_days: float, period: Period) -> np.ndarray:
    """Days of each step (labelled by its first day, ``step_days`` long) that fall inside ``period``."""
    first = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]")
    last = first + np.timedelta64(int(round(step_days)), "D")
    lo = np.maximum(first, np.datetime64(period.start, "D"))
    hi = np.minimum(last, np.datetime64(period.end, "D"))
    return np.maximum(0, (hi - lo).astype(np.int64)).astype(float)


def covers(dates: pd.Series, step_days: float, period: Period) -> bool:
    """Whether the run's steps cover every day of ``period``."""
    if len(dates) == 0:
        return False
    first = pd.Timestamp(min(dates)).date()
    last = pd.Timestamp(max(dates)).date() + dt.timedelta(days=int(round(step_days)))
    return first <= period.start and period.end <= last


def total_in(frame: pd.DataFrame, value: str, step_days: float, period: Period) -> float:
    """What a step table's flow column adds up to over ``period``, steps split by days."""
    if frame.empty:
        return 0.0
    share = overlap_days(frame["date"], step_days, period) / step_days
    return float((frame[value].to_numpy(dtype=float) * share).sum())


def mean_in(frame: pd.DataFrame, value: str, step_days: float, period: Period) -> float:
    """Day-weighted mean of a step table's level column (one row per step) over ``period``."""
    days = overlap_days(frame["date"], step_days, period)
    if days.sum() == 0:
        return float("nan")
    return float((frame[value].to_numpy(dtype=float) * days).sum() / days.sum())
