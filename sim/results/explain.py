"""Why a country was short over a period: its ``causes`` summed, what it did instead, what shaped it.

``explain(tables, country, start, end)`` reads a run's tables (``causes``, ``unmet``, ``inventory``,
``parameters``; from a ``Results`` or a results folder, at the frequency they were written, months by
default) and returns an ``Explanation``: the parts of the country's unmet end-use demand over the periods
whose first day lies from ``start`` to ``end`` (by default its worst calendar year: the most unmet t, or,
where it was never short, the most supply lost and made up), which add up to the unmet t; the makers it
re-sourced from and when; its stockpile's release; the measures and parameters named, with their sources.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .causes import MARKET, MEASURE, OWN, PLANTS, RESOURCED, SHORT_BEFORE
from .headlines import usd

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .summary import Summary

PART_KEYS = ["stage", "maker", "cause", "element", "oxide_from", "measure"]
EXPLAINED_TABLES = ("causes", "unmet", "inventory", "parameters")
RESOURCED_SHARE = 0.005      # a maker counts as re-sourced from the first period it made up this share of demand
SHORT_T = 1e-6               # cumulative unmet t above which a country counts as short (as ``headlines.SHORT_T``)


@dataclass
class Explanation:
    """A country's unmet end-use demand (t magnet) over a period, in parts that add up to it."""

    country: str
    start: dt.date                 # the first day of the first period read
    end: dt.date                   # the first day of the last period read
    why_period: str                # how the period was chosen
    demand_t: float
    unmet_t: float
    parts: pd.DataFrame            # PART_KEYS, t: largest first; re-sourced parts negative
    resourced: pd.DataFrame        # maker, t (made up, positive), since (first period it made up demand)
    stockpile: pd.DataFrame        # element, t_before, t_after, released_t
    parameters: pd.DataFrame       # the parameters table's rows the parts name, and the country's own
    # sector, unit, unmet_units, value_at_risk_usd (NaN: not valued), of the sectors short; None where the
    # tables hold no value (written before there were values)
    at_risk: pd.DataFrame | None

    @property
    def value_at_risk_usd(self) -> float | None:
        """Gross output at risk over the period, USD, of the valued sectors (not GDP); None where the tables
        hold no value."""
        return None if self.at_risk is None else float(self.at_risk["value_at_risk_usd"].sum())

    @property
    def total_t(self) -> float:
        """The parts' sum: the unmet t, to rounding."""
        return float(self.parts["t"].sum())

    def part_label(self, row) -> str:
        """'imports from JP: its plants short of Dy, oxide lost from CN under cn_japan_dual_use_ban'."""
        where = "own magnet plants" if row.stage == OWN else f"magnet imports from {row.maker}"
        if row.cause == SHORT_BEFORE:
            return "short already in the reference year (its share of demand then)"
        if row.cause == RESOURCED:
            return f"re-sourced: more from {'its own plants' if row.stage == OWN else row.maker} than before"
        if row.cause == PLANTS:
            plants = "its own plants" if row.stage == OWN else f"{row.maker}'s plants"
            text = f"{where}: {plants} short of {row.element or 'oxides (by under a milligram a grade)'}"
            if row.oxide_from:
                text += f", oxide lost from {row.oxide_from}"
            return text + (f" under {row.measure}" if row.measure else
                           (" (no measure: market)" if row.oxide_from else " (no supplier lost: not enough made)"))
        if row.cause == MEASURE:
            return f"{where} stopped or held by {row.measure} ({row.element})"
        if row.cause == MARKET:
            return f"{where}: sold elsewhere or bought less (no measure; the market)"
        return f"{where}: {row.cause}"

    def measure_start(self) -> tuple[str, dt.date] | None:
        """The measure the largest part names, and its first day; None where no part names one."""
        named = self.parts[self.parts["measure"] != ""]
        if named.empty or self.parameters is None or "start" not in self.parameters:
            return None
        measure = named["measure"].iloc[0]
        row = self.parameters[(self.parameters["subject"] == "event") & (self.parameters["name"] == measure)]
        start = row["start"].iloc[0] if len(row) else ""
        return (measure, dt.date.fromisoformat(start)) if start else None

    def text(self, top: int = 8) -> str:
        """A short account: the total, the largest parts, what the country did instead, and the sources."""
        lines = [f"Why {self.country} was short, {self.start:%Y-%m} to {self.end:%Y-%m} ({self.why_period}):",
                 f"  unmet {self.unmet_t:,.1f} t of {self.demand_t:,.1f} t of end-use magnet demand "
                 f"({100 * self.unmet_t / self.demand_t if self.demand_t else 0:.1f}%), in t magnet:"]
        shown = self.parts.head(top)
        for row in shown.itertuples():
            lines.append(f"  {row.t:>+12,.1f}  {self.part_label(row)}")
        rest = self.parts["t"].iloc[top:].sum() if len(self.parts) > top else 0.0
        if len(self.parts) > top:
            lines.append(f"  {rest:>+12,.1f}  {len(self.parts) - top} smaller parts")
        lines.append(f"  {self.total_t:>12,.1f}  = unmet")
        resourced = self.resourced[self.resourced["t"] >= 0.05]
        if len(resourced):
            began = self.measure_start()

            def after(since: pd.Timestamp) -> str:
                """', 21 weeks after cn_japan_dual_use_ban began', from the largest part's measure."""
                if not began or since.date() < began[1]:
                    return ""
                return f", {(since.date() - began[1]).days / 7:.0f} weeks after {began[0]} began"

            made_up = "; ".join(f"{'its own plants' if r.maker == self.country else r.maker} {r.t:,.1f} t "
                                f"(from {r.since:%Y-%m}{after(r.since)})" for r in resourced.itertuples())
            lines.append(f"  made up for it by buying more from: {made_up}")
        if self.value_at_risk_usd is not None:
            lines += at_risk_lines(self.value_at_risk_usd, self.at_risk)
        released = self.stockpile[self.stockpile["released_t"] > 0.05]
        if len(released):
            lines.append("  stockpile released: " + ", ".join(f"{r.element} {r.released_t:,.1f} t"
                                                              for r in released.itertuples()))
        elif len(self.stockpile):
            lines.append("  stockpile: none released in the period")
        if len(self.parameters):
            lines.append("  what shaped it (sources: ids in seeds/):")
            for row in self.parameters.itertuples():
                who = " ".join(x for x in (row.subject, row.country, row.name) if x)
                lines.append(f"    {who}: {row.value} [{row.source or 'no source'}]")
        return "\n".join(lines)


