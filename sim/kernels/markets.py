"""Country figures summed by market (``sim.world.markets``), compiled: the prices read them many times a step."""
from __future__ import annotations

import numpy as np
from numba import njit

from .sums import pairwise_sum


@njit(cache=True)
def by_market(x: np.ndarray, market_of: np.ndarray, markets: int) -> np.ndarray:
    """[C, K] -> [M, K]: summed over the countries of each market, country after country (as NumPy adds the rows
    of ``x[market_of == m]``; pairwise for one column, as NumPy adds a column)."""
    C, K = x.shape
    out = np.zeros((markets, K))
    if K == 1:
        column = np.empty(C)
        for m in range(markets):
            n = 0
            for c in range(C):
                if market_of[c] == m:
                    column[n] = x[c, 0]
                    n += 1
            out[m, 0] = pairwise_sum(column[:n])
        return out
    for c in range(C):
        for k in range(K):
            out[market_of[c], k] += x[c, k]
    return out
