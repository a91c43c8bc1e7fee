"""Where every flow is booked, once: the accounts (the terms of the mass balance) and the recorder (the
facts the tables are made of). The mass balance is one function of the booked accounts and the stocks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvariantError
from ..results.recorder import Recorder
from ..stages import MAGNET, REFINERY, STAGES
from ..world import Network
from .flows import Flows
from .licensing import Application
from .state import Shipment, State, element_mass, traded_mass

BALANCE_TOLERANCE = 1e-9      # relative, per element


@dataclass
class Accounts:
    """Cumulative element flows since the calendar's start, t REO by element: the mass balance terms."""

    opening: np.ndarray
    mined: np.ndarray
    recycled: np.ndarray     # oxides recovered from end-of-life magnets
    consumed: np.ndarray     # in end-use magnets and other (non-magnet) uses
    sunk: np.ndarray         # oxides nobody needed, to the "other uses" sink
    losses: np.ndarray       # separation tailings and magnet-making swarf
    in_transit: np.ndarray   # at sea or awaiting a licence (a level, not cumulative)


class Ledger:
    """Books flows into the accounts (from the calendar's start) and the recorder (calendar steps only)."""

    def __init__(self, net: Network, recorder: Recorder):
        self.net = net
        self.recorder = recorder
        self.accounts: Accounts | None = None

    def open(self, state: State) -> None:
        """Open the accounts at the calendar's start: what is held and on its way is the opening balance."""
        E = len(self.net.elements)
        in_transit = transit_elements(state, self.net)
        self.accounts = Accounts(opening=stock_elements(state, self.net) + in_transit, mined=np.zeros(E),
                                 recycled=np.zeros(E), consumed=np.zeros(E), sunk=np.zeros(E), losses=np.zeros(E),
                                 in_transit=in_transit)
        self.recorder.opening(held_by_stage(state, self.net))
        self.recorder.opening_stockpiles(state.pile.mass, state.use_own[REFINERY])

    def land(self, shipment: Shipment) -> None:
        """Book goods that arrived: out of transit (their move into stock changes no other term). The most
        frequent flow of a run, thousands of times, so it has its own door rather than a Flows."""
        if self.accounts is not None:
            self.accounts.in_transit += -1.0 * element_mass(shipment.stage, shipment.tagged, self.net)

    def landed(self, stage: str, mass: np.ndarray) -> None:
        """Book goods of a stage that arrived, ``mass`` [X] (t REO by element, t magnet by grade), as ``land`` does
        for one shipment: the goods of every voyage that landed at once."""
        if self.accounts is not None:
            self.accounts.in_transit += -1.0 * (mass @ self.net.recipe if stage == MAGNET else mass)

    def book(self, k: int, f: Flows) -> None:
        """Book one part's flows in step ``k``: the balance's terms (from the calendar's start), then the facts."""
        a, net = self.accounts, self.net
        if a is not None:
            if f.magnets_used is not None:
                a.consumed += f.magnets_used[:, 0, :].sum(axis=0) @ net.recipe
            if f.recycled is not None:
                a.recycled += f.recycled.sum(axis=0)
            if f.other_uses is not None:
                a.consumed += f.other_uses.sum(axis=0)
                a.losses += (f.oxides_into_magnets - f.magnets_made @ net.recipe).sum(axis=0)
            if f.feed is not None:
                a.losses += (f.feed[:, 0, :] - f.separated[:, 0, :]).sum(axis=0)
            if f.mined is not None:
                a.mined += f.mined.sum(axis=0)
            if f.sunk is not None:
                a.sunk += f.sunk[:, 0, :].sum(axis=0)
            if f.exports is not None:
                a.in_transit += 1.0 * element_mass(f.stage, f.exports.leaving, net)
            if f.returned is not None:
                a.in_transit += -1.0 * element_mass(f.stage, f.returned, net)
        r = self.recorder
        if f.demand is not None:
            r.magnets(k, f.demand, f.supplied, f.magnets_used)
        if f.recycled is not None:
            r.recycling(k, f.recycled)
        if f.made_tagged is not None:
            r.made(k, f.made_tagged)
            r.oxides(k, f.other_uses, f.magnets_made, f.magnets_planned, f.oxides_used,
                     (f.oxides_into_magnets - f.magnets_made @ self.net.recipe).sum(axis=1))
        if f.feed is not None:
            r.refining(k, f.feed, f.separated)
        if f.mined is not None:
            r.mining(k, f.mined)
        if f.sunk is not None:
            r.sink(k, f.sunk[:, 0, :])
        if f.price is not None:
            r.prices(k, f.price, f.price_multiple, f.magnet_price, f.magnet_price_multiple)
        if f.turned_back is not None:
            shipment, mass, outcome = f.turned_back
            r.turned_back(k, shipment.stage, shipment.buyer, shipment.supplier, mass, outcome)
        if f.decided is not None:
            shipment, mass, approved = f.decided
            r.licence_decided(k, shipment.stage, shipment.supplier, shipment.buyer, mass, approved)
        for application in f.exports.held if f.exports is not None else ():
            shipment = application.shipment
            r.licence_applied(k, shipment.stage, shipment.supplier, shipment.buyer,
                              traded_mass(shipment.stage, shipment.tagged))
        for sent in (f.exports.sent if f.exports is not None else None, f.departed):
            if sent is not None:
                r.departed(k, sent.stage, sent.buyer, sent.supplier, traded_mass(sent.stage, sent.tagged))

    def waiting(self, k: int, applications: list[Application]) -> None:
        """Record the applications waiting in licence offices' queues at the end of step ``k``, by route."""
        queue: dict[tuple[str, int, int], list] = {}
        for application in applications:
            if application.empty:          # its goods were stopped: nothing waits for a decision
                continue
            route = queue.setdefault(application.route, [0, 0.0])
            route[0] += 1
            route[1] += application.t
        for (stage, exporter, importer), (n, t) in queue.items():
            self.recorder.licence_waiting(k, stage, exporter, importer, n, t)

    def close_step(self, k: int, state: State) -> None:
        """The end of calendar step ``k``: record the stocks held and each country's own use (for days of
        cover), then check the mass balance."""
        self.recorder.levels(k, state.conc.mass, state.oxide.mass, state.magnet.mass, state.pile.mass,
                             state.use_own)
        self.recorder.transit(k, transit_by_stage(state))
        self.check_balance(state, k)
        self.check_stocks(state, k)

    # ------------------------------------------------------------ the balance
    def balance(self, state: State) -> dict[str, np.ndarray]:
        """Mass balance by element, t REO: opening + mined + recycled = stocks + in transit + consumed + sunk
        + losses; ``residual`` is what does not add up."""
        a = self.accounts
        stocks = stock_elements(state, self.net)
        residual = a.opening + a.mined + a.recycled - (stocks + a.in_transit + a.consumed + a.sunk + a.losses)
        return {"opening": a.opening.copy(), "mined": a.mined.copy(), "recycled": a.recycled.copy(), "stocks": stocks,
                "in_transit": a.in_transit.copy(), "consumed": a.consumed.copy(), "sunk": a.sunk.copy(),
                "losses": a.losses.copy(), "residual": residual}

    def check_balance(self, state: State, k: int) -> None:
        """Raise InvariantError naming the element, the step and the terms when mass is created or lost."""
        b = self.balance(state)
        scale = np.maximum(b["opening"] + b["mined"] + b["recycled"], 1.0)
        bad = np.flatnonzero(np.abs(b["residual"]) > BALANCE_TOLERANCE * scale)
        if bad.size:
            e = bad[0]
            terms = ", ".join(f"{name} {values[e]:.6g}" for name, values in b.items())
            raise InvariantError(f"mass balance broken for {self.net.elements[e]} at step {k} "
                                 f"({self.net.dates[k]}): {terms} t REO")


    def check_stocks(self, state: State, k: int) -> None:
        """Raise InvariantError naming the stock, the country and the item when one is below zero: draws take at
        most what is there, so not even rounding may make a stock negative."""
        for stage, stocks in [*state.stocks.items(), ("stockpile", state.pile)]:
            if stocks.tagged.size and stocks.tagged.min() < 0.0:
                c, q, x = np.unravel_index(stocks.tagged.argmin(), stocks.tagged.shape)
                item = self.net.item_names(stage)[x] if stage in STAGES else self.net.elements[x]
                raise InvariantError(f"{stage} stock of {item} in {self.net.countries[c]} is "
                                     f"{stocks.tagged[c, q, x]:.3g} at step {k} ({self.net.dates[k]})"
                                     f"{'' if q == 0 else f' in provenance row {q}'}; a stock cannot be negative")


