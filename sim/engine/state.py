"""The state of a run: what every country holds, has on order and at sea, uses, buys from whom, and what the
market remembers. The parts of the weekly step read and change it; the simulation owns it.

Tagged mass (``[..., Q, X]``, see ``sim.world.provenance``) carries provenance: row 0 is the mass (t REO
for concentrate and oxides, t magnet for magnets), the other rows split it by country of mining,
separation and magnet making. Per-stage quantities are dicts keyed by stage (``sim.stages``), with an
item axis: concentrate is one item, oxides one per element, magnets one per grade.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..kernels import end_use as end_use_kernels
from ..kernels.exports import compact, land_due, put_to_sea
from ..kernels.sums import first_row_sum
from ..kernels.tagged import compacted, live_rows, spread
from ..scenario import Scenario
from ..stages import MAGNET, MINE, REFINERY, STAGES
from ..world import Network


class Stocks:
    """Tagged stocks of one stage's product in every country, ``tagged`` [C, Q, X], with each country's rows
    that may hold anything, ``rows`` [C, Q] and ``count`` [C] (``sim.kernels.tagged``): the kernels visit
    those only, and count the rows they add mass to. Stocks set whole are looked over anew."""

    __slots__ = ("_tagged", "rows", "count")

    def __init__(self, tagged: np.ndarray):
        self.tagged = tagged

    @property
    def tagged(self) -> np.ndarray:
        """[C, Q, X] tagged mass."""
        return self._tagged

    @tagged.setter
    def tagged(self, value: np.ndarray) -> None:
        self._tagged = value
        self.rows, self.count = live_rows(value)

    @property
    def mass(self) -> np.ndarray:
        """[C, X] t REO (or t magnet) by item."""
        return self._tagged[:, 0, :]


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
    the stage's shipment at sea: its ``t``, and its routes and ``tagged`` goods gathered."""

    ROOM = 4      # a hold made room in is at most a quarter full (``make_room``)

    def __init__(self, stage: str, shape: tuple[int, int], records: int = 64):
        self.stage = stage
        self.shape = shape                                   # [Q, X] of a route's tagged goods
        self.routes = np.full((records, 5), -1, np.int64)    # buyer, supplier, voyage, entries' start and end
        self.arrives = np.full(records, np.inf)              # days
        self.mass = np.zeros(records)                        # t, 0 once landed
        self.rows = np.zeros(records * 8, np.int64)          # an entry's provenance row
        self.values = np.zeros((records * 8, shape[1]))      # its tagged mass
        self.n = 0                                           # records used, landed or not
        self.due = np.inf                                    # the day the next goods arrive
        self.index = STAGES.index(stage)                     # the stage's place in the books
        self.landed = np.zeros(shape[1])                     # [X] the mass of the goods landed last

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
        if self.ROOM * (self.entries + entries) > len(self.rows):
            size, used = 2 * self.ROOM * (self.entries + entries), self.entries
            self.rows, self.values = larger(self.rows, used, size), larger(self.values, used, size)

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
        for r, record in enumerate(records):
            entries = slice(*self.routes[record, 3:5])
            goods[r, self.rows[entries]] = self.values[entries]
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
        self.holds = {stage: Hold(stage, shape) for stage, shape in shapes.items()}
        self.lead_days = lead_days         # [exporter, importer] days
        self.sailed = 0                    # voyages put to sea so far
        self.due = np.inf                  # the day the next goods arrive, in any hold

    def sail(self, shipment: Shipment, now: float) -> None:
        """Put a shipment to sea on day ``now``, as the next voyage, into its stage's hold; each route arrives after
        its lead time."""
        hold, buyer, (rows, goods) = self.holds[shipment.stage], shipment.buyer, shipment.held_rows()
        while math.isnan(due := put_to_sea(self.lead_days, now, self.sailed, buyer, shipment.supplier, rows, goods,
                                           hold.routes, hold.arrives, hold.mass, hold.n, hold.rows,
                                           hold.values)):                   # full: room made, again
            hold.make_room(len(buyer), rows.size)
        hold.n += len(buyer)
        if due < hold.due:
            hold.due = due
        if due < self.due:
            self.due = due
        self.sailed += 1

    def land(self, stocks: dict[str, Stocks], pipeline: dict[str, np.ndarray], now: float, sailed: int,
             books: Books | None = None) -> None:
        """Land what arrives before day ``now``, or on it by a voyage before number ``sailed``: into the buyers'
        stocks, off their order books, and with ``books`` given out of transit, in one compiled call a hold. Each
        hold that landed goods has their mass in ``landed`` [X] (t REO by element, t magnet by grade)."""
        terms, transit_t, content = UNBOOKED if books is None else books
        due = math.inf
        for stage, hold in self.holds.items():
            if hold.due <= now:
                stock = stocks[stage]
                hold.due = land_due(stock.tagged, stock.rows, stock.count, pipeline[stage], hold.routes,
                                    hold.arrives, hold.mass, hold.n, hold.rows, hold.values, now, sailed, hold.landed,
                                    books is not None, terms, transit_t, hold.index, content[stage])
            if hold.due < due:
                due = hold.due
        self.due = due

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

    def hold(self, measure: int, end_user: int, s: int, exporter: np.ndarray, importer: np.ndarray,
             rows: np.ndarray, goods: np.ndarray, t: np.ndarray | None = None) -> range:
        """Make applications of stage ``s`` for ``measure``'s ``end_user``, one a route (``exporter``, ``importer``
        [n]) whose goods are ``goods`` [n, L, X] at ``rows`` [n, L], their ``t`` [n] (or taken from the goods),
        and hold them: returns their numbers."""
        n, length = rows.shape
        if self.used[s] + n * length > len(self.rows[s]):
            self._make_room(s, n * length)
        if self.n + n > len(self.t):
            self._more_rows(self.n + n)
        start, first = self.used[s], self.n
        self.used[s], self.n = end, last = start + n * length, first + n
        self.rows[s][start:end] = rows.reshape(-1)
        self.values[s][start:end] = goods.reshape(n * length, goods.shape[2])
        made = slice(first, last)              # slices, not an index: a tenth of the cost on a few rows
        self.measure[made], self.end_user[made], self.s[made] = measure, end_user, s
        self.exporter[made], self.importer[made] = exporter, importer
        self.start[made], self.length[made], self.held[made] = range(start, end, length), length, True
        if t is None:
            self.restate(range(first, last))
        else:
            self.t[made] = t
        return range(first, last)

    def restate(self, applications: Iterable[int]) -> None:
        """Take the applications' ``t`` anew from their goods (a ban stopped some of them while they waited)."""
        for a in applications:
            goods = self.values[self.s[a]][None, self.start[a]:self.start[a] + self.length[a]]
            self.t[a] = first_row_sum(traded_mass(STAGES[self.s[a]], goods))

    def route(self, a: int) -> tuple[str, int, int]:
        """(stage, exporter, importer) of application ``a``."""
        return STAGES[self.s[a]], int(self.exporter[a]), int(self.importer[a])

    def routes(self, applications: Iterable[int] | np.ndarray) -> list[tuple[str, int, int]]:
        """(stage, exporter, importer) of each of ``applications``."""
        applications = np.asarray(applications, np.int64)
        return [(STAGES[s], e, i) for s, e, i in zip(self.s[applications].tolist(),
                                                   self.exporter[applications].tolist(),
                                                   self.importer[applications].tolist())]

    def _more_rows(self, rows: int) -> None:
        for name in ("measure", "end_user", "s", "exporter", "importer", "start", "length", "t", "held"):
            column = getattr(self, name)
            grown = np.zeros(max(rows, 2 * len(column)), column.dtype)
            grown[:self.n] = column[:self.n]
            setattr(self, name, grown)

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
        s, run = self.s[a], slice(self.start[a], self.start[a] + self.length[a])
        return Shipment(STAGES[s], self.importer[a:a + 1], self.exporter[a:a + 1], self.values[s][None, run],
                        self.rows[s][None, run], self.q[s])

    def taken_from(self) -> Iterator[Shipment]:
        """The goods of the applications held, in the order made, each a shipment of one route: what the caller
        takes out of one (``Shipment.take``) leaves the goods awaiting; the rest stays."""
        for a in np.flatnonzero(self.held[:self.n]).tolist():
            shipment = self.goods(a)
            yield shipment
            self.values[self.s[a]][self.start[a]:self.start[a] + self.length[a]] = shipment.goods[0]

    def __iter__(self) -> Iterator[Shipment]:
        return (self.goods(a) for a in np.flatnonzero(self.held[:self.n]).tolist())


