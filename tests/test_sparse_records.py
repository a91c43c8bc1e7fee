"""Records by pairs of countries kept as what is not zero: they read as the dense arrays they stand for."""
import datetime

import numpy as np
import pytest

from sim import load_scenario
from sim.engine.simulation import Simulation
from sim.results.sparse import POSITION, SparseSteps, add_goods, put_sums

from .conftest import SCENARIOS


def _routes(seed: int = 0):
    """A [step, buyer, supplier, item] record and the dense array the same flows make with +=."""
    rng = np.random.default_rng(seed)
    steps, countries, items = 6, 4, 3
    dense, record = np.zeros((steps, countries, countries, items)), SparseSteps(steps, (countries, countries),
                                                                                 (items,))
    for _ in range(30):
        k, m = rng.integers(steps), rng.integers(1, 4)
        buyer, supplier = rng.choice(countries, m, replace=False), rng.integers(countries, size=m)
        mass = rng.random((m, items)) * (rng.random((m, 1)) > 0.3)       # some routes carry nothing
        dense[k][buyer, supplier] += mass
        record.add(k, buyer * countries + supplier, mass)
    return record, dense


def test_flows_added_read_as_the_array_they_were_added_to_bit_for_bit():
    """Flows added to a route several times in a step sum in the order they came, as += on an array does."""
    record, dense = _routes()
    assert record.shape == dense.shape
    np.testing.assert_array_equal(record[:], dense)
    np.testing.assert_array_equal(record[2:5], dense[2:5])
    np.testing.assert_array_equal(record[3], dense[3])
    np.testing.assert_array_equal(record[np.array([4, 0, 2])], dense[[4, 0, 2]])
    np.testing.assert_array_equal(record[1:6, 2], dense[1:6, 2])
    np.testing.assert_array_equal(record[:, 1:4:2, 0], dense[:, 1:4:2, 0])
    np.testing.assert_array_equal(record.select(1)[:], dense[:, 1])


KEYS = [(1,), (-3,), (2, 3), (1, slice(None), slice(1, 4)), (-1, slice(2, None), 4), (slice(None), -1),
        (slice(0, 3, 2), 2, slice(None)), (slice(None), slice(None), slice(1, 5, 3)), (slice(1, 2), slice(None), 0), (),
        (slice(1, 3, 2), slice(None), slice(-2, None)), (slice(2, 1), 1), (slice(-10, 10), slice(3, 99, 2)),
        (slice(None), slice(4, 4), 2)]


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_a_record_narrowed_on_its_leading_axes_reads_as_the_array_indexed_so(key):
    """``select`` with indices and slices in any order (negative indices, strides) keeps what ``array[:, *key]``
    keeps, at the positions it has there."""
    rng = np.random.default_rng(7)
    steps, lead, tail = 4, (3, 4, 5), (2,)
    dense, record = np.zeros((steps, *lead, *tail)), SparseSteps(steps, lead, tail)
    for _ in range(40):
        k, at = rng.integers(steps), rng.choice(60, rng.integers(1, 6), replace=False)
        rows = rng.random((len(at), 2)) * (rng.random((len(at), 1)) > 0.2)
        dense[k].reshape(60, 2)[at] += rows
        record.add(k, at, rows)
    np.testing.assert_array_equal(record.select(*key)[:], dense[(slice(None), *key)])


@pytest.mark.parametrize("key", [(slice(1, 4),), (-2,), (slice(None, None, 2),), ()], ids=str)
def test_a_record_of_one_leading_axis_narrowed_reads_as_the_array_indexed_so(key):
    """With one leading axis, the first axis is also the last: its positions are its indices."""
    rng = np.random.default_rng(11)
    dense, record = np.zeros((3, 5, 2)), SparseSteps(3, (5,), (2,))
    for k in range(3):
        at = rng.choice(5, 3, replace=False)
        rows = rng.random((3, 2))
        dense[k, at] += rows
        record.add(k, at, rows)
    np.testing.assert_array_equal(record.select(*key)[:], dense[(slice(None), *key)])


