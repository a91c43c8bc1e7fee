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
from .clearing import DUST_T
from .records import append_goods
from .sums import first_row_sum, pairwise_sum, row_sums
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
               mass: np.ndarray, used: np.ndarray, s: int, due: np.ndarray, rows: np.ndarray,
               values: np.ndarray) -> float:
    """Put the goods of routes (``buyer``, ``supplier`` [m]) to sea on day ``now`` as voyage number ``voyage``,
    into stage ``s``'s hold: the goods are given at their provenance rows that may hold anything (``goods_rows``
    [m, L], -1 past a route's last, ascending, and ``goods`` [m, L, X]; row 0, the mass, first). Route r becomes
    record ``n + r``, n being the hold's records used so far (``used`` [3] by stage, ``transit.Hold.n``: m more
    after). A record is a row of ``routes`` [cap, 5] (buyer, supplier, voyage, and where its goods' entries start
    and end), ``arrives`` [cap] (the day its lead time ``lead_days`` [exporter, importer] brings it in) and
    ``mass`` [cap] (its t); each provenance row of its goods that holds anything is an entry (``rows`` [e]: the
    row, ``values`` [e, X]: the row's tagged mass), after those of the records before it. Returns the earliest
    arrival, and the hold's next arrival (``due`` [3] by stage) comes no later than it; or NaN, having put
    nothing to sea, when the hold lacks room for m more records or m L more entries (the caller makes room and
    asks again)."""
    m, L, X = goods.shape
    n = used[s]
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
    used[s] = n + m
    due[s] = min(due[s], earliest)
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
def land_holds(stocks: tuple, pipeline: tuple, holds: tuple, hold_n: np.ndarray, hold_due: np.ndarray, now: float,
               sailed: int, books: tuple) -> float:
    """Land what every stage's hold has due (``land_due``: before day ``now``, or on it by a voyage before number
    ``sailed``), hold by hold, into each stage's ``stocks`` (tagged [C, Q, X], rows, count) and off its
    ``pipeline``. ``holds``: each stage's routes, arrives, mass, rows, values and landed; ``hold_n`` and
    ``hold_due`` [3] their records used and the day their next goods land (changed in place); ``books``: (book,
    terms, transit_t, content by stage). Returns the day the next goods at sea land, in any hold (inf: none)."""
    book, terms, transit_t, content = books
    routes, arrives, mass, hold_rows, hold_values, landed = holds
    stock_tagged, stock_rows, stock_count = stocks
    earliest = np.inf
    for h in range(hold_n.shape[0]):
        if hold_due[h] <= now:
            hold_due[h] = land_due(stock_tagged[h], stock_rows[h], stock_count[h], pipeline[h], routes[h], arrives[h],
                                   mass[h], hold_n[h], hold_rows[h], hold_values[h], now, sailed, landed[h], book,
                                   terms, transit_t, h, content[h])
        earliest = min(earliest, hold_due[h])
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


APPROVED, REFUSED = 1, 2      # a licence decision's outcome (``settle_decisions``; 0: nothing left to decide)


@kernel
def held_by_licences(shares: tuple, shipped: np.ndarray) -> np.ndarray:
    """[B, I] what licences hold of the shipments ``shipped`` [B, J, I] of a step, summed over suppliers: on each
    route the sum, licence after licence, of each one's share (``shares``: [B, J, I] each) of the shipment, at
    most the shipment itself (a route under two licences is held once). NumPy's arithmetic on the same numbers,
    in the same order, as ``magnet_making`` took it with five array calls a licence (over suppliers one after
    another, but pairwise where the stage has one item: NumPy's order, ``sums``)."""
    B, J, I = shipped.shape
    route = np.empty((B, J, I))
    for b in range(B):
        for j in range(J):
            for i in range(I):
                x = shipped[b, j, i]
                h = 0.0
                for k in range(len(shares)):
                    h += shares[k][b, j, i] * x
                route[b, j, i] = min(h, x)
    held = np.empty((B, I))
    for b in range(B):
        if I == 1:
            held[b, 0] = pairwise_sum(route[b, :, 0])
            continue
        for i in range(I):
            held[b, i] = route[b, 0, i]
        for j in range(1, J):
            for i in range(I):
                held[b, i] += route[b, j, i]
    return held


