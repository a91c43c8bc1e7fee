"""Clearing one stage's market in one step: who gets how much of whose stock.

Compiled (``sim.kernels.clearing``), no SimPy, no provenance: quantities in, quantities out. Axes are
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

from ..kernels import clearing


@dataclass(slots=True)
class Clearing:
    """Outcome of one market: what each party got, in the stage's unit (t REO or t magnet). (Not frozen: three are
    made a step, and a frozen one takes twice as long to make.)"""

    own_fill: np.ndarray   # [C, I] share of each country's own use its stock served
    shipped: np.ndarray    # [B, J, I] exports, all passes
    carried: np.ndarray    # [B, J] the routes that may carry exports: the others carry none
    ordered: np.ndarray    # [J, I] open (not blocked) orders suppliers received in pass 1
    unmet: np.ndarray      # [B, I] what buyers ordered and did not get


def clear(available: np.ndarray, own_use: np.ndarray, orders: np.ndarray, blocked: np.ndarray,
          qualified: np.ndarray, reserve: np.ndarray, lacking: np.ndarray | None = None,
          tariffed: np.ndarray | None = None) -> Clearing:
    """Clear one stage (one compiled call, ``sim.kernels.clearing``).

    ``available``/``own_use``/``reserve`` are [C, I]; ``orders`` [B, J, I];
    ``blocked`` [B, J, I] the share of each order a measure blocks (0..1);
    ``qualified`` [B, J, I] which suppliers a buyer may turn to for each item in pass 2;
    ``lacking`` [B, I] what buyers lack from earlier steps (refused licences,
    quota cuts) and re-source in pass 2 too; ``tariffed`` [B, J, I] the share
    of each open order a tariff moves away.
    """
    fill, shipped, carried, ordered, unmet = clearing.clear(
        available, own_use, orders, blocked, qualified, reserve,
        np.zeros_like(own_use) if lacking is None else lacking,
        np.zeros_like(orders) if tariffed is None else tariffed)
    return Clearing(own_fill=fill, shipped=shipped, carried=carried, ordered=ordered, unmet=unmet)
