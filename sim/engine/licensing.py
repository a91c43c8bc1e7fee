"""Licences with state: applications by end user and lot, a review office with a queue, and approval odds by
importer, end user and date. ``ExportLicence`` (``measures``) holds one of each; the simulation starts the
reviews, keeps their decisions in a calendar (``Reviews``) and books them.

- **Applications.** The goods a licence holds on one route in a step are one application, or, where the
  odds name end users, one for the civil and one for the defence share of the importer's use; each of
  these is split into lots of at most ``lot_t`` of its stage (t REO, t magnet; the last lot smaller),
  every lot holding the route's items in the shipment's proportions. A route where the licence would hold
  less than a milligram (``DUST_T``: a residue of a share, a few 1e-19 t) is not held: an application of
  it would draw a review, and shift every later draw on the last bit of a sum.
- **Office.** Without one, every application is reviewed at once. With one, applications join a
  first-in, first-out queue; the office takes up ``applications_per_week`` of them (pro rata per step:
  whole applications, the fraction carried over; unused capacity is not kept) and works off its backlog
  whether or not the measure is still in force. An application's review time is its wait in the queue
  plus its own processing time, drawn when the office takes it up. An application whose goods a ban
  stopped while it waited no longer counts as waiting, and leaves without using the office's time.
- **Odds.** An application is approved with its importer's odds (its own code's, else the first group
  listed that holds it, else the default), at most its end user's where those are named, as in force
  on the day of the decision: a change (a freeze, a general licence, a tightening) also decides the
  applications already waiting.
- **Random draws.** Each review draws its processing time from the licence stream when it starts and
  its decision (one uniform number, whatever the odds) when it ends. Reviews start in the order the
  applications were made (routes in country order, then end user, then lot) or, at an office, taken up;
  decisions come in time order and, at one time, in the order their reviews started. Nothing depends on
  object addresses or hashing, so a scenario and seed decide the same in any process.
- **Calendar.** A decision is not a SimPy event of its own (a run decides tens of thousands): the reviews
  under way are a calendar (``Reviews``), and an event of the clock that acts on the world (a step, a
  measure's date, an agreement signed, a buyer qualifying) first has the decisions made that SimPy would
  have made before it: those due before its time and, at its time, those of the reviews started before the
  event was set going.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import deque

import numpy as np

from ..kernels.licences import approval_chances, start_reviews, take_decided
from ..scenario import Scenario
from ..scenario.events import ApprovalOdds
from ..stages import STAGES
from ..world import Network
from .state import State
from .transit import END_USERS, Awaiting, Shipment, larger, traded_mass

DAYS_PER_WEEK = 7.0


def by_end_user(shipment: Shipment, defence: np.ndarray) -> list[tuple[str, Shipment]]:
    """One route's goods split into the civil and the defence share (``defence`` [I]: the defence share of
    the importer's use of each item); a share with nothing in it is left out."""
    parts = []
    for end_user, share in (("civil", 1.0 - defence), ("defence", defence)):
        part = shipment.times(share)
        if np.count_nonzero(traded_mass(part.stage, part.goods)):
            parts.append((end_user, part))
    return parts


def lots(shipment: Shipment, lot_t: float) -> list[Shipment]:
    """One route's goods in lots of at most ``lot_t`` (t REO, t magnet, the route's items together), the
    last one smaller; each lot holds the items in the shipment's proportions."""
    total = float(traded_mass(shipment.stage, shipment.goods).sum())
    n = max(1, math.ceil(total / lot_t - 1e-9))      # 10.000000001 t in lots of 5 t is two lots, not three
    if n == 1:
        return [shipment]
    full = lot_t / total
    fractions = [full] * (n - 1) + [max(0.0, 1.0 - full * (n - 1))]
    return [shipment.times(f) for f in fractions]