@kernel
def held_for_licences(goods: np.ndarray, buyer: np.ndarray, supplier: np.ndarray, shares: tuple,
                      concentrate: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                              np.ndarray]:
    """What each licence holds of the goods [n, L, X] that left on the routes ``buyer``, ``supplier`` [n], one
    licence after another (``shares``: each one's [C, C, I] share of the goods from a supplier to a buyer, I the
    stage's traded items, one for ``concentrate``): its share of what the ones before it left, but none of a
    route where that comes to less than ``DUST_T`` (a rounding residue of a share, which would draw a review
    whose random draw would shift every later one). NumPy's arithmetic and sums on the same numbers, as
    ``shipping.dispatch`` took them with ``Shipment.take`` before; a route a licence does not cover keeps its
    goods untouched (taking a share of 0 of goods, which are never less than nothing, leaves the same bits).

    Returns the routes where each holds anything (t > 0 of the traded items), licence after licence: where each
    licence's start in them [m + 1], the routes [h], the goods held there [h, L, X] and their t [h]; then the
    goods left to go to sea [n, L, X] and their mass [n]. (Held routes only: a licence covers some routes of a
    stage, and the goods of every route for every licence were most of this call's work.)"""
    n, L, X = goods.shape
    m = len(shares)
    left = goods.copy()
    first = np.empty(m + 1, np.int64)
    routes = np.empty(m * n, np.int64)
    parts = np.empty((m * n, L, X))
    t = np.empty(m * n)
    h = 0
    for k in range(m):
        first[k] = h
        share = shares[k]
        I = share.shape[2]
        cover = np.empty((n, I))
        covered = np.empty((n, I))
        for r in range(n):
            for i in range(I):
                cover[r, i] = share[buyer[r], supplier[r], i]
                covered[r, i] = item_mass(left, r, i, concentrate) * cover[r, i]
        by_route = row_sums(covered)
        for r in range(n):
            if 0.0 < by_route[r] < DUST_T:
                continue
            covering = False
            for i in range(I):
                covering |= cover[r, i] != 0.0
            if not covering:
                continue
            part = parts[h]
            for q in range(L):
                for x in range(X):
                    part[q, x] = left[r, q, x] * cover[r, 0 if concentrate else x]
                    left[r, q, x] = left[r, q, x] - part[q, x]
            if concentrate:      # one item: its sum's -0.0 made 0.0, as NumPy's sum along the items makes it
                held_t = 0.0 + item_mass(parts, h, 0, True)
            else:
                held_t = row_sums(part[0:1, :])[0]
            if held_t > 0:
                routes[h], t[h] = r, held_t
                h += 1
    first[m] = h
    return first, routes[:h], parts[:h], t[:h], left, row_sums(left[:, 0, :])


@kernel
def hold_routes(pool_rows: np.ndarray, pool_values: np.ndarray, columns: tuple, first: int, start: int,
                measures: np.ndarray, end_users: np.ndarray, bounds: np.ndarray, s: int, exporter: np.ndarray,
                importer: np.ndarray, rows: np.ndarray, goods: np.ndarray, routes: np.ndarray, t: np.ndarray) -> None:
    """Licence applications made at the desk (``transit.Awaiting``), one for each of ``routes`` [n] that left
    ``exporter`` for ``importer`` [N] with goods at the provenance rows ``rows`` [N, L], their goods ``goods``
    [n, L, X]: those from ``bounds[m]`` to ``bounds[m + 1]`` for ``measures[m]``'s ``end_users[m]`` [M],
    numbered ``first`` on, their goods in a run of L entries each from entry ``start`` of the stage's pool
    (``pool_rows``, ``pool_values``), which has room. ``columns``: the desk's (measure, end user, stage,
    exporter, importer, start, length, t, held); ``t`` [n] each one's t, or no rows (the caller restates
    them)."""
    measure, end_user, stages, exporters, importers, starts, lengths, ts, held = columns
    L, X = rows.shape[1], goods.shape[2]
    for m in range(measures.shape[0]):
        for k in range(bounds[m], bounds[m + 1]):
            r, a, at = routes[k], first + k, start + k * L
            for q in range(L):
                pool_rows[at + q] = rows[r, q]
                for x in range(X):
                    pool_values[at + q, x] = goods[k, q, x]
            measure[a], end_user[a], stages[a] = measures[m], end_users[m], s
            exporters[a], importers[a] = exporter[r], importer[r]
            starts[a], lengths[a], held[a] = at, L, True
            if t.shape[0]:
                ts[a] = t[k]


