"""The mass balance's books, compiled: the terms booked from a part's flows, and the balance and the stocks
checked in one pass at the end of a step.

The accounts are ``terms`` [TERMS, E], t REO by element, one row per term in the order of ``TERMS``. Flows
are mass by row and item ``[n, X]`` (a country's or a route's; tagged mass gives its row 0), turned into
elements by ``content`` [X, E], t REO of each element in a unit of each item: a magnet grade's recipe, or the
identity for concentrate and oxides (exact: every other element adds a zero). Sums over rows go one row
after another, as NumPy sums an array's outer axis.
"""
from __future__ import annotations

import numpy as np

from . import kernel
from .sums import pairwise_sum
from .tagged import below_zero

TERMS = ("opening", "mined", "recycled", "consumed", "sunk", "losses", "in_transit")
OPENING, MINED, RECYCLED, CONSUMED, SUNK, LOSSES, IN_TRANSIT = range(len(TERMS))


@kernel
def add_content(term: np.ndarray, mass: np.ndarray, content: np.ndarray, sign: float) -> float:
    """Add ``sign`` times the element content of ``mass`` [n, X], summed over its rows, to ``term`` [E] (in
    place); return the mass in its own unit (t REO, or t magnet), all rows and items."""
    n, X = mass.shape
    total = np.zeros(X)
    for r in range(n):
        for x in range(X):
            total[x] += mass[r, x]
    for e in range(term.shape[0]):
        part = 0.0
        for x in range(X):
            part += total[x] * content[x, e]
        term[e] += sign * part
    return total.sum()


@kernel
def add_transit(terms: np.ndarray, transit_t: np.ndarray, stage: int, tagged: np.ndarray, content: np.ndarray,
                sign: float) -> None:
    """Put goods ``tagged`` [n, L, X] of stage ``stage`` (its index; row 0 the mass, the only one read) into
    transit (``sign`` 1) or take them out of it (-1), in place: the in_transit term by element, and
    ``transit_t`` [3], by stage in its traded unit."""
    transit_t[stage] += sign * add_content(terms[IN_TRANSIT], tagged[:, 0, :], content, sign)


@kernel
def add_losses(term: np.ndarray, taken: np.ndarray, kept: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Add what a process took but did not keep, ``taken`` [C, E] less the element content of ``kept``
    [C, Y], summed over countries, to ``term`` [E] (in place); return it by country [C], t REO."""
    C, E = taken.shape
    lost = np.empty(E)
    total = np.zeros(E)
    by_country = np.empty(C)
    for c in range(C):
        for e in range(E):
            part = 0.0
            for y in range(kept.shape[1]):
                part += kept[c, y] * content[y, e]
            lost[e] = taken[c, e] - part
        total += lost
        by_country[c] = pairwise_sum(lost)
    term += total
    return by_country


@kernel
def held_content(conc: np.ndarray, oxide: np.ndarray, magnet: np.ndarray, pile: np.ndarray,
                 recipe: np.ndarray) -> np.ndarray:
    """[E] t REO held in the tagged stocks ``[C, Q, X]`` of concentrate, oxides, magnets (by ``recipe`` [G, E])
    and strategic stockpiles, in that order of addition."""
    E = recipe.shape[1]
    held = _column_sums(conc) + _column_sums(oxide) + _column_sums(pile)
    magnets = _column_sums(magnet)
    for e in range(E):
        part = 0.0
        for g in range(magnets.shape[0]):
            part += magnets[g] * recipe[g, e]
        held[e] += part
    return held


@kernel
def residual(terms: np.ndarray, held: np.ndarray) -> np.ndarray:
    """[E] what does not add up: opening + mined + recycled - (held + in transit + consumed + sunk + losses)."""
    return (terms[OPENING] + terms[MINED] + terms[RECYCLED]
            - (held + terms[IN_TRANSIT] + terms[CONSUMED] + terms[SUNK] + terms[LOSSES]))


@kernel
def check_books(terms: np.ndarray, conc: np.ndarray, oxide: np.ndarray, magnet: np.ndarray, pile: np.ndarray,
                recipe: np.ndarray, tolerance: float, rows: tuple, counts: tuple) -> tuple[int, int]:
    """The books at the end of a step, in one pass: (the first element whose residual exceeds ``tolerance``
    times the larger of its opening + mined + recycled and 1 t, or -1; the first of the stocks conc, oxide,
    magnet, pile holding a number below zero, 0 to 3, or -1). ``rows``, ``counts``: each stock's rows that
    may hold anything (``sim.kernels.tagged``), in the same order: the only ones that can be below zero."""
    off = residual(terms, held_content(conc, oxide, magnet, pile, recipe))
    broken = -1
    for e in range(off.shape[0]):
        if abs(off[e]) > tolerance * max(terms[OPENING, e] + terms[MINED, e] + terms[RECYCLED, e], 1.0):
            broken = e
            break
    negative = -1
    for s, stock in enumerate((conc, oxide, magnet, pile)):
        if below_zero(stock, rows[s], counts[s]):
            negative = s
            break
    return broken, negative


@kernel
def _column_sums(tagged: np.ndarray) -> np.ndarray:
    """[X] the mass (row 0) of tagged ``[C, Q, X]`` summed over countries, one after another."""
    total = np.zeros(tagged.shape[2])
    for c in range(tagged.shape[0]):
        total += tagged[c, 0]
    return total
