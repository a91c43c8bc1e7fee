"""Goods at sea as a calendar of arrivals (``transit.AtSea``): they land after their route's lead time, in SimPy's
order (by arrival, then by voyage), into the buyers' stocks and off their order books, to the bit."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.stocks import Stocks
from sim.engine.transit import AtSea, Books, Shipment
from sim.kernels.balance import TERMS, add_transit
from sim.kernels.exports import by_arrival
from sim.stages import MINE, REFINERY, STAGES

C, Q, X = 3, 7, 4
LEAD = np.array([[0.0, 3.0, 30.0],
                 [3.0, 0.0, 4.0],
                 [30.0, 4.0, 0.0]])       # days, [exporter, importer]


def sparse_goods(rng: np.random.Generator, n: int) -> np.ndarray:
    """[n, Q, X] t of goods, most provenance rows holding nothing, magnitudes 1e-6 to 1e6."""
    goods = rng.random((n, Q, X)) * 10.0 ** rng.uniform(-6, 6, (n, Q, X))
    goods[:, 1:][rng.random((n, Q - 1)) < 0.7] = 0.0
    return goods


def world(rng: np.random.Generator):
    """The sea, stocks and order books of every stage (the tests ship the goods of some)."""
    at_sea = AtSea({stage: (Q, X) for stage in STAGES}, LEAD)
    stocks = {stage: Stocks(rng.random((C, Q, X))) for stage in STAGES}
    pipeline = {stage: rng.random((C, 1 if stage == MINE else X)) * 1e3 for stage in STAGES}
    return at_sea, stocks, pipeline


def test_goods_land_after_their_lead_time_and_not_before():
    """Sent on day 0, goods from 0 to 1 (3 days) land on day 3, those from 0 to 2 (30 days) stay at sea."""
    rng = np.random.default_rng(0)
    at_sea, stocks, pipeline = world(rng)
    goods = sparse_goods(rng, 2)
    stock, books = stocks[REFINERY].tagged.copy(), pipeline[REFINERY].copy()
    at_sea.sail(Shipment(REFINERY, np.array([1, 2]), np.array([0, 0]), goods), 0.0)
    at_sea.land(stocks, pipeline, 2.9, at_sea.sailed)
    assert np.array_equal(stocks[REFINERY].tagged, stock) and at_sea.due == 3.0
    at_sea.land(stocks, pipeline, 3.0, at_sea.sailed)
    assert np.array_equal(at_sea.holds[REFINERY].landed, goods[0, 0])
    assert np.array_equal(stocks[REFINERY].tagged[1], stock[1] + goods[0])
    assert np.array_equal(stocks[REFINERY].tagged[2], stock[2])
    assert np.array_equal(pipeline[REFINERY][1], books[1] - goods[0, 0])
    hold = at_sea.holds[REFINERY]
    assert hold.t == goods[1, 0].sum() and np.array_equal(hold.tagged, goods[1:])


def test_goods_due_at_one_time_land_only_if_they_sailed_before_the_event_asking():
    """Two voyages due on day 30: an event set going between them (``sailed`` 1) sees the first landed only."""
    rng = np.random.default_rng(1)
    at_sea, stocks, pipeline = world(rng)
    at_sea.sail(Shipment(REFINERY, np.array([2]), np.array([0]), sparse_goods(rng, 1)), 0.0)     # 30 days
    at_sea.sail(Shipment(REFINERY, np.array([2]), np.array([1]), sparse_goods(rng, 1)), 26.0)    # 4 days
    assert at_sea.sailed == 2
    at_sea.land(stocks, pipeline, 30.0, 1)
    assert list(at_sea.holds[REFINERY].buyer) == [2] and list(at_sea.holds[REFINERY].supplier) == [1]
    at_sea.land(stocks, pipeline, 30.0, 2)
    assert len(at_sea.holds[REFINERY].buyer) == 0


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), voyages=st.integers(1, 40), stage=st.sampled_from([MINE, REFINERY]))
def test_landing_sums_as_adding_each_route_in_order_of_arrival(seed, voyages, stage):
    """Voyages sent week by week, landed whenever asked: stocks and order books are those of adding every route's
    dense goods in order of arrival and, at one time, of sailing, bit for bit (a hold that fills makes room)."""
    rng = np.random.default_rng(seed)
    at_sea, stocks, pipeline = world(rng)
    stock, books = stocks[stage].tagged.copy(), pipeline[stage].copy()
    sent = []
    for v in range(voyages):
        n = int(rng.integers(1, 30))
        buyer, supplier = rng.integers(0, C, n), rng.integers(0, C, n)
        goods = sparse_goods(rng, n)
        at_sea.sail(Shipment(stage, buyer, supplier, goods), 7.0 * v)
        sent += [(7.0 * v + LEAD[supplier[r], buyer[r]], v, buyer[r], goods[r]) for r in range(n)]
        if rng.random() < 0.5:
            at_sea.land(stocks, pipeline, 7.0 * v + float(rng.integers(0, 7)), at_sea.sailed)
    at_sea.land(stocks, pipeline, np.inf, at_sea.sailed)
    for _, _, b, goods in sorted(sent, key=lambda s: (s[0], s[1])):     # stable: routes of a voyage in order
        stock[b] += goods
        books[b] += -(goods[0].sum(keepdims=True) if stage == MINE else goods[0])
    assert np.array_equal(stocks[stage].tagged, stock)
    assert np.array_equal(pipeline[stage], books)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_goods_landing_leave_transit_in_the_same_call_as_booked_after(seed):
    """Landed with the books given, goods leave transit as they land: the accounts' terms and t by stage are, bit
    for bit, those of landing them unbooked and then taking each stage's landed mass out of transit, a stage at
    a time in the holds' order; stocks and order books are the same either way."""
    stages = (MINE, REFINERY)
    E = 5
    ways = []
    for book in (True, False):
        rng = np.random.default_rng(seed)
        at_sea, stocks, pipeline = world(rng)
        content = {stage: rng.random((X, E)) for stage in STAGES}
        terms, transit_t = rng.random((len(TERMS), E)) * 1e3, rng.random(3) * 1e3
        for v in range(6):
            for stage in stages:
                n = int(rng.integers(1, 8))
                at_sea.sail(Shipment(stage, rng.integers(0, C, n), rng.integers(0, C, n), sparse_goods(rng, n)),
                            7.0 * v)
            if book:
                at_sea.land(stocks, pipeline, 7.0 * v + 3.5, at_sea.sailed, Books(terms, transit_t, content))
                continue
            due = {stage: hold.due for stage, hold in at_sea.holds.items()}
            at_sea.land(stocks, pipeline, 7.0 * v + 3.5, at_sea.sailed)
            for i, (stage, hold) in enumerate(at_sea.holds.items()):
                if due[stage] <= 7.0 * v + 3.5:
                    add_transit(terms, transit_t, i, hold.landed[None, None, :], content[stage], -1.0)
        ways.append((terms, transit_t, [stocks[s].tagged for s in stages], [pipeline[s] for s in stages]))
    (terms, transit_t, stocks, books), (terms_after, transit_after, stocks_after, books_after) = ways
    assert np.array_equal(terms, terms_after) and np.array_equal(transit_t, transit_after)
    assert all(map(np.array_equal, stocks + books, stocks_after + books_after))


