"""Tagged mass (``sim.world.provenance``) taken from and added to stocks, compiled: every provenance row moves
with the mass, in proportion.

Arrays are ``[C, Q, X]`` tagged mass (row 0 the mass, t REO or t magnet), ``[C, I]`` mass by traded item
(concentrate is one item, all elements together) and ``[n, ...]`` rows of shipments by route.

Most provenance rows of a stock hold nothing: a country's stock holds what was mined, refined and made in the
few countries it trades with. So each stock keeps, beside its tagged mass, the rows that may hold anything:
``rows`` [C, Q] (country c's are ``rows[c, :count[c]]``, ascending, row 0 always among them) and ``count``
[C]. A row once counted stays counted (it may come to hold nothing again); the kernels that add mass count the
rows they add to, and the kernels visit those rows only, so their work grows with what the stocks hold, not
with the square of the countries. A flow of tagged mass that leaves or joins a stock (fed to plants, used,
made, sunk) is its mass [C, X] (row 0) and its rows that hold anything as entries: ``at`` [n] (its country
c and row q as c Q + q, ascending) and ``values`` [n, X].
"""
from __future__ import annotations

import numpy as np

from . import kernel
from .sums import pairwise_sum


@kernel
def add_rows(target: np.ndarray, index: np.ndarray, rows: np.ndarray) -> None:
    """``target[index[n]] += rows[n]`` for every n in order, in place (``np.add.at``'s sums, bit for bit): what
    goes back onto order books."""
    for n in range(index.shape[0]):
        target[index[n]] += rows[n]


@kernel
def item_mass(tagged: np.ndarray, c: int, i: int, concentrate: bool) -> float:
    """Mass of traded item ``i`` in row ``c`` of tagged mass ``[n, Q, X]``: concentrate is all its elements."""
    if concentrate:
        return pairwise_sum(tagged[c, 0, :])
    return tagged[c, 0, i]


@kernel
def holds(rows: np.ndarray, q: int) -> bool:
    """Whether provenance row ``q`` of a country's rows ``[Q, X]`` holds any mass: taking a share of, scaling
    or adding nothing leaves the same bits, so the kernels skip such rows. An OR of every comparison, with no
    exit in the loop (an exit costs more in mispredicted branches than it saves)."""
    nonzero = False
    for x in range(rows.shape[1]):
        nonzero |= rows[q, x] != 0.0
    return nonzero


