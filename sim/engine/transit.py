"""Goods between countries on their way: a shipment of some routes' goods, the holds of goods at sea
(``AtSea``, a calendar of arrivals) and the desk of goods awaiting a licence (``Awaiting``), all kept in
arrays; and how their goods are taken out of transit in the books (``Books``). Units: t REO for
concentrate and oxides, t magnet for magnets; tagged goods carry provenance (``sim.world.provenance``).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from ..kernels.exports import compact, hold_routes, land_holds, put_to_sea
from ..kernels.sums import first_row_sum
from ..kernels.tagged import compacted, spread
from ..stages import MINE, STAGES
from .stocks import Stocks

NO_T = np.zeros(0)         # ``Awaiting.hold`` without t: taken from the goods


class Shipment:
    """Goods of one stage on their way from suppliers to buyers, one row per route: ``goods`` [n, L, X], their
    tagged mass at the provenance rows ``rows`` [n, L] (-1 past a route's last, ascending; row 0, the mass,
    first): the rows of the suppliers' stocks that may hold anything as the goods left them. Goods back from
    sea are given whole (``rows`` None, ``goods`` [n, Q, X]). Either way ``goods[:, 0]`` is the mass, and
    scaling or splitting them is the same arithmetic on the same numbers; ``tagged`` makes them whole. Two are
    never equal: the same goods are one shipment (a plain class, built several times a step: no dataclass
    machinery)."""

    __slots__ = ("stage", "buyer", "supplier", "goods", "rows", "q", "_t")

    def __init__(self, stage: str, buyer: np.ndarray, supplier: np.ndarray, goods: np.ndarray,
                 rows: np.ndarray | None = None, q: int | None = None):
        self.stage = stage
        self.buyer = buyer                  # [n] country index
        self.supplier = supplier            # [n] country index
        self.goods = goods                  # [n, L, X] tagged mass at ``rows``, or [n, Q, X] whole
        self.rows = rows                    # [n, L] provenance rows, or None: whole
        self.q = goods.shape[1] if rows is None else q      # provenance rows in all, Q
        self._t: float | None = None

    @property
    def tagged(self) -> np.ndarray:
        """[n, Q, X] tagged mass by route, whole: a copy where the goods are held at their rows (change goods
        with ``take``)."""
        return self.goods if self.rows is None else spread(self.rows, self.goods, self.q)

    @property
    def t(self) -> float:
        """t of the stage's traded unit in all (t REO, or t magnet): counted every step while at sea, so once."""
        if self._t is None:
            self._t = float(traded_mass(self.stage, self.goods).sum())
        return self._t

    def times(self, factor: np.ndarray | float) -> Shipment:
        """The same routes with their goods times ``factor`` (by item [I], by route and item [n, 1, I], or one
        number): a part of them."""
        return Shipment(self.stage, self.buyer, self.supplier, self.goods * factor, self.rows, self.q)

    def routes(self, index: np.ndarray) -> Shipment:
        """The goods of some of its routes."""
        return Shipment(self.stage, self.buyer[index], self.supplier[index], self.goods[index],
                        None if self.rows is None else self.rows[index], self.q)

    def route(self, r: int) -> Shipment:
        """The goods of its route ``r`` alone, as views of its arrays (``routes`` of one, without an index)."""
        return Shipment(self.stage, self.buyer[r:r + 1], self.supplier[r:r + 1], self.goods[r:r + 1],
                        None if self.rows is None else self.rows[r:r + 1], self.q)

    def take(self, share: np.ndarray) -> Shipment:
        """Take ``share`` [n, I] (or [n, X], by element) of each route's goods out of the shipment (in place)
        and return it."""
        part = self.times(share[:, None, :])
        self.goods, self._t = self.goods - part.goods, None       # what is left: its mass anew
        return part

    def held_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows [n, L], goods [n, L, X]): its goods at the rows that may hold anything, as ``rows`` says."""
        return compacted(self.goods) if self.rows is None else (self.rows, self.goods)

    def __repr__(self) -> str:
        return f"Shipment({self.stage!r}, buyer={self.buyer!r}, supplier={self.supplier!r}, t={self.t!r})"


class Hold:
    """One stage's goods at sea: a record per route of every voyage (the stage's goods put to sea at one moment),
    in the order they sailed: buyer, supplier, voyage number (-1 once landed), the day it arrives, its t, and
    its goods as entries, one per provenance row that holds anything (most hold nothing). As a whole it is
    the stage's shipment at sea: its ``t``, and its routes and ``tagged`` goods gathered. How many records it
    uses and when its next goods land are kept in arrays of every hold (``used``, ``due_by_hold`` [3]), at its
    stage's place, so that one compiled call lands every hold (``AtSea.land``)."""

    ROOM = 4      # a hold made room in is at most a quarter full (``make_room``)

    def __init__(self, stage: str, shape: tuple[int, int], used: np.ndarray, due_by_hold: np.ndarray,
                 records: int = 64):
        self.stage = stage
        self.shape = shape                                   # [Q, X] of a route's tagged goods
        self.routes = np.full((records, 5), -1, np.int64)    # buyer, supplier, voyage, entries' start and end
        self.arrives = np.full(records, np.inf)              # days
        self.mass = np.zeros(records)                        # t, 0 once landed
        self.rows = np.zeros(records * 8, np.int64)          # an entry's provenance row
        self.values = np.zeros((records * 8, shape[1]))      # its tagged mass
        self.index = STAGES.index(stage)                     # the stage's place in the books and the holds
        self.used, self.due_by_hold = used, due_by_hold      # [3] records used, landed or not; next arrival
        self.n, self.due = 0, np.inf
        self.landed = np.zeros(shape[1])                     # [X] the mass of the goods landed last
        self.resized = 0                                     # times its arrays were made anew (``make_room``)

    @property
    def n(self) -> int:
        """Records used, landed or not."""
        return int(self.used[self.index])

    @n.setter
    def n(self, value: int) -> None:
        self.used[self.index] = value

    @property
    def due(self) -> float:
        """The day the next goods arrive (inf: none at sea)."""
        return float(self.due_by_hold[self.index])

    @due.setter
    def due(self, value: float) -> None:
        self.due_by_hold[self.index] = value

    @property
    def entries(self) -> int:
        """Entries used."""
        return int(self.routes[self.n - 1, 4]) if self.n else 0

    def make_room(self, records: int, entries: int) -> None:
        """Room for ``records`` more records and ``entries`` more entries: landed ones dropped, and the arrays
        made eight times what is needed when that fills more than a quarter of them, so that the hold is rarely
        compacted again: each compaction moves every entry at sea (a Japan ban run compacts its holds 69 times
        rather than 206 at more than half and four times), while landing reads past the landed records only."""
        self.n = compact(self.routes, self.arrives, self.mass, self.n, self.rows, self.values)
        if self.ROOM * (self.n + records) > len(self.arrives):
            used, size = self.n, 2 * self.ROOM * (self.n + records)
            self.routes, self.arrives = larger(self.routes, used, size), larger(self.arrives, used, size)
            self.mass = larger(self.mass, used, size)
            self.resized += 1
        if self.ROOM * (self.entries + entries) > len(self.rows):
            size, used = 2 * self.ROOM * (self.entries + entries), self.entries
            self.rows, self.values = larger(self.rows, used, size), larger(self.values, used, size)
            self.resized += 1

    @property
    def at_sea(self) -> np.ndarray:
        """The records of goods still at sea."""
        return np.flatnonzero(self.routes[:self.n, 2] >= 0)

    @property
    def t(self) -> float:
        """t of the stage's traded unit at sea (t REO, or t magnet): landed records count 0."""
        return float(self.mass[:self.n].sum())

    @property
    def buyer(self) -> np.ndarray:
        return self.routes[self.at_sea, 0]

    @property
    def supplier(self) -> np.ndarray:
        return self.routes[self.at_sea, 1]

    @property
    def tagged(self) -> np.ndarray:
        """[n, Q, X] the goods at sea, route after route."""
        return self.goods(self.at_sea)

    def goods(self, records: np.ndarray) -> np.ndarray:
        """[n, Q, X] the tagged goods of some records."""
        goods = np.zeros((len(records), *self.shape))
        start, end = self.routes[records, 3], self.routes[records, 4]
        length = end - start
        record = np.repeat(np.arange(len(records)), length)          # each entry's place among the records,
        entry = np.arange(length.sum()) + np.repeat(start - (np.cumsum(length) - length), length)  # its index
        goods[record, self.rows[entry]] = self.values[entry]
        return goods

    def take_back(self, records: np.ndarray, goods: np.ndarray) -> None:
        """What is left at sea of some records' goods, ``goods`` [n, Q, X]: less than they held, so in their
        entries (turned back at sea)."""
        for r, record in enumerate(records):
            entries = slice(*self.routes[record, 3:5])
            self.values[entries] = goods[r, self.rows[entries]]
            self.mass[record] = goods[r, 0].sum()

    def voyages(self) -> list[tuple[int, np.ndarray]]:
        """The voyages at sea, in the order they sailed, and within one by arrival (shortest lead time first),
        each with its records (routes in their order)."""
        records = self.at_sea
        if not len(records):
            return []
        records = records[np.lexsort((self.arrives[records], self.routes[records, 2]))]      # stable
        keys = np.stack([self.routes[records, 2], self.arrives[records]], axis=1)
        starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
        return [(int(keys[a, 0]), part) for a, part in zip(starts, np.split(records, starts[1:]))]


