"""Oxides nobody needs: what a country holds beyond its working stock (of use including what it sells on)
and the precautionary cover it keeps after a shortage is sold to other uses, a sink outside the chain; the
price reads how much."""
from __future__ import annotations

import numpy as np

from ..stages import REFINERY
from ..world import Network
from .flows import Flows
from .state import State, take
from .trade import precaution_days


def sink_surplus(state: State, net: Network) -> Flows:
    """Take the oxides beyond working stock (and precaution) out of every country's stock."""
    keep = state.use_all[REFINERY] * (net.target_days[REFINERY][:, None] + precaution_days(state, net, REFINERY))
    surplus = np.maximum(0.0, state.oxide.mass - keep)
    return Flows(sunk=take(state.oxide, surplus))
