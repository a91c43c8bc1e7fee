"""What every plot shares: figure size and resolution, the colours of countries and elements, date axes,
price-multiple axes, the marks of a scenario's events, legends off the data, panels per country, and the
atomic PNG writer."""
from __future__ import annotations

import io
import pathlib
import zlib
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedFormatter, FixedLocator, FuncFormatter, NullFormatter

from ..files import atomic_write
from ..world.markets import HOME, OUTSIDE, WORLD

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from matplotlib.axes import Axes

DPI = 110
SIZE = (9.0, 5.0)                 # inches
PNG_LEVEL = 1                     # zlib's fastest: a third of the time of the default level, files 3-17% larger
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
    """Fixed colour of a country (China red), the same in every plot of a run, a comparison or an ensemble;
    a code outside ``COUNTRY_COLOURS`` gets a palette colour chosen by the code alone (``countries``, the
    run's, is accepted and ignored, so that no plot can colour a country by its position)."""
    if country in COUNTRY_COLOURS:
        return COUNTRY_COLOURS[country]
    return FALLBACK_COLOURS[zlib.crc32(country.encode()) % len(FALLBACK_COLOURS)]


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


def figure(size: tuple[float, float] = SIZE) -> Figure:
    """An empty figure ``size`` inches large at the resolution it is written at (``DPI``).

    Made without pyplot: nothing global holds it (nothing to close), and pyplot is never imported. At
    ``DPI`` from the start, on an Agg canvas of its own: the layout measures its text with the renderer that
    then draws it, which keeps what it measured (on matplotlib's base canvas, each would make a renderer of its
    own, and every text would be measured twice)."""
    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def new_figure(size: tuple[float, float] = SIZE, **subplots) -> tuple[Figure, Axes | np.ndarray]:
    """A figure (``figure``; briefing-sized by default) with axes as ``Figure.subplots(**subplots)`` lays them."""
    fig = figure(size)
    return fig, fig.subplots(**subplots)


def save_figure(fig: Figure, path: pathlib.Path, note: str, top: float = 1.0,
                events: pd.DataFrame | None = None) -> pathlib.Path:
    """Footnote, the key of the ``events`` numbered on the axes (if any) above it, lay out (the axes below
    ``top``, a share of the height, so a title above them has room), write at ``DPI`` atomically (a
    temporary file moved into place)."""
    fig.text(0.005, 0.005, note, fontsize=7, color="0.4", ha="left", va="bottom")
    bottom = event_key(fig, events)
    fix_date_ticks(fig)
    with measured_once(fig):
        fig.tight_layout(rect=(0, bottom, 1, top))
    # tight_layout leaves a placeholder layout engine behind, for which savefig would draw the whole figure
    # once more, unseen, before drawing it: the layout is done, so none is left
    fig.set_layout_engine(None)
    kind = pathlib.Path(path).suffix[1:]
    fast = {"pil_kwargs": {"compress_level": PNG_LEVEL}} if kind == "png" else {}
    return atomic_write(pathlib.Path(path), lambda p: fig.savefig(p, dpi=DPI, format=kind, **fast))


def fix_date_ticks(fig: Figure) -> None:
    """Fix the ticks and labels of each date axis of ``fig`` (its dates final) where its locator puts them: they
    depend on the dates alone, not on the axes' size, and the layout and the drawing would work them out again
    a dozen times a figure."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            locator = axis.get_major_locator()
            if isinstance(locator, mdates.AutoDateLocator):     # an axis sharing it has it fixed already
                ticks = locator()
                labels = axis.get_major_formatter().format_ticks(ticks)
                axis.set_major_locator(FixedLocator(ticks))
                axis.set_major_formatter(FixedFormatter(labels))


@contextmanager
def measured_once(fig: Figure) -> Iterator[None]:
    """Within the block, each axes of ``fig`` measures its tight box once: a tight layout in a ``rect`` measures
    every axes twice where it stands (two passes, the second fitting the first's margins into the rect), and
    the two measures are the same boxes."""
    for ax in fig.axes:
        measure, boxes = ax.get_tightbbox, {}

        def once(*args, _measure=measure, _boxes=boxes, **kwargs):
            key = (*map(id, args), *sorted(kwargs.items()))
            if key not in _boxes:
                _boxes[key] = _measure(*args, **kwargs)
            return _boxes[key]
        ax.get_tightbbox = once
    try:
        yield
    finally:
        for ax in fig.axes:
            del ax.get_tightbbox


def ready_to_draw() -> None:
    """Load what the first figure loads (the Agg renderer, the fonts, the PNG writer) by writing a figure of
    two words to memory: for a process with time on its hands before its figures."""
    fig = figure((1.0, 1.0))
    fig.text(0.1, 0.1, "0")
    fig.text(0.1, 0.5, "0", fontweight="bold")
    fig.savefig(io.BytesIO(), dpi=DPI, format="png", pil_kwargs={"compress_level": PNG_LEVEL})


def date_axis(ax: Axes, maxticks: int = 8, minticks: int = 2, axis: str = "x") -> None:
    """Year/month ticks on a date axis (``x`` or ``y``) that stay short on narrow panels."""
    locator = mdates.AutoDateLocator(minticks=minticks, maxticks=maxticks)
    dates = ax.xaxis if axis == "x" else ax.yaxis
    dates.set_major_locator(locator)
    dates.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def note_empty(ax: Axes, text: str, size: float = 12) -> None:
    """A grey note in the middle of an axis that says why it has nothing (or nothing moving) to show."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=size, color="0.45",
            gid="empty-note", zorder=6, bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="none", alpha=0.8))


