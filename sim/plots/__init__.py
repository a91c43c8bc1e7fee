"""Briefing plots of one run: shortfall, days of cover, prices, dependency on China, and the chain's flows;
and plots of runs side by side (compare, sweep).

``briefing(results, folder)`` writes five PNGs an analyst can drop into a
briefing; ``comparison_plots`` overlays several runs' monthly series and
``sweep_plots`` draws a headline figure against a swept parameter. This is
the only module of ``sim`` that imports matplotlib, so the engine and the
tables stay importable (and fast) without it; the Agg backend is selected
here so plots render without a display.
"""
from __future__ import annotations

import datetime as dt
import pathlib
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..files import atomic_write
from ..world.provenance import Tags

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results.tables import Results

DPI = 110
SIZE = (9.0, 5.0)                 # inches
COVER_CLIP_DAYS = 120.0           # days-of-cover axis stops here; higher values sit on the top edge
SMALL_SHARE = 0.02                # flow-chart nodes below this share of their column are grouped as "other"
FLOW_COLUMNS = ("Mined in", "Separated in", "Magnets made in", "Used in")
COUNTRY_COLOURS = {
    "CN": "#c62828", "JP": "#1565c0", "KR": "#6a1b9a", "US": "#2e7d32", "AU": "#ef6c00", "MY": "#00838f",
    "VN": "#9e9d24", "MM": "#8d6e63", "TH": "#ad1457", "LA": "#5d4037", "IN": "#f9a825", "BR": "#43a047",
    "RU": "#455a64", "KZ": "#00695c", "EE": "#3949ab", "DE": "#212121", "FR": "#0277bd", "NG": "#7cb342",
    "MG": "#d84315", "ROW": "#9e9e9e", "other": "#bdbdbd",
}
FALLBACK_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f")
ELEMENT_COLOURS = {"Dy": "#d95f02", "Tb": "#7570b3", "NdPr": "#1b9e77"}
ELEMENT_STYLES = {"Dy": "-", "Tb": "-", "NdPr": "--"}
LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}


def briefing(results: Results, folder: pathlib.Path, countries: tuple[str, ...] | None = None) -> list[pathlib.Path]:
    """Write the briefing PNGs of a run into ``folder``; return their paths.

    ``countries`` are the ones the cover and dependency plots follow; by
    default the (up to four) countries with the largest cumulative shortfall.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    focus = focus_countries(results, countries)
    paths = []
    for name, draw in (("shortfall", lambda: shortfall_figure(results)),
                       ("days_of_cover", lambda: cover_figure(results, focus)),
                       ("prices", lambda: prices_figure(results)),
                       ("dependency", lambda: dependency_figure(results, focus)),
                       ("flows", lambda: flows_figure(results))):
        paths.append(_save(draw(), folder / f"{name}.png", results))
    return paths


# ---------------------------------------------------------------- helpers
def focus_countries(results: Results, countries: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The countries to follow: given ones, else the 4 most short (cumulative unmet t), else JP and KR."""
    if countries:
        return tuple(countries)
    stats = results.summary().countries
    short = sorted((c for c, v in stats.items() if v.cumulative_unmet_t > 1e-6),
                   key=lambda c: -stats[c].cumulative_unmet_t)
    if short:
        return tuple(short[:4])
    default = tuple(c for c in ("JP", "KR") if c in results.net.countries)
    return default or tuple(sorted(stats, key=lambda c: -stats[c].demand_t)[:2])


def colour(country: str, countries: tuple[str, ...] = ()) -> str:
    """Fixed colour of a country (China red); unknown codes get a palette colour by their position."""
    if country in COUNTRY_COLOURS:
        return COUNTRY_COLOURS[country]
    k = countries.index(country) if country in countries else sum(map(ord, country))
    return FALLBACK_COLOURS[k % len(FALLBACK_COLOURS)]


def _figure(**kwargs) -> tuple[Figure, Axes | np.ndarray]:
    """A briefing-sized figure (``SIZE`` inches) with ``plt.subplots`` axes."""
    return plt.subplots(figsize=SIZE, **kwargs)


def _save(fig: Figure, path: pathlib.Path, results: Results) -> pathlib.Path:
    """Footnote the scenario, lay out, write at ``DPI`` and close (figures are not kept open)."""
    return _write(fig, path, f"Scenario {results.scenario.name} (seed {results.seed}): {results.scenario.title}")


