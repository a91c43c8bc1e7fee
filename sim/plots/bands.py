"""Band plots of a Monte Carlo ensemble: the P50 line over the P5-P95 band of each monthly series of
``bands.csv``, and the P5-P50-P95 ranges of the headline figures of ``headline_bands.csv``.

An ensemble whose outcome splits on a discrete draw (an event that happens in some replications only, a
choice) is drawn as its groups: a band per group (``Ensemble.group_bands``, the bands of each group of
replications), labelled with what the group drew and how many replications it holds, not one band
spanning both outcomes. The scenario's events (``Ensemble.events``) are marked on every date axis.
"""
from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING, Protocol

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
    colour,
    country_panels,
    mark_events,
    market_handles,
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

BAND_ALPHA = 0.22                 # the P5-P95 band under its P50 line
GROUP_STYLES = ("-", "--", ":", "-.")        # the P50 line of each group of an ensemble split in groups
GROUP_TOP, GROUP_AXES_TOP = 0.9, 0.86        # split in groups: their legend under the title, the axes under it
GROUP_HATCHES = (None, "////", "\\\\\\\\", "..")   # and its band: the first shaded, the others hatched
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
    group_bands: pd.DataFrame     # bands per group of replications (a ``group`` column); empty without groups
    group_headline_bands: pd.DataFrame  # headline bands per group (``group``, ``replications``); empty without
    events: pd.DataFrame          # the scenario's events (``sim.results.events``)


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
                      replications=n, note=note, countries=countries, groups=getattr(ensemble, "group_bands", None),
                      events=getattr(ensemble, "events", None),
                      group_headline=getattr(ensemble, "group_headline_bands", None))


def band_plots(bands: pd.DataFrame, folder: pathlib.Path | str, headline: pd.DataFrame | None = None, *,
               scenario: str = "", replications: int | None = None, note: str = "",
               countries: tuple[str, ...] | None = None, groups: pd.DataFrame | None = None,
               events: pd.DataFrame | None = None, group_headline: pd.DataFrame | None = None) -> list[pathlib.Path]:
    """The band plots from the frames of ``bands.csv`` and (optionally) ``headline_bands.csv``; with
    ``groups`` (bands per group of replications) a band per group, with ``events`` their marks.

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
    if groups is not None and len(groups):
        groups = groups.assign(date=pd.to_datetime(groups["date"]), country=groups["country"].fillna(""),
                               element=groups["element"].fillna(""))
    else:
        groups = None
    figures = {"shortfall": lambda: band_shortfall_figure(bands, countries[:MAX_PANELS], measure, groups, events),
               "prices": lambda: band_prices_figure(bands, measure, groups, events),
               "dependency": lambda: band_dependency_figure(bands, importers[:MAX_PANELS], measure, groups=groups,
                                                            events=events)}
    if headline is not None and len(headline):
        split_headline = group_headline if group_headline is not None and len(group_headline) else None
        figures["headline_bands"] = lambda: headline_bands_figure(headline, groups=split_headline)
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in figures.items():
        fig = draw()
        split = f" in {groups['group'].nunique()} groups" if groups is not None and name != "headline_bands" else ""
        fig.suptitle(f"{scenario + ': ' if scenario else ''}{fig.get_suptitle()}\n{n} replications{split}, "
                     "P5–P95", x=0.01, ha="left", fontweight="bold", fontsize=10)
        paths.append(save_figure(fig, folder / f"{name}.png", note, top=GROUP_AXES_TOP if split else 1.0,
                                 events=events if name != "headline_bands" else None))
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
                 alpha: float = BAND_ALPHA, hatch: str | None = None, label: str | None = None) -> None:
    """One series of the bands frame: P5 to P95 shaded (or hatched), P50 drawn over it."""
    rows = rows.sort_values("date")
    if hatch is None:
        ax.fill_between(rows["date"], rows["p5"], rows["p95"], color=colour_, alpha=alpha, lw=0, label=label)
    else:
        ax.fill_between(rows["date"], rows["p5"], rows["p95"], facecolor="none", edgecolor=colour_, hatch=hatch,
                        alpha=min(1.0, 2.5 * alpha), lw=0, label=label)
    ax.plot(rows["date"], rows["p50"], color=colour_, lw=lw, ls=ls, label=label)


def group_names(groups: pd.DataFrame | None) -> list[str]:
    """The groups of an ensemble split in groups, in their order; [] without groups."""
    return [] if groups is None or groups.empty else list(dict.fromkeys(groups["group"]))


def group_label(groups: pd.DataFrame, name: str, total: int | None = None) -> str:
    """A group as its legend names it: what it drew and how many replications it holds
    ('ban_read_as_defence_only happened: 3 of 12 replications')."""
    n = int(groups.loc[groups["group"] == name, "replications"].max())
    total = total or int(groups.groupby("group")["replications"].max().sum())
    return f"{name}: {n} of {total} replications"


def _grouped_series(ax: Axes, rows: pd.DataFrame, groups: pd.DataFrame | None, select, colour_: str,
                    lw: float = 1.6, ls: str = "-", alpha: float = BAND_ALPHA) -> None:
    """A series of the bands (``rows``) or, with ``groups``, one band per group (the rows ``select`` picks
    from them), each in its line style and shading (``GROUP_STYLES``, ``GROUP_HATCHES``), labelled."""
    if groups is None:
        _band_series(ax, rows, colour_, lw=lw, ls=ls, alpha=alpha)
        return
    chosen = select(groups)
    for k, name in enumerate(group_names(groups)):
        _band_series(ax, chosen[chosen["group"] == name], colour_, lw=lw, ls=GROUP_STYLES[k % len(GROUP_STYLES)],
                     alpha=alpha, hatch=GROUP_HATCHES[k % len(GROUP_HATCHES)], label=group_label(groups, name))


def _group_handles(groups: pd.DataFrame | None) -> list:
    """Legend entries of the groups: each group's line style and shading, with what it drew and its count."""
    handles = []
    for k, name in enumerate(group_names(groups)):
        hatch = GROUP_HATCHES[k % len(GROUP_HATCHES)]
        handles.append(Rectangle((0, 0), 1, 1, facecolor="0.3" if hatch is None else "none", edgecolor="0.3",
                                 alpha=BAND_ALPHA if hatch is None else 0.6, hatch=hatch, lw=0,
                                 label=group_label(groups, name)))
        handles.append(Line2D([], [], color="0.3", lw=1.6, ls=GROUP_STYLES[k % len(GROUP_STYLES)],
                              label=f"P50 of {name}"))
    return handles