@kernel
def live_rows(tagged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of tagged mass ``[C, Q, X]`` that hold anything, and row 0, by country: (rows [C, Q], count [C])
    (see the module docstring). One pass over every row: for a stock made whole, not in the step."""
    C, Q = tagged.shape[0], tagged.shape[1]
    rows = np.zeros((C, Q), np.int64)
    count = np.ones(C, np.int64)             # row 0, the mass, always
    for c in range(C):
        for q in range(1, Q):
            if holds(tagged[c], q):
                rows[c, count[c]] = q
                count[c] += 1
    return rows, count


@kernel
def compacted(tagged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Goods by route ``tagged`` [n, Q, X] at their rows that hold anything: (rows [n, L], -1 past a route's last,
    ascending with row 0 first; values [n, L, X])."""
    n, Q, X = tagged.shape
    held = np.zeros((n, Q), np.bool_)
    L = 1
    for r in range(n):
        k = 1
        for q in range(1, Q):
            held[r, q] = holds(tagged[r], q)
            k += held[r, q]
        L = max(L, k)
    rows = np.full((n, L), -1, np.int64)
    values = np.zeros((n, L, X))
    for r in range(n):
        k = 0
        for q in range(Q):
            if q == 0 or held[r, q]:
                rows[r, k] = q
                values[r, k] = tagged[r, q]
                k += 1
    return rows, values


@kernel
def spread(rows: np.ndarray, values: np.ndarray, Q: int) -> np.ndarray:
    """Goods by route given at some of their rows (``rows`` [n, L], -1 past a route's last; ``values``
    [n, L, X]) made whole: [n, Q, X], the other rows holding nothing."""
    n, L, X = values.shape
    tagged = np.zeros((n, Q, X))
    for r in range(n):
        for k in range(L):
            if rows[r, k] < 0:
                break
            tagged[r, rows[r, k]] = values[r, k]
    return tagged


@kernel
def mark(rows: np.ndarray, count: np.ndarray, c: int, q: int) -> None:
    """Count row ``q`` of country ``c`` among its stock's rows that may hold anything (kept ascending). A row
    that holds anything is counted already, so adding to one need not ask."""
    n = count[c]
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if rows[c, mid] < q:
            lo = mid + 1
        else:
            hi = mid
    if lo < n and rows[c, lo] == q:
        return
    for i in range(n, lo, -1):
        rows[c, i] = rows[c, i - 1]
    rows[c, lo] = q
    count[c] = n + 1


@kernel
def take_share(tagged: np.ndarray, rows: np.ndarray, count: np.ndarray,
               amount: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Take ``amount`` [C, I] of traded mass out of ``tagged`` [C, Q, X] (in place), every row in proportion, at
    most what is there; return the flow taken (mass [C, X], at, values: see the module docstring). ``amount``
    with one column is concentrate: t REO of all elements together. Rows that hold nothing, and countries
    nothing is taken from, are left as they are."""
    C, Q, X = tagged.shape
    concentrate = amount.shape[1] == 1
    mass = np.zeros((C, X))
    at = np.empty(count.sum(), np.int64)
    values = np.empty((at.shape[0], X))
    e = 0
    share = np.empty(X)
    for c in range(C):
        total = pairwise_sum(tagged[c, 0, :]) if concentrate else 0.0     # before any of it is taken
        takes = False
        for x in range(X):
            i = 0 if concentrate else x
            available = total if concentrate else tagged[c, 0, x]
            share[x] = min(1.0, amount[c, i] / available) if available > 0 else 0.0
            takes |= share[x] > 0
        if not takes:
            continue
        stock = tagged[c]                # a view of one country: loops the compiler vectorises
        for k in range(count[c]):
            q = rows[c, k]
            if holds(stock, q):
                for x in range(X):
                    held = stock[q, x]
                    part = share[x] * held
                    values[e, x] = part
                    stock[q, x] = held - part
                e = entry(at, values, mass, e, c, q, Q)
    return mass, at[:e], values[:e]


@kernel
def entry(at: np.ndarray, values: np.ndarray, mass: np.ndarray, e: int, c: int, q: int, Q: int) -> int:
    """Close entry ``e`` of a flow (its ``values[e]`` written): country ``c``'s row ``q``, and its mass when that
    is row 0. Returns the next entry."""
    at[e] = c * Q + q
    if q == 0:        # a loop, not ``mass[c] = values[e]``: Numba copies an array assigned to a slice first
        for x in range(values.shape[1]):
            mass[c, x] = values[e, x]
    return e + 1


@kernel
def add_run(stock: np.ndarray, rows: np.ndarray, count: np.ndarray, c: int, at: np.ndarray, offset: int,
            values: np.ndarray, start: int, end: int) -> None:
    """``stock[c, at[k] - offset] += values[k]`` (``values`` [n, X]) for the entries ``k`` from ``start`` to
    ``end``, in order, for tagged ``stock`` [C, Q, X], in place, counting each row of country ``c`` that comes to
    hold anything (a row that held anything is counted already: no need to ask). One call for a run of
    entries, each row by its index: a call, or a slice, per entry costs more than its additions."""
    for k in range(start, end):
        q = at[k] - offset
        held = False                 # before the addition, and after: ORs of every number, no exit in the loop
        holding = False
        for x in range(values.shape[1]):
            before = stock[c, q, x]
            after = before + values[k, x]
            stock[c, q, x] = after
            held |= before != 0.0
            holding |= after != 0.0
        if holding and not held:
            mark(rows, count, c, q)


@kernel
def add_entries(stock: np.ndarray, rows: np.ndarray, count: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Add a flow's entries (``at``, ``values``) into tagged ``stock`` [C, Q, X], in place, counting their rows:
    one run a country."""
    Q = stock.shape[1]
    n = at.shape[0]
    start = 0
    while start < n:
        c = at[start] // Q
        end = start + 1
        while end < n and at[end] // Q == c:
            end += 1
        add_run(stock, rows, count, c, at, c * Q, values, start, end)
        start = end


@kernel
def add_goods(stock: np.ndarray, rows: np.ndarray, count: np.ndarray, into: np.ndarray, goods_rows: np.ndarray,
              goods: np.ndarray) -> None:
    """Add goods by route into the stocks of the countries ``into`` [n] (tagged ``stock`` [C, Q, X], in place,
    their rows counted): route r's ``goods`` [n, L, X] at its rows ``goods_rows`` [n, L] (-1 past its last), one
    route after another, as ``add_rows`` adds them whole."""
    for r in range(into.shape[0]):
        held = 0
        while held < goods_rows.shape[1] and goods_rows[r, held] >= 0:
            held += 1
        add_run(stock, rows, count, into[r], goods_rows[r], 0, goods[r], 0, held)


@kernel
def add_origin(tagged: np.ndarray, rows: np.ndarray, count: np.ndarray, mass: np.ndarray, kind_row: int,
               touched_row: int) -> None:
    """Add ``mass`` [C, X] made in country c (its first index) to tagged mass ``[C, Q, X]``, in place: its
    provenance is c at the stage whose rows start at ``kind_row`` (-1: a stage whose rows the run does not keep),
    and c touched it."""
    C, X = mass.shape
    for c in range(C):
        made = False
        for x in range(X):
            tagged[c, 0, x] += mass[c, x]
            if kind_row >= 0:
                tagged[c, kind_row + c, x] += mass[c, x]
            tagged[c, touched_row + c, x] += mass[c, x]
            made |= mass[c, x] != 0.0
        if made:
            if kind_row >= 0:
                mark(rows, count, c, kind_row + c)
            mark(rows, count, c, touched_row + c)


@kernel
def add_stamped(stock: np.ndarray, rows: np.ndarray, count: np.ndarray, c: int, source: np.ndarray,
                source_values: np.ndarray, scale: np.ndarray, kind_row: int, touched_row: int, at: np.ndarray,
                values: np.ndarray, mass: np.ndarray, e: int) -> int:
    """Country ``c``'s newly processed tagged mass: its rows ``source`` [L] (ascending, those that may hold
    anything) of ``source_values`` [L, X], times ``scale`` [X], stamped as processed in c at the stage whose
    rows start at ``kind_row`` (as ``stamp`` does: that stage's rows hold only c's, all of the mass, and c has
    touched it; -1: a stage whose rows the run does not keep, only touched). Written as a flow's entries from
    ``e`` on (``at``, ``values``, ``mass``) and added into the tagged ``stock`` [C, Q, X], its rows counted, in
    place; returns the next entry."""
    C, Q, X = stock.shape
    L = source.shape[0]
    first = e
    mass_at = 0 if L > 0 and source[0] == 0 else -1          # where row 0, the mass, is among the source's
    stamped = (kind_row + c, touched_row + c)                  # ascending: the touched rows come last
    i, s = 0, 0 if kind_row >= 0 else 1
    while i < L or s < 2:
        q = source[i] if i < L else Q
        if s < 2 and stamped[s] <= q:          # a stamped row holds all of the mass
            q, k = stamped[s], mass_at
            s += 1
            if i < L and source[i] == q:
                i += 1
        else:
            k = i
            i += 1
            if 0 <= kind_row <= q < kind_row + C:   # another country's at this stage: none of it
                continue
        if k < 0 or not holds(source_values, k):
            continue
        for x in range(X):
            values[e, x] = source_values[k, x] * scale[x]
        e = entry(at, values, mass, e, c, q, Q)
    add_run(stock, rows, count, c, at, c * Q, values, first, e)      # rows apart: one run, as one at a time
    return e


@kernel
def stamp(tagged: np.ndarray, kind_row: int, touched_row: int) -> None:
    """Mark tagged mass ``[C, Q, X]`` as processed in country c (its first index) at the stage whose rows start at
    ``kind_row``, in place: that stage's rows hold only c's, all of the mass, and c has touched it (-1: a stage
    whose rows the run does not keep, only touched)."""
    C, Q, X = tagged.shape
    for c in range(C):
        rows = tagged[c]
        if kind_row >= 0:
            for k in range(C):
                if holds(rows, kind_row + k):
                    for x in range(X):
                        rows[kind_row + k, x] = 0.0
        for x in range(X):
            if kind_row >= 0:
                rows[kind_row + c, x] = rows[0, x]
            rows[touched_row + c, x] = rows[0, x]


@kernel
def below_zero(tagged: np.ndarray, rows: np.ndarray, count: np.ndarray) -> bool:
    """Whether any number of the rows of ``tagged`` [C, Q, X] that may hold anything is below zero (an OR of every
    comparison of a row, with no exit in its loop)."""
    for c in range(tagged.shape[0]):
        for k in range(count[c]):
            below = False
            for x in range(tagged.shape[2]):
                below |= tagged[c, rows[c, k], x] < 0.0
            if below:
                return True
    return False


@kernel
def uncounted(tagged: np.ndarray, rows: np.ndarray, count: np.ndarray) -> tuple[int, int]:
    """The first (country, row) of tagged mass ``[C, Q, X]`` that holds anything (or less than nothing) but is not
    among the counted rows (``rows``, ``count``), or (-1, -1): one pass over every row, to check the count."""
    C, Q = tagged.shape[0], tagged.shape[1]
    counted = np.zeros(Q, np.bool_)
    for c in range(C):
        counted[:] = False
        for k in range(count[c]):
            counted[rows[c, k]] = True
        for q in range(Q):
            if not counted[q] and holds(tagged[c], q):
                return c, q
    return -1, -1


@kernel
def over_origin_share(tagged: np.ndarray, origin_rows: np.ndarray, threshold: float,
                      concentrate: bool) -> np.ndarray:
    """[C, X] (concentrate: [C, 1], its elements together) 1.0 where a country's stock of an item holds more than
    ``threshold`` of its mass in the provenance rows of one kind of origin (``origin_rows`` [K, O]: for each
    kind, mined or refined, the rows of the origin countries), else 0.0; a stock without mass holds none.
    ``tagged`` [C, Q, X] t. The arithmetic of the NumPy it replaces, in its order: a concentrate's row summed
    over its elements pairwise, the origin rows added one after another, the largest share of the kinds
    compared."""
    C, X = tagged.shape[0], tagged.shape[2]
    width = 1 if concentrate else X
    above = np.zeros((C, width))
    for c in range(C):
        for x in range(width):
            mass = _origin_held(tagged, c, 0, x, concentrate)
            share = 0.0
            if mass > 0:
                for k in range(origin_rows.shape[0]):
                    held = _origin_held(tagged, c, origin_rows[k, 0], x, concentrate)
                    for o in range(1, origin_rows.shape[1]):
                        held += _origin_held(tagged, c, origin_rows[k, o], x, concentrate)
                    share = max(share, held / mass)
            if share > threshold:
                above[c, x] = 1.0
    return above


@kernel
def _origin_held(tagged: np.ndarray, c: int, q: int, x: int, concentrate: bool) -> float:
    """Row ``q`` of country ``c``'s stock: item ``x``, or (concentrate) all its elements."""
    return pairwise_sum(tagged[c, q]) if concentrate else tagged[c, q, x]
