"""End uses served from magnet stocks and tomorrow's magnet plan, compiled: end use's work once the magnet
market has cleared, in one call. Units: t magnet; ``[C, S]`` by country and sector, ``[C, G]`` by grade."""
from __future__ import annotations

import numpy as np

from . import kernel
from .clearing import sum_over_suppliers
from .exports import leave_stock
from .production import use_average
from .products import matmul, matvec
from .sums import pairwise_sum, row_sums
from .tagged import take_share


@kernel
def demand_by_sector(units_per_day: np.ndarray, kg_per_unit: np.ndarray, step_days: float,
                     multiplier: np.ndarray) -> np.ndarray:
    """End-use demand of a step, t magnet by country and sector [C, S]: ``units_per_day`` [C, S] x ``kg_per_unit``
    [S] / 1000 x ``step_days`` x the demand ``multiplier`` [C, S], in NumPy's order of operations."""
    C, S = units_per_day.shape
    by_sector = np.empty((C, S))
    for c in range(C):
        for s in range(S):
            by_sector[c, s] = units_per_day[c, s] * kg_per_unit[s] / 1000.0 * step_days * multiplier[c, s]
    return by_sector


@kernel
def magnets_by_grade(by_sector: np.ndarray, sector_grades: np.ndarray) -> np.ndarray:
    """[C, G] t magnet by grade of ``by_sector`` [C, S] t magnet split by ``sector_grades`` [C, S, G], each product
    added sector by sector, a multiply then an add (the order of ``sim.kernels.products``)."""
    C, S, G = sector_grades.shape
    grades = np.zeros((C, G))
    for c in range(C):
        for s in range(S):
            for g in range(G):
                grades[c, g] += by_sector[c, s] * sector_grades[c, s, g]
    return grades


