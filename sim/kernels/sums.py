"""Sums in NumPy's order of addition, so that a compiled kernel gives NumPy's bits.

NumPy adds along an array's innermost (contiguous) axis pairwise, eight running sums at a time; along an
outer axis it adds one row after another. ``pairwise_sum`` is the first: the kernels use it wherever the NumPy
code they replace summed along the last axis (a concentrate's elements, a route's items), and plain loops for
the second. ``row_sums`` is the first for every row of a 2-D array at once, each row read in place: a kernel
summing hundreds of rows (the records') would spend more on handing a view of each to ``pairwise_sum`` (~20 ns:
a call it cannot compile into its loop) than on adding its few numbers.
"""
from __future__ import annotations

import numpy as np

from . import kernel

BLOCK = 128     # NumPy's PW_BLOCKSIZE: longer runs split in two halves


@kernel
def pairwise_sum(x: np.ndarray) -> float:
    """Sum of a 1-D array as ``x.sum()`` adds it, bit for bit. (Not recursive itself, so that the compiler can
    inline it, and ``block_sum``, where the kernels sum a few numbers.)"""
    if x.shape[0] <= BLOCK:
        return block_sum(x)
    return halves(x)


@kernel
def halves(x: np.ndarray) -> float:
    """``pairwise_sum`` of more than ``BLOCK`` numbers: the sums of two halves, the first a multiple of 8 long."""
    n = x.shape[0]
    if n <= BLOCK:
        return block_sum(x)
    half = n // 2
    half -= half % 8
    return halves(x[:half]) + halves(x[half:])


@kernel
def block_sum(x: np.ndarray) -> float:
    """NumPy's sum of at most ``BLOCK`` numbers: in order below 8, else eight running sums added pairwise, then
    the rest in order. (Not recursive, so that the compiler can inline it in the kernels' loops.)"""
    n = x.shape[0]
    if n < 8:
        total = 0.0
        for i in range(n):
            total += x[i]
        return total
    r0, r1, r2, r3, r4, r5, r6, r7 = x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
    i = 8
    while i < n - n % 8:
        r0 += x[i]
        r1 += x[i + 1]
        r2 += x[i + 2]
        r3 += x[i + 3]
        r4 += x[i + 4]
        r5 += x[i + 5]
        r6 += x[i + 6]
        r7 += x[i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += x[i]
        i += 1
    return total


@kernel
def row_sums(x: np.ndarray) -> np.ndarray:
    """[n] the rows of a 2-D ``x`` [n, X] summed as ``x.sum(axis=1)`` adds them, bit for bit: NumPy adds each
    row's pairwise sum to 0.0, which makes a sum of -0.0s 0.0 (rows longer than ``BLOCK``, rare, in halves as
    ``pairwise_sum`` adds them)."""
    out = np.empty(x.shape[0])
    if x.shape[1] > BLOCK:
        for r in range(x.shape[0]):
            out[r] = 0.0 + halves(x[r])
        return out
    for r in range(x.shape[0]):
        out[r] = 0.0 + row_block_sum(x, r)
    return out


@kernel
def first_row_sum(x: np.ndarray) -> float:
    """``row_sums(x)[0]``, bit for bit, as a number: one route's t (a licence decides tens of thousands), without
    an array made and handed back for it."""
    if x.shape[1] > BLOCK:
        return 0.0 + halves(x[0])
    return 0.0 + row_block_sum(x, 0)


@kernel
def row_block_sum(x: np.ndarray, r: int) -> float:
    """``block_sum(x[r])`` of a row of at most ``BLOCK`` numbers of a 2-D ``x``, read in place: the same
    additions in the same order."""
    n = x.shape[1]
    if n < 8:
        total = 0.0
        for i in range(n):
            total += x[r, i]
        return total
    r0, r1, r2, r3, r4, r5, r6, r7 = x[r, 0], x[r, 1], x[r, 2], x[r, 3], x[r, 4], x[r, 5], x[r, 6], x[r, 7]
    i = 8
    while i < n - n % 8:
        r0 += x[r, i]
        r1 += x[r, i + 1]
        r2 += x[r, i + 2]
        r3 += x[r, i + 3]
        r4 += x[r, i + 4]
        r5 += x[r, i + 5]
        r6 += x[r, i + 6]
        r7 += x[r, i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += x[r, i]
        i += 1
    return total