@dataclass
class State:
    """Everything a run carries from one step to the next (see the module docstring for units)."""

    k: int                                   # the step under way; negative in the spin-up
    stocks: dict[str, Stocks]                # working stocks of concentrate, oxides and magnets
    pile: Stocks                             # strategic stockpiles of oxides
    pipeline: dict[str, np.ndarray]          # [C, I] shipped, not yet arrived (at sea or at a licence office)
    refused: dict[str, np.ndarray]           # [C, I] refused or cut last step: re-sourced this step
    use_own: dict[str, np.ndarray]           # [C, I] t/day each country uses itself (4-week average)
    use_all: dict[str, np.ndarray]           # [C, I] t/day it uses and sells on (4-week average): the basis of orders
    use_normal: dict[str, np.ndarray]        # [C, I] the same over a year: the basis of contracts
    order_shares: dict[str, np.ndarray]      # [B, J, I] where each buyer orders each item
    learnt: dict[str, np.ndarray]            # [B, J, I] deliveries over the spin-up's last quarter
    qualified: dict[str, np.ndarray]         # [B, J, I] bool: suppliers a buyer may re-source each item from
    qualifying: dict[str, np.ndarray]        # [B, G] bool: buyers that started qualifying a switching group
    # [C, I] how short each buyer went of each item, remembered: the largest unmet share of what it sought, fading
    # with after_shortage's memory_days; it raises the buyer's target cover and stretches its contracts. Stays
    # 0 without after_shortage, and in the spin-up, whose settling is no shortage anyone remembers
    shortage: dict[str, np.ndarray]
    running: dict[str, np.ndarray]           # [F] 1 while a plant runs, 0 while it idles below its price
    idle_days: dict[str, np.ndarray]         # [F] how long it has stood idle
    defence_share: dict[str, np.ndarray]     # [C, I] defence end users' share of each country's use
    sector_grades: np.ndarray                # [C, S, G] grade mix, moved by substitution
    substituted: np.ndarray                  # [events] share moved so far by each substitution event
    price_high_days: np.ndarray              # [events] days its element's price has stayed above the threshold
    price: np.ndarray                        # [M, E] USD/kg in each market (see sim.world.markets)
    scarcity: np.ndarray                     # [M, E] smoothed unmet share of the market's oxide orders
    surplus: np.ndarray                      # [M, E] smoothed share of the market's oxides nobody bought
    magnet_scarcity: np.ndarray              # [M, G] smoothed unmet share of the market's end-use magnet orders
    demand_multiplier: np.ndarray            # [C, S] end-use demand's answer to prices
    other_use_multiplier: np.ndarray         # [C, E] oxide use outside magnets: its answer to prices
    lasting_demand: np.ndarray | None = None  # [C, S] the part of end-use demand's answer that builds over years
    lasting_other_use: np.ndarray | None = None  # [C, E] the same for other uses (prices.long_run)
    recent_price: np.ndarray | None = None   # [M, E] exponential average of each market's prices (on_price_rise)
    log_multiple: np.ndarray | None = None   # [M, E] log of each price over its initial (adjustment_per_year)
    opening_cover: np.ndarray | None = None  # [M, E] days of cover at the calendar's start: the stock term's basis
    opening_surplus: np.ndarray | None = None
    opening_scarcity: np.ndarray | None = None  # [M, E] scarcity at the calendar's start: orders some supplier
                                                # cannot fill in a world at rest are not news
    # prices.expectations' memory (all None without it): [2, E] t/day of each element the mines (row 0, by ore
    # composition) and refineries (row 1, by recovery) can make at the calendar's start, and [E] the lost share
    # of it as last seen and as still expected (the news of a loss fades); [M, E] the share of each market's
    # orders announced measures are expected to leave unmet (fading once they start)
    capacity_base: np.ndarray | None = None
    capacity_lost: np.ndarray | None = None
    expected_loss: np.ndarray | None = None
    expected_cover: np.ndarray | None = None
    in_flight: AtSea | None = None                  # at sea, by voyage and arrival
    # the routes of order_shares by stage (``trade.order_routes``), dropped when the shares change
    order_routes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    awaiting: Awaiting | None = None                # awaiting a licence
    conc: Stocks = field(init=False)                # stocks[MINE], stocks[REFINERY], stocks[MAGNET] by name
    oxide: Stocks = field(init=False)
    magnet: Stocks = field(init=False)

    def __post_init__(self) -> None:
        self.conc, self.oxide, self.magnet = self.stocks[MINE], self.stocks[REFINERY], self.stocks[MAGNET]


