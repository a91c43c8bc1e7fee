"""Facilities, capacities and shares of the world a scenario describes (no SimPy here)."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from .distributions import realise
from .schema import Facility, Scenario

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