def _date_axis(ax: Axes, maxticks: int = 8) -> None:
    """Year/month ticks that stay short on narrow panels."""
    locator = mdates.AutoDateLocator(minticks=2, maxticks=maxticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def _measure_line(ax: Axes, results: Results, label: bool = True) -> None:
    """Dotted vertical line at the start of the first export measure, so 'before/after' reads at a glance."""
    start = results.first_measure
    if start is None:
        return
    ax.axvline(pd.Timestamp(start), color="0.35", lw=0.9, ls=":", zorder=1)
    if label:
        ax.annotate(f"first measure\n{start:%d %b %Y}", xy=(pd.Timestamp(start), 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -3), textcoords="offset points", ha="left", va="top", fontsize=7, color="0.35")


def _empty(ax: Axes, text: str) -> None:
    """A grey note in the middle of an axis that has nothing to show."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=12, color="0.45")


def _kt(t: float) -> str:
    """A tonnage for a label: '39 kt', '4.2 kt', '43 t'."""
    if t >= 9.95e3:
        return f"{t / 1e3:.0f} kt"
    return f"{t / 1e3:.1f} kt" if t >= 950 else f"{t:.0f} t"


# ---------------------------------------------------------------- 1 shortfall
def shortfall_figure(results: Results) -> Figure:
    """Monthly unmet end-use magnet demand as a share of each country's demand, one line per short country."""
    unmet = results.table("unmet", "month")
    fig, ax = _figure()
    ax.set_title("Unmet end-use magnet demand, share of each country's demand (monthly, %)", loc="left",
                 fontweight="bold")
    by = unmet.groupby(["date", "country"], as_index=False)[["demand_t", "unmet_t"]].sum()
    total = by.groupby("country")["unmet_t"].sum()
    short = total[total > 1e-6].sort_values(ascending=False)
    if short.empty:
        _empty(ax, "no shortfall")
    by["share"] = by["unmet_t"] / by["demand_t"].where(by["demand_t"] > 0)
    for country, cumulative in short.items():
        line = by[by["country"] == country].sort_values("date")
        ax.plot(line["date"], line["share"], color=colour(country, results.net.countries), lw=1.8,
                label=f"{country}  {_kt(cumulative)}")
    ax.set_ylim(0, 1.0 if short.empty else min(1.0, max(0.05, float(by["share"].max()) * 1.1)))
    ax.set_xlim(results.dates[0], results.dates[-1])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("unmet / demand (t magnet)")
    ax.grid(alpha=0.3)
    _date_axis(ax)
    _measure_line(ax, results)
    if not short.empty:
        ax.legend(loc="upper right", fontsize=8, frameon=False, title="cumulative unmet, t magnet",
                  title_fontsize=8)
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
    fig = plt.figure(figsize=SIZE)
    grid = fig.add_gridspec(2, len(countries), height_ratios=(2.2, 1.0))
    fig.suptitle("Days of cover of working oxide stocks (days of the country's own use), and strategic stockpiles",
                 x=0.01, ha="left", fontweight="bold", fontsize=11)
    oxides = inventory[inventory["stage"] == "refinery"]
    first = None
    for k, country in enumerate(countries):
        ax = fig.add_subplot(grid[0, k], sharey=first)
        first = first or ax
        for item, item_colour in ELEMENT_COLOURS.items():
            rows = oxides[(oxides["country"] == country) & (oxides["item"] == item)]
            if rows.empty:
                continue
            cover = _monthly(rows, months, "days_of_cover").clip(upper=COVER_CLIP_DAYS)
            ax.plot(months, cover, color=item_colour, ls=ELEMENT_STYLES[item], lw=1.5, label=item)
        ax.set_title(country, fontweight="bold", color=colour(country, results.net.countries))
        ax.set_ylim(0, COVER_CLIP_DAYS * 1.04)
        ax.grid(alpha=0.3)
        _date_axis(ax, maxticks=4 if len(countries) > 2 else 6)
        _measure_line(ax, results, label=False)
        if k == 0:
            ax.set_ylabel(f"days of cover\n(clipped at {COVER_CLIP_DAYS:.0f} d)")
        else:
            ax.tick_params(labelleft=False)
    handles = [Line2D([], [], color=ELEMENT_COLOURS[e], ls=ELEMENT_STYLES[e], lw=1.5, label=f"{e} oxide")
               for e in ELEMENT_COLOURS]
    first.legend(handles=handles, loc="lower left", fontsize=7, frameon=True, framealpha=0.85)
    _stockpile_panel(fig.add_subplot(grid[1, :]), inventory, months, countries, results)
    return fig


def _stockpile_panel(ax: Axes, inventory: pd.DataFrame, months: pd.DatetimeIndex, countries: tuple[str, ...],
                     results: Results) -> None:
    """Strategic stockpiles (t oxide) of the followed countries; NdPr on its own right-hand scale."""
    piles = inventory[(inventory["stage"] == "stockpile") & inventory["country"].isin(countries)
                      & inventory["item"].isin(tuple(ELEMENT_COLOURS))]
    ax.set_title("Strategic stockpiles, t oxide", loc="left", fontsize=9)
    ax.grid(alpha=0.3)
    _date_axis(ax)
    _measure_line(ax, results, label=False)
    if piles.empty:
        _empty(ax, f"no strategic stockpiles of Dy, Tb or NdPr in {', '.join(countries)}")
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
    ax.legend(handles=handles, loc="center right", fontsize=7, frameon=True, framealpha=0.85,
              ncol=1 if len(handles) < 4 else 2)


# ---------------------------------------------------------------- 3 prices
def prices_figure(results: Results) -> Figure:
    """Monthly mean price of each priced oxide as a multiple of its initial price (log scale)."""
    prices = results.table("prices", "month")
    fig, ax = _figure()
    ax.set_title("Oxide prices, multiple of the initial price (monthly mean, log scale)", loc="left",
                 fontweight="bold")
    initial = dict(zip(results.net.elements, results.net.initial_price))
    if prices.empty:
        _empty(ax, "no priced elements")
        return fig
    for element, rows in prices.groupby("element", sort=False):
        ax.plot(rows["date"], rows["multiple"], lw=1.8, color=ELEMENT_COLOURS.get(element),
                label=f"{element} (initial {initial[element]:,.0f} USD/kg)")
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_yscale("log")
    top = max(2.0, float(prices["multiple"].max()) * 1.3)
    ax.set_ylim(min(0.8, float(prices["multiple"].min()) * 0.9), top)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}×" if top < 12 and v in (2, 3, 5, 7) else ""))
    ax.set_ylabel("price / initial price")
    ax.set_xlim(results.dates[0], results.dates[-1])
    ax.grid(alpha=0.3, which="both")
    _date_axis(ax)
    _measure_line(ax, results)
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.9, bbox_to_anchor=(0.0, 0.92))
    return fig


