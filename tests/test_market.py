"""Clearing one stage's market, worked on paper: two sellers (A, B), two buyers (X, Y), one item.

Each case builds ``sim.engine.market.clear``'s arrays from a few named numbers
(t of one item) and checks every shipment, the own use served and what is left
unmet, to 1e-12. The comments carry the arithmetic of the three passes:
1. orders by share, a short supplier serving its own use and its orders pro rata;
2. what buyers lack re-sourced from qualified suppliers' spare stock (beyond own
   use, shipments and reserve), in proportion to spare, pro rata when short;
3. what a tariff moved away and pass 2 could not place, back to the tariffed supplier.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.engine.market import clear
from sim.kernels.clearing import routes

A, B, X, Y = range(4)   # countries: sellers A and B, buyers X and Y
C = 4


def stock(**by_country: float) -> np.ndarray:
    """[C, 1] from e.g. A=100, X=5."""
    out = np.zeros((C, 1))
    for name, t in by_country.items():
        out["ABXY".index(name), 0] = t
    return out


def book(entries: dict[tuple[int, int], float]) -> np.ndarray:
    """[buyer, supplier, 1] from {(X, A): 30, ...}: orders, shipments or shares."""
    out = np.zeros((C, C, 1))
    for (buyer, supplier), t in entries.items():
        out[buyer, supplier, 0] = t
    return out


def qualify(*pairs: tuple[int, int]) -> np.ndarray:
    """[buyer, supplier, 1] which suppliers each buyer may turn to in pass 2."""
    out = np.zeros((C, C, 1), dtype=bool)
    for buyer, supplier in pairs:
        out[buyer, supplier, 0] = True
    return out


def market(available, orders, own_use=None, blocked=None, qualified=None, reserve=None, lacking=None,
           tariffed=None):
    zero = np.zeros((C, 1))
    return clear(available, zero if own_use is None else own_use, orders,
                 np.zeros_like(orders) if blocked is None else blocked,
                 qualify() if qualified is None else qualified, zero if reserve is None else reserve,
                 lacking, tariffed)


def exactly(actual, expected) -> None:
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)


EVERYONE = qualify(*[(b, j) for b in range(C) for j in range(C)])


# ---------------------------------------------------------------- pass 1: orders and pro rata
def test_suppliers_with_enough_stock_fill_every_order_and_their_own_use():
    """Suppliers holding more than their own use and their orders ship every order in full and nothing more."""
    orders = book({(X, A): 30, (Y, A): 20, (X, B): 10})
    got = market(stock(A=100, B=50), orders, own_use=stock(A=10, B=5), qualified=EVERYONE)
    # A: claims 10 + 30 + 20 = 60 <= 100; B: 5 + 10 = 15 <= 50; nobody lacks, so pass 2 adds nothing
    exactly(got.shipped, orders)
    exactly(got.own_fill, np.ones((C, 1)))
    exactly(got.unmet, np.zeros((C, 1)))
    exactly(got.ordered, stock(A=50, B=10))


def test_a_short_supplier_serves_its_own_use_and_every_order_pro_rata():
    """A supplier with less stock than its own use plus its orders serves each of them the same share."""
    got = market(stock(A=60), book({(X, A): 30, (Y, A): 50}), own_use=stock(A=20))
    # claims 20 + 30 + 50 = 100 on a stock of 60: each served 60/100 = 0.6
    # own use 20 x 0.6 = 12; X 30 x 0.6 = 18; Y 50 x 0.6 = 30; 12 + 18 + 30 = 60, the whole stock
    exactly(got.own_fill[A], [0.6])
    exactly(got.shipped, book({(X, A): 18, (Y, A): 30}))
    exactly(got.unmet, stock(X=30 - 18, Y=50 - 30))


# ---------------------------------------------------------------- pass 2: blocked shares re-sourced
def test_a_blocked_order_gets_nothing_and_is_resourced_from_other_suppliers_spare():
    """A blocked order ships nothing in pass 1; pass 2 fills it from other qualified suppliers' spare stock, in
    proportion to their spare, never from the blocked supplier and never from the buyer's own stock."""
    got = market(stock(A=100, B=80, X=500, Y=40), book({(X, A): 40, (Y, A): 20}),
                 own_use=stock(A=10, B=10, Y=10), reserve=stock(A=20, B=10, Y=10),
                 blocked=book({(X, A): 1.0}), qualified=qualify((X, A), (X, B), (X, X), (X, Y)))
    # pass 1: X's 40 from A is blocked; A ships Y's 20 (claims 10 + 20 <= 100); X lacks 40
    # spare = stock - own use - shipped - reserve: A 100 - 10 - 20 - 20 = 50 (blocked to X: weight 0),
    #   B 80 - 10 - 0 - 10 = 60, Y 40 - 10 - 0 - 10 = 20, X itself 500 (never its own supplier)
    # X asks B 40 x 60/80 = 30 and Y 40 x 20/80 = 10, both within their spare
    exactly(got.shipped, book({(Y, A): 20, (X, B): 30, (X, Y): 10}))
    exactly(got.unmet, np.zeros((C, 1)))


