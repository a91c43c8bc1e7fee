"""One-screen text summaries of a scenario, for ``python -m sim validate``."""
from __future__ import annotations

import datetime as dt

from ..scenario import Scenario
from ..stages import MAGNET, MINE, REFINERY, STAGES
from .facilities import capacity_shares

TOP_COUNTRIES = 5


def _event_date(event) -> dt.date:
    for key in ("start", "date"):
        if hasattr(event, key):
            value = getattr(event, key)
            return value.central() if hasattr(value, "central") else value   # a distribution of dates
    return dt.date.min


def describe_event(event) -> str:
    """'2026-01-06 export_ban CN -> JP [refinery, magnet] Sm, Gd, ... (until 2027-01-01)'."""
    kind = event.type
    parts = [str(_event_date(event)), kind]
    if hasattr(event, "exporter"):
        importers = "all" if event.importers == "all" else ", ".join(event.importers)
        elements = "all elements" if event.elements == "all" else ", ".join(event.elements)
        parts.append(f"{event.exporter} -> {importers} [{', '.join(event.stages)}] {elements}")
        if event.end_users != "all":
            parts.append(f"({event.end_users} end users)")
        if getattr(event, "end", None):
            parts.append(f"until {event.end}")
    elif kind == "suspension":
        parts.append(f"of {event.measure} until {event.until}")
    elif hasattr(event, "facility"):
        parts.append(event.facility)
    if event.id:
        parts.append(f"[{event.id}]")
    if getattr(event, "probability", None) is not None:
        parts.append(f"(probability {event.probability})")
    if getattr(event, "together_with", None) is not None:
        parts.append(f"(together with {event.together_with})")
    return " ".join(parts)


def describe_scenario(scenario: Scenario) -> str:
    """Countries, facilities per stage, capacity shares by country per stage, events in date order."""
    cal = scenario.calendar
    lines = [f"{scenario.name}: {scenario.title or ''}".rstrip(": "),
             f"  calendar   {cal.start} .. {cal.end}, step {cal.step_days} d",
             f"  elements   {', '.join(scenario.elements)}",
             f"  countries  {len(scenario.countries)}: {', '.join(scenario.countries)}"]
    if scenario.groups:
        lines.append("  groups     " + "; ".join(f"{k} = {', '.join(g.members)}" for k, g in scenario.groups.items()))
    fac = scenario.facilities
    lines.append(f"  facilities mine {len(fac.mine)}, refinery {len(fac.refinery)}, magnet {len(fac.magnet)}; "
                 f"sectors {len(scenario.sectors)}")
    shares = capacity_shares(scenario)
    unit = {MINE: "t REO/yr", REFINERY: "t REO feed/yr", MAGNET: "t magnet/yr"}
    lines.append(f"  capacity by country on {cal.start} (share of the stage; expected output in brackets):")
    for stage in STAGES:
        part = shares[shares["stage"] == stage]
        if part.empty:
            continue
        total = part["capacity_t"].sum()
        top = ", ".join(f"{r.country} {r.share:.0%} ({r.output_share:.0%})"
                        for r in part.head(TOP_COUNTRIES).itertuples())
        rest = len(part) - TOP_COUNTRIES
        lines.append(f"    {stage:<9}{total:>10,.0f} {unit[stage]:<14} {top}{f', +{rest} more' if rest > 0 else ''}")
    events = sorted(scenario.events, key=_event_date)
    lines.append(f"  events     {len(events)}" + (":" if events else ""))
    lines += [f"    {describe_event(e)}" for e in events]
    return "\n".join(lines)
