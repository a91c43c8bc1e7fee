"""Headline figures of runs as flat, named values: the rows of a comparison and the columns of a sweep.

A figure is read from a run's ``Summary`` (fresh, or read back from its
``summary.json``) and named ``SUBJECT.NAME``: a country
(``JP.peak_shortfall_share``), a priced element (``Dy.peak_price_multiple``) or
``world`` (``world.first_measure``). Dates are ISO text. A price is the world's,
or with a home market the outside market's; the home market's own peak is
``Dy.home_peak_price_multiple``, and magnet grades are priced subjects too
(``high_temp.peak_price_multiple``).
Runs are compared on the same figures: the countries short in any of them
or whose dependency on China differs between them, their sectors with unmet
demand in any of them, every priced element (and grade).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import did_you_mean
from ..stages import REFINERY
from .summary import Summary, usd

SHORT_T = 1e-6            # cumulative unmet t above which a country counts as short
FOCUS_LIMIT = 6           # countries followed at most
DEPENDENCY_MOVE = 0.02    # a country whose oxide dependency differs by 2 points between runs is followed
PRICE_RISE = 0.005        # a price peak has a date only if it is at least 0.5% above the initial price

COUNTRY_FIGURES = {       # name: (label, unit)
    "peak_shortfall_share": ("peak shortfall", "share"),
    "peak_shortfall_date": ("peak shortfall on", "date"),
    "weeks_to_plant_shortfall": ("weeks to shortfall, plants", "weeks"),
    "weeks_to_shortfall": ("weeks to shortfall, end users", "weeks"),
    "weeks_to_recover_from_peak": ("weeks to recover after peak", "weeks"),
    "cumulative_unmet_t": ("unmet demand", "t magnet"),
    "value_at_risk_usd": ("gross output at risk (not GDP)", "USD"),
}
DEPENDENCY_FIGURES = {    # name: (label, summary key, measure); oxides (separation output), on China
    "oxide_direct_dependency_before": ("oxide from CN, before", "dependency_on_CN_before", "direct"),
    "oxide_direct_dependency_last_year": ("oxide from CN, last year", "dependency_on_CN_after", "direct"),
    "oxide_embedded_dependency_before": ("oxide via CN, before", "dependency_on_CN_before", "embedded"),
    "oxide_embedded_dependency_last_year": ("oxide via CN, last year", "dependency_on_CN_after", "embedded"),
}
DEPENDENCY_NOTE = ("from CN: share of oxide imports bought from China; via CN: share of oxide use that passed "
                   "through China at any stage; before: the year before the first measure")
ELEMENT_FIGURES = {
    "peak_price_multiple": ("peak price", "x initial"),
    "peak_price_date": ("peak price on", "date"),    # None unless the price rose by PRICE_RISE
}
HOME_FIGURES = {          # with a home market: the same in it; ELEMENT_FIGURES are then the outside market's
    "home_peak_price_multiple": ("peak price, home market", "x initial"),
    "home_peak_price_date": ("peak price on, home market", "date"),
}
WORLD_FIGURES = {"first_measure": ("first export measure", "date")}
SECTOR_PREFIX = "unmet_"  # unmet_<sector>: unmet demand of one sector in its product units


@dataclass(frozen=True)
class Headline:
    """One headline figure: whose (country, element or world), which, its label and unit."""

    subject: str
    name: str
    label: str
    unit: str

    @property
    def key(self) -> str:
        return f"{self.subject}.{self.name}"


# ---------------------------------------------------------------- which figures
def focus_countries(summaries: Sequence[Summary], limit: int = FOCUS_LIMIT) -> list[str]:
    """The countries runs are compared on: those short in any run, most unmet t first; then those whose oxide
    dependency on China differs between runs by ``DEPENDENCY_MOVE`` or more, most first; without either, JP and
    KR (or the largest users)."""
    worst: dict[str, float] = {}
    for summary in summaries:
        for country, v in summary.countries.items():
            worst[country] = max(worst.get(country, 0.0), v.cumulative_unmet_t or 0.0)
    short = sorted((c for c, t in worst.items() if t > SHORT_T), key=lambda c: -worst[c])
    spread: dict[str, float] = {}
    for country in worst:
        for name in DEPENDENCY_FIGURES:
            got = [v for v in (value(s, Headline(country, name, "", "share")) for s in summaries) if v is not None]
            if len(got) > 1:
                spread[country] = max(spread.get(country, 0.0), max(got) - min(got))
    moved = sorted((c for c, d in spread.items() if d >= DEPENDENCY_MOVE and c not in short),
                   key=lambda c: -spread[c])
    if short or moved:
        return (short + moved)[:limit]
    default = [c for c in ("JP", "KR") if c in worst]
    if default:
        return default
    demand = {c: max((s.countries[c].demand_t or 0.0) if c in s.countries else 0.0 for s in summaries)
              for c in worst}
    return sorted(demand, key=lambda c: -demand[c])[:2]


def headline(subject: str, name: str, sector_units: Mapping[str, str]) -> Headline:
    """The figure ``name`` of ``subject`` with its label and unit; a sector's unmet demand in its sector's unit
    (``sector_units``: sector -> unit, as the scenario gives them)."""
    if name.startswith(SECTOR_PREFIX):
        sector = name[len(SECTOR_PREFIX):]
        return Headline(subject, name, f"unmet {sector}", sector_units.get(sector, "unit"))
    if name in DEPENDENCY_FIGURES:
        return Headline(subject, name, DEPENDENCY_FIGURES[name][0], "share")
    label, unit = (COUNTRY_FIGURES | ELEMENT_FIGURES | HOME_FIGURES | WORLD_FIGURES)[name]
    return Headline(subject, name, label, unit)


def figures_for(summaries: Sequence[Summary], countries: Iterable[str] | None = None) -> list[Headline]:
    """The figures runs are compared on: world, then each country's block, then each priced element."""
    countries = list(dict.fromkeys(countries)) if countries is not None else focus_countries(summaries)
    out = [Headline("world", name, label, unit) for name, (label, unit) in WORLD_FIGURES.items()]
    for country in countries:
        out += [Headline(country, name, label, unit) for name, (label, unit) in COUNTRY_FIGURES.items()]
        sectors: dict[str, str] = {}
        for summary in summaries:
            if country in summary.countries:
                for sector, v in summary.countries[country].unmet_by_sector.items():
                    sectors.setdefault(sector, v.unit or "unit")
        out += [Headline(country, SECTOR_PREFIX + sector, f"unmet {sector}", unit)
                for sector, unit in sectors.items()]
        out += [Headline(country, name, label, "share") for name, (label, _, _) in DEPENDENCY_FIGURES.items()]
    elements = dict.fromkeys(e for summary in summaries for e in summary.prices)
    home = {e for summary in summaries for e in summary.home_prices}
    for element in elements:
        out += [Headline(element, name, label, unit) for name, (label, unit) in ELEMENT_FIGURES.items()]
        if element in home:
            out += [Headline(element, name, label, unit) for name, (label, unit) in HOME_FIGURES.items()]
    return out