class Office:
    """A licence office: takes up at most ``per_week`` applications a week; the rest wait, first in, first
    out. Applications are their numbers at the desk (``transit.Awaiting``)."""

    def __init__(self, per_week: float):
        self.per_week = per_week
        self.queue: deque[int] = deque()
        self.slots = 0.0           # applications it can still take up this step (a fraction carries over)

    def submit(self, application: int) -> list[int]:
        """A new application: taken up at once (returned) while the office has time left this step and
        nobody is waiting, else queued."""
        if not self.queue and self.slots >= 1.0:
            self.slots -= 1.0
            return [application]
        self.queue.append(application)
        return []

    def new_step(self, days: float, desk: Awaiting) -> list[int]:
        """A step of ``days`` begins: the applications leaving the queue, first in first out, up to the
        step's capacity; empty ones (nothing left of their goods at the ``desk``) leave without using any."""
        self.slots = self.slots % 1.0 + self.per_week * days / DAYS_PER_WEEK
        leaving = []
        while self.queue and self.slots >= 1.0:
            application = self.queue.popleft()
            if desk.t[application] > 0.0:
                self.slots -= 1.0
            leaving.append(application)
        return leaving


class Odds:
    """The chance that an application is approved, by importer, end user and day, from the drawn
    ``approval`` (one chance, or ``ApprovalOdds``); days are the clock's, from the calendar's ``start``. Read
    for a run's decisions together with the other measures' (``odds_table``)."""

    def __init__(self, approval: float | ApprovalOdds, scenario: Scenario, countries: tuple[str, ...],
                 start: dt.date):
        written = approval if isinstance(approval, ApprovalOdds) else ApprovalOdds(default=approval)
        from_day = [-math.inf]                         # the day of the clock each set of odds holds from
        importer: list[np.ndarray] = []                # [C] chance by importer, from each day on
        end_user: list[dict[str, float]] = []          # cap by end user, from each day on
        default, own, caps = 1.0, {}, {}
        for i, change in enumerate((written, *written.changes)):
            if i:
                from_day.append(float((change.date - start).days))
            if change.default is not None:
                default = float(change.default)
            groups = [name for name in change.by_importer if name in scenario.groups]
            for name in [*reversed(groups), *(n for n in change.by_importer if n not in groups)]:
                for code in scenario.country_set((name,)):     # the first group listed, then codes, win
                    own[countries.index(code)] = float(change.by_importer[name])
            caps = {**caps, **{user: float(p) for user, p in change.by_end_user.items()}}
            chance = np.full(len(countries), default)
            chance[list(own)] = list(own.values())
            importer.append(chance)
            end_user.append(caps)
        self.from_day = np.array(from_day)
        self.importer = np.array(importer)             # [changes, C]
        # [changes] cap of each end user named, NaN while it has none
        self.end_user = {user: np.array([caps.get(user, np.nan) for caps in end_user])
                         for user in sorted({user for caps in end_user for user in caps})}
        self.by_end_user = bool(self.end_user)


