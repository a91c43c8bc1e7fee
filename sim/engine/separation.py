"""Separation: plants draw their feed of concentrate from each country's stock; importers order
concentrate; plants separate the feed into oxides with their recovery (the rest is tailings).
"""
from __future__ import annotations

import numpy as np

from ..kernels import production
from ..stages import MINE, REFINERY
from ..world import Network
from ..world.provenance import TaggedFlow
from .flows import Flows
from .measures import ExportMeasure, coverage
from .shipping import dispatch
from .state import State
from .trade import USE_SMOOTHING_DAYS, open_market


def separate(state: State, net: Network, acting: list[ExportMeasure], day: int, kept: dict) -> Flows:
    """Concentrate fed to separation up to the plants' running capacity, the concentrate market cleared,
    exports sent, oxides separated into the country's stock."""
    rate = net.refineries.rate_t_per_day[day] * state.running[REFINERY] * net.step_days    # [P] t this step
    cover = coverage(acting, MINE, state, net, kept)
    conc, oxide = state.conc, state.oxide
    market = open_market(state, net, MINE, conc, np.empty((net.n_countries, 1)), cover)
    starting = production.clear_feed(market.arguments, net.members[REFINERY], rate, market.own_use)
    result, wants, qualifying = market.cleared(starting)
    feed, oxides, leaving = production.separate(
        conc.tagged, conc.rows, conc.count, oxide.tagged, oxide.rows, oxide.count, market.own_use, result.own_fill,
        net.members[REFINERY], rate, net.recovery, result.shipped, result.carried, state.pipeline[MINE],
        state.use_own[MINE], float(net.step_days), USE_SMOOTHING_DAYS, net.tags.written("refined"),
        net.tags.row("touched", 0))
    exports = dispatch(state, MINE, *leaving, cover.licensed)
    return Flows(stage=MINE, feed=TaggedFlow(*feed), separated=TaggedFlow(*oxides), exports=exports,
                 qualifying=qualifying)