# ---------------------------------------------------------------- 4 dependency
def dependency_figure(results: Results, countries: tuple[str, ...], on: str = "CN") -> Figure:
    """Quarterly direct (import share) and embedded (passed through ``on`` anywhere) dependency, oxides and magnets."""
    fig, axes = _figure(ncols=2, sharey=True)
    fig.suptitle(f"Dependency on {on} of oxide and magnet users (quarterly, %)", x=0.01, ha="left",
                 fontweight="bold", fontsize=11)
    if on not in results.net.countries:
        for ax in axes:
            _empty(ax, f"{on} is not in this run")
        return fig
    followed = tuple(c for c in countries if c != on) or tuple(c for c in ("JP", "KR") if c in results.net.countries)
    dep = results.dependency(on=on, frequency="quarter")
    for ax, (stage, name) in zip(axes, (("refinery", "Oxides (separation output)"), ("magnet", "Magnets"))):
        ax.set_title(name, loc="left", fontsize=10)
        for country in followed:
            rows = dep[(dep["stage"] == stage) & (dep["country"] == country)].sort_values("date")
            c = colour(country, results.net.countries)
            ax.plot(rows["date"], rows["direct"], color=c, lw=1.8)
            ax.plot(rows["date"], rows["embedded"], color=c, lw=1.4, ls="--")
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(alpha=0.3)
        _date_axis(ax)
        _measure_line(ax, results, label=ax is axes[0])
    axes[0].set_ylabel(f"share from / through {on}")
    handles = [Line2D([], [], color=colour(c, results.net.countries), lw=2, label=c) for c in followed]
    handles += [Line2D([], [], color="0.3", lw=1.8, label="direct"),
                Line2D([], [], color="0.3", lw=1.4, ls="--", label="embedded")]
    axes[0].legend(handles=handles, loc="best", fontsize=8, frameon=True, framealpha=0.9, ncol=2,
                   title=f"direct: share of imports bought from {on}\nembedded: share of use that passed "
                         f"through {on}", title_fontsize=7, alignment="left")
    if on in countries:
        axes[1].annotate(f"{on} itself is not shown", xy=(1, -0.13), xycoords="axes fraction", ha="right",
                         fontsize=7, color="0.4")
    return fig


# ---------------------------------------------------------------- 5 flows (Sankey)
def flow_matrices(results: Results) -> list[np.ndarray]:
    """First-year t REO between adjacent columns: [mined c -> separated r], [separated -> made], [made -> used].

    Each is ``[source country, target country]``, from the provenance rows of
    what separation plants fed on, what magnet plants made and what end users
    consumed.
    """
    raw, net = results.raw, results.net
    tags = Tags(net.n_countries)
    year = slice(0, min(len(net.dates), round(365.25 / net.step_days)))
    consumed = raw.consumed_tags[year].sum(axis=0)        # [stage, C, Q]
    made = raw.made_tags[year].sum(axis=0)                # [C, Q]
    return [consumed[0][:, tags.kind("mined")].T,          # rows: mining country, cols: separating country
            made[:, tags.kind("refined")].T,               # rows: separating country, cols: magnet country
            consumed[2][:, tags.kind("made")].T]           # rows: magnet country, cols: using country


def _group(values: np.ndarray, countries: tuple[str, ...]) -> list[tuple[str, list[int]]]:
    """Nodes of one column, largest first: each country with >= SMALL_SHARE of the column, the rest as 'other'."""
    total = values.sum()
    order = [i for i in np.argsort(-values, kind="stable") if values[i] > 1e-9]
    big = [i for i in order if values[i] >= SMALL_SHARE * total]
    small = [i for i in order if values[i] < SMALL_SHARE * total]
    nodes = [(countries[i], [i]) for i in big]
    if small:
        nodes.append(("other", small))
    return nodes


def _band(ax: Axes, x0: float, top0: float, x1: float, top1: float, width: float, face: str) -> None:
    """A band of ``width`` t from (x0, top0) to (x1, top1), tops given, drawn as a cubic Bézier ribbon."""
    mid = (x0 + x1) / 2
    verts = [(x0, top0), (mid, top0), (mid, top1), (x1, top1), (x1, top1 - width), (mid, top1 - width),
             (mid, top0 - width), (x0, top0 - width), (x0, top0)]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
             Path.CURVE4, Path.CLOSEPOLY]
    ax.add_patch(PathPatch(Path(verts, codes), facecolor=face, edgecolor=face, linewidth=0.4, alpha=0.5,
                           zorder=1))   # the edge keeps hairline flows visible


def _layout(heights: list[float], pitch: float, gap: float, top: float) -> list[float]:
    """Top y of each node stacked downward from ``top``: a gap between nodes, and room for a label each."""
    tops, y = [], top
    for h in heights:
        tops.append(y)
        y -= max(h + gap, pitch)
    return tops


