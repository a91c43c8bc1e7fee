"""Licence decisions, compiled: the chance of approval of each application decided between two steps, from the
odds of every measure as arrays (``sim.engine.licensing.odds_table``). Days are the clock's; chances 0..1."""
from __future__ import annotations

import numpy as np

from . import kernel


@kernel
def approval_chances(measure: np.ndarray, importer: np.ndarray, end_user: np.ndarray, days: np.ndarray,
                     from_day: np.ndarray, odds: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """[n] the chance that each application is approved, decided on ``days`` [n]: its ``measure``'s odds [M, K, C]
    for its ``importer`` [n] in force that day (the last set whose ``from_day`` [M, K], ascending, is on or
    before it; the spin-up's days count as day 0), at most the cap of its ``end_user`` [n] (``caps`` [M, U, K],
    NaN where none is named)."""
    n, K = measure.shape[0], from_day.shape[1]
    chance = np.empty(n)
    for a in range(n):
        m = measure[a]
        day = max(0.0, np.floor(days[a]))
        k = 0
        while k + 1 < K and from_day[m, k + 1] <= day:
            k += 1
        chance[a] = odds[m, k, importer[a]]
        cap = caps[m, end_user[a], k]
        if not np.isnan(cap):
            chance[a] = np.fmin(chance[a], cap)
    return chance