def at_risk_lines(total: float, at_risk: pd.DataFrame) -> list[str]:
    """The gross output at risk, then the valued sectors' units not made and their value, then the sectors
    short that have no value per unit."""
    by_sector = at_risk[at_risk["sector"] != ""]
    valued = by_sector[by_sector["value_at_risk_usd"].notna()]
    unvalued = by_sector[by_sector["value_at_risk_usd"].isna()]
    lines = [f"  gross output at risk (units not made x value per unit; not GDP): {usd(total)}"]
    if len(valued):
        lines.append("    " + "; ".join(f"{r.sector} {r.unmet_units:,.0f} {r.unit}: {usd(r.value_at_risk_usd)}"
                                        for r in valued.itertuples()))
    if len(unvalued):
        lines.append("    not valued (no value per unit): " + ", ".join(
            f"{r.sector} {r.unmet_units:,.0f} {r.unit}" for r in unvalued.itertuples()))
    return lines


def worst_hit(summary: Summary, top: int = 3) -> list[str]:
    """The (up to ``top``) countries with the most cumulative unmet t in a run, most first; none where no one
    was short."""
    short = {c: v.cumulative_unmet_t for c, v in summary.countries.items() if (v.cumulative_unmet_t or 0.0) > SHORT_T}
    return sorted(short, key=lambda c: -short[c])[:top]


