"""The headline figures of a run as a typed record: world shares, shortfall by country, dependency on China
before and after the first measure, price peaks, the mass balance, what was drawn.

``summarise(results)`` computes it from the recorder; ``Summary.to_dict()`` is what ``summary.json``
holds and ``Summary.from_dict`` reads one back, so a saved run stands in for a fresh one. Units: t magnet
for demand and shortfall, weeks, shares in [0, 1], USD/kg; dates are ``datetime.date`` (ISO text in JSON).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..scenario import Scenario, drawn_inputs
from ..stages import STAGES
from ..world import Network
from .recorder import Recorder

WARN_SHARE = 0.5  # a stockpile in days of own oxide use is flagged when that use is under half its end users'
SHORT = 0.005   # a country is short when more than 0.5% of its demand goes unmet
ROUNDING = 1e-9  # unmet below this share of a step's demand is arithmetic's rounding, not a shortfall
SHOWN_T = 1e-12  # t: less is rounding's residue: a table leaves it out, and no share is taken of it
ON = "CN"       # dependency is measured on China
PROVENANCE_READ = ("touched",)  # of the provenance rows, a summary reads what passed through China


class Run(Protocol):
    """What a summary is made from: a run's recorder, world and mass balance (``Results`` is one)."""

    scenario: Scenario          # as written
    world: Scenario             # as this run drew it
    net: Network
    raw: Recorder
    seed: int
    balance: dict[str, np.ndarray]   # the mass balance by element (t REO): opening, mined, ..., residual

    @property
    def first_measure(self) -> dt.date | None:
        """Start of the earliest export restriction."""


@dataclass(frozen=True)
class WorldShares:
    """The chain's first year: world mine output, kt REO, and shares of it by stage."""

    mined_kt_first_year: float
    china_share_mining: float | None
    china_share_refining: float | None
    china_share_magnets: float | None
    us_share_mining: float | None


@dataclass(frozen=True)
class SectorShortfall:
    """A sector's cumulative unmet demand, t magnet and in its product units (vehicles not built, MW ...),
    and those units at the sector's value per unit, USD: gross output at risk, not GDP (None: not valued)."""

    unmet_t: float
    unit: str
    unmet_units: float
    value_at_risk_usd: float | None = None


@dataclass(frozen=True)
class Dependency:
    """Direct: the share of a country's imports of a stage's product bought from China; embedded: the share
    of its consumption of it that passed through China at any stage. None where there is none."""

    direct: float | None
    embedded: float | None


@dataclass(frozen=True)
class CountrySummary:
    """One country's shortfall of end-use magnet demand, and its dependency on China by stage."""

    demand_t: float
    cumulative_unmet_t: float
    peak_shortfall_share: float
    peak_shortfall_t_per_week: float
    peak_shortfall_date: dt.date | None
    weeks_to_shortfall: float | None               # from the first measure, end users
    weeks_to_plant_shortfall: float | None         # from the first measure, magnet plants
    weeks_to_recover_from_peak: float | None
    unmet_by_sector: dict[str, SectorShortfall]
    dependency_on_CN_before: dict[str, Dependency]     # by stage, the year before the first measure
    dependency_on_CN_after: dict[str, Dependency]      # by stage, the run's last year
    value_at_risk_usd: float | None = None     # gross output at risk of the valued sectors, USD (None: older run)

    @property
    def unvalued_sectors(self) -> tuple[str, ...]:
        """Sectors with unmet demand and no value per unit: not in ``value_at_risk_usd`` (none named of a run
        saved before there were values)."""
        if self.value_at_risk_usd is None:
            return ()
        return tuple(s for s, v in self.unmet_by_sector.items() if v.value_at_risk_usd is None)

    @property
    def at_risk_text(self) -> str:
        """'$1.23 bn'; '$1.23 bn + not valued' where some sectors short have no value; 'not valued' where
        none short has one; '—' of a run saved before there were values."""
        if self.value_at_risk_usd is None:
            return "—"
        valued = any(v.value_at_risk_usd is not None for v in self.unmet_by_sector.values())
        if self.unvalued_sectors and not valued:
            return "not valued"
        return usd(self.value_at_risk_usd) + (" + not valued" if self.unvalued_sectors else "")


