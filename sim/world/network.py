"""Facilities, capacities and shares of the world a scenario describes (no SimPy here)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..scenario.distributions import realise
from ..scenario.schema import Facility, Scenario

DAYS_PER_YEAR = 365.25


def available_share(facility: Facility, on: dt.date) -> float:
    """Share of nameplate capacity usable on a date: 0 before ``online``, a linear ramp, 0 after ``closes``."""
    if facility.closes is not None and on >= facility.closes:
        return 0.0
    if facility.online is None:
        return 1.0
    if on < facility.online:
        return 0.0
    ramp_days = float(facility.ramp_years) * DAYS_PER_YEAR
    if ramp_days <= 0:
        return 1.0
    return min(1.0, (on - facility.online).days / ramp_days)


def facility_table(scenario: Scenario, on: dt.date | None = None) -> pd.DataFrame:
    """One row per facility: stage, country, capacity and expected output (t/yr) on a date.

    Capacity is nameplate times the ramp-up share on that date (0 before it
    opens or after it closes); expected output is capacity x utilisation, what
    a plant makes with enough input. Distributions count at their central value.
    """
    scenario = realise(scenario, None)
    on = on or scenario.calendar.start
    rows = []
    for stage in ("mine", "refinery", "magnet"):
        for fid, f in getattr(scenario.facilities, stage).items():
            share = available_share(f, on)
            rows.append({"stage": stage, "facility": fid, "name": f.name, "country": f.country,
                         "capacity_t": float(f.capacity_t) * share, "utilisation": float(f.utilisation),
                         "output_t": float(f.capacity_t) * float(f.utilisation) * share})
    return pd.DataFrame(rows, columns=["stage", "facility", "name", "country", "capacity_t", "utilisation",
                                       "output_t"])


def capacity_shares(scenario: Scenario, on: dt.date | None = None) -> pd.DataFrame:
    """Capacity and expected output by stage and country (t/yr), with each country's share of its stage.

    ``share`` is the share of the stage's capacity, ``output_share`` of its
    expected output.
    """
    table = facility_table(scenario, on)
    out = table.groupby(["stage", "country"], as_index=False, sort=False)[["capacity_t", "output_t"]].sum()
    for col, share in (("capacity_t", "share"), ("output_t", "output_share")):
        totals = out.groupby("stage")[col].transform("sum")
        out[share] = (out[col] / totals).where(totals > 0, 0.0)
    order = {"mine": 0, "refinery": 1, "magnet": 2}
    out = out.sort_values(["stage", "share"], key=lambda s: s.map(order) if s.name == "stage" else -s)
    return out.reset_index(drop=True)


# ---------------------------------------------------------------- arrays for the engine
TRADED = ("mine", "refinery", "magnet")


@dataclass(frozen=True)
class FacilityArrays:
    """One stage's facilities as arrays: where they are and what they can do each day."""

    ids: tuple[str, ...]
    country: np.ndarray          # [F] country index
    rate_t_per_day: np.ndarray   # [steps, F] capacity x utilisation x ramp-up, t/day (REO feed, REO, or magnet)
    nameplate_t_per_day: np.ndarray  # [steps, F] capacity x ramp-up, t/day: the most a plant can make
    shuts_below: np.ndarray      # [F] USD/kg of its price element under which the plant idles (0: never)
    price_element: np.ndarray    # [F] element index of that price

    def by_country(self, n_countries: int) -> np.ndarray:
        """[C, F] membership matrix: 1 where facility f is in country c."""
        member = np.zeros((n_countries, len(self.ids)))
        member[self.country, np.arange(len(self.ids))] = 1.0
        return member


