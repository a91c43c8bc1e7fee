"""The world of a scenario as index maps and arrays: what the engine computes with (no SimPy here)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ..kernels import lazy
from ..scenario import Scenario
from ..stages import MAGNET, MINE, REFINERY, STAGES, item_names
from .calendar import DAYS_PER_YEAR, step_dates
from .facilities import FacilityArrays, facility_arrays
from .markets import market_names, market_of
from .paths import demand_path, forced_release, price_floor, recycling_share
from .provenance import KINDS, Tags

market_kernels = lazy("markets")     # Numba loaded at its first kernel, not with this module


class Restocking(NamedTuple):
    """How buyers restock after a shortage (the scenario's ``inventories.after_shortage``, drawn)."""

    extra_days: float        # days of use added to the target cover after a total shortage
    memory_days: float       # the raise and the stretch fall by a factor e every memory_days
    contract_flex: float     # what a usual supplier may ship beyond its share of normal use right after it


class OnPriceRise(NamedTuple):
    """How buyers of oxides hold stock as prices move (the scenario's ``inventories.on_price_rise``, drawn)."""

    days_per_doubling: float  # days of use added to the target cover for each doubling over the recent average
    memory_days: float        # the recent average is exponential over this many days


class Expectations(NamedTuple):
    """How prices move on news (the scenario's ``prices.expectations``, drawn)."""

    announced: float         # weight of the covered share of orders, from a measure's announcement to its start
    supply_loss: float       # weight of the lost share of the world's capacity of an element
    memory_days: float       # the expected loss falls by a factor e every memory_days


class SwitchingGroup(NamedTuple):
    """Items of one stage with the same switching delay: a buyer short of any of them qualifies new suppliers
    of them all at once."""

    days: float
    items: np.ndarray        # [n] item indices


@dataclass(frozen=True)
class Network:
    """The world of a scenario as index maps and arrays; what the engine computes with.

    Built from a drawn scenario, a world (plain numbers, no distributions). Units:
    t REO for concentrate and oxides, t magnet for magnets, days for times,
    rates per day unless the name says otherwise.
    """

    countries: tuple[str, ...]
    elements: tuple[str, ...]
    grades: tuple[str, ...]
    sectors: tuple[str, ...]
    dates: tuple[dt.date, ...]               # one per step, the step's first day
    step_days: int
    last_day: dt.date                        # of the run: the calendar's end, or where it was stopped
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
    value_usd_per_unit: np.ndarray           # [S] USD a unit not made is worth; NaN: not valued
    demand_units_per_day: np.ndarray         # [steps, C, S] units/day, growth included
    non_magnet_t_per_day: np.ndarray         # [steps, C, E]
    supplier_shares: dict[str, np.ndarray]   # stage -> [C buyer, C supplier], rows sum to 1
    lead_days: np.ndarray                    # [C exporter, C importer], 0 at home
    switching_days: dict[str, np.ndarray]    # stage -> [I] days before a buyer short of an item may re-source it
    target_days: dict[str, np.ndarray]       # stage -> [C] working stock, days of use
    stockpile_days: np.ndarray               # [C] size in days of what stockpile_end_use says (0 where in t)
    stockpile_elements: np.ndarray           # [C, E] bool
    stockpile_end_use: np.ndarray            # [C] bool: days count end users' magnet content, not own oxide use
    stockpile_in_t: np.ndarray               # [C] bool: sized in t (stockpile_t), not in days
    stockpile_t: np.ndarray                  # [C, E] t of each oxide where sized in t
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
    other_uses_elasticity: np.ndarray        # [E] oxide use outside magnets: use x price multiple^-elasticity
    demand_recovery_per_year: float | None   # destroyed demand returns at most this far a year; None: at once
    scarcity_of_orders: bool                 # scarcity counts unfilled import orders too, not only unmet own use
    adjustment_per_year: float | None        # prices move by this rate x the log of the pressure; None: at once
    reversion_per_year: float                # ... and back towards the initial price at this rate
    home_market: str | None                  # the country whose buyers form the home market; None: one world market
    markets: tuple[str, ...]                 # [M] (world,) or (home, outside): the market axis of prices
    market_of: np.ndarray                    # [C] the market each country's buyers buy in
    restocking: Restocking | None = None     # None: buyers keep their working stock targets whatever happened
    on_price_rise: OnPriceRise | None = None  # None: buyers' cover does not follow prices
    expectations: Expectations | None = None  # None: prices move on unmet orders only, not on news
    long_run: LongRunAnswer | None = None    # None: demand's answer to prices is its short-run one
    provenance: tuple[str, ...] = KINDS       # the kinds of provenance rows the run writes (``Tags.kept``)

    @property
    def n_countries(self) -> int:
        return len(self.countries)

    @property
    def outside(self) -> int:
        """Index of the market everyone but the home country buys in (the world market, without a home one)."""
        return len(self.markets) - 1

    def by_market(self, x: np.ndarray) -> np.ndarray:
        """[C, K] -> [M, K]: summed over the countries of each market (compiled, ``sim.kernels.markets``)."""
        return market_kernels.by_market(x, self.market_of, len(self.markets))

    def index(self, country: str) -> int:
        return self.countries.index(country)

    def end_use_content(self, day: int | slice) -> np.ndarray:
        """[C, E] t/day of each element in the magnets each country's end users demand on ``day`` ([steps, C, E]
        for a slice of days): sectors' magnet kg per unit, grade mix and recipes, as the scenario gives them,
        before any answer to prices."""
        magnets = self.demand_units_per_day[day] * self.magnet_kg_per_unit / 1000.0     # [C, S] t magnet/day
        return magnets @ self.sector_grades @ self.recipe

    # ------------------------------------------------------------ derived once, for the engine
    @cached_property
    def tags(self) -> Tags:
        """Row layout of tagged mass (provenance) for this world's countries."""
        return Tags(self.n_countries, self.provenance)

    def facilities(self, stage: str) -> FacilityArrays:
        """The facilities of a stage: mines, separation plants or magnet plants."""
        return self._stage_facilities[stage]

    def items(self, stage: str) -> int:
        """How many items a stage trades: concentrate is one, oxides one per element, magnets one per grade."""
        return self._stage_items[stage]

    def item_names(self, stage: str) -> tuple[str, ...]:
        """A stage's items by name: 'concentrate', the elements or the grades."""
        return item_names(stage, self.elements, self.grades)

    @cached_property
    def switching_groups(self) -> dict[str, tuple[SwitchingGroup, ...]]:
        """Stage -> its items grouped by switching delay, in the order the delays first appear along the
        items: one group of every item when the stage has one delay."""
        return {s: tuple(SwitchingGroup(d, np.flatnonzero(days == d)) for d in dict.fromkeys(days.tolist()))
                for s, days in self.switching_days.items()}

    @cached_property
    def recycles(self) -> list[bool]:
        """[steps] whether any country recycles end-of-life magnets in the step (``recycling_share``)."""
        return self.recycling_share.any(axis=1).tolist()

    @cached_property
    def _stage_facilities(self) -> dict[str, FacilityArrays]:
        return {MINE: self.mines, REFINERY: self.refineries, MAGNET: self.magnet_plants}

    @cached_property
    def _stage_items(self) -> dict[str, int]:
        return {s: len(self.item_names(s)) for s in STAGES}

    @cached_property
    def members(self) -> dict[str, np.ndarray]:
        """Stage -> [C, F]: 1 where facility f of the stage is in country c."""
        return {stage: self.facilities(stage).by_country(self.n_countries) for stage in STAGES}

    @cached_property
    def offshore_shares(self) -> dict[str, np.ndarray]:
        """Stage -> [C buyer, C supplier]: the supplier shares of what buyers import (their own country's left out)."""
        return {s: self.supplier_shares[s] * (1 - np.eye(self.n_countries)) for s in STAGES}

    @cached_property
    def buyer_lead_days(self) -> dict[str, np.ndarray]:
        """Stage -> [C]: average lead time of a buyer's supplies, sum over suppliers of share x lead days."""
        return {s: (self.supplier_shares[s] * self.lead_days.T).sum(axis=1) for s in STAGES}

    @cached_property
    def makers(self) -> dict[str, np.ndarray]:
        """Stage -> [C] bool: countries with plants of the stage at some date, the only ones that sell spare output."""
        return {s: (self.members[s] @ self.facilities(s).nameplate_t_per_day.max(axis=0)) > 0 for s in STAGES}

    @cached_property
    def days(self) -> np.ndarray:
        """[step] the steps' first days as datetime64[D] (``dates``), for reading dates against them at once."""
        days = np.array(self.dates, dtype="datetime64[D]")
        days.setflags(write=False)
        return days

    @cached_property
    def recipe_shares(self) -> np.ndarray:
        """[G, E] each element's share of a grade's REO content."""
        return self.recipe / self.recipe.sum(axis=1, keepdims=True)

    @cached_property
    def priced_recipe(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The elements with a price [E] (bool), each grade's recipe of them [G, E'] (t REO per t magnet) and its
        value at the initial prices [G] (USD/kg magnet): what magnet prices and demand's answer value."""
        priced = ~np.isnan(self.initial_price)
        recipe = self.recipe[:, priced]
        return priced, recipe, recipe @ self.initial_price[priced]

    @cached_property
    def magnet_initial_price(self) -> np.ndarray:
        """[G] USD/kg magnet of each grade's rare-earth content at the initial prices; NaN where an element of
        its recipe has no price."""
        priced, _, value = self.priced_recipe
        return np.where((self.recipe[:, ~priced] > 0).any(axis=1), np.nan, value)

    @cached_property
    def country_yield(self) -> np.ndarray:
        """[C] share of oxide input that ends in magnets, averaged over a country's plants by their capacity
        at the start (1 where there are none)."""
        plants = self.members[MAGNET]
        cap = plants @ self.magnet_plants.rate_t_per_day[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cap > 0, (plants @ (self.magnet_plants.rate_t_per_day[0] * self.material_yield)) / cap,
                            1.0)


def items_holding(stage: str, elements, network: "Network") -> np.ndarray:
    """[I] bool: which of a stage's traded items hold one of ``elements`` (or 'all'): an oxide is its
    element, a magnet grade holds every element of its recipe, concentrate holds them all."""
    hit = np.array([elements == "all" or e in elements for e in network.elements])
    if stage == MINE:
        return np.array([hit.any()])
    if stage == REFINERY:
        return hit
    return (network.recipe[:, hit] > 0).any(axis=1)


def covered_routes(event, scenario: Scenario, network: "Network", re_exports: bool = False) -> dict[str, np.ndarray]:
    """[B, J, I] 1 on the routes and items an export measure's ``event`` covers, by stage: the exports of its
    exporter (a country or a group) to its importers (every other country for 'all') of the items that hold
    its elements, at the stages it names; with ``re_exports`` (an origin rule) the exports of every *other*
    country instead, whose goods may hold the exporter's material."""
    countries = network.countries
    exporters = scenario.country_set((event.exporter,))
    suppliers = [c for c in countries if c not in exporters] if re_exports else exporters
    importers = scenario.country_set(event.importers) if event.importers != "all" else countries
    importers = [c for c in importers if c not in exporters]
    masks = {}
    for stage in STAGES:
        items = items_holding(stage, event.elements, network)
        mask = np.zeros((len(countries), len(countries), len(items)))
        if stage in event.stages:
            b = [countries.index(c) for c in importers]
            j = [countries.index(c) for c in suppliers]
            mask[np.ix_(b, j, np.flatnonzero(items))] = 1.0
        masks[stage] = mask
    return masks


DEFAULT_TARGET_DAYS = {MINE: 30.0, REFINERY: 45.0, MAGNET: 30.0}
DEFAULT_SWITCHING_DAYS = {MINE: 180.0, REFINERY: 90.0, MAGNET: 270.0}


def item_switching_days(scenario: Scenario, stage: str) -> np.ndarray:
    """[I] days before a buyer short of each item of the stage may re-source it: the stage's delay, or the
    item's own where ``switching_days_by_item`` names it."""
    trade = scenario.trade
    names = item_names(stage, tuple(scenario.elements), tuple(scenario.magnet_grades))
    days = np.full(len(names), float(trade.switching_days.get(stage, DEFAULT_SWITCHING_DAYS[stage])))
    for item, item_days in trade.switching_days_by_item.get(stage, {}).items():
        days[names.index(item)] = float(item_days)
    return days


def build_network(scenario: Scenario, end: dt.date | None = None, provenance: tuple[str, ...] = KINDS) -> Network:
    """Arrays of a drawn scenario, a world (``sim.scenario.realise`` draws one), whose runs write the kinds of
    ``provenance`` rows (``sim.world.provenance.Tags``)."""
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
    demand = demand_path(scenario, dates, demand)
    non_magnet = np.zeros((len(dates), C, E))
    for c, nm in scenario.non_magnet_demand.items():
        for e, t in nm.t_per_year.items():
            non_magnet[:, countries.index(c), elements.index(e)] = (
                float(t) / DAYS_PER_YEAR * (1.0 + float(nm.growth_per_year)) ** years)

    shares = {}
    for stage in STAGES:
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
    for stage in STAGES:
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
    pile_end_use = np.zeros(C, dtype=bool)
    pile_in_t = np.zeros(C, dtype=bool)
    pile_t = np.zeros((C, E))
    below = np.full(C, np.inf)
    per_month = np.zeros(C)
    for c, pile in scenario.stockpiles.items():
        i = countries.index(c)
        pile_end_use[i] = pile.days_of == "end_use"
        if pile.t is not None:
            pile_in_t[i] = True
            for e, t in pile.t.items():
                pile_t[i, elements.index(e)] = float(t)
        else:
            pile_days[i] = float(pile.days)
            pile_initial[i] = float(pile.days)
        if pile.build_by is not None:
            pile_initial[i] = float(pile.initial_days or 0.0)
            build_step[i] = sum(d < pile.build_by for d in dates)
            build_from[i] = sum(d < pile.build_from for d in dates) if pile.build_from else 0
        pile_elements[i, [elements.index(e) for e in pile.held]] = True
        if pile.release is not None:
            below[i] = float(pile.release.below_days)
            per_month[i] = float(pile.release.max_days_per_month)

    prices = scenario.prices
    return Network(
        countries=countries, elements=elements, grades=grades, sectors=sectors, dates=dates,
        step_days=scenario.calendar.step_days, last_day=min(end or scenario.calendar.end, scenario.calendar.end),
        mines=facility_arrays(fac.mine, scenario, dates), composition=composition.reshape(-1, E),
        refineries=facility_arrays(fac.refinery, scenario, dates), recovery=recovery.reshape(-1, E),
        magnet_plants=facility_arrays(fac.magnet, scenario, dates), plant_grades=plant_grades.reshape(-1, G),
        material_yield=np.array([float(p.material_yield) for p in fac.magnet.values()]),
        recipe=recipe.reshape(G, E),
        magnet_kg_per_unit=np.array([float(scenario.sectors[s].magnet_kg_per_unit) for s in sectors]),
        sector_grades=np.array([[float(scenario.sectors[s].grades.get(g, 0.0)) for g in grades]
                                for s in sectors]).reshape(S, G),
        defence=np.array([scenario.sectors[s].defence for s in sectors], dtype=bool),
        units=tuple(scenario.sectors[s].unit for s in sectors),
        value_usd_per_unit=np.array([np.nan if scenario.sectors[s].value_usd_per_unit is None
                                     else float(scenario.sectors[s].value_usd_per_unit) for s in sectors]),
        demand_units_per_day=demand, non_magnet_t_per_day=non_magnet,
        supplier_shares=shares, lead_days=lead,
        switching_days={s: item_switching_days(scenario, s) for s in STAGES},
        target_days=targets, stockpile_days=pile_days, stockpile_elements=pile_elements,
        stockpile_end_use=pile_end_use, stockpile_in_t=pile_in_t, stockpile_t=pile_t,
        release_below_days=below, release_days_per_month=per_month,
        stockpile_initial_days=pile_initial, stockpile_build_step=build_step, stockpile_build_from=build_from,
        forced_release_days_per_month=forced_release(scenario, dates),
        recycling_share=recycling_share(scenario, dates), price_floor=price_floor(scenario, dates),
        initial_price=np.array([float(prices.initial_usd_per_kg.get(e, np.nan)) for e in elements]),
        scarcity_elasticity=float(prices.scarcity_elasticity), stock_elasticity=float(prices.stock_elasticity),
        demand_elasticity=float(prices.demand_elasticity), surplus_elasticity=float(prices.surplus_elasticity),
        max_price_multiple=float(prices.max_multiple), scarcity_of_orders=prices.scarcity_of == "orders",
        other_uses_elasticity=by_element(prices.other_uses_elasticity, elements),
        adjustment_per_year=None if prices.adjustment_per_year is None else float(prices.adjustment_per_year),
        reversion_per_year=float(prices.reversion_per_year),
        demand_recovery_per_year=(None if prices.demand_recovery_per_year is None
                                  else float(prices.demand_recovery_per_year)),
        home_market=prices.home_market, markets=market_names(scenario), market_of=market_of(scenario),
        restocking=restocking(scenario), on_price_rise=on_price_rise(scenario),
        expectations=expectations(scenario), long_run=long_run(scenario, elements), provenance=provenance,
    )


def on_price_rise(scenario: Scenario) -> OnPriceRise | None:
    """The scenario's stock-building as prices rise, or None when it has none."""
    rule = scenario.inventories.on_price_rise
    return None if rule is None else OnPriceRise(float(rule.days_per_doubling), float(rule.memory_days))


def expectations(scenario: Scenario) -> Expectations | None:
    """The scenario's prices on news, or None when prices move on unmet orders only."""
    rule = scenario.prices.expectations
    return None if rule is None else Expectations(float(rule.announced), float(rule.supply_loss),
                                                  float(rule.memory_days))


def restocking(scenario: Scenario) -> Restocking | None:
    """The scenario's restocking after a shortage, or None when it has none."""
    after = scenario.inventories.after_shortage
    if after is None:
        return None
    return Restocking(float(after.extra_days), float(after.memory_days), float(after.contract_flex))


def by_element(elasticity: float | dict[str, float], elements: tuple[str, ...]) -> np.ndarray:
    """[E] an elasticity given once for every element, or by element (0 for an element left out)."""
    if isinstance(elasticity, dict):
        return np.array([float(elasticity.get(e, 0.0)) for e in elements])
    return np.full(len(elements), float(elasticity))


@dataclass(frozen=True)
class LongRunAnswer:
    """Demand's long-run elasticities (magnets; other uses [E]) and the years it takes to move towards them."""

    demand_elasticity: float
    other_uses_elasticity: np.ndarray
    years: float


def long_run(scenario: Scenario, elements: tuple[str, ...]) -> LongRunAnswer | None:
    """The scenario's long-run answer of demand to prices, or None."""
    lr = scenario.prices.long_run
    if lr is None:
        return None
    return LongRunAnswer(float(lr.demand_elasticity), by_element(lr.other_uses_elasticity, elements), float(lr.years))
