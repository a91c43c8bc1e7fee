"""Dated events of a scenario, chosen by ``type:``: export measures, suspensions, capacity changes and
outages, demand paths, stockpile releases, price floors, recycling, offtakes, substitution.

The records say what a scenario writes; what a measure does is the engine's
(``sim.engine.measures``, one class per measure type).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import Discriminator, Field, Tag

from ..stages import STAGES, Stage
from .fields import Date, NonNeg, Number, Positive, Record, Share, Sourced


class Event(Sourced):
    """A dated change to the world. ``id`` lets other events (suspensions) name it.

    With ``probability`` the event happens in a replication with that chance,
    drawn afresh each replication (a central run keeps it when the probability
    is at least 0.5); with ``together_with: ID`` it happens exactly when the
    earlier event ``ID`` does (one decision covering several events).
    """

    id: str | None = None
    # left out of dumps when unset, so a scenario without them hashes as one never written with them
    probability: Share | None = Field(default=None, exclude_if=lambda v: v is None,
                                      description="chance that the event happens, drawn per replication")
    together_with: str | None = Field(default=None, exclude_if=lambda v: v is None,
                                      description="id of an earlier event: this one happens exactly when "
                                                  "that one does")


class MeasureEvent(Event):
    """An export measure by an exporter on a set of importers, stages and elements."""

    restricts: ClassVar[bool] = True        # stops or holds goods (a tariff only prices them): the summary's
                                            # 'first measure' and 'weeks to shortfall' count from the first one

    exporter: str
    importers: tuple[str, ...] | Literal["all"] = "all"
    stages: tuple[Stage, ...] = STAGES
    elements: tuple[str, ...] | Literal["all"] = "all"
    end_users: Literal["all", "civil", "defence"] = "all"
    start: Date
    end: Date | None = None
    announced: Date | None = None
    front_load_days: NonNeg = Field(default=0.0, description="from 'announced' to 'start' buyers of covered "
                                                              "goods raise their working stock by this many days")
    at_sea: Literal["deliver", "stop"] = "deliver"


def first_restriction(events: Iterable[Any]) -> dt.date | None:
    """Start of the earliest export restriction among ``events`` (ban, licence, quota, origin rule; not a tariff),
    of those whose start is a date and not a distribution still to draw: the summary's 'first measure', from which
    weeks to shortfall count."""
    starts = [e.start for e in events if isinstance(e, MeasureEvent) and e.restricts and isinstance(e.start, dt.date)]
    return min(starts) if starts else None


class ExportBanEvent(MeasureEvent):
    type: Literal["export_ban"]


EndUser = Literal["civil", "defence"]


class OddsChange(Record):
    """From ``date`` the licence office approves with the odds this change names; what it does not name
    stays as it was (an importer's own odds stay until a change names that importer again)."""

    date: Date
    default: Share | None = None
    by_importer: dict[str, Share] = {}
    by_end_user: dict[EndUser, Share] = {}


class ApprovalOdds(Record):
    """Chances of approval that differ by importer and end user and change over time.

    An application's chance is its importer's own odds (a country code, or else the first group listed
    that holds it) or ``default``, and no more than its end user's odds where ``by_end_user`` names them;
    the odds in force on the day of the decision apply (``changes``, in date order)."""

    default: Share = 1.0
    by_importer: dict[str, Share] = {}
    by_end_user: dict[EndUser, Share] = {}
    changes: tuple[OddsChange, ...] = ()

    def shares(self) -> list[Any]:
        """Every chance written, as written (numbers or distributions)."""
        out: list[Any] = []
        for odds in (self, *self.changes):
            out += [odds.default, *odds.by_importer.values(), *odds.by_end_user.values()]
        return [share for share in out if share is not None]


APPROVAL_FORMS = ("chance", "odds")     # the two ways to write ``approval``: pydantic's tags, not keys


def _approval_form(value: Any) -> str:
    """A map without ``dist:`` is odds by importer, end user and date; anything else one chance."""
    if isinstance(value, ApprovalOdds) or (isinstance(value, dict) and "dist" not in value):
        return "odds"
    return "chance"


Approval = Annotated[Union[Annotated[Share, Tag("chance")], Annotated[ApprovalOdds, Tag("odds")]],
                     Discriminator(_approval_form)]


class LicenceOffice(Record):
    """A review office deciding at most ``applications_per_week``; the rest wait, first in, first out."""

    applications_per_week: Positive


def _unset(v: Any) -> bool:
    return v is None


LOT_T = "t per application by stage (t REO, t magnet): a week's shipment on a route is split into lots"
OFFICE = "a review office with a weekly capacity and a first-in, first-out queue"


class ExportLicenceEvent(MeasureEvent):
    """Every shipment needs a licence: a processing time and a chance of approval; optionally applications
    by lot (``lot_t``), a review office with a capacity (``office``), and odds by importer, end user and
    date (``approval`` as ``ApprovalOdds``)."""

    type: Literal["export_licence"]
    drawn_per_use: ClassVar[frozenset[str]] = frozenset({"processing_days"})   # per application
    processing_days: NonNeg = 45.0
    approval: Approval = 1.0
    # left out of dumps when unset, so that a scenario without them hashes as one written before they existed
    lot_t: dict[Stage, Positive] | None = Field(default=None, exclude_if=_unset, description=LOT_T)
    office: LicenceOffice | None = Field(default=None, exclude_if=_unset, description=OFFICE)


class ExportQuotaEvent(MeasureEvent):
    """At most ``t_per_year`` of covered goods a year (t REO, or t magnet), overall or to each importer."""

    type: Literal["export_quota"]
    t_per_year: NonNeg
    per_importer: bool = False


class TariffEvent(MeasureEvent):
    """A price wedge on the exporter's goods (ad valorem rate)."""

    restricts: ClassVar[bool] = False

    type: Literal["tariff"]
    rate: NonNeg
    sourcing_elasticity: NonNeg = Field(default=1.0, description="share of orders buyers move elsewhere per "
                                                                 "unit of tariff rate (capped at all of them)")


class OriginRuleEvent(MeasureEvent):
    """Goods made anywhere that contain the exporter's material above a share need its licence."""

    type: Literal["origin_rule"]
    drawn_per_use: ClassVar[frozenset[str]] = frozenset({"processing_days"})   # per application
    threshold_share: Share = 0.001
    origin_stages: tuple[Literal["mine", "refinery"], ...] = ("mine", "refinery")
    processing_days: NonNeg = 45.0
    approval: Approval = 1.0
    # left out of dumps when unset, so that a scenario without them hashes as one written before they existed
    lot_t: dict[Stage, Positive] | None = Field(default=None, exclude_if=_unset, description=LOT_T)
    office: LicenceOffice | None = Field(default=None, exclude_if=_unset, description=OFFICE)


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
    """From ``start`` to ``end`` demand of the given countries and sectors is ``multiplier`` times its level."""

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
    stage: Stage
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
    Union[ExportBanEvent, ExportLicenceEvent, ExportQuotaEvent, TariffEvent, OriginRuleEvent, Suspension,
          CapacityChange, Outage, DemandShock, DemandGrowth, StockpileRelease, PriceFloor, Recycling, Substitution,
          Offtake],
    Field(discriminator="type"),
]
EVENT_RECORDS: tuple[type[Event], ...] = get_args(get_args(AnyEvent)[0])
EVENT_TYPES = tuple(get_args(record.model_fields["type"].annotation)[0] for record in EVENT_RECORDS)
MEASURE_TYPES = tuple(kind for kind, record in zip(EVENT_TYPES, EVENT_RECORDS) if issubclass(record, MeasureEvent))