def test_a_slice_that_steps_backwards_is_refused():
    """``select`` keeps positions in their order: a slice with a negative step is an IndexError."""
    record = SparseSteps(2, (3, 4), ())
    record.add(0, np.array([5]), np.ones((1,)))
    with pytest.raises(IndexError, match="step must be positive"):
        record.select(slice(None), slice(None, None, -1))


@pytest.mark.parametrize("key", [(3,), (0, 4), (slice(None), -5), (slice(None), slice(None), 5)], ids=str)
def test_an_index_beyond_its_axis_is_refused(key):
    """An index past an axis's end is an IndexError, not another position of the record."""
    record = SparseSteps(2, (3, 4, 5), (2,))
    record.add(0, np.array([7]), np.ones((1, 2)))
    with pytest.raises(IndexError, match="out of bounds"):
        record.select(*key)


@pytest.mark.parametrize("items_summed", [False, True])
def test_goods_added_by_route_read_as_their_mass_added_to_the_dense_array(items_summed):
    """Goods by route (tagged: row 0 their mass, other rows their provenance) added to a [step, buyer,
    supplier, item] record read as their mass added with += on a zeroed array, bit for bit: by item, or summed
    over the items as NumPy sums a row (a record of one item); a -0.0 reads as the 0.0 of the zeroed array."""
    rng = np.random.default_rng(4)
    steps, countries, items, rows = 5, 4, 11, 3
    record = SparseSteps(steps, (countries, countries), (1 if items_summed else items,))
    dense = np.zeros(record.shape)
    for _ in range(20):
        k, m = rng.integers(steps), rng.integers(1, 4)
        buyer, supplier = rng.choice(countries, m, replace=False), rng.integers(countries, size=m)
        goods = rng.random((m, rows, items)) * 1e3 * (rng.random((m, 1, 1)) > 0.3)     # some carry nothing
        goods[0, 0, 0] = -0.0
        mass = goods[:, 0].sum(axis=-1, keepdims=True) if items_summed else goods[:, 0]
        dense[k][buyer, supplier] += mass
        add_goods(record, k, buyer, supplier, goods, items_summed)
    assert dense.any()
    np.testing.assert_array_equal(record[:], dense)
    assert not np.signbit(record[:]).any()


def test_blocks_put_read_as_the_array_they_were_set_in_and_a_second_put_replaces_the_first():
    rng = np.random.default_rng(1)
    dense, record = np.zeros((4, 3, 5, 7)), SparseSteps(4, (3, 5, 7))
    for k in range(4):
        for part in range(3):
            record.put(k, np.ones((5, 7)), part)            # replaced below
            block = rng.random((5, 7)) * (rng.random((5, 7)) > 0.7)
            dense[k, part] = block
            record.put(k, block, part)
    np.testing.assert_array_equal(record[:], dense)
    np.testing.assert_array_equal(record[:, 0, :, 2:4], dense[:, 0, :, 2:4])
    step, lead, values = record.entries()
    assert len(values) == np.count_nonzero(dense)
    np.testing.assert_array_equal(dense[(step, *lead)], values)


def test_a_record_of_nothing_reads_as_zeros_and_has_no_entries():
    record = SparseSteps(3, (2, 2), (4,))
    np.testing.assert_array_equal(record[:], np.zeros((3, 2, 2, 4)))
    step, lead, rows = record.entries()
    assert len(step) == 0 and rows.shape == (0, 4) and all(len(c) == 0 for c in lead)


def test_a_record_read_takes_no_more_writes():
    """A record is written during its run and read after it: a write after a read is a mistake, said so."""
    record, _ = _routes()
    record[:]
    with pytest.raises(RuntimeError, match="read already"):
        record.add(0, np.array([1]), np.ones((1, 3)))


