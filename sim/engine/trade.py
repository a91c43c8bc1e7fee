"""Trade in one stage's product each step: what buyers order and from whom, and the market's clearing.

Rules stated here because they shape results:

- orders follow an order-up-to rule: expected use over the step plus a
  quarter of the gap between the stock position (stock + on order) and its
  target (working stock days + lead time, of use including re-exports) each
  week;
- supply relationships are per item: the scenario's supplier shares say where
  a buyer's imports of a stage come from in all; during the spin-up buyers
  fill each element (or grade) from whoever can deliver it, and from the
  calendar's start they order each item from the suppliers that delivered it
  over the spin-up's last quarter, in those proportions;
- an order to a usual supplier is capped by contract at its share of the
  buyer's normal use (a one-year average) plus 25%; what a buyer needs beyond
  that, like what is blocked, unfilled or refused, must be re-sourced;
- with ``inventories.after_shortage`` a buyer remembers how short it went of
  each item (the largest unmet share of what it sought, fading by a factor e every
  ``memory_days``) and, in proportion, adds up to ``extra_days`` of use to its
  target cover (and keeps it from the spare it sells) and lets its contracts
  for the item stretch from +25% towards ``contract_flex``: it restocks above
  its old cover, and its imports can overshoot after a trough;
- re-sourcing: blocked, unfilled, refused or over-contract orders go to the
  spare output of countries that make the stage's product (stock beyond their
  working stock for their own use), but only once the buyer has qualified
  them for that item, ``switching_days`` after it first went short of it or
  of another item with the same delay (``switching_days_by_item`` gives an
  item a delay of its own; ``sim.engine.market`` clears all of it); a spare or a lack of less than
  a milligram (``DUST_T``) is rounding's residue and takes no part.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..kernels import clearing
from ..scenario.schema import CONTRACT_FLEX  # a usual supplier ships up to 25% more than its share of normal use
from ..stages import REFINERY, STAGES
from ..world import Network, items_holding
from .market import Clearing
from .measures import Coverage
from .state import State
from .stocks import Stocks

LEARNING_STEPS = 13           # the spin-up's last quarter (weekly steps) settles per-item relationships
ORDER_ADJUST_DAYS = 28.0      # an order corrects 1/4 of its stock gap per week
USE_SMOOTHING_DAYS = 28.0     # expected use is a 4-week exponential average
NORMAL_USE_DAYS = 365.0       # normal use, the basis of contracts, is a one-year average
SHORT_SHARE = 0.005           # a buyer goes looking for new suppliers once 0.5% of its need goes unmet
NONE = np.zeros((0, 0))       # no extra days, no price to follow: the kernel's empty [C, I]


@dataclass
class Market:
    """One stage's market in a step, before it clears: the arguments of its clearing
    (``sim.kernels.clearing.clear_market``: need, orders, clearing, quotas' cuts, what buyers learn), which the
    stage's compiled call makes once it has worked out its own use into ``own_use``, and the arrays it writes."""

    arguments: tuple
    own_use: np.ndarray       # [C, I] what the stage's plants or users ask of their country's stock this step
    figures: np.ndarray       # [6, C, I] wants, fill, ordered, unmet, moved, sought
    shipped: np.ndarray       # [B, J, I]
    carried: np.ndarray       # [B, J]
    quotas: list              # [(quota, share)]: the export quotas that cut shipments, in turn
    allowance: np.ndarray     # [quotas, C] what each allows, the quota's own or (all importers together) its first

    def cleared(self, starting: np.ndarray) -> tuple[Clearing, np.ndarray, list[tuple[int, int]]]:
        """The clearing, the need [C, I] and the (buyer, switching group) pairs that start qualifying now
        (``starting``, as the stage's call returned them); each quota keeps what is left of its allowance."""
        for q, (quota, _) in enumerate(self.quotas):
            quota.allowance[:] = self.allowance[q, :len(quota.allowance)]
        figures = self.figures
        return Clearing(own_fill=figures[1], shipped=self.shipped, carried=self.carried, ordered=figures[2],
                        unmet=figures[3]), figures[0], pairs(starting)


def open_market(state: State, net: Network, stage: str, stocks: Stocks, own_use: np.ndarray,
                cover: Coverage) -> Market:
    """The stage's market this step, ready for its compiled call to clear it: what buyers need, the market's
    clearing, what export quotas cut and what the step teaches buyers (relationships learnt in the spin-up,
    shortages remembered, the use averages updated). The need [C, I] is use plus a share of the gap to each
    country's target position (working stock and lead time, the extra days measures ask for, precaution after a
    shortage, stock-building as prices rise). ``own_use`` [C, I] is the array the stage's call writes its own
    use into before it clears; the call takes it from stock, and the exports leave."""
    countries, items = own_use.shape
    step_days = float(net.step_days)
    restocking = net.restocking
    doublings = price_doublings(state, net, stage)
    remembering = restocking is not None and state.k >= 0
    figures = np.empty((6, countries, items))
    shipped = np.zeros((countries, countries, items))
    carried = np.zeros((countries, countries), dtype=bool)
    extra_days = cover.extra_days if isinstance(cover.extra_days, np.ndarray) else NONE
    use_all, use_normal, shortage, refused = (state.use_all[stage], state.use_normal[stage], state.shortage[stage],
                                              state.refused[stage])
    qualified, quotas = state.qualified[stage], cover.quotas
    shares, per_importer, allowance = quota_arrays(quotas, shipped.shape)
    arguments = (
        stocks.tagged, state.pipeline[stage], use_all, state.use_own[stage], use_normal,
        net.target_days[stage], net.buyer_lead_days[stage], extra_days,
        0.0 if restocking is None else restocking.extra_days, CONTRACT_FLEX,
        0.0 if restocking is None else restocking.contract_flex - CONTRACT_FLEX, shortage, doublings,
        net.market_of, net.on_price_rise.days_per_doubling if doublings.size else 0.0, ORDER_ADJUST_DAYS, step_days,
        state.order_shares[stage], *order_routes(state, stage), own_use, cover.blocked, cover.tariffed, qualified,
        net.makers[stage], refused, figures, shipped, carried, shares, per_importer, allowance,
        # what the step teaches buyers, once quotas have cut shipments
        state.learnt[stage], -LEARNING_STEPS <= state.k < 0, remembering,
        shortage_fade(net) if remembering else 0.0, SHORT_SHARE, USE_SMOOTHING_DAYS, NORMAL_USE_DAYS,
        state.qualifying[stage], net.switching_days[stage], state.k >= 0)
    return Market(arguments, own_use, figures, shipped, carried, quotas, allowance)


def quota_arrays(quotas: list, routes: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The export quotas of a stage in force this step as ``sim.kernels.clearing.cut_to_quotas`` reads them: the
    share of each shipment [B, J, I] each covers, whether each allows each importer its own amount, and what
    each allows (copies: ``Market.cleared`` hands back what is left)."""
    if not quotas:
        return no_quotas(routes)
    allowance = np.zeros((len(quotas), routes[0]))
    for q, (quota, _) in enumerate(quotas):
        allowance[q, :len(quota.allowance)] = quota.allowance
    return (np.stack([np.broadcast_to(share, routes) for _, share in quotas]),
            np.array([quota.per_importer for quota, _ in quotas]), allowance)


@functools.cache
def no_quotas(routes: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``quota_arrays`` of no quota (read only: nothing writes into arrays of no rows)."""
    return np.zeros((0,) + routes), np.zeros(0, dtype=bool), np.zeros((0, routes[0]))


def order_routes(state: State, stage: str) -> tuple[np.ndarray, np.ndarray]:
    """The routes of the stage's order shares (``sim.kernels.clearing.routes``): found once, and anew after the
    shares change (relationships settled at the calendar's start, an offtake agreement signed)."""
    routes = state.order_routes.get(stage)
    if routes is None:
        routes = state.order_routes[stage] = clearing.routes(state.order_shares[stage])
    return routes


def start_qualifying(state: State, net: Network, stage: str, unmet: np.ndarray,
                     wants: np.ndarray) -> list[tuple[int, int]]:
    """(buyer, switching group) pairs that start qualifying new suppliers this step, buyers having gone short
    (``went_short``) with ``unmet`` [B, I] of their need ``wants`` (none in the spin-up, where all are
    qualified); ``sim.kernels.clearing.start_qualifying`` states the rule."""
    if state.k < 0:
        return []
    return pairs(clearing.start_qualifying(went_short(unmet, wants), state.qualified[stage],
                                           state.qualifying[stage], net.switching_days[stage]))


def pairs(starting: np.ndarray) -> list[tuple[int, int]]:
    """(buyer, switching group) pairs as Python ints, from the kernels' [n, 2]."""
    return [(b, g) for b, g in starting.tolist()] if len(starting) else []


def went_short(unmet: np.ndarray, wants: np.ndarray) -> np.ndarray:
    """[B, I] bool: buyers short of an item this step, more than ``SHORT_SHARE`` of their need unmet."""
    return clearing.went_short(unmet, wants, SHORT_SHARE)


def remember_shortage(state: State, net: Network, stage: str, unmet: np.ndarray, wants: np.ndarray,
                      sought: np.ndarray) -> None:
    """A buyer short of an item (``went_short``) remembers how short it went: the unmet share of what it
    sought, its need and what was refused it last step (goods it re-sources would otherwise count twice);
    what it remembers fades by a factor e every memory_days."""
    clearing.remember(state.shortage[stage], unmet, wants, sought, shortage_fade(net), SHORT_SHARE)


def shortage_fade(net: Network) -> float:
    """The share of a remembered shortage that a step keeps: a factor e every after_shortage's memory_days."""
    return math.exp(-net.step_days / net.restocking.memory_days)


def precaution_days(state: State, net: Network, stage: str) -> np.ndarray | float:
    """[C, I] days of use a buyer holds beyond its working stock after a shortage: after_shortage's
    ``extra_days`` times how short it went, as remembered (0 without after_shortage)."""
    if net.restocking is None:
        return 0.0
    return net.restocking.extra_days * state.shortage[stage]


def speculation_days(state: State, net: Network, stage: str) -> np.ndarray | float:
    """[C, E] days of oxide use a buyer holds (or sheds) as the price in its market stands above (or below)
    its recent average: on_price_rise's ``days_per_doubling`` per doubling (0 without it, and for
    concentrate and magnets, which have no price of their own here; ``sim.kernels.clearing.speculation``)."""
    doublings = price_doublings(state, net, stage)
    if not doublings.size:
        return 0.0
    return clearing.speculation(doublings, net.market_of, net.on_price_rise.days_per_doubling)


def price_doublings(state: State, net: Network, stage: str) -> np.ndarray:
    """[M, E] how many times each market's oxide price has doubled over its recent average (log2 of their
    ratio: NaN where neither is known, prices being never negative), which on_price_rise's buyers follow;
    empty without the rule, and for concentrate and magnets."""
    if net.on_price_rise is None or stage != REFINERY or state.recent_price is None:
        return NONE
    return np.log2(state.price / state.recent_price)


def contract_flex(state: State, net: Network, stage: str) -> np.ndarray | float:
    """What a usual supplier may ship beyond its share of a buyer's normal use ([B, I]): ``CONTRACT_FLEX``,
    stretched towards after_shortage's ``contract_flex`` as far as the buyer went short of the item, as
    remembered."""
    if net.restocking is None:
        return CONTRACT_FLEX
    stretch = net.restocking.contract_flex - CONTRACT_FLEX
    return CONTRACT_FLEX + stretch * state.shortage[stage]


def settle_relationships(state: State, net: Network) -> None:
    """From the calendar's start each item is ordered where it was delivered from late in the spin-up."""
    for stage in STAGES:
        learnt = state.learnt[stage]
        total = learnt.sum(axis=1, keepdims=True)
        offshore = net.offshore_shares[stage].sum(axis=1)[:, None, None]
        state.order_shares[stage] = np.where(total > 0, offshore * learnt / np.where(total > 0, total, 1),
                                             state.order_shares[stage])
        state.qualified[stage][:] = False
        state.qualifying[stage][:] = False
    state.order_routes.clear()


def sign_offtake(state: State, net: Network, event) -> None:
    """From now the buyer orders ``share`` of its imports of the covered items from the seller; with the
    seller its own country, it imports ``share`` less and its plants make the rest."""
    stage = event.stage
    state.order_routes.pop(stage, None)
    b, j = net.index(event.buyer), net.index(event.seller)
    items = np.flatnonzero(items_holding(stage, event.elements, net))
    shares = state.order_shares[stage][b][:, items]               # [J, I]
    imported = shares.sum(axis=0)
    others = imported - shares[j]
    share = float(event.share)
    if b == j:    # from its own plants: imports shrink, own output makes up the rest (magnets are made to order)
        state.order_shares[stage][b][:, items] = shares * (1 - share)
        return
    scale = np.where(others > 0, (1 - share) * imported / np.where(others > 0, others, 1), 0.0)
    shares = shares * scale[None, :]
    shares[j] = np.where(imported > 0, share * imported, share)
    state.order_shares[stage][b][:, items] = shares
    state.qualified[stage][b, j] = True       # for every item of the stage: the buyer has vetted the seller