def traded_mass(stage: str, tagged: np.ndarray) -> np.ndarray:
    """Mass in the stage's traded items: concentrate is one item, t REO of all elements."""
    mass = tagged[..., 0, :]
    return mass.sum(axis=-1, keepdims=True) if stage == MINE else mass


def magnet_demand(net: Network, sector_grades: np.ndarray, day: int, multiplier: np.ndarray,
                  step_days: float) -> tuple[np.ndarray, np.ndarray]:
    """End-use demand this step: t magnet by country and sector [C, S], and rare-earth magnets by country and
    grade [C, G] (demand substituted to ferrite needs none)."""
    by_sector = end_use_kernels.demand_by_sector(net.demand_units_per_day[day], net.magnet_kg_per_unit,
                                                 float(step_days), multiplier)
    return by_sector, magnets_by_grade(by_sector, sector_grades)


def magnets_by_grade(by_sector: np.ndarray, sector_grades: np.ndarray) -> np.ndarray:
    """[C, G] t magnet by grade of ``by_sector`` [C, S] t magnet split by ``sector_grades`` [C, S, G], as
    ``np.einsum("cs,csg->cg", ...)`` gives it: compiled for more than one grade, where einsum adds sector by
    sector; NumPy's for one, where einsum adds the sectors as a dot product, in an order of its own."""
    if sector_grades.shape[2] > 1:
        return end_use_kernels.magnets_by_grade(by_sector, sector_grades)
    return np.einsum("cs,csg->cg", by_sector, sector_grades)


