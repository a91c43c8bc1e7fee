"""The confidence curve of a sizing: the share of replications meeting the target against the lever."""
from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

from .style import new_figure, save_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

MEETS, SHORT_OF, ANSWER = "#2e86c1", "#c0392b", "0.25"


def confidence_figure(sizing) -> Figure:
    """``sizing``: a ``sim.experiments.sizing.Sizing`` (not imported: plots read results, not experiments).
    Each value tried: the share of replications meeting the target (blue where it reaches the confidence,
    red where not) with its Wilson 95 % interval; the confidence as a line; the answer and its bootstrap band
    as a line and a shaded span."""
    s, curve = sizing, sizing.curve
    fig, ax = new_figure()
    colours = [MEETS if m else SHORT_OF for m in curve["meets"]]
    ax.plot(curve["value"], curve["share"], color="0.6", linewidth=1, zorder=1)
    ax.vlines(curve["value"], curve["share_low"], curve["share_high"], colors=colours, linewidth=1, zorder=2)
    ax.scatter(curve["value"], curve["share"], c=colours, s=22, zorder=3)
    ax.axhline(s.confidence, color="0.35", linestyle="--", linewidth=1)
    ax.annotate(f"confidence {100 * s.confidence:g}%", (s.low, s.confidence), xytext=(2, 3),
                textcoords="offset points", fontsize=7, color="0.35")
    if s.answer is not None:
        low, high = s.band
        ax.axvspan(low if low is not None else s.answer, high if high is not None else s.high, color=ANSWER,
                   alpha=0.08, linewidth=0)
        ax.axvline(s.answer, color=ANSWER, linewidth=1.2)
        ax.annotate(f"{s.answer:,.4g}", (s.answer, 0.02), xytext=(3, 0), textcoords="offset points", fontsize=8)
    ax.set_xlim(s.low, s.high)
    ax.set_ylim(-0.02, 1.04)
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.set_xlabel(s.lever.dotted)
    ax.set_ylabel(f"replications meeting the target (of {s.replications})")
    ax.set_title(f"{s.name}: {s.target}", fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def save_confidence_curve(path: pathlib.Path, sizing) -> pathlib.Path:
    """Write the confidence curve as a PNG at ``path``, atomically."""
    note = (f"Scenario {sizing.name}, seed {sizing.seed}, {sizing.replications} paired replications per value; "
            f"bars: Wilson 95% interval; shaded: the answer's bootstrap P5..P95")
    return save_figure(confidence_figure(sizing), pathlib.Path(path), note)