class Books(NamedTuple):
    """Where goods that land or go back to their exporters are taken out of transit (``Ledger.books``): the
    accounts' ``terms`` [TERMS, E]
    (``sim.kernels.balance``), ``transit_t`` [3] by stage in its traded unit, and each stage's ``content`` [X, E],
    t REO of each element in a unit of each item."""

    terms: np.ndarray
    transit_t: np.ndarray
    content: dict[str, np.ndarray]


_NOWHERE = np.zeros((0, 0))
UNBOOKED = Books(_NOWHERE, np.zeros(0), dict.fromkeys(STAGES, _NOWHERE))     # goods moving in the spin-up


def books_arrays(books: Books | None) -> tuple:
    """``books`` (None: not booked, in the spin-up) as the compiled calls that land goods or send them back take
    them: (booked, terms, transit_t, each stage's content)."""
    terms, transit_t, content = UNBOOKED if books is None else books
    return books is not None, terms, transit_t, tuple(content[stage] for stage in STAGES)


def stock_arrays(stocks: dict[str, Stocks]) -> tuple:
    """Each stage's stocks as the compiled calls that land goods or send them back take them: (tagged, rows,
    count), each a tuple by stage."""
    held = [stocks[stage] for stage in STAGES]
    return tuple(s.tagged for s in held), tuple(s.rows for s in held), tuple(s.count for s in held)


