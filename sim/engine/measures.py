"""Export measures as small classes picked by ``type``: what each covers, and what it does to trade.

A measure covers shipments ``[buyer, supplier, item]`` of the stages it names:
its exporter's (or exporter group's) exports to its importers, of the items
that hold its elements (an oxide is its element; a magnet grade holds every
element of its recipe; concentrate holds them all). A measure on civil or
defence end users covers that share of each importer's use of the item.
Each step ``coverage`` gives the share of every such shipment covered, and the
measure adds what it does with that share to the step's ``Coverage``:

- ``ExportBan``: never shipped; buyers re-source; goods already on their way
  may be stopped when it comes into force;
- ``ExportLicence`` and ``OriginRule``: held for a review time drawn per
  application, then approved with a probability or refused; optionally by
  lot, at an office with a queue, with odds by importer, end user and date
  (``licensing``);
- ``ExportQuota``: shipped up to the allowance accrued so far this calendar
  year; the rest is re-sourced;
- ``Tariff``: buyers move a share of their orders to other makers first.

A measure is in force from ``start`` to ``end`` outside its suspensions; from
``announced`` to ``start`` buyers may front-load. Adding a measure is adding a
class here, registering it under its ``type`` in ``MEASURES`` (and its record
in ``sim.scenario.events``); the engine calls these methods and never asks
which kind a measure is. A measure that holds goods for a review subclasses
``ExportLicence``, whose applications the engine sends to ``submit`` and ``review_days``, and decides by its
odds (``licensing.Odds``); one that forbids shipments outright says what in ``bans`` (``forbids``), which origin
rules read.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..kernels.markets import covered_by_origin, covered_share, most_covered
from ..scenario import Scenario
from ..scenario.distributions import Distribution
from ..scenario.events import ApprovalOdds, MeasureEvent
from ..stages import MINE, STAGES
from ..world import DAYS_PER_YEAR, Network, covered_routes
from .licensing import Odds, Office, by_end_user, lots
from .transit import END_USERS

if TYPE_CHECKING:  # pragma: no cover
    from .state import State
    from .transit import Awaiting, Shipment

NO_ORIGIN = np.zeros((0, 0))      # what a measure that does not follow the goods' origin multiplies by: nothing


@dataclass
class Coverage:
    """What the measures in force (and those announced) do to one stage's trade this step: shares of
    shipments ``[B, J, I]`` blocked or moved by a tariff, the licences and quotas that apply, and the extra
    days of stock or pipeline buyers seek ``[B, I]``."""

    stage: str
    blocked: np.ndarray
    tariffed: np.ndarray
    licensed: list = field(default_factory=list)      # [(measure, share)]
    quotas: list = field(default_factory=list)        # [(measure, share)]
    extra_days: np.ndarray | float = 0.0

    def add_days(self, measure: ExportMeasure, share: np.ndarray, days: float) -> None:
        """Buyers seek ``days`` more of stock or pipeline for the items ``measure`` covers (``share`` [B, J, I]),
        as far as it covers their most covered supplier (``ExportMeasure.most_covered``); the largest ask of the
        measures counts."""
        self.extra_days = np.maximum(self.extra_days, measure.most_covered(self.stage, share) * days)


class ExportMeasure:
    """Common part: which shipments the measure covers, and when it is in force.

    ``written`` is the measure as the scenario wrote it (distributions kept, for what is drawn per use),
    ``event`` as this replication drew it."""

    re_exports = False        # whether it covers other countries' exports of the exporter's material
    forbids = False           # whether it forbids shipments outright (``bans``)

    def __init__(self, written: MeasureEvent, event: MeasureEvent, scenario: Scenario, network: Network):
        self.event = event
        self.id = event.id
        self.suspensions: list[tuple[dt.date, dt.date]] = []
        self.exporters = scenario.country_set((event.exporter,))
        self.covers_stage: dict[str, np.ndarray] = covered_routes(event, scenario, network, self.re_exports)
        # whether it covers any shipment of each stage: asked of every coverage made, every step
        self.covers_any = {stage: bool(np.count_nonzero(mask)) for stage, mask in self.covers_stage.items()}
        self.active = False
        self.announced = False
        self.index = -1           # its place in the run's list of measures (``build_measures``)
        # stage -> (share, its most covered supplier): what a measure that reads no state covers is the same
        # every step it acts, so it is worked out once (``covered``, ``most_covered``)
        self._same: dict[str, tuple[np.ndarray | None, np.ndarray | None]] = {}

    @cached_property           # what it is written to do: the same all run, asked of every measure every step
    def by_end_user(self) -> bool:
        """Whether the measure needs each importer's civil and defence shares of use: it covers only one of
        them, or decides them apart."""
        return self.event.end_users != "all"

    @cached_property
    def end_user(self) -> int:
        """The end users it covers, by their code (``transit.END_USERS``: all, civil or defence)."""
        return END_USERS.index(self.event.end_users)

    @cached_property
    def reads_state(self) -> bool:
        """Whether what it covers depends on the state (here: each importer's civil and defence shares of use,
        which ``by_end_user`` measures read), so that its coverage is made anew every step."""
        return self.by_end_user

    @classmethod
    def can_refuse(cls, event: MeasureEvent) -> bool:
        """Whether the measure, as written, may decide the same shipment differently in two replications."""
        return False

    # ------------------------------------------------------------ time
    def in_force(self, day: dt.date) -> bool:
        e = self.event
        return (e.start <= day and (e.end is None or day < e.end)
                and not any(start <= day < until for start, until in self.suspensions))

    def front_loading(self, day: dt.date) -> bool:
        e = self.event
        return e.announced is not None and e.announced <= day < e.start and float(e.front_load_days) > 0

    def awaited(self, day: dt.date) -> bool:
        """Announced and not yet in force on ``day``: what markets price in before the measure acts."""
        e = self.event
        return e.announced is not None and e.announced <= day < e.start

    def turning_points(self) -> list[dt.date]:
        """Every date on which the measure may come into or out of force, or be announced."""
        e = self.event
        days = {e.start} | ({e.end} if e.end else set()) | ({e.announced} if e.announced else set())
        for start, until in self.suspensions:
            days |= {start, until}
        return sorted(days)

    def new_step(self, day: dt.date, days: float) -> None:
        """A step of ``days`` starting on ``day`` begins while the measure is in force."""

    def comes_into_force(self, stop: StopGoods) -> None:
        """What coming into force does to goods already on their way: nothing, unless the measure says."""

    def take_up(self, days: float, desk: Awaiting) -> list[int]:
        """The applications (their numbers at the ``desk``) the measure's licence office takes up from its queue
        as a step of ``days`` begins, in or out of force (a backlog is worked off after the measure ends): none
        without one."""
        return []

    @property
    def waiting(self) -> tuple[int, ...]:
        """The applications waiting in the measure's licence office's queue, first in first out."""
        return ()

    # ------------------------------------------------------------ what it covers and does now
    def coverage(self, stage: str, state: State, net: Network) -> np.ndarray:
        """[B, J, I] share of each shipment of the stage the measure covers this step."""
        mask = self.covers_stage[stage]
        if self.event.end_users == "all" or not self.covers_any[stage]:
            return mask
        return covered_share(mask, self.end_user, state.defence_share[stage], NO_ORIGIN)

    def covered(self, stage: str, state: State, net: Network) -> np.ndarray | None:
        """``coverage`` this step, or None where it covers no shipment: worked out every step where the measure
        reads the state (``reads_state``), once a run where it does not."""
        if self.reads_state:
            share = self.coverage(stage, state, net)
            return share if np.count_nonzero(share) else None      # a count: a third of ``any``'s cost here
        if stage not in self._same:
            share = self.coverage(stage, state, net)
            self._same[stage] = (share if np.count_nonzero(share) else None), None
        return self._same[stage][0]

    def most_covered(self, stage: str, share: np.ndarray) -> np.ndarray:
        """[B, I] the largest share of a buyer's orders of an item its ``share`` [B, J, I] of the stage covers (the
        one ``covered`` gave), over its suppliers (``sim.kernels.markets.most_covered``): once a run where the
        measure reads no state."""
        if self.reads_state:
            return most_covered(share)
        same, most = self._same[stage]
        if most is None:
            most = most_covered(same)
            self._same[stage] = same, most
        return most

    def add_to(self, cover: Coverage, share: np.ndarray) -> None:
        """Add what the measure does to its covered ``share`` [B, J, I] to the step's coverage. Announced but
        not yet in force, buyers of covered goods front-load."""
        if self.announced and not self.active:
            cover.add_days(self, share, float(self.event.front_load_days))
        else:
            self.acts_on(cover, share)

    def acts_on(self, cover: Coverage, share: np.ndarray) -> None:  # pragma: no cover - every measure says
        raise NotImplementedError

    def bans(self, stage: str, state: State, net: Network) -> np.ndarray | None:
        """[B, J, I] what the measure forbids outright now, or None (always, unless it ``forbids``): what an origin
        rule refuses to approve."""
        return None


class StopGoods(Protocol):
    """What a measure coming into force may do to goods on their way: the engine's side of it."""

    def stop_pending(self, measure: ExportMeasure, outcome: str) -> None:
        """Return the covered share of goods awaiting a licence to their exporters."""

    def stop_at_sea(self, measure: ExportMeasure, outcome: str) -> None:
        """Turn the covered share of goods at sea back to their exporters."""


