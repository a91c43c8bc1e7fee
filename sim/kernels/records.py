"""Records written, compiled: entries of a sparse record, one call for a block of a step however many entries it
holds; and the dense records of the end of a step, one call for them all.

A record's buffers (``sim.results.sparse.SparseSteps``) are ``flat`` [N] (an entry's flat position over the
record's leading axes, ``sparse.POSITION`` integers) and ``rows`` [N, T] (its row over the trailing axes, T
numbers; one for a record without them), and ``cursor`` [2]: where the next entry goes in the buffers, and how
many entries earlier buffers hold; a record added to has ``step`` [N] too (an entry's step), one put in does
not: a block put (``blocks`` [step, part, 2]) is counted there by the first and end of its entries over all the
buffers, which says their step. Each kernel writes from the cursor on and moves it; the caller has made room
for every row it is given.
"""
from __future__ import annotations

import numpy as np

from . import kernel
from .sums import row_sums


@kernel
def append_rows(step: np.ndarray, flat: np.ndarray, rows: np.ndarray, cursor: np.ndarray, k: int,
                index: np.ndarray, added: np.ndarray) -> None:
    """Write ``added`` [m, T] at the positions ``index`` [m] of step ``k``, every row (flows added: as to a
    zeroed slot, so -0.0 is written as 0.0)."""
    at = cursor[0]
    for r in range(index.shape[0]):
        step[at] = k
        flat[at] = index[r]
        for t in range(rows.shape[1]):
            rows[at, t] = added[r, t] + 0.0
        at += 1
    cursor[0] = at


@kernel
def append_goods(step: np.ndarray, flat: np.ndarray, rows: np.ndarray, cursor: np.ndarray, k: int, buyer: np.ndarray,
                 supplier: np.ndarray, suppliers: int, goods: np.ndarray, items_summed: bool) -> None:
    """Write goods by route ``goods`` [m, L, X] (row 0 their mass, the only one read) at step ``k``, each route at
    position ``buyer`` x ``suppliers`` + ``supplier``: its mass by item, or (``items_summed``) its mass summed
    over the items as NumPy sums a row (flows added: as to a zeroed slot, so -0.0 is written as 0.0)."""
    at = cursor[0]
    X = goods.shape[2]
    summed = row_sums(goods[:, 0]) if items_summed else np.empty(0)
    for r in range(goods.shape[0]):
        step[at] = k
        flat[at] = buyer[r] * suppliers + supplier[r]
        if items_summed:
            rows[at, 0] = summed[r] + 0.0
        else:
            for t in range(X):
                rows[at, t] = goods[r, 0, t] + 0.0
        at += 1
    cursor[0] = at


@kernel
def append_nonzero(flat: np.ndarray, rows: np.ndarray, cursor: np.ndarray, blocks: np.ndarray, k: int, part: int,
                   block: np.ndarray) -> None:
    """Put the ``part``-th block [m, T] of step ``k``: its rows that are not all zero, at positions
    ``part`` m + their index."""
    at = first = cursor[0]
    offset = part * block.shape[0]
    for r in range(block.shape[0]):
        if _any_nonzero(block, r):
            flat[at] = offset + r
            rows[at] = block[r]
            at += 1
    _close_block(cursor, blocks, k, part, first, at)


@kernel
def append_sums(flat: np.ndarray, rows: np.ndarray, cursor: np.ndarray, blocks: np.ndarray, part: int,
                flat_w: np.ndarray, rows_w: np.ndarray, cursor_w: np.ndarray, blocks_w: np.ndarray, part_w: int,
                k: int, m: int, at: np.ndarray, values: np.ndarray, weights: np.ndarray) -> None:
    """Put the sums of the rows of a block of ``m`` rows in step ``k``, given as its rows that may not be zero
    (``at`` [n], ascending, and their ``values`` [n, X]; the others are zero), in one pass: added as NumPy
    sums a row, as the ``part``-th block of the first record; each number times ``weights`` [X], added in
    order, as the ``part_w``-th block of the second (the ``_w`` buffers). A record with its part below zero
    gets nothing. Only sums that are not zero are kept, at positions part m + their row."""
    X = values.shape[1]
    at_p = first = cursor[0]
    at_w = first_w = cursor_w[0]
    totals = row_sums(values) if part >= 0 else np.empty(0)
    for r in range(at.shape[0]):        # a row of zeros sums to zero both ways, and is not kept
        if part >= 0:
            at_p = _keep(flat, rows, at_p, part * m + at[r], totals[r])
        if part_w >= 0:
            total = 0.0
            for x in range(X):
                total += values[r, x] * weights[x]
            at_w = _keep(flat_w, rows_w, at_w, part_w * m + at[r], total)
    if part >= 0:
        _close_block(cursor, blocks, k, part, first, at_p)
    if part_w >= 0:
        _close_block(cursor_w, blocks_w, k, part_w, first_w, at_w)


@kernel
def _keep(flat: np.ndarray, rows: np.ndarray, at: int, position: int, total: float) -> int:
    """Write a sum at entry ``at`` when it is not zero; return where the next entry goes."""
    if total == 0.0:
        return at
    flat[at] = position
    rows[at, 0] = total
    return at + 1


@kernel
def _close_block(cursor: np.ndarray, blocks: np.ndarray, k: int, part: int, first: int, end: int) -> None:
    """Move the cursor past a block's entries (``first`` to ``end`` in the last buffers) and count them as the
    block's: a block put again, the last one counts."""
    cursor[0] = end
    blocks[k, part, 0] = cursor[1] + first
    blocks[k, part, 1] = cursor[1] + end


@kernel
def _any_nonzero(block: np.ndarray, r: int) -> bool:
    """Whether row ``r`` of ``block`` holds a number that is not zero (NaN is not zero): an OR of every
    comparison, with no exit in the loop (an exit costs more in mispredicted branches than it saves)."""
    nonzero = False
    for t in range(block.shape[1]):
        nonzero |= block[r, t] != 0.0
    return nonzero


@kernel
def put_levels(k: int, stock_conc: np.ndarray, stock_oxide: np.ndarray, stock_magnet: np.ndarray,
               stockpile: np.ndarray, use_conc: np.ndarray, use_oxide: np.ndarray, use_magnet: np.ndarray,
               in_transit: np.ndarray, conc: np.ndarray, oxide: np.ndarray, magnet: np.ndarray, pile: np.ndarray,
               own_conc: np.ndarray, own_oxide: np.ndarray, own_magnet: np.ndarray, transit: np.ndarray) -> None:
    """Write step ``k`` of the dense records of the end of a step (``[step, ...]``, the first eight): the mass
    (row 0) of the tagged stocks ``conc``, ``oxide``, ``magnet``, ``pile`` [C, Q, X] (concentrate's summed over
    its elements as NumPy sums a row), the own use ``own_conc`` [C, 1], ``own_oxide``, ``own_magnet`` [C, X],
    and ``transit`` [3], each copied as it is."""
    stock_conc[k] = row_sums(conc[:, 0])
    stock_oxide[k] = oxide[:, 0]
    stock_magnet[k] = magnet[:, 0]
    stockpile[k] = pile[:, 0]
    use_conc[k] = own_conc[:, 0]
    use_oxide[k] = own_oxide
    use_magnet[k] = own_magnet
    in_transit[k] = transit