def flows_figure(results: Results) -> Figure:
    """Alluvial chart of the chain over the run's first year: mined in -> separated in -> magnets made in -> used in."""
    countries, dates = results.net.countries, results.net.dates
    steps = min(len(dates), round(365.25 / results.net.step_days))
    links = flow_matrices(results)
    fig, ax = _figure()
    fig.suptitle(f"Rare-earth chain by country, first year of the run ({dates[0]:%d %b %Y} to "
                 f"{dates[steps - 1]:%d %b %Y})", x=0.01, ha="left", fontweight="bold", fontsize=11)
    ax.set_title("Band width t REO; separation losses and oxides not used in magnets leave between columns",
                 loc="left", fontsize=9, color="0.3")
    ax.set_axis_off()
    if not any(m.sum() > 0 for m in links):
        _empty(ax, "no flows recorded in the first year")
        return fig
    # node size per column: what flows out (first), in (last), the larger of the two (middle columns)
    zero = np.zeros(len(countries))
    inflow = [zero] + [m.sum(axis=0) for m in links]
    outflow = [m.sum(axis=1) for m in links] + [zero]
    sizes = [np.maximum(i, o) for i, o in zip(inflow, outflow)]
    nodes = [_group(s, countries) for s in sizes]
    heights = [[float(size[idx].sum()) for _, idx in col] for size, col in zip(sizes, nodes)]
    scale = max(float(s.sum()) for s in sizes)
    gap, pitch, width = 0.02 * scale, 0.055 * scale, 0.05
    top = max(sum(max(h + gap, pitch) for h in col) for col in heights)
    tops = [_layout(col, pitch, gap, top) for col in heights]
    xs = np.arange(len(FLOW_COLUMNS), dtype=float)
    for k, col in enumerate(nodes):
        ax.text(xs[k] + width / 2, top + 0.06 * scale, f"{FLOW_COLUMNS[k]}\n{_kt(float(sizes[k].sum()))}",
                ha="center", va="bottom", fontsize=9, fontweight="bold")
        for (name, _), y, h in zip(col, tops[k], heights[k]):
            _node(ax, xs[k], y, width, h, name, countries, label_left=k == 0)
    for k, matrix in enumerate(links):
        _bands(ax, matrix, nodes[k], nodes[k + 1], tops[k], tops[k + 1], xs[k] + width, xs[k + 1], countries)
    bottom = min((t[-1] - h[-1] for t, h in zip(tops, heights) if t), default=0.0)
    ax.set_xlim(-0.35, xs[-1] + width + 0.35)
    ax.set_ylim(bottom - 0.03 * scale, top + 0.2 * scale)
    return fig


def _node(ax: Axes, x: float, top: float, width: float, height: float, name: str, countries: tuple[str, ...],
          label_left: bool) -> None:
    """A country's node (rectangle of ``height`` t) with its 'code kt' label beside it."""
    face = colour(name, countries)
    ax.add_patch(Rectangle((x, top - height), width, height, facecolor=face, edgecolor=face, linewidth=0.6,
                           zorder=2))
    ax.text(x - 0.02 if label_left else x + width + 0.02, top - height / 2, f"{name} {_kt(height)}",
            ha="right" if label_left else "left", va="center", fontsize=7.5, zorder=3, bbox=LABEL_BOX)


def _bands(ax: Axes, matrix: np.ndarray, sources: list, targets: list, source_tops: list[float],
           target_tops: list[float], x0: float, x1: float, countries: tuple[str, ...]) -> None:
    """Bands between two columns, stacked at each node in the order of the other column (few crossings)."""
    flow = np.array([[matrix[np.ix_(s, t)].sum() for _, t in targets] for _, s in sources])
    out_used = np.zeros(len(sources))
    in_used = np.zeros(len(targets))
    for i, (name, _) in enumerate(sources):
        for j in range(len(targets)):
            w = flow[i, j]
            if w <= 0:
                continue
            _band(ax, x0, source_tops[i] - out_used[i], x1, target_tops[j] - in_used[j], w, colour(name, countries))
            out_used[i] += w
            in_used[j] += w


# ---------------------------------------------------------------- runs side by side (compare, sweep)
REFERENCE_COLOUR = "0.2"          # the first scenario of a comparison, against which the others are read
RUN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
MAX_PANELS = 4
LEAD_MONTHS = 6                   # runs side by side are shown from this long before their first measure


def run_colours(labels: list[str], sequential: bool = False) -> dict[str, str]:
    """A colour per run: the reference dark grey and the others distinct, or a sequential ramp (sweeps)."""
    if sequential:
        ramp = matplotlib.colormaps["viridis"]
        n = max(len(labels) - 1, 1)
        return {label: matplotlib.colors.to_hex(ramp(0.9 * k / n)) for k, label in enumerate(labels)}
    return {label: REFERENCE_COLOUR if k == 0 else RUN_COLOURS[(k - 1) % len(RUN_COLOURS)]
            for k, label in enumerate(labels)}


