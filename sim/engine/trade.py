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
- re-sourcing: blocked, unfilled, refused or over-contract orders go to the
  spare output of countries that make the stage's product (stock beyond their
  working stock for their own use), but only once the buyer has qualified
  them for that item, ``switching_days`` after it first went short of it or
  of another item with the same delay (``switching_days_by_item`` gives an
  item a delay of its own; ``sim.engine.market`` clears all of it).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..scenario.schema import CONTRACT_FLEX  # a usual supplier ships up to 25% more than its share of normal use
from ..stages import STAGES
from ..world import Network, items_holding
from .market import Clearing, clear
from .measures import Coverage
from .state import State, Stocks, traded_mass

LEARNING_STEPS = 13           # the spin-up's last quarter (weekly steps) settles per-item relationships
ORDER_ADJUST_DAYS = 28.0      # an order corrects 1/4 of its stock gap per week
USE_SMOOTHING_DAYS = 28.0     # expected use is a 4-week exponential average
NORMAL_USE_DAYS = 365.0       # normal use, the basis of contracts, is a one-year average
SHORT_SHARE = 0.005           # a buyer goes looking for new suppliers once 0.5% of its need goes unmet


def need(state: State, net: Network, stage: str, stock: np.ndarray,
         extra_days: np.ndarray | float = 0.0) -> np.ndarray:
    """[C, I] what each country wants to receive this step: use plus a share of the gap to its target position."""
    step_days = net.step_days
    use = state.use_all[stage]
    target = use * ((net.target_days[stage] + net.buyer_lead_days[stage])[:, None] + extra_days)
    position = stock + state.pipeline[stage]
    return np.maximum(0.0, use * step_days + (target - position) * step_days / ORDER_ADJUST_DAYS)


def trade(state: State, net: Network, stage: str, stocks: Stocks, own_use: np.ndarray, wants: np.ndarray,
          cover: Coverage) -> tuple[Clearing, list[tuple[int, int]]]:
    """Clear a stage's market (quotas cap what is shipped), learn relationships in the spin-up, update the
    use averages; return the clearing and the (buyer, switching group) pairs that start qualifying now. The
    caller takes its own use from stock, then ships the exports."""
    step_days = net.step_days
    available = traded_mass(stage, stocks.tagged)
    wanted = state.order_shares[stage] * wants[:, None, :]
    contract = state.order_shares[stage] * state.use_normal[stage][:, None, :] * step_days * (1 + CONTRACT_FLEX)
    orders = np.minimum(wanted, contract)
    # what a supplier keeps for its own use (working stock plus licence buffers) is not spare
    reserve = state.use_own[stage] * (net.target_days[stage][:, None] + cover.extra_days)
    tariffed = cover.tariffed if cover.tariffed.any() else None
    result = clear(available, own_use, orders, cover.blocked, state.qualified[stage] & net.makers[stage][None, :, None],
                   reserve, state.refused[stage] + (wanted - orders).sum(axis=1), tariffed)
    state.refused[stage][:] = 0.0
    for quota, share in cover.quotas:
        cut = quota.cap(result.shipped, share)
        if cut.any():
            result = replace(result, shipped=result.shipped - cut, unmet=result.unmet + cut.sum(axis=1))
            state.refused[stage] += cut.sum(axis=1)
    if -LEARNING_STEPS <= state.k < 0:
        state.learnt[stage] += result.shipped
    # a buyer looks for new suppliers when it goes short, or when a tariff sends it looking
    moved = (orders * (1.0 - cover.blocked) * tariffed).sum(axis=1) if tariffed is not None else 0.0
    qualifying = start_qualifying(state, net, stage, result.unmet + moved, wants)
    throughput = (own_use + np.maximum(result.ordered, result.shipped.sum(axis=0))) / step_days
    for use, days in ((state.use_all[stage], USE_SMOOTHING_DAYS), (state.use_normal[stage], NORMAL_USE_DAYS)):
        use += (throughput - use) * min(1.0, step_days / days)
    return result, qualifying


def start_qualifying(state: State, net: Network, stage: str, unmet: np.ndarray,
                     wants: np.ndarray) -> list[tuple[int, int]]:
    """(buyer, switching group) pairs that start qualifying new suppliers this step: a buyer short of an item
    qualifies them for every item of the item's group, those with its delay (none in the spin-up, where all
    are qualified)."""
    if state.k < 0:
        return []
    short = unmet > 1e-9 + SHORT_SHARE * wants                   # [B, I]
    qualifying, qualified = state.qualifying[stage], state.qualified[stage]
    out = []
    for b in np.flatnonzero(short.any(axis=1)):
        b = int(b)
        for g, group in enumerate(net.switching_groups[stage]):
            if (b, g) not in qualifying and short[b, group.items].any() and not qualified[b][:, group.items].all():
                qualifying.add((b, g))
                out.append((b, g))
    return out


def settle_relationships(state: State, net: Network) -> None:
    """From the calendar's start each item is ordered where it was delivered from late in the spin-up."""
    for stage in STAGES:
        learnt = state.learnt[stage]
        total = learnt.sum(axis=1, keepdims=True)
        offshore = net.offshore_shares[stage].sum(axis=1)[:, None, None]
        state.order_shares[stage] = np.where(total > 0, offshore * learnt / np.where(total > 0, total, 1),
                                             state.order_shares[stage])
        state.qualified[stage][:] = False
        state.qualifying[stage].clear()


def sign_offtake(state: State, net: Network, event) -> None:
    """From now the buyer orders ``share`` of its imports of the covered items from the seller; with the
    seller its own country, it imports ``share`` less and its plants make the rest."""
    stage = event.stage
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
