"""One stage's market cleared in one compiled call: what buyers need (``sim.engine.trade``'s order-up-to rule),
orders placed by sourcing shares and capped by contract, then the three passes of ``sim.engine.market``
(orders served pro rata, what is lacking re-sourced from qualified suppliers' spare stock, tariffed orders
placed back); after it, what the step teaches buyers (relationships in the spin-up, use averages).

Axes are ``[buyer, supplier, item]`` for orders and ``[country, item]`` for stocks; quantities in the stage's
unit (t REO or t magnet). Sums run in NumPy's order (``sum_over_suppliers``), so results are the NumPy
engine's bit for bit.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .sums import pairwise_sum
from .tagged import item_mass


@njit(cache=True)
def sum_over_suppliers(x: np.ndarray) -> np.ndarray:
    """[B, J, I] -> [B, I], as ``x.sum(axis=1)`` adds: supplier after supplier, or pairwise where the stage has
    one item (NumPy then reduces along the contiguous supplier axis)."""
    B, J, I = x.shape
    out = np.zeros((B, I))
    for b in range(B):
        if I == 1:
            out[b, 0] = pairwise_sum(x[b, :, 0])
        else:
            for j in range(J):
                for i in range(I):
                    out[b, i] += x[b, j, i]
    return out


@njit(cache=True)
def sum_over_buyers(x: np.ndarray) -> np.ndarray:
    """[B, J, I] -> [J, I], as ``x.sum(axis=0)`` adds: buyer after buyer."""
    B, J, I = x.shape
    out = np.zeros((J, I))
    for b in range(B):
        out += x[b]
    return out


@njit(cache=True)
def pro_rata(available: np.ndarray, claims: np.ndarray) -> np.ndarray:
    """Share of its claims each stock can serve (1 when it can serve them all), [C, I]."""
    out = np.ones_like(available)
    for c in range(available.shape[0]):
        for i in range(available.shape[1]):
            if claims[c, i] > available[c, i]:
                out[c, i] = available[c, i] / (claims[c, i] if claims[c, i] > 0 else 1.0)
    return out


@njit(cache=True)
def spread(amount: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Split ``amount`` [B, I] over suppliers in proportion to ``weight`` [B, J, I]."""
    total = sum_over_suppliers(weight)
    out = np.zeros_like(weight)
    B, J, I = weight.shape
    for b in range(B):
        for j in range(J):
            for i in range(I):
                if total[b, i] > 0:
                    out[b, j, i] = amount[b, i] * weight[b, j, i] / total[b, i]
    return out


