"""Sums in NumPy's order of addition, so that a compiled kernel gives NumPy's bits.

NumPy adds along an array's innermost (contiguous) axis pairwise, eight running sums at a time; along an
outer axis it adds one row after another. ``pairwise_sum`` is the first: the kernels use it wherever the NumPy
code they replace summed along the last axis (a concentrate's elements, a route's items), and plain loops for
the second.
"""
from __future__ import annotations

import numpy as np
from numba import njit

BLOCK = 128     # NumPy's PW_BLOCKSIZE: longer runs split in two halves


@njit(cache=True)
def pairwise_sum(x: np.ndarray) -> float:
    """Sum of a 1-D array as ``x.sum()`` adds it, bit for bit."""
    n = x.shape[0]
    if n < 8:
        total = 0.0
        for i in range(n):
            total += x[i]
        return total
    if n <= BLOCK:
        r = x[:8].copy()
        i = 8
        while i < n - n % 8:
            for k in range(8):
                r[k] += x[i + k]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            total += x[i]
            i += 1
        return total
    half = n // 2
    half -= half % 8
    return pairwise_sum(x[:half]) + pairwise_sum(x[half:])
