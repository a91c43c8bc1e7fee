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

from ..kernels import prices as kernel
from ..kernels.markets import unmet_share
from ..kernels.products import matmul
from ..stages import REFINERY, STAGES
from ..world import Network
from .expectations import expected_unmet
from .flows import Flows
from .state import State

SCARCITY_SMOOTHING_DAYS = 28.0
RESTART_MARGIN = 0.10         # an idled plant restarts once its price is 10% above its shut-down price ...
MIN_IDLE_DAYS = 182.0         # ... and it has stood idle for half a year (restarting a plant takes months)
NOTHING = np.empty((0, 0))    # for a memory a rule does not keep, and no news: prices move on the orders alone


def update_prices(state: State, net: Network, day: int, claims: np.ndarray, supplied: np.ndarray,
                  sunk: np.ndarray, magnet_claims: np.ndarray, magnet_supplied: np.ndarray,
                  covered: np.ndarray | None = None) -> Flows:
    """This step's prices in every market from the oxide market's unmet ``claims`` - ``supplied`` [C, E], the
    oxides ``sunk`` [C, E] and the stocks, and (with a home market) magnet prices from end uses'
    ``magnet_claims`` - ``magnet_supplied`` [C, G]; then demand answers them and plants idle or restart at
    them. ``covered`` [C, E]: the orders announced measures will cover (with expectations; None: no measure
    awaited). The arithmetic is compiled (``sim.kernels.prices``: the element prices one call, magnet prices,
    demand's answer and plants idling a call each).

    The price multiple is the pressure of the market's terms at once (the default), held within the cap. With
    ``adjustment_per_year`` a market finds its price by trial, as traders do: the log of the multiple moves
    dt/365 x (``adjustment_per_year`` x log(pressure) - ``reversion_per_year`` x log(multiple)) a step, so it
    climbs while orders go unmet, falls back while they are met (sellers compete for buyers), and faster while
    stocks stand above their opening cover or output goes unsold; held within the cap, and 1 in the spin-up."""
    dt_ = net.step_days
    spin_up = state.k < 0
    remember(state, net)
    expected = NOTHING
    if net.scarcity_of_orders and net.expectations is not None:
        # the larger, not the sum: the news and the orders count one shortfall
        covered_share = None if covered is None else unmet_share(net.by_market(covered), net.by_market(claims))
        expected = expected_unmet(state, net, day, covered_share)
    rise, trial = net.on_price_rise, net.adjustment_per_year is not None   # rise: the average buyers judge against
    price, multiple, bases, exponents, powers = kernel.market_prices(
        claims, supplied, sunk, state.use_own[REFINERY], state.oxide.tagged, state.pile.tagged, net.market_of,
        state.scarcity, state.surplus, min(1.0, dt_ / SCARCITY_SMOOTHING_DAYS), state.opening_cover,
        state.opening_scarcity, state.opening_surplus, spin_up, net.scarcity_of_orders, expected,
        net.scarcity_elasticity, net.stock_elasticity, net.surplus_elasticity,
        NOTHING if net.home_market is None else magnet_claims, magnet_supplied, state.magnet_scarcity,
        net.max_price_multiple, trial, state.log_multiple if trial else NOTHING, dt_ / 365.0,
        net.adjustment_per_year if trial else 0.0, net.reversion_per_year, net.initial_price,
        rise is not None, NOTHING if rise is None else state.recent_price,
        0.0 if rise is None else min(1.0, dt_ / rise.memory_days))
    state.price = price
    flows = Flows(price=price, price_multiple=multiple)
    lr = net.long_run
    magnets_answer = bool(net.demand_elasticity or (lr is not None and lr.demand_elasticity))
    uses_answer = bool(np.count_nonzero(net.other_uses_elasticity)
                       or (lr is not None and np.count_nonzero(lr.other_uses_elasticity)))
    by_sector = NOTHING
    if magnets_answer or net.home_market is not None:
        value = recipe_multiple(net, price)
        if magnets_answer:
            by_sector = matmul(value, net.sector_grades.T)
        if net.home_market is not None:
            flows.magnet_price, flows.magnet_price_multiple = kernel.magnet_prices(
                value, bases, exponents, powers, net.max_price_multiple, net.magnet_initial_price)
    if magnets_answer or uses_answer:
        respond(state, net, by_sector, multiple if uses_answer else NOTHING)
    curtail(state, net, day)
    return flows