def stock_elements(state: State, net: Network) -> np.ndarray:
    """[E] t REO held in every stock, stockpiles included (magnets: their recipe content)."""
    return (state.conc.mass.sum(axis=0) + state.oxide.mass.sum(axis=0) + state.pile.mass.sum(axis=0)
            + state.magnet.mass.sum(axis=0) @ net.recipe)


def transit_elements(state: State, net: Network) -> np.ndarray:
    """[E] t REO at sea or awaiting a licence."""
    total = np.zeros(len(net.elements))
    for shipment in [*state.in_flight, *state.pending]:
        total += element_mass(shipment.stage, shipment.tagged, net)
    return total


def transit_by_stage(state: State) -> np.ndarray:
    """[3] at sea or awaiting a licence, by stage in its traded unit: t REO of concentrate and of oxides,
    t magnet."""
    total = np.zeros(len(STAGES))
    for shipment in [*state.in_flight, *state.pending]:
        total[STAGES.index(shipment.stage)] += shipment.t
    return total


def held_by_stage(state: State, net: Network) -> np.ndarray:
    """[3] held in stock (oxides: with strategic stockpiles), at sea or awaiting a licence, by stage: t REO
    of concentrate and of oxides, t magnet."""
    return np.array([state.conc.mass.sum(), state.oxide.mass.sum() + state.pile.mass.sum(),
                     state.magnet.mass.sum()]) + transit_by_stage(state)