def worst_year(causes: pd.DataFrame, unmet: pd.DataFrame, country: str) -> tuple[int, str] | None:
    """The calendar year with the most unmet t in ``country``, or, where it was never short, the one with the
    most supply lost (and made up); None where it lost none."""
    short = unmet[unmet["country"] == country]
    by_year = short.groupby(short["date"].dt.year)["unmet_t"].sum()
    if len(by_year) and by_year.max() > 0:
        return int(by_year.idxmax()), "its worst year: the most unmet t"
    parts = causes[(causes["country"] == country) & (causes["t"] > 0)]
    lost = parts.groupby(parts["date"].dt.year)["t"].sum()
    if len(lost) and lost.max() > 0:
        return int(lost.idxmax()), "never short; the year it lost the most supply, and made it up"
    return None


def explain(tables: dict[str, pd.DataFrame], country: str, start: dt.date | None = None,
            end: dt.date | None = None) -> Explanation:
    """The ``Explanation`` of ``country``'s unmet end-use demand from ``start`` to ``end`` (see the module's
    docstring). A ValueError names an unknown country or a period with no row of the run."""
    import pandas as pd

    causes, unmet = tables["causes"], tables["unmet"]
    countries = sorted(set(unmet["country"]))
    if country not in countries:
        raise ValueError(f"no end-use demand of {country!r} in this run; countries with some: {', '.join(countries)}")
    dates = pd.DatetimeIndex(sorted(set(unmet["date"])))
    why = "the period asked for"
    if start is None and end is None:
        year = worst_year(causes, unmet, country)
        year, why = year if year is not None else (dates[0].year, "never short and lost no supply: the first year")
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    first = pd.Timestamp(start) if start is not None else dates[0]
    last = pd.Timestamp(end) if end is not None else dates[-1]
    chosen = dates[(dates >= first) & (dates <= last)]
    if not len(chosen):
        raise ValueError(f"no period of the run starts from {first:%Y-%m-%d} to {last:%Y-%m-%d} (the run's periods "
                         f"start {dates[0]:%Y-%m-%d} .. {dates[-1]:%Y-%m-%d})")
    inside = lambda frame: frame[(frame["country"] == country) & frame["date"].isin(chosen)]  # noqa: E731
    mine, used = inside(causes), inside(unmet)
    parts = (mine.groupby(PART_KEYS, as_index=False, sort=False)["t"].sum())
    parts = parts.iloc[np.argsort(-parts["t"].abs().to_numpy(), kind="stable")].reset_index(drop=True)
    at_risk = _at_risk(used)
    return Explanation(country=country, start=chosen[0].date(), end=chosen[-1].date(), why_period=why,
                       demand_t=float(used["demand_t"].sum()), unmet_t=float(used["unmet_t"].sum()), parts=parts,
                       resourced=_resourced(causes, unmet, country, chosen), stockpile=_stockpile(tables, country,
                                                                                                   chosen),
                       parameters=_cited(tables.get("parameters"), country, parts,
                                         set(at_risk["sector"]) if at_risk is not None else set()),
                       at_risk=at_risk)


