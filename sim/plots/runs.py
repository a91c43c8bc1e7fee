"""Runs side by side: a comparison's monthly series overlaid, a line per run, and a sweep's headline figure
against the swept parameter."""
from __future__ import annotations

import datetime as dt
import pathlib
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..results.headlines import number, text
from ..results.series import PRICE_METRICS
from ..world.markets import HOME
from .style import (
    ELEMENT_COLOURS,
    MARKET_STYLES,
    MAX_PANELS,
    country_panels,
    date_axis,
    moves,
    multiple,
    multiple_axis,
    multiple_range,
    new_figure,
    note_empty,
    panels,
    run_axis,
    save_figure,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

REFERENCE_COLOUR = "0.2"          # the first scenario of a comparison, against which the others are read
RUN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


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
    return [save_figure(draw(), folder / f"{name}.png", note) for name, draw in (
        ("shortfall", lambda: overlay_shortfall_figure(monthly, labels, countries, measures, colours)),
        ("prices", lambda: overlay_prices_figure(monthly, labels, measures, colours)),
        ("dependency", lambda: overlay_dependency_figure(monthly, labels, countries, measures, colours)))]


def sweep_plots(folder: pathlib.Path, values: list, metric_values: list, parameter: str, metric: str, label: str,
                unit: str, monthly: pd.DataFrame, labels: list[str], countries: list[str],
                measures: dict[str, str | None], note: str) -> list[pathlib.Path]:
    """The swept figure against the parameter (``<metric>.png``, ``label`` its title) and monthly shortfall,
    a line per value."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    colours = run_colours(labels, sequential=True)
    countries = list(countries)[:MAX_PANELS]
    return [save_figure(sweep_figure(values, metric_values, parameter, label, unit), folder / f"{metric}.png", note),
            save_figure(overlay_shortfall_figure(monthly, labels, countries, measures, colours, legend=parameter),
                        folder / "shortfall.png", note)]


def _run_legend(ax: Axes, labels: list[str], title: str | None = None) -> None:
    """A legend of the runs in the first panel (left out past a dozen runs, where it would hide the lines)."""
    if len(labels) <= 12:
        ax.legend(loc="best", fontsize=7, frameon=True, framealpha=0.85, title=title, title_fontsize=7)


def overlay_shortfall_figure(monthly: pd.DataFrame, labels: list[str], countries: list[str],
                             measures: dict[str, str | None], colours: dict[str, str],
                             legend: str | None = None) -> Figure:
    """Monthly unmet end-use magnet demand as a share of demand, a panel per country, a line per run."""
    rows = monthly[monthly["metric"] == "shortfall_share"]
    fig, axes = panels(len(countries) or 1)
    fig.suptitle("Unmet end-use magnet demand, share of the country's demand (monthly, %)", x=0.01, ha="left",
                 fontweight="bold", fontsize=11)
    top = max(0.05, float(rows[rows["country"].isin(countries)]["value"].max() if len(rows) else 0) * 1.1)
    for ax, country in country_panels(axes, countries):
        for label in labels:
            line = rows[(rows["scenario"] == label) & (rows["country"] == country)].sort_values("date")
            ax.plot(line["date"], line["value"], color=colours[label], lw=1.6, label=label)
        ax.set_ylim(0, min(1.0, top))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        run_axis(ax, monthly, measures, colours)
    _run_legend(axes[0], labels, legend)
    return fig


def overlay_prices_figure(monthly: pd.DataFrame, labels: list[str], measures: dict[str, str | None],
                          colours: dict[str, str]) -> Figure:
    """Monthly mean price of each priced oxide as a multiple of its initial price, a panel per element, a
    line per run; a run with a home market has a second, dashed line for it."""
    rows = monthly[monthly["metric"].isin(tuple(PRICE_METRICS.values()))]
    elements = list(dict.fromkeys(rows["element"])) if len(rows) else []
    fig, axes = panels(len(elements[:MAX_PANELS]) or 1)
    home = (rows["metric"] == PRICE_METRICS[HOME]).any()
    fig.suptitle("Oxide prices, multiple of the initial price (monthly mean)" + (
        ": outside the home market solid, in it dashed" if home else ""), x=0.01, ha="left", fontweight="bold",
        fontsize=11)
    if not elements:
        note_empty(axes[0], "no priced elements")
        return fig
    for ax, element in zip(axes, elements):
        ax.set_title(element, fontweight="bold", color=ELEMENT_COLOURS.get(element, "0.2"), loc="left")
        for label in labels:
            for market, metric in PRICE_METRICS.items():
                line = rows[(rows["scenario"] == label) & (rows["element"] == element)
                            & (rows["metric"] == metric)].sort_values("date")
                ax.plot(line["date"], line["value"], color=colours[label], lw=1.6, ls=MARKET_STYLES[market],
                        label=label if market != HOME else None)
        shown = rows[rows["element"] == element]["value"]
        if not moves(shown):
            note_empty(ax, "no price moves in any run", size=9)
        multiple_axis(ax, *multiple_range(shown))       # log, read at ×1.2, ×1.5, ×2 ...; no zoom on noise
        run_axis(ax, monthly, measures, colours)
    _run_legend(axes[0], labels)
    return fig


def overlay_dependency_figure(monthly: pd.DataFrame, labels: list[str], countries: list[str],
                              measures: dict[str, str | None], colours: dict[str, str], on: str = "CN") -> Figure:
    """Monthly oxide dependency on China, direct (solid) and embedded (dashed), a panel per country."""
    fig, axes = panels(len(countries) or 1)
    fig.suptitle(f"Oxide dependency on {on} (monthly): imports bought from {on} (solid), use that passed "
                 f"through {on} (dashed)", x=0.01, ha="left", fontweight="bold", fontsize=10)
    for ax, country in country_panels(axes, countries):
        for label in labels:
            for kind, style in (("direct", "-"), ("embedded", "--")):
                line = monthly[(monthly["scenario"] == label) & (monthly["country"] == country)
                               & (monthly["metric"] == f"oxide_{kind}_dependency_on_{on}")].sort_values("date")
                ax.plot(line["date"], line["value"], color=colours[label], lw=1.5 if kind == "direct" else 1.2,
                        ls=style, label=label if kind == "direct" else None)
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        run_axis(ax, monthly, measures, colours)
    _run_legend(axes[0], labels)
    return fig


def grid_plots(folder: pathlib.Path, grid: pd.DataFrame, rows: str, columns: str, metric: str, label: str, unit: str,
               monthly: pd.DataFrame, labels: list[str], countries: list[str], measures: dict[str, str | None],
               note: str) -> list[pathlib.Path]:
    """A grid of two parameters: the figure as a heat map (``<metric>.png``; ``grid``: a row per value of the
    first parameter, a column per value of the second) and monthly shortfall, a line per pair of values."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    colours = run_colours(labels, sequential=True)
    return [save_figure(heatmap_figure(grid, rows, columns, label, unit), folder / f"{metric}.png", note),
            save_figure(overlay_shortfall_figure(monthly, labels, list(countries)[:MAX_PANELS], measures, colours,
                                                 legend=f"{rows}, {columns}"), folder / "shortfall.png", note)]


def heatmap_figure(grid: pd.DataFrame, rows: str, columns: str, label: str, unit: str) -> Figure:
    """A cell per pair of values, coloured by the figure and labelled with it (dates as days after the earliest);
    cells where it never happened are grey and say 'none'."""
    numbers = np.array([[np.nan if v is None else number(v, unit) for v in row] for row in grid.to_numpy()],
                       dtype=float)
    fig, ax = new_figure((max(5.0, 1.2 + 1.1 * grid.shape[1]), max(3.0, 1.4 + 0.6 * grid.shape[0])))
    shown = np.ma.masked_invalid(numbers)
    image = ax.imshow(shown, cmap=matplotlib.colormaps["magma_r"].with_extremes(bad="0.85"), aspect="auto")
    for (i, j), v in np.ndenumerate(grid.to_numpy()):
        cell = "none" if v is None or (isinstance(v, float) and np.isnan(v)) else text(v, unit)
        dark = np.isfinite(numbers[i, j]) and image.norm(numbers[i, j]) > 0.55
        ax.text(j, i, cell, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index])
    ax.set_xlabel(columns)
    ax.set_ylabel(rows)
    ax.set_title(label + (f" ({unit})" if unit not in ("share", "date") else ""), loc="left", fontweight="bold",
                 fontsize=10)
    return fig


