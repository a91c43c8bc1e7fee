"""Results of one run: tidy pandas tables and headline figures, built from the recorder after the run.

Tables (``Results.table(name, frequency)``; one row per date x keys, units in column names):

- ``production``: date, country, stage, item, t — concentrate mined (t REO by
  element), oxides separated (t REO by element), magnets made (t magnet by grade)
- ``flows``: date, stage, exporter, importer, item, t — exports by route as they
  leave (concentrate as one item, oxides by element, magnets by grade)
- ``chain``: date, stage, country, origin_stage, origin, t — t REO a stage used
  in a country by the country where it was made one stage up: separation feed
  (``refinery``) by mining country, magnets made (``magnet``, their REO
  content) by separating country, magnets used by end users (``end_use``) by
  magnet-making country (see ``chain``)
- ``inventory``: date, country, stage, item, t, days_of_cover — working stocks
  and strategic stockpiles (stage ``stockpile``); cover in days of the
  country's own use of that item; an empty stock the country uses shows as 0
- ``unmet``: date, country, sector, end_user, unit, demand_t, supplied_t,
  unmet_t, unmet_units — end-use magnet demand and what was missing, in t
  magnet and in product units (vehicles not built, MW not installed, ...)
- ``magnet_output``: date, country, grade, planned_t, made_t, short_t — plants
  short of oxides make less than they planned
- ``prices``: date, element, usd_per_kg, multiple
- ``dependency``: date, country, stage, on, direct, embedded — direct: share
  of the country's imports of the stage's product bought from ``on``;
  embedded: share of its consumption of that product that passed through
  ``on`` at any stage (mine, refinery, magnet)
- ``licences``: date, stage, exporter, importer, outcome, t
- ``balance``: element, opening_t, mined_t, recycled_t, stocks_t, in_transit_t,
  consumed_t, sunk_t, losses_t, residual_t — mass balance over the run

``frequency`` is ``step``, ``month``, ``quarter`` or ``year``: flows are summed,
stocks and cover taken at the period's last step, prices averaged, shares
computed from the period's sums. Dates label a period by its first day.
"""
from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd

from ..scenario.distributions import drawn_inputs
from ..scenario.schema import MEASURE_TYPES, Scenario
from ..world.network import Network
from ..world.provenance import Tags
from .chain import chain_links
from .recorder import Recorder

STAGES = ("mine", "refinery", "magnet")
PERIOD = {"month": "MS", "quarter": "QS", "year": "YS"}
SHORT = 0.005   # a country is short when more than 0.5% of its demand goes unmet


