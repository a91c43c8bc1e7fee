"""The columns of the step tables (``Results.table``): the keys that name a row, the values it holds, and
the codes each key can hold in a run of a scenario.

A selection of rows (a back-test target's ``select:``) may name only key columns and only their codes: a
code no run of the scenario can hold selects nothing, silently, so it is refused before any run.

``market`` is a key of ``prices`` only in a scenario with ``prices.home_market`` (``OPTIONAL_KEYS``): without
one the table has one world price per element and no market column, and ``codes`` leaves the key out.
``magnet_prices`` has rows only with a home market.
"""
from __future__ import annotations

from ..scenario import Scenario
from ..stages import MAGNET, MINE, REFINERY, STAGES, item_names
from ..world.markets import MARKETS
from .causes import CAUSE_TABLE, CAUSES, IMPORTS, OWN, element_codes
from .chain import CHAIN
from .recorder import LICENCE_OUTCOMES

RECYCLING = "recycling"          # production: oxides recovered from end-of-life magnets
STOCKPILE = "stockpile"          # inventory: strategic stockpiles of oxides, beside the working stocks
PRODUCTION_STAGES = (MINE, REFINERY, RECYCLING, MAGNET)
INVENTORY_STAGES = (MINE, REFINERY, MAGNET, STOCKPILE)
END_USERS = ("civil", "defence")

KEYS: dict[str, tuple[str, ...]] = {
    "production": ("country", "stage", "item"),
    "flows": ("stage", "exporter", "importer", "item"),
    "chain": ("stage", "country", "origin_stage", "origin"),
    "inventory": ("country", "stage", "item"),
    "unmet": ("country", "sector", "end_user", "unit"),
    "magnet_output": ("country", "grade"),
    "prices": ("market", "element"),
    "magnet_prices": ("market", "grade"),
    "dependency": ("country", "stage", "on"),
    "licences": ("stage", "exporter", "importer", "outcome"),
    "licence_queue": ("stage", "exporter", "importer"),
    "causes": CAUSE_TABLE,
}
OPTIONAL_KEYS: dict[str, tuple[str, ...]] = {"prices": ("market",)}   # key columns only some scenarios' tables have
VALUES: dict[str, tuple[str, ...]] = {
    "production": ("t",),
    "flows": ("t",),
    "chain": ("t",),
    "inventory": ("t", "days_of_cover", "days_of_end_use"),
    "unmet": ("demand_t", "supplied_t", "unmet_t", "unmet_units", "value_at_risk_usd"),
    "magnet_output": ("planned_t", "made_t", "short_t"),
    "prices": ("usd_per_kg", "multiple"),
    "magnet_prices": ("usd_per_kg", "multiple"),
    "dependency": ("direct", "embedded"),
    "licences": ("t",),
    "licence_queue": ("applications", "t"),
    "causes": ("t",),
}


def codes(scenario: Scenario) -> dict[str, dict[str, tuple[str, ...]]]:
    """Table -> key column -> the codes the column can hold in a run of ``scenario`` (drawn or not: a draw
    changes numbers, never names); the key columns are those its tables have, in their order."""
    countries = tuple(scenario.countries)
    elements = tuple(scenario.elements)
    grades = tuple(scenario.magnet_grades)
    traded = tuple(dict.fromkeys(i for stage in STAGES for i in item_names(stage, elements, grades)))
    sectors = tuple(scenario.sectors)
    home = scenario.prices.home_market is not None
    return {
        "production": {"country": countries, "stage": PRODUCTION_STAGES, "item": elements + grades},
        "flows": {"stage": STAGES, "exporter": countries, "importer": countries, "item": traded},
        "chain": {"stage": tuple(s for s, _ in CHAIN), "country": countries,
                  "origin_stage": tuple(o for _, o in CHAIN), "origin": countries},
        "inventory": {"country": countries, "stage": INVENTORY_STAGES, "item": traded},
        "unmet": {"country": countries, "sector": sectors, "end_user": END_USERS,
                  "unit": tuple(dict.fromkeys(scenario.sectors[s].unit for s in sectors))},
        "magnet_output": {"country": countries, "grade": grades},
        # only elements with an initial price have a price series; markets and magnet prices need a home market
        "prices": ({"market": MARKETS} if home else {})
        | {"element": tuple(e for e in elements if e in scenario.prices.initial_usd_per_kg)},
        "magnet_prices": {"market": MARKETS if home else (), "grade": grades if home else ()},
        "dependency": {"country": countries, "stage": STAGES, "on": countries},
        "licences": {"stage": STAGES, "exporter": countries, "importer": countries, "outcome": LICENCE_OUTCOMES},
        "licence_queue": {"stage": STAGES, "exporter": countries, "importer": countries},
        "causes": {"country": countries, "stage": ("", OWN, IMPORTS), "maker": ("", *countries, "unknown"),
                   "cause": CAUSES, "element": element_codes(scenario), "oxide_from": ("", *countries),
                   "measure": ("", *(e.id for e in scenario.events if e.id))},
    }
