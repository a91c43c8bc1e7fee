"""Clearing one stage's market in one step: who gets how much of whose stock.

Pure NumPy, no SimPy, no provenance: quantities in, quantities out. Axes are
``[buyer, supplier, item]`` for orders and ``[country, item]`` for stocks.

Three passes (the README's "How the model works", Trade):

1. Each buyer orders from its suppliers by its sourcing shares. A supplier's
   stock serves its own use and its export orders pro rata when it cannot
   serve all of them. The share of an order a measure blocks gets nothing;
   the share a tariff moves away is not placed here.
2. What a buyer still lacks (blocked, moved, unfilled orders) it re-sources
   from the *spare* stock of suppliers it has qualified for the item (what
   is left after pass 1 beyond the working stock a supplier keeps for its own
   use), in proportion to their spare, pro rata when short; never from a
   supplier for the share a measure blocks or a tariff moves away.
3. Orders a tariff moved away that pass 2 could not place go back to the
   tariffed supplier after all, from what it has left: a tariff makes buyers
   look elsewhere first, it does not stop them buying.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clearing:
    """Outcome of one market: what each party got, in the stage's unit (t REO or t magnet)."""

    own_fill: np.ndarray   # [C, I] share of each country's own use its stock served
    shipped: np.ndarray    # [B, J, I] exports, all passes
    ordered: np.ndarray    # [J, I] open (not blocked) orders suppliers received in pass 1
    unmet: np.ndarray      # [B, I] what buyers ordered and did not get


def _pro_rata(available: np.ndarray, claims: np.ndarray) -> np.ndarray:
    """Share of its claims each stock can serve (1 when it can serve them all)."""
    return np.where(claims > available, available / np.where(claims > 0, claims, 1.0), 1.0)


def _spread(amount: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Split ``amount`` [B, I] over suppliers in proportion to ``weight`` [B, J, I]."""
    total = weight.sum(axis=1)
    return np.where(total[:, None] > 0, amount[:, None] * weight / np.where(total > 0, total, 1.0)[:, None], 0.0)


def clear(available: np.ndarray, own_use: np.ndarray, orders: np.ndarray, blocked: np.ndarray,
          qualified: np.ndarray, reserve: np.ndarray, lacking: np.ndarray | None = None,
          tariffed: np.ndarray | None = None) -> Clearing:
    """Clear one stage.

    ``available``/``own_use``/``reserve`` are [C, I]; ``orders`` [B, J, I];
    ``blocked`` [B, J, I] the share of each order a measure blocks (0..1);
    ``qualified`` [B, J, I] which suppliers a buyer may turn to for each item in pass 2;
    ``lacking`` [B, I] what buyers lack from earlier steps (refused licences,
    quota cuts) and re-source in pass 2 too; ``tariffed`` [B, J, I] the share
    of each open order a tariff moves away.
    """
    allowed = orders * (1.0 - blocked)
    moved = allowed * tariffed if tariffed is not None else None
    open_orders = allowed - moved if moved is not None else allowed
    fill = _pro_rata(available, own_use + open_orders.sum(axis=0))
    own_got = own_use * fill
    shipped = open_orders * fill[None]
    unmet = (orders - shipped).sum(axis=1)
    if lacking is not None:
        unmet = unmet + lacking

    spare = np.maximum(0.0, available - own_got - shipped.sum(axis=0) - reserve)
    avoid = 1.0 - (1.0 - blocked) * (1.0 - tariffed) if tariffed is not None else 1.0 - (1.0 - blocked)
    eligible = qualified & ~np.eye(len(qualified), dtype=bool)[:, :, None]    # never from oneself
    request = _spread(unmet, np.where(eligible, spare[None] * (1.0 - avoid), 0.0))
    second = request * _pro_rata(spare, request.sum(axis=0))[None]
    unmet = np.maximum(0.0, unmet - second.sum(axis=1))

    total = shipped + second
    if moved is not None and moved.any():
        left = np.maximum(0.0, available - own_got - shipped.sum(axis=0) - second.sum(axis=0))
        back = _spread(np.minimum(unmet, moved.sum(axis=1)), moved)
        third = back * _pro_rata(left, back.sum(axis=0))[None]
        unmet = np.maximum(0.0, unmet - third.sum(axis=1))
        total = total + third
    return Clearing(own_fill=fill, shipped=total, ordered=open_orders.sum(axis=0), unmet=unmet)
