"""Mining: mines add concentrate, with their deposits' element shares, to their country's stock."""
from __future__ import annotations

from ..kernels import production
from ..stages import MINE
from ..world import Network
from .flows import Flows
from .state import State


def mine(state: State, net: Network, day: int) -> Flows:
    """Concentrate mined this step by the running mines, t REO by country and element."""
    conc = state.conc
    mined = production.mine(conc.tagged, conc.rows, conc.count, net.members[MINE],
                            net.mines.rate_t_per_day[day] * state.running[MINE], net.composition,
                            float(net.step_days), net.tags.written("mined"), net.tags.row("touched", 0))
    return Flows(mined=mined)