def comparison_plots(monthly: pd.DataFrame, folder: pathlib.Path, labels: list[str], countries: list[str],
                     measures: dict[str, str | None], note: str, sequential: bool = False) -> list[pathlib.Path]:
    """Overlaid monthly series of several runs (``monthly`` with a ``scenario`` column): shortfall, prices,
    dependency; one line per run, one panel per country (at most four) or element. Returns the PNG paths."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    colours = run_colours(labels, sequential)
    countries = list(countries)[:MAX_PANELS]
    return [_write(draw(), folder / f"{name}.png", note) for name, draw in (
        ("shortfall", lambda: overlay_shortfall_figure(monthly, labels, countries, measures, colours)),
        ("prices", lambda: overlay_prices_figure(monthly, labels, measures, colours)),
        ("dependency", lambda: overlay_dependency_figure(monthly, labels, countries, measures, colours)))]


def overlay_shortfall_figure(monthly: pd.DataFrame, labels: list[str], countries: list[str],
                             measures: dict[str, str | None], colours: dict[str, str],
                             legend: str | None = None) -> Figure:
    """Monthly unmet end-use magnet demand as a share of demand, a panel per country, a line per run."""
    rows = monthly[monthly["metric"] == "shortfall_share"]
    fig, axes = _panels(len(countries) or 1)
    fig.suptitle("Unmet end-use magnet demand, share of the country's demand (monthly, %)", x=0.01, ha="left",
                 fontweight="bold", fontsize=11)
    top = max(0.05, float(rows[rows["country"].isin(countries)]["value"].max() if len(rows) else 0) * 1.1)
    for ax, country in _country_panels(axes, countries):
        for label in labels:
            line = rows[(rows["scenario"] == label) & (rows["country"] == country)].sort_values("date")
            ax.plot(line["date"], line["value"], color=colours[label], lw=1.6, label=label)
        ax.set_ylim(0, min(1.0, top))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _run_axis(ax, monthly, measures, colours)
    _run_legend(fig, axes[0], labels, legend)
    return fig


def overlay_prices_figure(monthly: pd.DataFrame, labels: list[str], measures: dict[str, str | None],
                          colours: dict[str, str]) -> Figure:
    """Monthly mean price of each priced oxide as a multiple of its initial price, a panel per element."""
    rows = monthly[monthly["metric"] == "price_multiple"]
    elements = list(dict.fromkeys(rows["element"])) if len(rows) else []
    fig, axes = _panels(len(elements[:MAX_PANELS]) or 1)
    fig.suptitle("Oxide prices, multiple of the initial price (monthly mean)", x=0.01, ha="left",
                 fontweight="bold", fontsize=11)
    if not elements:
        _empty(axes[0], "no priced elements")
        return fig
    for ax, element in zip(axes, elements):
        ax.set_title(element, fontweight="bold", color=ELEMENT_COLOURS.get(element, "0.2"), loc="left")
        for label in labels:
            line = rows[(rows["scenario"] == label) & (rows["element"] == element)].sort_values("date")
            ax.plot(line["date"], line["value"], color=colours[label], lw=1.6, label=label)
        ax.axhline(1.0, color="0.5", lw=0.8)
        shown = rows[rows["element"] == element]["value"]
        ax.set_ylim(min(0.95, float(shown.min()) * 0.97), max(1.1, float(shown.max()) * 1.05))  # no zoom on noise
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        _run_axis(ax, monthly, measures, colours)
    _run_legend(fig, axes[0], labels)
    return fig


def overlay_dependency_figure(monthly: pd.DataFrame, labels: list[str], countries: list[str],
                              measures: dict[str, str | None], colours: dict[str, str], on: str = "CN") -> Figure:
    """Monthly oxide dependency on China, direct (solid) and embedded (dashed), a panel per country."""
    fig, axes = _panels(len(countries) or 1)
    fig.suptitle(f"Oxide dependency on {on} (monthly): imports bought from {on} (solid), use that passed "
                 f"through {on} (dashed)", x=0.01, ha="left", fontweight="bold", fontsize=10)
    for ax, country in _country_panels(axes, countries):
        for label in labels:
            for kind, style in (("direct", "-"), ("embedded", "--")):
                line = monthly[(monthly["scenario"] == label) & (monthly["country"] == country)
                               & (monthly["metric"] == f"oxide_{kind}_dependency_on_{on}")].sort_values("date")
                ax.plot(line["date"], line["value"], color=colours[label], lw=1.5 if kind == "direct" else 1.2,
                        ls=style, label=label if kind == "direct" else None)
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _run_axis(ax, monthly, measures, colours)
    _run_legend(fig, axes[0], labels)
    return fig


def sweep_figure(values: list, results: list, parameter: str, metric: str, unit: str) -> Figure:
    """One headline figure against the swept parameter's values; runs where it never happened marked 'none'."""
    fig, ax = _figure()
    ax.set_title(f"{metric} against {parameter}", loc="left", fontweight="bold")
    x, ticks = _sweep_axis(values)
    y = [np.nan if v is None else (pd.Timestamp(v) if unit == "date" else float(v)) for v in results]
    have = [(a, b) for a, b in zip(x, y) if not (isinstance(b, float) and np.isnan(b))]
    if have:
        ax.plot([a for a, _ in have], [b for _, b in have], color="#1f77b4", lw=1.6, marker="o", ms=5)
    else:
        _empty(ax, f"{metric}: none in any run")
    for a, b in zip(x, y):
        if have and isinstance(b, float) and np.isnan(b):
            ax.annotate("none", xy=(a, 0.02), xycoords=("data", "axes fraction"), ha="center", fontsize=8,
                        color="0.4")
    low, high = min(x), max(x)
    pad = (high - low) * 0.05 if high != low else (pd.Timedelta(days=15) if isinstance(low, pd.Timestamp) else 0.5)
    ax.set_xlim(low - pad, high + pad)      # every value on the axis, also those with nothing to draw
    if ticks is not None:
        ax.set_xticks(range(len(ticks)), ticks)
    elif isinstance(x[0], pd.Timestamp):
        _date_axis(ax)
    if unit == "share":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(bottom=0)
    elif unit == "date":
        _date_axis_y(ax)
    elif unit == "x initial":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlabel(parameter)
    ax.set_ylabel(unit)
    ax.grid(alpha=0.3)
    return fig