@dataclass(frozen=True)
class Network:
    """The world of a scenario as index maps and arrays; what the engine computes with.

    Built from a *realised* scenario (plain numbers, no distributions). Units:
    t REO for concentrate and oxides, t magnet for magnets, days for times,
    rates per day unless the name says otherwise.
    """

    countries: tuple[str, ...]
    elements: tuple[str, ...]
    grades: tuple[str, ...]
    sectors: tuple[str, ...]
    dates: tuple[dt.date, ...]               # one per step, the step's first day
    step_days: int
    mines: FacilityArrays
    composition: np.ndarray                  # [F_mine, E] share of each element in the mine's REO
    refineries: FacilityArrays
    recovery: np.ndarray                     # [F_ref, E] share of each element recovered as oxide
    magnet_plants: FacilityArrays
    plant_grades: np.ndarray                 # [F_mag, G] 1 where the plant makes the grade
    material_yield: np.ndarray               # [F_mag] share of oxide input that ends in the magnet
    recipe: np.ndarray                       # [G, E] t REO of each element per t magnet
    magnet_kg_per_unit: np.ndarray           # [S]
    sector_grades: np.ndarray                # [S, G] grade mix
    defence: np.ndarray                      # [S] bool
    units: tuple[str, ...]                   # [S] product unit of each sector
    demand_units_per_day: np.ndarray         # [steps, C, S] units/day, growth included
    non_magnet_t_per_day: np.ndarray         # [steps, C, E]
    supplier_shares: dict[str, np.ndarray]   # stage -> [C buyer, C supplier], rows sum to 1
    lead_days: np.ndarray                    # [C exporter, C importer], 0 at home
    switching_days: dict[str, float]
    target_days: dict[str, np.ndarray]       # stage -> [C] working stock, days of use
    stockpile_days: np.ndarray               # [C]
    stockpile_elements: np.ndarray           # [C, E] bool
    release_below_days: np.ndarray           # [C] (inf: never released)
    release_days_per_month: np.ndarray       # [C]
    stockpile_initial_days: np.ndarray       # [C] days of use held at the calendar's start
    stockpile_build_step: np.ndarray         # [C] step by which the stockpile is built up (-1: opens full)
    stockpile_build_from: np.ndarray         # [C] step from which it buys
    forced_release_days_per_month: np.ndarray  # [steps, C] release decided by event, whatever the cover
    recycling_share: np.ndarray              # [steps, C] share of magnet rare-earth demand recycled to oxide
    price_floor: np.ndarray                  # [steps, C, E] USD/kg guaranteed to producers (0: none)
    initial_price: np.ndarray                # [E] USD/kg, NaN where the scenario gives none
    scarcity_elasticity: float
    stock_elasticity: float
    demand_elasticity: float
    surplus_elasticity: float
    max_price_multiple: float

    @property
    def n_countries(self) -> int:
        return len(self.countries)

    def index(self, country: str) -> int:
        return self.countries.index(country)


def items_holding(stage: str, elements, network: "Network") -> np.ndarray:
    """[I] bool: which of a stage's traded items hold one of ``elements`` (or 'all'): an oxide is its
    element, a magnet grade holds every element of its recipe, concentrate holds them all."""
    hit = np.array([elements == "all" or e in elements for e in network.elements])
    if stage == "mine":
        return np.array([hit.any()])
    if stage == "refinery":
        return hit
    return (network.recipe[:, hit] > 0).any(axis=1)


DEFAULT_TARGET_DAYS = {"mine": 30.0, "refinery": 45.0, "magnet": 30.0}
DEFAULT_SWITCHING_DAYS = {"mine": 180.0, "refinery": 90.0, "magnet": 270.0}


def step_dates(calendar, end: dt.date | None = None) -> tuple[dt.date, ...]:
    """The first day of every model step from the calendar's start to its end (or ``end``)."""
    last = min(end or calendar.end, calendar.end)
    step = dt.timedelta(days=calendar.step_days)
    dates, day = [], calendar.start
    while day <= last:
        dates.append(day)
        day += step
    return tuple(dates)


def _facility_arrays(facilities: dict, scenario: Scenario, dates) -> FacilityArrays:
    """Nameplate per step from capacity, ramp-up and closure, then the scenario's capacity changes and outages."""
    countries, elements = tuple(scenario.countries), tuple(scenario.elements)
    ids = tuple(facilities)
    nameplate = np.zeros((len(dates), len(ids)))
    for f, fac in enumerate(facilities.values()):
        nameplate[:, f] = [float(fac.capacity_t) / DAYS_PER_YEAR * available_share(fac, d) for d in dates]
    day = np.array([d.toordinal() for d in dates])
    for event in scenario.events:
        if getattr(event, "facility", None) not in ids:
            continue
        f = ids.index(event.facility)
        if event.type == "capacity_change":
            after = day >= event.date.toordinal()
            ramp = float(event.ramp_years) * DAYS_PER_YEAR
            reached = np.clip((day - event.date.toordinal()) / ramp, 0.0, 1.0) if ramp > 0 else np.ones(len(day))
            target = float(event.capacity_t) / DAYS_PER_YEAR
            nameplate[:, f] = np.where(after, nameplate[:, f] + (target - nameplate[:, f]) * reached, nameplate[:, f])
        elif event.type == "outage":
            during = (day >= event.start.toordinal()) & (day < event.end.toordinal())
            nameplate[during, f] *= 1.0 - float(event.share_lost)
    utilisation = np.array([float(fac.utilisation) for fac in facilities.values()])
    country = np.array([countries.index(fac.country) for fac in facilities.values()], dtype=int)
    shuts_below = np.array([float(fac.shuts_below_usd_per_kg or 0.0) for fac in facilities.values()])
    price_element = np.array([elements.index(fac.price_element) if fac.price_element in elements else 0
                              for fac in facilities.values()], dtype=int)
    return FacilityArrays(ids, country, nameplate * utilisation, nameplate, shuts_below, price_element)


