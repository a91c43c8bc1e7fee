"""Magnet making: magnet plants (by grade recipe), other uses and stockpiles draw on each country's oxide
stock; importers order oxides; plants make what the scarcest element of each recipe allows (the rest of
their input is swarf). Recycled oxide from end-of-life magnets joins the stock first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stages import MAGNET, REFINERY
from ..world import Network
from ..world.provenance import shares
from .flows import Flows
from .measures import ExportMeasure, coverage
from .shipping import ship_exports
from .state import State, take
from .stockpiles import purchases
from .trade import USE_SMOOTHING_DAYS, trade


@dataclass
class MagnetMaking:
    """The flows of magnet making, and the oxide market's state the price reads."""

    flows: Flows
    claims: np.ndarray        # [C, E] own use asked of the oxide stock (plants + other uses)
    supplied: np.ndarray      # [C, E] what the stock served of it
    ordered: np.ndarray       # [C, E] imports each country sought this step
    unfilled: np.ndarray      # [C, E] what of them it did not get now: unfilled, blocked, refused, over contract,
                              # or held for a licence


def recycle(state: State, net: Network, day: int, by_grade: np.ndarray) -> Flows | None:
    """Recycled oxide from end-of-life magnets: a share of the country's magnet rare-earth demand."""
    share = net.recycling_share[day]
    if not share.any():
        return None
    recycled = share[:, None] * (by_grade @ net.recipe)
    state.oxide.tagged += net.tags.originate(recycled, "refined")
    return Flows(recycled=recycled)


def make_magnets(state: State, net: Network, acting: list[ExportMeasure], day: int, plan: np.ndarray,
                 nothing: dict) -> MagnetMaking:
    """Oxides drawn by magnet plants (for ``plan`` [C, G], t magnet), other uses and stockpiles; the oxide
    market cleared, exports sent; magnets made, their provenance that of the oxides of their recipe."""
    dt_ = net.step_days
    for_magnets = (plan / net.country_yield[:, None]) @ net.recipe
    other = net.non_magnet_t_per_day[day] * dt_ * state.other_use_multiplier
    buy = purchases(state, net, day)
    own = for_magnets + other + buy
    cover = coverage(acting, REFINERY, state, net, nothing)
    makers = np.flatnonzero(plan.any(axis=1))            # countries making magnets this step
    oxide_shares = shares(state.oxide.tagged[makers])
    result, wants, qualifying = trade(state, net, REFINERY, state.oxide, own, cover)
    fill = result.own_fill
    limit = np.where(net.recipe[None] > 0, fill[:, None, :], 1.0).min(axis=2)
    made = plan * limit
    into_magnets = (made / net.country_yield[:, None]) @ net.recipe
    other_used = other * fill
    used = take(state.oxide, into_magnets + other_used)
    if buy.any():
        state.pile.tagged += take(state.oxide, buy * fill)
    exports = ship_exports(state, REFINERY, state.oxide, result.shipped, cover.licensed)
    claims = own - buy
    state.use_own[REFINERY] += (claims / dt_ - state.use_own[REFINERY]) * min(1.0, dt_ / USE_SMOOTHING_DAYS)
    # a magnet's provenance is that of the oxides of its recipe, weighted by their REO content
    weight = net.recipe / net.recipe.sum(axis=1, keepdims=True)
    magnets = np.zeros_like(state.magnet.tagged)
    magnets[makers] = np.einsum("cqe,ge->cqg", oxide_shares, weight) * made[makers, None, :]
    magnets[:, 0, :] = made
    net.tags.stamp(magnets, "made")
    state.stocks[MAGNET].tagged += magnets
    flows = Flows(stage=REFINERY, other_uses=other_used,
                  oxides_used=used, oxides_into_magnets=into_magnets, magnets_planned=plan, magnets_made=made,
                  made_tagged=magnets, exports=exports, qualifying=qualifying)
    held = sum((share * result.shipped for _, share in cover.licensed), np.zeros_like(result.shipped))
    held = np.minimum(held, result.shipped).sum(axis=1)     # a route under two licences is held once
    return MagnetMaking(flows, claims, claims * fill, wants, result.unmet + held)
