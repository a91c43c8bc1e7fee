"""The back-test's plot of one episode: each target's observed figure and band beside its simulated range.

One row per target, each on its own scale (shares, changes, price multiples and tonnes do not share an
axis): the band as a grey box, the observed figure as a black diamond, the replications as dots, their
P5-P95 as a bar and the P50 as a circle, green inside the band, red outside. Drawn from the scorecard's
tables only.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, PercentFormatter

from .style import SIZE, new_figure, save_figure

ROW_INCHES = 0.85
TITLE_INCHES = 0.4
LOG_TICKS = (0.5, 1, 2, 5, 10, 20, 50, 100)
PASS, MISS, BAND = "#2e7d32", "#c62828", "0.85"
# a formatter belongs to one axis (PercentFormatter reads its decimals from it): one made per panel
AXES = {"share": lambda: PercentFormatter(1.0), "change": lambda: FuncFormatter(lambda x, _: f"{100 * x:+.0f}%"),
        "multiple": lambda: FuncFormatter(lambda x, _: f"x{x:g}"),
        "total": lambda: FuncFormatter(lambda x, _: f"{x:,.0f} t")}


def plot_episode(table: pd.DataFrame, values: pd.DataFrame, episode: str, replications: int,
                 folder: pathlib.Path) -> pathlib.Path:
    """Write ``<episode>.png`` into ``folder``: the episode's targets (``table``, one row each, and
    ``values``, one row per replication), observed against simulated."""
    n = len(table)
    height = 0.9 + ROW_INCHES * n
    fig, axes = new_figure((SIZE[0], height), nrows=n, ncols=1, squeeze=False)
    for ax, row in zip(axes[:, 0], table.itertuples()):
        sims = values.loc[values["target"] == row.target, "simulated"].to_numpy(dtype=float)
        ax.axvspan(row.band_low, row.band_high, color=BAND, zorder=0)
        ax.plot(sims, np.zeros_like(sims), "o", ms=3, color="0.45", alpha=0.5, zorder=2)
        hit = PASS if row.passes else MISS
        ax.plot([row.p5, row.p95], [0, 0], "-", lw=4, color=hit, alpha=0.6, zorder=3)
        ax.plot([row.p50], [0], "o", ms=8, color=hit, zorder=4)
        ax.plot([row.observed], [0], "D", ms=8, color="black", zorder=5)
        finite = [v for v in (row.band_low, row.band_high, row.observed, row.p5, row.p95) if np.isfinite(v)]
        lo, hi = min(finite), max(finite)
        pad = 0.08 * (hi - lo or abs(hi) or 1.0)
        if row.measure == "multiple" and lo > 0 and hi / lo > 8:      # x1 beside x30: a log scale, round ticks
            ax.set_xscale("log")
            ax.set_xlim(lo / 1.3, hi * 1.3)
            ax.xaxis.set_major_locator(FixedLocator(LOG_TICKS))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_xlim(lo - pad, hi + pad)
        ax.xaxis.set_major_formatter(AXES[row.measure]())
        if not np.isfinite(row.p50):
            ax.text(0.01, 0.5, "no simulated value (nothing in the base period, or a share of nothing)",
                    transform=ax.transAxes, fontsize=7, color=MISS, va="center")
        ax.set_yticks([])
        ax.set_ylim(-1, 1)
        label = f"{row.period}" + (f" vs {row.base}" if row.base else "")
        ax.set_title(f"{row.target} ({row.kind}, {label}): {'pass' if row.passes else 'MISS'}", fontsize=8,
                     loc="left")
        ax.tick_params(labelsize=7)
    runs = f"P50 and P5-P95 of {replications} replications" if replications > 1 else "one run"
    fig.suptitle(f"{episode}: observed (black diamond, grey band) against simulated ({runs})", fontsize=9)
    return save_figure(fig, folder / f"{episode}.png", "sources and band reasons: scorecard.csv; targets in "
                       "seeds/history.yaml", top=1 - TITLE_INCHES / height)