def _window(dates, start: dt.date, end: dt.date | None) -> np.ndarray:
    """[steps] bool: steps whose first day lies in [start, end)."""
    return np.array([start <= d and (end is None or d < end) for d in dates], dtype=bool)


def _selected(names, chosen, scenario: Scenario | None = None) -> np.ndarray:
    """[N] bool over ``names`` for a list of names (countries may name groups) or 'all'."""
    if chosen == "all":
        return np.ones(len(names), dtype=bool)
    picked = scenario.country_set(chosen) if scenario is not None else chosen
    return np.array([n in picked for n in names], dtype=bool)


def _demand_path(scenario: Scenario, dates, demand: np.ndarray) -> np.ndarray:
    """Multiply end-use demand [steps, C, S] by the scenario's demand growth paths and shocks."""
    countries, sectors = tuple(scenario.countries), tuple(scenario.sectors)
    for event in scenario.events:
        if event.type not in ("demand_growth", "demand_shock"):
            continue
        where = np.outer(_selected(countries, event.countries, scenario), _selected(sectors, event.sectors))
        if event.type == "demand_shock":
            factor = np.where(_window(dates, event.start, event.end), float(event.multiplier), 1.0)
        else:
            last = event.end or dates[-1]
            years = np.array([(min(max(d, event.start), last) - event.start).days / DAYS_PER_YEAR for d in dates])
            factor = (1.0 + float(event.growth_per_year)) ** years
        demand = demand * np.where(where[None], factor[:, None, None], 1.0)
    return demand


def _recycling_share(scenario: Scenario, dates) -> np.ndarray:
    """[steps, C] share of each country's magnet rare-earth demand that comes back as recycled oxide."""
    countries = tuple(scenario.countries)
    share = np.zeros((len(dates), len(countries)))
    for event in scenario.events:
        if event.type != "recycling":
            continue
        years = np.array([(d - event.start).days / DAYS_PER_YEAR for d in dates])
        path = np.where(years >= 0, np.minimum(float(event.share) * (1.0 + float(event.growth_per_year))
                                               ** np.maximum(years, 0.0), float(event.max_share)), 0.0)
        share += np.outer(path, _selected(countries, event.countries, scenario))
    return np.minimum(share, 1.0)


def _price_floor(scenario: Scenario, dates) -> np.ndarray:
    """[steps, C, E] the highest price floor guaranteed to each country's producers of each element."""
    countries, elements = tuple(scenario.countries), tuple(scenario.elements)
    floor = np.zeros((len(dates), len(countries), len(elements)))
    for event in scenario.events:
        if event.type != "price_floor":
            continue
        during = _window(dates, event.start, event.end)
        mask = _selected(countries, event.countries, scenario)
        e = elements.index(event.element)
        floor[np.ix_(during, mask, [e])] = np.maximum(floor[np.ix_(during, mask, [e])], float(event.usd_per_kg))
    return floor


def _forced_release(scenario: Scenario, dates) -> np.ndarray:
    """[steps, C] days of use per month released by ``stockpile_release`` events."""
    countries = tuple(scenario.countries)
    rate = np.zeros((len(dates), len(countries)))
    for event in scenario.events:
        if event.type == "stockpile_release":
            rate[_window(dates, event.start, event.end), countries.index(event.country)] += float(event.days_per_month)
    return rate


