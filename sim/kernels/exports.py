"""Goods between countries, compiled: exports leaving suppliers' stocks, and goods arriving in buyers' stocks.

Tagged mass is ``[C, Q, X]`` (``sim.world.provenance``); shipments are routes ``[n]`` (buyer, supplier) with
their tagged goods at the provenance rows their suppliers' stocks count (``[n, L]`` rows, -1 past a route's
last, and ``[n, L, X]`` goods; row 0, the mass, first: ``sim.kernels.tagged``); order books (``pipeline``)
are ``[C, I]`` by traded item (concentrate is one item, t REO of all its elements).
"""
from __future__ import annotations

import numpy as np

from . import kernel
from .balance import add_transit
from .sums import pairwise_sum
from .tagged import add_goods, add_rows, add_run, item_mass


@kernel
def leave_stock(tagged: np.ndarray, rows: np.ndarray, count: np.ndarray, shipped: np.ndarray, carried: np.ndarray,
                pipeline: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Take exports ``shipped`` [B, J, I] (on the routes ``carried`` [B, J] marks: the others carry none) out of
    the suppliers' stocks ``tagged`` (in place; ``rows``, ``count``:
    their rows that may hold anything, ``sim.kernels.tagged``) and onto the buyers' order books; return the
    routes that carry goods, their mass (row 0) adding up to more than nothing (``routes`` [2, n]: buyers and
    suppliers, in row-major order, one array for the two), and their tagged goods at their supplier's rows that
    may hold anything (``goods_rows`` [n, L], -1 past a route's last, and ``goods`` [n, L, X]; row 0 first): all
    of them go to sea unless a licence holds some.

    The share of each supplier's stock that leaves is at most all of it: orders that add up to a hair more
    than the stock (rounding, or own use taken first) are cut in proportion, and what stays is the stock
    times what does not leave, so no stock goes below zero (subtracting the shipments could, by rounding)."""
    C, Q, X = tagged.shape
    B, J, I = shipped.shape
    concentrate = I == 1
    carries = np.zeros((B, J), np.bool_)
    for b in range(B):
        for j in range(J):
            if not carried[b, j]:
                continue
            for i in range(I):
                if shipped[b, j, i] != 0:       # most routes carry nothing: their sum is not needed
                    carries[b, j] = pairwise_sum(shipped[b, j, :]) > 0
                    break
    n = carries.sum()
    routes = np.empty((2, n), np.int64)
    buyer, supplier = routes[0], routes[1]
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
    L = 1
    for r in range(n):
        L = max(L, count[supplier[r]])
    goods_rows = np.full((n, L), -1, np.int64)
    goods = np.zeros((n, L, X))
    share = np.empty(X)
    for r in range(n):
        j = supplier[r]
        for x in range(X):
            i = 0 if concentrate else x
            share[x] = frac[r, i] / max(1.0, leaving[j, i])
        stock, out = tagged[j], goods[r]
        for k in range(count[j]):
            q = rows[j, k]
            goods_rows[r, k] = q
            for x in range(X):
                out[k, x] = share[x] * stock[q, x]
    stays = np.empty(X)
    for c in range(C):
        if not leaving[c].any():               # nothing leaves: the stock stays as it is
            continue
        for x in range(X):
            stays[x] = max(0.0, 1.0 - min(1.0, leaving[c, 0 if concentrate else x]))
        stock = tagged[c]
        for k in range(count[c]):
            q = rows[c, k]
            for x in range(X):
                stock[q, x] = stock[q, x] * stays[x]
    carrying = 0
    for r in range(n):
        for i in range(I):
            pipeline[buyer[r], i] += item_mass(goods, r, i, concentrate)
        carrying += pairwise_sum(goods[r, 0]) > 0
    if carrying < n:       # a route whose goods came to nothing (a stock of nothing, rounding) carries none
        keep = np.empty(carrying, np.int64)
        k = 0
        for r in range(n):
            if pairwise_sum(goods[r, 0]) > 0:
                keep[k] = r
                k += 1
        return routes[:, keep], goods_rows[keep], goods[keep]
    return routes, goods_rows, goods


@kernel
def put_to_sea(lead_days: np.ndarray, now: float, voyage: int, buyer: np.ndarray, supplier: np.ndarray,
               goods_rows: np.ndarray, goods: np.ndarray, routes: np.ndarray, arrives: np.ndarray,
               mass: np.ndarray, n: int, rows: np.ndarray, values: np.ndarray) -> float:
    """Put the goods of routes (``buyer``, ``supplier`` [m]) to sea on day ``now`` as voyage number ``voyage``,
    into a stage's hold: the goods are given at their provenance rows that may hold anything (``goods_rows``
    [m, L], -1 past a route's last, ascending, and ``goods`` [m, L, X]; row 0, the mass, first). Route r becomes
    record ``n + r`` (``routes`` [cap, 5]: buyer, supplier, voyage, and where its goods' entries start and end;
    ``arrives`` [cap]: the day its lead time ``lead_days`` [exporter, importer] brings it in; ``mass`` [cap]: its
    t), and each provenance row of its goods that holds anything an entry (``rows`` [e]: the row, ``values``
    [e, X]: the row's tagged mass), after those of the records before it. Returns the earliest arrival, or NaN,
    having put nothing to sea, when the hold lacks room for m more records or m L more entries (the caller
    makes room and asks again)."""
    m, L, X = goods.shape
    e = routes[n - 1, 4] if n > 0 else 0
    if n + m > arrives.shape[0] or e + m * L > rows.shape[0]:
        return np.nan
    earliest = np.inf
    for r in range(m):
        w = n + r
        routes[w, 0], routes[w, 1], routes[w, 2], routes[w, 3] = buyer[r], supplier[r], voyage, e
        tagged = goods[r]
        for k in range(L):
            q = goods_rows[r, k]
            if q < 0:
                break
            rows[e] = q                 # written, and kept as an entry if it holds anything: one pass, not two
            holding = False             # (the room checked above has space for every row)
            for x in range(X):
                values[e, x] = tagged[k, x]
                holding |= tagged[k, x] != 0.0
            e += holding
        routes[w, 4] = e
        arrives[w] = now + lead_days[supplier[r], buyer[r]]
        t = 0.0
        for x in range(X):
            t += tagged[0, x]
        mass[w] = t
        earliest = min(earliest, arrives[w])
    return earliest


@kernel
def land_due(stock: np.ndarray, live: np.ndarray, live_count: np.ndarray, pipeline: np.ndarray, routes: np.ndarray,
             arrives: np.ndarray, mass: np.ndarray, n: int, rows: np.ndarray, values: np.ndarray, now: float,
             sailed: int, landed: np.ndarray, book: bool, terms: np.ndarray, transit_t: np.ndarray, stage: int,
             content: np.ndarray) -> float:
    """Land the goods of a stage's records ``:n`` (see ``put_to_sea``) that arrive before day ``now``, or on it by
    a voyage before number ``sailed``: into the buyers' stocks ``stock`` [C, Q, X] (their rows counted in
    ``live``, ``live_count``: ``sim.kernels.tagged``), off their order books
    ``pipeline`` [C, I], in the order of their arrival and, at one time, of their sailing (SimPy's order of
    events). Rows that hold nothing are not added (adding zeros changes no stock). Their mass (row 0) is
    written to ``landed`` [X]; their records' voyage becomes -1 and their t 0. With ``book``, that mass is taken
    out of transit in the same call, as one route's goods (``sim.kernels.balance.add_transit``: the accounts'
    ``terms``, ``transit_t`` by stage, ``stage`` its index, ``content`` [X, E]). Returns the day the next goods
    still at sea arrive (inf: none)."""
    concentrate = pipeline.shape[1] == 1
    due = np.empty(n, np.int64)
    count = 0
    earliest = np.inf
    for r in range(n):
        if routes[r, 2] < 0:
            continue
        if arrives[r] < now or (arrives[r] == now and routes[r, 2] < sailed):
            due[count] = r
            count += 1
        else:
            earliest = min(earliest, arrives[r])
    by_arrival(due, count, arrives)
    X = values.shape[1]
    landed[:] = 0.0
    for r in due[:count]:
        b, start, end = routes[r, 0], routes[r, 3], routes[r, 4]
        routes[r, 2] = -1
        mass[r] = 0.0
        add_run(stock, live, live_count, b, rows, 0, values, start, end)
        if start == end or rows[start] != 0:     # no mass: no row holds anything
            continue
        if concentrate:
            pipeline[b, 0] += -pairwise_sum(values[start])
        else:
            for x in range(X):
                pipeline[b, x] += -values[start, x]
        for x in range(X):
            landed[x] += values[start, x]
    if book:
        add_transit(terms, transit_t, stage, landed.reshape((1, 1, X)), content, -1.0)
    return earliest


@kernel
def by_arrival(records: np.ndarray, n: int, arrives: np.ndarray) -> None:
    """Order ``records[:n]`` by the day they arrive (``arrives``), in place, records that arrive at one time kept in
    the order they had (stable: sailed earlier first). An insertion sort: a landing has some tens of records, too
    few for a library sort's set-up to pay (a stable ``argsort`` cost a landing about a quarter of its time)."""
    for i in range(1, n):
        r = records[i]
        k = i
        while k > 0 and arrives[records[k - 1]] > arrives[r]:
            records[k] = records[k - 1]
            k -= 1
        records[k] = r


