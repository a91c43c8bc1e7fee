"""What mines and plants do in a step, compiled: mining, separation into oxides, magnets made from oxides, and
the own use and exports that leave the stocks. A stage that trades is two calls: its own use worked out and its
market cleared (``clear_feed``, ``clear_oxides``), then its work once the market has cleared (``separate``,
``make_magnets``). (One call doing both, with the market's arguments handed on in nested tuples, measured ×1.06 of
the two calls' time on a Japan ban run.)

Tagged mass is ``[C, Q, X]`` (``sim.world.provenance``): row 0 the mass, then one row per country for each of
mined, refined, made and touched; ``made_row`` etc. are the first row of a kind (country 0's). Units: t REO for
concentrate and oxides, t magnet for magnets, days.
"""
from __future__ import annotations

import numpy as np

from . import kernel
from .clearing import DUST_T, clear_market
from .exports import leave_stock
from .products import matmul, matvec
from .tagged import add_entries, add_origin, add_stamped, holds, take_share


@kernel
def use_average(use: np.ndarray, now: np.ndarray, step_days: float, smoothing_days: float) -> None:
    """Move an exponential average of use ``use`` [C, I] (t/day, in place) towards this step's ``now`` (t)."""
    weight = min(1.0, step_days / smoothing_days)
    for c in range(use.shape[0]):
        for i in range(use.shape[1]):
            use[c, i] += (now[c, i] / step_days - use[c, i]) * weight


@kernel
def mine(conc: np.ndarray, rows: np.ndarray, count: np.ndarray, members: np.ndarray, rate: np.ndarray,
         composition: np.ndarray, step_days: float, mined_row: int, touched_row: int) -> np.ndarray:
    """Concentrate mined this step [C, E] (t REO), added to the stock ``conc`` (its rows that may hold anything:
    ``rows``, ``count``; ``sim.kernels.tagged``), mined and touched in its country: the mines' ``rate`` [M]
    (t/day) x their deposits' ``composition`` [M, E], by country (``members`` [C, M]), x ``step_days``."""
    M, E = composition.shape
    by_mine = np.empty((M, E))
    for m in range(M):
        for e in range(E):
            by_mine[m, e] = rate[m] * composition[m, e]
    mined = matmul(members, by_mine)
    for c in range(mined.shape[0]):
        for e in range(E):
            mined[c, e] *= step_days
    add_origin(conc, rows, count, mined, mined_row, touched_row)
    return mined


@kernel
def clear_feed(market: tuple, members: np.ndarray, rate: np.ndarray, feed_cap: np.ndarray) -> np.ndarray:
    """Separation's own use, then the concentrate market cleared: the plants' feed capacity ``feed_cap`` [C, 1]
    (t concentrate this step: their ``rate`` [P] by country, ``members`` [C, P]) is written first, then
    ``sim.kernels.clearing.clear_market`` clears on ``market``, its arguments (``feed_cap`` its own use).
    Returns the (buyer, switching group) pairs that start qualifying."""
    capacity = matvec(members, rate)
    for c in range(capacity.shape[0]):
        feed_cap[c, 0] = capacity[c]
    return clear_market(*market)


@kernel
def clear_oxides(market: tuple, plan: np.ndarray, country_yield: np.ndarray, recipe: np.ndarray,
                 other_per_day: np.ndarray, step_days: float, other_multiplier: np.ndarray, buy: np.ndarray,
                 use: np.ndarray) -> np.ndarray:
    """Magnet making's own use, then the oxide market cleared. What it asks of each country's oxide stock
    [C, E] is written first into ``use`` [2, C, E]: other uses' claims, ``other_per_day`` x ``step_days`` x their
    answer to prices ``other_multiplier``; and all own use, those plus what magnet plants take for their ``plan``
    [C, G] (t magnet; by each grade's ``recipe`` [G, E] over the country's yield [C]) plus stockpiles' ``buy``.
    Then ``sim.kernels.clearing.clear_market`` clears on ``market``, its arguments (``use[1]`` its own use).
    Returns the (buyer, switching group) pairs that start qualifying."""
    C, G = plan.shape
    per_t = np.empty((C, G))
    for c in range(C):
        for g in range(G):
            per_t[c, g] = plan[c, g] / country_yield[c]
    for_magnets = matmul(per_t, recipe)
    other, own = use[0], use[1]
    for c in range(C):
        for e in range(for_magnets.shape[1]):
            other[c, e] = other_per_day[c, e] * step_days * other_multiplier[c, e]
            own[c, e] = for_magnets[c, e] + other[c, e] + buy[c, e]
    return clear_market(*market)


