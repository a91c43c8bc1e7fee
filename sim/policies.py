"""Export measures as small classes picked by ``type``: what they cover and what they do.

A measure covers shipments ``[buyer, supplier, item]`` of the stages it names:
its exporter's (or exporter group's) exports to its importers, of the items
that hold its elements (an oxide is its element; a magnet grade holds every
element of its recipe; concentrate holds them all). The engine asks each
active measure what it covers and treats covered shipments as the measure's
``effect`` says: ``block`` (never shipped) or ``licence`` (held for a random
processing time, then shipped or refused). Adding a measure is adding a class
here and registering it under its ``type``.
"""
from __future__ import annotations

import numpy as np

from .distributions import _Dist
from .network import TRADED, Network
from .schema import Event, Measure, Scenario


class NotModelled(Exception):
    """A scenario uses an event the engine does not model yet."""

    def __init__(self, index: int, event: Event, reason: str):
        self.index, self.event, self.reason = index, event, reason
        super().__init__(f"events[{index}] ({getattr(event, 'type', '?')}): {reason}")


class ExportMeasure:
    """Common part: which shipments the measure covers, and whether it is in force."""

    effect = "block"

    def __init__(self, event: Measure, realised: Measure, scenario: Scenario, network: Network):
        self.event = realised
        self.id = realised.id
        countries = network.countries
        exporters = scenario.country_set((realised.exporter,))
        importers = [c for c in scenario.country_set(realised.importers) if c not in exporters] \
            if realised.importers != "all" else [c for c in countries if c not in exporters]
        self.covers_stage: dict[str, np.ndarray] = {}
        for stage in TRADED:
            items = self._items(stage, network)
            mask = np.zeros((len(countries), len(countries), len(items)), dtype=bool)
            if stage in realised.stages:
                b = [countries.index(c) for c in importers]
                j = [countries.index(c) for c in exporters]
                mask[np.ix_(b, j, np.flatnonzero(items))] = True
            self.covers_stage[stage] = mask
        self.active = False

    def _items(self, stage: str, network: Network) -> np.ndarray:
        """[I] bool: which of the stage's traded items hold one of the measure's elements."""
        chosen = self.event.elements
        hit = np.array([chosen == "all" or e in chosen for e in network.elements])
        if stage == "mine":
            return np.array([hit.any()])              # concentrate holds every element
        if stage == "refinery":
            return hit
        return (network.recipe[:, hit] > 0).any(axis=1)  # a grade holds the elements of its recipe


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

    def processing_days(self, rng: np.random.Generator) -> float:
        if isinstance(self._processing, _Dist):
            return self._processing.sample(rng)
        return float(self._processing)


MEASURES: dict[str, type[ExportMeasure]] = {"export_ban": ExportBan, "export_licence": ExportLicence}


def build_measures(scenario: Scenario, realised: Scenario, network: Network) -> list[ExportMeasure]:
    """One measure object per export measure of the scenario; NotModelled for what the engine cannot do yet."""
    measures = []
    for i, (event, real) in enumerate(zip(scenario.events, realised.events)):
        kind = getattr(event, "type", None)
        if kind not in MEASURES:
            raise NotModelled(i, event, f"'{kind}' events are not modelled by the engine yet; "
                                        f"modelled: {', '.join(MEASURES)}")
        if real.end_users != "all":
            raise NotModelled(i, event, "measures on civil or defence end users only are not modelled yet; "
                                        "use end_users: all")
        measures.append(MEASURES[kind](event, real, scenario, network))
    return measures
