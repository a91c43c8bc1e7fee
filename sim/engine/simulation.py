"""The simulation: a SimPy clock over the world's state, one weekly step at a time.

``Simulation(scenario, seed).run()`` returns ``Results``. Each model step
(``calendar.step_days``, a week by default) works downstream, so that what a
stage asks of the stage above is known before that stage is cleared:

1. end use (``end_use``): end uses draw on their country's magnet stock;
   importers order magnets; each country's plants plan what imports will not
   cover;
2. magnet making (``magnet_making``): recycled oxide joins the stock; magnet
   plants (by grade recipe), other uses and stockpiles draw on the oxide
   stock; importers order oxides; plants make what the scarcest element
   allows;
3. separation (``separation``): plants draw their feed of concentrate;
   importers order concentrate; plants separate it into oxides;
4. mining (``mining``) adds concentrate; strategic stockpiles release
   (``stockpiles``); oxides nobody needs go to the "other uses" sink
   (``surplus``); prices follow scarcity and plants idle below their price
   (``prices``); sectors substitute (``substitution``).

Each part is a function of the state returning what it moved (``Flows``);
the simulation books those once, into the accounts and the recorder
(``ledger``), and puts what was shipped on its way (``processes``). What
one part leaves the next is passed on as a value (the magnet plan, the oxide
market's claims, what was sunk); what the state keeps across parts within a
step is its stocks, the countries' own use (made by each part, read by the
stockpiles and the price) and the defence share of use (set by end use when
a measure covers civil or defence users only, read by every coverage). What a
stage makes in a step is available to the stage below from the next step.
Shipments travel for their route's lead time and are usable from the first
step after they arrive. Before the calendar starts the world runs a spin-up
year at its start-date conditions, so that stocks, shipments at sea and
provenance begin in steady state; accounts open at the calendar's start with
the stocks then held. Trade's rules are stated in ``trade``, the market's in
``market``, the measures' in ``measures``.
"""
from __future__ import annotations

import datetime as dt
import gc
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np
import simpy

from ..kernels import ctrl_c_pending, ctrl_c_stays_ctrl_c
from ..results.recorder import Recorder
from ..results.tables import Results
from ..scenario import Scenario, realise
from ..world import KINDS, build_network
from . import processes, shipping, stockpiles
from .end_use import end_use
from .expectations import covered_orders
from .flows import Flows
from .ledger import Ledger
from .licensing import Reviews, decide, odds_table
from .magnet_making import make_magnets, recycle
from .measures import ExportMeasure, acting, build_measures, provenance_read
from .mining import mine
from .prices import update_prices
from .separation import separate
from .state import initial_state
from .substitution import substitute
from .surplus import sink_surplus
from .trade import settle_relationships, sign_offtake
from .transit import Shipment, traded_mass

SPIN_UP_DAYS = 364


