"""Clearing one stage's market in one step: who gets how much of whose stock.

Pure NumPy, no SimPy, no provenance: quantities in, quantities out. Axes are
``[buyer, supplier, item]`` for orders and ``[country, item]`` for stocks.

Two passes, as DESIGN.md's trade section describes:

1. Each buyer orders from its suppliers by its sourcing shares. A supplier's
   stock serves its own use and its export orders pro rata when it cannot
   serve all of them. Orders a measure blocks get nothing.
2. What a buyer still lacks (blocked or unfilled orders) it re-sources from
   the *spare* stock of suppliers it has qualified (what is left after pass 1
   beyond the working stock a supplier keeps for its own use), in proportion
   to their spare, again pro rata when short. A supplier that sells spare
   stock restores it by its usual ordering (or making) rule.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clearing:
    """Outcome of one market: what each party got, in the stage's unit (t REO or t magnet)."""

    own_fill: np.ndarray   # [C, I] share of each country's own use its stock served
    shipped: np.ndarray    # [B, J, I] exports, both passes
    ordered: np.ndarray    # [J, I] open (not blocked) orders suppliers received in pass 1
    unmet: np.ndarray      # [B, I] what buyers ordered and did not get


def _pro_rata(available: np.ndarray, claims: np.ndarray) -> np.ndarray:
    """Share of its claims each stock can serve (1 when it can serve them all)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(claims > available, available / np.where(claims > 0, claims, 1.0), 1.0)


def clear(available: np.ndarray, own_use: np.ndarray, orders: np.ndarray, blocked: np.ndarray,
          qualified: np.ndarray, reserve: np.ndarray, lacking: np.ndarray | None = None) -> Clearing:
    """Clear one stage: ``available``/``own_use``/``reserve`` are [C, I]; ``orders``/``blocked`` [B, J, I];
    ``qualified`` [B, J] says which suppliers a buyer may turn to in pass 2; ``lacking`` [B, I] is what
    buyers lack from earlier steps (refused licences) and re-source in pass 2 too."""
    open_orders = np.where(blocked, 0.0, orders)
    fill = _pro_rata(available, own_use + open_orders.sum(axis=0))
    own_got = own_use * fill
    shipped = open_orders * fill[None]
    unmet = (orders - shipped).sum(axis=1)
    if lacking is not None:
        unmet = unmet + lacking

    spare = np.maximum(0.0, available - own_got - shipped.sum(axis=0) - reserve)
    eligible = qualified[:, :, None] & ~blocked
    idx = np.arange(eligible.shape[0])
    eligible[idx, idx] = False
    weight = np.where(eligible, spare[None], 0.0)
    total = weight.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        request = np.where(total[:, None] > 0, unmet[:, None] * weight / np.where(total > 0, total, 1.0)[:, None],
                           0.0)
    fill2 = _pro_rata(spare, request.sum(axis=0))
    second = request * fill2[None]
    return Clearing(own_fill=fill, shipped=shipped + second, ordered=open_orders.sum(axis=0),
                    unmet=np.maximum(0.0, unmet - second.sum(axis=1)))