def test_when_spare_is_short_buyers_share_it_pro_rata_and_reserve_is_kept():
    """Two buyers lacking more than a supplier's spare each get the same share of their request; the supplier
    keeps its own use and its reserve."""
    got = market(stock(A=200, B=70), book({(X, A): 40, (Y, A): 60}), own_use=stock(B=10),
                 reserve=stock(B=10), blocked=book({(X, A): 1.0, (Y, A): 1.0}),
                 qualified=qualify((X, A), (X, B), (Y, A), (Y, B)))
    # pass 1: both orders blocked, X lacks 40, Y lacks 60; B's spare 70 - 10 - 10 = 50
    # requests 40 + 60 = 100 on a spare of 50: each served 0.5, X 20, Y 30
    # B: own use 10 + shipped 50 + reserve 10 = 70, its whole stock
    exactly(got.shipped, book({(X, B): 20, (Y, B): 30}))
    exactly(got.unmet, stock(X=20, Y=30))
    exactly(got.own_fill[B], [1.0])


def test_an_unqualified_supplier_is_not_turned_to():
    """A buyer that has not qualified a supplier gets nothing from its spare, while a buyer that has does."""
    got = market(stock(A=100, B=100), book({(X, A): 40, (Y, A): 40}),
                 blocked=book({(X, A): 1.0, (Y, A): 1.0}), qualified=qualify((Y, B)))
    # both lack 40; B's spare 100; only Y may turn to B and gets its 40; X stays 40 short
    exactly(got.shipped, book({(Y, B): 40}))
    exactly(got.unmet, stock(X=40))


def test_a_supplier_qualified_for_one_item_is_not_turned_to_for_another():
    """Qualification is per item: a buyer qualified with B for the first item only re-sources that item from B's
    spare, and stays short of the second."""
    orders, blocked = np.zeros((C, C, 2)), np.zeros((C, C, 2))
    orders[X, A] = 30, 20
    blocked[X, A] = 1.0, 1.0
    qualified = np.zeros((C, C, 2), dtype=bool)
    qualified[X, B, 0] = True
    available = np.zeros((C, 2))
    available[B] = 100, 100
    zero = np.zeros((C, 2))
    got = clear(available, zero, orders, blocked, qualified, zero)
    # X lacks 30 and 20; B's spare is 100 of each, but X may turn to B for the first item only
    expected = np.zeros((C, C, 2))
    expected[X, B, 0] = 30
    exactly(got.shipped, expected)
    exactly(got.unmet[X], [0.0, 20.0])


