"""The same results on any x86-64 CPU: NumPy's and OpenBLAS's code chosen by setting (sim.portable)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sim import portable


def test_off_x86_64_nothing_is_chosen(monkeypatch):
    monkeypatch.setattr(portable.platform, "machine", lambda: "aarch64")
    assert portable.environment() == {}


def test_on_x86_64_numpy_leaves_out_its_avx512_code(monkeypatch):
    monkeypatch.setattr(portable.platform, "machine", lambda: "x86_64")
    chosen = portable.environment()
    assert chosen["NPY_DISABLE_CPU_FEATURES"] == "X86_V4 AVX512_ICL AVX512_SPR"
    assert set(chosen) <= set(portable.ENVIRONMENT)


def test_a_process_that_loaded_numpy_first_is_told_so(monkeypatch):
    import numpy  # noqa: F401  (loaded by the suite already; here for the reader)

    monkeypatch.setattr(os, "environ", dict(os.environ))
    assert portable.apply() is False


def test_the_command_runs_numpy_without_its_avx512_code():
    """What ``python -m sim`` does first, seen from NumPy in a fresh process."""
    if not portable.environment():
        pytest.skip("not x86-64: NumPy's code is left to the CPU")
    code = ("import sim.portable as p; p.apply(); import numpy, os; "
            "from numpy._core._multiarray_umath import __cpu_features__ as f; "
            "print(os.environ.get('NPY_DISABLE_CPU_FEATURES'), f.get('X86_V4'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if k not in portable.ENVIRONMENT}).stdout.split()
    assert out == ["X86_V4", "AVX512_ICL", "AVX512_SPR", "False"]


def test_the_command_s_kernels_do_their_maths_with_the_c_library_not_intel_s_svml():
    """Where Intel's vector maths library is installed Numba would use it in the compiled kernels (its powers
    are not the C library's, which the prices' tests compare with): the command turns it off before Numba loads."""
    if not portable.environment():
        pytest.skip("not x86-64: no Intel library to leave out")
    code = "import sim.portable as p; p.apply(); from numba.core import config; print(config.DISABLE_INTEL_SVML)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if k not in portable.ENVIRONMENT}).stdout.split()
    assert out == ["1"]
