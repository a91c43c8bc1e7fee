"""Prices that move on news (``prices.expectations``): what a market expects to go unmet before it does.

Two kinds of news, each an expected unmet share of a market's oxide orders by element:

- an announced measure: from its ``announced`` date to its ``start``, the share of each market's oxide
  import orders the measure will cover (each buyer's orders split over its usual suppliers by the shares it
  orders by) counts as expected unmet, x ``announced``; from its start the measure acts on the orders
  themselves and the news fades by a factor e every ``memory_days``, so that the realised unmet share, a
  4-week average, takes over without the price first falling back;
- a supply loss: when the world's capacity of an element falls below its level at the calendar's start
  (mines by the element content of their ore, refineries by what they recover of it; an outage, a capacity
  cut, a closure), the lost share counts as expected unmet in every market, x ``supply_loss``: capacity
  anywhere feeds every market through trade. What is news is the fall: its expectation fades by a factor e
  every ``memory_days`` while the loss lasts, and ends when the capacity is back.

The two come from different causes and combine as independent shares, 1 - (1 - a)(1 - s). The price then
takes the larger of this and the realised unmet share (``sim.engine.prices``), not their sum: both measure
the same thing, the share of orders that goes unmet, and a sum would count one shortfall twice once it
lands. With the larger, the realised takes over as the news fades (or as the measure comes into force), and
the news moves the price only while it says more than the orders do.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import numpy as np

from ..kernels.products import vecmat
from ..stages import REFINERY
from ..world import Network
from .measures import ExportMeasure
from .state import State


def covered_orders(measures: Iterable[ExportMeasure], state: State, net: Network, day: dt.date,
                   ordered: np.ndarray) -> np.ndarray | None:
    """[C, E] t of this step's oxide import orders ``ordered`` [C, E] that the measures announced and not yet
    in force on ``day`` will cover, each buyer's orders split over its usual suppliers by its order shares;
    None when no measure is awaited."""
    awaited = [m for m in measures if m.awaited(day)]
    if not awaited:
        return None
    shares = state.order_shares[REFINERY]                       # [B, J, E]
    cover = np.zeros_like(shares)
    for measure in awaited:
        cover += measure.coverage(REFINERY, state, net)
    # measures announced together split a route between them (civil and defence end users): their shares add,
    # and no route is covered more than whole
    np.minimum(cover, 1.0, out=cover)
    total = shares.sum(axis=1)
    return ordered * np.where(total > 0, (shares * cover).sum(axis=1) / np.where(total > 0, total, 1), 0.0)


def capacity_by_element(net: Network, day: int) -> np.ndarray:
    """[2, E] t/day of each element the mines (by their ore composition) and the refineries (by what they
    recover, were they fed) can make on step ``day``."""
    return np.stack([vecmat(net.mines.rate_t_per_day[day], net.composition),
                     vecmat(net.refineries.rate_t_per_day[day], net.recovery)])


def announced_unmet(state: State, covered_share: np.ndarray | None, fade: float) -> np.ndarray:
    """[M, E] the share of each market's oxide orders still expected to go unmet on announcements
    (unweighted), remembered in the state: the larger of what measures awaited now will cover,
    ``covered_share`` [M, E] (None: none awaited), and what was expected before, faded by ``fade``."""
    before = 0.0 if state.expected_cover is None else state.expected_cover * fade
    now = np.zeros_like(state.scarcity) if covered_share is None else covered_share
    state.expected_cover = np.maximum(before, now)
    return state.expected_cover


def supply_loss(state: State, net: Network, day: int, fade: float) -> np.ndarray:
    """[E] the share of the world's capacity of each element lost since the calendar's start that markets
    still expect to go unmet (unweighted), remembered in the state.

    Mines and refineries are in series, so the stage that lost the larger share limits supply: the lost share
    is the larger of the two. In the spin-up (the world at rest at the start's conditions) the capacity is
    the baseline and nothing is lost."""
    now = capacity_by_element(net, day)
    if state.k < 0 or state.capacity_base is None:
        state.capacity_base = now
        state.capacity_lost = np.zeros(now.shape[1])
        state.expected_loss = np.zeros(now.shape[1])
        return state.expected_loss
    base = state.capacity_base
    lost = np.clip(np.where(base > 0, 1.0 - now / np.where(base > 0, base, 1.0), 0.0), 0.0, 1.0).max(axis=0)
    news = np.maximum(0.0, lost - state.capacity_lost)          # only a further fall is news
    # never more than is lost now: capacity back is news at once
    state.expected_loss = np.minimum(lost, state.expected_loss * fade + news)
    state.capacity_lost = lost
    return state.expected_loss


def expected_unmet(state: State, net: Network, day: int, covered_share: np.ndarray | None) -> np.ndarray:
    """[M, E] the share of each market's oxide orders expected to go unmet on the news: announced measures'
    ``covered_share`` [M, E] of the market's orders (None: none awaited) x ``announced``, and the supply loss
    x ``supply_loss``, each remembered and fading with ``memory_days``, combined as independent shares."""
    rule = net.expectations
    fade = math.exp(-net.step_days / rule.memory_days)
    loss = rule.supply_loss * supply_loss(state, net, day, fade)
    announced = rule.announced * announced_unmet(state, covered_share, fade)
    return 1.0 - (1.0 - announced) * (1.0 - loss)[None, :]
