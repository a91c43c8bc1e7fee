"""Mixing tagged mass: the compiled row sums give np.add.at's results bit for bit, so speed never moves a result."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels.tagged import add_rows

shapes = st.sampled_from([(11,), (1,), (81, 11), (81, 3), (81, 1)])


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), targets=st.integers(1, 20), shape=shapes,
       ordered=st.booleans())
def test_adding_shipments_into_stocks_sums_as_np_add_at(seed, n, targets, shape, ordered):
    """Repeated buyers, sorted or not, long or short rows, magnitudes 1e-6 to 1e6 t: the same bits."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, targets, n)
    if ordered:
        index = np.sort(index)
    rows = rng.random((n, *shape)) * 10.0 ** rng.uniform(-6, 6, (n, *shape))
    stock = rng.random((targets, *shape)) * 10.0 ** rng.uniform(-6, 6, (targets, *shape))
    expected, got = stock.copy(), stock.copy()
    np.add.at(expected, index, rows)
    add_rows(got, index, rows)
    assert np.array_equal(got, expected)
