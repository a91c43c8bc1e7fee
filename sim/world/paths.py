"""What a scenario's dated events do to the world over time, step by step: demand paths, recycling,
price floors and stockpile releases decided by event. Arrays ``[steps, ...]``."""
from __future__ import annotations

import numpy as np

from ..scenario import Scenario
from .calendar import DAYS_PER_YEAR, window


def selected(names, chosen, scenario: Scenario | None = None) -> np.ndarray:
    """[N] bool over ``names`` for a list of names (countries may name groups) or 'all'."""
    if chosen == "all":
        return np.ones(len(names), dtype=bool)
    picked = scenario.country_set(chosen) if scenario is not None else chosen
    return np.array([n in picked for n in names], dtype=bool)


def demand_path(scenario: Scenario, dates, demand: np.ndarray) -> np.ndarray:
    """Multiply end-use demand [steps, C, S] by the scenario's demand growth paths and shocks."""
    countries, sectors = tuple(scenario.countries), tuple(scenario.sectors)
    for event in scenario.events:
        if event.type not in ("demand_growth", "demand_shock"):
            continue
        where = np.outer(selected(countries, event.countries, scenario), selected(sectors, event.sectors))
        if event.type == "demand_shock":
            factor = np.where(window(dates, event.start, event.end), float(event.multiplier), 1.0)
        else:
            last = event.end or dates[-1]
            years = np.array([(min(max(d, event.start), last) - event.start).days / DAYS_PER_YEAR for d in dates])
            factor = (1.0 + float(event.growth_per_year)) ** years
        demand = demand * np.where(where[None], factor[:, None, None], 1.0)
    return demand


def recycling_share(scenario: Scenario, dates) -> np.ndarray:
    """[steps, C] share of each country's magnet rare-earth demand that comes back as recycled oxide."""
    countries = tuple(scenario.countries)
    share = np.zeros((len(dates), len(countries)))
    for event in scenario.events:
        if event.type != "recycling":
            continue
        years = np.array([(d - event.start).days / DAYS_PER_YEAR for d in dates])
        path = np.where(years >= 0, np.minimum(float(event.share) * (1.0 + float(event.growth_per_year))
                                               ** np.maximum(years, 0.0), float(event.max_share)), 0.0)
        share += np.outer(path, selected(countries, event.countries, scenario))
    return np.minimum(share, 1.0)


def price_floor(scenario: Scenario, dates) -> np.ndarray:
    """[steps, C, E] the highest price floor guaranteed to each country's producers of each element."""
    countries, elements = tuple(scenario.countries), tuple(scenario.elements)
    floor = np.zeros((len(dates), len(countries), len(elements)))
    for event in scenario.events:
        if event.type != "price_floor":
            continue
        during = window(dates, event.start, event.end)
        mask = selected(countries, event.countries, scenario)
        e = elements.index(event.element)
        floor[np.ix_(during, mask, [e])] = np.maximum(floor[np.ix_(during, mask, [e])], float(event.usd_per_kg))
    return floor


def forced_release(scenario: Scenario, dates) -> np.ndarray:
    """[steps, C] days of use per month released by ``stockpile_release`` events."""
    countries = tuple(scenario.countries)
    rate = np.zeros((len(dates), len(countries)))
    for event in scenario.events:
        if event.type == "stockpile_release":
            rate[window(dates, event.start, event.end), countries.index(event.country)] += float(event.days_per_month)
    return rate