def sweep_plots(folder: pathlib.Path, values: list, results: list, parameter: str, metric: str, label: str,
                unit: str, monthly: pd.DataFrame, labels: list[str], countries: list[str],
                measures: dict[str, str | None], note: str) -> list[pathlib.Path]:
    """The swept figure against the parameter (``<metric>.png``, ``label`` its title) and monthly shortfall,
    a line per value."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    colours = run_colours(labels, sequential=True)
    countries = list(countries)[:MAX_PANELS]
    return [_write(sweep_figure(values, results, parameter, label, unit), folder / f"{metric}.png", note),
            _write(overlay_shortfall_figure(monthly, labels, countries, measures, colours, legend=parameter),
                   folder / "shortfall.png", note)]


def _sweep_axis(values: list) -> tuple[list, list[str] | None]:
    """Positions of swept values: numbers as numbers, dates as dates, anything else evenly with its text."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], None
    if all(isinstance(v, (dt.date, pd.Timestamp)) for v in values):
        return [pd.Timestamp(v) for v in values], None
    return list(range(len(values))), [str(v) for v in values]


def _date_axis_y(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.yaxis.set_major_locator(locator)
    ax.yaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def _country_panels(axes: list[Axes], countries: list[str]):
    """(panel, country) pairs, each panel titled in the country's colour; one empty panel when there are none."""
    if not countries:
        _empty(axes[0], "no country to follow")
        return
    for ax, country in zip(axes, countries):
        ax.set_title(country, fontweight="bold", color=colour(country), loc="left")
        yield ax, country


def _panels(n: int) -> tuple[Figure, list[Axes]]:
    """One to four panels sharing the date axis: a row of up to three, or two by two."""
    n = max(1, min(n, MAX_PANELS))
    rows, cols = (2, 2) if n == 4 else (1, n)
    fig, axes = plt.subplots(rows, cols, figsize=SIZE, sharex=True, squeeze=False)
    return fig, list(axes.flat)


def _run_axis(ax: Axes, monthly: pd.DataFrame, measures: dict[str, str | None], colours: dict[str, str]) -> None:
    """Grid, the dates from a little before the first measure, and a dotted line at each run's first measure
    (grey when runs share it)."""
    ax.grid(alpha=0.3)
    by_date: dict[str, list[str]] = {}
    for label, start in measures.items():
        if start:
            by_date.setdefault(start, []).append(label)
    if len(monthly):
        first, last = monthly["date"].min(), monthly["date"].max()
        if by_date:
            first = max(first, min(pd.Timestamp(d) for d in by_date) - pd.DateOffset(months=LEAD_MONTHS))
        ax.set_xlim(first, last)
    _date_axis(ax, maxticks=5)
    for start, owners in by_date.items():
        ax.axvline(pd.Timestamp(start), ls=":", lw=0.9, zorder=1,
                   color=colours[owners[0]] if len(owners) == 1 and len(by_date) > 1 else "0.35")


def _run_legend(fig: Figure, ax: Axes, labels: list[str], title: str | None = None) -> None:
    """A legend of the runs in the first panel (left out past a dozen runs, where it would hide the lines)."""
    if len(labels) <= 12:
        ax.legend(loc="best", fontsize=7, frameon=True, framealpha=0.85, title=title, title_fontsize=7)


def _write(fig: Figure, path: pathlib.Path, note: str) -> pathlib.Path:
    """Footnote, lay out, write at ``DPI`` atomically (a temporary file moved into place) and close."""
    fig.text(0.005, 0.005, note, fontsize=7, color="0.4", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    try:
        return atomic_write(pathlib.Path(path), lambda p: fig.savefig(p, dpi=DPI, format=pathlib.Path(path).suffix[1:]))
    finally:
        plt.close(fig)


# ---------------------------------------------------------------- Monte Carlo ensembles (bands)
BAND_ALPHA = 0.22                 # the P5-P95 band under its P50 line
MAX_RANGE_ROWS = 12               # countries in the headline range chart


def plot_ensemble(ensemble, folder: pathlib.Path | str | None = None,
                  countries: tuple[str, ...] | None = None) -> list[pathlib.Path]:
    """Band plots of a ``sim.ensemble.Ensemble`` into ``folder`` (default ``<ensemble folder>/plots``).

    Writes ``shortfall.png``, ``prices.png``, ``dependency.png`` (P50 line and P5-P95 band of the
    monthly series of ``bands.csv``) and ``headline_bands.png`` (P5-P50-P95 of each country's peak
    shortfall and weeks to shortfall and of each element's peak price); returns their paths (none when
    no replication finished).
    """
    folder = pathlib.Path(ensemble.folder) / "plots" if folder is None else pathlib.Path(folder)
    n = len(ensemble.summaries)
    note = (f"Ensemble {ensemble.scenario.name} (seed {ensemble.seed}, {n} replications): "
            f"{ensemble.scenario.title or ''}").rstrip(": ")
    return band_plots(ensemble.bands, folder, ensemble.headline_bands, scenario=ensemble.scenario.name,
                      replications=n, note=note, countries=countries)


def band_plots(bands: pd.DataFrame, folder: pathlib.Path | str, headline: pd.DataFrame | None = None, *,
               scenario: str = "", replications: int | None = None, note: str = "",
               countries: tuple[str, ...] | None = None) -> list[pathlib.Path]:
    """The band plots from the frames of ``bands.csv`` and (optionally) ``headline_bands.csv``.

    Countries followed: those given, else the (up to four) with the largest median cumulative
    unmet demand (in the dependency plot, those of them that import oxide). Each PNG is written atomically; the folder is created. ``headline_bands.png``
    needs ``headline``.
    """
    if bands is None or bands.empty:
        return []
    bands = bands.assign(date=pd.to_datetime(bands["date"]), country=bands["country"].fillna(""),
                         element=bands["element"].fillna(""))
    n = int(bands["replications"].max()) if replications is None else replications
    countries = list(countries or band_countries(bands, headline, limit=None))
    dependent = set(bands.loc[bands["metric"] == "oxide_direct_dependency_on_CN", "country"]) - {"CN"}
    importers = [c for c in countries if c in dependent] or [c for c in ("JP", "KR") if c in dependent]
    measure = _band_measure(headline)
    figures = {"shortfall": lambda: band_shortfall_figure(bands, countries[:MAX_PANELS], measure),
               "prices": lambda: band_prices_figure(bands, measure),
               "dependency": lambda: band_dependency_figure(bands, importers[:MAX_PANELS], measure)}
    if headline is not None and len(headline):
        figures["headline_bands"] = lambda: headline_bands_figure(headline)
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in figures.items():
        fig = draw()
        fig.suptitle(f"{scenario + ': ' if scenario else ''}{fig.get_suptitle()}\n{n} replications, P5–P95",
                     x=0.01, ha="left", fontweight="bold", fontsize=10)
        paths.append(_write(fig, folder / f"{name}.png", note))
    return paths


def band_countries(bands: pd.DataFrame | None, headline: pd.DataFrame | None = None,
                   limit: int | None = MAX_PANELS) -> list[str]:
    """Countries short in some replication, by median (then P95) cumulative unmet t (from the headline
    bands, else the monthly bands summed); JP and KR when none is."""
    if headline is not None and len(headline):
        rows = headline[headline["figure"] == "cumulative_unmet_t"]
        order = {r.subject: (_number(r.p50), _number(r.p95)) for r in rows.itertuples()}
    else:
        unmet = bands[bands["metric"] == "unmet_t"].groupby("country")[["p50", "p95"]].sum()
        order = {c: (float(r.p50), float(r.p95)) for c, r in unmet.iterrows()}
    short = sorted((c for c, (_, p95) in order.items() if p95 > 1e-6), key=lambda c: (-order[c][0], -order[c][1]))
    if short:
        return short[:limit]
    present = set(bands["country"]) if bands is not None else set(order)
    return [c for c in ("JP", "KR") if c in present]


def _number(x) -> float:
    """A percentile cell as a float; None or NaN (the figure never happened) as NaN."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _band_measure(headline: pd.DataFrame | None) -> dict[str, str | None]:
    """{'P50': median date of the first export measure} (as ``_run_axis`` takes it); {} when there is none."""
    if headline is None or headline.empty:
        return {}
    row = headline[(headline["subject"] == "world") & (headline["figure"] == "first_measure")]
    if row.empty or not isinstance(row["p50"].iloc[0], str):
        return {}
    return {"P50": row["p50"].iloc[0]}


def _band_series(ax: Axes, rows: pd.DataFrame, colour_: str, lw: float = 1.6, ls: str = "-",
          alpha: float = BAND_ALPHA) -> None:
    """One series of the bands frame: P5 to P95 shaded, P50 drawn over it."""
    rows = rows.sort_values("date")
    ax.fill_between(rows["date"], rows["p5"], rows["p95"], color=colour_, alpha=alpha, lw=0)
    ax.plot(rows["date"], rows["p50"], color=colour_, lw=lw, ls=ls)


def _band_axes(axes: list[Axes], bands: pd.DataFrame, measure: dict[str, str | None], extra: list | None = None) -> None:
    """Dates and grid as for runs side by side, and a legend of the line and the band."""
    for ax in axes:
        _run_axis(ax, bands, measure, {"P50": "0.35"})
    _band_legend(axes[0].figure, [Line2D([], [], color="0.3", lw=1.6, label="P50 (median)"),
                                  Rectangle((0, 0), 1, 1, facecolor="0.3", alpha=BAND_ALPHA, label="P5–P95")]
                 + (extra or []))


def _band_legend(fig: Figure, handles: list) -> None:
    """A one-row legend at the top right, level with the title's second line: off the data."""
    fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.995, 0.955), ncol=len(handles), fontsize=7.5,
               frameon=False, handlelength=1.8, columnspacing=1.2)


