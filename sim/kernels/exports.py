"""Goods between countries, compiled: exports leaving suppliers' stocks, and goods arriving in buyers' stocks.

Tagged mass is ``[C, Q, X]`` (``sim.world.provenance``); shipments are routes ``[n]`` (buyer, supplier) with
their tagged goods ``[n, Q, X]``; order books (``pipeline``) are ``[C, I]`` by traded item (concentrate is
one item, t REO of all its elements).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .sums import pairwise_sum
from .tagged import item_mass


@njit(cache=True)
def leave_stock(tagged: np.ndarray, shipped: np.ndarray,
                pipeline: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Take exports ``shipped`` [B, J, I] out of the suppliers' stocks ``tagged`` (in place) and onto the buyers'
    order books; return the routes that carry goods (buyers, suppliers, in row-major order) and their
    tagged goods.

    The share of each supplier's stock that leaves is at most all of it: orders that add up to a hair more
    than the stock (rounding, or own use taken first) are cut in proportion, and what stays is the stock
    times what does not leave, so no stock goes below zero (subtracting the shipments could, by rounding)."""
    C, Q, X = tagged.shape
    B, J, I = shipped.shape
    concentrate = I == 1
    carries = np.zeros((B, J), np.bool_)
    for b in range(B):
        for j in range(J):
            for i in range(I):
                if shipped[b, j, i] != 0:       # most routes carry nothing: their sum is not needed
                    carries[b, j] = pairwise_sum(shipped[b, j, :]) > 0
                    break
    n = carries.sum()
    buyer = np.empty(n, np.int64)
    supplier = np.empty(n, np.int64)
    r = 0
    for b in range(B):
        for j in range(J):
            if carries[b, j]:
                buyer[r], supplier[r] = b, j
                r += 1
    frac = np.zeros((n, I))
    leaving = np.zeros((C, I))
    for r in range(n):
        for i in range(I):
            available = item_mass(tagged, supplier[r], i, concentrate)
            if available > 0:
                frac[r, i] = shipped[buyer[r], supplier[r], i] / available
            leaving[supplier[r], i] += frac[r, i]
    goods = np.empty((n, Q, X))
    share = np.empty(X)
    for r in range(n):
        j = supplier[r]
        for x in range(X):
            i = 0 if concentrate else x
            share[x] = frac[r, i] / max(1.0, leaving[j, i])
        stock, out = tagged[j], goods[r]
        for q in range(Q):
            for x in range(X):
                out[q, x] = share[x] * stock[q, x]
    stays = np.empty(X)
    for c in range(C):
        if not leaving[c].any():               # nothing leaves: the stock stays as it is
            continue
        for x in range(X):
            stays[x] = max(0.0, 1.0 - min(1.0, leaving[c, 0 if concentrate else x]))
        stock = tagged[c]
        for q in range(Q):
            for x in range(X):
                stock[q, x] = stock[q, x] * stays[x]
    for r in range(n):
        for i in range(I):
            pipeline[buyer[r], i] += item_mass(goods, r, i, concentrate)
    return buyer, supplier, goods


@njit(cache=True)
def arrive_in_stock(tagged: np.ndarray, pipeline: np.ndarray, buyer: np.ndarray, goods: np.ndarray) -> None:
    """Goods ``goods`` [n, Q, X] of routes to ``buyer`` [n] arrive: into the buyers' stocks ``tagged``, off their
    order books ``pipeline`` [C, I] (in place, route after route)."""
    concentrate = pipeline.shape[1] == 1
    for r in range(buyer.shape[0]):
        tagged[buyer[r]] += goods[r]
    for r in range(buyer.shape[0]):
        for i in range(pipeline.shape[1]):
            pipeline[buyer[r], i] += -item_mass(goods, r, i, concentrate)


@njit(cache=True)
def lead_time_groups(lead_days: np.ndarray, buyer: np.ndarray,
                     supplier: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Routes grouped by lead time (``lead_days`` [exporter, importer], days): the order that puts them shortest
    first (routes in their order within a lead time), where each group starts in it (and the end), and each
    group's days."""
    n = buyer.shape[0]
    lead = np.empty(n)
    for r in range(n):
        lead[r] = lead_days[supplier[r], buyer[r]]
    order = np.argsort(lead, kind="mergesort")          # stable
    groups = 1
    for r in range(1, n):
        groups += lead[order[r]] != lead[order[r - 1]]
    starts = np.empty(groups + 1, np.int64)
    days = np.empty(groups)
    g = 0
    for r in range(n):
        if r == 0 or lead[order[r]] != lead[order[r - 1]]:
            starts[g] = r
            days[g] = lead[order[r]]
            g += 1
    starts[groups] = n
    return order, starts, days
