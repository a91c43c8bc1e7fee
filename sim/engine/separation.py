"""Separation: plants draw their feed of concentrate from each country's stock; importers order
concentrate; plants separate the feed into oxides with their recovery (the rest is tailings).
"""
from __future__ import annotations

from ..kernels import production
from ..kernels.products import matmul, matvec
from ..stages import MINE, REFINERY
from ..world import Network
from ..world.provenance import TaggedFlow
from .flows import Flows
from .measures import ExportMeasure, coverage
from .shipping import dispatch
from .state import State
from .trade import USE_SMOOTHING_DAYS, trade


def separate(state: State, net: Network, acting: list[ExportMeasure], day: int, kept: dict) -> Flows:
    """Concentrate fed to separation up to the plants' running capacity, the concentrate market cleared,
    exports sent, oxides separated into the country's stock."""
    dt_ = net.step_days
    rate = net.refineries.rate_t_per_day[day] * state.running[REFINERY] * dt_
    feed_cap = matvec(net.members[REFINERY], rate)[:, None]
    cover = coverage(acting, MINE, state, net, kept)
    result, wants, qualifying = trade(state, net, MINE, state.conc, feed_cap, cover)
    conc, oxide = state.conc, state.oxide
    recovered = matmul(net.members[REFINERY], rate[:, None] * net.recovery)     # [C, E] t the capacity would recover
    feed, oxides, leaving = production.separate(
        conc.tagged, conc.rows, conc.count, oxide.tagged, oxide.rows, oxide.count, feed_cap, result.own_fill,
        recovered, result.shipped, result.carried, state.pipeline[MINE],
        state.use_own[MINE], float(dt_), USE_SMOOTHING_DAYS, net.tags.row("refined", 0), net.tags.row("touched", 0))
    exports = dispatch(state, MINE, *leaving, cover.licensed)
    return Flows(stage=MINE, feed=TaggedFlow(*feed), separated=TaggedFlow(*oxides), exports=exports,
                 qualifying=qualifying)