@dataclass
class EnsembleExplanation:
    """A country's unmet end-use demand over the same periods in each replication of an ensemble: each
    replication's ``Explanation``, and the P5, P50 and P95 of each part (a part absent in a replication is 0
    there). The P50s of the parts need not add up to the P50 of the unmet t; each replication's parts do."""

    country: str
    replications: list[int]
    explanations: list[Explanation]
    why_period: str

    @property
    def start(self) -> dt.date:
        return self.explanations[0].start

    @property
    def end(self) -> dt.date:
        return self.explanations[0].end

    def matrix(self) -> pd.DataFrame:
        """[part, replication] t: each part's t in each replication (0 where it has none)."""
        import pandas as pd

        columns = {r: e.parts.set_index(PART_KEYS)["t"] for r, e in zip(self.replications, self.explanations)}
        return pd.DataFrame(columns).fillna(0.0)

    @property
    def unmet_t(self) -> np.ndarray:
        return np.array([e.unmet_t for e in self.explanations])

    @property
    def parts(self) -> pd.DataFrame:
        """PART_KEYS, p5, p50, p95 (t magnet), largest P50 (in size) first."""
        matrix = self.matrix()
        bands = np.percentile(matrix.to_numpy(), [5, 50, 95], axis=1) if len(matrix) else np.zeros((3, 0))
        frame = matrix.index.to_frame(index=False)
        frame["p5"], frame["p50"], frame["p95"] = bands
        order = np.argsort(-np.abs(frame["p50"].to_numpy()) - 1e-9 * np.abs(frame["p95"].to_numpy()), kind="stable")
        return frame.iloc[order].reset_index(drop=True)

    def text(self, top: int = 8) -> str:
        """The unmet t's band and the largest parts' bands, for the terminal."""
        p5, p50, p95 = np.percentile(self.unmet_t, [5, 50, 95])
        demand = float(np.median([e.demand_t for e in self.explanations]))
        first = self.explanations[0]
        lines = [f"Why {self.country} was short, {self.start:%Y-%m} to {self.end:%Y-%m} ({self.why_period}), "
                 f"over {len(self.replications)} replications:",
                 f"  unmet P5 {p5:,.1f} / P50 {p50:,.1f} / P95 {p95:,.1f} t of a P50 demand of {demand:,.1f} t "
                 f"magnet; each part's P5 / P50 / P95 (t magnet):"]
        parts = self.parts
        for row in parts.head(top).itertuples():
            lines.append(f"  {row.p5:>+11,.1f} {row.p50:>+11,.1f} {row.p95:>+11,.1f}  {first.part_label(row)}")
        if len(parts) > top:
            lines.append(f"  ({len(parts) - top} smaller parts; the P50s of the parts need not add up to the P50 "
                         f"of the unmet t, each replication's parts add up to its own)")
        values = [e.value_at_risk_usd for e in self.explanations]
        if all(v is not None for v in values):
            v5, v50, v95 = np.percentile(values, [5, 50, 95])
            lines.append(f"  gross output at risk (units not made x value per unit; not GDP): P5 {usd(v5)} / "
                         f"P50 {usd(v50)} / P95 {usd(v95)}")
        return "\n".join(lines)


def explain_replications(tables: list[dict[str, pd.DataFrame]], replications: list[int], country: str,
                         start: dt.date | None = None, end: dt.date | None = None) -> EnsembleExplanation:
    """Each replication's explanation (``tables``: its causes and unmet tables) over the same periods: from
    ``start`` to ``end``, by default the calendar year with the most unmet t over all replications (or, where
    none was short, the most supply lost)."""
    import pandas as pd

    why = "the period asked for"
    if start is None and end is None:
        year = worst_year(pd.concat([t["causes"] for t in tables]), pd.concat([t["unmet"] for t in tables]),
                          country)
        if year is not None:
            start, end = dt.date(year[0], 1, 1), dt.date(year[0], 12, 31)
            why = year[1].replace("its worst year", "the worst year over the replications")
    explanations = [explain(t, country, start, end) for t in tables]
    if start is None and end is None:
        why = explanations[0].why_period
    return EnsembleExplanation(country, list(replications), explanations, why)


def _resourced(causes: pd.DataFrame, unmet: pd.DataFrame, country: str, chosen: pd.DatetimeIndex) -> pd.DataFrame:
    """The makers the country bought more from than its reference share in the period: t, and since when
    (the first period of the run, up to the period's end, in which they made up ``RESOURCED_SHARE`` of demand)."""
    import pandas as pd

    more = causes[(causes["country"] == country) & (causes["cause"] == RESOURCED)]
    demand = unmet[unmet["country"] == country].groupby("date")["demand_t"].sum()
    rows = []
    for maker, part in more.groupby("maker"):
        made_up = -part[part["date"].isin(chosen)]["t"].sum()
        if made_up <= 0:
            continue
        by_date = -part.groupby("date")["t"].sum()
        big = by_date[(by_date >= RESOURCED_SHARE * demand.reindex(by_date.index).fillna(0)) &
                      (by_date.index <= chosen[-1])]
        rows.append((maker, made_up, big.index[0] if len(big) else chosen[0]))
    frame = pd.DataFrame(rows, columns=["maker", "t", "since"])
    return frame.sort_values("t", ascending=False, ignore_index=True)


