"""The scenario's shape: frozen pydantic models, one per noun of the domain.

Units are in the field names: ``capacity_t`` is t/yr (t REO for mines and
refineries, t magnet for magnet plants), ``*_days`` are calendar days, shares
are fractions in [0, 1]. Any number may be a distribution, and any date but
the calendar's a distribution over dates (see ``distributions``); an event may
happen only with a ``probability``. Cross-references (countries, elements,
grades, sources) are checked in ``scenario``, which knows the whole file; this
module only checks what one record can check about itself.
"""
from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from ..stages import Stage
from .events import AnyEvent, Event, Suspension
from .fields import Date, NonNeg, Number, Positive, Record, Share, Sourced, Sources, at_least

MAX_NAME = 100   # characters of a scenario's name: room left for suffixes (_ensemble, _sweep_...) in a folder name
DEFAULT_ELEMENTS = ("La", "Ce", "NdPr", "Sm", "Gd", "Tb", "Dy", "Y", "Lu", "Sc", "other")


# ---------------------------------------------------------------- calendar, world
class Calendar(Record):
    start: dt.date
    end: dt.date
    step_days: int = Field(default=7, ge=1, le=92, description="model time step, days")


class Country(Record):
    name: str
    note: str | None = None


class Group(Record):
    """A named set of countries (EU, G7, ...) usable wherever a country set is asked for."""

    name: str
    members: tuple[str, ...] = Field(min_length=1)
    note: str | None = None


# ---------------------------------------------------------------- facilities
class Facility(Sourced):
    """Common to every stage: where, how big, since when, how fast it ramps up."""

    name: str
    country: str
    capacity_t: NonNeg
    utilisation: Share = 1.0
    online: Date | None = None
    ramp_years: NonNeg = 0.0
    closes: Date | None = None
    shuts_below_usd_per_kg: Positive | None = Field(
        default=None, description="the plant idles while the price of its price_element (or a price floor "
                                  "guaranteed to its country) stays below this, USD/kg")
    price_element: str = "NdPr"


class Mine(Facility):
    """Produces mixed concentrate, t REO/yr, with the element shares of its deposit."""

    composition: dict[str, Share] = Field(min_length=1)


class Refinery(Facility):
    """Separates concentrate (capacity in t REO of feed/yr) into oxides with a recovery."""

    recovery: Share = 0.9
    separates: tuple[str, ...] | None = None


class MagnetPlant(Facility):
    """Makes magnets (capacity t magnet/yr) from oxides by grade recipe; yield on REO input."""

    material_yield: Share = 0.7
    grades: tuple[str, ...] | None = None


class Facilities(Record):
    mine: dict[str, Mine] = {}
    refinery: dict[str, Refinery] = {}
    magnet: dict[str, MagnetPlant] = {}


class MagnetGrade(Sourced):
    """Rare-earth content of one magnet grade, t REO-equivalent per t magnet, by element."""

    name: str | None = None
    recipe: dict[str, Share] = Field(min_length=1)


# ---------------------------------------------------------------- demand
class Sector(Sourced):
    """An end use of magnets, counted in its own product units. ``value_usd_per_unit`` (cited by
    ``value_source``) prices a unit not made, for the gross output at risk; without it the sector is not
    valued."""

    name: str
    unit: str
    magnet_kg_per_unit: Positive
    grades: dict[str, Share] = Field(min_length=1, description="grade mix, shares summing to 1")
    defence: bool = False
    value_usd_per_unit: NonNeg | None = None
    value_source: Sources = ()

    @model_validator(mode="after")
    def _value_cited(self) -> Sector:
        if self.value_usd_per_unit is not None and not self.value_source:
            raise ValueError("value_usd_per_unit needs value_source: the figure id or publication it comes from")
        if self.value_source and self.value_usd_per_unit is None:
            raise ValueError("value_source cites a value per unit: give value_usd_per_unit too, or leave both out")
        return self


class SectorDemand(Sourced):
    units_per_year: NonNeg
    growth_per_year: Number = 0.0


class NonMagnetDemand(Sourced):
    """Oxides for uses other than magnets (catalysts, glass, polishing, phosphors, alloys), t REO/yr."""

    t_per_year: dict[str, NonNeg]
    growth_per_year: Number = 0.0


# ---------------------------------------------------------------- trade
class SupplierShares(Sourced):
    shares: dict[str, Share] = Field(min_length=1)


class Route(Sourced):
    days: NonNeg


