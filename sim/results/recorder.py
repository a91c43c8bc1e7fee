"""Raw facts of a run, one array slot per step: what was mined, made, shipped, held, used and missed.

The engine writes here and nowhere else; ``results`` turns these arrays into
tidy DataFrames and indicators afterwards. Steps before the calendar's start
(the spin-up) are not recorded. Units: t REO (concentrate and oxides, and the
rare-earth content of magnets where a field says ``_reo``), t magnet, USD/kg.

Facts by country and item are dense arrays ``[step, country, ...]``: they grow with the countries. Facts
by pairs of countries (exports by route; provenance, 1 + 4 x countries rows per country) would grow with
their square, and are mostly zero, so they are ``sparse.SparseSteps``: the routes and rows that are not
zero, read as the same arrays (``exports[stage][steps]``, ``consumed_tags[steps, stage]``). Every step
stays available to every table.
"""
from __future__ import annotations

import numpy as np

from ..kernels import lazy
from ..stages import MAGNET, MINE, REFINERY, STAGES
from ..world import Network
from .sparse import SparseSteps

# what became of a licence application, or of goods on their way (the ``licences`` table's outcomes)
LICENCE_OUTCOMES = ("applied", "approved", "refused", "stopped awaiting licence", "turned back at sea")
# ``licences``' one chunk when none was kept: (step, stages, exporters, importers, t, outcomes), none of each
NO_LICENCES = (0, *(np.zeros(0, np.int64) for _ in range(3)), np.zeros(0), np.zeros(0, np.int64))

record_kernels = lazy("records")     # Numba loaded at its first kernel, not with this module