@kernel
def compact(routes: np.ndarray, arrives: np.ndarray, mass: np.ndarray, n: int, rows: np.ndarray,
            values: np.ndarray) -> int:
    """Drop the landed records of ``:n`` and their entries (see ``put_to_sea``), keeping the order of the rest,
    in place; return how many records are left."""
    w = 0
    e = 0
    for r in range(n):
        if routes[r, 2] < 0:
            continue
        start, end = routes[r, 3], routes[r, 4]
        for k in range(start, end):
            rows[e + k - start] = rows[k]
            for x in range(values.shape[1]):
                values[e + k - start, x] = values[k, x]
        routes[w] = routes[r]
        routes[w, 3], routes[w, 4] = e, e + end - start
        arrives[w], mass[w] = arrives[r], mass[r]
        e += end - start
        w += 1
    return w


@kernel
def return_goods(tagged: np.ndarray, rows: np.ndarray, count: np.ndarray, pipeline: np.ndarray, refused: np.ndarray,
                 supplier: np.ndarray, buyer: np.ndarray, goods_rows: np.ndarray, goods: np.ndarray, mass: np.ndarray,
                 refusing: bool, book: bool, terms: np.ndarray, transit_t: np.ndarray, stage: int,
                 content: np.ndarray) -> None:
    """Goods of routes (``supplier`` [n], ``buyer`` [n]; tagged ``goods`` [n, L, X] at ``goods_rows`` [n, L]) back
    into the exporters' stocks ``tagged`` (``add_goods``, in place) and their ``mass`` [n, I] off the buyers'
    order books ``pipeline`` [C, I]; with ``refusing``, onto the buyers' ``refused`` [C, I] too, to be re-sourced
    (``add_rows``'s sums, as ``np.add.at`` adds them). With ``book``, the goods are taken out of transit in the
    same call, as ``land_due`` takes them (``add_transit``: the accounts' ``terms``, ``transit_t`` by stage,
    ``stage`` its index, ``content`` [X, E])."""
    add_goods(tagged, rows, count, supplier, goods_rows, goods)
    add_rows(pipeline, buyer, -mass)
    if refusing:
        add_rows(refused, buyer, mass)
    if book:
        add_transit(terms, transit_t, stage, goods, content, -1.0)
