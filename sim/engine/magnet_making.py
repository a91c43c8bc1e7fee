"""Magnet making: magnet plants (by grade recipe), other uses and stockpiles draw on each country's oxide
stock; importers order oxides; plants make what the scarcest element of each recipe allows (the rest of
their input is swarf). Recycled oxide from end-of-life magnets joins the stock first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import production
from ..kernels.exports import held_by_licences
from ..kernels.products import matmul
from ..kernels.tagged import add_origin
from ..stages import REFINERY
from ..world import Network
from ..world.provenance import TaggedFlow
from .flows import Flows
from .measures import ExportMeasure, coverage
from .shipping import dispatch
from .state import State
from .stockpiles import purchases
from .trade import USE_SMOOTHING_DAYS, open_market


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
    if not net.recycles[day]:
        return None
    share = net.recycling_share[day]
    recycled = share[:, None] * matmul(by_grade, net.recipe)
    oxide = state.oxide
    add_origin(oxide.tagged, oxide.rows, oxide.count, recycled, net.tags.written("refined"), net.tags.row("touched", 0))
    return Flows(recycled=recycled)


def short_of(plan: np.ndarray, made: np.ndarray, fill: np.ndarray, recipe: np.ndarray) -> np.ndarray | None:
    """[C, E] t magnet plants did not make of their ``plan`` [C, G] for want of each element
    (``production.short_by_element``); None when plants made all they planned (to a milligram)."""
    out = np.zeros(fill.shape)
    return out if production.short_by_element(plan, made, fill, recipe, out) else None


def make_magnets(state: State, net: Network, acting: list[ExportMeasure], day: int, plan: np.ndarray,
                 kept: dict) -> MagnetMaking:
    """Oxides drawn by magnet plants (for ``plan`` [C, G], t magnet), other uses and stockpiles; the oxide
    market cleared, exports sent; magnets made, their provenance that of the oxides of their recipe."""
    buy = purchases(state, net, day)
    oxide, pile, magnet = state.oxide, state.pile, state.magnet
    use = np.empty((2,) + oxide.tagged[:, 0].shape)     # other uses' claims, all own use
    cover = coverage(acting, REFINERY, state, net, kept)
    market = open_market(state, net, REFINERY, oxide, use[1], cover)
    starting = production.clear_oxides(market.arguments, plan, net.country_yield, net.recipe,
                                       net.non_magnet_t_per_day[day], float(net.step_days),
                                       state.other_use_multiplier, buy, use)
    result, wants, qualifying = market.cleared(starting)
    (other_used, claims, supplied), into_magnets, made, used, magnets, leaving = production.make_magnets(
        oxide.tagged, oxide.rows, oxide.count, pile.tagged, pile.rows, pile.count, magnet.tagged, magnet.rows,
        magnet.count, plan, net.recipe, net.country_yield, net.recipe_shares, result.own_fill, use, buy,
        result.shipped, result.carried, state.pipeline[REFINERY], state.use_own[REFINERY], float(net.step_days),
        USE_SMOOTHING_DAYS, net.tags.written("made"), net.tags.row("touched", 0))
    exports = dispatch(state, REFINERY, *leaving, cover.licensed)
    flows = Flows(stage=REFINERY, other_uses=other_used,
                  oxides_used=TaggedFlow(*used), oxides_into_magnets=into_magnets, magnets_planned=plan,
                  magnets_made=made, made_tagged=TaggedFlow(*magnets), exports=exports, qualifying=qualifying,
                  magnets_short_of=short_of(plan, made, result.own_fill, net.recipe))
    held = held_by_licences(tuple(share for _, share in cover.licensed), result.shipped) if cover.licensed else 0.0
    return MagnetMaking(flows, claims, supplied, wants, result.unmet + held)