def test_goods_turned_back_at_sea_leave_what_is_left_to_land():
    """A measure takes half of a voyage's goods back: the other half stays at sea and lands."""
    rng = np.random.default_rng(2)
    at_sea, stocks, pipeline = world(rng)
    goods = sparse_goods(rng, 2)
    stock = stocks[REFINERY].tagged.copy()
    at_sea.sail(Shipment(REFINERY, np.array([1, 2]), np.array([0, 1]), goods), 0.0)
    voyages = list(at_sea.voyages())        # by lead time: 0 to 1 (3 days), then 1 to 2 (4 days)
    assert [list(s.buyer) for s in voyages] == [[1], [2]]
    for shipment in at_sea.voyages():
        shipment.take(np.full(shipment.goods[:, 0, :].shape, 0.5))
    assert np.allclose(at_sea.holds[REFINERY].tagged, goods * 0.5, rtol=1e-15, atol=0)
    at_sea.land(stocks, pipeline, 4.0, at_sea.sailed)
    assert np.array_equal(stocks[REFINERY].tagged[1:], stock[1:] + (goods - goods * 0.5))


def test_a_stage_with_nothing_at_sea_has_no_voyages_to_turn_back():
    """Goods of one stage at sea, none of the others: the sea's voyages are that stage's alone."""
    rng = np.random.default_rng(3)
    at_sea, _, _ = world(rng)
    at_sea.sail(Shipment(REFINERY, np.array([1]), np.array([0]), sparse_goods(rng, 1)), 0.0)
    assert [s.stage for s in at_sea.voyages()] == [REFINERY]


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60))
def test_records_due_are_ordered_by_arrival_and_at_one_time_by_sailing(seed, n):
    """The records landing at once are taken by arrival day, those arriving together in the order they sailed:
    NumPy's stable sort of their days."""
    rng = np.random.default_rng(seed)
    arrives = rng.integers(0, 5, 80).astype(float)         # few days: many records arrive together
    records = np.sort(rng.choice(80, size=n, replace=False))
    expected = records[np.argsort(arrives[records], kind="stable")]
    by_arrival(records, n, arrives)
    assert np.array_equal(records, expected)
