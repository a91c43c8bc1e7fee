"""The compiled kernels: NumPy's sums and powers bit for bit, tagged mass taken and added as the dense arithmetic
does it, and the same run with compilation switched off."""
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
from sim.kernels.tagged import add_stamped, stamp, take_share

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


def sparse_tagged(rng: np.random.Generator, countries: int, items: int) -> np.ndarray:
    """Tagged mass [C, 1 + 4 C, X] whose provenance rows mostly hold nothing, as a run's stocks do, and one
    country with nothing at all."""
    rows = rng.random((countries, 1 + 4 * countries, items)) * (rng.random((countries, 1 + 4 * countries, 1)) < 0.2)
    rows[:, 0, :] = rng.random((countries, items))
    rows[-1] = 0.0
    return rows


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_taking_a_share_skips_only_what_holds_nothing(seed):
    """Rows and countries that hold nothing, or that nothing is taken from, are passed over: what is taken and
    what stays are the dense arithmetic's, share x held and held - share x held, bit for bit."""
    rng = np.random.default_rng(seed)
    stock = sparse_tagged(rng, 4, 5)
    amount = rng.random((4, 5)) * (rng.random((4, 5)) < 0.5)
    amount[1] = 0.0
    share = np.where(stock[:, 0, :] > 0, np.minimum(1.0, amount / np.where(stock[:, 0, :] > 0, stock[:, 0, :], 1)), 0)
    expected = share[:, None, :] * stock
    left = stock - expected
    taken = take_share(stock, amount)
    assert (taken == expected).all() and (stock == left).all()


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_new_mass_is_stamped_and_added_as_stamp_then_add_would(seed):
    """Separation's oxides and magnet plants' magnets: each country's rows x a scale, stamped as processed there
    and added to its stock in one pass, give what scaling, ``stamp`` and adding the dense arrays give."""
    rng = np.random.default_rng(seed)
    countries, kind_row, touched_row = 3, 1 + 2 * 3, 1 + 3 * 3
    rows, stock = sparse_tagged(rng, countries, 4), sparse_tagged(rng, countries, 4)
    scale = rng.random((countries, 4))
    new = rows * scale[:, None, :]
    stamp(new, kind_row, touched_row)
    expected = stock + new
    out = np.empty_like(rows)
    for c in range(countries):
        add_stamped(stock[c], rows[c], scale[c], out[c], c, countries, kind_row, touched_row)
    assert (out == new).all() and (stock == expected).all()


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
