"""Bands of an ensemble: P5, P50 and P95 over its replications of every headline figure and of every
monthly headline series, and one row per replication of what it drew beside what it gave."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..results import Summary
from ..results.headlines import figures_for, number, value

PERCENTILES = (5, 50, 95)
MAX_GROUPS = 4                    # an outcome split more ways than this is banded as one


def headline_bands(summaries: list[Summary]) -> pd.DataFrame:
    """P5/P50/P95 of every headline figure over the replications, and the share of them where it happened.

    Dates are banded as dates; a figure that did not happen in a replication (never short, say) counts
    in ``happened`` but not in the percentiles.
    """
    rows = []
    for figure in figures_for(summaries):
        got = [value(s, figure) for s in summaries]
        row = {"subject": figure.subject, "figure": figure.name, "unit": figure.unit,
               "happened": sum(v is not None for v in got) / len(got) if got else 0.0}
        rows.append(row | {f"p{p}": x for p, x in zip(PERCENTILES, band(got, figure.unit))})
    return pd.DataFrame(rows, columns=["subject", "figure", "unit", "happened", *(f"p{p}" for p in PERCENTILES)])


def band(values: Sequence[Any], unit: str) -> tuple[Any, ...]:
    """The PERCENTILES of ``values`` (None left out; all None if nothing is left): dates (unit ``date``,
    ISO text) as dates, anything else as numbers."""
    seen = [v for v in values if v is not None]
    if unit == "date":
        days = np.array([dt.date.fromisoformat(v).toordinal() for v in seen], dtype=float)
        if not len(days):
            return (None,) * len(PERCENTILES)
        return tuple(dt.date.fromordinal(int(round(d))).isoformat() for d in np.percentile(days, PERCENTILES))
    nums = np.array([x for x in (number(v, unit) for v in seen) if x is not None], dtype=float)
    if not len(nums):
        return (None,) * len(PERCENTILES)
    return tuple(float(x) for x in np.percentile(nums, PERCENTILES))     # one call: each the same as alone


@dataclass
class SeriesStack:
    """The monthly series of an ensemble's replications on one grid: ``keys`` [series, 3] (metric, country,
    element; "" for none), ``dates`` [period], ``values`` [replication, series, period] as each replication's
    ``MonthlySeries.banded()`` reads (NaN: that replication has none), ``replications`` [replication]."""

    keys: np.ndarray
    dates: np.ndarray
    values: np.ndarray
    replications: np.ndarray

    @classmethod
    def stack(cls, replications: Sequence[int], banded: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]
              ) -> SeriesStack:
        """One grid of the replications' ``banded()`` series (each its keys, dates and values): every series
        and date any of them has."""
        slot: dict[tuple[str, ...], int] = {}
        for keys, _, _ in banded:
            for key in map(tuple, keys.tolist()):
                slot.setdefault(key, len(slot))
        dates = np.unique(np.concatenate([d for _, d, _ in banded])) if banded else np.zeros(0, "datetime64[s]")
        values = np.full((len(banded), len(slot), len(dates)), np.nan)
        for r, (keys, days, v) in enumerate(banded):
            rows = np.array([slot[key] for key in map(tuple, keys.tolist())], dtype=np.int64)
            values[r, rows[:, None], np.searchsorted(dates, days)[None, :]] = v
        keys = np.array(list(slot), dtype=str).reshape(-1, 3)
        return cls(keys, dates, values, np.asarray(replications, dtype=np.int64))

    def frame(self) -> pd.DataFrame:
        """The stack as one long frame: replication, date, metric, country, element (None where a series has
        none) and value, a row where a replication has a value."""
        r, s, p = np.nonzero(~np.isnan(self.values))
        labels = np.where(self.keys[s] == "", None, self.keys[s].astype(object))
        return pd.DataFrame({"date": pd.DatetimeIndex(self.dates[p]), "metric": labels[:, 0], "country": labels[:, 1],
                             "element": labels[:, 2], "value": self.values[r, s, p],
                             "replication": self.replications[r]})

    def of(self, replications: Sequence[int]) -> SeriesStack:
        """The stack of some of the replications (in their order here)."""
        chosen = np.isin(self.replications, list(replications))
        return SeriesStack(self.keys, self.dates, self.values[chosen], self.replications[chosen])


def series_bands(stack: SeriesStack) -> pd.DataFrame:
    """P5/P50/P95 of every monthly headline series over the replications, by date (metric, country, element,
    date: every series and date some replication has, sorted so).

    Tonnages a replication does not list (tables drop zero rows) count as 0 t; shares and prices it
    does not list (no imports, no price) are left out of that date's percentiles.
    """
    order = sorted(range(len(stack.keys)), key=lambda s: tuple(stack.keys[s]))
    seen = ~np.isnan(stack.values).all(axis=0)                              # [series, period]
    series, period = np.nonzero(seen[order])
    series = np.asarray(order, dtype=np.int64)[series]
    values = stack.values[:, series, period].T                              # [row, replication]
    tonnes = np.char.endswith(stack.keys[series, 0], "_t") if len(series) else np.zeros(0, dtype=bool)
    values[tonnes] = np.nan_to_num(values[tonnes], nan=0.0)
    out = pd.DataFrame({"metric": stack.keys[series, 0], "country": stack.keys[series, 1],
                        "element": stack.keys[series, 2],
                        "date": pd.DatetimeIndex(stack.dates[period], name="date")})
    for p, band_of_p in zip(PERCENTILES, nanpercentiles(values, PERCENTILES)):
        out[f"p{p}"] = band_of_p
    out["replications"] = np.isfinite(values).sum(axis=1)
    return out


def nanpercentiles(values: np.ndarray, percentiles: Sequence[float]) -> np.ndarray:
    """[percentile, row]: ``np.nanpercentile(values, p, axis=1)`` of a [row, replication] array for each p, the
    same numbers to the last bit, in a few calls rather than one per row: rows with the same count of
    values (NaN left out) are one block, their values first (a sort puts NaN last). A row of NaN only is NaN."""
    count = (~np.isnan(values)).sum(axis=1)
    out = np.full((len(percentiles), len(values)), np.nan)
    for m in np.unique(count[count > 0]):
        rows = np.flatnonzero(count == m)
        block = values[rows] if m == values.shape[1] else np.sort(values[rows], axis=1)[:, :m]
        out[:, rows] = np.percentile(block, percentiles, axis=1)
    return out


def replications_table(summaries: list[Summary]) -> pd.DataFrame:
    """One row per replication: what it drew (``drawn.<key path>``) and every headline figure
    (``<subject>.<figure>``; dates as ISO text, None where it did not happen), to see which input
    moves which result."""
    figures = figures_for(summaries)
    rows = [{"replication": s.replication, **{f"drawn.{k}": v for k, v in s.drawn.items()},
             **{f"{f.subject}.{f.name}": value(s, f) for f in figures}} for s in summaries]
    return pd.DataFrame(rows)


def outcome_groups(summaries: list[Summary], discrete: list[str]) -> dict[int, str]:
    """{replication: its group} when the replications split on the discrete inputs ``discrete`` (key paths
    of ``drawn``, e.g. ``events.ban_read_as_defence_only.happened``) into 2 to ``MAX_GROUPS`` groups; {}
    otherwise. An input drawn alike in every replication, or one that splits them exactly as an earlier one
    does, names no group. A group reads 'ban_read_as_defence_only happened' or 'path = value'."""
    keys, partitions = [], []
    for key in discrete:
        drawn = tuple(s.drawn.get(key) for s in summaries)
        partition = tuple(drawn.index(v) for v in drawn)          # replications alike share a number
        if len(set(drawn)) > 1 and partition not in partitions:
            keys.append(key)
            partitions.append(partition)
    if not keys:
        return {}
    groups = {s.replication: "; ".join(_reading(key, s.drawn.get(key)) for key in keys) for s in summaries}
    return groups if 2 <= len(set(groups.values())) <= MAX_GROUPS else {}


def _reading(key: str, value) -> str:
    """One drawn input as a group's name: 'ban_read_as_defence_only happened', '... did not happen',
    'stockpiles.JP.days = 42'."""
    if key.startswith("events.") and key.endswith(".happened"):
        name = key.removeprefix("events.").removesuffix(".happened")
        return f"{name} {'happened' if value else 'did not happen'}"
    return f"{key} = {'not drawn' if value is None else value}"


def group_bands(stack: SeriesStack, groups: dict[int, str]) -> pd.DataFrame:
    """``series_bands`` of each group of replications (``outcome_groups``), with its ``group``; empty (with
    the columns) when there are no groups."""
    parts = [series_bands(stack.of([r for r, g in groups.items() if g == group])).assign(group=group)
             for group in dict.fromkeys(sorted(groups.values()))]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["metric", "country", "element", "date", *(f"p{p}" for p in PERCENTILES),
                                     "replications", "group"])
    return pd.concat(parts, ignore_index=True)


def group_headline_bands(summaries: list[Summary], groups: dict[int, str]) -> pd.DataFrame:
    """``headline_bands`` of each group of replications (``outcome_groups``), with its ``group`` and its count
    of ``replications``; empty when there are no groups."""
    parts = []
    for group in dict.fromkeys(sorted(groups.values())):
        members = [s for s in summaries if groups.get(s.replication) == group]
        if members:
            parts.append(headline_bands(members).assign(group=group, replications=len(members)))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
