"""Where every flow is booked, once: the accounts (the terms of the mass balance) and the recorder (the
facts the tables are made of). The mass balance is one function of the booked accounts and the stocks.
"""
from __future__ import annotations

import numpy as np

from ..errors import InvariantError
from ..kernels.balance import TERMS, add_content, check_books, held_content, residual
from ..kernels.booking import book_end_use, book_magnet_making, book_separation, book_term
from ..kernels.exports import APPROVED, REFUSED
from ..kernels.tagged import uncounted
from ..results.recorder import LICENCE_OUTCOMES, Recorder
from ..results.sparse import POSITION
from ..stages import MAGNET, MINE, REFINERY, STAGES
from ..world import Network
from .flows import Flows
from .state import State
from .transit import Awaiting, Books

BALANCE_TOLERANCE = 1e-9      # relative, per element
# a licence decision's outcome (its code in ``settle_decisions``) as the recorder keeps it, its LICENCE_OUTCOMES index
RECORDED_AS = np.zeros(max(APPROVED, REFUSED) + 1, np.int64)
RECORDED_AS[APPROVED], RECORDED_AS[REFUSED] = LICENCE_OUTCOMES.index("approved"), LICENCE_OUTCOMES.index("refused")
# a trading part's exports when nothing left or nothing went to sea at once: what its booking kernel reads as none
NO_GOODS = np.zeros((0, 1, 1))
NO_ROOM = (np.zeros(0, POSITION), np.zeros(0, POSITION), np.zeros((0, 1)), np.zeros(2, np.int64))  # nothing recorded
NOT_SENT = (False, np.zeros(0, np.int64), np.zeros(0, np.int64), NO_GOODS, 0, False, NO_ROOM)


class Accounts:
    """Cumulative element flows since the calendar's start, t REO by element: the mass balance terms, rows of
    one array ``terms`` [TERMS, E] (``sim.kernels.balance``) that the balance is checked on in one call."""

    def __init__(self, opening: np.ndarray, in_transit: np.ndarray):
        self.terms = np.zeros((len(TERMS), len(opening)))
        (self.opening, self.mined,
         self.recycled,              # oxides recovered from end-of-life magnets
         self.consumed,              # in end-use magnets and other (non-magnet) uses
         self.sunk,                  # oxides nobody needed, to the "other uses" sink
         self.losses,                # separation tailings and magnet-making swarf
         self.in_transit,            # at sea or awaiting a licence (a level, not cumulative)
         ) = self.terms              # views of its rows
        self.opening[:] = opening
        self.in_transit[:] = in_transit