@kernel
def settle_decisions(days: np.ndarray, sailed: np.ndarray, stage: np.ndarray, buyer: np.ndarray,
                     supplier: np.ndarray, approved: np.ndarray, banning: np.ndarray, banned: np.ndarray,
                     starts: np.ndarray, lengths: np.ndarray, pool_rows: tuple, pool_values: tuple, stocks: tuple,
                     pipeline: tuple, refused: tuple, holds: tuple, hold_n: np.ndarray, hold_due: np.ndarray,
                     at_sea: np.ndarray, voyages: np.ndarray, lead_days: np.ndarray, books: tuple,
                     departures: tuple, outcome: np.ndarray, t: np.ndarray) -> int:
    """Licence decisions on one route's goods each, in the order they come (``days`` [n], the day of each): before
    each, the goods at sea due land as ``land_due`` lands them (before its day, or on it by a voyage before number
    ``sailed`` [n]); then the goods of its ``stage`` [n] (0 concentrate, 1 oxides, 2 magnets), route (``buyer``,
    ``supplier`` [n]) and provenance rows (``lengths`` [n] entries from ``starts`` [n] of the stage's
    ``pool_rows`` and ``pool_values`` [e, X]) go to sea (``approved`` [n]: ``put_to_sea``, as the next voyage) or
    back to the exporter as refused (``return_goods``). Where a decision is ``banning`` [n], the share ``banned``
    [n, X] of its goods is refused first, whatever the review decided. Goods with no mass left (stopped while they
    waited) are neither. Each stage's ``stocks`` (tagged [C, Q, X], rows, count), ``pipeline``, ``refused`` and
    hold (``holds``: routes, arrives, mass, rows, values, landed; ``hold_n`` and ``hold_due`` [3], ``at_sea``
    [1]: the day the next goods land, ``voyages`` [1]: how many were put to sea) change in place. ``books``: (book,
    terms, transit_t, content by stage) for ``land_due`` and ``return_goods``; ``departures``: (whether they are
    recorded, step k, suppliers, each stage's room in its record of exports) for the goods put to sea. Writes
    each decision's ``outcome`` [n, 2] (``APPROVED``, ``REFUSED`` or 0) and t (``t`` [n, 2]) for its share
    refused outright and its rest. Returns -1, or the decision whose goods found no room in their hold (the
    caller makes room first)."""
    book, terms, transit_t, content = books
    keep, k, suppliers, rooms = departures
    routes, arrives, mass, hold_rows, hold_values, _ = holds
    stock_tagged, stock_rows, stock_count = stocks
    for d in range(days.shape[0]):
        day = days[d]
        if at_sea[0] <= day:
            at_sea[0] = land_holds(stocks, pipeline, holds, hold_n, hold_due, day, sailed[d], books)
        s, a, L = stage[d], starts[d], lengths[d]
        X = pool_values[s].shape[1]
        goods_rows = np.empty((1, L), np.int64)
        goods = np.empty((1, L, X))
        for q in range(L):
            goods_rows[0, q] = pool_rows[s][a + q]
            for x in range(X):
                goods[0, q, x] = pool_values[s][a + q, x]
        b, j = buyer[d:d + 1], supplier[d:d + 1]
        for part in range(2):
            if part == 0:                        # the share a ban refuses outright, whatever the review decided
                if not (approved[d] and banning[d]):
                    continue
                these = np.empty((1, L, X))
                for q in range(L):
                    for x in range(X):
                        these[0, q, x] = goods[0, q, x] * banned[d, x]
                        goods[0, q, x] = goods[0, q, x] - these[0, q, x]
            else:
                these = goods
            traded = traded_goods(s == 0, these)
            if traded.shape[0] == 0:             # all of it stopped by a ban while it waited
                continue
            t[d, part] = first_row_sum(traded)
            if part == 1 and approved[d]:
                if keep:
                    step, flat, rows, cursor = rooms[s]
                    append_goods(step, flat, rows, cursor, k, b, j, suppliers, these, s == 0)
                due = put_to_sea(lead_days, day, voyages[0], b, j, goods_rows, these, routes[s], arrives[s], mass[s],
                                 hold_n, s, hold_due, hold_rows[s], hold_values[s])
                if np.isnan(due):
                    return d
                at_sea[0] = min(at_sea[0], due)
                voyages[0] += 1
                outcome[d, part] = APPROVED
            else:
                return_goods(stock_tagged[s], stock_rows[s], stock_count[s], pipeline[s], refused[s], j, b,
                             goods_rows, these, traded, True, book, terms, transit_t, s, content[s])
                outcome[d, part] = REFUSED
    return -1


@kernel
def traded_goods(concentrate: bool, goods: np.ndarray) -> np.ndarray:
    """[1, I] a route's goods [1, L, X] in the stage's traded items (concentrate: one item, t REO of all its
    elements), or [0, I] when they hold nothing (all of them stopped by a ban while they waited)."""
    X = goods.shape[2]
    if concentrate:
        traded = np.empty((1, 1))
        traded[0, 0] = first_row_sum(goods[:, 0, :])
    else:
        traded = np.empty((1, X))
        for x in range(X):
            traded[0, x] = goods[0, 0, x]
    held = False
    for x in range(traded.shape[1]):
        held |= traded[0, x] != 0.0
    return traded if held else traded[:0]
