"""Markets: which buyers a price is formed among. One world market, or with ``prices.home_market`` two: the
buyers in the home country (``home``) and everyone else's (``outside``), so that an export measure of the
home country can open a spread between what its own buyers pay and what the rest of the world pays.
"""
from __future__ import annotations

import numpy as np

from ..scenario import Scenario

WORLD, HOME, OUTSIDE = "world", "home", "outside"
MARKETS = (HOME, OUTSIDE)            # the markets of a scenario with a home market, in the order of the market axis


def market_names(scenario: Scenario) -> tuple[str, ...]:
    """The scenario's markets, in the order of the market axis of prices: (world,) or (home, outside)."""
    return MARKETS if scenario.prices.home_market is not None else (WORLD,)


def market_of(scenario: Scenario) -> np.ndarray:
    """[C] the market index of each country's buyers: 0 everywhere with one world market; else 0 for the
    home country and 1 (outside) for the rest."""
    home = scenario.prices.home_market
    return np.array([0 if home is None or code == home else 1 for code in scenario.countries], dtype=int)