def as_date(value: object, what: str) -> dt.date | None:
    """A date given to the API as a ``datetime.date`` or an ISO string (``"2026-06-30"``); None stays None.
    Anything else is a TypeError, a string that is not a date a ValueError, each naming ``what``."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{what}={value!r} is not a date: write it YYYY-MM-DD, e.g. '2026-06-30'") from None
    raise TypeError(f"{what} must be a datetime.date or a 'YYYY-MM-DD' string, got {type(value).__name__} {value!r}")


@contextmanager
def collector_paused() -> Iterator[None]:
    """CPython's cycle collector off for a block that makes many objects and keeps most (a run, and writing
    its results).

    Once the engine (Numba's compiler), pandas and matplotlib are loaded, each full collection walks
    millions of objects: a run whose licences make tens of thousands of applications (suspension_expiry) spent
    a tenth of its time in them, a Japan ban a few per cent, and writing a run's results a fifth of a second
    (peak memory the same without)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def kept_provenance(asked: Iterable[str], world: Scenario) -> tuple[str, ...]:
    """The kinds of provenance a run of the drawn ``world`` writes when ``asked`` for some: those, touched, and
    what its measures read, so that its flows, stocks and prices are those of a run that writes every kind."""
    asked = (asked,) if isinstance(asked, str) else tuple(asked)
    unknown = sorted(set(asked) - set(KINDS))
    if unknown:
        raise ValueError(f"provenance: {', '.join(map(repr, unknown))} is not a kind of provenance; the kinds are "
                         f"{', '.join(KINDS)}")
    return tuple(k for k in KINDS if k in {*asked, "touched", *provenance_read(world)})


class Simulation:
    """One replication of a scenario: ``Simulation(scenario, seed=0).run() -> Results``; ``replication=r``
    gives replication r of an ensemble of that seed (its own independent random streams). ``provenance``: the
    kinds of provenance to write (``sim.world.provenance.KINDS``; None, every kind). The run also writes touched
    and what its origin rules read, so its flows, stocks and prices are the same to the bit; only the tables
    that read the kinds left out cannot be made (an ensemble's replications keep what their outputs read)."""

    def __init__(self, scenario: Scenario, seed: int | None = None, end: dt.date | str | None = None,
                 replication: int | None = None, provenance: tuple[str, ...] | None = None):
        self.seed = scenario.run.seed if seed is None else int(seed)
        end = as_date(end, "end")
        self.replication = replication
        # replication r of an ensemble draws from SeedSequence(seed).spawn(n)[r], however many there are
        stream = np.random.SeedSequence(self.seed) if replication is None else \
            np.random.SeedSequence(self.seed, spawn_key=(int(replication),))
        world_seq, licence_seq = stream.spawn(2)
        self.scenario = scenario
        self.world = realise(scenario, np.random.default_rng(world_seq))
        self.licence_rng = np.random.default_rng(licence_seq)
        kept = KINDS if provenance is None else kept_provenance(provenance, self.world)
        self.net = build_network(self.world, end, kept)
        self.measures: list[ExportMeasure] = build_measures(scenario, self.world, self.net)
        self.odds = odds_table(self.measures)          # their licences' odds, as the decisions read them
        self.step_days = float(self.net.step_days)
        self.start = self.net.dates[0]
        self.by_end_user = any(m.by_end_user for m in self.measures)
        self.defence_first = np.array([self.world.rationing.by_country.get(c, self.world.rationing.rule)
                                       == "defence_first" for c in self.net.countries])
        self.offtakes = [e for e in self.world.events if e.type == "offtake"]
        with ctrl_c_stays_ctrl_c():        # the first kernels load here: Numba's compiler with them
            self.state = initial_state(self.net, self.world, -math.ceil(SPIN_UP_DAYS / self.step_days))
        self._coverages: dict = {}         # coverages that stay the same from step to step (``coverage``)
        self._starting: list[int] = []     # reviews started in the step under way (``_review``), by application
        self.reviews = Reviews()           # the reviews under way, by when they are decided

    # ------------------------------------------------------------ public
    def run(self, progress: Callable[[int, int], None] | None = None) -> Results:
        """Run the spin-up and the calendar; return the Results (mass balance checked every step).
        ``progress(done, total)`` is told of every step done (spin-up included)."""
        self.progress = progress
        self.steps = len(self.net.dates) - self.state.k          # spin-up and calendar
        self.env = simpy.Environment(initial_time=self.state.k * self.step_days)
        self.ledger = Ledger(self.net, Recorder(self.net))
        self.env.process(processes.step(self.env, self))
        for measure in self.measures:
            self.env.process(processes.enforce(self.env, self, measure))
        for event in self.offtakes:
            if event.start > self.start:
                self.env.process(processes.on(self.env, self, event.start, sign_offtake, self.state, self.net, event))
        # ratios in the step guard their divisors (np.where(x > 0, a / np.where(x > 0, x, 1), ...)): the
        # masked lanes' warnings are silenced once for the run, not in every step
        with np.errstate(invalid="ignore", divide="ignore"), ctrl_c_stays_ctrl_c(), collector_paused():
            self.env.run(until=len(self.net.dates) * self.step_days)   # what is still pending at the end stays so
            # decisions and goods due before the end are made and in; those due at it, as events, are not
            self.decisions(0)
            self.arrivals(0)
        self.ledger.check_counted(self.state)
        return Results(self.scenario, self.world, self.net, self.seed, self.ledger.recorder,
                       self.ledger.balance(self.state), self.replication)

    def day_of(self, date: dt.date) -> float:
        """Simulation time (days since the calendar's start) of a date."""
        return float((date - self.start).days)

    # ------------------------------------------------------------ the step
    def next_step(self) -> bool:
        """Do the work of the step under way; False when the calendar is done."""
        ctrl_c_pending()                   # one that a callback from compiled code dropped in the last step
        state, net = self.state, self.net
        k = state.k
        if k >= len(net.dates):
            return False
        if k == 0:
            settle_relationships(state, net)
            for event in self.offtakes:
                if event.start <= self.start:
                    sign_offtake(state, net, event)
            self.ledger.open(state)
        day = max(k, 0)
        for measure in self.measures:
            if measure.active:
                measure.new_step(net.dates[day], self.step_days)
        for measure in self.measures:
            self._review(measure.take_up(self.step_days, state.awaiting))
        now = acting(self.measures)        # measures change only between steps
        use = end_use(state, net, now, day, self.defence_first, self.by_end_user, self._coverages)
        self.book(use.flows)
        self.book(recycle(state, net, day, use.by_grade))
        making = make_magnets(state, net, now, day, use.plan, self._coverages)
        self.book(making.flows)
        self.book(separate(state, net, now, day, self._coverages))
        self.book(mine(state, net, day))
        stockpiles.release(state, net, day)
        sunk = sink_surplus(state, net)
        self.book(sunk)
        claims, supplied = making.claims, making.supplied
        if net.scarcity_of_orders:       # what buyers face: import orders not got count with use not served
            claims, supplied = claims + making.ordered, supplied + np.maximum(0.0, making.ordered - making.unfilled)
        # the spin-up is the world at rest: no news in it
        covered = covered_orders(self.measures, state, net, net.dates[day], making.ordered) \
            if net.expectations is not None and k >= 0 else None
        self.book(update_prices(state, net, day, claims, supplied, sunk.sunk.mass, use.by_grade, use.got,
                                covered))
        substitute(state, net, self.world)
        if k == -1:
            stockpiles.fill(state, net, day)
        if k >= 0:
            self.ledger.waiting(k, state.awaiting, [a for measure in self.measures for a in measure.waiting])
            self.ledger.close_step(k, state)
        self._start_reviews()
        state.k += 1
        if self.progress is not None:
            self.progress(self.steps - (len(net.dates) - state.k), self.steps)
        return True

    def book(self, flows: Flows | None) -> None:
        """Book a part's flows (accounts and recorder), then start what they set going: buyers qualifying new
        suppliers, applications under review, goods at sea."""
        if flows is None:
            return
        self.ledger.book(self.state.k, flows)
        if flows.exports is not None and flows.exports.applications:
            self.ledger.applied(self.state.k, self.state.awaiting,
                                [a for _, made in flows.exports.applications for a in made])
        for buyer, group in flows.qualifying:
            self.env.process(processes.qualify(self.env, self, flows.stage, buyer, group))
        if flows.exports is not None:
            for measure, made in flows.exports.applications:           # a measure's in turn
                self._review(measure.submit(made))
            if flows.exports.sent is not None:
                self._sail(flows.exports.sent)

    def _review(self, applications: list[int]) -> None:
        """Start applications' reviews once the step's work is done (``_start_reviews``); one whose goods a ban
        stopped while it waited is dropped."""
        desk = self.state.awaiting
        for application in applications:
            if desk.t[application] <= 0.0:
                desk.held[application] = False
            else:
                self._starting.append(application)

    def _start_reviews(self) -> None:
        """The reviews started in this step begin, in the order they were started: each draws its processing
        time (those of a measure's applications one after another drawn in one call) and ends in a decision,
        due then in the calendar of reviews (``licensing.Reviews``). They begin when the step's work is done:
        the goods put to sea in the step land before a decision due at their arrival."""
        if not self._starting:
            return
        starting = np.array(self._starting, np.int64)
        measure = self.state.awaiting.measure[starting]
        cuts = [0, *(np.flatnonzero(measure[1:] != measure[:-1]) + 1).tolist(), len(starting)]   # a measure's run
        days = [self.measures[measure[a]].review_days(self.licence_rng, b - a) for a, b in zip(cuts, cuts[1:])]
        self.reviews.start(starting, self.env.now + np.concatenate(days, dtype=float), self.sailed())
        self._starting.clear()

    def _sail(self, shipment: Shipment) -> None:
        """Put goods to sea: each route's arrive after its lead time."""
        self.state.in_flight.sail(shipment, self.env.now)

    # ------------------------------------------------------------ events between steps
    def sailed(self) -> int:
        """Voyages put to sea so far: where an event set going now stands among the arrivals at its time."""
        return self.state.in_flight.sailed

    def reviews_started(self) -> int:
        """Licence reviews started so far: where an event set going now stands among the decisions at its time."""
        return self.reviews.started

    def arrivals(self, sailed: int) -> None:
        """Land the goods at sea that SimPy's clock has brought in: due before now, or now by a voyage before
        number ``sailed``; what a measure turned back at sea lands as the nothing left of it."""
        state = self.state
        if state.in_flight.due <= self.env.now:
            state.in_flight.land(state.stocks, state.pipeline, self.env.now, sailed, self.ledger.books())

    def decisions(self, started: int) -> None:
        """Make the licence decisions SimPy's clock has come to: due before now, or now by a review before number
        ``started``, drawn (``licensing.decide``) and settled in order, each on its own day, landing first the
        goods due before it (and at it, those put to sea before its review started), in one compiled call
        (``shipping.settle``)."""
        if self.reviews.due > self.env.now:
            return
        days, applications, sailed = self.reviews.decided_by(self.env.now, started)
        if not len(days):
            return
        state, desk = self.state, self.state.awaiting
        approved, banning, shares = decide(desk, applications, days, self.measures, self.odds, self.licence_rng, state,
                                           self.net)
        k = state.k
        outcome, t = shipping.settle(state, days, applications, sailed, approved, banning, shares, self.ledger.books(),
                                     partial(self.ledger.departures_of, k))
        self.ledger.decided(k, desk, applications, outcome, t)
        desk.held[applications] = False

    def put_in_force(self, measure: ExportMeasure, active: bool, front_loading: bool = False) -> None:
        """Put a measure in or out of force, or announce it; coming into force, it acts on goods on their way."""
        was = measure.active
        measure.active, measure.announced = active, front_loading
        if active and not was:
            measure.comes_into_force(self)

    def stop_pending(self, measure: ExportMeasure, outcome: str) -> None:
        self._turn_back(measure, self.state.awaiting.taken_from(), outcome)
        for licence in self.measures:          # what still waits at an office holds less, or nothing
            self.state.awaiting.restate(licence.waiting)

    def stop_at_sea(self, measure: ExportMeasure, outcome: str) -> None:
        self._turn_back(measure, self.state.in_flight.voyages(), outcome)

    def _turn_back(self, measure: ExportMeasure, shipments: Iterable[Shipment], outcome: str) -> None:
        """Return the share of ``shipments`` a measure covers to the exporters' stocks."""
        for shipment in shipments:
            share = measure.coverage(shipment.stage, self.state, self.net)[shipment.buyer, shipment.supplier]
            if not share.any():
                continue
            back = shipment.take(share)
            mass = traded_mass(shipment.stage, back.goods)
            shipping.return_to_exporter(self.state, back, refused=False, books=self.ledger.books(), mass=mass)
            self.book(Flows(stage=shipment.stage, turned_back=(shipment, mass, outcome)))

    def qualified(self, stage: str, buyer: int, items: np.ndarray) -> None:
        """A buyer has qualified every supplier of the stage for these items: it may re-source them from any."""
        self.state.qualified[stage][buyer, :, items] = True