def tonnage(t: float) -> str:
    """A tonnage for a label: '39 kt', '4.2 kt', '43 t'."""
    if t >= 9.95e3:
        return f"{t / 1e3:.0f} kt"
    return f"{t / 1e3:.1f} kt" if t >= 950 else f"{t:.0f} t"


def panels(n: int) -> tuple[Figure, list[Axes]]:
    """One to four panels sharing the date axis: a row of up to three, or two by two."""
    n = max(1, min(n, MAX_PANELS))
    rows, cols = (2, 2) if n == 4 else (1, n)
    fig, axes = new_figure(nrows=rows, ncols=cols, sharex=True, squeeze=False)
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


# ---------------------------------------------------------------- price multiples
# the multiples a price axis labels, a log axis read like a ruler (x1.3 sits between x1.2 and x1.5), by rank:
# the first rank always (within the axis), the next ones while the axis has room for them
MULTIPLE_RANKS = ((0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0), (0.3, 0.7, 1.5, 3.0), (0.8, 1.2),
                  (0.9, 1.1, 1.3))
TICK_SPACING_IN = 0.16            # inches a labelled tick needs on a price axis


def multiple(v: float) -> str:
    """A price multiple as an axis reads it: '×1.3', '×20'."""
    return f"×{v:g}"


def multiple_ticks(low: float, high: float, room: float = 3.0) -> list[float]:
    """The multiples labelled on a log axis from ``low`` to ``high`` that is ``room`` inches tall: each rank
    of ``MULTIPLE_RANKS`` in turn, while their log spacing leaves ``TICK_SPACING_IN`` between labels."""
    import math

    decades = math.log10(high / low)
    shown: list[float] = []
    for rank, values in enumerate(MULTIPLE_RANKS):
        more = sorted(shown + [v for v in values if low <= v <= high])
        gaps = [math.log10(b / a) / decades * room for a, b in zip(more, more[1:])]
        if rank and gaps and min(gaps) < TICK_SPACING_IN:
            break
        shown = more
    return shown


