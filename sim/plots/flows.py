"""The chain by country as an alluvial chart: where the rare earths used in the run's first year were mined,
separated and made into magnets, and where the magnets were used (band widths in t REO)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from ..results.chain import CHAIN
from .style import colour, new_figure, note_empty, tonnage

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results.tables import Results

SMALL_SHARE = 0.02                # nodes below this share of their column are grouped as "other"
FLOW_COLUMNS = ("Mined in", "Separated in", "Magnets made in", "Used in")
LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}


def first_year_links(results: Results) -> tuple[pd.DatetimeIndex, list[np.ndarray]]:
    """The dates of the run's first year, and its t REO between adjacent columns from the ``chain`` table:
    [mined in -> separated in], [separated in -> magnets made in], [magnets made in -> used in], each
    ``[country one stage up, country]`` in the order of ``results.countries``."""
    dates = results.dates[:round(365.25 / results.summary().step_days)]
    chain = results.table("chain", "step")
    chain = chain[chain["date"].isin(dates)]
    countries = list(results.countries)
    links = []
    for stage, _ in CHAIN:
        t = chain[chain["stage"] == stage].groupby(["origin", "country"])["t"].sum().unstack(fill_value=0.0)
        links.append(t.reindex(index=countries, columns=countries, fill_value=0.0).to_numpy())
    return dates, links


def flows_figure(results: Results) -> Figure:
    """Alluvial chart of the chain over the run's first year: mined in -> separated in -> magnets made in -> used in."""
    countries = results.countries
    dates, links = first_year_links(results)
    fig, ax = new_figure()
    fig.suptitle(f"Rare-earth chain by country, first year of the run ({dates[0]:%d %b %Y} to "
                 f"{dates[-1]:%d %b %Y})", x=0.01, ha="left", fontweight="bold", fontsize=11)
    ax.set_title("Band width t REO; separation losses and oxides not used in magnets leave between columns",
                 loc="left", fontsize=9, color="0.3")
    ax.set_axis_off()
    if not any(m.sum() > 0 for m in links):
        note_empty(ax, "no flows recorded in the first year")
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
        ax.text(xs[k] + width / 2, top + 0.06 * scale, f"{FLOW_COLUMNS[k]}\n{tonnage(float(sizes[k].sum()))}",
                ha="center", va="bottom", fontsize=9, fontweight="bold")
        for (name, _), y, h in zip(col, tops[k], heights[k]):
            _node(ax, xs[k], y, width, h, name, countries, label_left=k == 0)
    for k, matrix in enumerate(links):
        _bands(ax, matrix, nodes[k], nodes[k + 1], tops[k], tops[k + 1], xs[k] + width, xs[k + 1], countries)
    bottom = min((t[-1] - h[-1] for t, h in zip(tops, heights) if t), default=0.0)
    ax.set_xlim(-0.35, xs[-1] + width + 0.35)
    ax.set_ylim(bottom - 0.03 * scale, top + 0.2 * scale)
    return fig


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
    ax.add_patch(Rectangle((x, top - height), width, height, facecolor=face, edgecolor=face, linewidth=0.6,
                           zorder=2))
    ax.text(x - 0.02 if label_left else x + width + 0.02, top - height / 2, f"{name} {tonnage(height)}",
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


def _band(ax: Axes, x0: float, top0: float, x1: float, top1: float, width: float, face: str) -> None:
    """A band of ``width`` t from (x0, top0) to (x1, top1), tops given, drawn as a cubic Bézier ribbon."""
    mid = (x0 + x1) / 2
    verts = [(x0, top0), (mid, top0), (mid, top1), (x1, top1), (x1, top1 - width), (mid, top1 - width),
             (mid, top0 - width), (x0, top0 - width), (x0, top0)]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
             Path.CURVE4, Path.CLOSEPOLY]
    ax.add_patch(PathPatch(Path(verts, codes), facecolor=face, edgecolor=face, linewidth=0.4, alpha=0.5,
                           zorder=1))   # the edge keeps hairline flows visible
