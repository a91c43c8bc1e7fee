"""Why a country went short: its end users' unmet magnet demand split into parts that add up to it.

For each using country c, every step, in t magnet:

1. **Reference.** Over the reference year (the year before the first export measure; without one, the run's
   first year) maker m supplied ``ref[c, m]`` of c's end-use demand (m = c: c's own plants), and a share
   ``before[c]`` of it went unmet.
2. **Parts by maker.** ``demand x ref[c, m] - used[c, m]``: what maker m supplied less (positive: lost) or more
   (negative: *re-sourced*) than its share of the reference year; ``demand x before[c]``: what was short
   already then (*short before*). These parts add up to ``demand - supplied``, the unmet demand, exactly.
3. **Why a maker supplied less.** A lost part is first put down to the maker's plants making less than they
   planned (*plants short of oxide*): up to its share of the reference x the share of the maker's plan its
   plants did not make that step. That part is split by the element they ran short of (the scarcest of each
   grade's recipe, as the engine records it; elements scarce together share it) and each element's part by
   the oxide suppliers the maker lost (each supplier's reference weekly supply of the element less its
   average over the last ``TRAILING_STEPS`` steps, where positive), each with the first export measure in
   force covering that route and element; with no supplier lost, the maker's plants simply had too little
   of it (no supplier, no measure). The rest of a lost part is put down to the first export measure in force
   covering the route from the maker to c at the magnet stage (*export measure*), else to the market
   (*market*: the maker sold to others, or c bought less of it).

An origin rule covers a route from a third country when the goods carry the rule's origin material: here,
when what the supplier made (magnets) or separated (oxides) over the trailing steps held at least the rule's
threshold share of it. A re-export chain (Chinese oxide -> Japanese magnets -> Korea) shows as Korea's part
lost from Japan's plants short of Dy, with China as the oxide supplier and the ban on Japan as the measure.

Where a step's magnets came from the stock of earlier steps, this reads causes at the step the end users
were short, not when the stock was made: a rule of attribution, not a counterfactual run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..stages import MAGNET, MINE, REFINERY
from ..world import covered_routes
from .summary import SHOWN_T

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt

    import pandas as pd

    from ..scenario import Scenario
    from ..world import Network
    from .recorder import Recorder


class Results(Protocol):
    """What the attribution reads of a run (``sim.results.tables.Results`` is one): named here so that this
    module imports nothing from ``tables``, which imports it."""

    countries: tuple[str, ...]
    first_measure: dt.date | None
    net: Network
    raw: Recorder
    world: Scenario

    def by_period(self, array: np.ndarray, frequency: str, how: str = "sum") -> tuple: ...


ORIGIN_RULE = "origin_rule"           # the measure type that covers re-exports
# of the provenance rows, the causes read who made the magnets used (and an origin rule's, which its run keeps)
PROVENANCE_READ = ("made",)
TRAILING_STEPS = 13                    # a quarter of weekly steps: how far back lost supply and origin are read
SHORT_BEFORE, RESOURCED, PLANTS, MEASURE, MARKET = ("short before", "re-sourced", "plants short of oxide",
                                                    "export measure", "market")
CAUSES = (SHORT_BEFORE, PLANTS, MEASURE, MARKET, RESOURCED)
OWN, IMPORTS = "own plants", "imports"
CAUSE_TABLE = ("country", "stage", "maker", "cause", "element", "oxide_from", "measure")


@dataclass(frozen=True)
class Span:
    """The steps [first, stop) of a reference year, and what it is."""

    first: int
    stop: int
    label: str


def reference_span(results: Results) -> Span:
    """The year of steps before the first export measure; without one (or one from the run's start) the first
    year of the run."""
    dates = results.net.dates
    n = round(365.25 / results.net.step_days)
    measure = results.first_measure
    first = int(np.searchsorted(results.net.days, np.datetime64(measure))) if measure else 0
    if first == 0:
        return Span(0, min(n, len(dates)), f"the run's first year (from {dates[0]})")
    return Span(max(0, first - n), first, f"the year before the first export measure ({measure})")


def trailing_mean(array: np.ndarray) -> np.ndarray:
    """[step, ...] the mean of each step and the ``TRAILING_STEPS - 1`` before it (fewer at the start)."""
    total = np.cumsum(array, axis=0)
    out = total.copy()
    out[TRAILING_STEPS:] -= total[:-TRAILING_STEPS]
    count = np.minimum(np.arange(1, len(array) + 1), TRAILING_STEPS).reshape(-1, *[1] * (array.ndim - 1))
    return out / count


class Measures:
    """The run's export measures that stop or hold goods (not tariffs), as the attribution reads them: when each
    was in force, and the routes it covered (``sim.world.covered_routes``, as the engine's measures have them)."""

    def __init__(self, results: Results):
        net, world = results.net, results.world
        self.events = [e for e in world.events if getattr(type(e), "restricts", False)]
        self.ids = [e.id or f"{e.type} {i + 1}" for i, e in enumerate(self.events)]
        self.covers = [covered_routes(e, world, net, re_exports=e.type == ORIGIN_RULE) for e in self.events]
        days = net.days
        self.in_force = np.zeros((len(self.events), len(days)), dtype=bool)      # [measure, step]
        for i, e in enumerate(self.events):
            on = days >= np.datetime64(e.start)
            if e.end is not None:
                on &= days < np.datetime64(e.end)
            for pause in world.events:
                if pause.type == "suspension" and e.id and pause.measure == e.id:
                    on &= ~((days >= np.datetime64(pause.start)) & (days < np.datetime64(pause.until)))
            self.in_force[i] = on
        self.origin = {}     # measure -> stage -> [step, country] whether what the country shipped holds its origin
        raw, tags = results.raw, net.tags
        for i, e in enumerate(self.events):
            if e.type == ORIGIN_RULE:
                rows = [tags.row("mined" if s == MINE else "refined", net.index(c)) for s in e.origin_stages
                        for c in world.country_set((e.exporter,))]
                self.origin[i] = {stage: self._holds(tagged, rows, float(e.threshold_share)) for stage, tagged in
                                  ((MAGNET, raw.made_tags[:]), (REFINERY, raw.consumed_tags.select(0)[:]))}

    @staticmethod
    def _holds(tagged: np.ndarray, rows: list[int], threshold: float) -> np.ndarray:
        """[step, country] whether what the country made over the trailing steps (``tagged`` [step, C, Q]) held at
        least ``threshold`` of the origin material its provenance ``rows`` count."""
        mass = trailing_mean(tagged[:, :, 0])
        origin = trailing_mean(tagged[:, :, rows].max(axis=2))
        return (mass > 0) & (origin >= threshold * mass)

    def covering(self, stage: str, buyer: int, supplier: int, items: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(measure index, [step] in force and covering) for the measures that cover some of ``items`` (a bool
        mask of the stage's items) on the route from ``supplier`` to ``buyer``, in the scenario's order."""
        out = []
        for i, covers in enumerate(self.covers):
            if not self.in_force[i].any() or not (covers[stage][buyer, supplier] * items).any():
                continue
            when = self.in_force[i]
            if i in self.origin:
                when = when & self.origin[i][stage][:, supplier]
            if when.any():
                out.append((i, when))
        return out


def cause_parts(results: Results) -> tuple[list[tuple], np.ndarray]:
    """The keys (``CAUSE_TABLE``'s columns) and the parts [step, key] (t magnet) of every country's unmet
    end-use demand: for each country, its parts add up to its demand less what it was supplied, every step."""
    net, raw, tags = results.net, results.raw, results.net.tags
    C, E = net.n_countries, len(net.elements)
    countries, elements = net.countries, net.elements
    span = reference_span(results)
    ref = slice(span.first, span.stop)
    demand = raw.demand.sum(axis=2)                                          # [n, C] t magnet
    supplied = raw.supplied.sum(axis=2)
    used = raw.used_tags_t.select(slice(None), tags.kind("made"))[:]         # [n, user, maker]
    unknown = supplied - used.sum(axis=2)                                    # magnets with no maker's row: none
    used = np.concatenate([used, unknown[:, :, None]], axis=2)
    asked = demand[ref].sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(asked[:, None] > 0, used[ref].sum(axis=0) / asked[:, None], 0.0)     # [user, maker + 1]
        before = np.where(asked > 0, 1.0 - share.sum(axis=1), 1.0)                            # [user]
    # what each maker's plants did not make of their plan, as a share, and by the element they lacked
    planned, made = raw.magnets_planned.sum(axis=2), raw.magnets_made.sum(axis=2)           # [n, C]
    with np.errstate(invalid="ignore", divide="ignore"):
        not_made = np.where(planned > 0, np.clip(1.0 - made / np.where(planned > 0, planned, 1.0), 0.0, 1.0), 0.0)
        short_of = raw.short_of                                                         # [n, C, E] t magnet
        by_element = np.where(short_of.sum(axis=2, keepdims=True) > 0,
                              short_of / short_of.sum(axis=2, keepdims=True), 0.0)
    lost_oxide = LostOxides(results, span)
    measures = Measures(results)
    grades_used = _grades_used(results)                                                 # [C, G] bool
    no_element = 1.0 - by_element.sum(axis=2)         # [n, C] the share of a missed plan that names no element
    lacked = by_element.any(axis=0)                   # [C, E] the elements each maker's plants ever ran short of
    keys: dict[tuple, np.ndarray] = {}
    # (maker, supplier, element): the measures on that oxide's route, as ``Measures.covering`` gives them
    covering_oxide: dict[tuple[int, int, int], list[tuple[int, np.ndarray]]] = {}

    def add(key: tuple, values: np.ndarray) -> None:
        if values.any():
            keys[key] = keys[key] + values if key in keys else values.copy()

    for c in range(C):
        if not demand[:, c].any():
            continue
        name = countries[c]
        add((name, "", "", SHORT_BEFORE, "", "", ""), demand[:, c] * before[c])
        # each maker's part, and of a lost part what its plants did not make, for every maker at once [n, maker]
        expected = demand[:, c, None] * share[c]
        parts = expected - used[:, c]
        lost = np.maximum(parts, 0.0)
        plants = np.minimum(lost[:, :C], expected[:, :C] * not_made)
        for m in np.flatnonzero(parts.any(axis=0)).tolist():
            maker = countries[m] if m < C else "unknown"
            stage = OWN if m == c else IMPORTS
            add((name, stage, maker, RESOURCED, "", "", ""), np.minimum(parts[:, m], 0.0))
            if m == C:
                add((name, stage, maker, MARKET, "", "", ""), lost[:, m])
                continue
            # a plan missed by less than a milligram a grade names no element (``short_of``): no element either
            add((name, stage, maker, PLANTS, "", "", ""), plants[:, m] * no_element[:, m])
            for e in np.flatnonzero(lacked[m]).tolist():
                of_e = plants[:, m] * by_element[:, m, e]
                if not of_e.any():
                    continue
                suppliers, total, lost_from = lost_oxide(m, e)             # [n, supplier lost], [n], [supplier]
                add((name, stage, maker, PLANTS, elements[e], "", ""), np.where(total > 0, 0.0, of_e))
                with np.errstate(invalid="ignore", divide="ignore"):
                    pieces = np.where(total[:, None] > 0,
                                      of_e[:, None] * suppliers / np.where(total > 0, total, 1.0)[:, None], 0.0)
                for k, r in enumerate(lost_from):
                    if (m, r, e) not in covering_oxide:
                        item = np.zeros(E, dtype=bool)
                        item[e] = True
                        covering_oxide[m, r, e] = measures.covering(REFINERY, m, r, item)
                    _by_measure(add, (name, stage, maker, PLANTS, elements[e], countries[r]), pieces[:, k],
                                covering_oxide[m, r, e], measures.ids)
            rest = lost[:, m] - plants[:, m]
            if m != c:
                covering = measures.covering(MAGNET, c, m, grades_used[c])
                _by_measure(add, (name, stage, maker, MEASURE, "", ""), rest, covering, measures.ids,
                            unnamed=(name, stage, maker, MARKET, "", "", ""),
                            elements=[_measure_elements(measures.events[i], net, grades_used[c])
                                      for i, _ in covering])
            else:
                add((name, stage, maker, MARKET, "", "", ""), rest)
    return list(keys), np.stack(list(keys.values()), axis=1) if keys else np.zeros((len(net.dates), 0))


def _by_measure(add, head: tuple, part: np.ndarray, covering: list[tuple[int, np.ndarray]], ids: list[str],
                unnamed: tuple | None = None, elements: list[str] | None = None) -> None:
    """Put ``part`` [step] down to the first measure of ``covering`` in force each step: the key ``head`` (all
    columns but the measure) and the measure's id in ``ids`` (with ``elements``, the elements each names in the
    key's element column); the rest to ``unnamed`` (by default ``head`` with no measure)."""
    unnamed = unnamed if unnamed is not None else (*head, "")
    if not covering:
        add(unnamed, part)
        return
    left = np.ones(len(part), dtype=bool)
    for k, (i, when) in enumerate(covering):
        now = left & when
        key = (*head[:4], elements[k], *head[5:]) if elements is not None else head
        add((*key, ids[i]), np.where(now, part, 0.0))
        left &= ~now
    add(unnamed, np.where(left, part, 0.0))


def _measure_elements(event, net, grades: np.ndarray) -> str:
    """The elements a measure's ``event`` names that the recipes of ``grades`` (a bool mask) hold, joined by '+'."""
    return joined_elements(net.elements, net.recipe[grades].sum(axis=0) > 0, event.elements)


def joined_elements(elements: tuple[str, ...], held: np.ndarray, named: tuple[str, ...] | str) -> str:
    """'Tb+Dy': the ``elements`` that recipes hold (``held``, a bool per element) and a measure names (``named``,
    or "all"), in the elements' order."""
    return "+".join(e for e, h in zip(elements, held) if h and (named == "all" or e in named))


def element_codes(scenario) -> tuple[str, ...]:
    """What the causes table's element column can hold in a run of ``scenario``: nothing, an element, or the
    elements a measure names that some set of grades holds, joined."""
    from itertools import combinations

    elements, grades = tuple(scenario.elements), list(scenario.magnet_grades.values())
    joined = set()
    for event in scenario.events:
        named = getattr(event, "elements", None)
        if named is None:
            continue
        for n in range(1, len(grades) + 1):
            for chosen in combinations(grades, n):
                held = np.array([any(g.recipe.get(e, 0) > 0 for g in chosen) for e in elements])
                joined.add(joined_elements(elements, held, named))
    return ("", *elements, *sorted(joined - set(elements) - {""}))


def _grades_used(results: Results) -> np.ndarray:
    """[C, G] whether a country's end users ask for magnets of each grade."""
    net = results.net
    return (results.raw.demand.sum(axis=0) @ net.sector_grades) > 0


class LostOxides:
    """The oxide suppliers each maker lost, element by element: ``lost(m, e)`` is ([n, supplier lost] t REO a
    step, their total [n], and the suppliers lost [supplier lost]): each supplier's weekly supply of element
    ``e`` to maker ``m`` (its own separation and recycling for itself) over the reference year less its average
    over the trailing steps, where that is positive, of the suppliers it ever is. Worked out for the makers and
    elements asked, when first asked: an attribution asks for a few of them, for each of the makers' buyers."""

    def __init__(self, results: Results, span: Span):
        self._raw, self._span = results.raw, span
        self._supply: dict[int, np.ndarray] = {}          # maker -> [n, supplier, E]
        self._lost: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, list[int]]] = {}

    def __call__(self, m: int, e: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
        if (m, e) not in self._lost:
            if m not in self._supply:
                supply = self._raw.exports[REFINERY].select(m)[:]
                supply[:, m] = self._raw.separated[:, m] + self._raw.recycled[:, m]
                self._supply[m] = supply
            supply = self._supply[m][:, :, e]
            reference = supply[self._span.first:self._span.stop].mean(axis=0)
            lost = np.maximum(reference[None] - trailing_mean(supply), 0.0)
            lost_from = np.flatnonzero(lost.any(axis=0))
            self._lost[m, e] = (lost[:, lost_from], lost.sum(axis=1), lost_from.tolist())
        return self._lost[m, e]


def causes_table(results: Results, frequency: str) -> pd.DataFrame:
    """The ``causes`` table: date, country, stage, maker, cause, element, oxide_from, measure, t (see the
    module's docstring): a row per part that is not zero in a period."""
    import pandas as pd

    keys, parts = cause_parts(results)
    labels, periods = results.by_period(parts, frequency)
    p, k = np.nonzero(np.abs(periods) > SHOWN_T)
    frame = pd.DataFrame([keys[i] for i in k], columns=list(CAUSE_TABLE))
    frame.insert(0, "date", pd.DatetimeIndex(labels)[p])
    frame["t"] = periods[p, k]
    return frame


def save_causes(results: Results, file, frequency: str = "month") -> None:
    """Write a replication's parts by period to an .npz file (plain arrays, no pickles): ``keys`` [K, 7] (the
    ``CAUSE_TABLE`` columns), ``dates`` [P], ``parts`` [P, K] t magnet, and each country's (``countries`` [C])
    end-use ``demand`` and ``unmet`` [P, C] t magnet, and ``value`` [P, C] USD, its gross output at risk
    (of the valued sectors, as the ``unmet`` table's): what ``explain`` reads of it."""
    keys, parts = cause_parts(results)
    labels, periods = results.by_period(parts, frequency)
    raw, net = results.raw, results.net
    demand = results.by_period(raw.demand.sum(axis=2), frequency)[1]
    unmet = np.maximum(demand - results.by_period(raw.supplied.sum(axis=2), frequency)[1], 0.0)
    by_sector = results.by_period(raw.demand, frequency)[1] - results.by_period(raw.supplied, frequency)[1]
    by_sector = np.where(by_sector > SHOWN_T, by_sector, 0.0)                  # [P, C, S] t magnet
    per_t = np.nan_to_num(net.value_usd_per_unit) * 1000.0 / net.magnet_kg_per_unit   # [S] USD per t magnet
    np.savez(file, keys=np.array(keys, dtype=str).reshape(len(keys), len(CAUSE_TABLE)),
             dates=np.array(labels, dtype="datetime64[D]"), parts=periods, countries=np.array(results.countries),
             demand=demand, unmet=np.where(unmet > SHOWN_T, unmet, 0.0), value=by_sector @ per_t)


def load_causes(file) -> dict[str, pd.DataFrame]:
    """The ``causes`` and ``unmet`` tables (the columns ``explain`` reads) of what ``save_causes`` wrote."""
    import pandas as pd

    with np.load(file, allow_pickle=False) as data:
        keys, dates, parts = data["keys"], pd.DatetimeIndex(data["dates"]), data["parts"]
        countries, demand, unmet = data["countries"], data["demand"], data["unmet"]
        value = data["value"] if "value" in data.files else None          # written before values were
    p, k = np.nonzero(np.abs(parts) > SHOWN_T)
    causes = pd.DataFrame(keys[k], columns=list(CAUSE_TABLE))
    causes.insert(0, "date", dates[p])
    causes["t"] = parts[p, k]
    p, c = np.nonzero(demand > 0)
    unmet_table = pd.DataFrame({"date": dates[p], "country": countries[c], "demand_t": demand[p, c],
                                "unmet_t": unmet[p, c]})
    if value is not None:
        unmet_table["value_at_risk_usd"] = value[p, c]
    return {"causes": causes, "unmet": unmet_table}