def band_shortfall_figure(bands: pd.DataFrame, countries: list[str], measure: dict[str, str | None]) -> Figure:
    """Monthly unmet end-use magnet demand as a share of demand, P50 and P5-P95, a panel per country."""
    rows = bands[(bands["metric"] == "shortfall_share") & bands["country"].isin(countries)]
    fig, axes = _panels(len(countries) or 1)
    fig.suptitle("unmet end-use magnet demand, share of the country's demand (monthly)")
    top = max(0.05, float(rows["p95"].max()) * 1.1 if len(rows) else 0.0)
    for ax, country in _country_panels(axes, countries):
        _band_series(ax, rows[rows["country"] == country], colour(country))
        ax.set_ylim(0, min(1.0, top))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _band_axes(axes, bands, measure)
    return fig


def band_prices_figure(bands: pd.DataFrame, measure: dict[str, str | None]) -> Figure:
    """Monthly mean oxide price as a multiple of the initial price, P50 and P5-P95, a panel per element."""
    rows = bands[bands["metric"] == "price_multiple"]
    elements = list(dict.fromkeys(rows["element"]))[:MAX_PANELS]
    fig, axes = _panels(len(elements) or 1)
    fig.suptitle("oxide prices, multiple of the initial price (monthly mean)")
    if not elements:
        _empty(axes[0], "no priced elements")
        return fig
    for ax, element in zip(axes, elements):
        ax.set_title(element, fontweight="bold", color=ELEMENT_COLOURS.get(element, "0.2"), loc="left")
        shown = rows[rows["element"] == element]
        _band_series(ax, shown, ELEMENT_COLOURS.get(element, "0.2"))
        ax.axhline(1.0, color="0.5", lw=0.8)
        ax.set_ylim(min(0.95, float(shown["p5"].min()) * 0.97), max(1.1, float(shown["p95"].max()) * 1.05))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    _band_axes(axes, bands, measure)
    return fig


