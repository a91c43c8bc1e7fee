"""Substitution: sectors move from one magnet grade to another, or out of rare-earth magnets (ferrite), once
an element's price (outside the home market, where there is one) has stayed above a threshold for a delay, at
up to a speed, up to a maximum share."""
from __future__ import annotations

import numpy as np

from ..scenario import Scenario
from ..scenario.events import NO_RARE_EARTH
from ..world import DAYS_PER_YEAR, Network
from .state import State


def substitute(state: State, net: Network, world: Scenario) -> None:
    """Move this step's share of each substitution event's sectors from its grade (calendar steps only)."""
    if state.k < 0:
        return
    dt_ = net.step_days
    grades = net.grades
    for n, event in enumerate(world.events):
        if event.type != "substitution":
            continue
        e = net.elements.index(event.element)
        # an event names no country: it moves the sectors of every country at once, so it reads one price,
        # the outside market's, where all but the home country's buyers pay and where the home country's
        # export measures show; the home price, sheltered by them, would hold everyone else back
        high = state.price[net.outside, e] > float(event.price_above_usd_per_kg)
        state.price_high_days[n] = state.price_high_days[n] + dt_ if high else 0.0
        if not high or state.price_high_days[n] < float(event.delay_days):
            continue
        step = min(float(event.max_share_per_year) * dt_ / DAYS_PER_YEAR,
                   float(event.max_share) - state.substituted[n])
        if step <= 0:
            continue
        state.substituted[n] += step
        s = [i for i, name in enumerate(net.sectors) if event.sectors == "all" or name in event.sectors]
        g = grades.index(event.from_grade)
        moved = np.minimum(net.sector_grades[s, g] * step, state.sector_grades[:, s, g])
        state.sector_grades[:, s, g] -= moved
        if event.to_grade != NO_RARE_EARTH:
            state.sector_grades[:, s, grades.index(event.to_grade)] += moved
