"""The compiled kernels: NumPy's sums and powers bit for bit, and the same run with compilation switched off."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.kernels.prices import numpy_power
from sim.kernels.sums import pairwise_sum

from .conftest import ROOT, SCENARIOS

SHORT_RUN = f"""
import sys
from numba.core import config
import sim
assert config.DISABLE_JIT, "the kernels are to run as plain Python"
tables = sim.run(sim.load_scenario({str(SCENARIOS / "japan_ban.yaml")!r}), seed=0, end="2025-03-31").tables("step")
for name, frame in tables.items():
    frame.to_parquet(f"{{sys.argv[1]}}/{{name}}.parquet")
"""


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300))
def test_a_compiled_sum_adds_as_numpy_does(seed, n):
    """Lengths below, at and beyond NumPy's blocks of 8 and 128, magnitudes 1e-6 to 1e6: the same bits as x.sum()."""
    rng = np.random.default_rng(seed)
    x = rng.random(n) * 10.0 ** rng.uniform(-6, 6, n)
    assert pairwise_sum(x) == x.sum()


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), exponent=st.sampled_from([-1.0, 0.5, 2.0, 0.0, 1.0, -3.41, 0.067, 6.0]))
def test_a_batch_of_powers_gives_numpy_s_array_to_a_scalar(seed, exponent):
    """Prices raise a flat batch of terms to their exponents at once: with ``numpy_power`` each is what
    ``array ** exponent`` gives, whose square roots, squares and reciprocals are not the power function's."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(1e-3, 1e3, 64)
    batch = np.power(x, np.full_like(x, exponent))
    assert [numpy_power(b, exponent, p) for b, p in zip(x, batch)] == list(x ** exponent)


def test_a_run_without_compilation_gives_the_same_tables(tmp_path):
    """NUMBA_DISABLE_JIT=1 (for a debugger) runs the kernels as Python: a short Japan ban's tables are those of
    the compiled run, number for number."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", SHORT_RUN, str(tmp_path)], cwd=ROOT, env=env, check=True)
    compiled = sim.run(sim.load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end="2025-03-31").tables("step")
    assert compiled
    for name, frame in compiled.items():
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"), frame, check_exact=True,
                                      check_dtype=False, check_categorical=False)


def test_the_kernels_count_as_compiled_once_cached_and_not_with_an_empty_cache(tmp_path):
    sim.run(SCENARIOS / "baseline.yaml", end="2025-01-31")       # compiled (or loaded) here
    assert sim.kernels.compiled()
    empty = subprocess.run([sys.executable, "-c", "import sim.kernels as k; print(k.compiled())"],
                           env=os.environ | {"NUMBA_CACHE_DIR": str(tmp_path)}, capture_output=True, text=True,
                           check=True, cwd=ROOT)
    assert empty.stdout.strip() == "False"
