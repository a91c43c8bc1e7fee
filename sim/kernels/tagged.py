"""Tagged mass (``sim.world.provenance``) taken from and added to stocks, compiled: every provenance row moves
with the mass, in proportion.

Arrays are ``[C, Q, X]`` tagged mass (row 0 the mass, t REO or t magnet), ``[C, I]`` mass by traded item
(concentrate is one item, all elements together) and ``[n, ...]`` rows of shipments by route.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .sums import pairwise_sum


@njit(cache=True)
def add_rows(target: np.ndarray, index: np.ndarray, rows: np.ndarray) -> None:
    """``target[index[n]] += rows[n]`` for every n in order, in place (``np.add.at``'s sums, bit for bit):
    mixing shipments into stocks."""
    for n in range(index.shape[0]):
        target[index[n]] += rows[n]


@njit(cache=True)
def item_mass(tagged: np.ndarray, c: int, i: int, concentrate: bool) -> float:
    """Mass of traded item ``i`` in row ``c`` of tagged mass ``[n, Q, X]``: concentrate is all its elements."""
    if concentrate:
        return pairwise_sum(tagged[c, 0, :])
    return tagged[c, 0, i]


@njit(cache=True)
def holds(rows: np.ndarray, q: int) -> bool:
    """Whether provenance row ``q`` of a country's rows ``[Q, X]`` holds any mass: most rows of a stock hold
    none, and taking a share of, scaling or adding nothing leaves the same bits, so the kernels skip them. An
    OR of every comparison, with no exit in the loop (an exit costs more in mispredicted branches than it
    saves)."""
    nonzero = False
    for x in range(rows.shape[1]):
        nonzero |= rows[q, x] != 0.0
    return nonzero


@njit(cache=True)
def take_share(tagged: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Take ``amount`` [C, I] of traded mass out of ``tagged`` [C, Q, X] (in place), every row in proportion, at
    most what is there; return the tagged mass taken. ``amount`` with one column is concentrate: t REO of
    all elements together. Rows that hold nothing, and countries nothing is taken from, are left as they are."""
    C, Q, X = tagged.shape
    concentrate = amount.shape[1] == 1
    taken = np.empty_like(tagged)
    share = np.empty(X)
    for c in range(C):
        total = pairwise_sum(tagged[c, 0, :]) if concentrate else 0.0     # before any of it is taken
        takes = False
        for x in range(X):
            i = 0 if concentrate else x
            available = total if concentrate else tagged[c, 0, x]
            share[x] = min(1.0, amount[c, i] / available) if available > 0 else 0.0
            takes |= share[x] > 0
        stock, out = tagged[c], taken[c]           # views of one country: loops the compiler vectorises
        if not takes:
            out[:] = 0.0
            continue
        for q in range(Q):
            if holds(stock, q):
                for x in range(X):
                    held = stock[q, x]
                    part = share[x] * held
                    out[q, x] = part
                    stock[q, x] = held - part
            else:
                for x in range(X):
                    out[q, x] = 0.0
    return taken


@njit(cache=True)
def add_into(stock: np.ndarray, tagged: np.ndarray) -> None:
    """``stock += tagged`` for tagged mass ``[C, Q, X]``, in place (rows of nothing skipped: adding 0 changes
    nothing)."""
    for c in range(stock.shape[0]):
        held, more = stock[c], tagged[c]
        for q in range(held.shape[0]):
            if holds(more, q):
                for x in range(held.shape[1]):
                    held[q, x] = held[q, x] + more[q, x]


@njit(cache=True)
def add_origin(tagged: np.ndarray, mass: np.ndarray, kind_row: int, touched_row: int) -> None:
    """Add ``mass`` [C, X] made in country c (its first index) to tagged mass ``[C, Q, X]``, in place: its
    provenance is c at the stage whose rows start at ``kind_row``, and c touched it."""
    C, X = mass.shape
    for c in range(C):
        for x in range(X):
            tagged[c, 0, x] += mass[c, x]
            tagged[c, kind_row + c, x] += mass[c, x]
            tagged[c, touched_row + c, x] += mass[c, x]


@njit(cache=True)
def add_stamped(stock: np.ndarray, rows: np.ndarray, scale: np.ndarray, out: np.ndarray, c: int, n: int,
                kind_row: int, touched_row: int) -> None:
    """Country ``c``'s newly processed tagged mass, ``rows`` [Q, X] x ``scale`` [X], stamped as processed in c
    (of ``n`` countries) at the stage whose rows start at ``kind_row`` (as ``stamp`` does), written to ``out``
    [Q, X] and added into the country's ``stock`` [Q, X], in place: one pass over the rows that hold anything."""
    Q, X = rows.shape
    for q in range(Q):
        source = q
        if q == kind_row + c or q == touched_row + c:
            source = 0                   # all of the mass
        elif kind_row <= q < kind_row + n:
            source = -1                  # another country's: none of it
        if source >= 0 and holds(rows, source):
            for x in range(X):
                part = rows[source, x] * scale[x]
                out[q, x] = part
                stock[q, x] = stock[q, x] + part
        else:
            for x in range(X):
                out[q, x] = 0.0


@njit(cache=True)
def stamp(tagged: np.ndarray, kind_row: int, touched_row: int) -> None:
    """Mark tagged mass ``[C, Q, X]`` as processed in country c (its first index) at the stage whose rows start at
    ``kind_row``, in place: that stage's rows hold only c's, all of the mass, and c has touched it."""
    C, Q, X = tagged.shape
    for c in range(C):
        rows = tagged[c]
        for k in range(C):
            if holds(rows, kind_row + k):
                for x in range(X):
                    rows[kind_row + k, x] = 0.0
        for x in range(X):
            rows[kind_row + c, x] = rows[0, x]
            rows[touched_row + c, x] = rows[0, x]
