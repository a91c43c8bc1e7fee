"""Briefing plots of one run: shortfall, days of cover, prices, dependency on China, and the chain's flows.

``briefing(results, folder)`` writes five PNGs an analyst can drop into a
briefing, each footnoted with the scenario and seed.
"""
from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from ..stages import MAGNET, REFINERY
from ..world.markets import HOME, WORLD
from .flows import flows_figure
from .style import (
    ELEMENT_COLOURS,
    ELEMENT_STYLES,
    MARKET_STYLES,
    colour,
    date_axis,
    figure,
    item_colour,
    legend_below,
    legend_outside,
    mark_events,
    moves,
    multiple_axis,
    multiple_range,
    new_figure,
    note_empty,
    save_figure,
    tonnage,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results.periods import Period
    from ..results.tables import Results

COVER_HEADROOM = 1.08             # a days-of-cover axis ends this far above the highest cover in its panel
COVER_MIN_DAYS = 10.0             # ... and no lower than this many days
COVER_CAP_DAYS = 365.0            # ... and no higher: a stock barely used has a cover of 1e20 days, read as 'a year+'


def usd(price: float) -> str:
    """A price as read on a legend: 810, 1,340; 56.1, 2.01, 0.462 (three figures below 100)."""
    return f"{price:,.0f}" if price >= 100 else f"{price:.3g}"


FIGURES = ("shortfall", "days_of_cover", "prices", "dependency", "flows")


def briefing(results: Results, folder: pathlib.Path, countries: tuple[str, ...] | None = None,
             flows_periods: Sequence[Period | str] | None = None,
             figures: Sequence[str] = FIGURES) -> list[pathlib.Path]:
    """Write the briefing PNGs of a run into ``folder`` (``figures``: all five by default, or some of
    ``FIGURES``); return their paths.

    ``countries`` are the ones the cover and dependency plots follow; by
    default the (up to four) countries with the largest cumulative shortfall.
    ``flows_periods`` are the flows chart's periods (``2026``, ``2026-Q1``, ``Period``); by default the
    year before the first export measure and the first year of it.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    focus = briefing_countries(results, countries)
    note = f"Scenario {results.scenario.name} (seed {results.seed}): {results.scenario.title}"
    draw = {"shortfall": lambda: shortfall_figure(results),
            "days_of_cover": lambda: cover_figure(results, focus),
            "prices": lambda: prices_figure(results),
            "dependency": lambda: dependency_figure(results, focus),
            "flows": lambda: flows_figure(results, flows_periods)}
    return [save_figure(draw[name](), folder / f"{name}.png", note,
                        events=None if name == "flows" else results.events) for name in figures]


def briefing_countries(results: Results, countries: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The countries to follow: given ones, else the 4 most short (cumulative unmet t), else JP and KR."""
    if countries:
        return tuple(countries)
    stats = results.summary().countries
    short = sorted((c for c, v in stats.items() if v.cumulative_unmet_t > 1e-6),
                   key=lambda c: -stats[c].cumulative_unmet_t)
    if short:
        return tuple(short[:4])
    default = tuple(c for c in ("JP", "KR") if c in results.countries)
    return default or tuple(sorted(stats, key=lambda c: -stats[c].demand_t)[:2])


def _measure_line(ax: Axes, results: Results, label: bool = True) -> None:
    """A line at every start and end of the run's events, numbered as in the key under the figure, so that
    'before/after' reads at a glance (``style.mark_events``)."""
    mark_events(ax, results.events, label)


# ---------------------------------------------------------------- 1 shortfall
def shortfall_figure(results: Results) -> Figure:
    """Monthly unmet end-use magnet demand as a share of each country's demand, one line per short country."""
    unmet = results.table("unmet", "month")
    fig, ax = new_figure()
    ax.set_title("Unmet end-use magnet demand, share of each country's demand (monthly, %)", loc="left",
                 fontweight="bold")
    by = unmet.groupby(["date", "country"], as_index=False)[["demand_t", "unmet_t"]].sum()
    total = by.groupby("country")["unmet_t"].sum()
    short = total[total > 1e-6].sort_values(ascending=False)
    if short.empty:
        note_empty(ax, "no country goes short")
    by["share"] = by["unmet_t"] / by["demand_t"].where(by["demand_t"] > 0)
    lines = dict(tuple(by.groupby("country", sort=False)))
    for country, cumulative in short.items():
        line = lines[country].sort_values("date")
        ax.plot(line["date"], line["share"], color=colour(country), lw=1.8,
                label=f"{country}  {tonnage(cumulative)}")
    ax.set_ylim(0, 1.0 if short.empty else min(1.0, max(0.05, float(by["share"].max()) * 1.1)))
    ax.set_xlim(results.dates[0], results.dates[-1])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("unmet / demand (t magnet)")
    ax.grid(alpha=0.3)
    date_axis(ax)
    _measure_line(ax, results)
    if not short.empty:
        legend_outside(ax, fontsize=8, title="cumulative unmet,\nt magnet", title_fontsize=8,
                       alignment="left")
    return fig


# ---------------------------------------------------------------- 2 days of cover
def _monthly(frame: pd.DataFrame, dates: pd.DatetimeIndex, value: str) -> pd.Series:
    """A country/item series on every month of the run; months missing from the table held no stock: 0."""
    return frame.set_index("date")[value].reindex(dates).fillna(0.0)


def cover_figure(results: Results, countries: tuple[str, ...]) -> Figure:
    """Days of cover of oxide stocks (Dy, Tb solid; NdPr dashed) per country, and strategic stockpiles in t."""
    inventory = results.table("inventory", "month")
    months = pd.DatetimeIndex(sorted(inventory["date"].unique()))
    countries = tuple(countries)[:4] or ("JP",)
    fig = figure()
    grid = fig.add_gridspec(2, len(countries), height_ratios=(2.2, 1.0))
    fig.suptitle("Days of cover of working oxide stocks (days of the country's own use), and strategic stockpiles",
                 x=0.01, ha="left", fontweight="bold", fontsize=11)
    oxides = inventory[(inventory["stage"] == REFINERY) & inventory["country"].isin(countries)
                       & inventory["item"].isin(tuple(ELEMENT_COLOURS))]
    covers = dict(tuple(oxides.groupby("country", sort=False)["days_of_cover"]))
    lines = dict(tuple(oxides.groupby(["country", "item"], sort=False)))
    first = None
    for k, country in enumerate(countries):
        ax = fig.add_subplot(grid[0, k], sharex=first)     # each its own days: one country's cover hides none
        first = first or ax
        top = cover_top(covers.get(country, pd.Series([], dtype=float)))
        for item, tint in ELEMENT_COLOURS.items():
            rows = lines.get((country, item))
            if rows is None:
                continue
            cover = _monthly(rows, months, "days_of_cover").clip(upper=top)
            ax.plot(months, cover, color=tint, ls=ELEMENT_STYLES[item], lw=1.5, label=item)
        if top >= COVER_CAP_DAYS * COVER_HEADROOM:
            ax.annotate(f"above {COVER_CAP_DAYS:.0f} d: on the top edge", xy=(0.99, 0.99), xycoords="axes fraction",
                        ha="right", va="top", fontsize=6, color="0.35")
        if not ax.lines:
            note_empty(ax, f"{country} holds and uses\nno Dy, Tb or\nNdPr oxide", size=8)
        ax.set_title(country, fontweight="bold", color=colour(country))
        ax.set_ylim(0, top)
        if len(months):
            ax.set_xlim(months[0], months[-1])
        ax.grid(alpha=0.3)
        date_axis(ax, maxticks=4 if len(countries) > 2 else 6)
        _measure_line(ax, results, label=k == 0)
        if k == 0:
            ax.set_ylabel("days of cover")
    handles = [Line2D([], [], color=ELEMENT_COLOURS[e], ls=ELEMENT_STYLES[e], lw=1.5, label=f"{e} oxide")
               for e in ELEMENT_COLOURS]
    legend_outside(ax, handles=handles, fontsize=7)
    _stockpile_panel(fig.add_subplot(grid[1, :]), inventory, months, countries, results)
    return fig


def cover_top(cover: pd.Series) -> float:
    """The top of a days-of-cover axis: a little above the highest cover shown, at least ``COVER_MIN_DAYS``
    and at most a little above ``COVER_CAP_DAYS`` (higher covers are drawn on the top edge)."""
    cover = pd.Series(cover, dtype=float)
    highest = min(float(cover.max()), COVER_CAP_DAYS) if cover.notna().any() else 0.0
    return max(COVER_MIN_DAYS, highest * COVER_HEADROOM)


def _stockpile_panel(ax: Axes, inventory: pd.DataFrame, months: pd.DatetimeIndex, countries: tuple[str, ...],
                     results: Results) -> None:
    """Strategic stockpiles (t oxide) of the followed countries; NdPr on its own right-hand scale."""
    piles = inventory[(inventory["stage"] == "stockpile") & inventory["country"].isin(countries)
                      & inventory["item"].isin(tuple(ELEMENT_COLOURS))]
    ax.set_title("Strategic stockpiles, t oxide", loc="left", fontsize=9)
    ax.grid(alpha=0.3)
    if len(months):
        ax.set_xlim(months[0], months[-1])
    date_axis(ax)
    _measure_line(ax, results, label=False)
    if piles.empty:
        note_empty(ax, f"no strategic stockpiles of Dy, Tb or NdPr in {', '.join(countries)}")
        ax.set_yticks([])
        return
    right = ax.twinx() if (piles["item"] == "NdPr").any() else None
    handles = []
    for (country, item), rows in piles.groupby(["country", "item"]):
        target = right if item == "NdPr" else ax
        series = _monthly(rows, months, "t")
        (line,) = target.plot(months, series, color=ELEMENT_COLOURS[item], ls=ELEMENT_STYLES[item], lw=1.5,
                              label=f"{country} {item}" + (" (right)" if item == "NdPr" else ""))
        if piles["country"].nunique() > 1:
            line.set_marker("o" if countries.index(country) % 2 == 0 else "s")
            line.set_markevery(12)
            line.set_markersize(3)
        handles.append(line)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("t (Dy, Tb)", fontsize=8)
    if right is not None:
        right.set_ylim(bottom=0)
        right.set_ylabel("t (NdPr)", fontsize=8)
    legend_outside(right if right is not None else ax, handles=handles, fontsize=7,
                   bbox_to_anchor=(1.09 if right is not None else 1.01, 1.0), ncol=1 if len(handles) < 5 else 2)


# ---------------------------------------------------------------- 3 prices
def prices_figure(results: Results) -> Figure:
    """Monthly mean price of each priced oxide as a multiple of its initial price (log scale); with a home
    market, each market's (outside it solid, in it dashed) and, in a second panel, each magnet grade's."""
    prices = results.table("prices", "month")
    home = results.scenario.prices.home_market
    summary = results.summary()
    title = "multiple of the initial price (monthly mean, log scale)"
    below = home is not None
    if home is None:
        fig, ax = new_figure()
        ax.set_title(f"Oxide prices, {title}", loc="left", fontweight="bold")
        _price_panel(ax, results, prices, "element", summary.prices, "no priced elements", below)
        return fig
    fig, axes = new_figure(ncols=2)         # each panel its own scale: a magnet dilutes its elements' spikes
    fig.suptitle(f"Prices outside {home} (solid) and in {home} (dashed), {title}", x=0.01, ha="left",
                 fontweight="bold", fontsize=11)
    for ax, name, frame, key in ((axes[0], "Oxides", prices, "element"),
                                 (axes[1], "Magnets, by grade", results.table("magnet_prices", "month"), "grade")):
        ax.set_title(name, loc="left", fontsize=10)
        _price_panel(ax, results, frame, key, summary.prices, f"no priced {name.lower()}", below)
    return fig


def _price_panel(ax: Axes, results: Results, prices: pd.DataFrame, key: str, peaks: dict, empty: str,
                 below: bool = False) -> None:
    """A line per item (element or grade) and market, a colour per item, a line style per market; the
    legend to the right (``below``: under the panel)."""
    if prices.empty:
        note_empty(ax, empty)
        return
    if not moves(prices["multiple"]):
        note_empty(ax, "no price moves (all within 0.5% of the initial price)", size=9)
    items = list(dict.fromkeys(prices[key]))
    for item, rows in prices.groupby(key, sort=False):
        initial = peaks[item].initial_usd_per_kg
        label = f"{item} (initial {usd(initial)} USD/kg)" if initial is not None else item
        markets = rows.groupby("market", sort=False) if "market" in rows.columns else [(WORLD, rows)]
        for market, line in markets:
            ax.plot(line["date"], line["multiple"], lw=1.8, color=item_colour(item, items), ls=MARKET_STYLES[market],
                    label=label if market != HOME else None)
    multiple_axis(ax, *multiple_range(prices["multiple"]))
    ax.set_ylabel("price / initial price")
    ax.set_xlim(results.dates[0], results.dates[-1])
    ax.grid(alpha=0.3, which="major")
    ax.grid(alpha=0.12, which="minor")
    date_axis(ax)
    _measure_line(ax, results)
    if below:
        legend_below(ax, ncol=2, fontsize=6.5, bbox_to_anchor=(0.5, -0.08))
    else:
        legend_outside(ax, fontsize=7.5)


# ---------------------------------------------------------------- 4 dependency
def dependency_figure(results: Results, countries: tuple[str, ...], on: str = "CN") -> Figure:
    """Quarterly direct (import share) and embedded (passed through ``on`` anywhere) dependency, oxides and magnets."""
    fig, axes = new_figure(ncols=2)         # each panel its own scale: a magnet dilutes its elements' spikes
    fig.suptitle(f"Dependency on {on} of oxide and magnet users (quarterly, %)", x=0.01, ha="left",
                 fontweight="bold", fontsize=11)
    if on not in results.countries:
        for ax in axes:
            note_empty(ax, f"{on} is not in this run")
        return fig
    followed = tuple(c for c in countries if c != on) or tuple(c for c in ("JP", "KR") if c in results.countries)
    dep = results.dependency(on=on, frequency="quarter")
    lines = dict(tuple(dep[dep["country"].isin(followed)].groupby(["stage", "country"], sort=False)))
    for ax, (stage, name) in zip(axes, ((REFINERY, "Oxides (separation output)"), (MAGNET, "Magnets"))):
        ax.set_title(name, loc="left", fontsize=10)
        shown = [lines.get((stage, country), dep.iloc[:0]).sort_values("date") for country in followed]
        if all(rows[["direct", "embedded"]].isna().all(axis=None) for rows in shown):
            note_empty(ax, f"{', '.join(followed)} import{'s' if len(followed) == 1 else ''} none", size=9)
        for country, rows in zip(followed, shown):
            c = colour(country)
            ax.plot(rows["date"], rows["direct"], color=c, lw=1.8)
            ax.plot(rows["date"], rows["embedded"], color=c, lw=1.4, ls="--")
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(alpha=0.3)
        date_axis(ax)
        _measure_line(ax, results, label=ax is axes[0])
    axes[0].set_ylabel(f"share from / through {on}")
    handles = [Line2D([], [], color=colour(c), lw=2, label=c) for c in followed]
    handles += [Line2D([], [], color="0.3", lw=1.8, label="direct"),
                Line2D([], [], color="0.3", lw=1.4, ls="--", label="embedded")]
    legend_outside(axes[1], handles=handles, fontsize=8,
                   title=f"direct: share of\nimports bought\nfrom {on}\nembedded: share\nof use that\npassed "
                         f"through {on}", title_fontsize=7, alignment="left")
    if on in countries:
        axes[1].annotate(f"{on} itself is not shown", xy=(1, -0.13), xycoords="axes fraction", ha="right",
                         fontsize=7, color="0.4")
    return fig
