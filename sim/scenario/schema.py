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
import difflib
from typing import Annotated, Any, ClassVar, Literal, Union

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .distributions import (
    DATE_DIST_KEYS,
    DATE_DIST_KINDS,
    DateDist,
    Dist,
    _DateDist,
    _Dist,
)

STAGES = ("mine", "refinery", "magnet", "end_use")
TRADED_STAGES = ("mine", "refinery", "magnet")
PRODUCT_OF_STAGE = {"mine": "concentrate", "refinery": "oxide", "magnet": "magnet"}
DEFAULT_ELEMENTS = ("La", "Ce", "NdPr", "Sm", "Gd", "Tb", "Dy", "Y", "Lu", "Sc", "other")

_dist_adapter: TypeAdapter = TypeAdapter(Dist)


def _number(lower: float | None = None, upper: float | None = None, lower_open: bool = False):
    """A float field (or a distribution) within [lower, upper]; one clear message when not."""

    def check(value: Any) -> float | _Dist:
        if isinstance(value, _Dist):
            return value.with_bounds(lower, upper)
        if isinstance(value, dict):
            if "dist" not in value:
                raise ValueError(f"expected a number or a distribution with 'dist:' one of "
                                 f"normal, lognormal, triangular, uniform, choice; got a map with keys {sorted(value)}")
            try:
                dist = _dist_adapter.validate_python(value)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"][1:])
                raise ValueError(f"bad distribution{' (' + where + ')' if where else ''}: {first['msg']}") from None
            return dist.with_bounds(lower, upper)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r} ({type(value).__name__})")
        value = float(value)
        if value != value:
            raise ValueError("expected a number, got NaN")
        if lower is not None and (value < lower or (lower_open and value == lower)):
            raise ValueError(f"must be {'>' if lower_open else '≥'} {lower:g}, got {value:g}")
        if upper is not None and value > upper:
            raise ValueError(f"must be ≤ {upper:g}, got {value:g}")
        return value

    return Annotated[Union[float, Dist], PlainValidator(check)]


Number = _number()
NonNeg = _number(0.0)
Positive = _number(0.0, lower_open=True)
Share = _number(0.0, 1.0)

_plain_date_adapter: TypeAdapter = TypeAdapter(dt.date)
_date_dist_adapter: TypeAdapter = TypeAdapter(DateDist)
_DATE_FORMS = "normal (mean, sd_days), triangular (low, mode, high), uniform (low, high) or choice (values, p)"


def parse_date_dist(value: dict) -> _DateDist:
    """A distribution of dates from its map (``{dist: uniform, low: 2028-01-01, high: 2029-06-30}``);
    ValueError with one clear message when it is not one."""
    if "dist" not in value:
        raise ValueError(f"expected a date written YYYY-MM-DD or a distribution of dates with 'dist:' one of "
                         f"{', '.join(DATE_DIST_KINDS)}; got a map with keys {sorted(map(str, value))}")
    kind = value["dist"]
    if kind not in DATE_DIST_KINDS:
        hint = "a date cannot be lognormal" if kind == "lognormal" else f"unknown date distribution {kind!r}"
        raise ValueError(f"{hint}; a date may be {_DATE_FORMS}")
    try:
        return _date_dist_adapter.validate_python(value)
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a misspelt key first
        loc = first["loc"][1:]
        where = ".".join(str(p) for p in loc)
        allowed = DATE_DIST_KEYS[kind]
        if first["type"] == "extra_forbidden":
            key = str(loc[-1])
            close = [k for k in allowed if k.startswith(key + "_")] or \
                difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            msg = f"unknown key {loc[-1]!r}{f' (did you mean {close[0]}?)' if close else ''}; a {kind} date " \
                  f"distribution takes {', '.join(allowed)}"
            where = ""
        elif first["type"] == "missing":
            msg = f"key {where!r} is missing; a {kind} date distribution takes {', '.join(allowed)}"
            where = ""
        elif first["type"].startswith("date") or (first["type"] == "value_error"
                                                   and "a date written" in first["msg"]):
            msg = f"expected a date written YYYY-MM-DD, got {first['input']!r}"
        else:
            msg = first["msg"].removeprefix("Value error, ")
        raise ValueError(f"bad date distribution{' (' + where + ')' if where else ''}: {msg}") from None