class Trade(Record):
    """Where each country buys each stage's product, how long it travels, how long switching takes (by stage,
    and by item where an item takes longer or shorter; ``switching_source`` cites both)."""

    suppliers: dict[Stage, dict[str, SupplierShares]] = {}
    lead_time_days: NonNeg = 30.0
    routes: dict[str, Route] = {}
    switching_days: dict[Stage, NonNeg] = {}
    switching_days_by_item: dict[Stage, dict[str, NonNeg]] = Field(
        default={}, description="an item's own switching delay, days, in place of its stage's: magnets by grade, "
                                "oxides by element, 'concentrate'")
    switching_source: Sources = ()

    @field_validator("routes")
    @classmethod
    def _route_keys(cls, routes: dict[str, Route]) -> dict[str, Route]:
        for key in routes:
            if key.count("-") != 1 or not all(key.split("-")):
                raise ValueError(f"route key {key!r} must read EXPORTER-IMPORTER, e.g. CN-JP")
        return routes


# ---------------------------------------------------------------- stocks
# A usual supplier ships up to 25% more than its buyer's share of normal use (a stated assumption: no source
# gives contract terms). The engine's contracts use it; a contract stretched after a shortage starts from it.
CONTRACT_FLEX = 0.25
ContractFlex = at_least(CONTRACT_FLEX)


class AfterShortage(Sourced):
    """How buyers answer a shortage of an item: a buyer that went short of it raises its target cover of it
    and lets its contracts for it stretch while it rebuilds stock, both in proportion to how short it went
    (the unmet share of its orders) and both fading exponentially with ``memory_days``."""

    extra_days: NonNeg = Field(description="days of use added to the target cover after a total shortage")
    memory_days: Positive = Field(description="how long the raise and the stretch are remembered: they fall "
                                              "by a factor e every memory_days, days")
    contract_flex: ContractFlex = Field(
        description=f"what a usual supplier may ship beyond its share of normal use right after a total "
                    f"shortage (usually {CONTRACT_FLEX}), share")


class OnPriceRise(Sourced):
    """Precautionary and speculative stock-building: buyers of oxides hold more cover while the price in their
    market rises above its recent average, and less while it falls below it."""

    days_per_doubling: NonNeg = Field(description="days of use added to the target cover of an oxide for each "
                                                  "doubling of its price over its recent average (taken off "
                                                  "for each halving)")
    memory_days: Positive = Field(description="the recent average is an exponential one over this many days")


class Inventories(Sourced):
    """Working stocks held by industry, in days of that country's use of the stage's product; with
    ``after_shortage``, buyers that went short restock above them; with ``on_price_rise``, buyers of oxides
    hold more while prices rise."""

    target_days: dict[Stage, NonNeg] = {}
    by_country: dict[str, dict[Stage, NonNeg]] = {}
    after_shortage: AfterShortage | None = None
    on_price_rise: OnPriceRise | None = None


class ReleaseRule(Record):
    below_days: NonNeg = Field(description="release when industry cover falls below this many days")
    max_days_per_month: NonNeg = Field(description="release at most this many days of use per month")


class Stockpile(Sourced):
    """A strategic stockpile of separated oxides, sized in days of use (``days`` of ``elements``) or in tonnes
    per element (``t``): exactly one of the two.

    ``days_of`` says what its days count, for its size, ``initial_days``, its release rule and release
    events: ``oxide_use`` (the default), days of the country's own use of the oxides (its magnet plants and
    other uses); ``end_use``, days of the element content of its end users' magnet demand (sectors' magnet kg
    per unit and grade recipes), the measure for a country that buys finished magnets. A stockpile given in
    ``t`` holds those tonnes; its release rule's days still count ``days_of``.

    Without ``build_by`` it opens full. With ``build_by`` it opens at
    ``initial_days`` (with ``t``: empty) and buys on the market, evenly from ``build_from`` (default: the
    calendar's start), to reach its size by that date.
    """

    elements: tuple[str, ...] | None = Field(default=None, min_length=1,
                                             description="the oxides held, with days (with t: t's elements)")
    days: NonNeg | None = Field(default=None, description="size in days of days_of")
    t: dict[str, NonNeg] | None = Field(default=None, description="size in t of each element's oxide")
    days_of: Literal["oxide_use", "end_use"] = Field(
        default="oxide_use", description="what days count: the country's own oxide use, or the element "
                                         "content of its end-use magnet demand")
    release: ReleaseRule | None = None
    build_by: Date | None = None
    build_from: Date | None = None
    initial_days: NonNeg | None = None

    @model_validator(mode="after")
    def _one_size(self) -> Stockpile:
        if (self.days is None) == (self.t is None):
            raise ValueError(f"give exactly one of days (days of {self.days_of.replace('_', ' ')}, with elements) "
                             f"or t (tonnes per element, e.g. t: {{Dy: 50, Tb: 10}}), got "
                             f"{'both' if self.t is not None else 'neither'}")
        if self.days is not None and self.elements is None:
            raise ValueError("a stockpile sized in days needs elements (the oxides it holds, e.g. [Dy, Tb])")
        if self.t is not None and self.elements is not None:
            raise ValueError("a stockpile given in t holds the elements t names: leave out elements")
        if self.t is not None and self.initial_days is not None:
            raise ValueError("initial_days needs days: a stockpile given in t and built up to a date opens empty")
        return self

    @property
    def held(self) -> tuple[str, ...]:
        """The oxides it holds."""
        return self.elements if self.elements is not None else tuple(self.t or ())


