"""Goods between countries: exports leaving suppliers' stocks, held for a licence or put to sea (``state.AtSea``,
where they land in buyers' stocks), or returned to the exporter (refused, stopped, turned back).

Functions of the state; each says in its result what it moved, and the simulation books it, except goods going
back, which leave transit in the books in the call that returns them (as goods that land do). Goods on their
way stay on the buyer's order book (``pipeline``) until they arrive or go back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..kernels.exports import leave_stock, return_goods
from ..kernels.sums import row_sums
from ..stages import STAGES
from .licensing import Application
from .measures import ExportLicence
from .state import UNBOOKED, Books, Shipment, State, Stocks, traded_mass


@dataclass
class Exports:
    """What left the suppliers' stocks of a stage this step: all of it (``leaving``, tagged mass by route),
    the applications held for a licence (by route and measure, in the order they were made) and what goes
    to sea at once."""

    leaving: np.ndarray                          # [n, L, X] goods by route (``Shipment.goods``; row 0 the mass)
    held: list[Application] = field(default_factory=list)
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
    share a licence covers to a licence office first."""
    if routes.shape[1] == 0:
        return None
    b, j = routes[0], routes[1]                  # by index: unpacking iterates over the array, slower
    sent = Shipment(stage, b, j, goods, rows, state.stocks[stage].tagged.shape[1])
    if not licensed:                             # all to sea: every route ``leave_stock`` returns carries goods
        return Exports(goods, sent=sent)
    exports = Exports(goods)
    for measure, share in licensed:
        held = sent.take(share[b, j])
        t = row_sums(traded_mass(stage, held.goods))      # each route's t held, as an application sums it
        for r in np.flatnonzero(t > 0):
            exports.held += measure.applications(held.routes(slice(r, r + 1)), state, float(t[r]))
    carrying = np.flatnonzero(sent.goods[:, 0, :].sum(axis=1) > 0)
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