def sweep_figure(values: list, metric_values: list, parameter: str, metric: str, unit: str) -> Figure:
    """One headline figure against the swept parameter's values; runs where it never happened marked 'none'."""
    fig, ax = new_figure()
    ax.set_title(f"{metric} against {parameter}", loc="left", fontweight="bold")
    x, ticks = _sweep_axis(values)
    y = [np.nan if v is None else (pd.Timestamp(v) if unit == "date" else float(v)) for v in metric_values]
    have = [(a, b) for a, b in zip(x, y) if not (isinstance(b, float) and np.isnan(b))]
    if have:
        ax.plot([a for a, _ in have], [b for _, b in have], color="#1f77b4", lw=1.6, marker="o", ms=5)
    else:
        note_empty(ax, f"{metric}: none in any run")
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
        date_axis(ax)
    if unit == "share":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(bottom=0)
    elif unit == "date":
        date_axis(ax, minticks=3, axis="y")
    elif unit == "x initial":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: multiple(v)))
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlabel(parameter)
    ax.set_ylabel(unit)
    ax.grid(alpha=0.3)
    return fig


def _sweep_axis(values: list) -> tuple[list, list[str] | None]:
    """Positions of swept values: numbers as numbers, dates as dates, anything else evenly with its text."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], None
    if all(isinstance(v, (dt.date, pd.Timestamp)) for v in values):
        return [pd.Timestamp(v) for v in values], None
    return list(range(len(values))), [str(v) for v in values]
