"""Facilities of a scenario: capacity by date (ramp-up, closure, capacity changes, outages), by stage and country."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..scenario import Scenario, realise
from ..scenario.schema import Facility
from ..stages import STAGES
from .calendar import DAYS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def available_share(facility: Facility, days: np.ndarray) -> np.ndarray:
    """Share of nameplate capacity usable on each of ``days`` (``date.toordinal()``): 0 before ``online``, a
    linear ramp, 0 after ``closes``."""
    share = np.ones(len(days))
    if facility.online is not None:
        since = days - facility.online.toordinal()
        ramp_days = float(facility.ramp_years) * DAYS_PER_YEAR
        if ramp_days > 0:
            share = np.minimum(1.0, since / ramp_days)
        share[since < 0] = 0.0
    if facility.closes is not None:
        share[days >= facility.closes.toordinal()] = 0.0
    return share


def facility_table(scenario: Scenario, on: dt.date | None = None) -> pd.DataFrame:
    """One row per facility: stage, country, capacity and expected output (t/yr) on a date.

    Capacity is nameplate times the ramp-up share on that date (0 before it
    opens or after it closes); expected output is capacity x utilisation, what
    a plant makes with enough input. Distributions count at their central value.
    """
    import pandas as pd

    scenario = realise(scenario, None)
    on = on or scenario.calendar.start
    rows = []
    for stage in STAGES:
        for fid, f in getattr(scenario.facilities, stage).items():
            share = float(available_share(f, np.array([on.toordinal()]))[0])
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
    order = {stage: n for n, stage in enumerate(STAGES)}
    out = out.sort_values(["stage", "share"], key=lambda s: s.map(order) if s.name == "stage" else -s)
    return out.reset_index(drop=True)


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


def facility_arrays(facilities: dict, scenario: Scenario, dates) -> FacilityArrays:
    """Nameplate per step from capacity, ramp-up and closure, then the scenario's capacity changes and outages."""
    countries, elements = tuple(scenario.countries), tuple(scenario.elements)
    ids = tuple(facilities)
    nameplate = np.zeros((len(dates), len(ids)))
    day = np.array([d.toordinal() for d in dates])
    for f, fac in enumerate(facilities.values()):
        nameplate[:, f] = float(fac.capacity_t) / DAYS_PER_YEAR * available_share(fac, day)
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
