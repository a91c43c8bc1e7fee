"""How a source figure becomes an interval a model value must fall in.

Writers round: "92%" means 91.5–92.5%, so an exact whole-percent share is
read within half a point; "about"/"~" (bound: approx) within one point; "more
than 60%" (bound: lower) from 60% up. A range is read as written, widened by a
point when marked approx.
"""
from __future__ import annotations

import math

from sim.scenario.registry import load_registry

from .conftest import SEEDS

ROUNDING = 0.005
APPROX = 0.01


def band(figure_id: str) -> tuple[float, float]:
    """The interval of shares that agrees with a share figure of the registry."""
    fig = load_registry(SEEDS)[figure_id]
    bound = fig.bound
    if fig.range is not None:
        lo, hi = fig.range
        pad = APPROX if bound == "approx" else ROUNDING
        return lo - pad, hi + pad
    v = fig.value
    if bound == "lower":
        return v, math.inf
    if bound == "upper":
        return -math.inf, v
    pad = APPROX if bound == "approx" else ROUNDING
    return v - pad, v + pad


def within(value: float, *figure_ids: str) -> bool:
    """True when value agrees with every figure named."""
    return all(band(f)[0] <= value <= band(f)[1] for f in figure_ids)
