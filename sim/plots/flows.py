"""The chain by country as an alluvial chart, one panel per period: where the rare earths were mined,
separated and made into magnets, and where the magnets were used; grey boxes beside the bands show what
else entered or left each column (recycling, losses, other uses, sunk surplus, stocks), so in = out.

By default the year before the first export measure above the first year of it (``chain.flow_periods``).
The chart draws only the table of ``chain.chain_flows``: t REO up to oxides, t magnet from magnets.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from ..results.chain import COLUMN_LABELS, COLUMNS, UNITS, chain_flows
from .style import SIZE, colour, new_figure, note_empty, tonnage

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results.periods import Period
    from ..results.tables import Results

SMALL_SHARE = 0.02                # nodes below this share of their column are grouped as "other"
LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
# the chain's flows between adjacent columns: (flow leaving a column, the same flow entering the next)
BANDS = (("to separation", "from mines"), ("to magnets", "from oxides"), ("to end users", "from magnet makers"))
NODE_FLOWS = {"mine": ("mined", "to separation"), "refinery": ("from mines", "to magnets"),
              "magnet": ("from oxides", "to end users"), "end_use": ("from magnet makers", "used")}
SIDE_GREY = "0.62"
# boxes and bands go in with ``add_artist``, not ``add_patch``: a panel sets its limits itself, and add_patch
# would work out the data limits of every Bézier band for nothing (a seventh of the chart's time)


def flows_figure(results: Results, periods: Sequence[Period | str] | None = None) -> Figure:
    """Alluvial chart of the chain, a panel per period (default: the year before the first measure and its
    first year): mined in -> separated in -> magnets made in -> used in, with what else enters or leaves."""
    table = chain_flows(results, periods)
    return flows_table_figure(table, results.countries)


def flows_table_figure(table: pd.DataFrame, countries: tuple[str, ...]) -> Figure:
    """Draw a ``chain_flows`` table: one panel per period, on one vertical scale (t)."""
    labels = list(dict.fromkeys(table["period"]))
    fig, axes = new_figure((SIZE[0], SIZE[1] * 0.95 * len(labels)), nrows=len(labels), ncols=1, squeeze=False)
    fig.suptitle("Rare-earth chain by country: " + ", ".join(labels), x=0.01, ha="left", fontweight="bold",
                 fontsize=11)
    panels = [table[table["period"] == label] for label in labels]
    scale = max((p.loc[p["side"] == "in"].groupby("column")["t"].sum().max() for p in panels), default=0.0)
    for ax, panel in zip(axes[:, 0], panels):
        _panel(ax, panel, countries, scale)
    return fig


def _panel(ax: Axes, panel: pd.DataFrame, countries: tuple[str, ...], scale: float) -> None:
    """One period: country nodes and bands, and below them the grey side terms of each column."""
    first, last = panel["first_day"].iloc[0], panel["last_day"].iloc[0]
    ax.set_title(f"{panel['period'].iloc[0]}: {first.day} {first:%b %Y} to {last.day} {last:%b %Y}   "
                 "(band widths t REO to the oxides, t magnet from the magnets)", loc="left", fontsize=9,
                 color="0.25")
    ax.set_axis_off()
    if scale <= 0 or panel["t"].sum() <= 0:
        note_empty(ax, "no flows recorded in the period")
        return
    pairs = _pairs(panel, countries)
    sizes = [np.maximum(*(pairs(c, flow).sum(axis=1) for flow in NODE_FLOWS[c])) for c in COLUMNS]
    nodes = [_group(s, countries) for s in sizes]
    heights = [[float(size[idx].sum()) for _, idx in col] for size, col in zip(sizes, nodes)]
    gap, pitch, width = 0.02 * scale, 0.055 * scale, 0.05
    top = max(sum(max(h + gap, pitch) for h in col) for col in heights)
    tops = [_layout(col, pitch, gap, top) for col in heights]
    xs = np.arange(len(COLUMNS), dtype=float)
    column, tonnes, inward = panel["column"].to_numpy(), panel["t"].to_numpy(), panel["side"].to_numpy() == "in"
    for k, name in enumerate(COLUMNS):
        entered = tonnes[(column == name) & inward].sum()
        ax.text(xs[k] + width / 2, top + 0.05 * scale, f"{COLUMN_LABELS[name]}\n{_amount(entered, name)}",
                ha="center", va="bottom", fontsize=9, fontweight="bold")
        for (node, _), y, h in zip(nodes[k], tops[k], heights[k]):
            _node(ax, xs[k], y, width, h, node, countries, label_left=k == 0)
    for k, (leaving, entering) in enumerate(BANDS):
        source, target = COLUMNS[k], COLUMNS[k + 1]
        out = pairs(source, leaving)                                      # [source country, target country]
        into = pairs(target, entering).T
        _bands(ax, out, into, nodes[k], nodes[k + 1], tops[k], tops[k + 1], xs[k] + width, xs[k + 1], countries)
    bottom = min((t[-1] - h[-1] for t, h in zip(tops, heights) if t), default=top)
    low = _sides(ax, panel, xs, width, bottom - 2 * gap, gap)
    ax.set_xlim(-0.35, xs[-1] + width + 0.35)
    ax.set_ylim(min(low, top - scale * 1.25), top + 0.2 * scale)


def _amount(t: float, column: str) -> str:
    """'392 kt REO', '160 kt magnet': a tonnage in a column's unit."""
    return f"{tonnage(t)} {UNITS[column].removeprefix('t ')}"


