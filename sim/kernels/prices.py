"""Prices of a step, compiled: the markets' terms, the price multiples they make, demand's answer to them,
magnet prices and the plants that idle below their price (``sim.engine.prices`` states the rules). Units:
USD/kg, t REO, t magnet, days; shares 0..1; ``[M, E]`` by market and element, ``[M, G]`` by market and grade,
``[C, K]`` by country.

A step's prices, demand's answer to them and plants idling at them are one call (``step_prices``): the element
prices (``market_prices``), magnet prices, demand's answer (``answer_prices``) and ``curtail`` in turn. Their
powers, logs and exponentials are the C library's (``powers``; Intel's SVML kept out by ``sim.portable``),
which NumPy's array functions call too wherever its AVX-512 code is left out, as ``sim.portable`` leaves it
for the command, its workers and the tests: the same bits as the powers NumPy took between the kernels before
(checked on every scenario). Run without those settings on an AVX-512 processor, NumPy's own code differs from
the library's in the last place in about one case in twenty; the kernels do not. ``numpy_power`` gives NumPy's
``array ** scalar``, which takes a square root, a square or a reciprocal for the exponents 0.5, 2 and -1, from
the power of the same base.
"""
from __future__ import annotations

import numpy as np

from . import kernel
from .markets import by_market, market_pressure, unmet_share
from .products import matmul

MAX_SHARE = 0.999      # an unmet or unsold share counts at most this much: the terms stay finite
LARGEST = np.finfo(np.float64).max     # what NumPy's nan_to_num makes of an infinite ratio


@kernel
def numpy_power(base: float, exponent: float, power: float) -> float:
    """``base ** exponent`` as NumPy raises an array to a scalar, given ``power``, the ufunc's value."""
    if exponent == 0.5:
        return np.sqrt(base)
    if exponent == 2.0:
        return base * base
    if exponent == -1.0:
        return 1.0 / base
    return power


@kernel
def price_terms(claims: np.ndarray, supplied: np.ndarray, sunk: np.ndarray, use: np.ndarray, oxide: np.ndarray,
                pile: np.ndarray, market_of: np.ndarray, scarcity: np.ndarray, surplus: np.ndarray, smooth: float,
                opening_cover: np.ndarray, opening_scarcity: np.ndarray, opening_surplus: np.ndarray,
                spin_up: bool, of_orders: bool, expected: np.ndarray, scarcity_elasticity: float,
                stock_elasticity: float, surplus_elasticity: float, magnet_claims: np.ndarray,
                magnet_supplied: np.ndarray, magnet_scarcity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bases and exponents [3 M E + M G] of the terms of this step's prices: the scarcity, stock and surplus
    terms of each market's element prices [M, E] each, then the scarcity term of its magnet prices [M, G].

    The markets' ``scarcity`` and ``surplus`` move ``smooth`` of the way to this step's (``market_pressure``,
    in place); in the spin-up they, and the days of cover, are the opening's (``opening_*``, in place). The
    scarcity term's share is the unmet share (with ``of_orders``, the share beyond the opening's, at least
    the ``expected`` [M, E] one when that has rows); the stock term's base the cover over the opening cover;
    the surplus term's the unsold share beyond the opening's. With end uses' ``magnet_claims`` [C, G] (no
    rows: no magnet prices), the markets' ``magnet_scarcity`` moves the same way, in place."""
    _, cover = market_pressure(claims, supplied, sunk, use, oxide, pile, market_of, scarcity, surplus, smooth)
    M, E = scarcity.shape
    ME = M * E
    if spin_up:
        opening_cover[:] = cover
        opening_scarcity[:] = scarcity
        opening_surplus[:] = surplus
    G = magnet_scarcity.shape[1] if magnet_claims.shape[0] > 0 else 0
    bases = np.empty(3 * ME + M * G)
    exponents = np.empty(3 * ME + M * G)
    news = expected.shape[0] > 0
    for m in range(M):
        for e in range(E):
            n = m * E + e
            short = scarcity[m, e]
            if of_orders:      # against the world at rest: some orders go unfilled even there
                short = max(0.0, short - opening_scarcity[m, e]) / max(1e-9, 1 - opening_scarcity[m, e])
                if news:
                    short = max(short, expected[m, e])
            bases[n] = 1 - min(short, MAX_SHARE)
            ratio = cover[m, e] / opening_cover[m, e] if cover[m, e] > 0 else 1.0
            if np.isnan(ratio):
                ratio = 1.0
            elif np.isinf(ratio):
                ratio = LARGEST
            bases[ME + n] = ratio
            unsold = max(0.0, surplus[m, e] - opening_surplus[m, e]) / max(1e-9, 1 - opening_surplus[m, e])
            bases[2 * ME + n] = 1 - min(unsold, MAX_SHARE)
            exponents[n] = -scarcity_elasticity
            exponents[ME + n] = -stock_elasticity
            exponents[2 * ME + n] = surplus_elasticity
    if G:
        unmet = unmet_share(by_market(magnet_claims - magnet_supplied, market_of, M),
                            by_market(magnet_claims, market_of, M))
        for m in range(M):
            for g in range(G):
                magnet_scarcity[m, g] += (unmet[m, g] - magnet_scarcity[m, g]) * smooth
                bases[3 * ME + m * G + g] = 1 - min(magnet_scarcity[m, g], MAX_SHARE)
                exponents[3 * ME + m * G + g] = -scarcity_elasticity
    return bases, exponents