class Recorder:
    """Arrays ``[step, ...]`` filled by the engine's ledger as it runs (those by pairs of countries sparse)."""

    def __init__(self, net: Network):
        n, C, E, G, S, Q, M = (len(net.dates), net.n_countries, len(net.elements), len(net.grades),
                               len(net.sectors), net.tags.rows, len(net.markets))
        self.n = n
        self.block = C * Q                                # positions of a flow's provenance: country x row
        self.recipe_reo = net.recipe.sum(axis=1)          # [G] t REO per t magnet
        z = np.zeros
        self.mined = z((n, C, E))
        self.feed = z((n, C))                             # concentrate fed to separation, t REO
        self.separated = z((n, C, E))                     # oxides out of separation
        self.recycled = z((n, C, E))                      # oxides recovered from end-of-life magnets
        self.magnets_made = z((n, C, G))
        self.magnets_planned = z((n, C, G))
        self.short_of = z((n, C, E))                      # t magnet not made for want of each element (its scarcest)
        self.other_uses = z((n, C, E))                    # oxides used outside magnets
        self.sunk = z((n, C, E))
        self.demand = z((n, C, S))                        # end-use demand, t magnet
        self.supplied = z((n, C, S))
        self.stock_conc = z((n, C))
        self.stock_oxide = z((n, C, E))
        self.stock_magnet = z((n, C, G))
        self.stockpile = z((n, C, E))
        self.stockpile_opening = z((C, E))                # what stockpiles hold at the calendar's start
        self.use_oxide_opening = z((C, E))                # own oxide use per day then
        self.use_conc = z((n, C))                         # own use per day (for days of cover)
        self.use_oxide = z((n, C, E))
        self.use_magnet = z((n, C, G))
        self.exports = {stage: SparseSteps(n, (C, C), (items,))                                   # [b, j, item]
                        for stage, items in ((MINE, 1), (REFINERY, E), (MAGNET, G))}
        self.consumed_tags = SparseSteps(n, (3, C, Q))    # what each stage consumed in a country, by provenance
        self.made_tags = SparseSteps(n, (C, Q))           # REO content of magnets made, by provenance
        self.made_tags_t = SparseSteps(n, (C, Q))         # t magnet made, by provenance
        self.used_tags_t = SparseSteps(n, (C, Q))         # t magnet end users used, by provenance
        self.making_losses = z((n, C))                    # oxides magnet plants took beyond the magnets' content
        self.in_transit = z((n, len(STAGES)))             # at sea or awaiting a licence, by stage (t REO, t magnet)
        self.opening_held = np.zeros(len(STAGES))         # held at the calendar's start, by stage (see held())
        self.price = z((n, M, E))                         # by market (sim.world.markets)
        self.price_multiple = z((n, M, E))
        self.magnet_price = np.full((n, M, G), np.nan)    # with a home market only
        self.magnet_price_multiple = np.full((n, M, G), np.nan)
        # what became of licence applications, in the order it came: a chunk of columns a call (``licences``)
        self._licences: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | str]] = []
        self.licence_queue: list[tuple] = []              # (step, stage, exporter, importer, applications, t)

    def keeps(self, k: int) -> bool:
        """Whether step ``k`` is recorded: a calendar step."""
        return 0 <= k < self.n

    # ------------------------------------------------------------ stages
    # what a part of a step writes, booked in one compiled call with its terms of the balance
    # (``sim.kernels.booking``): the dense records it writes at its step, and its sparse records with room for
    # the entries its flows by provenance may give (``entries``: how many they hold)
    def end_use_records(self, entries: int) -> tuple:
        """End use: demand and supply by sector; magnets used by provenance, in t magnet and in t REO (the third
        part of what each stage consumed)."""
        return (self.demand, self.supplied, self.used_tags_t.room_to_put(entries, self.block),
                self.consumed_tags.room_to_put(entries, self.block), self.recipe_reo)

    def making_records(self, made: int, used: int) -> tuple:
        """Magnet making: oxides lost as swarf, used outside magnets, magnets made and planned; magnets made by
        provenance, in t magnet and in t REO; oxides used by provenance (the second part of what each stage
        consumed)."""
        return ((self.making_losses, self.other_uses, self.magnets_made, self.magnets_planned),
                self.made_tags_t.room_to_put(made, self.block), self.made_tags.room_to_put(made, self.block),
                self.recipe_reo, self.consumed_tags.room_to_put(used, self.block))

    def separation_records(self, entries: int) -> tuple:
        """Separation: concentrate fed (t REO), oxides separated; the feed by provenance (the first part of what
        each stage consumed)."""
        return self.feed, self.separated, self.consumed_tags.room_to_put(entries, self.block)

    def departures(self, stage: str, routes: int) -> tuple:
        """Where a part records its exports put to sea at once, ``routes`` of them: the stage's record of exports,
        and its suppliers' count."""
        return self.exports[stage].room_to_add(routes), self.exports[stage].lead[1]

    def prices(self, k: int, price: np.ndarray, multiple: np.ndarray, magnet_price: np.ndarray | None,
               magnet_multiple: np.ndarray | None) -> None:
        """Element prices by market [M, E], and magnet prices by market [M, G] where there are any."""
        if self.keeps(k):
            self.price[k] = price
            self.price_multiple[k] = multiple
            if magnet_price is not None:
                self.magnet_price[k] = magnet_price
                self.magnet_price_multiple[k] = magnet_multiple

    def levels(self, k: int, conc: np.ndarray, oxide: np.ndarray, magnet: np.ndarray, pile: np.ndarray,
               use: dict[str, np.ndarray], transit: np.ndarray) -> None:
        """The end of step ``k``: the stocks held (tagged [C, Q, X], their mass recorded: concentrate by element,
        summed, oxides, magnets by grade, stockpiles), each country's own use per day (stage -> [C, I]), for
        days of cover, and the goods at sea or awaiting a licence by stage [3] (t REO of concentrate and of
        oxides, t magnet); in one call, as a step closes."""
        if self.keeps(k):
            record_kernels.put_levels(k, self.stock_conc, self.stock_oxide, self.stock_magnet, self.stockpile,
                                      self.use_conc, self.use_oxide, self.use_magnet, self.in_transit, conc, oxide,
                                      magnet, pile, use[MINE], use[REFINERY], use[MAGNET], transit)

    def opening(self, held: np.ndarray) -> None:
        """What the world held at the calendar's start, by stage [3] (as in ``held``)."""
        self.opening_held = held.copy()

    @property
    def nbytes(self) -> int:
        """Bytes the record of the run holds."""
        records = [*vars(self).values(), *self.exports.values()]
        return sum(v.nbytes for v in records if isinstance(v, (np.ndarray, SparseSteps)))

    def held(self) -> np.ndarray:
        """[n + 1, 3] what the world held at the calendar's start (row 0) and at the end of each step, by
        stage: concentrate (t REO), oxides with strategic stockpiles (t REO), magnets (t magnet); in stock,
        at sea and awaiting a licence."""
        steps = np.stack([self.stock_conc.sum(axis=1),
                          self.stock_oxide.sum(axis=(1, 2)) + self.stockpile.sum(axis=(1, 2)),
                          self.stock_magnet.sum(axis=(1, 2))], axis=1) + self.in_transit
        return np.vstack([self.opening_held, steps])

    def opening_stockpiles(self, pile: np.ndarray, use_oxide: np.ndarray) -> None:
        """Stockpiles [C, E] t and each country's own oxide use [C, E] t/day at the calendar's start."""
        self.stockpile_opening = pile.copy()
        self.use_oxide_opening = use_oxide.copy()

    # ------------------------------------------------------------ trade
    def licence_outcomes(self, k: int, stages: np.ndarray, exporters: np.ndarray, importers: np.ndarray,
                         t: np.ndarray, outcomes: np.ndarray | str) -> None:
        """What became of licence applications in step ``k``, one a route's exports each, as columns [n]: stage (its
        index in ``STAGES``), exporter, importer, ``t`` in t REO or t magnet, ``outcome``: one of
        ``LICENCE_OUTCOMES`` for all, or each one's index in them; all at once, in the order they came (a licensing
        run makes tens of thousands: kept as the arrays given, which the caller does not change). A decision after
        the calendar's end counts in its last step."""
        self._licence_records(min(k, self.n - 1), stages, exporters, importers, t, outcomes)

    def _licence_records(self, k: int, stages: np.ndarray, exporters: np.ndarray, importers: np.ndarray,
                         t: np.ndarray, outcomes: np.ndarray | str) -> None:
        """Keep a chunk of ``licences``' columns of step ``k``, if it is recorded and holds any (one outcome for
        all kept by its index in ``LICENCE_OUTCOMES``)."""
        if self.keeps(k) and len(t):
            self._licences.append((k, stages, exporters, importers, t,
                                   LICENCE_OUTCOMES.index(outcomes) if isinstance(outcomes, str) else outcomes))

    @property
    def licences(self) -> dict[str, np.ndarray]:
        """What became of licence applications and of goods turned back, in the order it came, as columns: k, stage
        (its name), exporter and importer (country indices), t, outcome (its name)."""
        chunks = self._licences or [NO_LICENCES]
        sizes = [len(chunk[4]) for chunk in chunks]
        return {"k": np.repeat(np.array([chunk[0] for chunk in chunks], np.int64), sizes),
                "stage": np.array(STAGES, dtype=object)[np.concatenate([chunk[1] for chunk in chunks])],
                "exporter": np.concatenate([chunk[2] for chunk in chunks]).astype(np.int64),
                "importer": np.concatenate([chunk[3] for chunk in chunks]).astype(np.int64),
                "t": np.concatenate([chunk[4] for chunk in chunks]).astype(float),
                "outcome": np.array(LICENCE_OUTCOMES, dtype=object)[
                    np.concatenate([np.full(n, o) if isinstance(o, int) else o for n, (*_, o) in zip(sizes, chunks)])]}

    def licence_waiting(self, k: int, stage: str, supplier: int, buyer: int, applications: int, t: float) -> None:
        """Applications (and their t) of one route waiting in a licence office's queue at the end of step k."""
        if self.keeps(k):
            self.licence_queue.append((k, stage, supplier, buyer, applications, t))

    def turned_back(self, k: int, stage: str, buyer: np.ndarray, supplier: np.ndarray, mass: np.ndarray,
                    outcome: str) -> None:
        """Goods on their way stopped by a measure coming into force, ``mass`` [n, I] by route."""
        total = mass.sum(axis=1)
        moved = total > 0
        self._licence_records(k, np.full(int(moved.sum()), STAGES.index(stage)), np.asarray(supplier)[moved],
                              np.asarray(buyer)[moved], total[moved], outcome)