def _pairs(panel: pd.DataFrame, countries: tuple[str, ...]) -> Callable[[str, str], np.ndarray]:
    """The [country, other] t of each flow of each column (``pairs(column, flow)``; [country, 0] for a flow
    without an other end; 0 where none), summed in one pass over the panel's rows: a table filtered per flow
    would cost the chart a third of its time."""
    index = {c: i for i, c in enumerate(countries)}
    none = np.zeros((len(countries), len(countries)))
    terms: dict[tuple[str, str], np.ndarray] = {}
    for column, flow, country, other, t in zip(*(panel[k].tolist() for k in ("column", "flow", "country", "other",
                                                                              "t"))):
        if country in index:
            term = terms.setdefault((column, flow), np.zeros_like(none))
            term[index[country], index.get(other, 0)] += t
    return lambda column, flow: terms.get((column, flow), none)


def _sides(ax: Axes, panel: pd.DataFrame, xs: np.ndarray, width: float, top: float, gap: float) -> float:
    """Grey boxes below each column, right of it: what entered it beside the bands (hatched, '+') and what
    left it beside them (solid, '−'), world totals labelled with their t; returns the lowest y drawn."""
    side = panel[~panel["flow"].isin(["mined", "used", *[f for pair in BANDS for f in pair]])]
    totals = side.groupby(["column", "side", "flow"], sort=False)["t"].sum()
    low = top
    for k, column in enumerate(COLUMNS):
        x, y = xs[k] + width + 0.08, top
        for direction in ("in", "out"):
            for (col, where, flow), t in totals.items():
                if col != column or where != direction or t <= 0:
                    continue
                ax.add_artist(Rectangle((x, y - t), 0.05, t, facecolor="white" if where == "in" else SIDE_GREY,
                                       edgecolor=SIDE_GREY, hatch="///" if where == "in" else None, linewidth=0.6))
                ax.text(x + 0.06, y - t / 2, f"{'+' if where == 'in' else '−'} {flow} {_amount(t, column)}",
                        ha="left", va="center", fontsize=7, color="0.25", bbox=LABEL_BOX)
                y -= max(t + gap, 2.5 * gap)
        low = min(low, y)
    return low


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


def _layout(heights: list[float], pitch: float, gap: float, top: float) -> list[float]:
    """Top y of each node stacked downward from ``top``: a gap between nodes, and room for a label each."""
    tops, y = [], top
    for h in heights:
        tops.append(y)
        y -= max(h + gap, pitch)
    return tops


def _node(ax: Axes, x: float, top: float, width: float, height: float, name: str, countries: tuple[str, ...],
          label_left: bool) -> None:
    """A country's node (rectangle of ``height`` t) with its 'code kt' label beside it."""
    face = colour(name, countries)
    ax.add_artist(Rectangle((x, top - height), width, height, facecolor=face, edgecolor=face, linewidth=0.6,
                           zorder=2))
    ax.text(x - 0.02 if label_left else x + width + 0.02, top - height / 2, f"{name} {tonnage(height)}",
            ha="right" if label_left else "left", va="center", fontsize=7.5, zorder=3, bbox=LABEL_BOX)


def _bands(ax: Axes, out: np.ndarray, into: np.ndarray, sources: list, targets: list, source_tops: list[float],
           target_tops: list[float], x0: float, x1: float, countries: tuple[str, ...]) -> None:
    """Bands between two columns, ``out`` [source, target] wide where they leave and ``into`` where they
    arrive (they differ where the unit changes), stacked at each node in the order of the other column."""
    leave = np.array([[out[np.ix_(s, t)].sum() for _, t in targets] for _, s in sources])
    arrive = np.array([[into[np.ix_(s, t)].sum() for _, t in targets] for _, s in sources])
    out_used = np.zeros(len(sources))
    in_used = np.zeros(len(targets))
    for i, (name, _) in enumerate(sources):
        for j in range(len(targets)):
            w0, w1 = leave[i, j], arrive[i, j]
            if w0 <= 0 and w1 <= 0:
                continue
            _band(ax, x0, source_tops[i] - out_used[i], w0, x1, target_tops[j] - in_used[j], w1,
                  colour(name, countries))
            out_used[i] += w0
            in_used[j] += w1


def _band(ax: Axes, x0: float, top0: float, width0: float, x1: float, top1: float, width1: float, face: str) -> None:
    """A band ``width0`` t wide at (x0, top0) and ``width1`` at (x1, top1), tops given, a cubic Bézier ribbon."""
    mid = (x0 + x1) / 2
    verts = [(x0, top0), (mid, top0), (mid, top1), (x1, top1), (x1, top1 - width1), (mid, top1 - width1),
             (mid, top0 - width0), (x0, top0 - width0), (x0, top0)]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
             Path.CURVE4, Path.CLOSEPOLY]
    ax.add_artist(PathPatch(Path(verts, codes), facecolor=face, edgecolor=face, linewidth=0.4, alpha=0.5,
                           zorder=1))   # the edge keeps hairline flows visible