@kernel
def step_prices(market: tuple, market_of: np.ndarray, max_multiple: float, home: bool, magnets_answer: bool,
                uses_answer: bool, priced: np.ndarray, recipe: np.ndarray, base: np.ndarray, sector_grades: np.ndarray,
                magnet_initial_price: np.ndarray, elasticity: tuple, answering: tuple, plants: tuple,
                floor: np.ndarray, restart_margin: float, min_idle_days: float, step_days: float) -> tuple:
    """A step's prices in one call. The element prices (``market_prices``, on ``market``, its arguments, among
    them ``market_of`` [C] and ``max_multiple``); then,
    with a ``home`` market or with end uses that answer prices (``magnets_answer``), the value of each grade's
    recipe at them (``recipe_multiple``: ``priced``, ``recipe``, ``base``); with a home market, magnet prices
    (``magnet_prices``, from ``magnet_initial_price`` [G]); end uses' answer to the value of each sector's
    magnets (``sector_grades`` [S, G]) and other uses' (``uses_answer``) to the element price multiple
    (``answer_prices``: ``elasticity``, end uses' short- and long-run, and ``answering``, its arguments from
    ``use_short`` on); and plants idling or restarting (``curtail``) for each stage whose ``plants``
    (``country``, ``element``, ``shuts_below``, ``running``, ``idle_days`` [F]) include one with a shut-down
    price, at the country's ``floor`` [C, E]. Returns the prices [M, E] USD/kg and their multiple, and the magnet
    prices [M, G] USD/kg magnet and their multiple (no rows without a home market)."""
    price, multiple, bases, exponents, raised = market_prices(*market)
    by_sector = np.empty((0, 0))
    magnet_price, magnet_multiple = np.empty((0, 0)), np.empty((0, 0))
    if home or magnets_answer:
        value = recipe_multiple(price, priced, recipe, base)
        if magnets_answer:
            by_sector = matmul(value, sector_grades.T)
        if home:
            magnet_price, magnet_multiple = magnet_prices(value, bases, exponents, raised, max_multiple,
                                                          magnet_initial_price)
    if magnets_answer or uses_answer:
        answer_prices(by_sector, elasticity[0], elasticity[1], multiple if uses_answer else np.empty((0, 0)),
                      *answering)
    for country, element, shuts_below, running, idle_days in plants:
        if np.any(shuts_below != 0):
            curtail(price, market_of, country, element, floor, shuts_below, restart_margin, min_idle_days,
                    step_days, running, idle_days)
    return price, multiple, magnet_price, magnet_multiple


@kernel
def recipe_multiple(price: np.ndarray, priced: np.ndarray, recipe: np.ndarray, base: np.ndarray) -> np.ndarray:
    """[M, G] the value of each grade's recipe ``recipe`` [G, E'] of the ``priced`` [E] elements at each market's
    prices ``price`` [M, E] over its value at the initial prices ``base`` [G] (1 for a recipe without any)."""
    M, E = price.shape
    of_priced = np.empty((M, recipe.shape[1]))
    for m in range(M):
        n = 0
        for e in range(E):
            if priced[e]:
                of_priced[m, n] = price[m, e]
                n += 1
    value = matmul(of_priced, recipe.T)
    over_base(value, base)
    return value