@dataclass(frozen=True)
class PricePeak:
    """A priced element's (or a magnet grade's) highest price over the run in one market. A grade whose recipe
    is not fully priced has a multiple only (USD/kg None)."""

    initial_usd_per_kg: float | None
    peak_usd_per_kg: float | None
    peak_multiple: float
    peak_date: dt.date


@dataclass(frozen=True)
class StockpileHolding:
    """A strategic stockpile at the calendar's start: how its size was given, and what it held then, in t of
    each oxide and in days of the country's own oxide use and of its end users' magnet content (None where
    there is none of that use)."""

    sized_in: str                                   # "days" or "t"
    days: float | None                              # the size given, with sized_in "days"
    days_of: str                                    # what its days count: "oxide_use" or "end_use"
    t_at_start: dict[str, float]                    # by element
    days_of_oxide_use_at_start: dict[str, float | None]
    days_of_end_use_at_start: dict[str, float | None]


@dataclass(frozen=True)
class Summary:
    """A run's headline figures (see the module docstring)."""

    scenario: str
    title: str | None
    seed: int
    start: dt.date
    end: dt.date
    step_days: int
    first_measure: dt.date | None
    world: WorldShares
    countries: dict[str, CountrySummary]
    prices: dict[str, PricePeak]     # by element: the world price, or with a home market the outside market's
    # with a home market only: the home market's peaks; then both hold grades too (keyword-only, so that it
    # stands beside `prices` in summary.json although it has a default)
    home_prices: dict[str, PricePeak] = field(default_factory=dict, kw_only=True)
    stockpiles: dict[str, StockpileHolding] = field(default_factory=dict, kw_only=True)   # by country
    warnings: list[str] = field(default_factory=list, kw_only=True)   # inputs that may not say what was meant
    mass_balance_max_relative_residual: float
    drawn: dict[str, Any] = field(default_factory=dict)    # key path -> what this run drew of uncertain inputs
    replication: int | None = None                        # of an ensemble

    def to_dict(self) -> dict:
        """As ``summary.json`` holds it: dates as ISO text; ``home_prices``, ``stockpiles``, ``warnings``,
        ``drawn`` and ``replication`` only when set."""
        out = _plain(self)
        for name in ("home_prices", "stockpiles", "warnings", "drawn"):
            if not out[name]:
                del out[name]
        if self.replication is None:
            del out["replication"]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Summary:
        """A summary read back from ``summary.json``."""
        return _typed(cls, data)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


_RECORD = {"world": WorldShares}          # fields holding a record, and fields holding a map of records
_RECORDS = {"countries": CountrySummary, "prices": PricePeak, "home_prices": PricePeak,
            "unmet_by_sector": SectorShortfall, "stockpiles": StockpileHolding,
            "dependency_on_CN_before": Dependency, "dependency_on_CN_after": Dependency}
_DATES = {"start", "end", "first_measure", "peak_shortfall_date", "peak_date"}


def _typed(cls: type, data: dict) -> Any:
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name in _DATES and value is not None:
            value = dt.date.fromisoformat(value)
        elif f.name in _RECORD:
            value = _typed(_RECORD[f.name], value)
        elif f.name in _RECORDS:
            value = {k: _typed(_RECORDS[f.name], v) for k, v in value.items()}
        values[f.name] = value
    return cls(**values)


def usd(value: float, sign: bool = False) -> str:
    """Money for the terminal: '$1.23 bn', '$456 M', '$1.5 M' (three figures), '$12,345', '$0', NaN '—';
    ``sign``: '+$1.23 bn'."""
    if value != value:
        return "—"
    size = abs(value)
    out = (f"${size / 1e9:,.2f} bn" if size >= 999.5e6 else f"${float(f'{size / 1e6:.3g}'):,g} M" if size >= 1e6
           else f"${size:,.0f}")
    return ("-" if value < 0 else "+" if sign else "") + out


