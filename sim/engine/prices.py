"""Prices per element, and the plants that idle below their shut-down price.

Each priced element's price is its initial price x (1 - unmet share of oxide orders)^-scarcity x (cover /
opening cover)^-stock x (1 - unsold share beyond the opening's)^surplus, capped at ``max_multiple``
either way; the unmet and unsold shares are 4-week averages. With ``demand_elasticity`` end-use demand
answers to the price of each grade's recipe.
"""
from __future__ import annotations

import numpy as np

from ..stages import REFINERY, STAGES
from ..world import Network
from .flows import Flows
from .state import State

SCARCITY_SMOOTHING_DAYS = 28.0
RESTART_MARGIN = 0.10         # an idled plant restarts once its price is 10% above its shut-down price ...
MIN_IDLE_DAYS = 182.0         # ... and it has stood idle for half a year (restarting a plant takes months)


def update_prices(state: State, net: Network, day: int, claims: np.ndarray, supplied: np.ndarray,
                  sunk: np.ndarray) -> Flows:
    """This step's prices from the oxide market's unmet ``claims`` - ``supplied`` [C, E], the oxides ``sunk``
    [C, E] and the stocks; then plants idle or restart at them."""
    dt_ = net.step_days
    unmet = claims - supplied
    total = claims.sum(axis=0)
    smooth = min(1.0, dt_ / SCARCITY_SMOOTHING_DAYS)
    u = np.where(total > 0, unmet.sum(axis=0) / np.where(total > 0, total, 1), 0.0)
    state.scarcity += (u - state.scarcity) * smooth
    sunk = sunk.sum(axis=0)
    unsold = np.where(total + sunk > 0, sunk / np.where(total + sunk > 0, total + sunk, 1), 0.0)
    state.surplus += (unsold - state.surplus) * smooth
    use = state.use_own[REFINERY].sum(axis=0)
    cover = np.where(use > 0, (state.oxide.mass.sum(axis=0) + state.pile.mass.sum(axis=0)) / use, np.nan)
    if state.k < 0:
        state.opening_cover = cover
        state.opening_surplus = state.surplus.copy()
    multiple = (1 - np.minimum(state.scarcity, 0.999)) ** (-net.scarcity_elasticity)
    if net.stock_elasticity:
        ratio = np.where(cover > 0, cover / state.opening_cover, 1.0)
        multiple *= np.nan_to_num(ratio, nan=1.0) ** (-net.stock_elasticity)
    if net.surplus_elasticity:
        extra = np.maximum(0.0, state.surplus - state.opening_surplus) / np.maximum(1e-9, 1 - state.opening_surplus)
        multiple *= (1 - np.minimum(extra, 0.999)) ** net.surplus_elasticity
    multiple = np.clip(multiple, 1 / net.max_price_multiple, net.max_price_multiple)
    state.price = net.initial_price * multiple
    if net.demand_elasticity:
        priced = ~np.isnan(net.initial_price)
        base = net.recipe[:, priced] @ net.initial_price[priced]
        grade = np.where(base > 0, (net.recipe[:, priced] @ state.price[priced]) / base, 1.0)
        state.demand_multiplier = np.broadcast_to((net.sector_grades @ grade) ** (-net.demand_elasticity),
                                                  state.demand_multiplier.shape).copy()
    curtail(state, net, day)
    return Flows(price=state.price, price_multiple=multiple)


def curtail(state: State, net: Network, day: int) -> None:
    """A plant with a shut-down price idles once the price it gets (market, or its country's floor) is
    below it, and restarts once the price is RESTART_MARGIN above it and it has stood idle MIN_IDLE_DAYS."""
    dt_ = net.step_days
    for stage in STAGES:
        plants = net.facilities(stage)
        if not plants.shuts_below.any():
            continue
        market = np.nan_to_num(state.price[plants.price_element], nan=np.inf)
        floor = net.price_floor[day][plants.country, plants.price_element]
        price = np.maximum(market, floor)
        restart = plants.shuts_below * (1 + RESTART_MARGIN)
        idle = state.running[stage] == 0
        state.idle_days[stage] = np.where(idle, state.idle_days[stage] + dt_, 0.0)
        state.running[stage] = np.where(~idle, price >= plants.shuts_below,
                                        (price >= restart) & (state.idle_days[stage] >= MIN_IDLE_DAYS)).astype(float)
