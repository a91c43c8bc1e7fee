"""What every plot shares: figure size and resolution, the colours of countries and elements, date axes,
panels per country, and the atomic PNG writer."""
from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING, Iterator

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from ..files import atomic_write
from ..world.markets import HOME, OUTSIDE, WORLD

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110
SIZE = (9.0, 5.0)                 # inches
MAX_PANELS = 4                    # countries or elements side by side in one figure
LEAD_MONTHS = 6                   # runs side by side are shown from this long before their first measure
COUNTRY_COLOURS = {
    "CN": "#c62828", "JP": "#1565c0", "KR": "#6a1b9a", "US": "#2e7d32", "AU": "#ef6c00", "MY": "#00838f",
    "VN": "#9e9d24", "MM": "#8d6e63", "TH": "#ad1457", "LA": "#5d4037", "IN": "#f9a825", "BR": "#43a047",
    "RU": "#455a64", "KZ": "#00695c", "EE": "#3949ab", "DE": "#212121", "FR": "#0277bd", "NG": "#7cb342",
    "MG": "#d84315", "ROW": "#9e9e9e", "other": "#bdbdbd",
}
FALLBACK_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f")
ELEMENT_COLOURS = {"Dy": "#d95f02", "Tb": "#7570b3", "NdPr": "#1b9e77"}
ELEMENT_STYLES = {"Dy": "-", "Tb": "-", "NdPr": "--"}
# a price's line by market (sim.world.markets): the price most buyers pay solid, the home market's dashed
MARKET_STYLES = {WORLD: "-", OUTSIDE: "-", HOME: "--"}


def colour(country: str, countries: tuple[str, ...] = ()) -> str:
    """Fixed colour of a country (China red); unknown codes get a palette colour by their position."""
    if country in COUNTRY_COLOURS:
        return COUNTRY_COLOURS[country]
    k = countries.index(country) if country in countries else sum(map(ord, country))
    return FALLBACK_COLOURS[k % len(FALLBACK_COLOURS)]


def item_colour(item: str, items: tuple[str, ...] | list[str] = ()) -> str:
    """Fixed colour of Dy, Tb and NdPr; any other element or grade a palette colour by its position."""
    if item in ELEMENT_COLOURS:
        return ELEMENT_COLOURS[item]
    k = list(items).index(item) if item in items else sum(map(ord, item))
    return FALLBACK_COLOURS[k % len(FALLBACK_COLOURS)]


def market_handles(home: str | None) -> list[Line2D]:
    """Legend entries of the two markets' line styles (none with one world market)."""
    if home is None:
        return []
    return [Line2D([], [], color="0.3", lw=1.6, ls=MARKET_STYLES[OUTSIDE], label=f"outside {home}"),
            Line2D([], [], color="0.3", lw=1.6, ls=MARKET_STYLES[HOME], label=f"in {home}")]


def new_figure(**kwargs) -> tuple[Figure, Axes | np.ndarray]:
    """A briefing-sized figure (``SIZE`` inches) with ``plt.subplots`` axes."""
    return plt.subplots(figsize=SIZE, **kwargs)


def save_figure(fig: Figure, path: pathlib.Path, note: str, top: float = 1.0) -> pathlib.Path:
    """Footnote, lay out (the axes below ``top``, a share of the height, so a title above them has room),
    write at ``DPI`` atomically (a temporary file moved into place) and close."""
    fig.text(0.005, 0.005, note, fontsize=7, color="0.4", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, top))
    try:
        return atomic_write(pathlib.Path(path), lambda p: fig.savefig(p, dpi=DPI, format=pathlib.Path(path).suffix[1:]))
    finally:
        plt.close(fig)      # a briefing or an ensemble draws many figures; none is kept open


def date_axis(ax: Axes, maxticks: int = 8, minticks: int = 2, axis: str = "x") -> None:
    """Year/month ticks on a date axis (``x`` or ``y``) that stay short on narrow panels."""
    locator = mdates.AutoDateLocator(minticks=minticks, maxticks=maxticks)
    dates = ax.xaxis if axis == "x" else ax.yaxis
    dates.set_major_locator(locator)
    dates.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def note_empty(ax: Axes, text: str) -> None:
    """A grey note in the middle of an axis that has nothing to show."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=12, color="0.45")


def tonnage(t: float) -> str:
    """A tonnage for a label: '39 kt', '4.2 kt', '43 t'."""
    if t >= 9.95e3:
        return f"{t / 1e3:.0f} kt"
    return f"{t / 1e3:.1f} kt" if t >= 950 else f"{t:.0f} t"


def panels(n: int) -> tuple[Figure, list[Axes]]:
    """One to four panels sharing the date axis: a row of up to three, or two by two."""
    n = max(1, min(n, MAX_PANELS))
    rows, cols = (2, 2) if n == 4 else (1, n)
    fig, axes = plt.subplots(rows, cols, figsize=SIZE, sharex=True, squeeze=False)
    return fig, list(axes.flat)


def country_panels(axes: list[Axes], countries: list[str]) -> Iterator[tuple[Axes, str]]:
    """(panel, country) pairs, each panel titled in the country's colour; one empty panel when there are none."""
    if not countries:
        note_empty(axes[0], "no country to follow")
        return
    for ax, country in zip(axes, countries):
        ax.set_title(country, fontweight="bold", color=colour(country), loc="left")
        yield ax, country


def run_axis(ax: Axes, monthly: pd.DataFrame, measures: dict[str, str | None], colours: dict[str, str]) -> None:
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
    date_axis(ax, maxticks=5)
    for start, owners in by_date.items():
        ax.axvline(pd.Timestamp(start), ls=":", lw=0.9, zorder=1,
                   color=colours[owners[0]] if len(owners) == 1 and len(by_date) > 1 else "0.35")