# ---------------------------------------------------------------- prices
class Expectations(Sourced):
    """Prices that move on news, before any order goes unmet: an announced measure counts the oxide orders it
    will cover as expected unmet in each market's scarcity from its announcement; a fall of mine or refinery
    capacity counts the lost share of the world's capacity of each element as expected unmet in every market
    at once, fading as the realised scarcity takes over."""

    announced: Share = Field(default=1.0, description="weight of the share of each market's oxide orders a "
                                                      "measure will cover, counted as expected unmet from its "
                                                      "announcement to its start, share")
    supply_loss: Share = Field(default=1.0, description="weight of the lost share of the world's mine or "
                                                        "refinery capacity of an element, counted as expected "
                                                        "unmet in every market when the capacity falls, share")
    memory_days: Positive = Field(default=90.0, description="the expectation of a supply loss falls by a factor "
                                                            "e every memory_days, days")


class LongRun(Sourced):
    """Demand's answer to lasting prices: beyond its answer at once (the short-run elasticities), demand moves
    towards the long-run elasticities over ``years`` (new designs, substitutes qualified, less Dy per magnet)."""

    demand_elasticity: NonNeg = Field(default=0.0, description="end-use magnet demand's long-run elasticity")
    other_uses_elasticity: NonNeg | dict[str, NonNeg] = Field(
        default=0.0, description="other uses' long-run elasticity: one for every element, or by element")
    years: Positive = Field(description="years over which demand moves the gap from the short run to the long "
                                        "run by a factor e")


class Prices(Sourced):
    initial_usd_per_kg: dict[str, Positive] = {}
    scarcity_elasticity: NonNeg = 1.0
    stock_elasticity: NonNeg = 0.0
    demand_elasticity: NonNeg = 0.0
    surplus_elasticity: NonNeg = Field(default=0.0, description="prices fall with the share of output nobody "
                                                                "buys (sold to the 'other uses' sink)")
    max_multiple: Positive = 20.0
    home_market: str | None = Field(
        default=None, description="a country code: its buyers form a home market with prices of their own, "
                                  "everyone else the outside market; none: one world price per element")
    other_uses_elasticity: NonNeg | dict[str, NonNeg] = Field(
        default=0.0, description="oxide use outside magnets answers the price of its element in the buyer's "
                                 "market: use x multiple^-elasticity; one for every element, or by element "
                                 "(cerium in polishing gives way to other abrasives more readily than La in "
                                 "catalysts); an element left out of the map: 0")
    long_run: LongRun | None = Field(
        default=None, description="demand's answer to prices that last; none: the short run is the whole answer")
    demand_recovery_per_year: NonNeg | None = Field(
        default=None, description="demand a price rise destroyed comes back at most this share of the way a "
                                  "year when prices fall (thrifting and substitutes stay); none: at once")
    adjustment_per_year: Positive | None = Field(
        default=None, description="prices move gradually: each year the log of the price moves this many times "
                                  "the log of the pressure (the multiple the terms give); none: the price is "
                                  "that multiple at once")
    reversion_per_year: NonNeg = Field(
        default=0.0, description="with adjustment_per_year: each year the log of the price also moves this "
                                 "share of the way back to the initial price (sellers compete)")
    scarcity_of: Literal["use", "orders"] = Field(
        default="use", description="what scarcity counts: 'use' (own use the stock did not serve) or 'orders' "
                                   "(that, and import orders unfilled, blocked or refused: what buyers face "
                                   "before their stocks run out)")
    expectations: Expectations | None = Field(
        default=None, description="prices also move on announced measures and on falls of mine and refinery "
                                  "capacity, before orders go unmet (needs scarcity_of: orders); none: only "
                                  "on orders unmet")

    @field_validator("expectations")
    @classmethod
    def _on_orders(cls, expectations: Expectations | None, info: ValidationInfo) -> Expectations | None:
        # expectations are expected unmet *orders*: they have nothing to add to a scarcity of own use alone
        # (a scarcity_of that failed its own check is not in info.data, and has its own problem already)
        scarcity_of = info.data.get("scarcity_of")
        if expectations is not None and scarcity_of not in (None, "orders"):
            raise ValueError(f"expectations need scarcity_of: orders (they count expected unmet orders), "
                             f"got scarcity_of: {scarcity_of}")
        return expectations


