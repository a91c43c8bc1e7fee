"""One stage's market cleared in one compiled call: orders placed by sourcing shares and capped by contract,
then the three passes of ``sim.engine.market`` (orders served pro rata, what is lacking re-sourced from
qualified suppliers' spare stock, tariffed orders placed back).

Axes are ``[buyer, supplier, item]`` for orders and ``[country, item]`` for stocks; quantities in the stage's
unit (t REO or t magnet). Sums run in NumPy's order (``sum_over_suppliers``), so results are the NumPy
engine's bit for bit.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .sums import pairwise_sum


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
    allowed = orders * (1.0 - blocked)
    moved = allowed * tariffed
    open_orders = allowed - moved
    fill = pro_rata(available, own_use + sum_over_buyers(open_orders))
    own_got = own_use * fill
    shipped = open_orders * fill
    unmet = sum_over_suppliers(orders - shipped) + lacking

    spare = np.maximum(0.0, available - own_got - sum_over_buyers(shipped) - reserve)
    weight = np.zeros_like(orders)
    for b in range(B):
        for j in range(J):
            if j == b:                     # never from oneself
                continue
            for i in range(I):
                if qualified[b, j, i]:
                    weight[b, j, i] = spare[j, i] * (1.0 - (1.0 - (1.0 - blocked[b, j, i]) * (1.0 - tariffed[b, j, i])))
    request = spread(unmet, weight)
    second = request * pro_rata(spare, sum_over_buyers(request))
    unmet = np.maximum(0.0, unmet - sum_over_suppliers(second))

    total = shipped + second
    if moved.any():
        left = np.maximum(0.0, available - own_got - sum_over_buyers(shipped) - sum_over_buyers(second))
        back = spread(np.minimum(unmet, sum_over_suppliers(moved)), moved)
        third = back * pro_rata(left, sum_over_buyers(back))
        unmet = np.maximum(0.0, unmet - sum_over_suppliers(third))
        total = total + third
    return fill, total, sum_over_buyers(open_orders), unmet
