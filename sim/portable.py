"""The same results on any x86-64 CPU: NumPy's, OpenBLAS's and Numba's code chosen by setting, not by the CPU.

NumPy picks its powers, logarithms and exponentials by the CPU it runs on (AVX-512's differ from AVX2's in
the last bit), OpenBLAS its matrix-product kernels, and Numba vectorises the compiled kernels' maths with
Intel's SVML where that library is installed (the C library's otherwise, which NumPy's AVX2 code calls too);
such a bit can move a figure read at a threshold
(before residues under a milligram were kept out of trade, ``sim.kernels.clearing.DUST_T``, the baseline's
Vietnamese magnet output by 3e-5 from November 2025; since, a figure by about 1e-7 at most where a
threshold carries it). With ``ENVIRONMENT`` set before NumPy is loaded, every x86-64 machine with AVX2
runs AVX2's code, Haswell's kernels and the C library's maths in the compiled kernels. The golden reference
is recorded, and the test suite runs, with it; an analyst comparing runs across machines sets the same
variables. On an AVX2 machine without SVML nothing changes; on an AVX-512 one NumPy's powers and logarithms
(those left between the kernels) run AVX2's code, on arrays of a few hundred numbers (not measured there: this
project's machines have had one kind or the other).

No NumPy here: this is imported before it.
"""
from __future__ import annotations

import os
import platform
import sys

ENVIRONMENT = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",   # NumPy 2's AVX-512 targets
               "OPENBLAS_CORETYPE": "Haswell",                               # AVX2's kernels (Zen's are alike)
               "NUMBA_DISABLE_INTEL_SVML": "1"}                              # the kernels' maths the C library's


def environment() -> dict[str, str]:
    """The variables to set on this machine: none off x86-64, and no OpenBLAS kernel without AVX2 to run it."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            avx2 = " avx2" in info.read()
    except OSError:                       # not Linux: leave OpenBLAS to choose
        avx2 = False
    return {k: v for k, v in ENVIRONMENT.items() if avx2 or k != "OPENBLAS_CORETYPE"}


def apply() -> bool:
    """Set ``environment()`` in this process (and so in the processes it starts); True if it takes effect
    here, False if NumPy was loaded before (then only the processes started from now on have it)."""
    os.environ.update(environment())
    return "numpy" not in sys.modules