@njit(cache=True)
def contract_orders(shares: np.ndarray, wants: np.ndarray, normal: np.ndarray, flex: np.ndarray,
                    step_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Orders ``[B, J, I]`` by sourcing ``shares`` of what buyers want ``wants`` [B, I], each capped by contract at
    the supplier's share of the buyer's ``normal`` use [B, I] (t/day) over the step x ``flex`` [B, I] (1 plus
    what a usual supplier may ship beyond it); and what the caps cut, [B, I], for re-sourcing."""
    B, J, I = shares.shape
    orders = np.empty_like(shares)
    cut = np.empty_like(shares)
    for b in range(B):
        for j in range(J):
            for i in range(I):
                wanted = shares[b, j, i] * wants[b, i]
                contract = shares[b, j, i] * normal[b, i] * step_days * flex[b, i]
                orders[b, j, i] = min(wanted, contract)
                cut[b, j, i] = wanted - orders[b, j, i]
    return orders, sum_over_suppliers(cut)


@njit(cache=True)
def clear(available: np.ndarray, own_use: np.ndarray, orders: np.ndarray, blocked: np.ndarray,
          qualified: np.ndarray, reserve: np.ndarray, lacking: np.ndarray,
          tariffed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clear one stage (``sim.engine.market.clear`` states the rules); ``lacking`` and ``tariffed`` are zeros
    where there are none. Returns own use's fill [C, I], shipments [B, J, I], open orders suppliers received
    [J, I] and what buyers did not get [B, I]."""
    B, J, I = orders.shape
    moved = np.empty_like(orders)
    open_orders = np.empty_like(orders)
    ordered = np.zeros((J, I))
    any_moved = False
    for b in range(B):
        for j in range(J):
            for i in range(I):
                allowed = orders[b, j, i] * (1.0 - blocked[b, j, i])
                moved[b, j, i] = allowed * tariffed[b, j, i]
                open_orders[b, j, i] = allowed - moved[b, j, i]
                ordered[j, i] += open_orders[b, j, i]
                any_moved = any_moved or moved[b, j, i] != 0
    fill = pro_rata(available, own_use + ordered)
    shipped = np.empty_like(orders)
    short = np.empty_like(orders)
    sent = np.zeros((J, I))
    for b in range(B):
        for j in range(J):
            for i in range(I):
                shipped[b, j, i] = open_orders[b, j, i] * fill[j, i]
                short[b, j, i] = orders[b, j, i] - shipped[b, j, i]
                sent[j, i] += shipped[b, j, i]
    unmet = sum_over_suppliers(short) + lacking

    own_got = own_use * fill
    spare = np.maximum(0.0, available - own_got - sent - reserve)
    weight = np.zeros_like(orders)
    placed = False                         # pass 2 has something to place: else it adds zeros, skipped
    for b in range(B):
        for j in range(J):
            if j == b:                     # never from oneself
                continue
            for i in range(I):
                if qualified[b, j, i]:
                    avoid = 1.0 - (1.0 - blocked[b, j, i]) * (1.0 - tariffed[b, j, i])
                    weight[b, j, i] = spare[j, i] * (1.0 - avoid)
                    placed = placed or (weight[b, j, i] > 0 and unmet[b, i] > 0)
    total = shipped
    second_sent = np.zeros((J, I))
    if placed:
        request = spread(unmet, weight)
        second = request * pro_rata(spare, sum_over_buyers(request))
        unmet = np.maximum(0.0, unmet - sum_over_suppliers(second))
        total = shipped + second
        second_sent = sum_over_buyers(second)
    if any_moved:
        left = np.maximum(0.0, available - own_got - sent - second_sent)
        back = spread(np.minimum(unmet, sum_over_suppliers(moved)), moved)
        third = back * pro_rata(left, sum_over_buyers(back))
        unmet = np.maximum(0.0, unmet - sum_over_suppliers(third))
        total = total + third
    return fill, total, ordered, unmet


@njit(cache=True)
def order_and_clear(tagged: np.ndarray, pipeline: np.ndarray, use_all: np.ndarray, use_own: np.ndarray,
                    use_normal: np.ndarray, target_days: np.ndarray, lead_days: np.ndarray, extra_days: np.ndarray,
                    precaution: np.ndarray, speculation: np.ndarray, adjust_days: float, step_days: float,
                    shares: np.ndarray, flex: np.ndarray, own_use: np.ndarray, blocked: np.ndarray,
                    qualified: np.ndarray, makers: np.ndarray, refused: np.ndarray,
                    tariffed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray]:
    """A stage's whole trade of one step, in one call: each buyer's need, its orders and the market's clearing.

    Need [C, I]: expected use ``use_all`` (t/day) over the step plus the share ``step_days`` / ``adjust_days`` of
    the gap between the stock position (the stock ``tagged`` [C, Q, X] + ``pipeline``) and its target,
    ``use_all`` x (working stock ``target_days`` + ``lead_days`` [C] + ``extra_days`` measures ask +
    ``precaution`` + ``speculation`` [C, I], days). A supplier's reserve, not spare, is ``use_own`` x
    (``target_days`` + ``extra_days`` + ``precaution``). Orders are ``contract_orders``; only ``makers`` [J] sell
    spare output, to buyers that have ``qualified`` them; ``refused`` [B, I] goods come back to be re-sourced.
    Returns need, orders and
    ``clear``'s own-use fill, shipments, open orders and unmet."""
    C, I = pipeline.shape
    available = np.empty((C, I))
    for c in range(C):
        for i in range(I):
            available[c, i] = item_mass(tagged, c, i, I == 1)
    wants = np.empty((C, I))
    reserve = np.empty((C, I))
    for c in range(C):
        for i in range(I):
            days = target_days[c] + lead_days[c] + extra_days[c, i]
            target = use_all[c, i] * max(0.0, days + precaution[c, i] + speculation[c, i])
            position = available[c, i] + pipeline[c, i]
            wants[c, i] = max(0.0, use_all[c, i] * step_days + (target - position) * step_days / adjust_days)
            reserve[c, i] = use_own[c, i] * (target_days[c] + extra_days[c, i] + precaution[c, i])
    orders, cut = contract_orders(shares, wants, use_normal, flex, step_days)
    eligible = qualified.copy()
    for j in range(C):
        if not makers[j]:
            eligible[:, j, :] = False
    fill, shipped, ordered, unmet = clear(available, own_use, orders, blocked, eligible, reserve, refused + cut,
                                          tariffed)
    return wants, orders, fill, shipped, ordered, unmet


@njit(cache=True)
def went_short(unmet: np.ndarray, wants: np.ndarray, short_share: float) -> np.ndarray:
    """[B, I] bool: buyers short of an item this step, more than ``short_share`` of their need ``wants`` unmet."""
    return unmet > 1e-9 + short_share * wants


@njit(cache=True)
def remember(memory: np.ndarray, unmet: np.ndarray, wants: np.ndarray, sought: np.ndarray, fade: float,
             short_share: float) -> None:
    """A buyer short of an item (``went_short``) remembers (in ``memory`` [B, I], in place) the unmet share of
    what it ``sought``, at most 1; what it remembered before fades by ``fade``."""
    short = went_short(unmet, wants, short_share)
    for b in range(memory.shape[0]):
        for i in range(memory.shape[1]):
            memory[b, i] *= fade
            share = min(1.0, unmet[b, i] / (sought[b, i] if sought[b, i] > 0 else 1.0))
            memory[b, i] = max(memory[b, i], share if short[b, i] else 0.0)


@njit(cache=True)
def after_clearing(wants: np.ndarray, unmet: np.ndarray, orders: np.ndarray, blocked: np.ndarray,
                   tariffed: np.ndarray, shipped: np.ndarray, ordered: np.ndarray, own_use: np.ndarray,
                   use_all: np.ndarray, use_normal: np.ndarray, learnt: np.ndarray, learning: bool,
                   memory: np.ndarray, sought: np.ndarray, remembering: bool, fade: float, short_share: float,
                   step_days: float, smoothing_days: float, normal_days: float) -> np.ndarray:
    """What the step teaches buyers once the market has cleared: in the spin-up's last quarter (``learning``)
    who delivered (``learnt`` += shipments); how short each went (``remember``, when ``remembering``); the
    use averages (``learn_use``). Returns [B, I] bool the items buyers went short of, counting the orders a
    tariff sent looking elsewhere as unmet."""
    if learning:
        learnt += shipped
    looking = unmet + sum_over_suppliers(orders * (1.0 - blocked) * tariffed) if tariffed.any() else unmet
    short = went_short(looking, wants, short_share)
    if remembering:
        remember(memory, unmet, wants, sought, fade, short_share)
    learn_use(own_use, shipped, ordered, use_all, use_normal, step_days, smoothing_days, normal_days)
    return short


@njit(cache=True)
def learn_use(own_use: np.ndarray, shipped: np.ndarray, ordered: np.ndarray, use_all: np.ndarray,
              use_normal: np.ndarray, step_days: float, smoothing_days: float, normal_days: float) -> None:
    """Update a stage's use averages (t/day, in place) with its throughput this step: own use plus the larger
    of the open orders suppliers received and what they shipped; ``use_all`` over ``smoothing_days``,
    ``use_normal`` over ``normal_days``."""
    C, I = own_use.shape
    sent = sum_over_buyers(shipped)
    quick = min(1.0, step_days / smoothing_days)
    slow = min(1.0, step_days / normal_days)
    for c in range(C):
        for i in range(I):
            throughput = (own_use[c, i] + max(ordered[c, i], sent[c, i])) / step_days
            use_all[c, i] += (throughput - use_all[c, i]) * quick
            use_normal[c, i] += (throughput - use_normal[c, i]) * slow
