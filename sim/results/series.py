"""Headline series of a run, monthly by default: what a comparison, a sweep, an ensemble's bands and the golden
reference follow over time (date, metric, country, element, value).

``MonthlySeries`` holds them as arrays, a row per series (metric, country, element) and a column per period,
made straight from the recorder with NumPy: an ensemble's replication writes them as they are
(``save``/``load``) and its bands stack them. ``frame()`` and ``headline()`` are the tidy frames a single run
writes and a comparison reads; their numbers are those of the run's tables, to the last bit (a metric by
country is the tables' rows summed as pandas sums them, ``grouped_sum``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..stages import REFINERY
from ..world.markets import HOME, OUTSIDE
from .tables import Results

SERIES_COLUMNS = ["date", "metric", "country", "element", "value"]
# the series of each market's price: the world's or the outside market's is "the price"; the home market's its own
PRICE_METRICS = {OUTSIDE: "price_multiple", HOME: "home_price_multiple"}
ON = "CN"                  # the dependency followed: on China
DEPENDENCY_METRICS = (f"oxide_direct_dependency_on_{ON}", f"oxide_embedded_dependency_on_{ON}")
PROVENANCE_READ = ("touched",)   # of the provenance rows, the series read what passed through China
HEADLINE_METRICS = ("mined_t", "separated_t", "magnets_made_t", "demand_t", "unmet_t", *DEPENDENCY_METRICS)


@dataclass
class MonthlySeries:
    """Series by period: ``keys`` (metric, country, element; None where it has none), ``dates`` (each
    period's first day) and ``values`` [series, period], NaN where the run has no value (no imports, say)
    or a level that is NaN; ``present`` [series, period] says which (a row of the tidy frame)."""

    keys: list[tuple[str, str | None, str | None]]
    dates: pd.DatetimeIndex
    values: np.ndarray
    present: np.ndarray

    @classmethod
    def from_results(cls, results: Results, frequency: str = "month") -> MonthlySeries:
        """The headline series of a run (``HEADLINE_METRICS`` by country), its shortfall shares and price
        multiples, at ``frequency``.

        Metrics: mined_t, separated_t (t REO), magnets_made_t, demand_t, unmet_t (t magnet) and the direct and
        embedded dependency of each country's oxide imports and consumption on China; ``shortfall_share``
        (unmet_t / demand_t, per country) and ``price_multiple`` (per element; the mean over the period of
        price / initial price: the world price, or with a home market the outside market's) and, with a home
        market, ``home_price_multiple`` (its own).
        """
        net, raw = results.net, results.raw
        rows: list[tuple[str, np.ndarray, np.ndarray]] = []           # metric, [period, country] values, present
        for metric, array in (("mined_t", raw.mined), ("separated_t", raw.separated),
                              ("magnets_made_t", raw.magnets_made)):
            labels, made = results.by_period(array, frequency)
            kept = np.abs(made) > 1e-12                                 # the production table's rows
            rows.append((metric, grouped_sum(made, kept), kept.any(axis=2)))
        demand = results.by_period(raw.demand, frequency)[1]
        unmet = demand - results.by_period(raw.supplied, frequency)[1]
        unmet = np.where((unmet >= 0.0) | np.isnan(unmet), unmet, 0.0)   # clip at 0, as pandas does
        asked = demand > 0                                               # the unmet table's rows
        rows += [("demand_t", grouped_sum(demand, asked), asked.any(axis=2)),
                 ("unmet_t", grouped_sum(unmet, asked), asked.any(axis=2))]
        if ON in net.countries:
            direct, embedded = results.dependency_shares(net.index(ON), frequency, (REFINERY,))[1][REFINERY]
            rows += [(metric, share, ~np.isnan(share)) for metric, share in zip(DEPENDENCY_METRICS, (direct, embedded))]
        keys = [(metric, country, None) for metric, _, _ in rows for country in net.countries]
        values = np.concatenate([v.T for _, v, _ in rows])
        present = np.concatenate([p.T for _, _, p in rows])
        prices = results.price_multiples(frequency)
        if prices is not None:
            markets, elements, multiple = prices                        # [period, market, element]
            keys += [(PRICE_METRICS[m], None, e) for m in markets for e in elements]
            multiple = multiple.reshape(len(labels), -1).T
            values = np.concatenate([values, multiple])
            present = np.concatenate([present, np.ones(multiple.shape, dtype=bool)])   # a level, in every period
        return cls(keys, pd.DatetimeIndex(labels, name="date"), values, present).with_shortfall()

    @classmethod
    def from_frames(cls, headline: pd.DataFrame, prices: pd.DataFrame) -> MonthlySeries:
        """The series of a saved run: its headline series (``headline()``, as monthly.csv holds it) and its
        prices table by month (date, [market,] element, usd_per_kg, multiple)."""
        dates = pd.DatetimeIndex(sorted(set(pd.to_datetime(headline["date"])) | set(pd.to_datetime(prices["date"]))),
                                 name="date")
        parts = [headline.assign(element=None)[["date", "metric", "country", "element", "value"]]]
        if len(prices):
            metric = prices["market"].map(PRICE_METRICS) if "market" in prices.columns else PRICE_METRICS[OUTSIDE]
            parts.append(pd.DataFrame({"date": prices["date"], "metric": metric, "country": None,
                                       "element": prices["element"], "value": prices["multiple"]}))
        keys: list[tuple] = []
        slot: dict[tuple, int] = {}
        rows, columns, values = [], [], []
        for part in parts:
            period = dates.get_indexer(pd.to_datetime(part["date"]))
            for key, column, value in zip(zip(part["metric"], part["country"], part["element"]), period,
                                          part["value"].to_numpy(dtype=float)):
                if key not in slot:
                    slot[key] = len(keys)
                    keys.append(key)
                rows.append(slot[key])
                columns.append(column)
                values.append(value)
        out = np.full((len(keys), len(dates)), np.nan)
        present = np.zeros(out.shape, dtype=bool)
        out[rows, columns] = values
        present[rows, columns] = True
        return cls(keys, dates, out, present).with_shortfall()

    def with_shortfall(self) -> MonthlySeries:
        """These series and each country's ``shortfall_share`` (unmet_t / demand_t, where there was demand)."""
        row = {key: s for s, key in enumerate(self.keys)}
        countries = [c for metric, c, _ in self.keys if metric == "demand_t" and ("unmet_t", c, None) in row]
        if not countries:
            return self
        demand = self.values[[row["demand_t", c, None] for c in countries]]
        unmet = self.values[[row["unmet_t", c, None] for c in countries]]
        asked = self.present[[row["demand_t", c, None] for c in countries]] & (demand > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(asked, np.nan_to_num(unmet, nan=0.0) / np.where(asked, demand, 1.0), np.nan)
        return MonthlySeries(self.keys + [("shortfall_share", c, None) for c in countries], self.dates,
                             np.concatenate([self.values, share]), np.concatenate([self.present, asked]))

    # ------------------------------------------------------------ as tidy frames
    def _rows(self, chosen: np.ndarray) -> pd.DataFrame:
        """The present rows of the series ``chosen`` [series] marks: date, metric, country, element, value;
        a column of a country or an element none of them has is a column of None."""
        s, p = np.nonzero(self.present & chosen[:, None])
        columns = {"date": self.dates[p], "metric": np.array([self.keys[i][0] for i in s], dtype=object)}
        for axis, name in ((1, "country"), (2, "element")):
            labels = [self.keys[i][axis] for i in s]
            columns[name] = None if all(label is None for label in labels) else np.array(labels, dtype=object)
        return pd.DataFrame(columns | {"value": self.values[s, p]}, index=pd.RangeIndex(len(s)))

    def _metrics(self, metrics: tuple[str, ...]) -> np.ndarray:
        return np.array([metric in metrics for metric, _, _ in self.keys], dtype=bool)

    def headline(self) -> pd.DataFrame:
        """The headline series (``HEADLINE_METRICS``) as monthly.csv holds them: date, metric, country, value,
        sorted by metric, country and date; no row where a run has no value."""
        frame = self._rows(self._metrics(HEADLINE_METRICS))[["date", "metric", "country", "value"]]
        return frame.sort_values(["metric", "country", "date"]).reset_index(drop=True)

    def frame(self) -> pd.DataFrame:
        """Every series as one long frame (date, metric, country, element, value), sorted by metric, country,
        element and date (none first): what a comparison plots."""
        priced = np.array([element is not None for _, _, element in self.keys], dtype=bool)
        parts = [self._rows(chosen) for chosen in (~priced, priced) if chosen.any()]
        frame = pd.concat(parts, ignore_index=True)[SERIES_COLUMNS] if parts else self._rows(priced)
        return frame.sort_values(["metric", "country", "element", "date"], na_position="first").reset_index(drop=True)

    # ------------------------------------------------------------ an ensemble's replication
    def banded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What an ensemble's bands read of this run: (keys [series, 3] metric, country, element ("" for none),
        dates [period], values [series, period]), a value that is NaN read as 0 (as pandas sums one) and NaN
        where the run has none."""
        keys = np.array([[m, c or "", e or ""] for m, c, e in self.keys], dtype=str).reshape(-1, 3)
        values = np.where(self.present, np.where(np.isnan(self.values), 0.0, self.values) + 0.0, np.nan)
        return keys, self.dates.to_numpy(dtype="datetime64[s]"), values

    def save(self, file: Path) -> None:
        """Write ``banded()`` to an .npz file (plain arrays, no pickles)."""
        keys, dates, values = self.banded()
        np.savez(file, keys=keys, dates=dates, values=values)


def load_banded(file: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``MonthlySeries.banded()`` of a replication, as ``MonthlySeries.save`` wrote it."""
    with np.load(file, allow_pickle=False) as data:
        return data["keys"], data["dates"], data["values"]


def grouped_sum(values: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """[..., X] -> [...]: the sum over the last axis of the values ``kept`` marks, as pandas' groupby sums rows
    in their order (Kahan's compensated sum), so that a series equals its table's rows summed to the last bit."""
    total, compensation = np.zeros(values.shape[:-1]), np.zeros(values.shape[:-1])
    for x in range(values.shape[-1]):
        take = kept[..., x] & ~np.isnan(values[..., x])
        y = values[..., x] - compensation
        t = total + y
        c = (t - total) - y
        compensation = np.where(take, np.where(np.isnan(c), 0.0, c), compensation)
        total = np.where(take, t, total)
    return total


def headline_series(results: Results, frequency: str = "month") -> pd.DataFrame:
    """Small tidy series of the headline quantities (date, metric, country, value): the golden reference."""
    return MonthlySeries.from_results(results, frequency).headline()


def monthly_series(results: Results) -> pd.DataFrame:
    """The monthly headline series of a run with prices and shortfall shares added (``MonthlySeries``)."""
    return MonthlySeries.from_results(results).frame()