def recipe_multiple(net: Network, price: np.ndarray) -> np.ndarray:
    """[M, G] the value of each grade's recipe at each market's prices ``price`` [M, E] over its value at the
    initial prices, priced elements only (1 for a recipe without any)."""
    priced, recipe, base = net.priced_recipe
    value = matmul(price[:, priced], recipe.T)
    kernel.over_base(value, base)
    return value


def remember(state: State, net: Network) -> None:
    """Room in the state for what the market remembers from step to step under the scenario's rules: the
    opening's scarcity, surplus and cover, a price found by trial (``adjustment_per_year``), the recent price
    buyers judge against (``on_price_rise``), the lasting part of demand's answer (``long_run``). A run opens
    with its spin-up, where the kernels set them."""
    if state.opening_cover is None:
        state.opening_cover = np.zeros_like(state.scarcity)
        state.opening_scarcity = np.zeros_like(state.scarcity)
        state.opening_surplus = np.zeros_like(state.scarcity)
    if net.adjustment_per_year is not None and state.log_multiple is None:
        state.log_multiple = np.zeros_like(state.scarcity)
    if net.on_price_rise is not None and state.recent_price is None:
        state.recent_price = np.zeros_like(state.scarcity)
    if net.long_run is not None and state.lasting_demand is None:
        state.lasting_demand = np.ones_like(state.demand_multiplier)
        state.lasting_other_use = np.ones_like(state.other_use_multiplier)


def respond(state: State, net: Network, by_sector: np.ndarray, multiple: np.ndarray) -> None:
    """Demand's answer to prices, in place: end uses' ``demand_multiplier`` [C, S] to ``by_sector`` [M, S], the
    value of each sector's magnets at its market's prices over their initial value, and other uses'
    ``other_use_multiplier`` [C, E] to the element price ``multiple`` [M, E] (either without rows: that
    demand does not answer), both raised to their elasticities in one compiled call. Each answer is
    value^-short-run elasticity at once, times the lasting part (in place) that builds towards the long-run
    elasticity (``long_run``; none without it) over ``long_run.years``, moving by a factor e every ``years``
    (new designs, substitutes qualified, less Dy per magnet; 1 in the spin-up), so that demand that answers a
    price at once by its short-run elasticity answers a price that lasts by its long-run one. With a recovery
    rate, demand a price rise destroyed comes back at most ``demand_recovery_per_year`` of the way a year
    (thrifting and substitutes, once in place, stay)."""
    lr, recovery = net.long_run, net.demand_recovery_per_year
    lasts = lr is not None
    short = net.other_uses_elasticity
    sectors, uses = by_sector.shape[0] > 0, multiple.shape[0] > 0
    kernel.answer_prices(
        by_sector, net.demand_elasticity, lr.demand_elasticity if lasts else net.demand_elasticity, multiple,
        short, lr.other_uses_elasticity if lasts else short, net.market_of, lasts, state.k < 0,
        0.0 if lr is None else min(1.0, net.step_days / (365.0 * lr.years)), recovery is not None,
        0.0 if recovery is None else recovery * net.step_days / 365.0,
        state.lasting_demand if lasts and sectors else NOTHING, state.demand_multiplier if sectors else NOTHING,
        state.lasting_other_use if lasts and uses else NOTHING, state.other_use_multiplier if uses else NOTHING)


def curtail(state: State, net: Network, day: int) -> None:
    """A plant with a shut-down price idles once the price it gets (its country's market, or its country's
    floor) is below it, and restarts once the price is RESTART_MARGIN above it and it has stood idle
    MIN_IDLE_DAYS."""
    for stage in STAGES:
        plants = net.facilities(stage)
        if np.count_nonzero(plants.shuts_below):     # a count, not .any(): a tenth of the cost on a few plants
            kernel.curtail(state.price, net.market_of, plants.country, plants.price_element, net.price_floor[day],
                           plants.shuts_below, RESTART_MARGIN, MIN_IDLE_DAYS, float(net.step_days),
                           state.running[stage], state.idle_days[stage])