class Ledger:
    """Books flows into the accounts (from the calendar's start) and the recorder (calendar steps only)."""

    def __init__(self, net: Network, recorder: Recorder):
        self.net = net
        self.recorder = recorder
        self.accounts: Accounts | None = None
        # [3] at sea or awaiting a licence, by stage in its traded unit (t REO, t magnet): a level, booked as
        # goods leave, return and land, as the accounts' in_transit is
        self.transit_t = np.zeros(len(STAGES))
        self.content = item_content(net)
        self.stage_index = {stage: i for i, stage in enumerate(STAGES)}

    def open(self, state: State) -> None:
        """Open the accounts at the calendar's start: what is held and on its way is the opening balance."""
        in_transit = transit_elements(state, self.net)
        self.accounts = Accounts(opening=stock_elements(state, self.net) + in_transit, in_transit=in_transit)
        self.transit_t = transit_by_stage(state)
        self.recorder.opening(held_by_stage(state, self.net))
        self.recorder.opening_stockpiles(state.pile.mass, state.use_own[REFINERY])

    def books(self) -> Books | None:
        """Where goods that arrive or go back to their exporters are booked out of transit (their move into
        stock changes no other term): in the same compiled call as they are added to stocks (``AtSea.land``,
        ``shipping.return_to_exporter``), the most frequent flows of a run. None before the accounts open:
        what lands or goes back in the spin-up is not booked."""
        a = self.accounts
        return None if a is None else Books(a.terms, self.transit_t, self.content)

    def book(self, k: int, f: Flows) -> None:
        """Book one part's flows in step ``k``: the balance's terms (from the calendar's start), then the facts
        (the spin-up before it books nothing). A part's flows are of one kind (``Flows``); each part of the step
        books its terms and records in one compiled call (``sim.kernels.booking``)."""
        a, r = self.accounts, self.recorder
        if a is None:
            return
        oxides = self.content[REFINERY]
        if f.price is None and f.turned_back is None and not r.keeps(k):   # the kernels write step k unchecked
            raise InvariantError(f"a part of step {k} booked outside the calendar's {r.n} steps")
        if f.demand is not None:
            used = f.magnets_used
            book_end_use(a.terms, self.net.recipe, k, f.demand, f.supplied, used.mass, r.block, used.at, used.values,
                         *r.end_use_records(len(used.at)), *self._exports(f))
        elif f.made_tagged is not None:
            made, used = f.made_tagged, f.oxides_used
            book_magnet_making(a.terms, self.net.recipe, oxides, k, f.other_uses, f.oxides_into_magnets,
                               f.magnets_made, f.magnets_planned, r.block, made.at, made.values, used.at, used.values,
                               *r.making_records(len(made.at), len(used.at)), *self._exports(f))
            if f.magnets_short_of is not None:
                r.short_of[k] = f.magnets_short_of
        elif f.feed is not None:
            feed = f.feed
            book_separation(a.terms, oxides, k, feed.mass, f.separated.mass, r.block, feed.at, feed.values,
                            *r.separation_records(len(feed.at)), *self._exports(f))
        elif f.mined is not None:
            book_term(a.mined, r.mined, k, f.mined, oxides)
        elif f.recycled is not None:
            book_term(a.recycled, r.recycled, k, f.recycled, oxides)
        elif f.sunk is not None:
            book_term(a.sunk, r.sunk, k, f.sunk.mass, oxides)
        elif f.price is not None:
            r.prices(k, f.price, f.price_multiple, f.magnet_price, f.magnet_price_multiple)
        elif f.turned_back is not None:
            shipment, mass, outcome = f.turned_back
            r.turned_back(k, shipment.stage, shipment.buyer, shipment.supplier, mass, outcome)

    def _exports(self, f: Flows) -> tuple[tuple, tuple]:
        """A trading part's exports as its booking kernel takes them (``sim.kernels.booking``): what left the
        suppliers' stocks, into transit, and what went to sea at once, recorded by route."""
        stage, exports = f.stage, f.exports
        index, content = self.stage_index[stage], self.content[stage]
        if exports is None:
            return (False, index, NO_GOODS, content, self.transit_t), NOT_SENT
        transit = (True, index, exports.leaving, content, self.transit_t)
        sent = exports.sent
        if sent is None:
            return transit, NOT_SENT
        room, suppliers = self.recorder.departures(stage, len(sent.buyer))
        return transit, (True, sent.buyer, sent.supplier, sent.goods, suppliers, stage == MINE, room)

    def departures_of(self, k: int, sailing: list[int]) -> tuple:
        """Where licence decisions in step ``k`` record the goods they put to sea (``shipping.settle``), at most
        ``sailing`` routes of each stage: (whether they are recorded, k, suppliers, each stage's room in its record
        of exports). Nothing is recorded before the accounts open, nor after the calendar's last step."""
        keep = self.accounts is not None and self.recorder.keeps(k)
        rooms = tuple(self.recorder.departures(stage, m)[0] if keep and m else NO_ROOM
                      for stage, m in zip(STAGES, sailing))
        return keep, k, self.net.n_countries, rooms

    def applied(self, k: int, desk: Awaiting, applications: list[int]) -> None:
        """Record the licence applications made in step ``k`` (their numbers at the ``desk``), in the order made."""
        if self.accounts is None:
            return
        made = np.asarray(applications, np.int64)
        self.recorder.licence_outcomes(k, desk.s[made], desk.exporter[made], desk.importer[made], desk.t[made],
                                       "applied")

    def decided(self, k: int, desk: Awaiting, applications: np.ndarray, outcome: np.ndarray, t: np.ndarray) -> None:
        """Book licence decisions made in step ``k`` on ``applications`` [n] (their numbers at the ``desk``;
        ``shipping.settle``: each one's ``outcome`` and ``t`` [n, 2], of the share refused outright and of the
        rest; the goods approved were recorded as they went to sea). A run decides tens of thousands, so
        decisions have their own door rather than a Flows."""
        if self.accounts is None:
            return
        made = outcome.ravel()              # each decision's share refused outright, then its rest: in order
        parts = np.flatnonzero(made)
        decided = applications[parts >> 1]
        self.recorder.licence_outcomes(k, desk.s[decided], desk.exporter[decided], desk.importer[decided],
                                       t.ravel()[parts], RECORDED_AS[made[parts]])

    def waiting(self, k: int, desk: Awaiting, applications: list[int]) -> None:
        """Record the applications waiting in licence offices' queues at the end of step ``k`` (their numbers at
        the ``desk``), by route."""
        if not applications:           # most steps of most runs: no office holds anything
            return
        queue: dict[tuple[str, int, int], list] = {}
        for key, t in zip(desk.routes(applications), desk.t[list(applications)].tolist()):
            if t <= 0.0:          # its goods were stopped: nothing waits for a decision
                continue
            route = queue.setdefault(key, [0, 0.0])
            route[0] += 1
            route[1] += t
        for (stage, exporter, importer), (n, t) in queue.items():
            self.recorder.licence_waiting(k, stage, exporter, importer, n, t)

    def close_step(self, k: int, state: State) -> None:
        """The end of calendar step ``k``: record the stocks held, each country's own use (for days of cover)
        and what is in transit, then check the mass balance and the stocks."""
        self.recorder.levels(k, state.conc.tagged, state.oxide.tagged, state.magnet.tagged, state.pile.tagged,
                             state.use_own, self.transit_t)
        self.check(state, k)

    # ------------------------------------------------------------ the balance
    def balance(self, state: State) -> dict[str, np.ndarray]:
        """Mass balance by element, t REO: opening + mined + recycled = stocks + in transit + consumed + sunk
        + losses; ``residual`` is what does not add up."""
        a = self.accounts
        stocks = stock_elements(state, self.net)
        return {"opening": a.opening.copy(), "mined": a.mined.copy(), "recycled": a.recycled.copy(), "stocks": stocks,
                "in_transit": a.in_transit.copy(), "consumed": a.consumed.copy(), "sunk": a.sunk.copy(),
                "losses": a.losses.copy(), "residual": residual(a.terms, stocks)}

    def check_counted(self, state: State) -> None:
        """At the end of a run, raise InvariantError if a provenance row of a stock holds mass (or less than
        nothing) that the stock does not count among its rows: the step's kernels visit the counted rows only
        (``sim.kernels.tagged``), so such mass would have been passed over, and its stock's balance and sign
        checked without it. One pass over every row, once a run."""
        for stage, stocks in [*state.stocks.items(), ("stockpile", state.pile)]:
            c, q = uncounted(stocks.tagged, stocks.rows, stocks.count)
            if c >= 0:
                raise InvariantError(f"{stage} stock in {self.net.countries[c]} holds mass in provenance row {q} "
                                     f"that it does not count among its rows at the end of the run")

    def check(self, state: State, k: int) -> None:
        """Raise InvariantError when a stock is below zero (naming the stock, the country and the item: draws
        take at most what is there, so not even rounding may make a stock negative), or when mass is created or
        lost (naming the element, the step and the terms). One pass over the books; words only for what fails,
        a negative stock first: it says more precisely where the books went wrong."""
        conc, oxide, magnet, pile = state.conc, state.oxide, state.magnet, state.pile
        broken, negative = check_books(self.accounts.terms, conc.tagged, oxide.tagged, magnet.tagged, pile.tagged,
                                       self.net.recipe, BALANCE_TOLERANCE,
                                       (conc.rows, oxide.rows, magnet.rows, pile.rows),
                                       (conc.count, oxide.count, magnet.count, pile.count))
        if negative >= 0:
            stage, stocks = [*state.stocks.items(), ("stockpile", state.pile)][negative]
            c, q, x = np.unravel_index(stocks.tagged.argmin(), stocks.tagged.shape)
            item = self.net.item_names(stage)[x] if stage in STAGES else self.net.elements[x]
            raise InvariantError(f"{stage} stock of {item} in {self.net.countries[c]} is "
                                 f"{stocks.tagged[c, q, x]:.3g} at step {k} ({self.net.dates[k]})"
                                 f"{'' if q == 0 else f' in provenance row {q}'}; a stock cannot be negative")
        if broken >= 0:
            b = self.balance(state)
            terms = ", ".join(f"{name} {values[broken]:.6g}" for name, values in b.items())
            raise InvariantError(f"mass balance broken for {self.net.elements[broken]} at step {k} "
                                 f"({self.net.dates[k]}): {terms} t REO")


