"""The parameters an explanation cites, with their sources: a run's ``parameters`` table.

One row per parameter of the world the run drew (a drawn number as drawn): ``subject`` (an event's id, or
what it belongs to: ``stockpile``, ``magnet plants``, ``sector``, ``grade``), ``country`` (empty where none),
``name``, ``parameter``, ``value`` (as text, with its unit), ``source`` (the ids in ``seeds/``, space-separated).
Written beside the tables so that a results folder can be explained without its scenario file.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..world.describe import describe_event

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .tables import Results

PARAMETER_COLUMNS = ["subject", "country", "name", "parameter", "value", "source"]


def _sources(record) -> str:
    return " ".join(getattr(record, "source", ()) or ())


def event_row(event) -> tuple[str, str, str, str, str, str]:
    """An event's row of the ``parameters`` table: its rule in words (``describe_event``) and its sources."""
    return "event", getattr(event, "exporter", "") or "", event.id or "", "rule", describe_event(event), _sources(event)


def parameters_table(results: Results) -> pd.DataFrame:
    """The ``parameters`` table of a run (see the module's docstring)."""
    import pandas as pd

    world = results.world
    rows = [event_row(event) for event in world.events]
    for country, pile in world.stockpiles.items():
        size = (f"{pile.days:g} days of {pile.days_of.replace('_', ' ')} of {', '.join(pile.elements or ())}"
                if pile.days is not None else ", ".join(f"{e} {t:g} t" for e, t in (pile.t or {}).items()))
        rows.append(("stockpile", country, "", "size", size, _sources(pile)))
    plants: dict[str, list] = {}
    for plant in world.facilities.magnet.values():
        plants.setdefault(plant.country, []).append(plant)
    for country, listed in plants.items():
        capacity = sum(p.capacity_t for p in listed)
        sources = " ".join(dict.fromkeys(s for p in listed for s in (p.source or ())))
        rows.append(("magnet plants", country, ", ".join(p.name for p in listed), "capacity",
                     f"{capacity:,.0f} t magnet/yr", sources))
    for name, grade in world.magnet_grades.items():
        recipe = ", ".join(f"{e} {share:.3g}" for e, share in grade.recipe.items())
        rows.append(("grade", "", name, "recipe", f"{recipe} t REO per t magnet", _sources(grade)))
    for name, sector in world.sectors.items():
        rows.append(("sector", "", name, "magnet content", f"{sector.magnet_kg_per_unit:g} kg magnet per "
                     f"{sector.unit}", _sources(sector)))
    return pd.DataFrame(rows, columns=PARAMETER_COLUMNS)