def band_dependency_figure(bands: pd.DataFrame, countries: list[str], measure: dict[str, str | None],
                           on: str = "CN") -> Figure:
    """Monthly oxide dependency on China, direct (solid) and embedded (dashed), P50 and P5-P95 per country."""
    fig, axes = _panels(len(countries) or 1)
    fig.suptitle(f"oxide dependency on {on} (monthly): bought from {on} (solid), passed through {on} (dashed)")
    for ax, country in _country_panels(axes, countries):
        for kind, style, alpha in (("direct", "-", BAND_ALPHA), ("embedded", "--", BAND_ALPHA / 2)):
            rows = bands[(bands["country"] == country) & (bands["metric"] == f"oxide_{kind}_dependency_on_{on}")]
            _band_series(ax, rows, colour(country), lw=1.5 if kind == "direct" else 1.2, ls=style, alpha=alpha)
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _band_axes(axes, bands, measure, [Line2D([], [], color="0.3", lw=1.5, label="direct"),
                                      Line2D([], [], color="0.3", lw=1.2, ls="--", label="embedded")])
    return fig


def headline_bands_figure(headline: pd.DataFrame, limit: int = MAX_RANGE_ROWS) -> Figure:
    """P5-P50-P95 ranges (bar from P5 to P95, dot at P50) of each short country's peak shortfall and weeks
    to end-user shortfall and of each element's peak price; a figure that did not happen in every
    replication is marked with how often it did (its percentiles are of those replications)."""
    short = band_countries(None, headline, limit)
    prices = list(headline.loc[headline["figure"] == "peak_price_multiple", "subject"])
    panels = (("peak_shortfall_share", "peak shortfall", short, PercentFormatter(1.0, decimals=0)),
              ("weeks_to_shortfall", "weeks from first measure\nto end-user shortfall", short, None),
              ("peak_price_multiple", "peak price", prices, FuncFormatter(lambda v, _: f"{v:g}×")))
    fig, axes = plt.subplots(1, 3, figsize=SIZE)
    fig.suptitle("headline figures, P5–P50–P95 over the replications")
    for ax, (figure, title, subjects, formatter) in zip(axes, panels):
        ax.set_title(title, loc="left", fontsize=9, fontweight="bold")
        rows = headline[headline["figure"] == figure].set_index("subject")
        subjects = [s for s in subjects if s in rows.index]
        if not subjects:
            _empty(ax, "none")
            ax.set_yticks([])
            continue
        ys = np.arange(len(subjects))[::-1]
        for y, subject in zip(ys, subjects):
            row = rows.loc[subject]
            low, mid, high = (_number(row[f"p{p}"]) for p in (5, 50, 95))
            c = ELEMENT_COLOURS.get(subject) or colour(subject)
            if np.isnan(mid):
                ax.annotate("never", xy=(0.02, y), xycoords=("axes fraction", "data"), va="center", fontsize=7,
                            color="0.4")
                continue
            ax.plot([low, high], [y, y], color=c, lw=6, alpha=0.35, solid_capstyle="butt")
            ax.plot([mid], [y], "o", color=c, ms=5)
            if row["happened"] < 0.995:
                ax.annotate(f"in {100 * row['happened']:.0f}%", xy=(high, y), xytext=(5, 0),
                            textcoords="offset points", va="center", fontsize=6.5, color="0.35")
        ax.set_yticks(ys, subjects)
        for label, subject in zip(ax.get_yticklabels(), subjects):
            label.set_color(ELEMENT_COLOURS.get(subject) or colour(subject))
            label.set_fontweight("bold")
        ax.set_ylim(-0.7, len(subjects) - 0.3)
        ax.grid(alpha=0.3, axis="x")
        ax.margins(x=0.15)
        if formatter is not None:
            ax.xaxis.set_major_formatter(formatter)
    _band_legend(fig, [Line2D([], [], color="0.3", lw=6, alpha=0.35, solid_capstyle="butt", label="P5–P95"),
                       Line2D([], [], color="0.3", marker="o", ms=5, lw=0, label="P50 (median)")])
    return fig
