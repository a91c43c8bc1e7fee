"""Periods of the calendar (a year, a quarter, a month, or any span of days) and what a run did in them.

A weekly step does not fit months, quarters or most years, so what happened in a period is read day by
day: a step's flow is spread evenly over its days, and a step that straddles the period's boundary counts
for the days it has inside. A level (a price) is the day-weighted mean over the period; a level at the period's
end (a stock) is that of the step covering its last day.

The back-test reads its targets from step tables with ``total_in`` and ``mean_in``; ``Results.table(name,
frequency)`` builds its monthly, quarterly and yearly tables with ``run_periods`` (``calendar_periods`` and
``day_matrix``, found once a process for the same dates) and ``PeriodSteps``. Both count a step's days as
``overlap_days`` does, so they agree on any period.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from .sparse import SparseSteps

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
FREQUENCIES = {"month": 1, "quarter": 3, "year": 12}          # a frequency of the tables -> its months
HOW = ("sum", "mean", "last")
READ_BYTES = 1 << 20     # of a sparse record made dense at once: the steps of several periods, as many as fit


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
    import pandas as pd

    first = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]")
    last = first + np.timedelta64(int(round(step_days)), "D")
    lo = np.maximum(first, np.datetime64(period.start, "D"))
    hi = np.minimum(last, np.datetime64(period.end, "D"))
    return np.maximum(0, (hi - lo).astype(np.int64)).astype(float)


def covers(dates: pd.Series, step_days: float, period: Period) -> bool:
    """Whether the run's steps cover every day of ``period``."""
    import pandas as pd

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


def calendar_periods(first: dt.date, end: dt.date, frequency: str) -> list[Period]:
    """The months, quarters or years (``frequency``) that hold a day from ``first`` (included) to ``end``
    (excluded), each cut to those days and labelled as ``Period.parse`` reads it (``2024-01``, ``2024-Q1``,
    ``2024``): a run that starts or stops mid-month has a part of that month."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be step, {', '.join(FREQUENCIES)}, got {frequency!r}")
    size = FREQUENCIES[frequency]
    month = (first.year * 12 + first.month - 1) // size * size        # the first period's first month, from year 0
    periods = []
    while (start := dt.date(month // 12, month % 12 + 1, 1)) < end:
        month += size
        label = {"month": f"{start.year}-{start.month:02d}", "quarter": f"{start.year}-Q{start.month // 3 + 1}",
                 "year": f"{start.year}"}[frequency]
        periods.append(Period(max(start, first), min(dt.date(month // 12, month % 12 + 1, 1), end), label))
    return periods


def period_labels(periods: list[Period]) -> pd.DatetimeIndex:
    """The dates that label ``calendar_periods``: each period's first day, the first's that of its whole
    period (the others begin where theirs does)."""
    import pandas as pd

    starts = np.array([Period.parse(p.label).start if i == 0 else p.start for i, p in enumerate(periods)],
                      dtype="datetime64[D]")
    return pd.DatetimeIndex(starts.astype("datetime64[s]"), name="date")         # as pandas reads a date


def day_matrix(dates: pd.Series, step_days: float, periods: list[Period]) -> np.ndarray:
    """[period, step] days of each step (labelled by its first day, ``step_days`` long) inside each period."""
    first = np.asarray(dates, dtype="datetime64[D]")[None, :]      # dates, Timestamps or datetime64: no pandas needed
    last = first + np.timedelta64(int(round(step_days)), "D")
    start = np.array([p.start for p in periods], dtype="datetime64[D]")[:, None]
    end = np.array([p.end for p in periods], dtype="datetime64[D]")[:, None]
    return np.maximum(0, (np.minimum(last, end) - np.maximum(first, start)).astype(np.int64)).astype(float).reshape(
        len(periods), len(dates))       # overlap_days of every period at once


@functools.lru_cache(maxsize=16)
def run_periods(dates: tuple[dt.date, ...], step_days: int, end: dt.date,
                frequency: str) -> tuple[pd.DatetimeIndex, PeriodSteps]:
    """The periods of ``frequency`` that hold a day of a run's steps (``dates``, each ``step_days`` long) before
    ``end``, labelled (``period_labels``), and the steps each holds. Every replication of a scenario has the
    same: a process finds them once."""
    periods = calendar_periods(dates[0], end, frequency)
    days = day_matrix(np.array(dates, dtype="datetime64[D]"), step_days, periods)
    days.setflags(write=False)                     # shared by every run of these dates
    return period_labels(periods), PeriodSteps(days, step_days)


def in_periods(array: np.ndarray | SparseSteps, days: np.ndarray, step_days: float, how: str) -> np.ndarray:
    """A [step, ...] array by period ([period, ...]), ``days`` being ``day_matrix``'s (``PeriodSteps.of``)."""
    return PeriodSteps(days, step_days).of(array, how)