def build_network(scenario: Scenario, end: dt.date | None = None) -> Network:
    """Arrays of a realised scenario (call ``distributions.realise`` first)."""
    countries = tuple(scenario.countries)
    elements = tuple(scenario.elements)
    grades = tuple(scenario.magnet_grades)
    sectors = tuple(scenario.sectors)
    C, E, G, S = len(countries), len(elements), len(grades), len(sectors)
    dates = step_dates(scenario.calendar, end)
    years = np.array([(d - scenario.calendar.start).days / DAYS_PER_YEAR for d in dates])
    fac = scenario.facilities

    composition = np.array([[float(m.composition.get(e, 0.0)) for e in elements] for m in fac.mine.values()])
    recovery = np.array([[float(r.recovery) if (r.separates is None or e in r.separates) else 0.0 for e in elements]
                         for r in fac.refinery.values()])
    plant_grades = np.array([[1.0 if (p.grades is None or g in p.grades) else 0.0 for g in grades]
                             for p in fac.magnet.values()])
    recipe = np.array([[float(scenario.magnet_grades[g].recipe.get(e, 0.0)) for e in elements] for g in grades])

    demand = np.zeros((len(dates), C, S))
    for c, by_sector in scenario.demand.items():
        for s, d in by_sector.items():
            demand[:, countries.index(c), sectors.index(s)] = (
                float(d.units_per_year) / DAYS_PER_YEAR * (1.0 + float(d.growth_per_year)) ** years)
    demand = _demand_path(scenario, dates, demand)
    non_magnet = np.zeros((len(dates), C, E))
    for c, nm in scenario.non_magnet_demand.items():
        for e, t in nm.t_per_year.items():
            non_magnet[:, countries.index(c), elements.index(e)] = (
                float(t) / DAYS_PER_YEAR * (1.0 + float(nm.growth_per_year)) ** years)

    shares = {}
    for stage in TRADED:
        w = np.eye(C)  # a country without a supplier list uses only what it makes itself
        for buyer, sup in scenario.trade.suppliers.get(stage, {}).items():
            b = countries.index(buyer)
            w[b] = 0.0
            for seller, share in sup.shares.items():
                w[b, countries.index(seller)] = float(share)
        shares[stage] = w

    lead = np.full((C, C), float(scenario.trade.lead_time_days))
    for key, route in scenario.trade.routes.items():
        exporter, importer = key.split("-")
        for x in scenario.country_set((exporter,)):
            for m in scenario.country_set((importer,)):
                lead[countries.index(x), countries.index(m)] = float(route.days)
    np.fill_diagonal(lead, 0.0)

    targets = {}
    for stage in TRADED:
        days = float(scenario.inventories.target_days.get(stage, DEFAULT_TARGET_DAYS[stage]))
        t = np.full(C, days)
        for c, by_stage in scenario.inventories.by_country.items():
            if stage in by_stage:
                t[countries.index(c)] = float(by_stage[stage])
        targets[stage] = t

    pile_days = np.zeros(C)
    pile_initial = np.zeros(C)
    build_step = np.full(C, -1)
    build_from = np.zeros(C, dtype=int)
    pile_elements = np.zeros((C, E), dtype=bool)
    below = np.full(C, np.inf)
    per_month = np.zeros(C)
    for c, pile in scenario.stockpiles.items():
        i = countries.index(c)
        pile_days[i] = float(pile.days)
        pile_initial[i] = float(pile.days)
        if pile.build_by is not None:
            pile_initial[i] = float(pile.initial_days or 0.0)
            build_step[i] = sum(d < pile.build_by for d in dates)
            build_from[i] = sum(d < pile.build_from for d in dates) if pile.build_from else 0
        pile_elements[i, [elements.index(e) for e in pile.elements]] = True
        if pile.release is not None:
            below[i] = float(pile.release.below_days)
            per_month[i] = float(pile.release.max_days_per_month)

    prices = scenario.prices
    return Network(
        countries=countries, elements=elements, grades=grades, sectors=sectors, dates=dates,
        step_days=scenario.calendar.step_days,
        mines=_facility_arrays(fac.mine, scenario, dates), composition=composition.reshape(-1, E),
        refineries=_facility_arrays(fac.refinery, scenario, dates), recovery=recovery.reshape(-1, E),
        magnet_plants=_facility_arrays(fac.magnet, scenario, dates), plant_grades=plant_grades.reshape(-1, G),
        material_yield=np.array([float(p.material_yield) for p in fac.magnet.values()]),
        recipe=recipe.reshape(G, E),
        magnet_kg_per_unit=np.array([float(scenario.sectors[s].magnet_kg_per_unit) for s in sectors]),
        sector_grades=np.array([[float(scenario.sectors[s].grades.get(g, 0.0)) for g in grades]
                                for s in sectors]).reshape(S, G),
        defence=np.array([scenario.sectors[s].defence for s in sectors], dtype=bool),
        units=tuple(scenario.sectors[s].unit for s in sectors),
        demand_units_per_day=demand, non_magnet_t_per_day=non_magnet,
        supplier_shares=shares, lead_days=lead,
        switching_days={s: float(scenario.trade.switching_days.get(s, DEFAULT_SWITCHING_DAYS[s])) for s in TRADED},
        target_days=targets, stockpile_days=pile_days, stockpile_elements=pile_elements,
        release_below_days=below, release_days_per_month=per_month,
        stockpile_initial_days=pile_initial, stockpile_build_step=build_step, stockpile_build_from=build_from,
        forced_release_days_per_month=_forced_release(scenario, dates),
        recycling_share=_recycling_share(scenario, dates), price_floor=_price_floor(scenario, dates),
        initial_price=np.array([float(prices.initial_usd_per_kg.get(e, np.nan)) for e in elements]),
        scarcity_elasticity=float(prices.scarcity_elasticity), stock_elasticity=float(prices.stock_elasticity),
        demand_elasticity=float(prices.demand_elasticity), surplus_elasticity=float(prices.surplus_elasticity),
        max_price_multiple=float(prices.max_multiple),
    )
