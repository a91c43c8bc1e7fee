"""End use of magnets: each country's sectors draw magnets by grade from its stock; importers order; each
country's plants plan to make what imports will not bring. Short supply is shared among a country's
sectors pro rata, or to defence first where it rations so (``sim.kernels.end_use.ration``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels.clearing import clear_market
from ..kernels.end_use import defence_shares, serve_end_uses
from ..stages import MAGNET, MINE, REFINERY
from ..world import Network
from ..world.provenance import TaggedFlow
from .flows import Flows
from .measures import ExportMeasure, coverage
from .shipping import dispatch
from .state import State, magnet_demand
from .trade import USE_SMOOTHING_DAYS, open_market


@dataclass
class EndUse:
    """The flows of end use, and what it leaves for the next part of the step."""

    flows: Flows
    plan: np.ndarray          # [C, G] t magnet each country's plants are to make this step
    by_grade: np.ndarray      # [C, G] t magnet of rare-earth magnets end uses asked for
    got: np.ndarray           # [C, G] t magnet of them their country's stock served


def end_use(state: State, net: Network, acting: list[ExportMeasure], day: int, defence_first: np.ndarray,
            by_end_user: bool, kept: dict) -> EndUse:
    """Magnets drawn by end uses, the magnet market cleared, exports sent, tomorrow's magnet plan.

    ``by_end_user``: some measure covers only civil or defence users, so their shares of use are needed."""
    dt_ = net.step_days
    by_sector, by_grade = magnet_demand(net, state.sector_grades, day, state.demand_multiplier, dt_)
    if by_end_user:
        end_user_shares(state, net, by_sector, by_grade, day)
    cover = coverage(acting, MAGNET, state, net, kept)
    market = open_market(state, net, MAGNET, state.magnet, by_grade, cover)     # end uses' own use: by_grade
    result, wants, qualifying = market.cleared(clear_market(*market.arguments))
    # plants make to order what imports this step do not bring, up to nameplate capacity
    rate = net.magnet_plants.nameplate_t_per_day[day] * state.running[MAGNET] * dt_
    magnet = state.magnet
    (got, plan), used, supplied, leaving = serve_end_uses(
        magnet.tagged, magnet.rows, magnet.count, by_sector, by_grade, state.sector_grades, result.own_fill,
        net.defence, defence_first, result.shipped, result.carried, state.pipeline[MAGNET], state.use_own[MAGNET],
        wants, net.members[MAGNET], rate, net.plant_grades, float(dt_), USE_SMOOTHING_DAYS)
    exports = dispatch(state, MAGNET, *leaving, cover.licensed)
    flows = Flows(stage=MAGNET, demand=by_sector, supplied=supplied, magnets_used=TaggedFlow(*used), exports=exports,
                  qualifying=qualifying)
    return EndUse(flows, plan, by_grade, got)


def end_user_shares(state: State, net: Network, by_sector: np.ndarray, by_grade: np.ndarray, day: int) -> None:
    """Defence sectors' share of each country's use of magnets (by grade), oxides and concentrate: one compiled
    call (``sim.kernels.end_use.defence_shares``)."""
    shares = defence_shares(by_sector, by_grade, net.defence, state.sector_grades, net.country_yield, net.recipe,
                            net.non_magnet_t_per_day[day], float(net.step_days))
    state.defence_share[MAGNET], state.defence_share[REFINERY], state.defence_share[MINE] = shares
