"""Country figures summed by market (``sim.world.markets``) and what prices read of them, compiled: the
prices read them many times a step. Units: t REO, t/day, days; shares 0..1."""
from __future__ import annotations

import numpy as np

from . import kernel
from .sums import pairwise_sum
from .tagged import over_origin_share


@kernel
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


@kernel
def unmet_share(unmet: np.ndarray, claims: np.ndarray) -> np.ndarray:
    """What went unmet as a share of what was claimed (0 where nothing was)."""
    out = np.zeros_like(unmet)
    for m in range(unmet.shape[0]):
        for k in range(unmet.shape[1]):
            if claims[m, k] > 0:
                out[m, k] = unmet[m, k] / claims[m, k]
    return out


@kernel
def market_pressure(claims: np.ndarray, supplied: np.ndarray, sunk: np.ndarray, use: np.ndarray,
                    oxide: np.ndarray, pile: np.ndarray, market_of: np.ndarray, scarcity: np.ndarray,
                    surplus: np.ndarray, smooth: float) -> tuple[np.ndarray, np.ndarray]:
    """The oxide markets' state this step, from countries' figures [C, E]: ``scarcity`` (the unmet share of own
    use ``claims`` not ``supplied``) and ``surplus`` (the share of oxides ``sunk``, of all claimed and sunk)
    [M, E] move ``smooth`` of the way to this step's (in place). Returns the claims by market and the days of
    own ``use`` (t/day) that stocks (``oxide`` and ``pile``, tagged [C, Q, E]) cover (NaN without use)."""
    M = scarcity.shape[0]
    total = by_market(claims, market_of, M)
    unmet = unmet_share(by_market(claims - supplied, market_of, M), total)
    sunk_m = by_market(sunk, market_of, M)
    used = by_market(use, market_of, M)
    held = by_market(oxide[:, 0, :], market_of, M) + by_market(pile[:, 0, :], market_of, M)
    cover = np.empty_like(total)
    for m in range(M):
        for e in range(total.shape[1]):
            scarcity[m, e] += (unmet[m, e] - scarcity[m, e]) * smooth
            all_ = total[m, e] + sunk_m[m, e]
            unsold = sunk_m[m, e] / all_ if all_ > 0 else 0.0
            surplus[m, e] += (unsold - surplus[m, e]) * smooth
            cover[m, e] = held[m, e] / used[m, e] if used[m, e] > 0 else np.nan
    return total, cover


@kernel
def most_covered(share: np.ndarray) -> np.ndarray:
    """[B, J, I] -> [B, I]: the largest share of a buyer's orders of an item that a measure covers, over its
    suppliers (``share.max(axis=1)``, exact in any order; shares are never NaN; J >= 1)."""
    B, J, I = share.shape
    out = np.empty((B, I))
    for b in range(B):
        for i in range(I):
            out[b, i] = share[b, 0, i]
        for j in range(1, J):
            for i in range(I):
                out[b, i] = max(out[b, i], share[b, j, i])
    return out


CIVIL, DEFENCE = 1, 2          # the end users a measure covers, as ``transit.END_USERS`` codes them (0: all)


@kernel
def covered_share(mask: np.ndarray, users: int, defence: np.ndarray, above: np.ndarray) -> np.ndarray:
    """[B, J, I] the share of each shipment a measure covers this step: its ``mask`` [B, J, I] of the routes and
    items it covers; times, where it covers some end users only, their share of each buyer's use (``users``:
    ``CIVIL``, 1 - ``defence`` [B, I], the defence share; ``DEFENCE``, that share; 0, all users: no factor);
    times, where the goods' origin decides, ``above`` [J, I] (1.0 where a supplier's stock of the item holds more
    of it than the rule allows; no rows: no factor). NumPy's products, in its order: mask x users, then x
    above."""
    B, J, I = mask.shape
    share = np.empty((B, J, I))
    for b in range(B):
        for j in range(J):
            for i in range(I):
                x = mask[b, j, i]
                if users == CIVIL:
                    x = x * (1.0 - defence[b, i])
                elif users == DEFENCE:
                    x = x * defence[b, i]
                if above.shape[0]:
                    x = x * above[j, i]
                share[b, j, i] = x
    return share


@kernel
def covered_by_origin(mask: np.ndarray, users: int, defence: np.ndarray, tagged: np.ndarray,
                      origin_rows: np.ndarray, threshold: float, concentrate: bool) -> np.ndarray:
    """``covered_share`` of an origin rule: ``above`` from the suppliers' stocks ``tagged`` [C, Q, X]
    (``tagged.over_origin_share``: more than ``threshold`` of an item in the rows ``origin_rows`` [K, O])."""
    return covered_share(mask, users, defence, over_origin_share(tagged, origin_rows, threshold, concentrate))