class Rationing(Record):
    """How a country shares short magnet supply among its sectors: pro rata, or defence sectors first."""

    rule: Literal["pro_rata", "defence_first"] = "pro_rata"
    by_country: dict[str, Literal["pro_rata", "defence_first"]] = {}


# ---------------------------------------------------------------- run, outputs, scenario
class RunSettings(Record):
    seed: int = Field(default=0, ge=0)
    replications: int = Field(default=1, ge=1)


class Outputs(Record):
    formats: tuple[Literal["parquet", "csv"], ...] = ("parquet", "csv")
    plots: bool = True
    frequency: Literal["step", "month", "quarter", "year"] = "month"


class Scenario(Record):
    """A whole, validated scenario: the world, its trade, and what happens when."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=MAX_NAME)
    title: str | None = None
    description: str | None = None
    calendar: Calendar
    elements: tuple[str, ...] = DEFAULT_ELEMENTS
    countries: dict[str, Country] = Field(min_length=1)
    groups: dict[str, Group] = {}
    facilities: Facilities = Facilities()
    magnet_grades: dict[str, MagnetGrade] = {}
    sectors: dict[str, Sector] = {}
    demand: dict[str, dict[str, SectorDemand]] = {}
    non_magnet_demand: dict[str, NonMagnetDemand] = {}
    trade: Trade = Trade()
    inventories: Inventories = Inventories()
    stockpiles: dict[str, Stockpile] = {}
    prices: Prices = Prices()
    rationing: Rationing = Rationing()
    events: tuple[AnyEvent, ...] = ()
    run: RunSettings = RunSettings()
    outputs: Outputs = Outputs()
    _drawn_from: tuple[int, ...] | None = PrivateAttr(default=None)   # set by decide_events: kept events' indices

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        """The name is a results folder's name (results/<name>/): '.' or '..' would be the results folder
        itself or the one above it."""
        if set(name) == {"."}:
            raise ValueError(f"{name!r} is not a usable name: results go to results/<name>/; give a name with a "
                             "letter or digit")
        return name

    def decide_events(self, rng: np.random.Generator | None) -> Scenario:
        """The scenario with only the events that happen in this realisation (``sim.scenario.drawing.realise``
        calls it once the numbers are drawn).

        In list order, an event with a ``probability`` p happens when a uniform draw is below p (with
        ``rng`` None, a central run: when p >= 0.5); one ``together_with`` an earlier event when that one
        did; a suspension of a measure that did not happen does not happen either. One draw per event
        with a probability, whatever came before, so the draws never depend on earlier outcomes; none
        at all when no event has one (the world is then drawn exactly as without this step). Kept
        events lose ``probability`` and ``together_with``: a drawn world is decided.
        """
        if all(e.probability is None and e.together_with is None for e in self.events):
            return self
        happened: dict[str, bool] = {}
        kept, index = [], []
        for i, event in enumerate(self.events):
            yes = True
            if event.probability is not None:
                p = float(event.probability)
                yes = bool(rng.random() < p) if rng is not None else p >= 0.5
            elif event.together_with is not None:
                yes = happened.get(event.together_with, True)
            if isinstance(event, Suspension) and happened.get(event.measure) is False:
                yes = False
            if event.id is not None:
                happened[event.id] = yes
            if yes:
                kept.append(event.model_copy(update={"probability": None, "together_with": None}))
                index.append(i)
        world = self.model_copy(update={"events": tuple(kept)})
        world._drawn_from = tuple(index) if self._drawn_from is None else tuple(self._drawn_from[i] for i in index)
        return world

    def drawn_from(self, world: Scenario) -> tuple[Event, ...]:
        """The event of this scenario behind each event of ``world``, a world drawn from it (events that did
        not happen there are left out)."""
        index = world._drawn_from
        return self.events if index is None else tuple(self.events[i] for i in index)

    def country_set(self, names: tuple[str, ...] | str) -> tuple[str, ...]:
        """Expand country codes and group names ('all' for every country) into country codes."""
        if names == "all":
            return tuple(self.countries)
        out: list[str] = []
        for name in names:
            for code in (self.groups[name].members if name in self.groups else (name,)):
                if code not in out:
                    out.append(code)
        return tuple(out)