def larger(array: np.ndarray, used: int, size: int) -> np.ndarray:
    """``array`` made ``size`` long, its first ``used`` kept: a hold's records or entries past those used are
    written before they are read, so the rest is left as it comes (filling it would touch every page of it at
    once, for nothing)."""
    grown = np.empty((size, *array.shape[1:]), array.dtype)
    grown[:used] = array[:used]
    return grown


class AtSea:
    """Goods at sea, a calendar of arrivals kept in arrays: one ``Hold`` per stage. Goods are put to sea by
    voyage (numbered in the order they sail) and land, all due at once, when the clock asks
    (``Simulation.arrivals``): in the order SimPy would have delivered them, by arrival day and, on one day,
    by voyage. Iterating gives each stage's hold: its goods at sea as one shipment."""

    def __init__(self, shapes: dict[str, tuple[int, int]], lead_days: np.ndarray):
        self.used = np.zeros(len(shapes), np.int64)        # each hold's records used (``Hold.n``)
        self.due_by_hold = np.full(len(shapes), np.inf)    # the day each hold's next goods arrive (``Hold.due``)
        self.holds = {stage: Hold(stage, shapes[stage], self.used, self.due_by_hold) for stage in STAGES}
        self.lead_days = lead_days         # [exporter, importer] days
        self.sailed = 0                    # voyages put to sea so far
        self.due = np.inf                  # the day the next goods arrive, in any hold
        self._arrays: tuple = ()           # ``arrays``, and the holds' ``resized`` when it was made
        self._resized: list[int] = []

    def sail(self, shipment: Shipment, now: float) -> None:
        """Put a shipment to sea on day ``now``, as the next voyage, into its stage's hold; each route arrives after
        its lead time."""
        hold, buyer, (rows, goods) = self.holds[shipment.stage], shipment.buyer, shipment.held_rows()
        while math.isnan(due := put_to_sea(self.lead_days, now, self.sailed, buyer, shipment.supplier, rows, goods,
                                           hold.routes, hold.arrives, hold.mass, self.used, hold.index,
                                           self.due_by_hold, hold.rows, hold.values)):   # full: room made, again
            hold.make_room(len(buyer), rows.size)
        if due < self.due:
            self.due = due
        self.sailed += 1

    def land(self, stocks: dict[str, Stocks], pipeline: dict[str, np.ndarray], now: float, sailed: int,
             books: Books | None = None) -> None:
        """Land what arrives before day ``now``, or on it by a voyage before number ``sailed``: into the buyers'
        stocks, off their order books, and with ``books`` given out of transit, in one compiled call for every
        hold. Each hold that landed goods has their mass in ``landed`` [X] (t REO by element, t magnet by
        grade)."""
        self.due = land_holds(stock_arrays(stocks), tuple(pipeline[stage] for stage in STAGES), self.arrays(),
                              self.used, self.due_by_hold, now, sailed, books_arrays(books))

    def arrays(self) -> tuple:
        """The holds' arrays as the compiled calls take them (``sim.kernels.exports.land_holds``): routes, arrives,
        mass, rows, values and landed, each a tuple by stage; made again only once a hold has made room."""
        resized = [hold.resized for hold in self.holds.values()]
        if resized != self._resized:
            self._arrays = tuple(tuple(getattr(hold, name) for hold in self.holds.values())
                                 for name in ("routes", "arrives", "mass", "rows", "values", "landed"))
            self._resized = resized
        return self._arrays

    def voyages(self) -> Iterator[Shipment]:
        """The goods at sea by voyage, in the order they sailed, and within one by lead time (shortest first):
        each a shipment of its routes' goods, whole. What the caller takes out of a shipment (``Shipment.take``)
        leaves the sea; the rest stays."""
        parts = sorted(((voyage, stage, records) for stage, hold in self.holds.items()
                        for voyage, records in hold.voyages()), key=lambda part: part[0])   # stable: lead times
        for _, stage, records in parts:                                                     # stay in order
            hold = self.holds[stage]
            shipment = Shipment(stage, hold.routes[records, 0], hold.routes[records, 1], hold.goods(records))
            yield shipment
            hold.take_back(records, shipment.tagged)

    def __iter__(self) -> Iterator[Hold]:
        return iter(self.holds.values())