def _date(value: Any) -> dt.date | _DateDist:
    """A date field: a plain date, parsed exactly as a ``datetime.date`` field would be, or a distribution of dates."""
    if isinstance(value, _DateDist):
        return value
    if isinstance(value, dict):
        return parse_date_dist(value)
    try:
        return _plain_date_adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PydanticCustomError(first["type"], first["msg"].replace("{", "{{").replace("}", "}}")) from None


Date = Annotated[Union[dt.date, DateDist], PlainValidator(_date)]


def _sources(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"expected a figure id of seeds/ or a publication with its year, or a list of them; got {value!r}")
    return tuple(v.strip() for v in value)


Sources = Annotated[tuple[str, ...], PlainValidator(_sources)]


class Record(BaseModel):
    """Base of every scenario record: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Sourced(Record):
    source: Sources = ()
    note: str | None = None


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
    """An end use of magnets, counted in its own product units."""

    name: str
    unit: str
    magnet_kg_per_unit: Positive
    grades: dict[str, Share] = Field(min_length=1, description="grade mix, shares summing to 1")
    defence: bool = False


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
    """Where each country buys each stage's product, how long it travels, how long switching takes."""

    suppliers: dict[Literal["mine", "refinery", "magnet"], dict[str, SupplierShares]] = {}
    lead_time_days: NonNeg = 30.0
    routes: dict[str, Route] = {}
    switching_days: dict[Literal["mine", "refinery", "magnet"], NonNeg] = {}
    switching_source: Sources = ()

    @field_validator("routes")
    @classmethod
    def _route_keys(cls, routes: dict[str, Route]) -> dict[str, Route]:
        for key in routes:
            if key.count("-") != 1 or not all(key.split("-")):
                raise ValueError(f"route key {key!r} must read EXPORTER-IMPORTER, e.g. CN-JP")
        return routes


# ---------------------------------------------------------------- stocks
class Inventories(Sourced):
    """Working stocks held by industry, in days of that country's use of the stage's product."""

    target_days: dict[Literal["mine", "refinery", "magnet"], NonNeg] = {}
    by_country: dict[str, dict[Literal["mine", "refinery", "magnet"], NonNeg]] = {}


class ReleaseRule(Record):
    below_days: NonNeg = Field(description="release when industry cover falls below this many days")
    max_days_per_month: NonNeg = Field(description="release at most this many days of use per month")


class Stockpile(Sourced):
    """A strategic stockpile of separated oxides, sized in days of the country's use.

    Without ``build_by`` it opens full. With ``build_by`` it opens at
    ``initial_days`` and buys on the market, evenly from ``build_from`` (default: the
    calendar's start), to reach ``days`` by that date.
    """

    elements: tuple[str, ...] = Field(min_length=1)
    days: NonNeg
    release: ReleaseRule | None = None
    build_by: Date | None = None
    build_from: Date | None = None
    initial_days: NonNeg | None = None


# ---------------------------------------------------------------- prices
class Prices(Sourced):
    initial_usd_per_kg: dict[str, Positive] = {}
    scarcity_elasticity: NonNeg = 1.0
    stock_elasticity: NonNeg = 0.0
    demand_elasticity: NonNeg = 0.0
    surplus_elasticity: NonNeg = Field(default=0.0, description="prices fall with the share of output nobody "
                                                                "buys (sold to the 'other uses' sink)")
    max_multiple: Positive = 20.0


