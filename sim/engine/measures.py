"""Export measures as small classes picked by ``type``: what they cover and what they do.

A measure covers shipments ``[buyer, supplier, item]`` of the stages it names:
its exporter's (or exporter group's) exports to its importers, of the items
that hold its elements (an oxide is its element; a magnet grade holds every
element of its recipe; concentrate holds them all). A measure on civil or
defence end users covers that share of each importer's use of the item.
``coverage`` gives, each step, the share of every such shipment covered; the
engine treats it as the measure's ``effect`` says:

- ``block`` (export_ban): never shipped; buyers re-source;
- ``licence`` (export_licence, origin_rule): held for a random processing
  time, then shipped or refused;
- ``quota`` (export_quota): shipped up to the allowance accrued so far this
  calendar year; the rest is re-sourced;
- ``tariff``: buyers move a share of their orders to other makers first.

A measure is in force from ``start`` to ``end`` outside its suspensions; from
``announced`` to ``start`` buyers may front-load. Adding a measure is adding a
class here and registering it under its ``type``.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.distributions import _Dist
from ..scenario.schema import Measure, Scenario
from ..world.network import DAYS_PER_YEAR, TRADED, Network, items_holding

if TYPE_CHECKING:  # pragma: no cover
    from .simulation import Simulation


class ExportMeasure:
    """Common part: which shipments the measure covers, and when it is in force."""

    effect = "block"

    def __init__(self, event: Measure, realised: Measure, scenario: Scenario, network: Network):
        self.event = realised
        self.id = realised.id
        self.suspensions: list[tuple[dt.date, dt.date]] = []
        countries = network.countries
        self.exporters = scenario.country_set((realised.exporter,))
        suppliers = self._suppliers(countries)
        importers = scenario.country_set(realised.importers) if realised.importers != "all" else countries
        importers = [c for c in importers if c not in self.exporters]
        self.covers_stage: dict[str, np.ndarray] = {}
        for stage in TRADED:
            items = items_holding(stage, realised.elements, network)
            mask = np.zeros((len(countries), len(countries), len(items)))
            if stage in realised.stages:
                b = [countries.index(c) for c in importers]
                j = [countries.index(c) for c in suppliers]
                mask[np.ix_(b, j, np.flatnonzero(items))] = 1.0
            self.covers_stage[stage] = mask
        self.active = False
        self.announced = False

    def _suppliers(self, countries: tuple[str, ...]) -> tuple[str, ...]:
        """Countries whose exports the measure covers: the exporter's own."""
        return self.exporters

    # ------------------------------------------------------------ time
    def in_force(self, day: dt.date) -> bool:
        e = self.event
        return (e.start <= day and (e.end is None or day < e.end)
                and not any(start <= day < until for start, until in self.suspensions))

    def front_loading(self, day: dt.date) -> bool:
        e = self.event
        return e.announced is not None and e.announced <= day < e.start and float(e.front_load_days) > 0

    def turning_points(self) -> list[dt.date]:
        """Every date on which the measure may come into or out of force, or be announced."""
        e = self.event
        days = {e.start} | ({e.end} if e.end else set()) | ({e.announced} if e.announced else set())
        for start, until in self.suspensions:
            days |= {start, until}
        return sorted(days)

    # ------------------------------------------------------------ what it covers now
    def coverage(self, stage: str, sim: Simulation) -> np.ndarray:
        """[B, J, I] share of each shipment of the stage the measure covers this step."""
        mask = self.covers_stage[stage]
        if self.event.end_users == "all" or not mask.any():
            return mask
        defence = sim.defence_share[stage]
        users = defence if self.event.end_users == "defence" else 1.0 - defence
        return mask * users[:, None, :]


class ExportBan(ExportMeasure):
    """Covered shipments are not made; orders for them are re-sourced."""

    effect = "block"


class ExportLicence(ExportMeasure):
    """Each shipment waits a processing time (drawn per application) and is approved with a probability."""

    effect = "licence"

    def __init__(self, event, realised, scenario, network):
        super().__init__(event, realised, scenario, network)
        self._processing = event.processing_days
        self.approval = float(realised.approval)
        processing = event.processing_days
        self.expected_days = processing.central() if isinstance(processing, _Dist) else float(processing)

    def processing_days(self, rng: np.random.Generator) -> float:
        if isinstance(self._processing, _Dist):
            return self._processing.sample(rng)
        return float(self._processing)