@kernel
def recipe_content(plan: np.ndarray, oxide: np.ndarray, rows: np.ndarray, count: np.ndarray,
                   recipe_shares: np.ndarray) -> tuple:
    """The countries that plan magnets (``plan`` [C, G]) and the provenance of a t of each grade they make, at the
    rows of their oxide stock that may hold anything (``rows``, ``count``; ``sim.kernels.tagged``): the makers [m],
    those rows [m, L], how many each has [m], and the provenance there [m, L, G] (row 0: the t itself), that of
    the oxides of its recipe in their stock, weighted by each element's share of the recipe's REO content
    (``recipe_shares`` [G, E]; an element a country holds none of adds nothing)."""
    C, G = plan.shape
    E = recipe_shares.shape[1]
    plans = np.zeros(C, np.bool_)
    m = 0
    for c in range(C):
        for g in range(G):
            plans[c] |= plan[c, g] != 0
        m += plans[c]
    makers = np.empty(m, np.int64)
    L, k = 1, 0
    for c in range(C):
        if plans[c]:
            makers[k] = c
            L = max(L, count[c])
            k += 1
    content_rows = np.zeros((m, L), np.int64)
    content_count = np.empty(m, np.int64)
    content = np.zeros((m, L, G))
    share = np.empty(E)
    for k in range(m):
        c = makers[k]
        stock, out = oxide[c], content[k]
        out[0, :] = 1.0              # the mass row: a t of magnet per t
        content_count[k] = count[c]
        for i in range(1, count[c]):
            q = rows[c, i]
            content_rows[k, i] = q
            if holds(stock, q):
                for e in range(E):
                    share[e] = stock[q, e] / stock[0, e] if stock[0, e] > 0 else 0.0
                for g in range(G):
                    total = 0.0
                    for e in range(E):
                        total += share[e] * recipe_shares[g, e]
                    out[i, g] = total
    return makers, content_rows, content_count, content


@kernel
def scarcest(plan: np.ndarray, recipe: np.ndarray, fill: np.ndarray, country_yield: np.ndarray) -> np.ndarray:
    """[2, C, G]: magnets made (t magnet), the ``plan`` [C, G] x the smallest ``fill`` [C, E] of the elements of the
    grade's ``recipe`` [G, E]; and the same over the country's yield [C] (the oxides it takes, per t of each
    recipe)."""
    C, G = plan.shape
    both = np.empty((2, C, G))
    made, per_yield = both[0], both[1]
    for c in range(C):
        for g in range(G):
            least = np.inf
            for e in range(recipe.shape[1]):
                least = min(least, fill[c, e] if recipe[g, e] > 0 else 1.0)
            made[c, g] = plan[c, g] * least
            per_yield[c, g] = made[c, g] / country_yield[c]
    return both


@kernel
def short_by_element(plan: np.ndarray, made: np.ndarray, fill: np.ndarray, recipe: np.ndarray,
                     out: np.ndarray) -> bool:
    """Into ``out`` [C, E] (zeros): t magnet plants did not make of their ``plan`` [C, G] (``made``) for want of
    each element, the scarcest of each grade's ``recipe`` [G, E] (the least ``fill`` [C, E], the share of own use
    served); elements as scarce as it share the grade's shortfall. Returns whether any plant fell short by more
    than a milligram (``DUST_T``)."""
    C, G = plan.shape
    E = recipe.shape[1]
    any_short = False
    for c in range(C):
        for g in range(G):
            short = plan[c, g] - made[c, g]
            if short <= DUST_T:
                continue
            any_short = True
            least = np.inf
            for e in range(E):
                if recipe[g, e] > 0:
                    least = min(least, fill[c, e])
            tied = 0
            for e in range(E):
                tied += recipe[g, e] > 0 and fill[c, e] <= least
            for e in range(E):
                if recipe[g, e] > 0 and fill[c, e] <= least:
                    out[c, e] += short / tied
    return any_short