class Results:
    """What one run produced: ``table(name)``, ``summary()``, the mass balance, the realised scenario."""

    def __init__(self, scenario: Scenario, world: Scenario, net: Network, seed: int, recorder: Recorder,
                 balance: dict[str, np.ndarray], replication: int | None = None):
        self.scenario, self.world, self.net, self.seed, self.raw = scenario, world, net, seed, recorder
        self.replication = replication            # of an ensemble of the seed; None for a plain run
        self.tags = Tags(net.n_countries)
        self.mass_balance = pd.DataFrame({f"{k}_t": v for k, v in balance.items()}, index=pd.Index(
            net.elements, name="element")).reset_index()
        self.dates = pd.DatetimeIndex(pd.to_datetime(list(net.dates)), name="date")

    # ------------------------------------------------------------ tables
    TABLES = ("production", "flows", "chain", "inventory", "unmet", "magnet_output", "prices", "dependency",
              "licences", "balance")

    @property
    def countries(self) -> tuple[str, ...]:
        """Codes of the run's countries, in the order of the scenario (the order of every array)."""
        return tuple(self.net.countries)

    def table(self, name: str, frequency: str = "step") -> pd.DataFrame:
        """One of ``TABLES`` at a frequency (``step``, ``month``, ``quarter``, ``year``)."""
        if name not in self.TABLES:
            raise KeyError(f"no table {name!r}; tables: {', '.join(self.TABLES)}")
        if name == "balance":
            return self.mass_balance.copy()
        return getattr(self, f"_{name}")(frequency)

    def tables(self, frequency: str = "step") -> dict[str, pd.DataFrame]:
        return {name: self.table(name, frequency) for name in self.TABLES}

    def _periods(self, frequency: str) -> np.ndarray:
        """Label of each step's period (its first day)."""
        if frequency == "step":
            return self.dates.values
        if frequency not in PERIOD:
            raise ValueError(f"frequency must be step, month, quarter or year, got {frequency!r}")
        return self.dates.to_period(PERIOD[frequency][0]).to_timestamp().values

    def _tidy(self, array: np.ndarray, axes: list[tuple[str, tuple]], value: str, frequency: str,
              how: str = "sum", keep_zero: bool = False) -> pd.DataFrame:
        """[step, *axes] array -> tidy rows (date, *axis names, value), aggregated by period."""
        periods = self._periods(frequency)
        labels, first = np.unique(periods, return_index=True)
        if frequency == "step":
            data = array
        elif how == "sum":
            data = np.add.reduceat(array, first, axis=0)
        elif how == "last":
            last = np.r_[first[1:], len(periods)] - 1
            data = array[last]
        else:
            data = np.add.reduceat(array, first, axis=0) / np.diff(np.r_[first, len(periods)]).reshape(
                (-1,) + (1,) * (array.ndim - 1))
        index = pd.MultiIndex.from_product([pd.DatetimeIndex(labels, name="date")] + [list(v) for _, v in axes],
                                           names=["date"] + [n for n, _ in axes])
        frame = pd.DataFrame({value: data.reshape(-1)}, index=index).reset_index()
        if not keep_zero:
            frame = frame[frame[value].abs() > 1e-12]
        return frame.reset_index(drop=True)

    def _production(self, frequency: str) -> pd.DataFrame:
        net, raw = self.net, self.raw
        parts = []
        for stage, array, items in (("mine", raw.mined, net.elements), ("refinery", raw.separated, net.elements),
                                    ("recycling", raw.recycled, net.elements), ("magnet", raw.magnets_made, net.grades)):
            part = self._tidy(array, [("country", net.countries), ("item", items)], "t", frequency)
            part.insert(2, "stage", stage)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def _flows(self, frequency: str) -> pd.DataFrame:
        net, parts = self.net, []
        for stage in STAGES:
            items = ("concentrate",) if stage == "mine" else net.elements if stage == "refinery" else net.grades
            part = self._tidy(self.raw.exports[stage], [("importer", net.countries), ("exporter", net.countries),
                                                        ("item", items)], "t", frequency)
            part.insert(1, "stage", stage)
            parts.append(part[["date", "stage", "exporter", "importer", "item", "t"]])
        return pd.concat(parts, ignore_index=True)

    def _chain(self, frequency: str) -> pd.DataFrame:
        axes = [("country", self.net.countries), ("origin", self.net.countries)]
        parts = []
        for stage, origin_stage, array in chain_links(self.raw, self.tags):
            part = self._tidy(array, axes, "t", frequency)
            parts.append(part.assign(stage=stage, origin_stage=origin_stage))
        return pd.concat(parts, ignore_index=True)[["date", "stage", "country", "origin_stage", "origin", "t"]]

    def _inventory(self, frequency: str) -> pd.DataFrame:
        net, raw = self.net, self.raw
        parts = []
        for stage, stock, use, items in (
                ("mine", raw.stock_conc[..., None], raw.use_conc[..., None], ("concentrate",)),
                ("refinery", raw.stock_oxide, raw.use_oxide, net.elements),
                ("magnet", raw.stock_magnet, raw.use_magnet, net.grades),
                ("stockpile", raw.stockpile, raw.use_oxide, net.elements)):
            axes = [("country", net.countries), ("item", items)]
            t = self._tidy(stock, axes, "t", frequency, how="last", keep_zero=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                cover = np.where(use > 0, stock / np.where(use > 0, use, 1), np.nan)
            t["days_of_cover"] = self._tidy(cover, axes, "d", frequency, how="last", keep_zero=True)["d"].values
            t.insert(2, "stage", stage)
            in_use = self._tidy(use, axes, "u", frequency, how="last", keep_zero=True)["u"].values > 0
            parts.append(t[(t["t"].abs() > 1e-9) | (in_use & (stage != "stockpile"))])
        return pd.concat(parts, ignore_index=True)

    def _unmet(self, frequency: str) -> pd.DataFrame:
        net, raw = self.net, self.raw
        axes = [("country", net.countries), ("sector", net.sectors)]
        frame = self._tidy(raw.demand, axes, "demand_t", frequency, keep_zero=True)
        frame["supplied_t"] = self._tidy(raw.supplied, axes, "s", frequency, keep_zero=True)["s"].values
        frame = frame[frame["demand_t"] > 0].reset_index(drop=True)
        frame["unmet_t"] = (frame["demand_t"] - frame["supplied_t"]).clip(lower=0.0)
        sector = pd.Series(range(len(net.sectors)), index=net.sectors)
        s = sector[frame["sector"]].values
        frame["end_user"] = np.where(net.defence[s], "defence", "civil")
        frame["unit"] = np.array(net.units)[s]
        frame["unmet_units"] = frame["unmet_t"] * 1000.0 / net.magnet_kg_per_unit[s]
        return frame[["date", "country", "sector", "end_user", "unit", "demand_t", "supplied_t", "unmet_t",
                      "unmet_units"]]

    def _magnet_output(self, frequency: str) -> pd.DataFrame:
        net, raw = self.net, self.raw
        axes = [("country", net.countries), ("grade", net.grades)]
        frame = self._tidy(raw.magnets_planned, axes, "planned_t", frequency, keep_zero=True)
        frame["made_t"] = self._tidy(raw.magnets_made, axes, "m", frequency, keep_zero=True)["m"].values
        frame = frame[frame["planned_t"] > 1e-12].reset_index(drop=True)
        frame["short_t"] = (frame["planned_t"] - frame["made_t"]).clip(lower=0.0)
        return frame

    def _prices(self, frequency: str) -> pd.DataFrame:
        net = self.net
        priced = [e for e, p in zip(net.elements, net.initial_price) if not np.isnan(p)]
        idx = [net.elements.index(e) for e in priced]
        frame = self._tidy(self.raw.price[:, idx], [("element", priced)], "usd_per_kg", frequency, how="mean",
                           keep_zero=True)
        frame["multiple"] = self._tidy(self.raw.price_multiple[:, idx], [("element", priced)], "m", frequency,
                                       how="mean", keep_zero=True)["m"].values
        return frame

    def dependency(self, on: str = "CN", frequency: str = "step") -> pd.DataFrame:
        """Direct and embedded dependency of every country on country ``on``, by stage (see module doc)."""
        net, raw = self.net, self.raw
        j = net.index(on)
        periods = self._periods(frequency)
        labels, first = np.unique(periods, return_index=True)
        rows = []
        for s, stage in enumerate(STAGES):
            imports = raw.exports[stage].sum(axis=3)                       # [n, b, j]
            imports[:, np.arange(net.n_countries), np.arange(net.n_countries)] = 0.0
            total = np.add.reduceat(imports.sum(axis=2), first, axis=0)
            from_on = np.add.reduceat(imports[:, :, j], first, axis=0)
            consumed = np.add.reduceat(raw.consumed_tags[:, s], first, axis=0)   # [p, b, Q]
            touched = consumed[:, :, self.tags.row("touched", j)]
            with np.errstate(invalid="ignore", divide="ignore"):
                direct = np.where(total > 0, from_on / np.where(total > 0, total, 1), np.nan)
                embedded = np.where(consumed[:, :, 0] > 0, touched / np.where(consumed[:, :, 0] > 0,
                                                                               consumed[:, :, 0], 1), np.nan)
            for p, label in enumerate(labels):
                for b, country in enumerate(net.countries):
                    if not (np.isnan(direct[p, b]) and np.isnan(embedded[p, b])):
                        rows.append((label, country, stage, on, direct[p, b], embedded[p, b]))
        frame = pd.DataFrame(rows, columns=["date", "country", "stage", "on", "direct", "embedded"])
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    def _dependency(self, frequency: str) -> pd.DataFrame:
        return self.dependency("CN" if "CN" in self.net.countries else self.net.countries[0], frequency)

    def _licences(self, frequency: str) -> pd.DataFrame:
        net = self.net
        frame = pd.DataFrame(self.raw.licences, columns=["k", "stage", "exporter", "importer", "t", "outcome"])
        frame["date"] = self._periods(frequency)[frame["k"].to_numpy(dtype=int)] if len(frame) else pd.Series(
            [], dtype="datetime64[ns]")
        frame["exporter"] = [net.countries[i] for i in frame["exporter"]]
        frame["importer"] = [net.countries[i] for i in frame["importer"]]
        frame = frame.groupby(["date", "stage", "exporter", "importer", "outcome"], as_index=False)["t"].sum()
        return frame

    # ------------------------------------------------------------ headline figures
    @cached_property
    def first_measure(self) -> dt.date | None:
        """Start of the earliest export restriction (ban, licence, quota, origin rule; not a tariff), the
        'before/after' line of the summary and the start of 'weeks to shortfall'."""
        starts = [e.start for e in self.world.events if getattr(e, "type", None) in MEASURE_TYPES
                  and e.type != "tariff"]
        return min(starts) if starts else None

    def summary(self) -> dict:
        """Headline figures: world shares, shortfall by country, dependency before and after, prices, balance;
        and, for a scenario with uncertain inputs, what this run drew of them (``drawn``)."""
        net, raw = self.net, self.raw
        n = len(net.dates)
        year = slice(0, min(n, int(round(365.25 / net.step_days))))
        first = self.first_measure
        k0 = next((k for k, d in enumerate(net.dates) if d >= first), n) if first else n
        before = slice(max(0, k0 - len(range(*year.indices(n)))), k0) if first and k0 > 0 else year
        after = slice(max(0, n - len(range(*year.indices(n)))), n)

        def share(array, country, window):
            total = array[window].sum()
            return float(array[window][:, net.index(country)].sum() / total) if total > 0 and country in \
                net.countries else None

        world = {
            "mined_kt_first_year": float(raw.mined[year].sum() / 1e3),
            "china_share_mining": share(raw.mined.sum(axis=2), "CN", year),
            "china_share_refining": share(raw.separated.sum(axis=2), "CN", year),
            "china_share_magnets": share(raw.magnets_made.sum(axis=2), "CN", year),
            "us_share_mining": share(raw.mined.sum(axis=2), "US", year),
        }
        countries = {}
        demand = raw.demand.sum(axis=2)
        unmet = np.clip(demand - raw.supplied.sum(axis=2), 0, None)
        planned, made = raw.magnets_planned.sum(axis=2), raw.magnets_made.sum(axis=2)
        step_weeks = net.step_days / 7.0
        for c, country in enumerate(net.countries):
            if demand[:, c].sum() <= 0 and planned[:, c].sum() <= 0:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                short = np.where(demand[:, c] > 0, unmet[:, c] / np.where(demand[:, c] > 0, demand[:, c], 1), 0.0)
                plant_short = np.where(planned[:, c] > 0, 1 - made[:, c] / np.where(planned[:, c] > 0,
                                                                                     planned[:, c], 1), 0.0)
            peak = int(np.argmax(short))
            hit = np.flatnonzero(short[k0:] > SHORT) + k0
            plant_hit = np.flatnonzero(plant_short[k0:] > SHORT) + k0
            recovered = None
            if hit.size:
                after_peak = np.flatnonzero(short[peak:] <= SHORT) + peak
                recovered = float((after_peak[0] - peak) * step_weeks) if after_peak.size else None
            units = {}
            by_sector = np.clip(raw.demand[:, c] - raw.supplied[:, c], 0, None).sum(axis=0)
            for s, sector in enumerate(net.sectors):
                if by_sector[s] > 1e-9:
                    units[sector] = {"unmet_t": float(by_sector[s]), "unit": net.units[s],
                                     "unmet_units": float(by_sector[s] * 1000 / net.magnet_kg_per_unit[s])}
            dep = self.dependency_window(country, before), self.dependency_window(country, after)
            countries[country] = {
                "demand_t": float(demand[:, c].sum()),
                "cumulative_unmet_t": float(unmet[:, c].sum()),
                "peak_shortfall_share": float(short[peak]),
                "peak_shortfall_t_per_week": float(unmet[peak, c] / step_weeks),
                "peak_shortfall_date": net.dates[peak].isoformat() if short[peak] > 0 else None,
                "weeks_to_shortfall": float((hit[0] - k0) * step_weeks) if (first and hit.size) else None,
                "weeks_to_plant_shortfall": float((plant_hit[0] - k0) * step_weeks) if (first and plant_hit.size)
                else None,
                "weeks_to_recover_from_peak": recovered,
                "unmet_by_sector": units,
                "dependency_on_CN_before": dep[0],
                "dependency_on_CN_after": dep[1],
            }
        prices = {}
        for e, element in enumerate(net.elements):
            if np.isnan(net.initial_price[e]):
                continue
            k = int(np.argmax(raw.price_multiple[:, e]))
            prices[element] = {"initial_usd_per_kg": float(net.initial_price[e]),
                               "peak_usd_per_kg": float(raw.price[k, e]), "peak_multiple": float(
                                   raw.price_multiple[k, e]), "peak_date": net.dates[k].isoformat()}
        drawn = drawn_inputs(self.scenario, self.world)      # what this run drew of uncertain inputs
        scale = np.maximum(self.mass_balance["opening_t"] + self.mass_balance["mined_t"]
                           + self.mass_balance["recycled_t"], 1.0)
        return {
            "scenario": self.scenario.name, "title": self.scenario.title, "seed": self.seed,
            "start": net.dates[0].isoformat(), "end": net.dates[-1].isoformat(), "step_days": net.step_days,
            "first_measure": first.isoformat() if first else None,
            "world": world, "countries": countries, "prices": prices,
            "mass_balance_max_relative_residual": float((self.mass_balance["residual_t"].abs() / scale).max()),
        } | ({"drawn": drawn} if drawn else {})

    def dependency_window(self, country: str, window: slice) -> dict:
        """Direct and embedded dependency on China of a country over a window of steps, by stage."""
        net, raw = self.net, self.raw
        if "CN" not in net.countries:
            return {}
        b, j = net.index(country), net.index("CN")
        out = {}
        for s, stage in enumerate(STAGES):
            imports = raw.exports[stage][window, b].sum(axis=(0, 2))
            imports[b] = 0.0
            consumed = raw.consumed_tags[window, s, b].sum(axis=0)
            direct = float(imports[j] / imports.sum()) if imports.sum() > 0 else None
            embedded = float(consumed[self.tags.row("touched", j)] / consumed[0]) if consumed[0] > 0 else None
            if direct is not None or embedded is not None:
                out[stage] = {"direct": direct, "embedded": embedded}
        return out


def headline_series(results: Results, frequency: str = "month") -> pd.DataFrame:
    """Small tidy series of the headline quantities (date, metric, country, value): the golden reference.

    Metrics: mined_t, separated_t (t REO), magnets_made_t, demand_t, unmet_t (t magnet), and per country the
    direct and embedded dependency of its oxide imports/consumption on China.
    """
    parts = []
    production = results.table("production", frequency)
    for stage, metric in (("mine", "mined_t"), ("refinery", "separated_t"), ("magnet", "magnets_made_t")):
        part = production[production["stage"] == stage].groupby(["date", "country"], as_index=False)["t"].sum()
        parts.append(part.rename(columns={"t": "value"}).assign(metric=metric))
    unmet = results.table("unmet", frequency).groupby(["date", "country"], as_index=False)[["demand_t", "unmet_t"]].sum()
    for metric in ("demand_t", "unmet_t"):
        parts.append(unmet[["date", "country", metric]].rename(columns={metric: "value"}).assign(metric=metric))
    dep = results.dependency("CN", frequency) if "CN" in results.net.countries else None
    if dep is not None:
        dep = dep[dep["stage"] == "refinery"]
        for metric in ("direct", "embedded"):
            parts.append(dep[["date", "country", metric]].rename(columns={metric: "value"}).assign(
                metric=f"oxide_{metric}_dependency_on_CN"))
    frame = pd.concat(parts, ignore_index=True)[["date", "metric", "country", "value"]]
    return frame.dropna().sort_values(["metric", "country", "date"]).reset_index(drop=True)