def stock_elements(state: State, net: Network) -> np.ndarray:
    """[E] t REO held in every stock, stockpiles included (magnets: their recipe content)."""
    return held_content(state.conc.tagged, state.oxide.tagged, state.magnet.tagged, state.pile.tagged, net.recipe)


def transit_elements(state: State, net: Network) -> np.ndarray:
    """[E] t REO at sea or awaiting a licence."""
    total, content = np.zeros(len(net.elements)), item_content(net)
    for shipment in [*state.in_flight, *state.awaiting]:
        add_content(total, shipment.tagged[:, 0, :], content[shipment.stage], 1.0)
    return total


def item_content(net: Network) -> dict[str, np.ndarray]:
    """Stage -> [X, E] t REO of each element in a unit of each of its items: a magnet grade's recipe, one
    element for concentrate (by element) and oxides."""
    identity = np.eye(len(net.elements))
    return {stage: net.recipe if stage == MAGNET else identity for stage in STAGES}


def transit_by_stage(state: State) -> np.ndarray:
    """[3] at sea or awaiting a licence, by stage in its traded unit: t REO of concentrate and of oxides,
    t magnet."""
    total = np.zeros(len(STAGES))
    for shipment in [*state.in_flight, *state.awaiting]:
        total[STAGES.index(shipment.stage)] += shipment.t
    return total


def held_by_stage(state: State, net: Network) -> np.ndarray:
    """[3] held in stock (oxides: with strategic stockpiles), at sea or awaiting a licence, by stage: t REO
    of concentrate and of oxides, t magnet."""
    return np.array([state.conc.mass.sum(), state.oxide.mass.sum() + state.pile.mass.sum(),
                     state.magnet.mass.sum()]) + transit_by_stage(state)