class PeriodSteps:
    """The steps each period holds (``days``: ``day_matrix``'s [period, step]) and their weights, found once:
    a run's tables and series read many [step, ...] arrays by the same periods.

    ``sum``: a flow, each step's share pro rata to its days in the period (t per step -> t per period);
    ``mean``: a level or rate averaged over the period's days; ``last``: the level of the step covering the
    period's last day. Only the steps a period holds are read, so a NaN elsewhere (a price not yet set)
    does not leak into it.
    """

    def __init__(self, days: np.ndarray, step_days: float):
        self.days, self.step_days = days, step_days
        held = days != 0
        n = days.shape[1]
        some = held.any(axis=1)
        first = np.where(some, held.argmax(axis=1), 0)                # a period's steps are consecutive
        end = np.where(some, n - held[:, ::-1].argmax(axis=1), 0)
        self.spans = [(int(lo), int(hi)) for lo, hi in zip(first, end)]     # (0, 0): a period without a step
        self._weights: dict[str, list[np.ndarray]] = {}

    def weights(self, how: str) -> list[np.ndarray]:
        """[1, steps] weights of each period's steps: days over ``step_days`` (``sum``), or over the period's
        days (``mean``)."""
        if how not in self._weights:
            rows = [row[lo:hi] for row, (lo, hi) in zip(self.days, self.spans)]
            self._weights[how] = [(row / (self.step_days if how == "sum" else row.sum())).reshape(1, -1)
                                  for row in rows]
        return self._weights[how]

    def blocks(self, array: np.ndarray | SparseSteps, how: str) -> Iterator[np.ndarray | float]:
        """``of`` one period at a time: each period's [...] in turn, reading only its steps of ``array`` (a
        sparse record is made dense a stretch of periods at a time, ``READ_BYTES`` at most unless one period
        needs more)."""
        if how not in HOW:
            raise ValueError(f"how must be one of {', '.join(HOW)}, got {how!r}")
        weights = self.weights(how) if how != "last" else [None] * len(self.spans)
        read, first = None, 0           # a stretch of a sparse record's steps made dense, from step ``first``
        per_read = max(1, READ_BYTES // (8 * math.prod(array.shape[1:]) or 1))
        for (lo, hi), weight in zip(self.spans, weights):
            if hi == lo:
                yield np.nan if how != "sum" else 0.0
                continue
            if not isinstance(array, SparseSteps):
                steps = array[lo:hi]
            else:
                if read is None or hi > first + len(read):
                    first, read = lo, array[lo:min(max(hi, lo + per_read), array.shape[0])]
                steps = read[lo - first:hi - first]
            if how == "last":
                yield steps[-1]
            else:                       # np.tensordot(weight, steps, axes=1), without its Python around one dot
                yield np.dot(weight, steps.reshape(hi - lo, -1)).reshape(steps.shape[1:])

    def of(self, array: np.ndarray | SparseSteps, how: str) -> np.ndarray:
        """A [step, ...] array by period ([period, ...]); each period's numbers those of ``blocks``, the dot
        of a period's weights and steps written in place."""
        if how not in HOW:
            raise ValueError(f"how must be one of {', '.join(HOW)}, got {how!r}")
        out = np.zeros((len(self.spans),) + array.shape[1:])
        rows = out.reshape(len(self.spans), -1)
        if how == "last":
            for p, (lo, hi) in enumerate(self.spans):
                rows[p] = array[hi - 1].reshape(-1) if hi > lo else np.nan
            return out
        for p, ((lo, hi), weight) in enumerate(zip(self.spans, self.weights(how))):
            if hi == lo:
                rows[p] = np.nan if how != "sum" else 0.0
            else:
                np.dot(weight, array[lo:hi].reshape(hi - lo, -1), out=rows[p:p + 1])
        return out


def means_by_period(frame: pd.DataFrame, keys: list[str], values: list[str], step_days: float,
                    frequency: str) -> pd.DataFrame:
    """A tidy step table of levels (date, *keys, *values; one row per step and keys) as their day-weighted
    means over the calendar's periods (``in_periods``), each labelled by its first day."""
    import pandas as pd

    dates = pd.DatetimeIndex(sorted(frame["date"].unique()))
    first = dates[0].date()
    periods = calendar_periods(first, dates[-1].date() + dt.timedelta(days=int(round(step_days))), frequency)
    labels = period_labels(periods)
    days = day_matrix(pd.Series(dates), step_days, periods)
    parts = []
    for value in values:
        wide = frame.pivot(index="date", columns=keys, values=value).reindex(dates)
        means = pd.DataFrame(in_periods(wide.to_numpy(dtype=float), days, step_days, "mean"), index=labels,
                             columns=wide.columns)
        parts.append(means.stack(list(range(len(keys))), future_stack=True).rename(value))
    return pd.concat(parts, axis=1).reset_index()