def _band_axes(axes: list[Axes], bands: pd.DataFrame, measure: dict[str, str | None],
               extra: list | None = None, groups: pd.DataFrame | None = None,
               events: pd.DataFrame | None = None) -> None:
    """Dates and grid as for runs side by side, the events (else the median first measure) marked, and a
    legend of the line and the band (of each group's, with groups)."""
    for k, ax in enumerate(axes):
        run_axis(ax, bands, measure if events is None else {}, {"P50": "0.35"})
        mark_events(ax, events, label=k == 0 or len(axes) < 3)
    if groups is not None:
        handles = _group_handles(groups)
        axes[0].figure.legend(handles=handles + (extra or []), loc="upper right", bbox_to_anchor=(0.995, GROUP_TOP),
                              ncol=2, fontsize=6.5, frameon=False, handlelength=2.2)   # under the title
        return
    _band_legend(axes[0].figure, [Line2D([], [], color="0.3", lw=1.6, label="P50 (median)"),
                                  Rectangle((0, 0), 1, 1, facecolor="0.3", alpha=BAND_ALPHA, label="P5–P95")]
                 + (extra or []))


def _band_legend(fig: Figure, handles: list) -> None:
    """A one-row legend at the top right, level with the title's second line: off the data."""
    fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.995, 0.955), ncol=len(handles), fontsize=7.5,
               frameon=False, handlelength=1.8, columnspacing=1.2)


def band_shortfall_figure(bands: pd.DataFrame, countries: list[str], measure: dict[str, str | None],
                          groups: pd.DataFrame | None = None, events: pd.DataFrame | None = None) -> Figure:
    """Monthly unmet end-use magnet demand as a share of demand, P50 and P5-P95 (of each group, with
    ``groups``), a panel per country; a country short in no replication says so."""
    rows = bands[(bands["metric"] == "shortfall_share") & bands["country"].isin(countries)]
    fig, axes = panels(len(countries) or 1)
    fig.suptitle("unmet end-use magnet demand, share of the country's demand (monthly)")
    top = max(0.05, float(rows["p95"].max()) * 1.1 if len(rows) else 0.0)
    for ax, country in country_panels(axes, countries):
        mine = rows[rows["country"] == country]
        _grouped_series(ax, mine, groups, lambda g, c=country: g[(g["metric"] == "shortfall_share")
                                                                 & (g["country"] == c)], colour(country))
        if not (mine["p95"] > 1e-6).any():
            note_empty(ax, f"{country} goes short\nin no replication", size=9)
        ax.set_ylim(0, min(1.0, top))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    if not countries:
        note_empty(axes[0], "no country goes short in any replication")
    _band_axes(axes, bands, measure, groups=groups, events=events)
    return fig


