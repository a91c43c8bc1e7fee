"""Band plots of a Monte Carlo ensemble: the P50 line over the P5-P95 band of each monthly series of
``bands.csv``, and the P5-P50-P95 ranges of the headline figures of ``headline_bands.csv``.

They read those two tables only, so an ensemble on disk can be drawn again without its replications.
"""
from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING, Protocol

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..results.series import PRICE_METRICS
from ..world.markets import HOME
from .style import (
    ELEMENT_COLOURS,
    MARKET_STYLES,
    MAX_PANELS,
    SIZE,
    colour,
    country_panels,
    market_handles,
    note_empty,
    panels,
    run_axis,
    save_figure,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BAND_ALPHA = 0.22                 # the P5-P95 band under its P50 line
MAX_RANGE_ROWS = 12               # countries in the headline range chart


class Titled(Protocol):
    name: str
    title: str


class EnsembleTables(Protocol):
    """What the band plots read of an ensemble (``sim.experiments.ensemble.Ensemble`` is one): its tables and
    where and of what it was run; named here so that plots import nothing from ``experiments``."""

    folder: pathlib.Path
    scenario: Titled
    seed: int
    summaries: list
    bands: pd.DataFrame
    headline_bands: pd.DataFrame


def plot_ensemble(ensemble: EnsembleTables, folder: pathlib.Path | str | None = None,
                  countries: tuple[str, ...] | None = None) -> list[pathlib.Path]:
    """Band plots of an ensemble into ``folder`` (default ``<ensemble folder>/plots``).

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
    unmet demand (in the dependency plot, those of them that import oxide). Each PNG is written
    atomically; the folder is created. ``headline_bands.png`` needs ``headline``.
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
        paths.append(save_figure(fig, folder / f"{name}.png", note))
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


def _band_axes(axes: list[Axes], bands: pd.DataFrame, measure: dict[str, str | None],
               extra: list | None = None) -> None:
    """Dates and grid as for runs side by side, and a legend of the line and the band."""
    for ax in axes:
        run_axis(ax, bands, measure, {"P50": "0.35"})
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
    fig, axes = panels(len(countries) or 1)
    fig.suptitle("unmet end-use magnet demand, share of the country's demand (monthly)")
    top = max(0.05, float(rows["p95"].max()) * 1.1 if len(rows) else 0.0)
    for ax, country in country_panels(axes, countries):
        _band_series(ax, rows[rows["country"] == country], colour(country))
        ax.set_ylim(0, min(1.0, top))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _band_axes(axes, bands, measure)
    return fig


def band_prices_figure(bands: pd.DataFrame, measure: dict[str, str | None]) -> Figure:
    """Monthly mean oxide price as a multiple of the initial price, P50 and P5-P95, a panel per element; with
    a home market, outside it solid and in it dashed."""
    rows = bands[bands["metric"].isin(tuple(PRICE_METRICS.values()))]
    elements = list(dict.fromkeys(rows["element"]))[:MAX_PANELS]
    fig, axes = panels(len(elements) or 1)
    fig.suptitle("oxide prices, multiple of the initial price (monthly mean)")
    if not elements:
        note_empty(axes[0], "no priced elements")
        return fig
    for ax, element in zip(axes, elements):
        ax.set_title(element, fontweight="bold", color=ELEMENT_COLOURS.get(element, "0.2"), loc="left")
        shown = rows[rows["element"] == element]
        for market, metric in PRICE_METRICS.items():
            _band_series(ax, shown[shown["metric"] == metric], ELEMENT_COLOURS.get(element, "0.2"),
                         ls=MARKET_STYLES[market], alpha=BAND_ALPHA if market != HOME else BAND_ALPHA / 2)
        ax.axhline(1.0, color="0.5", lw=0.8)
        ax.set_ylim(min(0.95, float(shown["p5"].min()) * 0.97), max(1.1, float(shown["p95"].max()) * 1.05))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    home = (rows["metric"] == PRICE_METRICS[HOME]).any()
    _band_axes(axes, bands, measure, market_handles("the home market" if home else None))
    return fig


def band_dependency_figure(bands: pd.DataFrame, countries: list[str], measure: dict[str, str | None],
                           on: str = "CN") -> Figure:
    """Monthly oxide dependency on China, direct (solid) and embedded (dashed), P50 and P5-P95 per country."""
    fig, axes = panels(len(countries) or 1)
    fig.suptitle(f"oxide dependency on {on} (monthly): bought from {on} (solid), passed through {on} (dashed)")
    for ax, country in country_panels(axes, countries):
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
    headline = _by_market(headline)
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
            note_empty(ax, "none")
            ax.set_yticks([])
            continue
        ys = np.arange(len(subjects))[::-1]
        for y, subject in zip(ys, subjects):
            row = rows.loc[subject]
            low, mid, high = (_number(row[f"p{p}"]) for p in (5, 50, 95))
            c = _tint(subject)
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
            label.set_color(_tint(subject))
            label.set_fontweight("bold")
        ax.set_ylim(-0.7, len(subjects) - 0.3)
        ax.grid(alpha=0.3, axis="x")
        ax.margins(x=0.15)
        if formatter is not None:
            ax.xaxis.set_major_formatter(formatter)
    _band_legend(fig, [Line2D([], [], color="0.3", lw=6, alpha=0.35, solid_capstyle="butt", label="P5–P95"),
                       Line2D([], [], color="0.3", marker="o", ms=5, lw=0, label="P50 (median)")])
    return fig


def _by_market(headline: pd.DataFrame) -> pd.DataFrame:
    """With a home market, each item's peak price outside it and in it as two subjects, one under the other
    ("Dy outside", "Dy home"); without one, the headline as it is."""
    home = headline[headline["figure"] == "home_peak_price_multiple"]
    if home.empty:
        return headline
    outside = headline[headline["figure"] == "peak_price_multiple"]
    both = pd.concat([outside.assign(subject=outside["subject"] + " outside", order=2 * np.arange(len(outside))),
                      home.assign(subject=home["subject"] + " home", figure="peak_price_multiple",
                                  order=[2 * list(outside["subject"]).index(s) + 1 for s in home["subject"]])])
    rest = headline[~headline["figure"].isin(("peak_price_multiple", "home_peak_price_multiple"))]
    return pd.concat([rest, both.sort_values("order").drop(columns="order")], ignore_index=True)


def _tint(subject: str) -> str:
    """The colour of a subject: an element's own, else a country's (a price by market: its item's)."""
    item = subject.split(" ")[0]
    return ELEMENT_COLOURS.get(item) or colour(item)
