"""Prices per element and market, magnet prices by grade, and the plants that idle below their shut-down price.

A market is the buyers of a set of countries (``sim.world.markets``): the world, or with
``prices.home_market`` the home country's buyers and everyone else's. In each market, each priced element's
price is its initial price x (1 - unmet share of the market's oxide orders)^-scarcity x (the market's cover /
its opening cover)^-stock x (1 - the market's unsold share beyond the opening's)^surplus, capped at
``max_multiple`` either way; the unmet and unsold shares are 4-week averages. An export measure of the home
country thus opens a spread by itself: outside buyers go short, the home stock goes unsold.

With ``prices.expectations`` (and ``scarcity_of: orders``) the unmet share is the larger of that and the
share markets expect to go unmet on the news (``sim.engine.expectations``): the oxide orders an announced
measure will cover, from its announcement, and the lost share of the world's capacity of an element, from the
week it falls, fading with ``memory_days``. Prices then move before any order goes unmet.

With a home market, each magnet grade has a price in each market: the value of its recipe at that market's
element prices (priced elements only) over its value at the initial prices, x (1 - unmet share of the
market's end-use magnet orders)^-scarcity (a 4-week average), capped the same way; in USD/kg only where
every element of the recipe has a price. With ``demand_elasticity`` end-use demand answers to the recipe
value of each grade at the prices of the buyer's market.
"""
from __future__ import annotations

import numpy as np

from ..kernels.markets import market_pressure, unmet_share
from ..stages import REFINERY, STAGES
from ..world import Network
from .expectations import expected_unmet
from .flows import Flows
from .state import State

SCARCITY_SMOOTHING_DAYS = 28.0
RESTART_MARGIN = 0.10         # an idled plant restarts once its price is 10% above its shut-down price ...
MIN_IDLE_DAYS = 182.0         # ... and it has stood idle for half a year (restarting a plant takes months)


def update_prices(state: State, net: Network, day: int, claims: np.ndarray, supplied: np.ndarray,
                  sunk: np.ndarray, magnet_claims: np.ndarray, magnet_supplied: np.ndarray,
                  covered: np.ndarray | None = None) -> Flows:
    """This step's prices in every market from the oxide market's unmet ``claims`` - ``supplied`` [C, E], the
    oxides ``sunk`` [C, E] and the stocks, and (with a home market) magnet prices from end uses'
    ``magnet_claims`` - ``magnet_supplied`` [C, G]; then plants idle or restart at them. ``covered`` [C, E]:
    the orders announced measures will cover (with expectations; None: no measure awaited)."""
    dt_ = net.step_days
    smooth = min(1.0, dt_ / SCARCITY_SMOOTHING_DAYS)
    total, cover = market_pressure(claims, supplied, sunk, state.use_own[REFINERY], state.oxide.tagged,
                                   state.pile.tagged, net.market_of, state.scarcity, state.surplus, smooth)
    if state.k < 0:
        state.opening_cover = cover
        state.opening_surplus = state.surplus.copy()
        state.opening_scarcity = state.scarcity.copy()
    if net.scarcity_of_orders:     # against the world at rest: some orders go unfilled even there
        extra = np.maximum(0.0, state.scarcity - state.opening_scarcity) / np.maximum(1e-9, 1 - state.opening_scarcity)
        if net.expectations is not None:      # the larger, not the sum: the news and the orders count one shortfall
            covered_share = None if covered is None else unmet_share(net.by_market(covered), total)
            extra = np.maximum(extra, expected_unmet(state, net, day, covered_share))
        multiple = (1 - np.minimum(extra, 0.999)) ** (-net.scarcity_elasticity)
    else:
        multiple = (1 - np.minimum(state.scarcity, 0.999)) ** (-net.scarcity_elasticity)
    if net.stock_elasticity:
        ratio = np.where(cover > 0, cover / state.opening_cover, 1.0)
        multiple *= np.nan_to_num(ratio, nan=1.0) ** (-net.stock_elasticity)
    if net.surplus_elasticity:
        extra = np.maximum(0.0, state.surplus - state.opening_surplus) / np.maximum(1e-9, 1 - state.opening_surplus)
        multiple *= (1 - np.minimum(extra, 0.999)) ** net.surplus_elasticity
    multiple = gradually(state, net, multiple)
    state.price = net.initial_price * multiple
    lr = net.long_run
    if net.demand_elasticity or (lr is not None and lr.demand_elasticity):
        value = np.stack([net.sector_grades @ grade for grade in recipe_multiple(net, state.price)])[net.market_of]
        state.lasting_demand, state.demand_multiplier = respond(
            state, net, value, net.demand_elasticity, None if lr is None else lr.demand_elasticity,
            state.lasting_demand, state.demand_multiplier)
    if net.other_uses_elasticity.any() or (lr is not None and lr.other_uses_elasticity.any()):
        value = np.nan_to_num(multiple, nan=1.0)[net.market_of]
        state.lasting_other_use, state.other_use_multiplier = respond(
            state, net, value, net.other_uses_elasticity, None if lr is None else lr.other_uses_elasticity,
            state.lasting_other_use, state.other_use_multiplier)
    if net.on_price_rise is not None:      # the average buyers judge a price against: it follows with a lag
        if state.recent_price is None or state.k < 0:
            state.recent_price = state.price.copy()
        else:
            state.recent_price += (state.price - state.recent_price) * min(1.0, dt_ / net.on_price_rise.memory_days)
    flows = Flows(price=state.price, price_multiple=multiple)
    if net.home_market is not None:
        flows.magnet_price, flows.magnet_price_multiple = magnet_prices(state, net, magnet_claims, magnet_supplied,
                                                                        smooth)
    curtail(state, net, day)
    return flows


