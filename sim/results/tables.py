"""Results of one run: tidy pandas tables, built from the recorder after the run; its typed summary.

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
- ``inventory``: date, country, stage, item, t, days_of_cover, days_of_end_use — working stocks
  and strategic stockpiles (stage ``stockpile``); cover in days of the
  country's own use of that item; an empty stock the country uses shows as 0;
  for stockpiles also in days of the element content of the country's end-use
  magnet demand (empty where its end users' magnets hold none; other stages: empty)
- ``unmet``: date, country, sector, end_user, unit, demand_t, supplied_t,
  unmet_t, unmet_units, value_at_risk_usd — end-use magnet demand and what was missing, in t
  magnet and in product units (vehicles not built, MW not installed, ...), and those units times the
  sector's value per unit: gross output at risk, not GDP (empty, NaN, where the sector is not valued)
- ``magnet_output``: date, country, grade, planned_t, made_t, short_t — plants
  short of oxides make less than they planned
- ``prices``: date, element, usd_per_kg, multiple — with ``prices.home_market``: date, market (home,
  outside), element, usd_per_kg, multiple
- ``magnet_prices``: date, market, grade, usd_per_kg, multiple — with ``prices.home_market`` only (no rows
  without): usd_per_kg is the grade's rare-earth content at the market's prices times its scarcity term,
  empty (NaN) where an element of its recipe has no price; multiple is of its starting value
- ``dependency``: date, country, stage, on, direct, embedded — direct: share
  of the country's imports of the stage's product bought from ``on``;
  embedded: share of its consumption of that product that passed through
  ``on`` at any stage (mine, refinery, magnet)
- ``licences``: date, stage, exporter, importer, outcome, t — what became of licence applications
  (applied, approved, refused, stopped awaiting licence, turned back at sea) in the period
- ``licence_queue``: date, stage, exporter, importer, applications, t — applications waiting in a
  licence office's queue (a measure with ``office:``) at the end of the step, and their t: a level,
  taken at the period's last step (none: nothing waits)
- ``causes``: date, country, stage, maker, cause, element, oxide_from, measure, t — each country's
  unmet end-use demand (t magnet) in parts that add up to it: by the magnet maker that supplied less than
  its share of the reference year (or more: ``re-sourced``, negative), why (its plants short of an element,
  lost from a supplier of oxides under a measure; an export measure on the route; the market), see
  ``sim.results.causes``
- ``parameters``: subject, country, name, parameter, value, source — the parameters an explanation
  cites (events, stockpiles, magnet plants, grades, sectors) with their source ids (``sim.results.parameters``)
- ``balance``: element, opening_t, mined_t, recycled_t, stocks_t, in_transit_t,
  consumed_t, sunk_t, losses_t, residual_t — mass balance over the run

``frequency`` is ``step``, ``month``, ``quarter`` or ``year``. A weekly step
does not fit the calendar, so a period holds what happened on its days
(``sim.results.periods``): a flow of a step that straddles a boundary is split
pro rata to its days on either side; stocks, cover and queues are those of the
step covering the period's last day; prices and their multiples are averaged
over the period's days; shares are computed from the period's split sums.
Dates label a period by its first day; the periods end with the calendar's
last day. The key and value columns
of each table, and the codes a key can hold, are named once in ``sim.results.columns``.

A run makes its ``Results`` without pandas: pandas is imported when a table (or the mass balance, or the
dates as a pandas index) is first asked for, so a process that only runs, or reads only the recorder's
arrays, never loads it.
"""
from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from ..errors import did_you_mean
from ..scenario import Scenario
from ..scenario.events import first_restriction
from ..stages import MAGNET, MINE, REFINERY, STAGES
from ..world import Network
from ..world.markets import OUTSIDE
from .causes import causes_table
from .chain import chain_links
from .columns import KEYS, RECYCLING, STOCKPILE, VALUES
from .events import events_table
from .explain import EXPLAINED_TABLES, Explanation, explain
from .parameters import parameters_table
from .periods import PeriodSteps, run_periods
from .recorder import Recorder
from .sparse import SparseSteps
from .summary import SHOWN_T, Summary, summarise

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class Results:
    """What one run produced: ``table(name)``, ``summary()``, the mass balance, and the world it drew
    (``world``) from its scenario (``scenario``)."""

    def __init__(self, scenario: Scenario, world: Scenario, net: Network, seed: int, recorder: Recorder,
                 balance: dict[str, np.ndarray], replication: int | None = None):
        self.scenario, self.world, self.net, self.seed, self.raw = scenario, world, net, seed, recorder
        self.replication = replication            # of an ensemble of the seed; None for a plain run
        self.balance = balance        # the mass balance as arrays by element (t REO): opening, mined, ..., residual
        self._summary: Summary | None = None
        self._tables: dict[tuple[str, str], pd.DataFrame] = {}   # built once: the back-test reads one many times
        self._periods: dict[str, tuple[pd.DatetimeIndex, PeriodSteps]] = {}

    # ------------------------------------------------------------ tables
    TABLES = ("production", "flows", "chain", "inventory", "unmet", "magnet_output", "prices", "magnet_prices",
              "dependency", "licences", "licence_queue", "causes", "parameters",
              "balance")

    @cached_property
    def mass_balance(self) -> pd.DataFrame:
        """The mass balance over the run, a row per element (t REO): the ``balance`` table."""
        import pandas as pd

        return pd.DataFrame({f"{k}_t": v for k, v in self.balance.items()}, index=pd.Index(
            self.net.elements, name="element")).reset_index()

    @cached_property
    def dates(self) -> pd.DatetimeIndex:
        """The first day of every step."""
        import pandas as pd

        return pd.DatetimeIndex(pd.to_datetime(list(self.net.dates)), name="date")

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
        if (name, frequency) not in self._tables:
            self._tables[name, frequency] = getattr(self, f"_{name}")(frequency)
        return self._tables[name, frequency].copy()

    def tables(self, frequency: str = "step") -> dict[str, pd.DataFrame]:
        return {name: self.table(name, frequency) for name in self.TABLES}

    def _calendar(self, frequency: str) -> tuple[pd.DatetimeIndex, PeriodSteps]:
        """The periods of ``frequency`` the run's days fall in, each labelled by its first day, and the steps
        each holds (their days inside each, [period, step], as ``days``).

        The run's days end with its last day (the calendar's end, or where it was stopped): the last step may
        run a few days past it, which would otherwise make a part-period after the end (a cliff in every
        monthly series).
        """
        if frequency not in self._periods:
            net = self.net
            end = min(net.dates[-1] + dt.timedelta(days=net.step_days), net.last_day + dt.timedelta(days=1))
            self._periods[frequency] = run_periods(tuple(net.dates), net.step_days, end, frequency)
        return self._periods[frequency]

    def by_period(self, array: np.ndarray, frequency: str, how: str = "sum") -> tuple[pd.DatetimeIndex, np.ndarray]:
        """A [step, ...] array and its dates at ``frequency`` (``PeriodSteps.of``: steps split by days)."""
        if frequency == "step":
            return self.dates, array
        labels, steps = self._calendar(frequency)
        return labels, steps.of(array, how)

    def _tidy(self, array: np.ndarray | SparseSteps, axes: list[tuple[str, tuple]], value: str, frequency: str,
              how: str = "sum", keep_zero: bool = False) -> pd.DataFrame:
        """[step, *axes] array -> tidy rows (date, *axis names, value), by period: flows (``sum``) split by
        days, rates (``mean``) day-weighted, levels (``last``) of the step covering the period's last day.
        A sparse record gives the rows of what it holds, never made dense whole."""
        import pandas as pd

        if isinstance(array, SparseSteps) and not keep_zero:
            labels, codes, values = self._sparse_rows(array, frequency, how)
        else:
            labels, data = self.by_period(array[:] if isinstance(array, SparseSteps) else array, frequency, how)
            values = data.reshape(-1)
            kept = np.arange(values.size) if keep_zero else np.flatnonzero(np.abs(values) > SHOWN_T)
            codes, values = np.unravel_index(kept, data.shape), values[kept]
        index = pd.MultiIndex(levels=[pd.DatetimeIndex(labels, name="date")] + [list(v) for _, v in axes],
                              codes=list(codes), names=["date"] + [n for n, _ in axes], verify_integrity=False)
        return pd.DataFrame({value: values}, index=index).reset_index()

    def _values(self, array: np.ndarray, frequency: str, how: str = "sum") -> np.ndarray:
        """The values of ``_tidy(array, ..., keep_zero=True)`` in its rows' order, without making its frame: a
        column of a table whose keys another array has made."""
        return self.by_period(array, frequency, how)[1].reshape(-1)

    def _sparse_rows(self, record: SparseSteps, frequency: str,
                     how: str) -> tuple[pd.DatetimeIndex, tuple[np.ndarray, ...], np.ndarray]:
        """The period labels, and the codes (period, *axes) and values of what is not zero by period."""
        if frequency == "step":
            step, lead, rows = record.entries()
            tail = rows.reshape(len(step), int(np.prod(record.tail)))
            kept = np.nonzero(np.abs(tail) > SHOWN_T)          # in order of step, position, then item
            codes = (step[kept[0]], *(c[kept[0]] for c in lead),
                     *(np.unravel_index(kept[1], record.tail) if record.tail else ()))
            return self.dates, codes, tail[kept]
        labels, steps = self._calendar(frequency)
        parts = []
        for p, block in enumerate(steps.blocks(record, how)):
            block = np.broadcast_to(block, record.shape[1:]).reshape(-1)
            kept = np.flatnonzero(np.abs(block) > SHOWN_T)
            parts.append((np.full(len(kept), p), kept, block[kept]))
        period, flat, values = (np.concatenate(x) for x in zip(*parts, strict=True))
        return labels, (period, *np.unravel_index(flat, record.shape[1:])), values

    def _production(self, frequency: str) -> pd.DataFrame:
        import pandas as pd

        net, raw = self.net, self.raw
        parts = []
        for stage, array, items in ((MINE, raw.mined, net.elements), (REFINERY, raw.separated, net.elements),
                                    (RECYCLING, raw.recycled, net.elements), (MAGNET, raw.magnets_made, net.grades)):
            part = self._tidy(array, [("country", net.countries), ("item", items)], "t", frequency)
            part.insert(2, "stage", stage)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def _flows(self, frequency: str) -> pd.DataFrame:
        import pandas as pd

        net, parts = self.net, []
        for stage in STAGES:
            items = net.item_names(stage)
            part = self._tidy(self.raw.exports[stage], [("importer", net.countries), ("exporter", net.countries),
                                                        ("item", items)], "t", frequency)
            part.insert(1, "stage", stage)
            parts.append(part[["date", *KEYS["flows"], *VALUES["flows"]]])
        return pd.concat(parts, ignore_index=True)

    def _chain(self, frequency: str) -> pd.DataFrame:
        import pandas as pd

        axes = [("country", self.net.countries), ("origin", self.net.countries)]
        parts = []
        for stage, origin_stage, array in chain_links(self.raw, self.net.tags):
            part = self._tidy(array, axes, "t", frequency)
            parts.append(part.assign(stage=stage, origin_stage=origin_stage))
        return pd.concat(parts, ignore_index=True)[["date", *KEYS["chain"], *VALUES["chain"]]]

    def _inventory(self, frequency: str) -> pd.DataFrame:
        import pandas as pd

        net, raw = self.net, self.raw
        parts = []
        for stage, stock, use, items in (
                (MINE, raw.stock_conc[..., None], raw.use_conc[..., None], net.item_names(MINE)),
                (REFINERY, raw.stock_oxide, raw.use_oxide, net.item_names(REFINERY)),
                (MAGNET, raw.stock_magnet, raw.use_magnet, net.item_names(MAGNET)),
                (STOCKPILE, raw.stockpile, raw.use_oxide, net.elements)):
            axes = [("country", net.countries), ("item", items)]
            t = self._tidy(stock, axes, "t", frequency, how="last", keep_zero=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                cover = np.where(use > SHOWN_T, stock / np.where(use > SHOWN_T, use, 1), np.nan)   # t/day
            t["days_of_cover"] = self._values(cover, frequency, "last")
            t.insert(2, "stage", stage)
            t["days_of_end_use"] = np.nan
            if stage == STOCKPILE:
                content = net.end_use_content(slice(None))
                with np.errstate(invalid="ignore", divide="ignore"):
                    end_use = np.where(content > 0, stock / np.where(content > 0, content, 1), np.nan)
                t["days_of_end_use"] = self._values(end_use, frequency, "last")
            in_use = self._values(use, frequency, "last") > SHOWN_T
            parts.append(t[(t["t"].abs() > 1e-9) | (in_use & (stage != STOCKPILE))])
        return pd.concat(parts, ignore_index=True)

    def _unmet(self, frequency: str) -> pd.DataFrame:
        import pandas as pd

        net, raw = self.net, self.raw
        axes = [("country", net.countries), ("sector", net.sectors)]
        frame = self._tidy(raw.demand, axes, "demand_t", frequency, keep_zero=True)
        frame["supplied_t"] = self._values(raw.supplied, frequency)
        frame = frame[frame["demand_t"] > 0].reset_index(drop=True)
        unmet = (frame["demand_t"] - frame["supplied_t"]).to_numpy()
        frame["unmet_t"] = np.where(unmet > SHOWN_T, unmet, 0.0)        # demand all served, to rounding: none
        sector = pd.Series(range(len(net.sectors)), index=net.sectors)
        s = sector[frame["sector"]].values
        frame["end_user"] = np.where(net.defence[s], "defence", "civil")
        frame["unit"] = np.array(net.units)[s]
        frame["unmet_units"] = frame["unmet_t"] * 1000.0 / net.magnet_kg_per_unit[s]
        frame["value_at_risk_usd"] = frame["unmet_units"] * net.value_usd_per_unit[s]
        return frame[["date", *KEYS["unmet"], *VALUES["unmet"]]]

    def _magnet_output(self, frequency: str) -> pd.DataFrame:
        net, raw = self.net, self.raw
        axes = [("country", net.countries), ("grade", net.grades)]
        frame = self._tidy(raw.magnets_planned, axes, "planned_t", frequency, keep_zero=True)
        frame["made_t"] = self._values(raw.magnets_made, frequency)
        frame = frame[frame["planned_t"] > SHOWN_T].reset_index(drop=True)
        frame["short_t"] = (frame["planned_t"] - frame["made_t"]).clip(lower=0.0)
        return frame

    def _prices(self, frequency: str) -> pd.DataFrame:
        price, multiple, axes = self._price_steps()
        return self._priced(price, multiple, axes, frequency)

    def _price_steps(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, tuple]]]:
        """Prices (USD/kg) and their multiples of the priced elements by step, and their axes: [step,
        element], or with a home market [step, market, element]."""
        net = self.net
        priced = tuple(e for e, p in zip(net.elements, net.initial_price) if not np.isnan(p))
        idx = [net.elements.index(e) for e in priced]
        price, multiple = self.raw.price[:, :, idx], self.raw.price_multiple[:, :, idx]
        if net.home_market is None:     # one world market: no market column
            return price[:, 0], multiple[:, 0], [("element", priced)]
        return price, multiple, [("market", net.markets), ("element", priced)]

    def price_multiples(self, frequency: str) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray] | None:
        """The markets (one world market: ``outside``'s place), the priced elements and the mean price multiple
        [period, market, element] over each period, as the prices table has it; None without a priced element."""
        _, multiple, axes = self._price_steps()
        elements = axes[-1][1]
        if not elements:
            return None
        markets = axes[0][1] if len(axes) == 2 else (OUTSIDE,)
        periods = self.by_period(multiple, frequency, "mean")[1]
        return markets, elements, periods.reshape(len(periods), len(markets), len(elements))

    def _magnet_prices(self, frequency: str) -> pd.DataFrame:
        net = self.net
        markets = net.markets if net.home_market is not None else ()     # no home market: no rows
        return self._priced(self.raw.magnet_price[:, :len(markets)], self.raw.magnet_price_multiple[:, :len(markets)],
                            [("market", markets), ("grade", net.grades)], frequency)

    def _priced(self, price: np.ndarray, multiple: np.ndarray, axes: list[tuple[str, tuple]],
                frequency: str) -> pd.DataFrame:
        """Prices (USD/kg) and their multiples, averaged over each period."""
        frame = self._tidy(price, axes, "usd_per_kg", frequency, how="mean", keep_zero=True)
        frame["multiple"] = self._values(multiple, frequency, "mean")
        return frame

    def dependency(self, on: str = "CN", frequency: str = "step") -> pd.DataFrame:
        """Direct and embedded dependency of every country on country ``on``, by stage (see module doc).
        ``on`` is a country code of the run; another (``"China"``) is a ValueError naming the codes."""
        import pandas as pd

        net = self.net
        if on not in net.countries:
            names = {code: c.name for code, c in self.scenario.countries.items()}
            raise ValueError(f"dependency(on={on!r}): not a country code of this run"
                             f"{did_you_mean(on, net.countries, names)}; the codes are {', '.join(net.countries)}")
        labels, shares = self.dependency_shares(net.index(on), frequency)
        parts = []
        for stage, (direct, embedded) in shares.items():
            p, b = np.nonzero(~(np.isnan(direct) & np.isnan(embedded)))        # by period, then country
            parts.append(pd.DataFrame({"date": labels[p], "country": np.asarray(net.countries, dtype=object)[b],
                                       "stage": stage, "on": on, "direct": direct[p, b], "embedded": embedded[p, b]}))
        frame = pd.concat(parts, ignore_index=True)
        if frame.empty:         # no imports and no consumption anywhere: the columns of a table of nothing
            frame = pd.DataFrame([], columns=["date", "country", "stage", "on", "direct", "embedded"])
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    def dependency_shares(self, j: int, frequency: str, stages: tuple[str, ...] = STAGES
                          ) -> tuple[pd.DatetimeIndex, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """The periods, and for each stage the direct and embedded dependency [period, country] of every
        country on country ``j`` (NaN: no imports, or nothing consumed, beyond ``SHOWN_T``'s rounding), as
        ``dependency`` tabulates them."""
        net, raw = self.net, self.raw
        C = net.n_countries
        out = {}
        for stage in stages:
            s = STAGES.index(stage)
            total, from_on = self._imports(raw.exports[stage], j)
            labels, total = self.by_period(total, frequency)
            from_on = self.by_period(from_on, frequency)[1]
            rows = [0, net.tags.row("touched", j)]            # the mass, and what passed through j
            tagged = raw.consumed_tags.select(s)               # [n, b, Q]
            if frequency == "step":
                consumed, touched = (tagged[:, :, q] for q in rows)
            else:   # each period's rows read from all of its [b, Q], as PeriodSteps.of reads an array
                blocks = np.stack([np.broadcast_to(block, (C, net.tags.rows))[:, rows]
                                   for block in self._calendar(frequency)[1].blocks(tagged, "sum")])
                consumed, touched = blocks[:, :, 0], blocks[:, :, 1]
            with np.errstate(invalid="ignore", divide="ignore"):
                direct = np.where(total > SHOWN_T, from_on / np.where(total > SHOWN_T, total, 1), np.nan)
                embedded = np.where(consumed > SHOWN_T, touched / np.where(consumed > SHOWN_T, consumed, 1), np.nan)
            out[stage] = (direct, embedded)
        return labels, out

    @staticmethod
    def _imports(exports: SparseSteps, j: int) -> tuple[np.ndarray, np.ndarray]:
        """[step, buyer] t a country imported (from other countries), and imported from country ``j``: each
        route's items summed as NumPy sums a row of [step, buyer, supplier, item], then each buyer's routes,
        a few steps at a time, so that no [step, buyer, supplier] array is made whole."""
        n, C = exports.shape[:2]
        step, (buyer, supplier), rows = exports.entries()
        carried = rows.sum(axis=1)                                              # [entry] over the route's items
        total, from_j = np.zeros((n, C)), np.zeros((n, C))
        chunk = max(1, 4_000_000 // (C * C))
        for lo in range(0, n, chunk):
            inside = slice(*np.searchsorted(step, [lo, lo + chunk]))
            imports = np.zeros((min(chunk, n - lo), C, C))                     # [k, b, j]
            imports[step[inside] - lo, buyer[inside], supplier[inside]] = carried[inside]
            imports[:, np.arange(C), np.arange(C)] = 0.0
            total[lo:lo + chunk] = imports.sum(axis=2)
            from_j[lo:lo + chunk] = imports[:, :, j]
        return total, from_j

    def _dependency(self, frequency: str) -> pd.DataFrame:
        return self.dependency("CN" if "CN" in self.net.countries else self.net.countries[0], frequency)

    def _licences(self, frequency: str) -> pd.DataFrame:
        import pandas as pd

        net = self.net
        frame = pd.DataFrame(self.raw.licences)
        k = frame["k"].to_numpy(dtype=int)
        if frequency == "step":
            frame["date"] = self.dates[k]
        else:           # tonnes applied for (approved, ...) in a step that straddles a boundary: split by days
            labels, steps = self._calendar(frequency)
            p, row = np.nonzero(steps.days[:, k])
            share = steps.days[p, k[row]] / self.net.step_days
            frame = frame.iloc[row].assign(date=labels[p], t=frame["t"].to_numpy(dtype=float)[row] * share)
        frame["date"] = pd.to_datetime(frame["date"]) if len(frame) else pd.Series([], dtype="datetime64[ns]")
        frame["exporter"] = [net.countries[i] for i in frame["exporter"]]
        frame["importer"] = [net.countries[i] for i in frame["importer"]]
        frame = frame.groupby(["date", *KEYS["licences"]], as_index=False)["t"].sum()
        return frame

    def _licence_queue(self, frequency: str) -> pd.DataFrame:
        import pandas as pd

        net = self.net
        frame = pd.DataFrame(self.raw.licence_queue, columns=["k", "stage", "exporter", "importer", "applications",
                                                              "t"]).astype({"k": int, "applications": int, "t": float})
        if frequency == "step":
            frame.insert(0, "date", self.dates[frame["k"].to_numpy()])
        else:           # a level: the queue at the end of the step covering the period's last day
            labels, steps = self._calendar(frequency)
            last = {hi - 1: labels[p] for p, (lo, hi) in enumerate(steps.spans) if hi > lo}
            frame = frame[frame["k"].isin(list(last))]
            frame.insert(0, "date", pd.to_datetime([last[k] for k in frame["k"]]))
        frame["exporter"] = [net.countries[i] for i in frame["exporter"]]
        frame["importer"] = [net.countries[i] for i in frame["importer"]]
        keys = ["date", *KEYS["licence_queue"]]
        return frame.groupby(keys, as_index=False)[list(VALUES["licence_queue"])].sum()[keys + list(
            VALUES["licence_queue"])]

    def _causes(self, frequency: str) -> pd.DataFrame:
        return causes_table(self, frequency)

    def _parameters(self, frequency: str) -> pd.DataFrame:
        return parameters_table(self.world)          # the drawn world's, the same at every frequency

    def explain(self, country: str, start: dt.date | str | None = None, end: dt.date | str | None = None,
                frequency: str = "month") -> Explanation:
        """Why ``country`` was short from ``start`` to ``end`` (periods of ``frequency`` whose first day lies
        between them; by default its worst calendar year): ``sim.results.explain``."""
        day = lambda d: dt.date.fromisoformat(d) if isinstance(d, str) else d  # noqa: E731
        tables = {name: self.table(name, frequency) for name in EXPLAINED_TABLES}
        return explain(tables, country, day(start), day(end))

    # ------------------------------------------------------------ headline figures
    @cached_property
    def first_measure(self) -> dt.date | None:
        """Start of the earliest export restriction (ban, licence, quota, origin rule; not a tariff), the
        'before/after' line of the summary and the start of 'weeks to shortfall'."""
        return first_restriction(self.world.events)

    @cached_property
    def events(self) -> pd.DataFrame:
        """The events of the world this run drew, one row each (``sim.results.events``): what the plots mark."""
        return events_table(self.world.events)

    def summary(self) -> Summary:
        """Headline figures (``sim.results.summary``): world shares, shortfall by country, dependency before and
        after, prices, the mass balance; for a scenario with uncertain inputs, what this run drew of them.
        Computed once (the record is frozen)."""
        if self._summary is None:
            self._summary = summarise(self)
        return self._summary