@kernel
def make_magnets(oxide: np.ndarray, oxide_rows: np.ndarray, oxide_count: np.ndarray, pile: np.ndarray,
                 pile_rows: np.ndarray, pile_count: np.ndarray, magnet: np.ndarray, magnet_rows: np.ndarray,
                 magnet_count: np.ndarray, plan: np.ndarray, recipe: np.ndarray, country_yield: np.ndarray,
                 recipe_shares: np.ndarray, fill: np.ndarray, use: np.ndarray, buy: np.ndarray, shipped: np.ndarray,
                 carried: np.ndarray, pipeline: np.ndarray, use_own: np.ndarray, step_days: float,
                 smoothing_days: float, made_row: int, touched_row: int) -> tuple:
    """Magnet making once the oxide market has cleared (``fill`` [C, E]: the share of own use served).

    Plants make of their ``plan`` [C, G] (t magnet) what the scarcest element of each grade's ``recipe`` [G, E]
    allows (``scarcest``) and take the oxides of that recipe over the country's yield [C]; other uses get their
    claims (``use[0]``, ``clear_oxides``) x fill and stockpiles ``buy`` x fill (into ``pile``);
    exports ``shipped`` (on the routes ``carried`` marks) leave the oxide stock; own use's average (``use_own``)
    moves towards plants' and other uses' claims, own use (``use[1]``) less what stockpiles buy. The magnets carry
    the provenance of the oxides of their recipe in the stock before any of it is taken (``recipe_content``, with
    ``recipe_shares``), and join ``magnet``. Each stock comes with its rows that may hold anything
    (``sim.kernels.tagged``). Returns [3, C, E] other uses served, the claims and what the stock served of them
    (one array: each array handed back to Python costs about as much as a pass over these), the oxides plants took
    [C, E] and the magnets made [C, G], the oxides used and the magnets made (each a flow: mass, at, values), and
    the exports (``leave_stock``'s routes and goods)."""
    C, Q, G = magnet.shape
    E = fill.shape[1]
    both = scarcest(plan, recipe, fill, country_yield)
    made = both[0]
    into_magnets = matmul(both[1], recipe)
    makers, content_rows, content_count, content = recipe_content(plan, oxide, oxide_rows, oxide_count,
                                                                  recipe_shares)
    sums = np.empty((3, C, E))
    other_used, claims, supplied = sums[0], sums[1], sums[2]
    other, own = use[0], use[1]
    taken, bought = np.empty((C, E)), np.empty((C, E))
    buying = False
    for c in range(C):
        for x in range(E):
            other_used[c, x] = other[c, x] * fill[c, x]
            taken[c, x] = into_magnets[c, x] + other_used[c, x]
            bought[c, x] = buy[c, x] * fill[c, x]
            buying |= buy[c, x] != 0
            claims[c, x] = own[c, x] - buy[c, x]
            supplied[c, x] = claims[c, x] * fill[c, x]
    used = take_share(oxide, oxide_rows, oxide_count, taken)
    if buying:
        _, at, values = take_share(oxide, oxide_rows, oxide_count, bought)
        add_entries(pile, pile_rows, pile_count, at, values)
    exports = leave_stock(oxide, oxide_rows, oxide_count, shipped, carried, pipeline)
    use_average(use_own, claims, step_days, smoothing_days)
    mass = np.zeros((C, G))                # countries that plan none make none
    at = np.empty(content_rows.size + 2 * makers.shape[0], np.int64)
    values = np.empty((at.shape[0], G))
    e = 0
    for k in range(makers.shape[0]):
        c = makers[k]
        n = content_count[k]
        e = add_stamped(magnet, magnet_rows, magnet_count, c, content_rows[k, :n], content[k, :n], made[c],
                        made_row, touched_row, at, values, mass, e)
    return sums, into_magnets, made, used, (mass, at[:e], values[:e]), exports


@kernel
def separate(conc: np.ndarray, conc_rows: np.ndarray, conc_count: np.ndarray, oxide: np.ndarray,
             oxide_rows: np.ndarray, oxide_count: np.ndarray, feed_cap: np.ndarray, fill: np.ndarray,
             members: np.ndarray, rate: np.ndarray, recovery: np.ndarray, shipped: np.ndarray, carried: np.ndarray,
             pipeline: np.ndarray, use_own: np.ndarray, step_days: float, smoothing_days: float, refined_row: int,
             touched_row: int) -> tuple:
    """Separation once the concentrate market has cleared (``clear_feed``): plants take ``feed_cap`` [C, 1] x
    ``fill`` of concentrate, exports ``shipped`` (on the routes ``carried`` marks) leave the stock, own use's
    average moves towards the plants' capacity, and the feed becomes oxides by the plants' ``recovery`` [P, E]:
    what their capacity (``rate`` [P] t this step, by country ``members`` [C, P]) would recover of each element,
    over the capacity (the rest is tailings), stamped refined where separated, into ``oxide``. Each stock comes
    with its rows that may hold anything (``sim.kernels.tagged``). Returns the feed and the oxides (each a flow:
    mass, at, values), and the exports (``leave_stock``'s routes and goods)."""
    C, Q, E = oxide.shape
    by_plant = np.empty(recovery.shape)
    for p in range(recovery.shape[0]):
        for x in range(E):
            by_plant[p, x] = rate[p] * recovery[p, x]
    recovered = matmul(members, by_plant)
    feed = np.empty((C, 1))
    for c in range(C):
        feed[c, 0] = feed_cap[c, 0] * fill[c, 0]
    feed_mass, feed_at, feed_values = take_share(conc, conc_rows, conc_count, feed)
    exports = leave_stock(conc, conc_rows, conc_count, shipped, carried, pipeline)
    use_average(use_own, feed_cap, step_days, smoothing_days)
    source = np.empty(feed_at.shape[0], np.int64)     # the feed's rows in its country's stock
    for n in range(feed_at.shape[0]):
        source[n] = feed_at[n] % Q
    mass = np.zeros((C, E))
    at = np.empty(feed_at.shape[0] + 2 * C, np.int64)
    values = np.empty((at.shape[0], E))
    recovered_share = np.empty(E)
    e, first = 0, 0
    while first < feed_at.shape[0]:         # the feed's entries, country after country
        c = feed_at[first] // Q
        end = first
        while end < feed_at.shape[0] and feed_at[end] // Q == c:
            end += 1
        for x in range(E):
            recovered_share[x] = recovered[c, x] / feed_cap[c, 0] if feed_cap[c, 0] > 0 else 0.0
        e = add_stamped(oxide, oxide_rows, oxide_count, c, source[first:end], feed_values[first:end],
                        recovered_share, refined_row, touched_row, at, values, mass, e)
        first = end
    return (feed_mass, feed_at, feed_values), (mass, at[:e], values[:e]), exports
