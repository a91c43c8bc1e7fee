"""Licence decisions, compiled: the chance of approval of each application decided between two steps, from the
odds of every measure as arrays (``sim.engine.licensing.odds_table``), and the calendar of the reviews under way
(``sim.engine.licensing.Reviews``). Days are the clock's; chances 0..1."""
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


@kernel
def before(day: float, number: int, other_day: float, other_number: int) -> bool:
    """Whether a review's decision comes before another's: by the day due and, on one day, by the review's number
    (Python's order of the tuples ``(day, number)``)."""
    return day < other_day or (day == other_day and number < other_number)


@kernel
def start_reviews(day: np.ndarray, number: np.ndarray, application: np.ndarray, sailed: np.ndarray, size: int,
                  due: np.ndarray, applications: np.ndarray, first: int, voyages: int) -> int:
    """Put reviews into the calendar of decisions, a binary heap of its first ``size`` entries (``day`` due,
    review ``number``, ``application``, voyages ``sailed`` as the review started; in place, with room for them):
    ``applications`` [n], in turn, each decided on its day ``due`` [n], numbered from ``first``, ``voyages`` put to
    sea so far. Returns the calendar's new size."""
    for k in range(due.shape[0]):
        d, n = due[k], first + k
        i = size
        while i > 0:                          # up from the end while its parent comes later
            parent = (i - 1) // 2
            if not before(d, n, day[parent], number[parent]):
                break
            day[i], number[i], application[i], sailed[i] = day[parent], number[parent], application[parent], \
                sailed[parent]
            i = parent
        day[i], number[i], application[i], sailed[i] = d, n, applications[k], voyages
        size += 1
    return size


@kernel
def take_decided(day: np.ndarray, number: np.ndarray, application: np.ndarray, sailed: np.ndarray, size: int,
                 now: float, started: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Take out of the calendar (``start_reviews``), in order, the decisions due before day ``now`` or on it by a
    review before number ``started``. Returns the calendar's new size and their days, applications and voyages
    sailed as their reviews started."""
    out_day, out_application, out_sailed = np.empty(size), np.empty(size, np.int64), np.empty(size, np.int64)
    count = 0
    while size > 0 and before(day[0], number[0], now, started):     # due before the moment (now, started)
        out_day[count], out_application[count], out_sailed[count] = day[0], application[0], sailed[0]
        count += 1
        size -= 1
        if size == 0:
            break
        d, n, a, s = day[size], number[size], application[size], sailed[size]     # the last, down from the top
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and before(day[child + 1], number[child + 1], day[child], number[child]):
                child += 1
            if not before(day[child], number[child], d, n):
                break
            day[i], number[i], application[i], sailed[i] = day[child], number[child], application[child], \
                sailed[child]
            i = child
        day[i], number[i], application[i], sailed[i] = d, n, a, s
    return size, out_day[:count], out_application[:count], out_sailed[:count]
