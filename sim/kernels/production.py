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
from .tagged import stamp, take_share


@njit(cache=True)
def add_into(stock: np.ndarray, tagged: np.ndarray) -> None:
    """``stock += tagged`` for tagged mass ``[C, Q, X]``, in place."""
    for c in range(stock.shape[0]):
        held, more = stock[c], tagged[c]
        for q in range(held.shape[0]):
            for x in range(held.shape[1]):
                held[q, x] = held[q, x] + more[q, x]


@njit(cache=True)
def use_average(use: np.ndarray, now: np.ndarray, step_days: float, smoothing_days: float) -> None:
    """Move an exponential average of use ``use`` [C, I] (t/day, in place) towards this step's ``now`` (t)."""
    weight = min(1.0, step_days / smoothing_days)
    for c in range(use.shape[0]):
        for i in range(use.shape[1]):
            use[c, i] += (now[c, i] / step_days - use[c, i]) * weight


@njit(cache=True)
def make_magnets(oxide: np.ndarray, pile: np.ndarray, magnet: np.ndarray, made: np.ndarray, makers: np.ndarray,
                 content: np.ndarray, fill: np.ndarray, into_magnets: np.ndarray, other: np.ndarray, buy: np.ndarray,
                 claims: np.ndarray, shipped: np.ndarray, pipeline: np.ndarray, use_own: np.ndarray,
                 step_days: float, smoothing_days: float, made_row: int,
                 touched_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Magnet making once the oxide market has cleared (``fill`` [C, E]: the share of own use served).

    Plants take ``into_magnets`` [C, E] of oxides for the magnets ``made`` [C, G] (t magnet); other uses get
    ``other`` [C, E] x fill and stockpiles ``buy`` x fill (into ``pile``); exports ``shipped`` leave the oxide
    stock; own use's average (``use_own``) moves towards plants' and other uses' ``claims``. The magnets of the
    countries making them (``makers``) carry ``content`` [makers, Q, G], the provenance of the oxides of their
    recipe per t magnet, and join ``magnet``. Returns other uses served [C, E], tagged oxides used, tagged
    magnets made, and the exports' routes and goods (``leave_stock``)."""
    C, G = made.shape
    Q = oxide.shape[1]
    other_used = other * fill
    used = take_share(oxide, into_magnets + other_used)
    if buy.any():
        add_into(pile, take_share(oxide, buy * fill))
    buyer, supplier, goods = leave_stock(oxide, shipped, pipeline)
    use_average(use_own, claims, step_days, smoothing_days)
    magnets = np.zeros_like(magnet)
    for k in range(makers.shape[0]):
        c = makers[k]
        for q in range(Q):
            for g in range(G):
                magnets[c, q, g] = content[k, q, g] * made[c, g]
    for c in range(C):
        for g in range(G):
            magnets[c, 0, g] = made[c, g]
    stamp(magnets, made_row, touched_row)
    add_into(magnet, magnets)
    return other_used, used, magnets, buyer, supplier, goods


@njit(cache=True)
def separate(conc: np.ndarray, oxide: np.ndarray, feed_cap: np.ndarray, fill: np.ndarray, recovery: np.ndarray,
             shipped: np.ndarray, pipeline: np.ndarray, use_own: np.ndarray, step_days: float,
             smoothing_days: float, refined_row: int,
             touched_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Separation once the concentrate market has cleared: plants take ``feed_cap`` [C, 1] x ``fill`` of
    concentrate, exports ``shipped`` leave the stock, own use's average moves towards the plants' capacity, and
    the feed becomes oxides by ``recovery`` [C, E] (the rest is tailings), stamped refined where separated, into
    ``oxide``. Returns the tagged feed and oxides, and the exports' routes and goods (``leave_stock``)."""
    feed = take_share(conc, feed_cap * fill)
    buyer, supplier, goods = leave_stock(conc, shipped, pipeline)
    use_average(use_own, feed_cap, step_days, smoothing_days)
    C, Q, E = feed.shape
    oxides = np.empty_like(feed)
    for c in range(C):
        fed, out = feed[c], oxides[c]
        for q in range(Q):
            for e in range(E):
                out[q, e] = fed[q, e] * recovery[c, e]
    stamp(oxides, refined_row, touched_row)
    add_into(oxide, oxides)
    return feed, oxides, buyer, supplier, goods