@kernel
def defence_shares(by_sector: np.ndarray, by_grade: np.ndarray, defence: np.ndarray, sector_grades: np.ndarray,
                   country_yield: np.ndarray, recipe: np.ndarray, non_magnet: np.ndarray,
                   step_days: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Defence sectors' share of each country's use this step: of magnets by grade [C, G] (``by_sector`` [C, S]
    of the ``defence`` [S] sectors split by ``sector_grades``, over ``by_grade``), of oxides [C, E] (the
    recipe's content of those magnets over the country's ``country_yield`` [C], over all its oxide use: magnets'
    and ``non_magnet`` [C, E] t a day's) and of concentrate [C, 1] (the same, all elements together); 0 where the
    country uses none. NumPy's arithmetic, in its order."""
    C, S = by_sector.shape
    own = np.empty((C, S))
    for c in range(C):
        for s in range(S):
            own[c, s] = by_sector[c, s] * defence[s]
    by_defence = magnets_by_grade(own, sector_grades)
    G = by_grade.shape[1]
    magnets, over_yield, over_yield_d = np.empty((C, G)), np.empty((C, G)), np.empty((C, G))
    for c in range(C):
        for g in range(G):
            magnets[c, g] = by_defence[c, g] / by_grade[c, g] if by_grade[c, g] > 0 else 0.0
            over_yield[c, g] = by_grade[c, g] / country_yield[c]
            over_yield_d[c, g] = by_defence[c, g] / country_yield[c]
    oxide, oxide_d = matmul(over_yield, recipe), matmul(over_yield_d, recipe)
    E = oxide.shape[1]
    oxides = np.empty((C, E))
    for c in range(C):
        for e in range(E):
            oxide[c, e] = oxide[c, e] + non_magnet[c, e] * step_days
            oxides[c, e] = oxide_d[c, e] / oxide[c, e] if oxide[c, e] > 0 else 0.0
    total, total_d = row_sums(oxide), row_sums(oxide_d)
    concentrate = np.empty((C, 1))
    for c in range(C):
        concentrate[c, 0] = total_d[c] / total[c] if total[c] > 0 else 0.0
    return magnets, oxides, concentrate


@kernel
def ration(by_sector: np.ndarray, sector_grades: np.ndarray, got: np.ndarray, defence: np.ndarray,
           defence_first: np.ndarray) -> np.ndarray:
    """Magnets each sector receives [C, S]: a grade's supply ``got`` [C, G] shared pro rata among the sectors
    using it (``by_sector`` [C, S] x ``sector_grades`` [C, S, G]), or to ``defence`` [S] sectors first where
    ``defence_first`` [C]; demand substituted to ferrite is met."""
    C, S, G = sector_grades.shape
    rationing = defence_first.any()
    supplied = np.empty((C, S))
    total = np.empty(G)
    wants_d = np.empty(G)
    fill = np.empty(G)          # of the sectors' wants: civil ones' where defence goes first
    fill_d = np.empty(G)        # defence sectors' where it goes first
    served = np.empty(G)
    for c in range(C):
        total[:] = 0.0
        wants_d[:] = 0.0
        for s in range(S):
            for g in range(G):
                wanted = by_sector[c, s] * sector_grades[c, s, g]
                total[g] += wanted
                if defence[s]:
                    wants_d[g] += wanted
        first = rationing and defence_first[c]
        for g in range(G):       # one share a grade, not one a sector: the same quotients
            fill[g] = got[c, g] / total[g] if total[g] > 0 else 1.0
            if first:
                got_d = min(got[c, g], wants_d[g])
                rest = total[g] - wants_d[g]
                fill_d[g] = got_d / wants_d[g] if wants_d[g] > 0 else 1.0
                fill[g] = (got[c, g] - got_d) / rest if rest > 0 else 1.0
        for s in range(S):
            share = fill_d if first and defence[s] else fill
            for g in range(G):
                served[g] = by_sector[c, s] * sector_grades[c, s, g] * share[g]
            supplied[c, s] = pairwise_sum(served) + by_sector[c, s] * (1.0 - pairwise_sum(sector_grades[c, s]))
    return supplied


@kernel
def serve_end_uses(magnet: np.ndarray, rows: np.ndarray, count: np.ndarray, by_sector: np.ndarray,
                   by_grade: np.ndarray, sector_grades: np.ndarray, fill: np.ndarray, defence: np.ndarray,
                   defence_first: np.ndarray, shipped: np.ndarray, carried: np.ndarray, pipeline: np.ndarray,
                   use_own: np.ndarray,
                   wants: np.ndarray, members: np.ndarray, rate: np.ndarray, plant_grades: np.ndarray,
                   step_days: float, smoothing_days: float) -> tuple:
    """End use once the magnet market has cleared (``fill`` [C, G]: the share of end uses' demand ``by_grade``
    the country's stock served): magnets taken from ``magnet`` (its rows that may hold anything: ``rows``,
    ``count``, ``sim.kernels.tagged``), rationed among sectors (``ration``), exports ``shipped`` (on the routes
    ``carried`` marks) leaving the stock, own use's average moved; plants plan to make what imports did not
    bring of the need ``wants`` [C, G], up to their capacity: the plants' ``rate`` [P] (t magnet this step), by
    country (``members`` [C, P]), for each grade they make (``plant_grades`` [P, G]) and in all. Returns [2, C, G]
    magnets got and the plan (one array: each array handed back to Python costs about as much as a pass over
    these), the magnets used (a flow: mass, at, values), sectors
    supplied [C, S] and the exports (``leave_stock``'s routes and goods)."""
    C, G = wants.shape
    by_plant = np.empty(plant_grades.shape)
    for p in range(plant_grades.shape[0]):
        for g in range(G):
            by_plant[p, g] = rate[p] * plant_grades[p, g]
    grade_cap = matmul(members, by_plant)
    total_cap = matvec(members, rate)
    grades = np.empty((2, C, G))
    got, plan = grades[0], grades[1]
    for c in range(C):
        for g in range(G):
            got[c, g] = by_grade[c, g] * fill[c, g]
    used = take_share(magnet, rows, count, got)
    exports = leave_stock(magnet, rows, count, shipped, carried, pipeline)
    supplied = ration(by_sector, sector_grades, got, defence, defence_first)
    use_average(use_own, by_grade, step_days, smoothing_days)
    arrived = sum_over_suppliers(shipped, carried)
    for c in range(C):
        for g in range(G):
            plan[c, g] = min(max(0.0, wants[c, g] - arrived[c, g]), grade_cap[c, g])
        total = pairwise_sum(plan[c])
        scale = total_cap[c] / total if total > total_cap[c] else 1.0
        for g in range(G):
            plan[c, g] *= scale
    return grades, used, supplied, exports