def test_what_buyers_lack_from_earlier_steps_is_resourced_in_pass_two():
    """``lacking`` (refused licences, quota cuts of earlier steps) is re-sourced from qualified suppliers' spare,
    the usual supplier included, pro rata when short; without a qualified supplier it stays unmet."""
    args = dict(available=stock(A=40, B=30), orders=book({(X, A): 10}), own_use=stock(A=10, B=5),
                reserve=stock(A=5, B=5), qualified=qualify((X, A), (X, B)))
    got = market(**args, lacking=stock(X=25))
    # pass 1: A ships X's 10 (claims 10 + 10 <= 40); X lacks 0 + 25
    # spare A 40 - 10 - 10 - 5 = 15, B 30 - 5 - 0 - 5 = 20; X asks A 25 x 15/35 and B 25 x 20/35, within spare
    exactly(got.shipped, book({(X, A): 10 + 25 * 15 / 35, (X, B): 25 * 20 / 35}))
    exactly(got.unmet, np.zeros((C, 1)))

    got = market(**args, lacking=stock(X=70))
    # X asks A 70 x 15/35 = 30 (spare 15: half) and B 70 x 20/35 = 40 (spare 20: half): gets 15 + 20, 35 unmet
    exactly(got.shipped, book({(X, A): 10 + 15, (X, B): 20}))
    exactly(got.unmet, stock(X=35))

    args["qualified"] = qualify()
    exactly(market(**args, lacking=stock(X=25)).unmet, stock(X=25))


# ---------------------------------------------------------------- tariffs: elsewhere first, then back (pass 3)
def test_a_tariff_sends_orders_to_other_makers_first_and_the_rest_back_to_the_tariffed_supplier():
    """Orders a tariff moves away go to other makers' spare first; what they cannot place is bought from the
    tariffed supplier in pass 3, from what it has left after its own use."""
    tariff = dict(orders=book({(X, A): 40}), own_use=stock(A=10, B=5), reserve=stock(B=5),
                  tariffed=book({(X, A): 1.0}), qualified=qualify((X, A), (X, B)))
    got = market(stock(A=100, B=30), **tariff)
    # pass 1: all 40 moved, none placed with A (A received no open orders); X lacks 40
    # pass 2: A's spare is avoided; B's spare 30 - 5 - 5 = 20: X asks B 40, gets 20 (0.5), lacks 20
    # pass 3: min(lacking 20, moved 40) = 20 goes back to A, which has 100 - 10 = 90 left
    exactly(got.shipped, book({(X, A): 20, (X, B): 20}))
    exactly(got.ordered[A], [0.0])
    exactly(got.unmet, np.zeros((C, 1)))

    got = market(stock(A=100, B=60), **tariff)
    # B's spare 60 - 5 - 5 = 50 takes all 40: nothing goes back to A
    exactly(got.shipped, book({(X, B): 40}))

    got = market(stock(A=25, B=30), **tariff)
    # as the first case, but A has 25 - 10 = 15 left for the 20 sent back: X gets 15 from A, 5 unmet
    exactly(got.shipped, book({(X, A): 15, (X, B): 20}))
    exactly(got.unmet, stock(X=5))
    exactly(got.own_fill[A], [1.0])

    got = market(stock(A=100, B=30), **tariff, lacking=stock(X=30))
    # X lacks 40 moved + 30 from earlier steps = 70; B's spare 20 goes to X, 50 still lacking
    # pass 3 sends back only what the tariff moved, min(50, 40) = 40, not the 30 lacking for other reasons
    exactly(got.shipped, book({(X, A): 40, (X, B): 20}))
    exactly(got.unmet, stock(X=10))


@pytest.mark.xfail(strict=True, reason="pass 2 weighs the covered supplier's spare by (1 - share): part of a "
                   "partly blocked or moved order comes back from that supplier although others have spare")