def multiple_axis(ax: Axes, low: float, high: float) -> None:
    """A log y axis from ``low`` to ``high`` (multiples of the initial price) labelled at ×1.2, ×1.5, ×2, ×3,
    ×5, ×10, ×20 ... as its height allows (×1.1, ×1.3 on a narrow range), with a grey line at ×1."""
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    room = ax.get_position().height * ax.figure.get_figheight() * 0.8     # the layout shrinks the axes a little
    ax.yaxis.set_major_locator(FixedLocator(multiple_ticks(low, high, room)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: multiple(v)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.axhline(1.0, color="0.5", lw=0.8)


def multiple_range(values: pd.Series | list[float]) -> tuple[float, float]:
    """The range of a price-multiple axis: the data's, a little wider, and never narrower than ×0.95 to ×1.1
    (so that noise is not zoomed into a move)."""
    values = pd.Series(values, dtype=float).dropna()
    if values.empty:
        return 0.95, 1.1
    return min(0.95, float(values.min()) * 0.95), max(1.1, float(values.max()) * 1.1)


def moves(values: pd.Series, tolerance: float = 0.005) -> bool:
    """Whether a price multiple leaves ×1 by more than ``tolerance`` (half a percent) anywhere."""
    values = pd.Series(values, dtype=float).dropna()
    return bool(len(values)) and bool(((values - 1.0).abs() > tolerance).any())


# ---------------------------------------------------------------- legends
def legend_outside(ax: Axes, handles: list | None = None, **kwargs) -> None:
    """A legend to the right of the axes, top-aligned: never on the lines."""
    options = dict(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=7.5, frameon=False)
    ax.legend(**({"handles": handles} if handles is not None else {}), **(options | kwargs))


def legend_below(ax: Axes, handles: list | None = None, ncol: int = 2, **kwargs) -> None:
    """A legend under the axes (below its date labels): never on the lines."""
    options = dict(loc="upper center", bbox_to_anchor=(0.5, -0.1), borderaxespad=0.0, fontsize=7, frameon=False,
                   ncol=ncol)
    ax.legend(**({"handles": handles} if handles is not None else {}), **(options | kwargs))


# ---------------------------------------------------------------- events
EVENT_LEVELS = 4                  # rows of event numbers at the top of an axes, staggered so they do not overlap
EVENT_GAP = 0.045                 # share of the date axis two numbers on one row keep apart
MEASURE_COLOUR, EVENT_COLOUR = "0.25", "0.55"


def event_marks(events: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> list[tuple[pd.Timestamp, str, bool]]:
    """The (date, label, restricts) marks of the events between ``first`` and ``last``: each event's start
    ('3') and end ('3 ends'); events on one date share one mark ('4,5')."""
    by_date: dict[pd.Timestamp, tuple[list[str], bool]] = {}
    for row in events.itertuples():
        for when, text in ((row.start, f"{row.number}"), (row.end, f"{row.number} ends")):
            if pd.notna(when) and first <= pd.Timestamp(when) <= last:
                labels, restricts = by_date.setdefault(pd.Timestamp(when), ([], False))
                labels.append(text)
                by_date[pd.Timestamp(when)] = (labels, restricts or bool(row.restricts))
    return [(when, _join(labels), restricts) for when, (labels, restricts) in sorted(by_date.items())]


def _join(labels: list[str]) -> str:
    """'4,5' for starts, '2 ends' for an end, '4,5 · 2 ends' for both on one day."""
    starts = [t for t in labels if not t.endswith(" ends")]
    ends = [t.removesuffix(" ends") for t in labels if t.endswith(" ends")]
    return " · ".join(part for part in (",".join(starts), ",".join(ends) + " ends" if ends else "") if part)


def mark_events(ax: Axes, events: pd.DataFrame | None, label: bool = True) -> list:
    """A vertical line at every start and end of the scenario's events within the axes' dates (export
    measures dark, others light; an end dashed), numbered at the top of the axes on staggered rows (the
    numbers of ``event_key``). Returns the number texts."""
    if events is None or events.empty:
        return []
    low, high = (pd.Timestamp(mdates.num2date(x)).tz_localize(None) for x in ax.get_xlim())
    span = (high - low).days or 1
    texts, ends_of_row = [], [None] * EVENT_LEVELS
    for when, text, restricts in event_marks(events, low, high):
        ax.axvline(when, color=MEASURE_COLOUR if restricts else EVENT_COLOUR, lw=0.8, zorder=1,
                   ls=(0, (4, 2)) if text.endswith("ends") and "·" not in text else ":")
        if not label:
            continue
        free = [k for k, end in enumerate(ends_of_row) if end is None or (when - end).days > EVENT_GAP * span]
        row = free[0] if free else min(range(EVENT_LEVELS), key=lambda k: ends_of_row[k])
        ends_of_row[row] = when + pd.Timedelta(days=span * 0.012 * len(text))
        texts.append(ax.annotate(text, xy=(when, 1.0), xycoords=("data", "axes fraction"),
                                 xytext=(2, -2 - 9 * row), textcoords="offset points", ha="left", va="top",
                                 fontsize=6.5, color=MEASURE_COLOUR if restricts else EVENT_COLOUR, zorder=5,
                                 bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.75)))
    return texts


def event_key(fig: Figure, events: pd.DataFrame | None, columns: int = 2) -> float:
    """The key of the event numbers, in columns at the bottom of the figure above its footnote ('1 tariff
    us_tariff_on_cn, 4 Mar 2025'); returns the share of the figure's height it takes."""
    if events is None or events.empty:
        return 0.03
    entries = [f"{r.number} {r.label}" + ("" if r.label.startswith(r.type) else f" ({r.type.replace('_', ' ')})")
               + (f", {r.start.day} {r.start:%b %Y}" if pd.notna(r.start) else ", no set date")   # set off by prices
               + (f" – {r.end.day} {r.end:%b %Y}" if pd.notna(r.end) else "")
               + (f", p = {r.probability:g}" if pd.notna(r.probability) else "") for r in events.itertuples()]
    rows = -(-len(entries) // columns)
    line = 0.024
    for k, entry in enumerate(entries):
        column, row = divmod(k, rows)
        fig.text(0.005 + column / columns, 0.03 + line * (rows - 1 - row), entry, fontsize=6, color="0.3",
                 ha="left", va="bottom")
    return 0.035 + line * rows
