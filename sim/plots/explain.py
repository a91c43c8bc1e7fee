"""The waterfall of an explanation: each part of a country's unmet demand a step, ending at the unmet t."""
from __future__ import annotations

import pathlib
import textwrap
from typing import TYPE_CHECKING

from .style import new_figure, save_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..results.explain import Explanation

LOST, MADE_UP, TOTAL = "#c0392b", "#2e86c1", "0.35"
TITLE_TOP = 0.94              # the axes below this share of the height: the title's room
WATERFALL_PARTS = 8           # the largest parts drawn each as a bar; the rest as one


def waterfall_figure(explanation: Explanation, top: int = WATERFALL_PARTS) -> Figure:
    """Horizontal waterfall, largest parts first: a lost part (red) adds to the shortfall, a re-sourced one
    (blue) takes from it; the last bar is the unmet t (grey), which the bars add up to."""
    e = explanation
    rows = [(e.part_label(row), float(row.t)) for row in e.parts.head(top).itertuples()]
    if len(e.parts) > top:
        rows.append((f"{len(e.parts) - top} smaller parts", float(e.parts["t"].iloc[top:].sum())))
    fig, ax = new_figure((10.0, 1.6 + 0.5 * (len(rows) + 1)))
    level, ends = 0.0, [0.0, e.total_t]
    for y, (label, t) in enumerate(rows):
        ax.barh(y, t, left=level, color=LOST if t >= 0 else MADE_UP, height=0.6)
        ax.annotate(f"{t:+,.0f}", (max(level, level + t), y), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7)
        level += t
        ends.append(level)
    ax.barh(len(rows), e.total_t, color=TOTAL, height=0.6)
    ax.annotate(f"{e.total_t:,.0f}", (max(0.0, e.total_t), len(rows)), xytext=(3, 0), textcoords="offset points",
                va="center", fontsize=7)
    low, high = min(ends), max(ends)
    pad = 0.12 * (high - low or 1.0)            # room for the figures written at the bars' ends
    ax.set_xlim(low - (pad if low < -1e-9 else 0.0), high + pad)
    labels = [textwrap.fill(label, 60) for label, _ in rows] + ["= unmet"]
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0.0, color="0.2", lw=0.8)
    ax.set_xlabel("t magnet (red: supply lost; blue: made up by buying more elsewhere)")
    # over the figure, not the axes: the labels take half the width, and a title over the bars alone is cut off
    fig.suptitle(f"Why {e.country} was short, {e.start:%Y-%m} to {e.end:%Y-%m}: {e.unmet_t:,.0f} t unmet of "
                 f"{e.demand_t:,.0f} t magnet demanded", fontsize=10, x=0.01, ha="left")
    return fig


def save_waterfall(explanation: Explanation, path: pathlib.Path, note: str) -> pathlib.Path:
    """Write the waterfall as a PNG at ``path``, footnoted with ``note``, atomically."""
    return save_figure(waterfall_figure(explanation), pathlib.Path(path), note, top=TITLE_TOP)
