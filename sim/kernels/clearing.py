"""One stage's market cleared in one compiled call: what buyers need (``sim.engine.trade``'s order-up-to rule),
orders placed by sourcing shares and capped by contract, then the three passes of ``sim.engine.market``
(orders served pro rata, what is lacking re-sourced from qualified suppliers' spare stock, tariffed orders
placed back), then what the step teaches buyers (relationships in the spin-up, how short they went, use
averages, which start qualifying new suppliers): in the same call, or in a second one where a quota cuts
shipments in between.

Axes are ``[buyer, supplier, item]`` for orders and ``[country, item]`` for stocks; quantities in the stage's
unit (t REO or t magnet). Trade runs on the routes that exist (a buyer's order share with a supplier for an
item, about 5% of the buyer x supplier x item pairs) and the suppliers a short buyer may turn to, not on
dense arrays of zeros; only shipments come back dense, for the parts that send them. A buyer's routes for
an item are grouped, suppliers in order (``routes``), so sums run in the order NumPy adds the dense arrays:
along the routes, pairwise where a stage has one item (``pairwise_over_suppliers``), buyer after buyer over
``[J, I]``; results are the NumPy engine's bit for bit.
"""
from __future__ import annotations

import numpy as np

from . import kernel
from .sums import pairwise_sum
from .tagged import item_mass

# NumPy's log2 of np.nan_to_num's stand-in for an infinite price ratio (a price over a recent average of nothing)
LOG2_MAX = float(np.log2(np.full(2, np.finfo(np.float64).max))[0])

# t (a milligram): less is rounding's residue, not goods. Re-sourcing asks nothing of a spare that small and
# seeks nothing for a lack that small: a residue of a few 1e-16 t in a stock (that a country kept as working
# stock of what it sold, and sold as spare) once grew by x2.4 a week into trade a year later, so that the
# baseline's Vietnamese magnets in late 2025 hung on the last bit of a sum
DUST_T = 1e-9


@kernel
def sum_over_suppliers(x: np.ndarray, carried: np.ndarray) -> np.ndarray:
    """[B, J, I] -> [B, I], as ``x.sum(axis=1)`` adds: supplier after supplier, or pairwise where the stage has
    one item (NumPy then reduces along the contiguous supplier axis). ``carried`` [B, J]: the routes where ``x``
    may not be zero (adding the zeros of the others changes no sum supplier after supplier)."""
    B, J, I = x.shape
    out = np.zeros((B, I))
    for b in range(B):
        if I == 1:
            out[b, 0] = pairwise_sum(x[b, :, 0])
        else:
            for j in range(J):
                if carried[b, j]:
                    for i in range(I):
                        out[b, i] += x[b, j, i]
    return out


@kernel
def sum_over_buyers(x: np.ndarray, carried: np.ndarray) -> np.ndarray:
    """[B, J, I] -> [J, I], as ``x.sum(axis=0)`` adds: buyer after buyer. ``carried`` [B, J]: the routes where
    ``x`` may not be zero (adding the zeros of the others changes no sum)."""
    B, J, I = x.shape
    out = np.zeros((J, I))
    for b in range(B):
        for j in range(J):
            if carried[b, j]:
                for i in range(I):
                    out[j, i] += x[b, j, i]
    return out


@kernel
def served(available: float, claims: float) -> float:
    """Share of its claims a stock can serve: 1 when it can serve them all, else pro rata."""
    if claims > available:
        return available / (claims if claims > 0 else 1.0)
    return 1.0


