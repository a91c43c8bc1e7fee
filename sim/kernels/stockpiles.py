"""Strategic stockpiles' purchases and releases, industry's days of cover and the oxides beyond what it keeps,
compiled (``sim.engine.stockpiles`` and ``sim.engine.surplus`` state the rules). Units: t REO, t/day, days;
arrays ``[C, E]`` by country and element, tagged stocks ``[C, Q, E]``."""
from __future__ import annotations

import numpy as np

from . import kernel
from .tagged import add_entries, take_share


@kernel
def cover_days(stock: np.ndarray, use: np.ndarray) -> np.ndarray:
    """[C, E] days of ``use`` (t/day) a ``stock`` (t) covers; infinite without use, or with a use so small
    (decayed to the subnormals) that the quotient is beyond the largest float."""
    cover = np.empty_like(use)
    for c in range(use.shape[0]):
        for e in range(use.shape[1]):
            cover[c, e] = stock[c, e] / use[c, e] if use[c, e] > 0 else np.inf
    return cover


@kernel
def release(oxide: np.ndarray, oxide_rows: np.ndarray, oxide_count: np.ndarray, pile: np.ndarray,
            pile_rows: np.ndarray, pile_count: np.ndarray, use: np.ndarray, per_day: np.ndarray, held: np.ndarray,
            below_days: np.ndarray, days_per_month: np.ndarray, forced: np.ndarray, step_days: float,
            days_of_month: float) -> None:
    """Stockpiles ``pile`` of the ``held`` elements release into industry's stock ``oxide`` (in place) when its
    cover of own ``use`` falls below ``below_days`` [C] (``days_per_month`` [C]), and the ``forced`` days a
    month [C] an event decides: that many days of ``per_day`` [C, E] (t/day) over the step, at most what they
    hold. Each stock comes with its rows that may hold anything (``sim.kernels.tagged``)."""
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
        _, at, values = take_share(pile, pile_rows, pile_count, amount)
        add_entries(oxide, oxide_rows, oxide_count, at, values)


@kernel
def building(build_step: np.ndarray, build_from: np.ndarray, k: int) -> bool:
    """Whether any stockpile buys in step ``k``: from its first buying step ``build_from`` [C] until the step
    ``build_step`` [C] by which it is to be built."""
    for c in range(build_step.shape[0]):
        if k >= build_from[c] and build_step[c] - k > 0:
            return True
    return False


@kernel
def sink(oxide: np.ndarray, rows: np.ndarray, count: np.ndarray, use: np.ndarray, target_days: np.ndarray,
         precaution_days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Take the oxides beyond what each country keeps out of its stock ``oxide`` [C, Q, E] (in place): its
    ``use`` [C, E] (t/day, including what it sells on) x its working stock's ``target_days`` [C] and the
    ``precaution_days`` [C, E] it keeps after a shortage (no rows: none); ``rows``, ``count``: the stock's rows
    that may hold anything (``sim.kernels.tagged``). Returns the oxides taken, a flow (mass, at, values)."""
    C, E = use.shape
    surplus = np.empty((C, E))
    cautious = precaution_days.shape[0] > 0
    for c in range(C):
        for e in range(E):
            days = target_days[c] + precaution_days[c, e] if cautious else target_days[c]
            surplus[c, e] = max(0.0, oxide[c, 0, e] - use[c, e] * days)
    return take_share(oxide, rows, count, surplus)
