"""Mining: mines add concentrate, with their deposits' element shares, to their country's stock."""
from __future__ import annotations

from ..kernels.products import matmul
from ..kernels.tagged import add_origin
from ..stages import MINE
from ..world import Network
from .flows import Flows
from .state import State


def mine(state: State, net: Network, day: int) -> Flows:
    """Concentrate mined this step by the running mines, t REO by country and element."""
    rate = net.mines.rate_t_per_day[day] * state.running[MINE]
    mined = matmul(net.members[MINE], rate[:, None] * net.composition) * net.step_days
    conc = state.conc
    add_origin(conc.tagged, conc.rows, conc.count, mined, net.tags.row("mined", 0), net.tags.row("touched", 0))
    return Flows(mined=mined)