class Rationing(Record):
    """How a country shares short magnet supply among its sectors: pro rata, or defence sectors first."""

    rule: Literal["pro_rata", "defence_first"] = "pro_rata"
    by_country: dict[str, Literal["pro_rata", "defence_first"]] = {}


# ---------------------------------------------------------------- events
class Event(Sourced):
    """A dated change to the world. ``id`` lets other events (suspensions) name it.

    With ``probability`` the event happens in a replication with that chance,
    drawn afresh each replication (a central run keeps it when the probability
    is at least 0.5); with ``together_with: ID`` it happens exactly when the
    earlier event ``ID`` does (one decision covering several events).
    """

    id: str | None = None
    # left out of dumps when unset, so a scenario without them hashes as before (outputs.scenario_sha256)
    probability: Share | None = Field(default=None, exclude_if=lambda v: v is None,
                                      description="chance that the event happens, drawn per replication")
    together_with: str | None = Field(default=None, exclude_if=lambda v: v is None,
                                      description="id of an earlier event: this one happens exactly when "
                                                  "that one does")


class Measure(Event):
    """An export measure by an exporter on a set of importers, stages and elements."""

    exporter: str
    importers: tuple[str, ...] | Literal["all"] = "all"
    stages: tuple[Literal["mine", "refinery", "magnet"], ...] = TRADED_STAGES
    elements: tuple[str, ...] | Literal["all"] = "all"
    end_users: Literal["all", "civil", "defence"] = "all"
    start: Date
    end: Date | None = None
    announced: Date | None = None
    front_load_days: NonNeg = Field(default=0.0, description="from 'announced' to 'start' buyers of covered "
                                                              "goods raise their working stock by this many days")
    at_sea: Literal["deliver", "stop"] = "deliver"


class ExportBan(Measure):
    type: Literal["export_ban"]


class ExportLicence(Measure):
    """Every shipment needs a licence: a processing time and a chance of approval."""

    type: Literal["export_licence"]
    drawn_per_use: ClassVar[frozenset[str]] = frozenset({"processing_days"})   # per application
    processing_days: NonNeg = 45.0
    approval: Share = 1.0


class ExportQuota(Measure):
    """At most ``t_per_year`` of covered goods a year (t REO, or t magnet), overall or to each importer."""

    type: Literal["export_quota"]
    t_per_year: NonNeg
    per_importer: bool = False


class Tariff(Measure):
    """A price wedge on the exporter's goods (ad valorem rate)."""

    type: Literal["tariff"]
    rate: NonNeg
    sourcing_elasticity: NonNeg = Field(default=1.0, description="share of orders buyers move elsewhere per "
                                                                 "unit of tariff rate (capped at all of them)")


class OriginRule(Measure):
    """Goods made anywhere that contain the exporter's material above a share need its licence."""

    type: Literal["origin_rule"]
    drawn_per_use: ClassVar[frozenset[str]] = frozenset({"processing_days"})   # per application
    threshold_share: Share = 0.001
    origin_stages: tuple[Literal["mine", "refinery"], ...] = ("mine", "refinery")
    processing_days: NonNeg = 45.0
    approval: Share = 1.0


class Suspension(Event):
    """Suspends the measure ``measure`` from ``start`` until ``until``."""

    type: Literal["suspension"]
    measure: str
    start: Date
    until: Date


class CapacityChange(Event):
    """From ``date`` a facility's capacity becomes ``capacity_t`` (0 closes it)."""

    type: Literal["capacity_change"]
    facility: str
    date: Date
    capacity_t: NonNeg
    ramp_years: NonNeg = 0.0


class Outage(Event):
    type: Literal["outage"]
    facility: str
    start: Date
    end: Date
    share_lost: Share = 1.0


class DemandShock(Event):
    type: Literal["demand_shock"]
    countries: tuple[str, ...] | Literal["all"] = "all"
    sectors: tuple[str, ...] | Literal["all"] = "all"
    start: Date
    end: Date | None = None
    multiplier: NonNeg


