"""Model time: the first day of every step, and which steps a dated window covers."""
from __future__ import annotations

import datetime as dt

import numpy as np

DAYS_PER_YEAR = 365.25


def step_dates(calendar, end: dt.date | None = None) -> tuple[dt.date, ...]:
    """The first day of every model step from the calendar's start to its end (or ``end``)."""
    last = min(end or calendar.end, calendar.end)
    step = dt.timedelta(days=calendar.step_days)
    dates, day = [], calendar.start
    while day <= last:
        dates.append(day)
        day += step
    return tuple(dates)


def window(dates, start: dt.date, end: dt.date | None) -> np.ndarray:
    """[steps] bool: steps whose first day lies in [start, end)."""
    return np.array([start <= d and (end is None or d < end) for d in dates], dtype=bool)
