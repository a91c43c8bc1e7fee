"""The parameters an explanation cites, with their sources: a run's ``parameters`` table.

One row per parameter of the world the run drew (a drawn number as drawn): ``subject`` (an event's id, or
what it belongs to: ``stockpile``, ``magnet plants``, ``sector``, ``grade``, ``trade`` (switching delays),
``working stocks``), ``country`` (empty where none),
``name``, ``parameter``, ``value`` (as text, with its unit), ``start`` (an event's first day, ISO; else empty),
``source`` (the ids in ``seeds/``, space-separated).
Written beside the tables so that a results folder can be explained without its scenario file.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..world.describe import describe_event

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..scenario import Scenario

PARAMETER_COLUMNS = ["subject", "country", "name", "parameter", "value", "start", "source"]


def _sources(record) -> str:
    return " ".join(getattr(record, "source", ()) or ())


def _number(x: object, spec: str = "g") -> str:
    """A number as written; a distribution (an ensemble's scenario as written) by its fields."""
    if isinstance(x, (int, float)):
        return format(x, spec)
    fields = x.model_dump(exclude_none=True) if hasattr(x, "model_dump") else x
    return "uncertain: " + ", ".join(f"{k} {v}" for k, v in fields.items()) if isinstance(fields, dict) else str(x)


def event_row(event) -> tuple[str, ...]:
    """An event's row of the ``parameters`` table: its rule in words (``describe_event``), its first day (a
    distribution's central date) and its sources."""
    start = getattr(event, "start", None) or getattr(event, "date", None)
    start = start.central() if hasattr(start, "central") else start
    return ("event", getattr(event, "exporter", "") or "", event.id or "", "rule", describe_event(event),
            start.isoformat() if start else "", _sources(event))


def parameters_table(world: Scenario) -> pd.DataFrame:
    """The ``parameters`` table of a world (see the module's docstring): a run's drawn world, or a scenario as
    written (its distributions as such)."""
    import pandas as pd

    rows = [event_row(event) for event in world.events]
    for country, pile in world.stockpiles.items():
        size = (f"{_number(pile.days)} days of {pile.days_of.replace('_', ' ')} of {', '.join(pile.elements or ())}"
                if pile.days is not None else ", ".join(f"{e} {_number(t)} t" for e, t in (pile.t or {}).items()))
        rows.append(("stockpile", country, "", "size", size, "", _sources(pile)))
    plants: dict[str, list] = {}
    for plant in world.facilities.magnet.values():
        plants.setdefault(plant.country, []).append(plant)
    for country, listed in plants.items():
        capacity = sum(p.capacity_t if isinstance(p.capacity_t, (int, float)) else p.capacity_t.central()
                       for p in listed)
        sources = " ".join(dict.fromkeys(s for p in listed for s in (p.source or ())))
        rows.append(("magnet plants", country, ", ".join(p.name for p in listed), "capacity",
                     f"{capacity:,.0f} t magnet/yr", "", sources))
    for name, grade in world.magnet_grades.items():
        recipe = ", ".join(f"{e} {_number(share, '.3g')}" for e, share in grade.recipe.items())
        rows.append(("grade", "", name, "recipe", f"{recipe} t REO per t magnet", "", _sources(grade)))
    for name, sector in world.sectors.items():
        rows.append(("sector", "", name, "magnet content", f"{_number(sector.magnet_kg_per_unit)} kg magnet per "
                     f"{sector.unit}", "", _sources(sector)))
        if sector.value_usd_per_unit is not None:
            rows.append(("sector", "", name, "value per unit", f"{_number(sector.value_usd_per_unit, ',.0f')} USD per "
                         f"{sector.unit}", "", " ".join(sector.value_source)))
    trade = world.trade
    if trade.switching_days:
        days = ", ".join(f"{stage} {_number(d)}" for stage, d in trade.switching_days.items())
        rows.append(("trade", "", "", "switching to a new supplier", f"{days} days", "",
                     " ".join(trade.switching_source or ())))
    stocks = world.inventories
    if stocks.target_days:
        days = ", ".join(f"{stage} {_number(d)}" for stage, d in stocks.target_days.items())
        rows.append(("working stocks", "", "", "target", f"{days} days of use", "", _sources(stocks)))
    return pd.DataFrame(rows, columns=PARAMETER_COLUMNS)