def initial_state(net: Network, world: Scenario, start_k: int) -> State:
    """Stocks at target and expected use from a static plan of the start date, before the spin-up.

    Each country's use of a stage's product plus what others buy from it solves T = own + A^T T over the
    supplier shares A; stocks hold the working stock days of that use, tagged as made at home."""
    tags, C = net.tags, net.n_countries
    step_days = float(net.step_days)
    items = {s: net.items(s) for s in STAGES}
    identity = np.eye(C)
    sector_grades = np.repeat(net.sector_grades[None], C, axis=0)

    def throughput(stage: str, own: np.ndarray) -> np.ndarray:
        return np.linalg.solve(identity - net.offshore_shares[stage].T, own)

    magnets = magnet_demand(net, sector_grades, 0, np.ones((C, len(net.sectors))), step_days)[1] / step_days
    mag_all = throughput(MAGNET, magnets)
    made = np.diag(net.supplier_shares[MAGNET])[:, None] * mag_all
    oxide = (made / net.country_yield[:, None]) @ net.recipe + net.non_magnet_t_per_day[0]
    ox_all = throughput(REFINERY, oxide)
    feed = (net.members[REFINERY] @ net.refineries.rate_t_per_day[0])[:, None]
    conc_all = throughput(MINE, feed)
    mined = net.mines.rate_t_per_day[0] @ net.composition
    mix = mined / mined.sum() if mined.sum() > 0 else np.full(len(net.elements), 1 / len(net.elements))

    use_all = {MINE: conc_all, REFINERY: ox_all, MAGNET: mag_all}
    days = net.target_days
    conc = tags.originate(conc_all * days[MINE][:, None] * mix[None, :], "mined")
    oxides = tags.stamp(tags.originate(ox_all * days[REFINERY][:, None], "mined"), "refined")
    made_stock = tags.originate(mag_all * days[MAGNET][:, None], "mined")
    tags.stamp(made_stock, "refined")
    offshore = {s: np.repeat(net.offshore_shares[s][:, :, None], items[s], axis=2) for s in STAGES}
    stocks = {MINE: Stocks(conc), REFINERY: Stocks(oxides), MAGNET: Stocks(tags.stamp(made_stock, "made"))}
    return State(
        k=start_k,
        stocks=stocks,
        pile=Stocks(tags.new(C, len(net.elements))),
        pipeline={s: np.zeros((C, items[s])) for s in STAGES},
        refused={s: np.zeros((C, items[s])) for s in STAGES},
        use_own={MINE: feed.copy(), REFINERY: oxide.copy(), MAGNET: magnets.copy()},
        use_all=use_all,
        use_normal={s: v.copy() for s, v in use_all.items()},
        order_shares=offshore,        # learnt from the spin-up's deliveries at the calendar's start
        learnt={s: np.zeros((C, C, items[s])) for s in STAGES},
        # in the spin-up every supplier counts as qualified, so relationships settle on who can deliver
        qualified={s: np.ones((C, C, items[s]), dtype=bool) for s in STAGES},
        qualifying={s: np.zeros((C, len(net.switching_groups[s])), dtype=bool) for s in STAGES},
        shortage={s: np.zeros((C, items[s])) for s in STAGES},
        running={s: np.ones(len(net.facilities(s).ids)) for s in STAGES},
        idle_days={s: np.zeros(len(net.facilities(s).ids)) for s in STAGES},
        defence_share={s: np.zeros((C, items[s])) for s in STAGES},
        sector_grades=sector_grades,
        substituted=np.zeros(len(world.events)),
        price_high_days=np.zeros(len(world.events)),
        price=np.tile(net.initial_price, (len(net.markets), 1)),
        scarcity=np.zeros((len(net.markets), len(net.elements))),
        surplus=np.zeros((len(net.markets), len(net.elements))),
        magnet_scarcity=np.zeros((len(net.markets), len(net.grades))),
        demand_multiplier=np.ones((C, len(net.sectors))),
        other_use_multiplier=np.ones((C, len(net.elements))),
        in_flight=AtSea({s: held.tagged.shape[1:] for s, held in stocks.items()}, net.lead_days),
        awaiting=Awaiting({s: held.tagged.shape[1:] for s, held in stocks.items()}),
    )
