"""The indices of a sensitivity analysis: a panel per headline figure, a bar per input."""
from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import numpy as np

from .style import new_figure, save_figure

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

FIRST, TOTAL = "#9ecae1", "#2171b5"
BARS = {"sobol": (("S1", "S1_conf", "first order S1", FIRST), ("ST", "ST_conf", "total order ST", TOTAL)),
        "morris": (("sigma", None, "sigma", FIRST), ("mu_star", "mu_star_conf", "mu*", TOTAL))}
PANEL_HEIGHT_PER_INPUT = 0.32             # inches
COLUMNS = 2


def indices_figure(indices: pd.DataFrame, method: str) -> Figure:
    """``indices``: the tidy table of ``Sensitivity.indices``. A panel per metric, its inputs ranked by the total
    index (ST, or μ* for Morris), both bars with their 95 % intervals."""
    metrics = list(dict.fromkeys(indices["metric"]))
    inputs = len(set(indices["input"]))
    columns = min(COLUMNS, len(metrics))
    rows = -(-len(metrics) // columns)
    fig, axes = new_figure((6.0 * columns, 1.2 + rows * (0.9 + PANEL_HEIGHT_PER_INPUT * inputs)),
                           nrows=rows, ncols=columns, squeeze=False)
    bars = BARS[method]
    for ax, metric in zip(axes.flat, metrics):
        rows_of = indices[indices["metric"] == metric].sort_values(bars[1][0])
        at = np.arange(len(rows_of))
        for k, (column, conf, label, colour) in enumerate(bars):
            ax.barh(at + (k - 0.5) * 0.38, rows_of[column], height=0.38, color=colour, label=label,
                    xerr=rows_of[conf] if conf else None, error_kw={"elinewidth": 0.8, "capsize": 2})
        ax.set_yticks(at, rows_of["input"], fontsize=7)
        unit = rows_of["unit"].iloc[0]
        ax.set_title(f"{metric} ({rows_of['label'].iloc[0]})", fontsize=9)
        ax.set_xlabel("share of variance" if method == "sobol" else f"{unit} per whole range of the input",
                      fontsize=8)
        if method == "sobol":
            ax.set_xlim(min(0.0, float(rows_of["S1"].min()) - 0.05), 1.05)
        ax.axvline(0, color="0.4", linewidth=0.6)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    return fig


def save_indices(path: pathlib.Path, indices: pd.DataFrame, method: str, note: str) -> pathlib.Path:
    """Write the indices chart as a PNG at ``path``, atomically."""
    return save_figure(indices_figure(indices, method), pathlib.Path(path), note + "; bars: 95% interval")
