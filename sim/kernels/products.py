"""Matrix products in one stated order of addition, compiled: the same bits on every machine.

NumPy's ``@`` hands a product to the BLAS library, whose kernel is chosen by the processor and adds the terms
in an order of its own (in blocks, with fused multiply-adds where the processor has them), so the last bit of
a product depends on the machine (``sim.portable`` pins OpenBLAS's kernel for that reason). These add each
entry's terms in the order of the inner index, a multiply then an add, from 0.0, as a plain loop does: what
the step's arithmetic must be once the step is one compiled call, and the same on any processor. A term whose
left factor is 0 is skipped (the factors here are finite, so it adds nothing): most of a membership matrix is.
Units are those of the operands.
"""
from __future__ import annotations

import numpy as np

from . import kernel


@kernel
def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[n, m] the product of ``a`` [n, k] and ``b`` [k, m]."""
    n, k = a.shape
    m = b.shape[1]
    out = np.zeros((n, m))
    for i in range(n):
        for p in range(k):
            f = a[i, p]
            if f == 0.0:
                continue
            for j in range(m):
                out[i, j] += f * b[p, j]
    return out


@kernel
def matvec(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """[n] the product of ``a`` [n, k] and ``x`` [k] (C-ordered): ``matmul`` with ``x`` as one column."""
    return matmul(a, x.reshape((x.shape[0], 1))).reshape((a.shape[0],))


@kernel
def vecmat(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[m] the product of ``x`` [k] (C-ordered) and ``b`` [k, m]: ``matmul`` with ``x`` as one row."""
    return matmul(x.reshape((1, x.shape[0])), b)[0]