class ExportBan(ExportMeasure):
    """Covered shipments are not made; orders for them are re-sourced. When the ban comes into force, covered
    goods awaiting a licence are stopped, and with ``at_sea: stop`` covered goods at sea are turned back."""

    forbids = True

    def acts_on(self, cover: Coverage, share: np.ndarray) -> None:
        np.maximum(cover.blocked, share, out=cover.blocked)

    def comes_into_force(self, stop: StopGoods) -> None:
        stop.stop_pending(self, "stopped awaiting licence")
        if self.event.at_sea == "stop":
            stop.stop_at_sea(self, "turned back at sea")

    def bans(self, stage: str, state: State, net: Network) -> np.ndarray | None:
        return self.coverage(stage, state, net) if self.active else None


class ExportLicence(ExportMeasure):
    """Each shipment waits a review time (drawn per application) and is approved with a probability. While a
    licence is needed buyers add the processing time they expect (its central value) to their target
    position. Applications by end user and lot, the office's queue and odds by importer, end user and date
    are ``licensing``'s."""

    def __init__(self, written, event, scenario, network):
        super().__init__(written, event, scenario, network)
        self._review = written.processing_days
        self.expected_days = self._review.central() if isinstance(self._review, Distribution) else float(self._review)
        self.odds = Odds(event.approval, scenario, network.countries, network.dates[0])
        self.lot_t = {stage: float(t) for stage, t in (event.lot_t or {}).items()}
        self.office = Office(float(event.office.applications_per_week)) if event.office else None

    @classmethod
    def can_refuse(cls, event) -> bool:
        odds = event.approval if isinstance(event.approval, ApprovalOdds) else ApprovalOdds(default=event.approval)
        return any(isinstance(share, Distribution) or float(share) < 1 for share in odds.shares())

    @cached_property
    def by_end_user(self) -> bool:
        return self.event.end_users != "all" or self.odds.by_end_user

    def acts_on(self, cover: Coverage, share: np.ndarray) -> None:
        cover.licensed.append((self, share))
        cover.add_days(self, share, self.expected_days)

    def whole_routes(self, stage: str) -> bool:
        """Whether a route's goods of the stage it holds are one application: no lot size at the stage, and one
        end user (odds that tell end users apart split them)."""
        return not self.lot_t.get(stage) and not (self.event.end_users == "all" and self.odds.by_end_user)

    def applications(self, held: Shipment, t: np.ndarray, state: State) -> list[int]:
        """The goods held on ``held``'s routes (``t`` of each) as applications, route after route: by end user
        where the odds tell them apart, then in lots where the stage has a lot size; made, in turn, at the
        state's desk (``transit.Awaiting``), which holds their goods: returns their numbers."""
        stage, desk = held.stage, state.awaiting
        s = STAGES.index(stage)
        if self.whole_routes(stage):                                  # a route's goods, one application
            rows, goods = held.held_rows()
            return list(desk.hold(self.index, self.end_user, s, held.supplier, held.buyer, rows, goods, t))
        made = []
        for r in range(len(held.buyer)):
            shipment = held.route(r)
            for end_user, lot in self._lots(shipment, state):
                rows, goods = lot.held_rows()
                made += desk.hold(self.index, END_USERS.index(end_user), s, shipment.supplier, shipment.buyer, rows,
                                  goods)
        return made

    def _lots(self, shipment: Shipment, state: State) -> list[tuple[str, Shipment]]:
        """One route's goods (``shipment``) by end user, then in lots: (end user, lot) each."""
        end_users, lot_t = self.event.end_users, self.lot_t.get(shipment.stage)
        parts = [(end_users, shipment)]
        if end_users == "all" and self.odds.by_end_user:
            parts = by_end_user(shipment, state.defence_share[shipment.stage][shipment.buyer[0]])
        return [(end_user, lot) for end_user, part in parts for lot in (lots(part, lot_t) if lot_t else [part])]

    def submit(self, applications: list[int]) -> list[int]:
        """New applications, in the order they were made; returns those whose reviews start now (all of them,
        unless they wait at an office)."""
        if self.office is None:
            return applications
        return [taken for application in applications for taken in self.office.submit(application)]

    def take_up(self, days: float, desk: Awaiting) -> list[int]:
        return self.office.new_step(days, desk) if self.office else []

    @property
    def waiting(self) -> tuple[int, ...]:
        return tuple(self.office.queue) if self.office else ()

    def review_days(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """[n] how long the processing of each of ``n`` applications takes once their reviews start, days: drawn
        in turn."""
        if isinstance(self._review, Distribution):
            return self._review.samples(rng, n)
        return np.full(n, float(self._review))

    def refusals(self, stage: str, measures: list[ExportMeasure], state: State,
                 net: Network) -> tuple[np.ndarray, np.ndarray] | None:
        """([C, I] share, [C] bool) of the goods of the stage to each importer refused whatever the review
        decides, and whether any is; or None: none ever is."""
        return None


class OriginRule(ExportLicence):
    """Goods exported by *other* countries need the exporter's licence when they hold more than
    ``threshold_share`` of material mined or refined in it (the October 2025 rule: 0.1 %).

    The share is read from the provenance of the shipping country's stock of the item, so a
    re-export chain (Chinese oxide -> Japanese magnet -> Korea) is caught. A re-export the origin
    country's own bans forbid to the importer is refused.
    """

    re_exports = True

    def __init__(self, written, event, scenario, network):
        super().__init__(written, event, scenario, network)
        self.threshold = float(event.threshold_share)
        self.kinds = origin_kinds(event)
        self.origin = [network.countries.index(c) for c in self.exporters]
        # stage -> (when, what) of ``refusals``
        self._banned_for: dict[str, tuple[tuple, tuple[np.ndarray, np.ndarray]]] = {}
        self._bans_read_state: bool | None = None     # whether a ban of its origin countries reads the state
        # [kind, origin country] the provenance rows of the material the rule follows
        self.origin_rows = np.array([[network.tags.row(kind, c) for c in self.origin] for kind in self.kinds],
                                    dtype=np.int64).reshape(len(self.kinds), len(self.origin))

    reads_state = True           # the provenance of the shipping countries' stocks

    def coverage(self, stage, state, net):
        mask = self.covers_stage[stage]
        if not self.covers_any[stage]:
            return mask
        return covered_by_origin(mask, self.end_user, state.defence_share[stage],
                                 state.stocks[stage].tagged, self.origin_rows, self.threshold, stage == MINE)

    def refusals(self, stage, measures, state, net):
        """The share of each importer's goods of the stage that the origin countries' own bans forbid it, and
        whether any is: the same for every decision while the same measures are in force, so worked out once for
        them; and once a step where a ban of theirs reads the state (its civil or defence users' shares of use,
        which change only as a step leaves them)."""
        if self._bans_read_state is None:
            self._bans_read_state = any(m.forbids and m.reads_state for m in measures
                                        if set(m.exporters) & set(self.exporters))
        when = (state.k if self._bans_read_state else None, tuple(m.active for m in measures))
        if stage not in self._banned_for or self._banned_for[stage][0] != when:
            refused = np.zeros((net.n_countries, net.items(stage)))
            for m in measures:
                banned = m.bans(stage, state, net) if set(m.exporters) & set(self.exporters) else None
                if banned is not None:
                    for origin in self.origin:
                        np.maximum(refused, banned[:, origin], out=refused)
            self._banned_for[stage] = (when, (refused, refused.any(axis=1)))
        return self._banned_for[stage][1]


class ExportQuota(ExportMeasure):
    """Covered exports up to ``t_per_year`` (t REO, or t magnet) a calendar year, overall or per importer.

    The allowance accrues step by step and unused allowance carries over within the year. The market cuts
    covered shipments beyond it pro rata (``sim.kernels.clearing.cut_to_quotas``).
    """

    def __init__(self, written, event, scenario, network):
        super().__init__(written, event, scenario, network)
        self.t_per_day = float(event.t_per_year) / DAYS_PER_YEAR
        self.per_importer = bool(event.per_importer)
        self.allowance = np.zeros(network.n_countries if self.per_importer else 1)
        self.year: int | None = None

    def new_step(self, day: dt.date, days: float) -> None:
        """Add one step's allowance; a new calendar year starts from nothing."""
        if self.year != day.year:
            self.allowance[:] = 0.0
            self.year = day.year
        self.allowance += self.t_per_day * days

    def acts_on(self, cover: Coverage, share: np.ndarray) -> None:
        cover.quotas.append((self, share))


class Tariff(ExportMeasure):
    """A price wedge on the exporter's goods: buyers move ``rate x sourcing_elasticity`` of their
    orders (at most all) to other makers with spare output, and buy the rest from it anyway."""

    def __init__(self, written, event, scenario, network):
        super().__init__(written, event, scenario, network)
        self.moved = min(1.0, float(event.rate) * float(event.sourcing_elasticity))

    def coverage(self, stage, state, net):
        return super().coverage(stage, state, net) * self.moved

    def acts_on(self, cover: Coverage, share: np.ndarray) -> None:
        np.maximum(cover.tariffed, share, out=cover.tariffed)


MEASURES: dict[str, type[ExportMeasure]] = {"export_ban": ExportBan, "export_licence": ExportLicence,
                                            "origin_rule": OriginRule, "export_quota": ExportQuota,
                                            "tariff": Tariff}


def origin_kinds(event: MeasureEvent) -> tuple[str, ...]:
    """The kinds of provenance an origin rule reads: mined or refined, by its origin stages."""
    return tuple("mined" if s == MINE else "refined" for s in event.origin_stages)


def provenance_read(world: Scenario) -> set[str]:
    """The kinds of provenance the drawn ``world``'s measures read as a run goes: its origin rules'."""
    return {kind for event in world.events if MEASURES.get(event.type) is OriginRule for kind in origin_kinds(event)}


def build_measures(scenario: Scenario, world: Scenario, network: Network) -> list[ExportMeasure]:
    """One measure object per export measure of the drawn ``world``, with its suspensions."""
    measures = [MEASURES[event.type](written, event, scenario, network)
                for written, event in zip(scenario.drawn_from(world), world.events) if event.type in MEASURES]
    for index, measure in enumerate(measures):
        measure.index = index
    by_id = {m.id: m for m in measures if m.id}
    for event in world.events:
        if event.type == "suspension":
            by_id[event.measure].suspensions.append((event.start, event.until))
    return measures


def acting(measures: list[ExportMeasure]) -> list[ExportMeasure]:
    """The measures in force or announced: the ones that act on trade this step."""
    return [m for m in measures if m.active or m.announced]


def coverage(acting: list[ExportMeasure], stage: str, state: State, net: Network,
             kept: dict[tuple, Coverage]) -> Coverage:
    """What the ``acting`` measures (in force, or announced) do to the stage's trade this step.

    ``kept`` holds the coverages of earlier steps: while the same measures act in the same way and none of them
    reads the state (as an origin rule reads stocks, or a measure on civil or defence users their shares of
    use), the coverage is the same, so it is made once and shared (it is never written to), as is the empty
    one of the many steps in which no measure acts."""
    key = (stage, tuple((m, m.active) for m in acting))
    if key in kept:
        return kept[key]
    C = len(net.countries)
    shape = (C, C, net.items(stage))
    cover = Coverage(stage, blocked=np.zeros(shape), tariffed=np.zeros(shape))
    for m in acting:
        share = m.covered(stage, state, net)
        if share is not None:
            m.add_to(cover, share)
    if not any(m.reads_state for m in acting):
        kept[key] = cover
    return cover
