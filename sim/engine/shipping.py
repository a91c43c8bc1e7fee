"""Goods between countries: exports leaving suppliers' stocks, held for a licence or put to sea (``transit.AtSea``,
where they land in buyers' stocks), or returned to the exporter (refused, stopped, turned back).

Functions of the state; each says in its result what it moved, and the simulation books it, except goods going
back, which leave transit in the books in the call that returns them (as goods that land do). Goods on their
way stay on the buyer's order book (``pipeline``) until they arrive or go back.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvariantError
from ..kernels.exports import held_for_licences, leave_stock, return_goods, settle_decisions
from ..stages import MINE, STAGES
from .measures import ExportLicence
from .state import State
from .stocks import Stocks
from .transit import UNBOOKED, Books, Shipment, books_arrays, stock_arrays, traded_mass


@dataclass
class Exports:
    """What left the suppliers' stocks of a stage this step: all of it (``leaving``, tagged mass by route),
    the applications made for a licence (their numbers at the desk, ``transit.Awaiting``, by measure, in the
    order made) and what goes to sea at once."""

    leaving: np.ndarray                          # [n, L, X] goods by route (``Shipment.goods``; row 0 the mass)
    applications: list[tuple[ExportLicence, list[int]]] = field(default_factory=list)
    sent: Shipment | None = None


def ship_exports(state: State, stage: str, stocks: Stocks, shipped: np.ndarray,
                 licensed: list[tuple[ExportLicence, np.ndarray]]) -> Exports | None:
    """Take exports ``shipped`` [B, J, I] out of the suppliers' stocks: by sea, or the share a licence
    covers to a licence office first (the measure makes its applications of each route's goods)."""
    routes, rows, goods = leave_stock(stocks.tagged, stocks.rows, stocks.count, shipped, (shipped != 0).any(axis=2),
                                      state.pipeline[stage])
    return dispatch(state, stage, routes, rows, goods, licensed)


def dispatch(state: State, stage: str, routes: np.ndarray, rows: np.ndarray, goods: np.ndarray,
             licensed: list[tuple[ExportLicence, np.ndarray]]) -> Exports | None:
    """Exports that left the suppliers' stocks (``routes`` [2, n]: buyers, suppliers; their goods ``goods``
    [n, L, X] at the provenance rows ``rows`` [n, L]: ``sim.kernels.exports.leave_stock``): by sea, or the
    share a licence covers to a licence office first: what each licence holds, in turn, is one compiled call
    (``sim.kernels.exports.held_for_licences``); where each makes one application a route, all of them are made
    at the desk in one more (``Awaiting.hold_for``), else each measure makes its applications of what it holds."""
    if routes.shape[1] == 0:
        return None
    b, j = routes[0], routes[1]                  # by index: unpacking iterates over the array, slower
    q = state.stocks[stage].tagged.shape[1]
    if not licensed:                             # all to sea: every route ``leave_stock`` returns carries goods
        return Exports(goods, sent=Shipment(stage, b, j, goods, rows, q))
    exports = Exports(goods)
    first, held, parts, t, left, mass = held_for_licences(goods, b, j, tuple(share for _, share in licensed),
                                                          stage == MINE)
    bounds = first.tolist()                      # where each licence's held routes start and end among them all
    measures = [measure for measure, _ in licensed]
    if all(measure.whole_routes(stage) for measure in measures):     # one application a route: one call for all
        made = state.awaiting.hold_for(np.array([measure.index for measure in measures]),
                                       np.array([measure.end_user for measure in measures]),
                                       first, STAGES.index(stage), j, b, rows, parts, held, t)
        exports.applications = [(measure, list(made[bounds[k]:bounds[k + 1]])) for k, measure in enumerate(measures)
                                if bounds[k] < bounds[k + 1]]
    else:
        for k, measure in enumerate(measures):
            if bounds[k] < bounds[k + 1]:
                these = slice(bounds[k], bounds[k + 1])
                routes = held[these]
                made = measure.applications(Shipment(stage, b[routes], j[routes], parts[these], rows[routes], q),
                                            t[these], state)
                exports.applications.append((measure, made))
    sent, carrying = Shipment(stage, b, j, left, rows, q), np.flatnonzero(mass > 0)
    if len(carrying) == len(b):                  # nothing held for a licence: no copy
        exports.sent = sent
    elif len(carrying):
        exports.sent = sent.routes(carrying)
    return exports


def return_to_exporter(state: State, shipment: Shipment, refused: bool, books: Books | None,
                       mass: np.ndarray | None = None) -> None:
    """The goods of ``shipment`` go back into the exporters' stocks and off the buyers' order books (``mass``
    [n, I]: their ``traded_mass``, when the caller has it), and out of transit in ``books`` (``Ledger.books``;
    None: not booked, in the spin-up); refused goods are re-sourced by the buyer next step. One compiled call
    (``sim.kernels.exports.return_goods``): a licensing run refuses thousands."""
    stage, stocks, (rows, goods) = shipment.stage, state.stocks[shipment.stage], shipment.held_rows()
    terms, transit_t, content = UNBOOKED if books is None else books
    return_goods(stocks.tagged, stocks.rows, stocks.count, state.pipeline[stage], state.refused[stage],
                 shipment.supplier, shipment.buyer, rows, goods, traded_mass(stage, goods) if mass is None else mass,
                 refused, books is not None, terms, transit_t, STAGES.index(stage), content[stage])


def settle(state: State, days: np.ndarray, applications: np.ndarray, sailed: np.ndarray, approved: np.ndarray,
           banning: np.ndarray, banned: np.ndarray, books: Books | None,
           departures: Callable[[list[int]], tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Licence decisions, in the order they come: on ``days`` [n], of ``applications`` [n] (their numbers at the
    desk, ``transit.Awaiting``), whose reviews started when ``sailed`` [n] voyages had been put to sea, ``approved``
    [n] or not, with the share ``banned`` [n, X] of the goods of those ``banning`` [n] refused whatever the review
    decided. Before each, the goods at sea due by then land; then its goods go to sea or back to the exporter
    (out of transit in ``books``; None: not booked, in the spin-up), all in one compiled call
    (``sim.kernels.exports.settle_decisions``, which reads the goods at the desk; ``departures`` says where to
    record the goods put to sea, given how many routes of each stage may be: ``Ledger.departures_of``). Returns
    each decision's outcome [n, 2] (``APPROVED``, ``REFUSED`` or 0: nothing left) and t [n, 2], of the share
    refused outright and of the rest."""
    n, at_sea, desk = len(days), state.in_flight, state.awaiting
    holds = list(at_sea)
    stage, lengths = desk.s[applications], desk.length[applications]
    sailing = np.bincount(stage[approved], minlength=len(holds)).tolist()
    entries = np.bincount(stage[approved], weights=lengths[approved], minlength=len(holds)).astype(np.int64).tolist()
    for hold, m, e in zip(holds, sailing, entries):
        if m and (hold.n + m > len(hold.arrives) or hold.entries + e > len(hold.rows)):
            hold.make_room(m, e)
    due, voyages = np.array([at_sea.due]), np.array([at_sea.sailed], np.int64)
    outcome, t = np.zeros((n, 2), np.int8), np.zeros((n, 2))
    full = settle_decisions(
        days, sailed, stage, desk.importer[applications], desk.exporter[applications], approved, banning, banned,
        desk.start[applications], lengths, tuple(desk.rows), tuple(desk.values),
        stock_arrays(state.stocks), tuple(state.pipeline[s] for s in STAGES), tuple(state.refused[s] for s in STAGES),
        at_sea.arrays(), at_sea.used, at_sea.due_by_hold, due, voyages, at_sea.lead_days, books_arrays(books),
        departures(sailing), outcome, t)
    at_sea.due, at_sea.sailed = float(due[0]), int(voyages[0])
    if full >= 0:
        raise InvariantError(f"a hold had no room for the goods of licence decision {full}: room is made first")
    return outcome, t

