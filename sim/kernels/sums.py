"""Sums in NumPy's order of addition, so that a compiled kernel gives NumPy's bits.

NumPy adds along an array's innermost (contiguous) axis pairwise, eight running sums at a time; along an
outer axis it adds one row after another. ``pairwise_sum`` is the first: the kernels use it wherever the NumPy
code they replace summed along the last axis (a concentrate's elements, a route's items), and plain loops for
the second.
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