def test_sums_put_as_the_dense_sums_and_products_set_them_across_chunks_and_with_blocks_put_between():
    """Blocks given as their rows that may hold anything, summed (as ``block.sum(-1)``) and weighted (each
    number times its weight, added in order) into two records, step after step and part after part, with whole blocks ``put`` into
    the first now and then: both read as the dense arrays, bit for bit, however many chunks they fill."""
    rng = np.random.default_rng(2)
    steps, parts, size, X = 40, 3, 200, 11
    plain, weighted = SparseSteps(steps, (parts, size)), SparseSteps(steps, (parts, size))
    dense_plain, dense_weighted = np.zeros((steps, parts, size)), np.zeros((steps, parts, size))
    weights = rng.random(X)
    for k in range(steps):
        for part in range(parts):
            at = np.flatnonzero(rng.random(size) < 0.6)
            values = rng.random((len(at), X)) * (rng.random((len(at), 1)) > 0.1)     # some rows hold nothing
            block = np.zeros((size, X))
            block[at] = values
            if part == 1 and k % 7 == 0:            # a whole block put, replaced by the sums below
                plain.put(k, rng.random(size), part)
            put_sums(k, size, at, values, plain=(plain, part), weighted=(weighted, part, weights))
            dense_plain[k, part] = block.sum(axis=-1)
            for x in range(X):
                dense_weighted[k, part] += block[:, x] * weights[x]
    np.testing.assert_array_equal(plain[:], dense_plain)
    np.testing.assert_array_equal(weighted[:], dense_weighted)


def test_blocks_put_in_any_order_of_parts_and_rows_read_in_order_of_position():
    """A step puts its parts in any order (the engine puts the last first), and a block given its rows out of
    order is still stored by position: the entries come out as the dense array lists them, bit for bit."""
    rng = np.random.default_rng(3)
    steps, parts, size = 5, 3, 8
    record, dense = SparseSteps(steps, (parts, size)), np.zeros((steps, parts, size))
    for k in range(steps):
        for part in (2, 0, 1):
            at = rng.permutation(size)[:5] if k == 3 else np.sort(rng.permutation(size)[:5])
            values = rng.random((5, 2))
            put_sums(k, size, at, values, plain=(record, part))
            dense[k, part, at] = values.sum(axis=-1)
    np.testing.assert_array_equal(record[:], dense)
    step, (part, position), values = record.entries()
    np.testing.assert_array_equal(np.lexsort((position, part, step)), np.arange(len(step)))
    np.testing.assert_array_equal(values, dense[step, part, position])
    np.testing.assert_array_equal(record.total(slice(1, 4)), dense[1:4].sum(axis=0))


def test_a_record_holds_as_many_positions_and_steps_as_its_entries_can_name():
    """An entry's step and position are written as 4-byte integers: a record of more is refused, not wrapped."""
    SparseSteps(10, (np.iinfo(POSITION).max,))
    with pytest.raises(ValueError, match="positions"):
        SparseSteps(10, (2, np.iinfo(POSITION).max))


@pytest.fixture(scope="module")
def results():
    return Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end=datetime.date(2025, 6, 30)).run()


def test_the_recorder_keeps_only_the_routes_that_moved_and_the_provenance_rows_that_hold_mass(results):
    """Exports keep one row per route that carried something in a step, provenance one entry per row that
    is not zero: far fewer entries, and bytes, than the dense [step, country, country, ...] arrays hold."""
    raw = results.raw
    for record in (*raw.exports.values(), raw.consumed_tags, raw.made_tags, raw.made_tags_t, raw.used_tags_t):
        written = record.nbytes                       # as written, before the first read sorts it
        dense = record[:]
        assert record.nbytes <= written + 8 * (record.steps + 1)
        step, lead, rows = record.entries()
        per_position = dense.reshape(*dense.shape[:1 + len(record.lead)], -1)
        assert len(rows) == np.count_nonzero(np.abs(per_position).sum(axis=-1))
        assert len(rows) < 0.35 * per_position[..., 0].size
        assert record.nbytes < 0.5 * dense.nbytes


def test_a_record_of_mostly_empty_blocks_reserves_room_in_proportion_to_what_it_keeps():
    """Provenance at 100-200 countries: each step puts blocks of thousands of rows of which a few per cent
    hold anything. Room is reserved for a whole block, but not a chunk per block."""
    steps, positions, kept = 500, 1000, 10
    record = SparseSteps(steps, (positions,), (11,))
    block = np.zeros((positions, 11))
    block[:kept] = 1.0
    for k in range(steps):
        record.put(k, block)
    entry = 8 + 8 + 11 * 8                  # step, position and the row of one entry
    written = steps * kept
    assert record.nbytes <= entry * (2 * written + 16 * positions)
    assert np.array_equal(record[steps - 1], block)