@kernel
def powers(bases: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """``bases ** exponents`` element by element (the C library's power, as NumPy's ``np.power`` gives it
    without AVX-512: see the module's note)."""
    out = np.empty(bases.shape[0])
    for n in range(bases.shape[0]):
        out[n] = bases[n] ** exponents[n]
    return out


@kernel
def market_prices(claims: np.ndarray, supplied: np.ndarray, sunk: np.ndarray, use: np.ndarray, oxide: np.ndarray,
                  pile: np.ndarray, market_of: np.ndarray, scarcity: np.ndarray, surplus: np.ndarray, smooth: float,
                  opening_cover: np.ndarray, opening_scarcity: np.ndarray, opening_surplus: np.ndarray,
                  spin_up: bool, of_orders: bool, expected: np.ndarray, scarcity_elasticity: float,
                  stock_elasticity: float, surplus_elasticity: float, magnet_claims: np.ndarray,
                  magnet_supplied: np.ndarray, magnet_scarcity: np.ndarray, max_multiple: float, by_trial: bool,
                  log_multiple: np.ndarray, years: float, adjustment_per_year: float, reversion_per_year: float,
                  initial_price: np.ndarray, follows: bool, recent_price: np.ndarray,
                  recent_weight: float) -> tuple:
    """A step's element prices in one call: ``price_terms`` (its arguments up to ``magnet_scarcity``), their
    ``powers`` and ``pressure``; the multiple [M, E] is the pressure held within ``max_multiple`` either way
    or, ``by_trial``, found by trial (``adjust``: ``log_multiple`` in place, 0 in the spin-up, the multiple 1
    there); then ``element_prices`` (``initial_price`` to ``recent_weight``). Returns the prices [M, E] USD/kg,
    the multiple, and the terms' bases, exponents and powers (magnet prices read their last M G)."""
    bases, exponents = price_terms(claims, supplied, sunk, use, oxide, pile, market_of, scarcity, surplus, smooth,
                                   opening_cover, opening_scarcity, opening_surplus, spin_up, of_orders, expected,
                                   scarcity_elasticity, stock_elasticity, surplus_elasticity, magnet_claims,
                                   magnet_supplied, magnet_scarcity)
    raised = powers(bases, exponents)
    M, E = scarcity.shape
    push = pressure(bases, exponents, raised, M, E)
    if not by_trial:
        multiple = capped(push, max_multiple)
    elif spin_up:
        log_multiple[:] = 0.0
        multiple = np.ones((M, E))
    else:
        adjust(log_multiple, np.log(push), years, adjustment_per_year, reversion_per_year, np.log(max_multiple))
        multiple = np.exp(log_multiple)
    price = element_prices(multiple, initial_price, follows, recent_price, spin_up, recent_weight)
    return price, multiple, bases, exponents, raised


@kernel
def pressure(bases: np.ndarray, exponents: np.ndarray, powers: np.ndarray, M: int, E: int) -> np.ndarray:
    """[M, E] each market's pressure on each element price: its scarcity, stock and surplus terms multiplied,
    from their ``bases``, ``exponents`` and ``powers`` (``price_terms``' layout; a term whose elasticity is 0
    is 1)."""
    ME = M * E
    out = np.empty((M, E))
    for m in range(M):
        for e in range(E):
            n = m * E + e
            term = numpy_power(bases[n], exponents[n], powers[n])
            for t in (ME + n, 2 * ME + n):
                term *= numpy_power(bases[t], exponents[t], powers[t])
            out[m, e] = term
    return out


@kernel
def capped(multiple: np.ndarray, max_multiple: float) -> np.ndarray:
    """``multiple`` held within ``max_multiple`` either way (a new array)."""
    out = np.empty_like(multiple)
    for m in range(multiple.shape[0]):
        for k in range(multiple.shape[1]):
            out[m, k] = min(max(multiple[m, k], 1 / max_multiple), max_multiple)
    return out


@kernel
def adjust(log_multiple: np.ndarray, log_pressure: np.ndarray, years: float, adjustment_per_year: float,
           reversion_per_year: float, cap: float) -> None:
    """A price found by trial: its ``log_multiple`` [M, E] (in place) moves ``years`` x (adjustment x
    ``log_pressure`` - reversion x itself), held within ``cap`` (the log of the largest multiple) either way."""
    for m in range(log_multiple.shape[0]):
        for e in range(log_multiple.shape[1]):
            moved = log_multiple[m, e] + years * (adjustment_per_year * log_pressure[m, e]
                                                  - reversion_per_year * log_multiple[m, e])
            log_multiple[m, e] = min(max(moved, -cap), cap)


@kernel
def element_prices(multiple: np.ndarray, initial_price: np.ndarray, follows: bool, recent_price: np.ndarray,
                   spin_up: bool, recent_weight: float) -> np.ndarray:
    """[M, E] USD/kg: the ``initial_price`` [E] x the ``multiple`` [M, E]. With ``follows``, the
    ``recent_price`` buyers judge a price against (in place) moves ``recent_weight`` of the way to it (the
    price itself in the spin-up)."""
    M, E = multiple.shape
    price = np.empty((M, E))
    for m in range(M):
        for e in range(E):
            price[m, e] = initial_price[e] * multiple[m, e]
            if follows:
                if spin_up:
                    recent_price[m, e] = price[m, e]
                else:
                    recent_price[m, e] += (price[m, e] - recent_price[m, e]) * recent_weight
    return price


@kernel
def over_base(value: np.ndarray, base: np.ndarray) -> None:
    """Each grade's recipe ``value`` [M, G] over its ``base`` [G] (1 where the base is 0), in place."""
    for m in range(value.shape[0]):
        for g in range(value.shape[1]):
            value[m, g] = value[m, g] / base[g] if base[g] > 0 else 1.0


@kernel
def magnet_prices(value: np.ndarray, bases: np.ndarray, exponents: np.ndarray, powers: np.ndarray,
                  max_multiple: float, initial_price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each grade's price in each market [M, G] (USD/kg magnet; NaN where ``initial_price`` [G] is) and its
    multiple: the recipe's ``value`` [M, G] x the scarcity term of the market's magnet orders (the last M G of
    ``price_terms``' layout), capped at ``max_multiple`` either way."""
    M, G = value.shape
    first = bases.shape[0] - M * G
    multiple = np.empty((M, G))
    price = np.empty((M, G))
    for m in range(M):
        for g in range(G):
            n = first + m * G + g
            raw = value[m, g] * numpy_power(bases[n], exponents[n], powers[n])
            multiple[m, g] = min(max(raw, 1 / max_multiple), max_multiple)
            price[m, g] = initial_price[g] * multiple[m, g]
    return price, multiple


@kernel
def answer_prices(sectors: np.ndarray, sector_short: float, sector_long: float, uses: np.ndarray,
                  use_short: np.ndarray, use_long: np.ndarray, market_of: np.ndarray, lasts: bool, spin_up: bool,
                  lasting_step: float, recovers: bool, recovery_step: float, sector_lasting: np.ndarray,
                  sector_multiplier: np.ndarray, use_lasting: np.ndarray, use_multiplier: np.ndarray) -> None:
    """Demand's answer to prices in one call: ``answer_terms`` (its arguments up to ``lasts``), their
    ``powers``, then ``answer`` (the rest of its arguments), in place."""
    bases, exponents = answer_terms(sectors, sector_short, sector_long, uses, use_short, use_long, market_of, lasts)
    answer(bases, exponents, powers(bases, exponents), market_of, max(sectors.shape[0], uses.shape[0]), lasts,
           spin_up, lasting_step, recovers, recovery_step, sector_lasting, sector_multiplier, use_lasting,
           use_multiplier)


@kernel
def answer_terms(sectors: np.ndarray, sector_short: float, sector_long: float, uses: np.ndarray,
                 use_short: np.ndarray, use_long: np.ndarray, market_of: np.ndarray,
                 lasts: bool) -> tuple[np.ndarray, np.ndarray]:
    """The bases and exponents of demand's answer to prices, end uses' and other uses' in one array each (raised
    at once, ``powers``): end uses' to ``sectors`` [M, S], the price multiple of each sector's magnets in each
    market, by the elasticities ``sector_short`` and ``sector_long`` of every sector; then other uses' to
    ``uses`` [M, E], each element's price multiple, by ``use_short`` and ``use_long`` [E]. Each block is
    ``demand_terms``' (no columns: that demand does not answer). A market's buyers answer alike, so a term is
    raised once a market, not once a country (``market_of`` [C] says where each buys: ``answer``)."""
    M = max(sectors.shape[0], uses.shape[0])
    S, E = sectors.shape[1], uses.shape[1]
    terms = 2 if lasts else 1
    bases = np.empty(terms * M * (S + E))
    exponents = np.empty(terms * M * (S + E))
    demand_terms(sectors, np.full(S, sector_short), np.full(S, sector_long), lasts, bases, exponents, 0)
    demand_terms(uses, use_short, use_long, lasts, bases, exponents, terms * M * S)
    return bases, exponents


@kernel
def demand_terms(value: np.ndarray, short: np.ndarray, long: np.ndarray, lasts: bool, bases: np.ndarray,
                 exponents: np.ndarray, first: int) -> None:
    """Into ``bases`` and ``exponents`` from ``first`` on: the [M K] terms of demand's answer to ``value``
    [M, K], its price multiple in each market (NaN, no price, counts as 1): value^-``short`` [K]; then with
    ``lasts`` [M K] more, the lasting part's value^-(``long`` - ``short``)."""
    M, K = value.shape
    for m in range(M):
        for k in range(K):
            v = value[m, k]
            v = 1.0 if np.isnan(v) else v
            n = first + m * K + k
            bases[n] = v
            exponents[n] = -short[k]
            if lasts:
                bases[M * K + n] = v
                exponents[M * K + n] = -(long[k] - short[k])


@kernel
def answer(bases: np.ndarray, exponents: np.ndarray, powers: np.ndarray, market_of: np.ndarray, markets: int,
           lasts: bool, spin_up: bool, lasting_step: float, recovers: bool, recovery_step: float,
           sector_lasting: np.ndarray, sector_multiplier: np.ndarray, use_lasting: np.ndarray,
           use_multiplier: np.ndarray) -> None:
    """Demand's answer from ``answer_terms``' powers (of ``markets`` markets; ``market_of`` [C] each country's), in
    place: end uses' ``sector_multiplier`` [C, S] (its elasticity one for all sectors, raised as NumPy raises to a
    scalar) and other uses' ``use_multiplier`` [C, E] (no rows: that demand does not answer), each with its
    ``*_lasting`` part (``lasts``)."""
    first = (2 if lasts else 1) * markets * sector_multiplier.shape[1]
    answer_block(bases, exponents, powers, market_of, markets, 0, True, lasts, sector_lasting, spin_up,
                 lasting_step, recovers, recovery_step, sector_multiplier)
    answer_block(bases, exponents, powers, market_of, markets, first, False, lasts, use_lasting, spin_up,
                 lasting_step, recovers, recovery_step, use_multiplier)


@kernel
def answer_block(bases: np.ndarray, exponents: np.ndarray, powers: np.ndarray, market_of: np.ndarray, markets: int,
                 first: int, scalar: bool, lasts: bool, lasting: np.ndarray, spin_up: bool, lasting_step: float,
                 recovers: bool, recovery_step: float, multiplier: np.ndarray) -> None:
    """Demand's answer ``multiplier`` [C, K] (in place) from the powers of ``demand_terms``' block at ``first``,
    each country's of its market's terms (``market_of`` [C], of ``markets``; ``scalar``: an elasticity for all
    K, raised as NumPy raises to a scalar): the short-run term at once, times with ``lasts`` the ``lasting`` part
    (in place), which moves ``lasting_step`` of the way a step towards the long-run term (1 in the spin-up); with
    ``recovers``, demand a price rise destroyed comes back at most ``recovery_step`` a step."""
    C, K = multiplier.shape
    for c in range(C):
        for k in range(K):
            n = first + market_of[c] * K + k
            now = numpy_power(bases[n], exponents[n], powers[n]) if scalar else powers[n]
            if lasts:
                if spin_up:
                    lasting[c, k] = 1.0
                else:
                    t = markets * K + n
                    term = numpy_power(bases[t], exponents[t], powers[t]) if scalar else powers[t]
                    lasting[c, k] = lasting[c, k] + (term - lasting[c, k]) * lasting_step
                now = now * lasting[c, k]
            multiplier[c, k] = min(now, multiplier[c, k] + recovery_step) if recovers else now


@kernel
def curtail(price: np.ndarray, market_of: np.ndarray, country: np.ndarray, element: np.ndarray,
            floor: np.ndarray, shuts_below: np.ndarray, restart_margin: float, min_idle_days: float,
            step_days: float, running: np.ndarray, idle_days: np.ndarray) -> None:
    """Plants (``country``, price ``element`` [F]) idle once the price they get, their country's market's
    ``price`` [M, E] (none: infinite) or its ``floor`` [C, E], is below ``shuts_below`` [F], and restart once
    it is ``restart_margin`` above it and they have stood idle ``min_idle_days``: ``running`` and
    ``idle_days`` [F] in place."""
    for f in range(shuts_below.shape[0]):
        c, e = country[f], element[f]
        market = price[market_of[c], e]
        if np.isnan(market):
            market = np.inf
        got = max(market, floor[c, e])
        idle = running[f] == 0
        idle_days[f] = idle_days[f] + step_days if idle else 0.0
        if idle:
            runs = got >= shuts_below[f] * (1 + restart_margin) and idle_days[f] >= min_idle_days
        else:
            runs = got >= shuts_below[f]
        running[f] = 1.0 if runs else 0.0