@kernel
def routes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The routes where ``x`` [B, J, I] is non-zero, grouped by buyer and item: buyer b's routes for item i are
    ``first[b * I + i]`` up to ``first[b * I + i + 1]``, route n from supplier ``supplier[n]``, in order."""
    B, J, I = x.shape
    first = np.empty(B * I + 1, np.int64)
    supplier = np.empty(B * J * I, np.int64)
    trading = np.empty(J, np.int64)         # the buyer's suppliers of any item: a few of them
    n = 0
    for b in range(B):
        m = 0
        for j in range(J):
            row = x[b, j]
            any_ = False
            for i in range(I):          # no early exit: the compiler reads the row as one vector
                any_ |= row[i] != 0
            if any_:
                trading[m] = j
                m += 1
        for i in range(I):
            first[b * I + i] = n
            for t in range(m):
                if x[b, trading[t], i] != 0:
                    supplier[n] = trading[t]
                    n += 1
    first[B * I] = n
    return first, supplier


@kernel
def pairwise_over_suppliers(values: np.ndarray, first: np.ndarray, supplier: np.ndarray, k: int,
                            row: np.ndarray) -> float:
    """Sum of ``values`` over the routes of group ``k`` (a buyer's one item) as ``x.sum(axis=1)`` adds the
    dense row where the stage has one item: pairwise, NumPy reducing along the contiguous supplier axis
    (``row`` [J] is zeros to spread them in, and left so). With more items NumPy adds supplier after
    supplier, as the kernels do along the routes."""
    for n in range(first[k], first[k + 1]):
        row[supplier[n]] = values[n]
    total = pairwise_sum(row)
    for n in range(first[k], first[k + 1]):
        row[supplier[n]] = 0.0
    return total


@kernel
def clear_routes(available: np.ndarray, own_use: np.ndarray, reserve: np.ndarray, lacking: np.ndarray,
                 first: np.ndarray, supplier: np.ndarray, order: np.ndarray, blocked: np.ndarray,
                 tariffed: np.ndarray, qualified: np.ndarray, makers: np.ndarray, fill: np.ndarray,
                 shipped: np.ndarray, carried: np.ndarray, ordered: np.ndarray, unmet: np.ndarray,
                 moved: np.ndarray) -> None:
    """Clear one stage (``sim.engine.market`` states the rules) on its routes (``routes``) carrying ``order`` t;
    only ``makers`` [J] sell spare stock, to buyers that have ``qualified`` [B, J, I] them. Writes own use's
    fill [C, I], shipments into ``shipped`` [B, J, I] (zeros on entry) and the routes written in ``carried``
    [B, J] (False on entry: the others ship nothing), the open orders suppliers received ``ordered`` [J, I],
    what buyers did not get ``unmet`` [B, I] and what a tariff moved away ``moved`` [B, I]."""
    B, J, I = shipped.shape
    one_item = I == 1
    row = np.zeros(J)
    n = first[B * I]
    open_ = np.empty(n)
    shifted = np.empty(n)          # the part of each order a tariff moved away
    short = np.empty(n)
    ordered[:] = 0.0
    any_moved = False
    for b in range(B):
        for i in range(I):
            k = b * I + i
            total = 0.0
            for r in range(first[k], first[k + 1]):
                j = supplier[r]
                allowed = order[r] * (1.0 - blocked[b, j, i])
                shifted[r] = allowed * tariffed[b, j, i]
                open_[r] = allowed - shifted[r]
                ordered[j, i] += open_[r]
                total += shifted[r]
            if one_item:
                total = pairwise_over_suppliers(shifted, first, supplier, k, row)
            moved[b, i] = total
            any_moved = any_moved or moved[b, i] != 0
    for c in range(B):
        for i in range(I):
            fill[c, i] = served(available[c, i], own_use[c, i] + ordered[c, i])
    sent = np.zeros((J, I))
    for b in range(B):
        for i in range(I):
            k = b * I + i
            total = 0.0
            for r in range(first[k], first[k + 1]):
                j = supplier[r]
                shipped[b, j, i] = open_[r] * fill[j, i]
                carried[b, j] = True
                short[r] = order[r] - shipped[b, j, i]
                sent[j, i] += shipped[b, j, i]
                total += short[r]
            if one_item:
                total = pairwise_over_suppliers(short, first, supplier, k, row)
            unmet[b, i] = total + lacking[b, i]

    spare = np.empty((J, I))
    for j in range(J):
        for i in range(I):
            spare[j, i] = max(0.0, available[j, i] - own_use[j, i] * fill[j, i] - sent[j, i] - reserve[j, i])
    second_sent = resource(spare, qualified, makers, blocked, tariffed, shipped, carried, unmet, row)
    if any_moved:
        left = np.empty((J, I))
        for j in range(J):
            for i in range(I):
                left[j, i] = max(0.0, available[j, i] - own_use[j, i] * fill[j, i] - sent[j, i] - second_sent[j, i])
        place_back(left, first, supplier, shifted, moved, shipped, unmet, row)     # on pass 1's routes


@kernel
def resource(spare: np.ndarray, qualified: np.ndarray, makers: np.ndarray, blocked: np.ndarray,
             tariffed: np.ndarray, shipped: np.ndarray, carried: np.ndarray, unmet: np.ndarray,
             row: np.ndarray) -> np.ndarray:
    """Pass 2: what buyers lack ``unmet`` [B, I] asked of the ``spare`` [J, I] of makers they have qualified, in
    proportion to it (less the share a measure blocks or a tariff moves away), pro rata when short; added to
    ``shipped`` (its routes marked in ``carried``) and taken off ``unmet`` in place (``row``: as
    ``clear_routes``'s). Returns what each supplier sent in it, [J, I]."""
    B, J, I = shipped.shape
    sent = np.zeros((J, I))
    lacking, sellers = 0, 0
    for b in range(B):
        for i in range(I):
            lacking += unmet[b, i] > DUST_T
    for j in range(J):
        sellers += makers[j]
    if lacking == 0:
        return sent
    first = np.empty(B * I + 1, np.int64)
    supplier = np.empty(lacking * sellers, np.int64)
    request = np.empty(lacking * sellers)
    weight = np.zeros(B * I)          # each group's in all
    n = 0
    for b in range(B):
        for i in range(I):
            k = b * I + i
            first[k] = n
            if unmet[b, i] > DUST_T:
                for j in range(J):
                    # never from oneself; a maker without spare is asked nothing (its request would be 0)
                    if makers[j] and j != b and spare[j, i] > DUST_T and qualified[b, j, i]:
                        avoid = 1.0 - (1.0 - blocked[b, j, i]) * (1.0 - tariffed[b, j, i])
                        request[n] = spare[j, i] * (1.0 - avoid)
                        if request[n] > 0:
                            supplier[n] = j
                            weight[k] += request[n]
                            n += 1
    first[B * I] = n
    if n == 0:
        return sent
    requested = np.zeros((J, I))
    for b in range(B):
        for i in range(I):
            k = b * I + i
            if first[k + 1] > first[k]:
                total = pairwise_over_suppliers(request, first, supplier, k, row) if I == 1 else weight[k]
                for r in range(first[k], first[k + 1]):
                    request[r] = unmet[b, i] * request[r] / total
                    requested[supplier[r], i] += request[r]
    for b in range(B):
        for i in range(I):
            k = b * I + i
            if first[k + 1] > first[k]:
                total = 0.0
                for r in range(first[k], first[k + 1]):
                    j = supplier[r]
                    request[r] *= served(spare[j, i], requested[j, i])      # now what is shipped
                    shipped[b, j, i] += request[r]
                    carried[b, j] = True
                    sent[j, i] += request[r]
                    total += request[r]
                if I == 1:
                    total = pairwise_over_suppliers(request, first, supplier, k, row)
                unmet[b, i] = max(0.0, unmet[b, i] - total)
    return sent


@kernel
def place_back(left: np.ndarray, first: np.ndarray, supplier: np.ndarray, shifted: np.ndarray, moved: np.ndarray,
               shipped: np.ndarray, unmet: np.ndarray, row: np.ndarray) -> None:
    """Pass 3: what a tariff moved away (``shifted`` on each route, ``moved`` [B, I] in all) and pass 2 could not
    place goes back to the tariffed suppliers, from what they have ``left`` [J, I], pro rata when short; added to
    ``shipped`` and taken off ``unmet`` in place (``row``: as ``clear_routes``'s)."""
    B, J, I = shipped.shape
    back = np.zeros(first[B * I])
    asked = np.zeros((J, I))
    for b in range(B):
        for i in range(I):
            if moved[b, i] > 0:
                amount = min(unmet[b, i], moved[b, i])
                for r in range(first[b * I + i], first[b * I + i + 1]):
                    back[r] = amount * shifted[r] / moved[b, i]
                    asked[supplier[r], i] += back[r]
    for b in range(B):
        for i in range(I):
            k = b * I + i
            if moved[b, i] > 0:
                total = 0.0
                for r in range(first[k], first[k + 1]):
                    j = supplier[r]
                    back[r] *= served(left[j, i], asked[j, i])
                    shipped[b, j, i] += back[r]
                    total += back[r]
                if I == 1:
                    total = pairwise_over_suppliers(back, first, supplier, k, row)
                unmet[b, i] = max(0.0, unmet[b, i] - total)


@kernel
def speculation_days(doublings: float, days_per_doubling: float) -> float:
    """Days of use a buyer holds (or sheds, below 0) as its market's price stands ``doublings`` (log2 of the price
    over its recent average) above it: ``days_per_doubling`` a doubling; none where neither price is known
    (NaN), and a price over an average of nothing counts as np.nan_to_num's largest ratio."""
    if doublings != doublings:
        doublings = 0.0
    elif doublings == np.inf:
        doublings = LOG2_MAX
    return days_per_doubling * doublings


@kernel
def speculation(doublings: np.ndarray, market_of: np.ndarray, days_per_doubling: float) -> np.ndarray:
    """[C, E] ``speculation_days`` of each country's buyers, from their markets' (``market_of`` [C])
    ``doublings`` [M, E]."""
    out = np.empty((market_of.shape[0], doublings.shape[1]))
    for c in range(out.shape[0]):
        for e in range(out.shape[1]):
            out[c, e] = speculation_days(doublings[market_of[c], e], days_per_doubling)
    return out


@kernel
def order_and_clear(tagged: np.ndarray, pipeline: np.ndarray, use_all: np.ndarray, use_own: np.ndarray,
                    use_normal: np.ndarray, target_days: np.ndarray, lead_days: np.ndarray, extra_days: np.ndarray,
                    precaution_days: float, contract_flex: float, stretch: float, shortage: np.ndarray,
                    doublings: np.ndarray, market_of: np.ndarray, days_per_doubling: float,
                    adjust_days: float, step_days: float, shares: np.ndarray, first: np.ndarray,
                    supplier: np.ndarray, own_use: np.ndarray,
                    blocked: np.ndarray, tariffed: np.ndarray, qualified: np.ndarray, makers: np.ndarray,
                    refused: np.ndarray, figures: np.ndarray, shipped: np.ndarray, carried: np.ndarray) -> None:
    """A stage's trade of one step: each buyer's need, its orders and the market's clearing (``clear_market``
    then cuts what quotas forbid, and buyers learn from the step).

    Need ``wants`` [C, I]: expected use ``use_all`` (t/day) over the step plus the share ``step_days`` /
    ``adjust_days`` of the gap between the stock position (the stock ``tagged`` [C, Q, X] + ``pipeline``) and
    its target, ``use_all`` x (working stock ``target_days`` + ``lead_days`` [C] + ``extra_days`` measures ask
    [C, I] (empty: none) + precaution + speculation, days). Precaution is ``precaution_days`` x the
    ``shortage`` [C, I] a buyer remembers; speculation ``speculation_days`` of the ``doublings`` [M, I] of the
    price in the buyer's market (``market_of`` [C]) over its recent average (empty: none). A supplier's
    reserve, not spare, is ``use_own`` x (``target_days`` + extra days + precaution).

    Orders go along the routes of the sourcing ``shares`` [B, J, I] (``first``, ``supplier``: ``routes(shares)``,
    which change only when the shares do), each capped by contract at the share of the
    buyer's normal use ``use_normal`` (t/day) over the step x (1 + ``contract_flex`` + ``stretch`` x
    shortage); what the caps cut and what was ``refused`` [B, I] last step (zeroed here) are re-sourced, and
    ``sought`` [B, I] is the need plus the refused. Then ``clear_routes``, into ``fill`` ... ``moved``.

    ``figures`` [6, C, I] is written: ``wants``, ``fill``, ``ordered``, ``unmet``, ``moved``, ``sought``, one
    array rather than six arguments (each array argument costs the call about as much as clearing a route)."""
    wants, fill, ordered, unmet, moved, sought = figures[0], figures[1], figures[2], figures[3], figures[4], figures[5]
    C, I = pipeline.shape
    available = np.empty((C, I))
    reserve = np.empty((C, I))
    for c in range(C):
        for i in range(I):
            available[c, i] = item_mass(tagged, c, i, I == 1)
            extra = extra_days[c, i] if extra_days.size else 0.0
            precaution = precaution_days * shortage[c, i]
            speculation = speculation_days(doublings[market_of[c], i], days_per_doubling) if doublings.size else 0.0
            days = target_days[c] + lead_days[c] + extra
            target = use_all[c, i] * max(0.0, days + precaution + speculation)
            position = available[c, i] + pipeline[c, i]
            wants[c, i] = max(0.0, use_all[c, i] * step_days + (target - position) * step_days / adjust_days)
            reserve[c, i] = use_own[c, i] * (target_days[c] + extra + precaution)
            sought[c, i] = wants[c, i] + refused[c, i]
    order = np.empty(first[C * I])
    cut = np.empty(first[C * I])
    row = np.zeros(C)
    lacking = np.empty((C, I))
    for b in range(C):
        for i in range(I):
            k = b * I + i
            flex = 1.0 + (contract_flex + stretch * shortage[b, i])
            total = 0.0
            for r in range(first[k], first[k + 1]):
                share = shares[b, supplier[r], i]
                wanted = share * wants[b, i]
                order[r] = min(wanted, share * use_normal[b, i] * step_days * flex)
                cut[r] = wanted - order[r]
                total += cut[r]
            if I == 1:
                total = pairwise_over_suppliers(cut, first, supplier, k, row)
            lacking[b, i] = refused[b, i] + total
            refused[b, i] = 0.0
    clear_routes(available, own_use, reserve, lacking, first, supplier, order, blocked, tariffed, qualified, makers,
                 fill, shipped, carried, ordered, unmet, moved)


@kernel
def clear_market(tagged: np.ndarray, pipeline: np.ndarray, use_all: np.ndarray, use_own: np.ndarray,
                 use_normal: np.ndarray, target_days: np.ndarray, lead_days: np.ndarray, extra_days: np.ndarray,
                 precaution_days: float, contract_flex: float, stretch: float, shortage: np.ndarray,
                 doublings: np.ndarray, market_of: np.ndarray, days_per_doubling: float, adjust_days: float,
                 step_days: float, shares: np.ndarray, first: np.ndarray, supplier: np.ndarray, own_use: np.ndarray,
                 blocked: np.ndarray, tariffed: np.ndarray, qualified: np.ndarray, makers: np.ndarray,
                 refused: np.ndarray, figures: np.ndarray, shipped: np.ndarray, carried: np.ndarray,
                 quota_shares: np.ndarray, per_importer: np.ndarray, allowance: np.ndarray, learnt: np.ndarray,
                 learning: bool, remembering: bool, fade: float, short_share: float, smoothing_days: float,
                 normal_days: float, qualifying: np.ndarray, switching_days: np.ndarray,
                 calendar: bool) -> np.ndarray:
    """A stage's market of one step, cleared and learnt from: ``order_and_clear`` (its arguments, up to
    ``carried``), the quotas' cuts (``cut_to_quotas``: ``quota_shares`` to ``allowance``), then what the step
    teaches buyers (``after_clearing``, its arguments from ``learnt`` on). Returns the (buyer, switching group)
    pairs that start qualifying. (Its arguments one by one, not in tuples: a tuple's arrays handed on cost a
    count of references each.)"""
    order_and_clear(tagged, pipeline, use_all, use_own, use_normal, target_days, lead_days, extra_days,
                    precaution_days, contract_flex, stretch, shortage, doublings, market_of, days_per_doubling,
                    adjust_days, step_days, shares, first, supplier, own_use, blocked, tariffed, qualified, makers,
                    refused, figures, shipped, carried)
    unmet = figures[3]
    cut_to_quotas(shipped, carried, unmet, refused, quota_shares, per_importer, allowance)
    return after_clearing(figures[0], unmet, figures[4], shipped, carried, figures[2], own_use, use_all, use_normal,
                          shortage, figures[5], step_days, qualified, learnt, learning, remembering, fade, short_share,
                          smoothing_days, normal_days, qualifying, switching_days, calendar)


@kernel
def cut_to_quotas(shipped: np.ndarray, carried: np.ndarray, unmet: np.ndarray, refused: np.ndarray,
                  shares: np.ndarray, per_importer: np.ndarray, allowance: np.ndarray) -> None:
    """Export quotas, one after another, cut what is shipped [B, J, I] (on the routes ``carried`` marks) beyond
    their allowance, in place: quota q covers ``shares[q]`` [B, J, I] of each shipment, and allows
    ``allowance[q]`` t (in place: what is left of it), each importer its own (``per_importer[q]``, [B]) or all
    together (its first entry). Where the covered shipments exceed it, each is cut pro rata to what the allowance
    leaves (an importer's together, or all together); what is cut is unmet and refused [B, I] (re-sourced next
    step). Sums as NumPy adds them (``pairwise_sum``, ``sum_over_suppliers``)."""
    if shares.shape[0] == 0:
        return
    B, J, I = shipped.shape
    under = np.empty((B, J, I))
    cut = np.empty((B, J, I))
    used = np.empty(B)
    for q in range(shares.shape[0]):
        for b in range(B):
            for j in range(J):
                for i in range(I):
                    under[b, j, i] = shipped[b, j, i] * shares[q, b, j, i]
        groups = B if per_importer[q] else 1
        if per_importer[q]:
            for b in range(B):
                used[b] = pairwise_sum(under[b].ravel())
        else:
            used[0] = pairwise_sum(under.ravel())
        cutting = False
        for g in range(groups):
            left = allowance[q, g]
            scale = left / (used[g] if used[g] > 0 else 1.0) if used[g] > left else 1.0
            for b in range(g, g + 1 if per_importer[q] else B):
                for j in range(J):
                    for i in range(I):
                        cut[b, j, i] = under[b, j, i] * (1.0 - scale)
                        cutting |= cut[b, j, i] != 0
            allowance[q, g] = left - min(used[g], left)
        if cutting:
            for b in range(B):
                for j in range(J):
                    for i in range(I):
                        shipped[b, j, i] -= cut[b, j, i]
            lost = sum_over_suppliers(cut, carried)
            for b in range(B):
                for i in range(I):
                    unmet[b, i] += lost[b, i]
                    refused[b, i] += lost[b, i]


@kernel
def clear(available: np.ndarray, own_use: np.ndarray, orders: np.ndarray, blocked: np.ndarray,
          qualified: np.ndarray, reserve: np.ndarray, lacking: np.ndarray,
          tariffed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clear one stage on dense ``orders`` [B, J, I] (``clear_routes`` on the routes that carry one, every
    supplier a maker). Returns own use's fill [C, I], shipments [B, J, I] and the routes that may carry them
    [B, J], open orders suppliers received [J, I] and what buyers did not get [B, I]."""
    B, J, I = orders.shape
    first, supplier = routes(orders)
    order = np.empty(first[B * I])
    for b in range(B):
        for i in range(I):
            for r in range(first[b * I + i], first[b * I + i + 1]):
                order[r] = orders[b, supplier[r], i]
    fill = np.empty((J, I))
    shipped = np.zeros((B, J, I))
    ordered = np.empty((J, I))
    unmet = np.empty((B, I))
    carried = np.zeros((B, J), np.bool_)
    clear_routes(available, own_use, reserve, lacking, first, supplier, order, blocked, tariffed, qualified,
                 np.ones(J, np.bool_), fill, shipped, carried, ordered, unmet, np.empty((B, I)))
    return fill, shipped, carried, ordered, unmet


@kernel
def went_short(unmet: np.ndarray, wants: np.ndarray, short_share: float) -> np.ndarray:
    """[B, I] bool: buyers short of an item this step (``is_short``)."""
    short = np.empty(unmet.shape, np.bool_)
    for b in range(unmet.shape[0]):
        for i in range(unmet.shape[1]):
            short[b, i] = is_short(unmet[b, i], wants[b, i], short_share)
    return short


@kernel
def is_short(unmet: float, wants: float, short_share: float) -> bool:
    """Whether a buyer went short of an item, more than ``short_share`` of its need ``wants`` ``unmet``. (The
    kernels loop over arrays rather than use NumPy's array expressions: those compile to code many times larger
    and allocate a temporary array for each operation.)"""
    return unmet > 1e-9 + short_share * wants


@kernel
def remember(memory: np.ndarray, unmet: np.ndarray, wants: np.ndarray, sought: np.ndarray, fade: float,
             short_share: float) -> None:
    """A buyer short of an item (``went_short``) remembers (in ``memory`` [B, I], in place) the unmet share of
    what it ``sought``, at most 1; what it remembered before fades by ``fade``."""
    for b in range(memory.shape[0]):
        for i in range(memory.shape[1]):
            memory[b, i] *= fade
            share = min(1.0, unmet[b, i] / (sought[b, i] if sought[b, i] > 0 else 1.0))
            memory[b, i] = max(memory[b, i], share if is_short(unmet[b, i], wants[b, i], short_share) else 0.0)


@kernel
def start_qualifying(short: np.ndarray, qualified: np.ndarray, qualifying: np.ndarray,
                     switching_days: np.ndarray) -> np.ndarray:
    """(buyer, switching group) pairs, [n, 2], that start qualifying new suppliers now: a buyer ``short`` [B, I]
    of an item qualifies them for every item of the item's group (the items with its ``switching_days`` [I],
    groups in the order their delays first appear), unless it started already (``qualifying`` [B, G], marked
    here) or has every supplier of them ``qualified`` [B, J, I]."""
    B, J, I = qualified.shape
    group = np.empty(I, np.int64)
    G = 0
    for i in range(I):
        group[i] = -1
        for earlier in range(i):
            if switching_days[earlier] == switching_days[i]:
                group[i] = group[earlier]
                break
        if group[i] < 0:
            group[i] = G
            G += 1
    starting = np.empty((B * G, 2), np.int64)
    n = 0
    for b in range(B):
        for g in range(G):
            if qualifying[b, g] or not lacks(short[b], group, g) or every_supplier(qualified[b], group, g):
                continue
            qualifying[b, g] = True
            starting[n, 0], starting[n, 1] = b, g
            n += 1
    return starting[:n]


@kernel
def lacks(short: np.ndarray, group: np.ndarray, g: int) -> bool:
    """Whether a buyer is ``short`` [I] of an item of switching group ``g`` (``group`` [I] of each item)."""
    for i in range(short.shape[0]):
        if group[i] == g and short[i]:
            return True
    return False


@kernel
def every_supplier(qualified: np.ndarray, group: np.ndarray, g: int) -> bool:
    """Whether a buyer has ``qualified`` [J, I] every supplier of every item of switching group ``g``."""
    J, I = qualified.shape
    for j in range(J):
        for i in range(I):
            if group[i] == g and not qualified[j, i]:
                return False
    return True


@kernel
def after_clearing(wants: np.ndarray, unmet: np.ndarray, moved: np.ndarray, shipped: np.ndarray,
                   carried: np.ndarray, ordered: np.ndarray, own_use: np.ndarray, use_all: np.ndarray,
                   use_normal: np.ndarray,
                   memory: np.ndarray, sought: np.ndarray, step_days: float, qualified: np.ndarray,
                   learnt: np.ndarray, learning: bool, remembering: bool, fade: float, short_share: float,
                   smoothing_days: float, normal_days: float, qualifying: np.ndarray, switching_days: np.ndarray,
                   calendar: bool) -> np.ndarray:
    """What the step teaches buyers once the market has cleared: in the spin-up's last quarter (``learning``)
    who delivered (``learnt`` += shipments); how short each went (``remember``, when ``remembering``); the
    use averages (``learn_use``). Returns the (buyer, switching group) pairs that start qualifying new suppliers
    (``start_qualifying``; none before the ``calendar`` starts), buyers short of an item counting the orders a
    tariff sent looking elsewhere (``moved``) as unmet."""
    B, J, I = shipped.shape
    if learning:
        for b in range(B):
            for j in range(J):
                if carried[b, j]:           # the other routes shipped nothing: adding it changes no sum
                    for i in range(I):
                        learnt[b, j, i] += shipped[b, j, i]
    short = np.empty((B, I), np.bool_)
    anyone = False
    for b in range(B):
        for i in range(I):
            short[b, i] = is_short(unmet[b, i] + moved[b, i], wants[b, i], short_share)
            anyone |= short[b, i]
    if remembering:
        remember(memory, unmet, wants, sought, fade, short_share)
    learn_use(own_use, shipped, carried, ordered, use_all, use_normal, step_days, smoothing_days, normal_days)
    if calendar and anyone:            # none short: none starts qualifying
        return start_qualifying(short, qualified, qualifying, switching_days)
    return np.empty((0, 2), np.int64)


@kernel
def learn_use(own_use: np.ndarray, shipped: np.ndarray, carried: np.ndarray, ordered: np.ndarray,
              use_all: np.ndarray, use_normal: np.ndarray, step_days: float, smoothing_days: float,
              normal_days: float) -> None:
    """Update a stage's use averages (t/day, in place) with its throughput this step: own use plus the larger
    of the open orders suppliers received and what they shipped (on the routes ``carried`` [B, J] marks);
    ``use_all`` over ``smoothing_days``, ``use_normal`` over ``normal_days``."""
    C, I = own_use.shape
    sent = sum_over_buyers(shipped, carried)
    quick = min(1.0, step_days / smoothing_days)
    slow = min(1.0, step_days / normal_days)
    for c in range(C):
        for i in range(I):
            throughput = (own_use[c, i] + max(ordered[c, i], sent[c, i])) / step_days
            use_all[c, i] += (throughput - use_all[c, i]) * quick
            use_normal[c, i] += (throughput - use_normal[c, i]) * slow