def value(summary: Summary, figure: Headline) -> Any:
    """The figure's value in one run's summary: a number, an ISO date, or None (never happened, not there)."""
    if figure.subject == "world":
        return iso(getattr(summary, figure.name))
    if figure.name in ELEMENT_FIGURES or figure.name in HOME_FIGURES:
        price = (summary.prices if figure.name in ELEMENT_FIGURES else summary.home_prices).get(figure.subject)
        if price is None:
            return None
        if figure.name.endswith("peak_price_multiple"):
            return price.peak_multiple
        return iso(price.peak_date) if (price.peak_multiple or 0.0) >= 1.0 + PRICE_RISE else None
    country = summary.countries.get(figure.subject)
    if country is None:
        return None
    if figure.name in COUNTRY_FIGURES:
        return iso(getattr(country, figure.name))
    if figure.name in DEPENDENCY_FIGURES:
        _, key, measure = DEPENDENCY_FIGURES[figure.name]
        dependency = getattr(country, key).get(REFINERY)
        return getattr(dependency, measure) if dependency is not None else None
    if figure.name.startswith(SECTOR_PREFIX):
        sector = country.unmet_by_sector.get(figure.name[len(SECTOR_PREFIX):])
        return sector.unmet_units if sector else 0.0
    raise KeyError(figure.key)


def iso(v: Any) -> Any:
    """A date as ISO text (how figures, tables and manifests hold dates); anything else as it is."""
    return v.isoformat() if isinstance(v, dt.date) else v