def band_prices_figure(bands: pd.DataFrame, measure: dict[str, str | None], groups: pd.DataFrame | None = None,
                       events: pd.DataFrame | None = None) -> Figure:
    """Monthly mean oxide price as a multiple of the initial price (log axis read at ×1.2, ×1.5, ×2 ...),
    P50 and P5-P95, a panel per element; with a home market, outside it solid and in it dashed; with
    ``groups``, a band per group of the price outside the home market."""
    rows = bands[bands["metric"].isin(tuple(PRICE_METRICS.values()))]
    moved = (rows.assign(far=(rows["p95"] - 1).abs().combine((rows["p5"] - 1).abs(), max))
             .groupby("element", sort=False)["far"].max())
    elements = list(moved.sort_values(ascending=False, kind="stable").index)[:MAX_PANELS]   # the most moved
    fig, axes = panels(len(elements) or 1)
    outside = PRICE_METRICS[next(iter(PRICE_METRICS))]
    fig.suptitle("oxide prices, multiple of the initial price (monthly mean)"
                 + (", outside the home market" if groups is not None else ""))
    if not elements:
        note_empty(axes[0], "no priced elements")
        return fig
    for ax, element in zip(axes, elements):
        ax.set_title(element, fontweight="bold", color=ELEMENT_COLOURS.get(element, "0.2"), loc="left")
        shown = rows[rows["element"] == element]
        tint = ELEMENT_COLOURS.get(element, "0.2")
        if groups is not None:
            _grouped_series(ax, shown[shown["metric"] == outside], groups,
                            lambda g, e=element: g[(g["metric"] == outside) & (g["element"] == e)], tint)
        else:
            for market, metric in PRICE_METRICS.items():
                _band_series(ax, shown[shown["metric"] == metric], tint, ls=MARKET_STYLES[market],
                             alpha=BAND_ALPHA if market != HOME else BAND_ALPHA / 2)
        if not (moves(shown["p5"]) or moves(shown["p95"])):
            note_empty(ax, "no price moves\nin any replication", size=9)
        multiple_axis(ax, *multiple_range(pd.concat([shown["p5"], shown["p95"]])))
    home = (rows["metric"] == PRICE_METRICS[HOME]).any() and groups is None
    _band_axes(axes, bands, measure, market_handles("the home market" if home else None), groups, events)
    return fig


def band_dependency_figure(bands: pd.DataFrame, countries: list[str], measure: dict[str, str | None],
                           on: str = "CN", groups: pd.DataFrame | None = None,
                           events: pd.DataFrame | None = None) -> Figure:
    """Monthly oxide dependency on China, direct (solid) and embedded (dashed), P50 and P5-P95 per country;
    with ``groups``, a band per group of the direct dependency."""
    fig, axes = panels(len(countries) or 1)
    if groups is None:
        fig.suptitle(f"oxide dependency on {on} (monthly): bought from {on} (solid), passed through {on} (dashed)")
    else:
        fig.suptitle(f"oxide dependency on {on} (monthly): share of oxide imports bought from {on}")
    if not countries:
        note_empty(axes[0], f"no followed country imports oxide from {on}")
    for ax, country in country_panels(axes, countries):
        kinds = (("direct", "-", BAND_ALPHA), ("embedded", "--", BAND_ALPHA / 2))
        for kind, style, alpha in kinds[:1] if groups is not None else kinds:
            metric = f"oxide_{kind}_dependency_on_{on}"
            rows = bands[(bands["country"] == country) & (bands["metric"] == metric)]
            _grouped_series(ax, rows, groups, lambda g, c=country, m=metric: g[(g["country"] == c)
                                                                               & (g["metric"] == m)],
                            colour(country), lw=1.5 if kind == "direct" else 1.2, ls=style, alpha=alpha)
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    extra = [] if groups is not None else [Line2D([], [], color="0.3", lw=1.5, label="direct"),
                                           Line2D([], [], color="0.3", lw=1.2, ls="--", label="embedded")]
    _band_axes(axes, bands, measure, extra, groups, events)
    return fig


