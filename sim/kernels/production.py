"""What plants do with their stocks in a step, compiled: separation into oxides, magnets made from oxides, and
the own use and exports that leave the stocks, each part's work after its market has cleared in one call.

Tagged mass is ``[C, Q, X]`` (``sim.world.provenance``): row 0 the mass, then one row per country for each of
mined, refined, made and touched; ``made_row`` etc. are the first row of a kind (country 0's). Units: t REO for
concentrate and oxides, t magnet for magnets, days.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .exports import leave_stock
from .tagged import add_into, add_stamped, holds, take_share


@njit(cache=True)
def use_average(use: np.ndarray, now: np.ndarray, step_days: float, smoothing_days: float) -> None:
    """Move an exponential average of use ``use`` [C, I] (t/day, in place) towards this step's ``now`` (t)."""
    weight = min(1.0, step_days / smoothing_days)
    for c in range(use.shape[0]):
        for i in range(use.shape[1]):
            use[c, i] += (now[c, i] / step_days - use[c, i]) * weight


@njit(cache=True)
def oxide_use(for_magnets: np.ndarray, other_per_day: np.ndarray, step_days: float, other_multiplier: np.ndarray,
              buy: np.ndarray, plan: np.ndarray, oxide: np.ndarray,
              recipe_shares: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What magnet making asks of each country's oxide stock [C, E] before its market clears: plants'
    ``for_magnets``, other uses' ``other_per_day`` x ``step_days`` x their answer to prices
    ``other_multiplier``, and stockpiles' ``buy``. Returns other uses' claims, all own use, the countries that
    plan magnets (``plan`` [C, G]) and the provenance of a t of each grade they make [makers, Q, G] (row 0: the
    t itself): that of the oxides of its recipe in their stock, weighted by each element's share of the
    recipe's REO content (``recipe_shares`` [G, E]; an element a country holds none of adds nothing)."""
    C, E = for_magnets.shape
    Q, G = oxide.shape[1], recipe_shares.shape[0]
    other = np.empty((C, E))
    own = np.empty((C, E))
    for c in range(C):
        for e in range(E):
            other[c, e] = other_per_day[c, e] * step_days * other_multiplier[c, e]
            own[c, e] = for_magnets[c, e] + other[c, e] + buy[c, e]
    plans = np.zeros(C, np.bool_)
    for c in range(C):
        for g in range(G):
            if plan[c, g] != 0:
                plans[c] = True
    makers = np.flatnonzero(plans)
    content = np.zeros((makers.shape[0], Q, G))
    share = np.empty(E)
    for k in range(makers.shape[0]):
        stock, out = oxide[makers[k]], content[k]
        out[0, :] = 1.0              # the mass row: a t of magnet per t
        for q in range(1, Q):
            if holds(stock, q):
                for e in range(E):
                    share[e] = stock[q, e] / stock[0, e] if stock[0, e] > 0 else 0.0
                for g in range(G):
                    total = 0.0
                    for e in range(E):
                        total += share[e] * recipe_shares[g, e]
                    out[q, g] = total
    return other, own, makers, content


@njit(cache=True)
def scarcest(plan: np.ndarray, recipe: np.ndarray, fill: np.ndarray,
             country_yield: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Magnets made [C, G] (t magnet): the ``plan`` x the smallest ``fill`` [C, E] of the elements of the grade's
    ``recipe`` [G, E]; and the same over the country's yield [C] (the oxides it takes, per t of each recipe)."""
    C, G = plan.shape
    made = np.empty((C, G))
    per_yield = np.empty((C, G))
    for c in range(C):
        for g in range(G):
            least = np.inf
            for e in range(recipe.shape[1]):
                least = min(least, fill[c, e] if recipe[g, e] > 0 else 1.0)
            made[c, g] = plan[c, g] * least
            per_yield[c, g] = made[c, g] / country_yield[c]
    return made, per_yield


@njit(cache=True)
def make_magnets(oxide: np.ndarray, pile: np.ndarray, magnet: np.ndarray, made: np.ndarray, makers: np.ndarray,
                 content: np.ndarray, fill: np.ndarray, into_magnets: np.ndarray, other: np.ndarray, buy: np.ndarray,
                 own: np.ndarray, shipped: np.ndarray, pipeline: np.ndarray, use_own: np.ndarray,
                 step_days: float, smoothing_days: float, made_row: int,
                 touched_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                            np.ndarray, np.ndarray]:
    """Magnet making once the oxide market has cleared (``fill`` [C, E]: the share of own use served).

    Plants take ``into_magnets`` [C, E] of oxides for the magnets ``made`` [C, G] (t magnet); other uses get
    ``other`` [C, E] x fill and stockpiles ``buy`` x fill (into ``pile``); exports ``shipped`` leave the oxide
    stock; own use's average (``use_own``) moves towards plants' and other uses' claims, ``own`` use less what
    stockpiles buy. The magnets of the countries making them (``makers``) carry ``content`` [makers, Q, G], the
    provenance of the oxides of their recipe per t magnet, and join ``magnet``. Returns other uses served
    [C, E], tagged oxides used, tagged magnets made, the exports' routes and goods (``leave_stock``), and the
    claims [C, E] and what the stock served of them."""
    C = made.shape[0]
    other_used = other * fill
    used = take_share(oxide, into_magnets + other_used)
    if buy.any():
        add_into(pile, take_share(oxide, buy * fill))
    buyer, supplier, goods = leave_stock(oxide, shipped, pipeline)
    claims = own - buy
    use_average(use_own, claims, step_days, smoothing_days)
    magnets = np.zeros_like(magnet)      # countries that plan none make none
    for k in range(makers.shape[0]):
        c = makers[k]
        add_stamped(magnet[c], content[k], made[c], magnets[c], c, C, made_row, touched_row)
    return other_used, used, magnets, buyer, supplier, goods, claims, claims * fill


@njit(cache=True)
def separate(conc: np.ndarray, oxide: np.ndarray, feed_cap: np.ndarray, fill: np.ndarray, recovered: np.ndarray,
             shipped: np.ndarray, pipeline: np.ndarray, use_own: np.ndarray, step_days: float,
             smoothing_days: float, refined_row: int,
             touched_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Separation once the concentrate market has cleared: plants take ``feed_cap`` [C, 1] x ``fill`` of
    concentrate, exports ``shipped`` leave the stock, own use's average moves towards the plants' capacity, and
    the feed becomes oxides by the plants' recovery, ``recovered`` [C, E] (what their capacity would recover of
    each element) over the capacity (the rest is tailings), stamped refined where separated, into ``oxide``.
    Returns the tagged feed and oxides, and the exports' routes and goods (``leave_stock``)."""
    feed = take_share(conc, feed_cap * fill)
    buyer, supplier, goods = leave_stock(conc, shipped, pipeline)
    use_average(use_own, feed_cap, step_days, smoothing_days)
    C, E = feed.shape[0], feed.shape[2]
    oxides = np.empty_like(feed)
    recovery = np.empty(E)
    for c in range(C):
        for e in range(E):
            recovery[e] = recovered[c, e] / feed_cap[c, 0] if feed_cap[c, 0] > 0 else 0.0
        add_stamped(oxide[c], feed[c], recovery, oxides[c], c, C, refined_row, touched_row)
    return feed, oxides, buyer, supplier, goods