def gradually(state: State, net: Network, pressure: np.ndarray) -> np.ndarray:
    """The price multiple this step from the ``pressure`` [M, E] of the market's terms. At once (the default),
    the multiple is the pressure. With ``adjustment_per_year`` a market finds its price by trial, as traders
    do: the log of the multiple moves dt/365 x (``adjustment_per_year`` x log(pressure) - ``reversion_per_year``
    x log(multiple)) a step, so it climbs while orders go unmet, falls back while they are met (sellers
    compete for buyers), and faster while stocks stand above their opening cover or output goes unsold. Held
    within the cap either way; the spin-up leaves it at 1."""
    if net.adjustment_per_year is None:
        return np.clip(pressure, 1 / net.max_price_multiple, net.max_price_multiple)
    cap = np.log(net.max_price_multiple)
    if state.log_multiple is None or state.k < 0:
        state.log_multiple = np.zeros_like(pressure)
        return np.ones_like(pressure)
    years = net.step_days / 365.0
    state.log_multiple = np.clip(state.log_multiple + years * (net.adjustment_per_year * np.log(pressure)
                                                               - net.reversion_per_year * state.log_multiple),
                                 -cap, cap)
    return np.exp(state.log_multiple)


def respond(state: State, net: Network, value: np.ndarray, short: float | np.ndarray,
            long: float | np.ndarray | None, lasting_before: np.ndarray | None,
            before: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Demand's answer to ``value`` (its price multiple in the buyer's market): value^-``short`` at once, times
    the part that builds towards the ``long``-run elasticity (None: no long run), through ``answer``'s slow
    return. Returns the lasting part and the answer."""
    response = value ** (-short)
    if long is None:
        return lasting_before, answer(net, before, response)
    lasting_now = lasting(state, net, lasting_before, value, long - short)
    return lasting_now, answer(net, before, response * lasting_now)


def lasting(state: State, net: Network, before: np.ndarray | None, value: np.ndarray,
            elasticity: float | np.ndarray) -> np.ndarray:
    """The part of demand's answer that builds over ``long_run.years``: it moves towards ``value`` ^ -(long-run
    minus short-run ``elasticity``) by a factor e every ``years`` (new designs, substitutes qualified, less Dy
    per magnet), so demand that answers a price at once by its short-run elasticity answers a price that
    lasts by its long-run one. 1 in the spin-up."""
    if before is None or state.k < 0:
        return np.ones_like(value)
    step = min(1.0, net.step_days / (365.0 * net.long_run.years))
    return before + (value ** (-elasticity) - before) * step


def answer(net: Network, before: np.ndarray, now: np.ndarray) -> np.ndarray:
    """Demand's answer to prices this step: it falls at once as prices rise; with a recovery rate, demand a
    price rise destroyed comes back at most ``demand_recovery_per_year`` of the way a year (thrifting and
    substitutes, once in place, stay)."""
    if net.demand_recovery_per_year is None:
        return now
    step = net.demand_recovery_per_year * net.step_days / 365.0
    return np.minimum(now, before + step)


def recipe_multiple(net: Network, price: np.ndarray) -> np.ndarray:
    """[M, G] the value of each grade's recipe at each market's prices ``price`` [M, E] over its value at the
    initial prices, priced elements only (1 for a recipe without any)."""
    priced = ~np.isnan(net.initial_price)
    base = net.recipe[:, priced] @ net.initial_price[priced]
    # market by market, each a vector product: the same arithmetic with one market as with two
    return np.stack([np.where(base > 0, (net.recipe[:, priced] @ p[priced]) / base, 1.0) for p in price])


def magnet_prices(state: State, net: Network, claims: np.ndarray, supplied: np.ndarray,
                  smooth: float) -> tuple[np.ndarray, np.ndarray]:
    """Each grade's price in each market [M, G] (USD/kg magnet; NaN where its recipe is not fully priced) and
    its multiple of the starting value: recipe value x scarcity term of the market's magnet orders."""
    u = unmet_share(net.by_market(claims - supplied), net.by_market(claims))
    state.magnet_scarcity += (u - state.magnet_scarcity) * smooth
    multiple = recipe_multiple(net, state.price) * (1 - np.minimum(state.magnet_scarcity, 0.999)) ** (
        -net.scarcity_elasticity)
    multiple = np.clip(multiple, 1 / net.max_price_multiple, net.max_price_multiple)
    return net.magnet_initial_price * multiple, multiple


def curtail(state: State, net: Network, day: int) -> None:
    """A plant with a shut-down price idles once the price it gets (its country's market, or its country's
    floor) is below it, and restarts once the price is RESTART_MARGIN above it and it has stood idle
    MIN_IDLE_DAYS."""
    dt_ = net.step_days
    for stage in STAGES:
        plants = net.facilities(stage)
        if not plants.shuts_below.any():
            continue
        market = np.nan_to_num(state.price[net.market_of[plants.country], plants.price_element], nan=np.inf)
        floor = net.price_floor[day][plants.country, plants.price_element]
        price = np.maximum(market, floor)
        restart = plants.shuts_below * (1 + RESTART_MARGIN)
        idle = state.running[stage] == 0
        state.idle_days[stage] = np.where(idle, state.idle_days[stage] + dt_, 0.0)
        state.running[stage] = np.where(~idle, price >= plants.shuts_below,
                                        (price >= restart) & (state.idle_days[stage] >= MIN_IDLE_DAYS)).astype(float)
