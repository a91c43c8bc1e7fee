"""A part of the step booked in one compiled call: its terms of the mass balance (``balance``) and its facts in
the recorder's records (``records``), as the calls they stand for would book them one after another.

A part that trades (end use, magnet making, separation) books its exports with it, given as two tuples.
``transit`` is ``(traded, stage, leaving, content, transit_t)``: when ``traded``, the goods that left the
suppliers' stocks, ``leaving`` [n, L, X] (row 0 the mass), go into transit as stage ``stage``'s (its index)
goods of element content ``content`` [X, E] (``balance.add_transit``; ``transit_t`` [3] by stage).
``departed`` is ``(sent, buyer, supplier, goods, suppliers, items_summed, room)``: when ``sent``, the goods
put to sea at once (routes ``buyer``, ``supplier`` [m], goods [m, L, X]) are recorded by route in the stage's
record of exports (``room``: its ``step``, ``flat``, ``rows``, ``cursor``; ``suppliers`` countries;
``items_summed`` for concentrate, one item).
A sparse record put in is given as ``(flat, rows, cursor, blocks)`` with room for the entries it may get
(``sim.results.sparse.SparseSteps.room_to_put``). Dense records are ``[step, ...]`` arrays, written at step
``k``.
"""
from __future__ import annotations

import numpy as np

from . import kernel
from .balance import CONSUMED, LOSSES, add_content, add_losses, add_transit
from .records import append_goods, append_sums
from .sums import row_sums

_NO_WEIGHTS = np.zeros(0)


@kernel
def book_end_use(terms: np.ndarray, recipe: np.ndarray, k: int, demand: np.ndarray, supplied: np.ndarray,
                 used_mass: np.ndarray, positions: int, used_at: np.ndarray, used_values: np.ndarray,
                 demand_record: np.ndarray, supplied_record: np.ndarray, used_t: tuple, consumed: tuple,
                 recipe_reo: np.ndarray, transit: tuple, departed: tuple) -> None:
    """End use: the magnets used ``used_mass`` [C, G] (t magnet) consumed by their recipe ``recipe`` [G, E];
    demand and supply by sector [C, S] recorded; the magnets used by provenance (``used_at`` [n] of
    ``positions``, ``used_values`` [n, G]) recorded in t magnet (``used_t``) and in t REO (``consumed``, its
    third part, weighted by ``recipe_reo`` [G])."""
    add_content(terms[CONSUMED], used_mass, recipe, 1.0)
    _transit(terms, transit)
    demand_record[k] = demand
    supplied_record[k] = supplied
    append_sums(used_t[0], used_t[1], used_t[2], used_t[3], 0, consumed[0], consumed[1], consumed[2], consumed[3],
                2, k, positions, used_at, used_values, recipe_reo)
    _departed(k, departed)


@kernel
def book_magnet_making(terms: np.ndarray, recipe: np.ndarray, oxides: np.ndarray, k: int, other_uses: np.ndarray,
                       into_magnets: np.ndarray, made: np.ndarray, planned: np.ndarray, positions: int,
                       made_at: np.ndarray, made_values: np.ndarray, used_at: np.ndarray, used_values: np.ndarray,
                       records: tuple, made_t: tuple, made_reo: tuple, recipe_reo: np.ndarray, consumed: tuple,
                       transit: tuple, departed: tuple) -> None:
    """Magnet making: oxides used outside magnets ``other_uses`` [C, E] consumed (``oxides``: the identity
    [E, E]); what magnet plants took, ``into_magnets`` [C, E], beyond the content of the magnets ``made``
    [C, G] lost as swarf; ``records`` (losses [step, C], other uses, made, planned) written; the magnets made by
    provenance (``made_at``, ``made_values``) recorded in t magnet (``made_t``) and t REO (``made_reo``), the
    oxides used by provenance (``used_at``, ``used_values``) as ``consumed``'s second part."""
    add_content(terms[CONSUMED], other_uses, oxides, 1.0)
    losses = add_losses(terms[LOSSES], into_magnets, made, recipe)
    _transit(terms, transit)
    append_sums(made_t[0], made_t[1], made_t[2], made_t[3], 0, made_reo[0], made_reo[1], made_reo[2], made_reo[3],
                0, k, positions, made_at, made_values, recipe_reo)
    losses_record, other_uses_record, made_record, planned_record = records
    losses_record[k] = losses
    other_uses_record[k] = other_uses
    made_record[k] = made
    planned_record[k] = planned
    _put_sums(consumed, 1, k, positions, used_at, used_values)
    _departed(k, departed)


@kernel
def book_separation(terms: np.ndarray, oxides: np.ndarray, k: int, feed_mass: np.ndarray,
                    separated_mass: np.ndarray, positions: int, feed_at: np.ndarray, feed_values: np.ndarray,
                    feed_record: np.ndarray, separated_record: np.ndarray, consumed: tuple, transit: tuple,
                    departed: tuple) -> None:
    """Separation: the concentrate fed ``feed_mass`` [C, E] beyond the oxides separated ``separated_mass``
    [C, E] lost as tailings; feed (summed over elements) and oxides recorded; the feed by provenance
    (``feed_at``, ``feed_values``) as ``consumed``'s first part."""
    add_losses(terms[LOSSES], feed_mass, separated_mass, oxides)
    _transit(terms, transit)
    feed_record[k] = row_sums(feed_mass)
    separated_record[k] = separated_mass
    _put_sums(consumed, 0, k, positions, feed_at, feed_values)
    _departed(k, departed)


@kernel
def book_term(term: np.ndarray, record: np.ndarray, k: int, mass: np.ndarray, content: np.ndarray) -> None:
    """A flow that is one term of the balance (mined, recycled, sunk: ``mass`` [C, X] of element content
    ``content`` [X, E]) added to ``term`` [E] and recorded as it is."""
    add_content(term, mass, content, 1.0)
    record[k] = mass


@kernel
def _put_sums(record: tuple, part: int, k: int, positions: int, at: np.ndarray, values: np.ndarray) -> None:
    """Put a flow's sums by provenance as the ``part``-th block of step ``k`` of ``record``."""
    append_sums(record[0], record[1], record[2], record[3], part, record[0][:0], record[1][:0], record[2],
                record[3], -1, k, positions, at, values, _NO_WEIGHTS)


@kernel
def _transit(terms: np.ndarray, transit: tuple) -> None:
    """The part's exports into transit (see the module's note)."""
    traded, stage, leaving, content, transit_t = transit
    if traded:
        add_transit(terms, transit_t, stage, leaving, content, 1.0)


@kernel
def _departed(k: int, departed: tuple) -> None:
    """The part's exports put to sea at once, recorded by route (see the module's note)."""
    sent, buyer, supplier, goods, suppliers, items_summed, room = departed
    if sent:
        append_goods(room[0], room[1], room[2], room[3], k, buyer, supplier, suppliers, goods, items_summed)