def odds_table(measures: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The odds of every measure of a run (by its index) as ``sim.kernels.licences.approval_chances`` reads them:
    the day each set of odds holds from [M, K] (+inf past a measure's last), the chances by importer [M, K, C]
    and the caps by end user (a code of ``transit.END_USERS``) [M, U, K], NaN where none is named. A measure
    without odds (no licence) approves everything."""
    books = [getattr(measure, "odds", None) for measure in measures]
    written = [odds for odds in books if odds is not None]
    K = max((len(odds.from_day) for odds in written), default=1)
    C = written[0].importer.shape[1] if written else 1
    from_day = np.full((len(books), K), np.inf)
    from_day[:, 0] = -np.inf
    importer, caps = np.ones((len(books), K, C)), np.full((len(books), len(END_USERS), K), np.nan)
    for m, odds in enumerate(books):
        if odds is None:
            continue
        k = len(odds.from_day)
        from_day[m, :k], importer[m, :k] = odds.from_day, odds.importer
        for user, cap in odds.end_user.items():
            caps[m, END_USERS.index(user), :k] = cap
    return from_day, importer, caps


def decide(desk: Awaiting, applications: np.ndarray, days: np.ndarray, measures: list, odds: tuple,
           rng: np.random.Generator, state: State, net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The decisions on ``applications`` [n] (their numbers at the ``desk``), in the order they come, each on its day
    (``days`` [n]) with the odds of its importer and end user then: one uniform number each from ``rng``, in turn
    (nothing else draws from the licence stream between two steps). Returns whether each is ``approved`` [n],
    and which approvals are ``banning`` [n] a share ``banned`` [n, X] of their goods (t REO by element, or t
    magnet by grade) that the origin countries' own bans forbid the importer (``ExportLicence.refusals``:
    what the step left and the measures in force decide that, and no decision changes them). ``measures``: the
    run's, by the index the desk keeps; ``odds``: theirs (``odds_table``), the chances read in one compiled call."""
    measure, stage, importer = desk.measure[applications], desk.s[applications], desk.importer[applications]
    chance = approval_chances(measure, importer, desk.end_user[applications], days, *odds)
    approved = rng.random(len(applications)) < chance
    banning = np.zeros(len(applications), bool)
    banned = np.zeros((len(applications), max(values.shape[1] for values in desk.values)))
    kind = measure * len(STAGES) + stage              # a decision's measure and stage as one number
    for k in np.unique(kind[approved]).tolist():
        m, s = divmod(k, len(STAGES))
        refused = measures[m].refusals(STAGES[s], measures, state, net)
        if refused is None:
            continue
        which = np.flatnonzero(approved & (kind == k))
        which = which[refused[1][importer[which]]]
        banning[which] = True
        banned[which, :desk.values[s].shape[1]] = refused[0][importer[which]]    # concentrate: each element alike
    return approved, banning, banned


class Reviews:
    """The licence reviews under way, as a calendar of their decisions: each due on its day (the review's start
    plus its processing time, days of the clock), in SimPy's order: by day and, on one day, by the number of
    the review (in the order they started). A heap kept in arrays by compiled calls (``sim.kernels.licences``):
    a licence-heavy run starts tens of thousands."""

    ROOM = 1024           # reviews at first; room is made by doubling

    def __init__(self) -> None:
        # a heap of (day due, review number, application, voyages put to sea as its review started)
        self._day = np.empty(self.ROOM)
        self._number, self._application, self._sailed = (np.empty(self.ROOM, np.int64) for _ in range(3))
        self.size = 0                 # reviews under way
        self.started = 0              # reviews started so far: the next one's number
        self.due = math.inf           # the day the next decision is due

    def start(self, applications: list[int] | np.ndarray, due: list[float] | np.ndarray, sailed: int) -> None:
        """Start the reviews of ``applications``, in turn, each decided on its day ``due``; ``sailed``: voyages put
        to sea so far (the goods those put to sea land before a decision, if due by then)."""
        applications, due = np.asarray(applications, np.int64), np.asarray(due, float)
        if self.size + len(due) > len(self._day):
            room = max(2 * len(self._day), self.size + len(due))
            self._day, self._number, self._application, self._sailed = (
                larger(column, self.size, room) for column in (self._day, self._number, self._application,
                                                               self._sailed))
        self.size = start_reviews(self._day, self._number, self._application, self._sailed, self.size, due,
                                  applications, self.started, int(sailed))
        self.started += len(due)
        if self.size:
            self.due = float(self._day[0])

    def decided_by(self, now: float, started: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Take out, in order, the decisions due before day ``now`` or on it by a review before number ``started``:
        their days [n], applications [n] and voyages sailed as their reviews started [n]."""
        self.size, days, applications, sailed = take_decided(self._day, self._number, self._application,
                                                             self._sailed, self.size, float(now), int(started))
        self.due = float(self._day[0]) if self.size else math.inf
        return days, applications, sailed