class DemandGrowth(Event):
    """From ``start`` demand of the given countries and sectors grows by ``growth_per_year`` (compound)."""

    type: Literal["demand_growth"]
    countries: tuple[str, ...] | Literal["all"] = "all"
    sectors: tuple[str, ...] | Literal["all"] = "all"
    start: Date
    end: Date | None = None
    growth_per_year: Number


class StockpileRelease(Event):
    """A decision to release a stockpile from ``start`` at a rate, whatever industry's cover."""

    type: Literal["stockpile_release"]
    country: str
    start: Date
    end: Date | None = None
    days_per_month: NonNeg


class PriceFloor(Event):
    """A guaranteed price for an element's output in the given countries (e.g. MP's $110/kg NdPr)."""

    type: Literal["price_floor"]
    countries: tuple[str, ...]
    element: str
    usd_per_kg: Positive
    start: Date
    end: Date | None = None


class Recycling(Event):
    """Recycled oxide supply as a share of the country's magnet demand, growing yearly."""

    type: Literal["recycling"]
    countries: tuple[str, ...] | Literal["all"] = "all"
    start: Date
    share: Share
    growth_per_year: Number = 0.0
    max_share: Share = 1.0


class Offtake(Event):
    """From ``start`` a buyer takes ``share`` of its imports of a stage's product (of the items holding
    ``elements``) from ``seller``, under an offtake agreement; its other suppliers' shares shrink in
    proportion. A buyer that imported none of an item takes ``share`` of its need from the seller. With
    ``seller`` the buyer itself, it imports ``share`` less and its own plants make the rest."""

    type: Literal["offtake"]
    buyer: str
    seller: str
    stage: Literal["mine", "refinery", "magnet"]
    share: Share
    elements: tuple[str, ...] | Literal["all"] = "all"
    start: Date


NO_RARE_EARTH = "ferrite"


class Substitution(Event):
    """Switch a sector from one grade to another when a price passes a threshold, after a delay.

    ``to_grade: ferrite`` leaves rare-earth magnets altogether (the demand is met without them).
    """

    type: Literal["substitution"]
    sectors: tuple[str, ...] | Literal["all"] = "all"
    from_grade: str
    to_grade: str
    element: str
    price_above_usd_per_kg: Positive
    delay_days: NonNeg = 365.0
    max_share_per_year: Share = 0.2
    max_share: Share = 1.0


AnyEvent = Annotated[
    Union[ExportBan, ExportLicence, ExportQuota, Tariff, OriginRule, Suspension, CapacityChange, Outage,
          DemandShock, DemandGrowth, StockpileRelease, PriceFloor, Recycling, Substitution, Offtake],
    Field(discriminator="type"),
]
EVENT_TYPES = ("export_ban", "export_licence", "export_quota", "tariff", "origin_rule", "suspension",
               "capacity_change", "outage", "demand_shock", "demand_growth", "stockpile_release", "price_floor", "recycling",
               "substitution", "offtake")
MEASURE_TYPES = ("export_ban", "export_licence", "export_quota", "tariff", "origin_rule")


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

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
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

    def decide_events(self, rng: np.random.Generator | None) -> Scenario:
        """The scenario with only the events that happen in this realisation (``distributions.realise``
        calls it once the numbers are drawn).

        In list order, an event with a ``probability`` p happens when a uniform draw is below p (with
        ``rng`` None, a central run: when p >= 0.5); one ``together_with`` an earlier event when that one
        did; a suspension of a measure that did not happen does not happen either. One draw per event
        with a probability, whatever came before, so the draws never depend on earlier outcomes; none
        at all when no event has one (the world is then drawn exactly as without this step). Kept
        events lose ``probability`` and ``together_with``: a realised world is decided.
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

    def drawn_from(self, realised: Scenario) -> tuple[Event, ...]:
        """The event of this scenario behind each event of ``realised``, a realisation of it (events that did
        not happen there are left out)."""
        index = realised._drawn_from
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