class OriginRule(ExportLicence):
    """Goods exported by *other* countries need the exporter's licence when they hold more than
    ``threshold_share`` of material mined or refined in it (the October 2025 rule: 0.1 %).

    The share is read from the provenance of the shipping country's stock of the item, so a
    re-export chain (Chinese oxide -> Japanese magnet -> Korea) is caught.
    """

    def __init__(self, event, realised, scenario, network):
        super().__init__(event, realised, scenario, network)
        self.threshold = float(realised.threshold_share)
        self.kinds = tuple("mined" if s == "mine" else "refined" for s in realised.origin_stages)
        self.origin = [network.countries.index(c) for c in self.exporters]

    def _suppliers(self, countries):
        return tuple(c for c in countries if c not in self.exporters)

    def coverage(self, stage, sim):
        mask = super().coverage(stage, sim)
        if not mask.any():
            return mask
        tagged = sim.stocks_of(stage).tagged                      # [C, Q, X]
        if stage == "mine":
            tagged = tagged.sum(axis=2, keepdims=True)
        mass = tagged[:, 0, :]
        share = np.zeros_like(mass)
        for kind in self.kinds:
            rows = [sim.tags.row(kind, c) for c in self.origin]
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.maximum(share, np.where(mass > 0, tagged[:, rows, :].sum(axis=1)
                                                   / np.where(mass > 0, mass, 1.0), 0.0))
        return mask * (share > self.threshold)[None, :, :]


class ExportQuota(ExportMeasure):
    """Covered exports up to ``t_per_year`` (t REO, or t magnet) a calendar year, overall or per importer.

    The allowance accrues step by step and unused allowance carries over within the year.
    """

    effect = "quota"

    def __init__(self, event, realised, scenario, network):
        super().__init__(event, realised, scenario, network)
        self.t_per_day = float(realised.t_per_year) / DAYS_PER_YEAR
        self.per_importer = bool(realised.per_importer)
        self.allowance = np.zeros(network.n_countries if self.per_importer else 1)
        self.year: int | None = None

    def accrue(self, day: dt.date, days: float) -> None:
        """Add one step's allowance; a new calendar year starts from nothing."""
        if self.year != day.year:
            self.allowance[:] = 0.0
            self.year = day.year
        self.allowance += self.t_per_day * days

    def cap(self, shipped: np.ndarray, covered: np.ndarray) -> np.ndarray:
        """The part of ``shipped`` [B, J, I] beyond the allowance (``covered`` the share under quota)."""
        under = shipped * covered
        used = under.sum(axis=(1, 2)) if self.per_importer else np.array([under.sum()])
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(used > self.allowance, self.allowance / np.where(used > 0, used, 1.0), 1.0)
        cut = under * (1.0 - (scale[:, None, None] if self.per_importer else scale[0]))
        self.allowance -= np.minimum(used, self.allowance)
        return cut


class Tariff(ExportMeasure):
    """A price wedge on the exporter's goods: buyers move ``rate x sourcing_elasticity`` of their
    orders (at most all) to other makers with spare output, and buy the rest from it anyway."""

    effect = "tariff"

    def __init__(self, event, realised, scenario, network):
        super().__init__(event, realised, scenario, network)
        self.moved = min(1.0, float(realised.rate) * float(realised.sourcing_elasticity))

    def coverage(self, stage, sim):
        return super().coverage(stage, sim) * self.moved


MEASURES: dict[str, type[ExportMeasure]] = {"export_ban": ExportBan, "export_licence": ExportLicence,
                                            "origin_rule": OriginRule, "export_quota": ExportQuota,
                                            "tariff": Tariff}


def build_measures(scenario: Scenario, realised: Scenario, network: Network) -> list[ExportMeasure]:
    """One measure object per export measure of the scenario, with its suspensions."""
    measures = [MEASURES[event.type](event, real, scenario, network)
                for event, real in zip(scenario.drawn_from(realised), realised.events) if event.type in MEASURES]
    by_id = {m.id: m for m in measures if m.id}
    for event in realised.events:
        if event.type == "suspension":
            by_id[event.measure].suspensions.append((event.start, event.until))
    return measures
