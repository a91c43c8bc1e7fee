"""Oxides nobody needs: what a country holds beyond its working stock (of use including what it sells on)
and the precautionary cover it keeps after a shortage is sold to other uses, a sink outside the chain; the
price reads how much."""
from __future__ import annotations

import numpy as np

from ..kernels.stockpiles import sink
from ..stages import REFINERY
from ..world import Network
from ..world.provenance import TaggedFlow
from .flows import Flows
from .state import State
from .trade import precaution_days

NO_PRECAUTION = np.empty((0, 0))      # buyers keep no cover beyond their working stock


def sink_surplus(state: State, net: Network) -> Flows:
    """Take the oxides beyond working stock (and precaution) out of every country's stock (compiled)."""
    precaution = precaution_days(state, net, REFINERY)
    oxide = state.oxide
    return Flows(sunk=TaggedFlow(*sink(oxide.tagged, oxide.rows, oxide.count, state.use_all[REFINERY],
                                       net.target_days[REFINERY],
                                       precaution if isinstance(precaution, np.ndarray) else NO_PRECAUTION)))
