"""Strategic stockpiles' releases and industry's days of cover, compiled (``sim.engine.stockpiles`` states the
rules). Units: t REO, t/day, days; arrays ``[C, E]`` by country and element, tagged stocks ``[C, Q, E]``."""
from __future__ import annotations

import numpy as np
from numba import njit

from .tagged import take_share


@njit(cache=True)
def cover_days(stock: np.ndarray, use: np.ndarray) -> np.ndarray:
    """[C, E] days of ``use`` (t/day) a ``stock`` (t) covers; infinite without use, or with a use so small
    (decayed to the subnormals) that the quotient is beyond the largest float."""
    cover = np.empty_like(use)
    for c in range(use.shape[0]):
        for e in range(use.shape[1]):
            cover[c, e] = stock[c, e] / use[c, e] if use[c, e] > 0 else np.inf
    return cover


@njit(cache=True)
def release(oxide: np.ndarray, pile: np.ndarray, use: np.ndarray, per_day: np.ndarray, held: np.ndarray,
            below_days: np.ndarray, days_per_month: np.ndarray, forced: np.ndarray, step_days: float,
            days_of_month: float) -> None:
    """Stockpiles ``pile`` of the ``held`` elements release into industry's stock ``oxide`` (in place) when its
    cover of own ``use`` falls below ``below_days`` [C] (``days_per_month`` [C]), and the ``forced`` days a
    month [C] an event decides: that many days of ``per_day`` [C, E] (t/day) over the step, at most what they
    hold."""
    cover = cover_days(oxide[:, 0, :], use)
    C, E = use.shape
    amount = np.zeros((C, E))
    due = False
    for c in range(C):
        for e in range(E):
            days = (days_per_month[c] if cover[c, e] < below_days[c] else 0.0) + forced[c]
            if held[c, e] and days > 0:
                due = True
                amount[c, e] = min(days * step_days / days_of_month * per_day[c, e], pile[c, 0, e])
    if due:
        oxide += take_share(pile, amount)