def lookup(name: str, figures: Sequence[Headline]) -> Headline | None:
    """The figure named ``SUBJECT.NAME`` among ``figures``."""
    return next((f for f in figures if f.key == name), None)


def metric_names(countries: Iterable[str], sectors: Iterable[str], elements: Iterable[str],
                 home: bool = False) -> list[str]:
    """Every ``SUBJECT.NAME`` a scenario with these countries, sectors and priced elements (and grades) can
    report; ``home``: it has a home market."""
    per_country = list(COUNTRY_FIGURES) + [SECTOR_PREFIX + s for s in sectors] + list(DEPENDENCY_FIGURES)
    per_price = list(ELEMENT_FIGURES) + (list(HOME_FIGURES) if home else [])
    return ([f"world.{n}" for n in WORLD_FIGURES] + [f"{c}.{n}" for c in countries for n in per_country]
            + [f"{e}.{n}" for e in elements for n in per_price])


def parse_metric(name: str, countries: Sequence[str], sectors: Sequence[str],
                 elements: Sequence[str], home: bool = False) -> tuple[str | None, str]:
    """``JP.weeks_to_shortfall`` -> ('JP', ...); ``JP`` -> its peak shortfall; ``Dy`` -> its peak price;
    ``weeks_to_shortfall`` -> (None, ...): the most affected country's, chosen after the runs.

    Raises ValueError with a did-you-mean when the name is none of these.
    """
    per_country = list(COUNTRY_FIGURES) + [SECTOR_PREFIX + s for s in sectors] + list(DEPENDENCY_FIGURES)
    if name in countries:
        return name, "peak_shortfall_share"
    if name in elements:
        return name, "peak_price_multiple"
    if name in per_country:
        return None, name
    if name in WORLD_FIGURES:
        return "world", name
    subject, _, figure = name.partition(".")
    known = metric_names(countries, sectors, elements, home)
    if name in known:
        return subject, figure
    candidates = known + per_country + list(countries) + list(elements)
    hint = did_you_mean(name, candidates)
    raise ValueError(f"unknown metric {name!r}{hint}; write COUNTRY (JP), ELEMENT (Dy), a figure "
                     f"({', '.join(list(COUNTRY_FIGURES)[:4])}, ...) or COUNTRY.FIGURE (JP.weeks_to_shortfall)")


# ---------------------------------------------------------------- numbers and text
def number(value: Any, unit: str) -> float | None:
    """A figure as a number: dates as days since 1970-01-01, so differences of dates are in days."""
    if value is None:
        return None
    if unit == "date":
        return float((dt.date.fromisoformat(str(value)) - dt.date(1970, 1, 1)).days)
    return float(value)


def difference(a: Any, b: Any, unit: str) -> float | None:
    """``b - a``: for dates in days, for shares in share (0.1 = 10 percentage points); None if either is."""
    x, y = number(a, unit), number(b, unit)
    return None if x is None or y is None else y - x


def text(value: Any, unit: str) -> str:
    """A figure for the terminal: '89.9%', '2026-08-10', '15', '72,719', 'x1.32', '—'."""
    if value is None:
        return "—"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "date":
        return str(value)
    if unit == "weeks":
        return f"{value:.0f}"
    if unit == "x initial":
        return f"x{value:.2f}"
    if unit == "USD":
        return usd(value)
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2g}" if value else "0"


def difference_text(a: Any, b: Any, unit: str) -> str:
    """A difference for the terminal: '+74.1 pp', '+21 d', '+7', '-1,234', '+0.31'; '' when either is None."""
    d = difference(a, b, unit)
    if d is None:
        return ""
    if abs(d) < 1e-12:
        return "="
    if unit == "share":
        out = f"{100 * d:+.1f} pp"
    elif unit == "date":
        out = f"{d:+.0f} d"
    elif unit == "weeks":
        out = f"{d:+.0f}"
    elif unit == "x initial":
        out = f"{d:+.2f}"
    elif unit == "USD":
        out = usd(d, sign=True)
    else:
        out = f"{d:+,.0f}" if abs(d) >= 10 else f"{d:+,.2g}"
    return "±" + out[1:] if not any(ch in "123456789" for ch in out) else out   # rounds to zero, not zero
