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
    awaited). The arithmetic is one compiled call (``sim.kernels.prices.step_prices``: the element prices,
    magnet prices, demand's answer and plants idling, in turn).

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
    market = (
        claims, supplied, sunk, state.use_own[REFINERY], state.oxide.tagged, state.pile.tagged, net.market_of,
        state.scarcity, state.surplus, min(1.0, dt_ / SCARCITY_SMOOTHING_DAYS), state.opening_cover,
        state.opening_scarcity, state.opening_surplus, spin_up, net.scarcity_of_orders, expected,
        net.scarcity_elasticity, net.stock_elasticity, net.surplus_elasticity,
        NOTHING if net.home_market is None else magnet_claims, magnet_supplied, state.magnet_scarcity,
        net.max_price_multiple, trial, state.log_multiple if trial else NOTHING, dt_ / 365.0,
        net.adjustment_per_year if trial else 0.0, net.reversion_per_year, net.initial_price,
        rise is not None, NOTHING if rise is None else state.recent_price,
        0.0 if rise is None else min(1.0, dt_ / rise.memory_days))
    lr = net.long_run
    magnets_answer = bool(net.demand_elasticity or (lr is not None and lr.demand_elasticity))
    uses_answer = bool(np.count_nonzero(net.other_uses_elasticity)
                       or (lr is not None and np.count_nonzero(lr.other_uses_elasticity)))
    priced, recipe, base = net.priced_recipe
    elasticity, answering = answer_arguments(state, net, magnets_answer, uses_answer)
    price, multiple, magnet_price, magnet_multiple = kernel.step_prices(
        market, net.market_of, net.max_price_multiple, net.home_market is not None, magnets_answer, uses_answer,
        priced, recipe, base, net.sector_grades, net.magnet_initial_price, elasticity, answering,
        plant_arguments(state, net), net.price_floor[day], RESTART_MARGIN, MIN_IDLE_DAYS, float(dt_))
    state.price = price
    flows = Flows(price=price, price_multiple=multiple)
    if net.home_market is not None:
        flows.magnet_price, flows.magnet_price_multiple = magnet_price, magnet_multiple
    return flows


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


def answer_arguments(state: State, net: Network, sectors: bool, uses: bool) -> tuple[tuple, tuple]:
    """Demand's answer to prices (``sim.kernels.prices.answer_prices``' arguments, but the values answered): end
    uses' ``demand_multiplier`` [C, S] (with ``sectors``) to the value of each sector's magnets at its market's
    prices over their initial value, and other uses' ``other_use_multiplier`` [C, E] (with ``uses``) to the
    element price multiple, both raised to their elasticities, in place. Each answer is
    value^-short-run elasticity at once, times the lasting part (in place) that builds towards the long-run
    elasticity (``long_run``; none without it) over ``long_run.years``, moving by a factor e every ``years``
    (new designs, substitutes qualified, less Dy per magnet; 1 in the spin-up), so that demand that answers a
    price at once by its short-run elasticity answers a price that lasts by its long-run one. With a recovery
    rate, demand a price rise destroyed comes back at most ``demand_recovery_per_year`` of the way a year
    (thrifting and substitutes, once in place, stay). Returns end uses' short- and long-run elasticities, and
    the arguments from other uses' short-run elasticities on."""
    lr, recovery = net.long_run, net.demand_recovery_per_year
    lasts = lr is not None
    short = net.other_uses_elasticity
    return (net.demand_elasticity, lr.demand_elasticity if lasts else net.demand_elasticity), (
        short, lr.other_uses_elasticity if lasts else short, net.market_of, lasts, state.k < 0,
        0.0 if lr is None else min(1.0, net.step_days / (365.0 * lr.years)), recovery is not None,
        0.0 if recovery is None else recovery * net.step_days / 365.0,
        state.lasting_demand if lasts and sectors else NOTHING, state.demand_multiplier if sectors else NOTHING,
        state.lasting_other_use if lasts and uses else NOTHING, state.other_use_multiplier if uses else NOTHING)


def plant_arguments(state: State, net: Network) -> tuple:
    """Each stage's plants as ``sim.kernels.prices.curtail`` reads them: a plant with a shut-down price idles
    once the price it gets (its country's market, or its country's floor) is below it, and restarts once the
    price is RESTART_MARGIN above it and it has stood idle MIN_IDLE_DAYS (a stage none of whose plants has a
    shut-down price is left alone)."""
    plants = [(stage, net.facilities(stage)) for stage in STAGES]
    return tuple((p.country, p.price_element, p.shuts_below, state.running[stage], state.idle_days[stage])
                 for stage, p in plants)