def summarise(results: Run) -> Summary:
    """Headline figures of a run, from its recorder."""
    net, raw = results.net, results.raw
    n = len(net.dates)
    year = slice(0, min(n, int(round(365.25 / net.step_days))))
    first = results.first_measure
    k0 = next((k for k, d in enumerate(net.dates) if d >= first), n) if first else n
    before = slice(max(0, k0 - len(range(*year.indices(n)))), k0) if first and k0 > 0 else year
    after = slice(max(0, n - len(range(*year.indices(n)))), n)

    def share(array, country, window):
        total = array[window].sum()
        return float(array[window][:, net.index(country)].sum() / total) if total > 0 and country in \
            net.countries else None

    world = WorldShares(
        mined_kt_first_year=float(raw.mined[year].sum() / 1e3),
        china_share_mining=share(raw.mined.sum(axis=2), "CN", year),
        china_share_refining=share(raw.separated.sum(axis=2), "CN", year),
        china_share_magnets=share(raw.magnets_made.sum(axis=2), "CN", year),
        us_share_mining=share(raw.mined.sum(axis=2), "US", year),
    )
    countries = {}
    demand = raw.demand.sum(axis=2)
    unmet = np.clip(demand - raw.supplied.sum(axis=2), 0, None)
    unmet[unmet <= ROUNDING * demand] = 0.0
    planned, made = raw.magnets_planned.sum(axis=2), raw.magnets_made.sum(axis=2)
    step_weeks = net.step_days / 7.0
    dependency_before, dependency_after = dependency_window(results, before), dependency_window(results, after)
    for c, country in enumerate(net.countries):
        if demand[:, c].sum() <= 0 and planned[:, c].sum() <= 0:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            short = np.where(demand[:, c] > 0, unmet[:, c] / np.where(demand[:, c] > 0, demand[:, c], 1), 0.0)
            plant_short = np.where(planned[:, c] > SHOWN_T, 1 - made[:, c] / np.where(planned[:, c] > SHOWN_T,
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
                not_made = float(by_sector[s] * 1000 / net.magnet_kg_per_unit[s])
                value = net.value_usd_per_unit[s]
                units[sector] = SectorShortfall(unmet_t=float(by_sector[s]), unit=net.units[s], unmet_units=not_made,
                                                value_at_risk_usd=None if np.isnan(value) else not_made * float(value))
        countries[country] = CountrySummary(
            demand_t=float(demand[:, c].sum()),
            cumulative_unmet_t=float(unmet[:, c].sum()),
            peak_shortfall_share=float(short[peak]),
            peak_shortfall_t_per_week=float(unmet[peak, c] / step_weeks),
            peak_shortfall_date=net.dates[peak] if short[peak] > 0 else None,
            weeks_to_shortfall=float((hit[0] - k0) * step_weeks) if (first and hit.size) else None,
            weeks_to_plant_shortfall=float((plant_hit[0] - k0) * step_weeks) if (first and plant_hit.size) else None,
            weeks_to_recover_from_peak=recovered,
            unmet_by_sector=units,
            dependency_on_CN_before=dependency_before.get(country, {}),
            dependency_on_CN_after=dependency_after.get(country, {}),
            value_at_risk_usd=float(sum(v.value_at_risk_usd for v in units.values()
                                        if v.value_at_risk_usd is not None)),
        )
    holdings = stockpile_holdings(results)
    balance = results.balance          # its arrays, not the table: a run's summary needs no pandas
    scale = np.maximum(balance["opening"] + balance["mined"] + balance["recycled"], 1.0)
    return Summary(
        scenario=results.scenario.name, title=results.scenario.title, seed=results.seed,
        start=net.dates[0], end=net.dates[-1], step_days=net.step_days, first_measure=first,
        world=world, countries=countries, prices=price_peaks(net, raw, net.outside),
        home_prices=price_peaks(net, raw, 0) if net.home_market is not None else {},
        stockpiles=holdings, warnings=stockpile_warnings(results, holdings),
        mass_balance_max_relative_residual=float((np.abs(balance["residual"]) / scale).max()),
        drawn=drawn_inputs(results.scenario, results.world),
    )


def price_peaks(net: Network, raw: Recorder, market: int) -> dict[str, PricePeak]:
    """The highest price in one market of each priced element, then (with a home market) of each grade."""
    peaks = {}
    series = [(element, net.initial_price[e], raw.price[:, market, e], raw.price_multiple[:, market, e])
              for e, element in enumerate(net.elements) if not np.isnan(net.initial_price[e])]
    if net.home_market is not None:
        series += [(grade, net.magnet_initial_price[g], raw.magnet_price[:, market, g],
                    raw.magnet_price_multiple[:, market, g]) for g, grade in enumerate(net.grades)]
    for item, initial, price, multiple in series:
        k = int(np.argmax(multiple))
        peaks[item] = PricePeak(initial_usd_per_kg=None if np.isnan(initial) else float(initial),
                                peak_usd_per_kg=None if np.isnan(price[k]) else float(price[k]),
                                peak_multiple=float(multiple[k]), peak_date=net.dates[k])
    return peaks


def dependency_window(results: Run, window: slice) -> dict[str, dict[str, Dependency]]:
    """Direct and embedded dependency on China of every country over a window of steps, by stage."""
    net, raw = results.net, results.raw
    if ON not in net.countries:
        return {}
    j, touched = net.index(ON), net.tags.row("touched", net.index(ON))
    out: dict[str, dict[str, Dependency]] = {country: {} for country in net.countries}
    consumed_by_stage = raw.consumed_tags.total(window)                        # [stage, country, provenance row]
    for s, stage in enumerate(STAGES):
        imports = raw.exports[stage].total(window, items_first=True)           # [buyer, supplier] t
        np.fill_diagonal(imports, 0.0)                                          # from other countries
        total = imports.sum(axis=1)                 # each buyer's row summed as NumPy sums the row alone
        consumed = consumed_by_stage[s]
        with np.errstate(invalid="ignore", divide="ignore"):
            direct, embedded = imports[:, j] / total, consumed[:, touched] / consumed[:, 0]
        for b, country in enumerate(net.countries):
            if total[b] > 0 or consumed[b, 0] > 0:
                out[country][stage] = Dependency(direct=float(direct[b]) if total[b] > 0 else None,
                                                 embedded=float(embedded[b]) if consumed[b, 0] > 0 else None)
    return out


def stockpile_holdings(results: Run) -> dict[str, StockpileHolding]:
    """What each country's strategic stockpile held at the calendar's start, and how its size was given."""
    net, raw = results.net, results.raw
    use, content = raw.use_oxide_opening, net.end_use_content(0)

    def days(t: float, per_day: float) -> float | None:
        return float(t / per_day) if per_day > 0 else None

    out = {}
    for country, pile in results.world.stockpiles.items():
        c = net.index(country)
        held = [(e, net.elements.index(e)) for e in pile.held]
        out[country] = StockpileHolding(
            sized_in="t" if pile.t is not None else "days",
            days=None if pile.days is None else float(pile.days), days_of=pile.days_of,
            t_at_start={e: float(raw.stockpile_opening[c, i]) for e, i in held},
            days_of_oxide_use_at_start={e: days(raw.stockpile_opening[c, i], use[c, i]) for e, i in held},
            days_of_end_use_at_start={e: days(raw.stockpile_opening[c, i], content[c, i]) for e, i in held})
    return out


def stockpile_warnings(results: Run, holdings: dict[str, StockpileHolding]) -> list[str]:
    """A stockpile sized in days of the country's own oxide use where, at the start, that use is under
    ``WARN_SHARE`` of the element content of its end users' magnets, for an element it holds that those
    magnets contain: the country buys its magnets made, so days of its oxide use hold little of what its end
    users need."""
    net, use, content = results.net, results.raw.use_oxide_opening, results.net.end_use_content(0)
    out = []
    for country, h in holdings.items():
        if h.sized_in != "days" or h.days_of != "oxide_use" or not h.days:
            continue
        c = net.index(country)
        shares = {e: use[c, i] / content[c, i] for e in h.t_at_start
                  if content[c, i := net.elements.index(e)] > 0}
        low = {e: share for e, share in shares.items() if share < WARN_SHARE}
        if not low:
            continue
        uses = ", ".join(f"{100 * share:.0f}% of its end users' {e}" for e, share in low.items())
        held = ", ".join(f"{h.t_at_start[e]:.3g} t of {e} ({h.days_of_end_use_at_start[e]:.0f} days of end use)"
                         for e in low)
        out.append(f"{country}'s stockpile is {h.days:g} days of its own oxide use, and that use is only {uses}: "
                   f"it holds {held} at the start. {country} buys most of its magnets made; to size the "
                   f"stockpile by what its end users need, give days_of: end_use or t: (tonnes per element).")
    return out