@pytest.mark.parametrize("measure", ["blocked", "tariffed"])
def test_a_partly_covered_order_is_resourced_from_other_makers_first(measure):
    """The share of an order a measure blocks or a tariff moves away is re-sourced from *other* makers' spare
    (README, Policy levers: "buyers move ... their orders ... to other makers with spare output"; "buyers
    re-source from other makers' spare output"), not from the supplier the measure covers."""
    got = market(stock(A=100, B=20), book({(X, A): 40}), own_use=stock(A=10, B=5),
                 qualified=qualify((X, A), (X, B)), **{measure: book({(X, A): 0.25})})
    # pass 1: A ships the uncovered 40 x 0.75 = 30; X lacks 10; B's spare 20 - 5 = 15 holds all 10
    # (today pass 2 weighs A's spare 100 - 10 - 30 = 60 by 0.75, i.e. 45 against B's 15: A 7.5, B 2.5)
    exactly(got.shipped, book({(X, A): 30, (X, B): 10}))


# ---------------------------------------------------------------- property: nothing shipped beyond stock
@st.composite
def markets(draw):
    c = draw(st.integers(2, 5))
    i = draw(st.integers(1, 3))
    # no subnormal tonnes or shares: a masked lane's stock / claim would overflow (a warning, not an error)
    tonnes = st.just(0.0) | st.floats(1e-6, 1e4)
    share = st.just(0.0) | st.floats(1e-6, 1.0)
    return dict(
        available=draw(hnp.arrays(np.float64, (c, i), elements=tonnes)),
        own_use=draw(hnp.arrays(np.float64, (c, i), elements=tonnes)),
        orders=draw(hnp.arrays(np.float64, (c, c, i), elements=tonnes)),
        blocked=draw(hnp.arrays(np.float64, (c, c, i), elements=share)),
        qualified=draw(hnp.arrays(bool, (c, c, i))),
        reserve=draw(hnp.arrays(np.float64, (c, i), elements=tonnes)),
        lacking=draw(st.none() | hnp.arrays(np.float64, (c, i), elements=tonnes)),
        tariffed=draw(st.none() | hnp.arrays(np.float64, (c, c, i), elements=share)),
    )


@settings(max_examples=300, deadline=None)
@given(m=markets())
def test_no_supplier_ships_beyond_its_stock_and_nothing_is_unmet_below_zero(m):
    """Whatever the orders, blocks, tariffs and reserves: a supplier's own use served plus its shipments never
    exceed its stock; shipments and unmet are never negative; what a buyer ordered (and lacked) is either
    shipped to it or unmet."""
    got = clear(**m)
    available = m["available"]
    used = m["own_use"] * got.own_fill + got.shipped.sum(axis=0)
    rounding = 1e-12 * np.maximum(1.0, available)            # float error of the pro-rata divisions only
    assert (used <= available + rounding).all()
    assert (got.shipped >= 0).all() and (got.unmet >= 0).all()
    assert ((got.own_fill >= 0) & (got.own_fill <= 1)).all()
    wanted = m["orders"].sum(axis=1) + (0.0 if m["lacking"] is None else m["lacking"])
    np.testing.assert_allclose(got.shipped.sum(axis=1) + got.unmet, wanted, rtol=1e-12, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(x=st.integers(1, 6).flatmap(lambda c: st.integers(1, 4).flatmap(
    lambda i: hnp.arrays(np.float64, (c, c, i), elements=st.just(0.0) | st.floats(1e-6, 1e4)))))
def test_the_market_walks_every_route_that_carries_an_order_once_suppliers_in_order(x):
    """Clearing visits a buyer's orders of an item along its routes: every non-zero entry of [B, J, I], once,
    grouped by buyer then item, suppliers in order (the order NumPy adds them in), and no route with nothing."""
    first, supplier = routes(x)
    buyers, _, items = x.shape
    groups = [(b, i, b * items + i) for b in range(buyers) for i in range(items)]
    walked = [(b, int(supplier[n]), i) for b, i, k in groups for n in range(first[k], first[k + 1])]
    assert walked == sorted(zip(*np.nonzero(x)), key=lambda bji: (bji[0], bji[2], bji[1]))
