"""Long runs: a use that stopped decays toward zero for decades without any floating-point overflow."""
import warnings
from types import SimpleNamespace

import numpy as np

from sim.engine.stockpiles import _cover
from sim.stages import REFINERY


def test_days_of_cover_of_a_use_decayed_to_the_subnormals_are_infinite_without_overflow():
    """After ~45 years without claims the 4-week average of use is ~1e-310 t/day: stock / use is beyond the
    largest float. That cover is infinite, as without use, and NumPy warns of nothing."""
    use = np.array([[1e-310, 0.0, 2.0]])
    state = SimpleNamespace(use_own={REFINERY: use}, oxide=SimpleNamespace(mass=np.array([[5.0, 5.0, 4.0]])))
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        _, cover = _cover(state)
    assert np.isinf(cover[0, 0]) and np.isinf(cover[0, 1]) and cover[0, 2] == 2.0
