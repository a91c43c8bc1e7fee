"""What a part of the weekly step, or an event between steps, moved: returned by the parts, booked once.

The simulation hands each ``Flows`` to its ledger (``sim.engine.ledger``), which books the mass-balance
terms into the accounts and the facts into the recorder. Arrays are by country (``[C, ...]``); tagged
flows (``[C, Q, X]``, ``sim.world.provenance.TaggedFlow``: their mass and the provenance rows that hold
anything) carry provenance. Units: t REO for concentrate and oxides, t magnet for magnets.
Fields a part does not move stay None.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..world.provenance import TaggedFlow
from .shipping import Exports
from .transit import Shipment


@dataclass(slots=True)
class Flows:
    """One part's flows (see the module docstring)."""

    stage: str = ""                                  # the stage whose goods shipments and licences carry
    # end use of magnets
    demand: np.ndarray | None = None                 # [C, S] t magnet end uses asked for
    supplied: np.ndarray | None = None               # [C, S] t magnet they got
    magnets_used: TaggedFlow | None = None           # tagged magnets (t magnet) taken from stock by end uses
    # oxides used, magnets made
    recycled: np.ndarray | None = None               # [C, E] oxides recovered from end-of-life magnets
    other_uses: np.ndarray | None = None             # [C, E] oxides used outside magnets
    oxides_used: TaggedFlow | None = None            # tagged oxides taken by magnet plants and other uses
    oxides_into_magnets: np.ndarray | None = None    # [C, E] oxides magnet plants took (content plus swarf)
    magnets_planned: np.ndarray | None = None        # [C, G] t magnet plants planned
    magnets_made: np.ndarray | None = None           # [C, G] t magnet made
    made_tagged: TaggedFlow | None = None            # the same, tagged
    magnets_short_of: np.ndarray | None = None       # [C, E] t magnet not made for want of each element
    # separation and mining
    feed: TaggedFlow | None = None                   # tagged concentrate fed to separation
    separated: TaggedFlow | None = None              # tagged oxides out of separation
    mined: np.ndarray | None = None                  # [C, E] concentrate mined
    sunk: TaggedFlow | None = None                   # tagged oxides nobody needed, to the "other uses" sink
    # prices
    price: np.ndarray | None = None                  # [M, E] USD/kg by market
    price_multiple: np.ndarray | None = None         # [M, E] price / initial price
    magnet_price: np.ndarray | None = None           # [M, G] USD/kg magnet (NaN: recipe not fully priced)
    magnet_price_multiple: np.ndarray | None = None  # [M, G] magnet price / its starting value
    # goods between countries
    exports: Exports | None = None                   # left suppliers' stocks this step (into transit)
    qualifying: list[tuple[int, int]] = field(default_factory=list)   # (buyer, switching group) starting to qualify
    turned_back: tuple[Shipment, np.ndarray, str] | None = None   # goods stopped on their way: mass by route, why