def _stockpile(tables: dict[str, pd.DataFrame], country: str, chosen: pd.DatetimeIndex) -> pd.DataFrame:
    """What the country's strategic stockpile held of each element before the period and at its end."""
    import pandas as pd

    inventory = tables.get("inventory")
    columns = ["element", "t_before", "t_after", "released_t"]
    if inventory is None:
        return pd.DataFrame([], columns=columns)
    pile = inventory[(inventory["country"] == country) & (inventory["stage"] == "stockpile")]
    if pile.empty:
        return pd.DataFrame([], columns=columns)
    levels = pile.pivot_table(index="date", columns="item", values="t", aggfunc="sum").fillna(0.0)
    before = levels[levels.index < chosen[0]]
    before = before.iloc[-1] if len(before) else levels.iloc[0]
    after = levels[levels.index <= chosen[-1]].iloc[-1]
    frame = pd.DataFrame({"element": levels.columns, "t_before": before.values, "t_after": after.values})
    frame["released_t"] = frame["t_before"] - frame["t_after"]
    return frame


def _at_risk(unmet: pd.DataFrame) -> pd.DataFrame | None:
    """The sectors short in ``unmet`` (one country's rows over the period): units not made and their value
    (NaN: not valued). A table without sectors (an ensemble replication's) gives one row of their sum; a
    table without values (written before they were), None."""
    import pandas as pd

    columns = ["sector", "unit", "unmet_units", "value_at_risk_usd"]
    if "value_at_risk_usd" not in unmet:
        return None
    if "sector" not in unmet:
        return pd.DataFrame([("", "", np.nan, float(unmet["value_at_risk_usd"].sum()))], columns=columns)
    short = unmet[unmet["unmet_t"] > 0]
    frame = short.groupby(["sector", "unit"], as_index=False, sort=False)[["unmet_units", "value_at_risk_usd"]]\
        .sum(min_count=1)
    return frame.sort_values("value_at_risk_usd", ascending=False, ignore_index=True)[columns]


def _cited(parameters: pd.DataFrame | None, country: str, parts: pd.DataFrame,
           sectors: set[str] = frozenset()) -> pd.DataFrame:
    """The parameters the parts name: the measures, the makers' plants, the grades that hold the elements they
    ran short of; the country's stockpile; how long switching suppliers takes and the working stocks held;
    the values per unit of ``sectors``."""
    if parameters is None:
        return parameters
    shown = parts[parts["t"].abs() >= 0.05]
    named = set(shown["measure"]) - {""}
    makers = (set(shown["maker"]) | {country}) - {"", "unknown"}
    lacked = {e for joined in shown["element"] for e in joined.split("+") if e}
    words = parameters["value"].map(lambda recipe: set(recipe.replace(",", " ").split()))   # a recipe's elements
    grades = words.map(lambda held: bool(held & lacked))
    subject = parameters["subject"]
    keep = ((subject == "event") & parameters["name"].isin(named)) | \
        ((subject == "magnet plants") & parameters["country"].isin(makers)) | \
        ((subject == "stockpile") & (parameters["country"] == country)) | \
        ((subject == "grade") & grades) | subject.isin(["trade", "working stocks"]) | \
        ((subject == "sector") & (parameters["parameter"] == "value per unit") & parameters["name"].isin(sectors))
    return parameters[keep].reset_index(drop=True)


def read_tables(folder, names: tuple[str, ...] = EXPLAINED_TABLES) -> dict[str, pd.DataFrame]:
    """The tables ``explain`` reads from a results folder (Parquet, else CSV); a FileNotFoundError names a
    missing one."""
    from pathlib import Path

    import pandas as pd

    out = {}
    for name in names:
        stem = Path(folder) / "tables" / name
        if stem.with_suffix(".parquet").exists():
            frame = pd.read_parquet(stem.with_suffix(".parquet"))
        elif stem.with_suffix(".csv").exists():
            frame = pd.read_csv(stem.with_suffix(".csv"), keep_default_na=False,
                                na_values={c: ["", "nan", "NaN"] for c in ("t", "demand_t", "supplied_t", "unmet_t")})
        else:
            raise FileNotFoundError(f"{stem}.parquet (or .csv): not written")
        if "date" in frame:
            frame["date"] = pd.to_datetime(frame["date"])
        out[name] = frame
    return out