END_USERS = ("all", "civil", "defence")     # an application's end user, by its code in ``Awaiting.end_user``


class Awaiting:
    """Licence applications and their goods awaiting a decision, kept in arrays: an application is a row (its
    number, in the order made), its goods a run of entries (provenance row, tagged mass [X]) in its stage's
    pool, as ``Shipment.held_rows`` gives one route's (row 0, the mass, first; -1 past its last). Columns:
    the index of the measure that holds it (in the run's list), its end user (a code of ``END_USERS``), its
    stage's index ``s``, ``exporter`` and ``importer`` (country indices), its run (``start``, ``length``), its
    ``t`` (t REO, or t magnet) and whether it is ``held`` (made, not yet decided or dropped). Iterating gives
    the goods of each held, in the order made, as a shipment of one route (views)."""

    ROOM = 4      # as a hold's (``Hold.make_room``): a pool made room in is at most a quarter full
    ENTRIES = 512     # of each stage's pool at first
    COLUMNS = ("measure", "end_user", "s", "exporter", "importer", "start", "length", "t", "held")

    def __init__(self, shapes: dict[str, tuple[int, int]], rows: int = 256):
        entries = self.ENTRIES
        self.q = [q for q, _ in shapes.values()]                          # provenance rows in all, by stage
        self.rows = [np.zeros(entries, np.int64) for _ in shapes]         # an entry's provenance row
        self.values = [np.zeros((entries, x)) for _, x in shapes.values()]   # its tagged mass [X]
        self.used = [0] * len(shapes)                                     # entries used, by stage
        self.n = 0                                                        # applications made
        self.measure = np.zeros(rows, np.int64)
        self.end_user = np.zeros(rows, np.int64)
        self.s, self.exporter, self.importer = (np.zeros(rows, np.int64) for _ in range(3))
        self.start, self.length = np.zeros(rows, np.int64), np.zeros(rows, np.int64)
        self.t = np.zeros(rows)
        self.held = np.zeros(rows, bool)
        self._columns = tuple(getattr(self, name) for name in self.COLUMNS)     # as ``hold_routes`` takes them

    def hold(self, measure: int, end_user: int, s: int, exporter: np.ndarray, importer: np.ndarray,
             rows: np.ndarray, goods: np.ndarray, t: np.ndarray | None = None) -> range:
        """Make applications of stage ``s`` for ``measure``'s ``end_user``, one a route (``exporter``, ``importer``
        [n]) whose goods are ``goods`` [n, L, X] at ``rows`` [n, L], their ``t`` [n] (or taken from the goods),
        and hold them: returns their numbers."""
        n = len(exporter)
        return self.hold_for(np.array([measure]), np.array([end_user]), np.array([0, n]), s, exporter, importer,
                             rows, goods, np.arange(n), t)

    def hold_for(self, measures: np.ndarray, end_users: np.ndarray, bounds: np.ndarray, s: int,
                 exporter: np.ndarray, importer: np.ndarray, rows: np.ndarray, goods: np.ndarray,
                 routes: np.ndarray, t: np.ndarray | None = None) -> range:
        """Make applications of stage ``s``, one for each of ``routes`` [n] (among ``exporter``, ``importer`` [N],
        their goods at ``rows`` [N, L]) with the goods ``goods`` [n, L, X] and ``t`` [n] (or taken from the
        goods): those from ``bounds[m]`` to ``bounds[m + 1]`` for ``measures[m]``'s ``end_users[m]`` [M], in
        turn; and hold them: returns their numbers. One compiled call (``sim.kernels.exports.hold_routes``)."""
        n, length = len(routes), rows.shape[1]
        if self.used[s] + n * length > len(self.rows[s]):
            self._make_room(s, n * length)
        if self.n + n > len(self.t):
            self._more_rows(self.n + n)
        start, first = self.used[s], self.n
        hold_routes(self.rows[s], self.values[s], self._columns, first, start, measures, end_users, bounds, s,
                    exporter, importer, rows, goods, routes, NO_T if t is None else t)
        self.used[s], self.n = start + n * length, first + n
        if t is None:
            self.restate(range(first, first + n))
        return range(first, first + n)

    def restate(self, applications: Iterable[int]) -> None:
        """Take the applications' ``t`` anew from their goods (a ban stopped some of them while they waited)."""
        for a in applications:
            goods = self.values[self.s[a]][None, self._run(a)]
            self.t[a] = first_row_sum(traded_mass(STAGES[self.s[a]], goods))

    def _run(self, a: int) -> slice:
        """Where application ``a``'s goods lie in its stage's pool."""
        return slice(self.start[a], self.start[a] + self.length[a])

    def routes(self, applications: Iterable[int] | np.ndarray) -> list[tuple[str, int, int]]:
        """(stage, exporter, importer) of each of ``applications``."""
        return list(zip(*self.routes_of(np.asarray(applications, np.int64))))

    def routes_of(self, applications: np.ndarray) -> tuple[list[str], list[int], list[int]]:
        """The stages, exporters and importers of ``applications`` [n], as columns."""
        return ([STAGES[s] for s in self.s[applications].tolist()], self.exporter[applications].tolist(),
                self.importer[applications].tolist())

    def _more_rows(self, rows: int) -> None:
        """Room for ``rows`` applications in all: every column twice as long, or longer (``larger``: ``hold`` writes
        each column of a new application)."""
        for name in self.COLUMNS:
            column = getattr(self, name)
            setattr(self, name, larger(column, self.n, max(rows, 2 * len(column))))
        self._columns = tuple(getattr(self, name) for name in self.COLUMNS)

    def _make_room(self, s: int, entries: int) -> None:
        """Room for ``entries`` more of stage ``s``: the runs of the applications still held moved to the front,
        in turn, and the arrays made eight times what is needed when that fills more than a quarter of them."""
        held = np.flatnonzero(self.held[:self.n] & (self.s[:self.n] == s))
        needed = int(self.length[held].sum()) + entries
        size = len(self.rows[s]) if self.ROOM * needed <= len(self.rows[s]) else 2 * self.ROOM * needed
        rows, values, at = np.empty(size, np.int64), np.empty((size, self.values[s].shape[1])), 0
        for a, start, length in zip(held.tolist(), self.start[held].tolist(), self.length[held].tolist()):
            rows[at:at + length], values[at:at + length] = self.rows[s][start:start + length], \
                self.values[s][start:start + length]
            self.start[a], at = at, at + length
        self.rows[s], self.values[s], self.used[s] = rows, values, at

    def goods(self, a: int) -> Shipment:
        """The goods of application ``a``: a shipment of its one route, whose arrays are views of the pool's."""
        s, run = self.s[a], self._run(a)
        return Shipment(STAGES[s], self.importer[a:a + 1], self.exporter[a:a + 1], self.values[s][None, run],
                        self.rows[s][None, run], self.q[s])

    def taken_from(self) -> Iterator[Shipment]:
        """The goods of the applications held, in the order made, each a shipment of one route: what the caller
        takes out of one (``Shipment.take``) leaves the goods awaiting; the rest stays."""
        for a in np.flatnonzero(self.held[:self.n]).tolist():
            shipment = self.goods(a)
            yield shipment
            self.values[self.s[a]][self._run(a)] = shipment.goods[0]

    def __iter__(self) -> Iterator[Shipment]:
        return (self.goods(a) for a in np.flatnonzero(self.held[:self.n]).tolist())


def traded_mass(stage: str, tagged: np.ndarray) -> np.ndarray:
    """Mass in the stage's traded items: concentrate is one item, t REO of all elements."""
    mass = tagged[..., 0, :]
    return mass.sum(axis=-1, keepdims=True) if stage == MINE else mass