def headline_bands_figure(headline: pd.DataFrame, limit: int = MAX_RANGE_ROWS,
                          groups: pd.DataFrame | None = None) -> Figure:
    """P5-P50-P95 ranges (bar from P5 to P95, dot at P50) of each short country's peak shortfall and weeks
    to end-user shortfall and of each element's peak price; a figure that did not happen in every
    replication is marked with how often it did (its percentiles are of those replications). With
    ``groups`` (headline bands per group of replications) each subject gets a bar per group, not one bar
    across an outcome that splits in two."""
    short = band_countries(None, headline, limit)
    if groups is not None:
        return _grouped_headline_figure(_by_market(groups), short)
    headline = _by_market(headline)
    panels = _headline_panels(headline, short)
    fig, axes = new_figure(ncols=3)
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
        _subject_axis(ax, subjects, ys, formatter)
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


def _grouped_headline_figure(groups: pd.DataFrame, short: list[str]) -> Figure:
    """``headline_bands_figure`` with a bar per group of replications for each subject (the group's line style,
    its name and count in the legend)."""
    names = list(dict.fromkeys(groups["group"]))
    panels = _headline_panels(groups, short)
    total = int(groups.groupby("group")["replications"].max().sum())
    fig, axes = new_figure(ncols=3)
    fig.suptitle("headline figures, P5–P50–P95 over the replications of each group")
    step = 0.8 / max(len(names), 1)
    for ax, (figure, title, subjects, formatter) in zip(axes, panels):
        ax.set_title(title, loc="left", fontsize=9, fontweight="bold")
        rows = groups[groups["figure"] == figure]
        subjects = [s for s in subjects if s in set(rows["subject"])]
        if not subjects:
            note_empty(ax, "none")
            ax.set_yticks([])
            continue
        ys = np.arange(len(subjects))[::-1]
        for y, subject in zip(ys, subjects):
            for k, name in enumerate(names):
                row = rows[(rows["subject"] == subject) & (rows["group"] == name)]
                yk = y + 0.4 - step / 2 - k * step
                if row.empty or np.isnan(_number(row.iloc[0]["p50"])):
                    ax.annotate("never", xy=(0.02, yk), xycoords=("axes fraction", "data"), va="center",
                                fontsize=6.5, color="0.4")
                    continue
                low, mid, high = (_number(row.iloc[0][f"p{p}"]) for p in (5, 50, 95))
                c = _tint(subject)
                ax.plot([low, high], [yk, yk], color=c, lw=5, alpha=0.35, solid_capstyle="butt",
                        ls=GROUP_STYLES[k % len(GROUP_STYLES)])
                ax.plot([mid], [yk], marker="os^D"[k % 4], color=c, ms=5, lw=0)
        _subject_axis(ax, subjects, ys, formatter)
    _band_legend(fig, [Line2D([], [], color="0.3", marker="os^D"[k % 4], ms=5, lw=0,
                              label=group_label(groups, name, total)) for k, name in enumerate(names)])
    return fig


def _subject_axis(ax: Axes, subjects: list[str], ys: np.ndarray, formatter) -> None:
    """A headline panel's axis: a row per subject, named in its colour, and the figure's number format."""
    ax.set_yticks(ys, subjects)
    for label, subject in zip(ax.get_yticklabels(), subjects):
        label.set_color(_tint(subject))
        label.set_fontweight("bold")
    ax.set_ylim(-0.7, len(subjects) - 0.3)
    ax.grid(alpha=0.3, axis="x")
    ax.margins(x=0.15)
    if formatter is not None:
        ax.xaxis.set_major_formatter(formatter)


def _headline_panels(headline: pd.DataFrame, short: list[str]) -> tuple:
    """The three headline panels: (figure, title, subjects, number format) for the peak shortfall and the
    weeks to it of the ``short`` countries, and the peak price of every priced item in ``headline``."""
    prices = list(dict.fromkeys(headline.loc[headline["figure"] == "peak_price_multiple", "subject"]))
    return (("peak_shortfall_share", "peak shortfall", short, PercentFormatter(1.0, decimals=0)),
            ("weeks_to_shortfall", "weeks from first measure\nto end-user shortfall", short, None),
            ("peak_price_multiple", "peak price", prices, FuncFormatter(lambda v, _: multiple(v))))
