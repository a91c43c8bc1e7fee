"""The compiled kernels: NumPy's sums and arithmetic bit for bit, powers the C library's, tagged mass taken and
added as the dense arithmetic does it, and the same run with compilation switched off."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine.prices import NOTHING
from sim.engine.state import magnet_demand
from sim.kernels.markets import most_covered
from sim.kernels.prices import (
    adjust,
    answer,
    answer_prices,
    answer_terms,
    capped,
    element_prices,
    market_prices,
    numpy_power,
    pressure,
    price_terms,
)
from sim.kernels.production import recipe_content
from sim.kernels.sums import first_row_sum, pairwise_sum, row_sums
from sim.kernels.tagged import add_entries, add_origin, add_stamped, live_rows, stamp, take_share
from sim.world.provenance import TaggedFlow

from .conftest import ROOT, SCENARIOS

SHORT_RUN = f"""
import sys
from numba.core import config
import sim
assert config.DISABLE_JIT, "the kernels are to run as plain Python"
tables = sim.run(sim.load_scenario({str(SCENARIOS / "japan_ban.yaml")!r}), seed=0, end="2025-03-31").tables("step")
for name, frame in tables.items():
    frame.to_parquet(f"{{sys.argv[1]}}/{{name}}.parquet")
"""


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300))
def test_a_compiled_sum_adds_as_numpy_does(seed, n):
    """Lengths below, at and beyond NumPy's blocks of 8 and 128, magnitudes 1e-6 to 1e6: the same bits as x.sum(),
    and each row of a 2-D array summed in place as NumPy sums it (a row of -0.0s too)."""
    rng = np.random.default_rng(seed)
    x = rng.random(n) * 10.0 ** rng.uniform(-6, 6, n)
    assert pairwise_sum(x) == x.sum()
    rows = np.stack([x, x[::-1], -x, np.full(n, -0.0)])
    assert row_sums(rows).tobytes() == rows.sum(axis=1).tobytes()
    assert row_sums(rows[:, ::-1]).tobytes() == np.array([row.sum() for row in rows[:, ::-1]]).tobytes()
    for k in range(len(rows)):                       # one route's t, as a number
        assert np.float64(first_row_sum(rows[k:k + 1])).tobytes() == rows[k:k + 1].sum(axis=1)[0].tobytes()


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), exponent=st.sampled_from([-1.0, 0.5, 2.0, 0.0, 1.0, -3.41, 0.067, 6.0]))
def test_a_batch_of_powers_gives_numpy_s_array_to_a_scalar(seed, exponent):
    """Prices raise a flat batch of terms to their exponents at once: with ``numpy_power`` each is what
    ``array ** exponent`` gives, whose square roots, squares and reciprocals are not the power function's."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(1e-3, 1e3, 64)
    batch = np.power(x, np.full_like(x, exponent))
    assert [numpy_power(b, exponent, p) for b, p in zip(x, batch)] == list(x ** exponent)


def answered(sectors: np.ndarray, uses: np.ndarray, market_of: np.ndarray, elasticity: tuple[float, float],
             uses_short: np.ndarray, uses_long: np.ndarray, lasts: bool, multipliers: list[np.ndarray],
             lasting: list[np.ndarray], recovery_step: float | None = 0.01) -> None:
    """Demand's answer to prices as the engine asks for it, in one call: end uses' and other uses' terms, their
    powers, then both multipliers and lasting parts (in place; an empty block does not answer; a lasting part
    moves a quarter of the way a step; ``recovery_step`` None: no recovery)."""
    answer_prices(sectors, *elasticity, uses, uses_short, uses_long, market_of, lasts, False, 0.25,
                  recovery_step is not None, recovery_step or 0.0, lasting[0], multipliers[0], lasting[1],
                  multipliers[1])


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lasts=st.booleans())
def test_end_uses_and_other_uses_answer_prices_in_one_call_as_each_alone(seed, lasts):
    """Two markets, five countries: end uses answer their sectors' magnet value [M, S] by one elasticity, raised
    as NumPy raises an array to a scalar, other uses each element's price multiple [M, E] by its own; with a
    long run each has a lasting part. Answered together, each multiplier and lasting part is, bit for bit, what
    it is answered alone, and without a long run or a recovery to hold it back the answer is value^-elasticity
    of the buyer's market."""
    rng = np.random.default_rng(seed)
    market_of = np.array([0, 1, 1, 0, 1])
    sectors, uses = rng.uniform(0.5, 20.0, (2, 3)), rng.uniform(0.5, 20.0, (2, 4))
    uses[1, 2] = np.nan                                   # no price: counts as 1
    short, long = rng.uniform(0.0, 1.0, 4), rng.uniform(0.0, 1.0, 4)
    start = [rng.uniform(0.2, 1.0, (5, 3)), rng.uniform(0.2, 1.0, (5, 4))]
    lasting = [rng.uniform(0.5, 1.0, (5, 3)), rng.uniform(0.5, 1.0, (5, 4))] if lasts else [NOTHING, NOTHING]
    both, both_lasting = [m.copy() for m in start], [x.copy() for x in lasting]
    answered(sectors, uses, market_of, (0.067, 0.5), short, long, lasts, both, both_lasting)
    alone, alone_lasting = [m.copy() for m in start], [x.copy() for x in lasting]
    answered(sectors, NOTHING, market_of, (0.067, 0.5), short, long, lasts, [alone[0], NOTHING],
             [alone_lasting[0], NOTHING])
    answered(NOTHING, uses, market_of, (0.067, 0.5), short, long, lasts, [NOTHING, alone[1]],
             [NOTHING, alone_lasting[1]])
    assert all(np.array_equal(a, b) for a, b in zip(both + both_lasting, alone + alone_lasting))
    assert not np.array_equal(both[0], start[0]) and not np.array_equal(both[1], start[1])
    if not lasts:
        at_once = [m.copy() for m in start]
        answered(sectors, uses, market_of, (0.067, 0.067), short, short, False, at_once, lasting, recovery_step=None)
        assert np.array_equal(at_once[0], c_power(sectors[market_of], np.full((5, 3), -0.067)))
        assert np.array_equal(at_once[1], c_power(np.nan_to_num(uses, nan=1.0)[market_of], np.tile(-short, (5, 1))))


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lasts=st.booleans(), spin_up=st.booleans(), recovers=st.booleans())
def test_demand_s_answer_in_one_call_is_its_terms_raised_and_answered_kernel_by_kernel(seed, lasts, spin_up,
                                                                                      recovers):
    """Demand's answer in one compiled call (``answer_prices``) is, to the bit, its terms (``answer_terms``),
    each raised by the C library's power, answered (``answer``): the multipliers and lasting parts alike, the
    spin-up's lasting parts 1."""
    rng = np.random.default_rng(seed)
    market_of = np.array([0, 1, 1, 0, 1])
    sectors, uses = rng.uniform(0.5, 20.0, (2, 3)), rng.uniform(0.5, 20.0, (2, 4))
    short, long = rng.uniform(0.0, 1.0, 4), rng.uniform(0.0, 1.0, 4)
    start = [rng.uniform(0.2, 1.0, (5, 3)), rng.uniform(0.2, 1.0, (5, 4)), rng.uniform(0.5, 1.0, (5, 3)),
             rng.uniform(0.5, 1.0, (5, 4))]
    one, apart = [x.copy() for x in start], [x.copy() for x in start]
    terms = (sectors, 0.067, 0.5, uses, short, long, market_of, lasts)

    def multipliers(arrays: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        """The sectors' lasting part and multiplier, then the other uses' (no lasting parts without a long run)."""
        return (arrays[2] if lasts else NOTHING, arrays[0], arrays[3] if lasts else NOTHING, arrays[1])

    answer_prices(*terms, spin_up, 0.25, recovers, 0.01, *multipliers(one))
    bases, exponents = answer_terms(*terms)
    answer(bases, exponents, c_power(bases, exponents), market_of, 2, lasts, spin_up, 0.25, recovers, 0.01,
           *multipliers(apart))
    assert all(a.tobytes() == b.tobytes() for a, b in zip(one, apart))
    assert not np.array_equal(one[0], start[0])
    if lasts and spin_up:
        assert (one[2] == 1.0).all() and (one[3] == 1.0).all()


def c_power(bases: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """``bases ** exponents`` element by element by the C library's power (``math.pow``), which the kernels use:
    NumPy's own equals it only on processors without AVX-512 (``sim.kernels.prices``)."""
    return np.array([math.pow(b, e) for b, e in zip(bases.ravel(), exponents.ravel())]).reshape(bases.shape)


def c_library(function, x: np.ndarray) -> np.ndarray:
    """``function`` (``math.log``, ``math.exp``: the C library's) of each element of ``x``."""
    return np.array([function(v) for v in x.ravel()]).reshape(x.shape)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), by_trial=st.booleans(), spin_up=st.booleans(), follows=st.booleans(),
       magnets=st.booleans())
def test_a_step_s_prices_in_one_call_are_its_terms_raised_and_capped_kernel_by_kernel(seed, by_trial, spin_up,
                                                                                      follows, magnets):
    """Two markets, five countries: a step's prices in one compiled call (``market_prices``) are, to the bit, its
    terms (``price_terms``), each raised by the C library's power, pressed together (``pressure``), capped or,
    by trial, moved in logs (``adjust``, the C library's log and exp; 0 in the spin-up), and priced
    (``element_prices``); the markets' memories (scarcity, surplus, the opening's, the price by trial, the
    recent price, magnet scarcity) are left alike."""
    rng = np.random.default_rng(seed)
    C, E, G, M, Q = 5, 4, 3, 2, 6
    market_of = np.array([0, 1, 1, 0, 1])
    claims = rng.uniform(0.0, 50.0, (C, E))
    arrays = dict(claims=claims, supplied=claims * rng.uniform(0.3, 1.0, (C, E)), sunk=rng.uniform(0, 5, (C, E)),
                  use=rng.uniform(0.0, 3.0, (C, E)), oxide=sparse_tagged(rng, C, E)[:, :Q],
                  pile=sparse_tagged(rng, C, E)[:, :Q], scarcity=rng.uniform(0, 0.5, (M, E)),
                  surplus=rng.uniform(0, 0.3, (M, E)), opening_cover=rng.uniform(20, 90, (M, E)),
                  opening_scarcity=rng.uniform(0, 0.1, (M, E)), opening_surplus=rng.uniform(0, 0.1, (M, E)),
                  magnet_claims=rng.uniform(0, 9, (C, G)) if magnets else NOTHING,
                  magnet_supplied=rng.uniform(0, 5, (C, G)), magnet_scarcity=rng.uniform(0, 0.4, (M, G)),
                  log_multiple=rng.uniform(-1, 1, (M, E)) if by_trial else NOTHING,
                  recent_price=rng.uniform(10, 900, (M, E)) if follows else NOTHING)
    one, apart = ({k: v.copy() for k, v in arrays.items()} for _ in range(2))
    initial_price, cap, years = rng.uniform(5, 900, E), 10.0, 7 / 365

    got = market_prices(*terms_of(one, market_of, spin_up), cap, by_trial, one["log_multiple"], years, 3.0, 0.5,
                        initial_price, follows, one["recent_price"], 0.1)
    bases, exponents = price_terms(*terms_of(apart, market_of, spin_up))
    raised = c_power(bases, exponents)
    push = pressure(bases, exponents, raised, M, E)
    if not by_trial:
        multiple = capped(push, cap)
    elif spin_up:
        apart["log_multiple"][:] = 0.0
        multiple = np.ones((M, E))
    else:
        adjust(apart["log_multiple"], c_library(math.log, push), years, 3.0, 0.5, math.log(cap))
        multiple = c_library(math.exp, apart["log_multiple"])
    price = element_prices(multiple, initial_price, follows, apart["recent_price"], spin_up, 0.1)
    for a, b in zip(got, (price, multiple, bases, exponents, raised)):
        assert a.tobytes() == b.tobytes()
    assert all(one[k].tobytes() == apart[k].tobytes() for k in arrays)
    assert spin_up or not np.array_equal(got[1], np.ones((M, E)))      # the spin-up is the world at rest


def terms_of(a: dict, market_of: np.ndarray, spin_up: bool) -> tuple:
    """``price_terms``' arguments from the arrays of the test above: of orders, no news, elasticities 0.6 (scarcity),
    0.4 (stock) and 0.8 (surplus), moving a quarter of the way a step."""
    return (a["claims"], a["supplied"], a["sunk"], a["use"], a["oxide"], a["pile"], market_of, a["scarcity"],
            a["surplus"], 0.25, a["opening_cover"], a["opening_scarcity"], a["opening_surplus"], spin_up, True, NOTHING,
            0.6, 0.4, 0.8, a["magnet_claims"], a["magnet_supplied"], a["magnet_scarcity"])


def sparse_tagged(rng: np.random.Generator, countries: int, items: int) -> np.ndarray:
    """Tagged mass [C, 1 + 4 C, X] whose provenance rows mostly hold nothing, as a run's stocks do, and one
    country with nothing at all."""
    rows = rng.random((countries, 1 + 4 * countries, items)) * (rng.random((countries, 1 + 4 * countries, 1)) < 0.2)
    rows[:, 0, :] = rng.random((countries, items))
    rows[-1] = 0.0
    return rows


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_taking_a_share_skips_only_what_holds_nothing(seed):
    """Rows and countries that hold nothing, or that nothing is taken from, are passed over: what is taken and
    what stays are the dense arithmetic's, share x held and held - share x held, bit for bit."""
    rng = np.random.default_rng(seed)
    stock = sparse_tagged(rng, 4, 5)
    amount = rng.random((4, 5)) * (rng.random((4, 5)) < 0.5)
    amount[1] = 0.0
    share = np.where(stock[:, 0, :] > 0, np.minimum(1.0, amount / np.where(stock[:, 0, :] > 0, stock[:, 0, :], 1)), 0)
    expected = share[:, None, :] * stock
    left = stock - expected
    taken = TaggedFlow(*take_share(stock, *live_rows(stock), amount))
    assert (taken.dense(stock.shape[1]) == expected).all() and (stock == left).all()
    assert (taken.mass == expected[:, 0, :]).all()
    assert (np.diff(taken.at) > 0).all() and (taken.values != 0).any(axis=1).all()   # the rows that hold anything


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_flow_added_into_stocks_counts_the_rows_that_come_to_hold_anything_and_no_others(seed):
    """A flow's entries added country by country: the stocks are the dense sums, and a row is counted when it
    comes to hold anything; one that is sent zeros, or whose mass is taken back to nothing, counts as before."""
    rng = np.random.default_rng(seed)
    stock = sparse_tagged(rng, 4, 5)
    counted, count = live_rows(stock)
    before = [set(counted[c, :count[c]]) for c in range(4)]
    at = np.flatnonzero(rng.random(stock.shape[0] * stock.shape[1]) < 0.3)        # ascending: c Q + q
    values = rng.random((len(at), 5)) * (rng.random((len(at), 1)) < 0.7)           # some send zeros
    held = stock.reshape(-1, 5)[at]
    back = rng.random(len(at)) < 0.2                                                # some take all back
    values[back] = -held[back]
    expected = stock.copy().reshape(-1, 5)
    expected[at] += values
    add_entries(stock, counted, count, at, values)
    assert (stock.reshape(-1, 5) == expected).all()
    for c in range(4):
        now = set(np.flatnonzero((stock[c] != 0).any(axis=1)))
        assert list(counted[c, :count[c]]) == sorted(before[c] | now)


def stamped_into(stock: np.ndarray, rows: np.ndarray, scale: np.ndarray, kind_row: int,
                 touched_row: int) -> tuple[TaggedFlow, np.ndarray, np.ndarray]:
    """Each country's ``rows`` [C, Q, X] that hold anything x its ``scale`` [C, X], stamped (``add_stamped``) and
    added into ``stock`` in place: the flow made, and the stock's counted rows."""
    countries, X = scale.shape
    counted, count = live_rows(stock)
    at, values, mass, e = np.empty(rows.size, np.int64), np.empty((rows.size, X)), np.zeros((countries, X)), 0
    for c in range(countries):
        source = np.flatnonzero((rows[c] != 0).any(axis=1) | (np.arange(rows.shape[1]) == 0))
        e = add_stamped(stock, counted, count, c, source, rows[c, source], scale[c], kind_row, touched_row, at,
                        values, mass, e)
    return TaggedFlow(mass, at[:e], values[:e]), counted, count


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_new_mass_is_stamped_and_added_as_stamp_then_add_would(seed):
    """Separation's oxides and magnet plants' magnets: each country's rows x a scale, stamped as processed there
    and added to its stock in one pass, give what scaling, ``stamp`` and adding the dense arrays give."""
    rng = np.random.default_rng(seed)
    countries, kind_row, touched_row = 3, 1 + 2 * 3, 1 + 3 * 3
    rows, stock = sparse_tagged(rng, countries, 4), sparse_tagged(rng, countries, 4)
    scale = rng.random((countries, 4))
    new = rows * scale[:, None, :]
    stamp(new, kind_row, touched_row)
    expected = stock + new
    made, counted, count = stamped_into(stock, rows, scale, kind_row, touched_row)
    assert (made.dense(rows.shape[1]) == new).all() and (stock == expected).all() and (made.mass == new[:, 0]).all()
    assert all(set(counted[c, :count[c]]) >= set(np.flatnonzero((stock[c] != 0).any(axis=1))) for c in range(3))


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(["mined", "refined", "made"]))
def test_a_stage_whose_rows_a_run_does_not_keep_is_stamped_touched_alone_and_every_other_row_is_the_same(seed, kind):
    """A run that keeps fewer kinds of provenance (``Tags.written`` -1): stamping new mass, adding it where it was
    made, and stamping a stock write that kind's rows not at all, and every other row to the bit as the run
    that keeps it (a run that never wrote that kind holds none of it)."""
    from sim.world.provenance import Tags

    rng = np.random.default_rng(seed)
    countries, tags = 3, Tags(3)
    block, touched_row = tags.kind(kind), tags.row("touched", 0)
    rows, stock, mass = sparse_tagged(rng, countries, 4), sparse_tagged(rng, countries, 4), rng.random((countries, 4))
    rows[:, block], stock[:, block] = 0.0, 0.0
    scale = rng.random((countries, 4))
    made, stocks = [], []
    for kind_row in (tags.row(kind, 0), -1):
        into, new, origin = stock.copy(), rows * scale[:, None, :], np.zeros_like(stock)
        stamp(new, kind_row, touched_row)
        add_origin(origin, *live_rows(origin), mass, kind_row, touched_row)
        made.append(stamped_into(into, rows, scale, kind_row, touched_row)[0].dense(rows.shape[1]))
        stocks.append((into, new, origin))
    for kept, lean in zip([made[0], *stocks[0]], [made[1], *stocks[1]]):
        assert (lean[:, block] == 0).all()
        kept[:, block] = 0.0
        assert kept.tobytes() == lean.tobytes()


def every_row(tagged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A count of rows that may hold anything with every row in it: the kernels then visit all of them."""
    C, Q = tagged.shape[:2]
    return np.tile(np.arange(Q), (C, 1)), np.full(C, Q)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_exports_leave_with_the_goods_and_stocks_of_visiting_every_row(seed):
    """Exports visit only the rows of their suppliers' stocks that may hold anything and carry their goods at
    those rows: made whole, the goods, and the stocks and order books left, are those of visiting every row,
    bit for bit."""
    from sim.kernels.exports import leave_stock
    from sim.kernels.tagged import spread
    rng = np.random.default_rng(seed)
    stock = sparse_tagged(rng, 5, 3)
    shipped = rng.random((5, 5, 3)) * (rng.random((5, 5, 3)) < 0.3)
    whole, pipeline = stock.copy(), np.zeros((5, 3))
    carried = (shipped != 0).any(axis=2)
    (b, j), rows, goods = leave_stock(stock, *live_rows(stock), shipped, carried, pipeline)
    (b_all, j_all), rows_all, goods_all = leave_stock(whole, *every_row(whole), shipped, np.ones((5, 5), bool),
                                                      np.zeros((5, 3)))
    assert np.array_equal(b, b_all) and np.array_equal(j, j_all)
    assert np.array_equal(spread(rows, goods, stock.shape[1]), spread(rows_all, goods_all, stock.shape[1]))
    assert np.array_equal(stock, whole) and rows.shape[1] < stock.shape[1]


def test_a_run_without_compilation_gives_the_same_tables(tmp_path):
    """NUMBA_DISABLE_JIT=1 (for a debugger) runs the kernels as Python: a short Japan ban's tables are those of
    the compiled run, number for number."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", SHORT_RUN, str(tmp_path)], cwd=ROOT, env=env, check=True)
    compiled = sim.run(sim.load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end="2025-03-31").tables("step")
    assert compiled
    for name, frame in compiled.items():
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"), frame, check_exact=True,
                                      check_dtype=False, check_categorical=False)


def a_market(rng: np.random.Generator, countries: int = 5, items: int = 3) -> dict[str, np.ndarray]:
    """A small market a step into the calendar: stocks, order books, use averages and sourcing shares (a few
    routes per buyer), what measures block or move, remembered shortages, supplier qualifications."""
    by_item, routes = (countries, items), (countries, countries, items)
    return dict(tagged=rng.random((countries, 4, items)) * 50, pipeline=rng.random(by_item) * 10,
                use_all=rng.random(by_item) * 2, use_own=rng.random(by_item), use_normal=rng.random(by_item) * 2,
                shares=rng.random(routes) * (rng.random(routes) < 0.4), own_use=rng.random(by_item) * 5,
                blocked=(rng.random(routes) < 0.2) * 1.0, tariffed=(rng.random(routes) < 0.2) * 0.5,
                qualified=rng.random(routes) < 0.5, makers=rng.random(countries) < 0.7,
                refused=rng.random(by_item) * (rng.random(by_item) < 0.3), shortage=rng.random(by_item) * 0.5,
                learnt=rng.random(routes), qualifying=np.zeros((countries, 2), bool))


def cleared(m: dict[str, np.ndarray], quotas: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
            ) -> tuple[list[np.ndarray], np.ndarray]:
    """Clear ``m`` (in place), cut to ``quotas`` (shares [n, B, J, I], per importer [n], allowance [n, B]; None:
    none) and learn from it, in one call (``clear_market``). Returns every array the step wrote and the pairs
    starting to qualify."""
    from sim.kernels import clearing
    countries, items = m["pipeline"].shape
    figures = np.empty((6, countries, items))
    shipped = np.zeros((countries, countries, items))
    carried = np.zeros((countries, countries), bool)
    if quotas is None:
        quotas = np.zeros((0, countries, countries, items)), np.zeros(0, bool), np.zeros((0, countries))
    starting = clearing.clear_market(
        m["tagged"], m["pipeline"], m["use_all"], m["use_own"], m["use_normal"], np.full(countries, 30.0),
        np.full(countries, 20.0), np.zeros((0, 0)), 40.0, 0.25, 0.5, m["shortage"], np.zeros((0, 0)),
        np.zeros(countries, np.int64), 0.0, 28.0, 7.0, m["shares"], *clearing.routes(m["shares"]), m["own_use"],
        m["blocked"], m["tariffed"], m["qualified"], m["makers"], m["refused"], figures, shipped, carried, *quotas,
        m["learnt"], True, True, 0.9, 0.005, 28.0, 365.0, m["qualifying"], np.array([14.0, 14.0, 60.0]), True)
    assert not shipped[~carried].any()          # every route that carries anything is marked
    return [*figures, shipped, *m.values(), *quotas], starting


def numpy_quota_cut(shipped: np.ndarray, covered: np.ndarray, allowance: np.ndarray,
                    per_importer: bool) -> np.ndarray:
    """A quota's cut as NumPy wrote it (the engine's rule before it was compiled): the part of ``shipped`` beyond
    the ``allowance`` (in place: what is left), ``covered`` the share under quota."""
    under = shipped * covered
    used = under.sum(axis=(1, 2)) if per_importer else np.array([under.sum()])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(used > allowance, allowance / np.where(used > 0, used, 1.0), 1.0)
    cut = under * (1.0 - (scale[:, None, None] if per_importer else scale[0]))
    allowance -= np.minimum(used, allowance)
    return cut


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), items=st.sampled_from([1, 3]), per_importer=st.lists(st.booleans(),
                                                                                             min_size=1, max_size=2))
def test_quotas_cut_shipments_as_numpy_did_bit_for_bit(seed, items, per_importer):
    """Export quotas in turn cut the covered shipments beyond what each allows, pro rata (an importer's together,
    or all together); the cut is unmet and refused, and each allowance shrinks by what it let through: bit for
    bit what NumPy's arrays gave (sums over an importer's routes pairwise, over suppliers one after another)."""
    from sim.kernels.clearing import cut_to_quotas
    rng = np.random.default_rng(seed)
    B = 5
    shipped = rng.random((B, B, items)) * (rng.random((B, B, items)) < 0.5) * 10
    carried = (shipped != 0).any(axis=2)
    shares = (rng.random((len(per_importer), B, B, items)) < 0.6) * rng.choice([1.0, 0.5], (len(per_importer), B, B,
                                                                                             items))
    allowance = rng.random((len(per_importer), B)) * 8
    unmet, refused = rng.random((B, items)), rng.random((B, items))
    expected = [shipped.copy(), unmet.copy(), refused.copy(), allowance.copy()]
    for q, own in enumerate(per_importer):
        left = expected[3][q] if own else expected[3][q, :1]
        cut = numpy_quota_cut(expected[0], shares[q], left, own)
        if cut.any():
            expected[0] -= cut
            expected[1] += cut.sum(axis=1)
            expected[2] += cut.sum(axis=1)
    cut_to_quotas(shipped, carried, unmet, refused, shares, np.array(per_importer), allowance)
    got = [shipped, unmet, refused, allowance]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(got, expected))



@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), concentrate=st.booleans(), licences=st.integers(1, 3))
def test_licences_in_turn_hold_their_shares_of_what_the_ones_before_left_as_numpy_did_bit_for_bit(
        seed, concentrate, licences):
    """Each licence holds its share of a route's goods (by traded item; concentrate is one, t REO of its
    elements) out of what the licences before it left, none of a route where that is under a milligram: the
    routes where each holds anything, the goods held there, their t, the goods left and their mass are bit for
    bit what NumPy's arrays gave (``Shipment.take`` and the sums along the items)."""
    from sim.kernels.clearing import DUST_T
    from sim.kernels.exports import held_for_licences
    rng = np.random.default_rng(seed)
    C, n, L, X = 4, 6, 5, 3
    items = 1 if concentrate else X
    goods = rng.random((n, L, X)) * 10 * (rng.random((n, L, X)) < 0.7)
    goods[:, 0] = goods[:, 1:].sum(axis=1)                      # row 0: the mass
    buyer, supplier = rng.integers(0, C, n), rng.integers(0, C, n)
    shares = tuple(rng.choice([0.0, 0.3, 1.0, 1e-19], (C, C, items)) for _ in range(licences))
    left, held, ts = goods.copy(), [], []

    def traded(g):
        return g[:, 0, :].sum(axis=-1, keepdims=True) if concentrate else g[:, 0, :]
    for share in shares:
        cover = share[buyer, supplier]
        covered = (traded(left) * cover).sum(axis=1)
        cover = np.where(((covered > 0) & (covered < DUST_T))[:, None], 0.0, cover)
        part = left * cover[:, None, :]
        left = left - part
        held.append(part)
        ts.append(traded(part).sum(axis=1))
    first, routes, parts, t, *rest = held_for_licences(goods, buyer, supplier, shares, concentrate)
    for k, (part, part_t) in enumerate(zip(held, ts)):
        these = slice(first[k], first[k + 1])
        assert routes[these].tolist() == np.flatnonzero(part_t > 0).tolist()
        assert parts[these].tobytes() == part[routes[these]].tobytes()
        assert t[these].tobytes() == part_t[routes[these]].tobytes()
    assert first[-1] == len(routes)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(rest, (left, left[:, 0, :].sum(axis=1))))


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), users=st.sampled_from(["all", "civil", "defence"]), origin=st.booleans(),
       items=st.sampled_from([1, 3, 11]))
def test_a_measure_covers_its_mask_times_its_end_users_share_times_the_origin_test_as_numpy_did(
        seed, users, origin, items):
    """What a measure covers of each shipment: its mask of routes and items, times the share of each buyer's use
    of the end users it covers (the defence share, or 1 - it), times 1 or 0 by the goods' origin where a rule
    reads it: bit for bit NumPy's broadcast products, in their order."""
    from sim.engine.transit import END_USERS
    from sim.kernels.markets import covered_share
    rng = np.random.default_rng(seed)
    C = int(rng.integers(1, 8))
    mask = rng.choice([0.0, 1.0, 0.35], (C, C, items))
    defence = rng.random((C, items)) * (rng.random((C, items)) < 0.7)
    above = rng.choice([0.0, 1.0], (C, items)) if origin else np.zeros((0, 0))
    expected = mask if users == "all" else mask * (defence if users == "defence" else 1.0 - defence)[:, None, :]
    if origin:
        expected = expected * above[None, :, :]
    assert covered_share(mask, END_USERS.index(users), defence, above).tobytes() == expected.tobytes()


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), licences=st.integers(1, 4), items=st.sampled_from([1, 2, 10]),
       suppliers=st.integers(1, 40))
def test_what_licences_hold_of_a_steps_shipments_is_numpys_sum_bit_for_bit(seed, licences, items, suppliers):
    """Licences hold, by buyer and item, the sum over suppliers of their shares of each shipment, at most the
    shipment (a route under two licences held once): bit for bit what NumPy's arrays gave, along the suppliers one
    after another, or pairwise where the stage has one item (magnitudes from 1e-8 to 1e6 t)."""
    from sim.kernels.exports import held_by_licences
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 25)), suppliers, items)
    shipped = rng.random(shape) * 10.0 ** rng.uniform(-8, 6, shape) * (rng.random(shape) < 0.3)
    shares = tuple(rng.choice([0.0, 0.25, 0.7, 1.0], shape) for _ in range(licences))
    numpy = np.minimum(sum((share * shipped for share in shares), np.zeros_like(shipped)), shipped).sum(axis=1)
    assert held_by_licences(shares, shipped).tobytes() == numpy.tobytes()


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_quota_that_allows_more_than_is_shipped_leaves_the_market_as_none(seed):
    """A market cleared under a quota whose allowance covers every shipment leaves every order, shipment, use
    average, memory of shortage and qualification as without it, bit for bit; its allowance shrinks by what it
    let through. One that allows nothing ships none of what it covers."""
    market = a_market(np.random.default_rng(seed))
    B, _, items = market["shares"].shape
    free, starting_free = cleared({k: v.copy() for k, v in market.items()})
    covers = np.ones((1, B, B, items))
    ample = cleared({k: v.copy() for k, v in market.items()}, (covers, np.array([False]), np.full((1, B), 1e9)))
    assert all(np.array_equal(a, b) for a, b in zip(free[:-3], ample[0][:-3]))
    assert np.array_equal(starting_free, ample[1])
    shipped = free[6]
    assert ample[0][-1][0, 0] == 1e9 - shipped.sum()
    none, _ = cleared({k: v.copy() for k, v in market.items()}, (covers, np.array([True]), np.zeros((1, B))))
    assert not none[6].any()


def test_routes_whose_goods_come_to_nothing_leave_no_shipment():
    """A supplier with nothing in stock sends nothing on an order it was shipped: that route is no shipment, and
    the buyer's order book does not move; the others' goods leave and go on their buyers' books."""
    from sim.kernels.exports import leave_stock
    tagged = np.array([[[10.0, 20.0]], [[0.0, 0.0]], [[4.0, 0.0]]])       # [C, Q, X]: supplier 1 holds nothing
    shipped = np.zeros((3, 3, 2))
    shipped[0, 1] = [1.0, 1.0]                                              # from the empty stock
    shipped[1, 0] = [5.0, 10.0]
    shipped[1, 2, 0] = 2.0
    pipeline = np.zeros((3, 2))
    (buyer, supplier), rows, goods = leave_stock(tagged, *live_rows(tagged), shipped, (shipped != 0).any(axis=2),
                                                 pipeline)
    assert list(zip(buyer, supplier)) == [(1, 0), (1, 2)]
    assert np.array_equal(goods[:, 0], [[5.0, 10.0], [2.0, 0.0]])
    assert np.array_equal(pipeline, [[0.0, 0.0], [7.0, 10.0], [0.0, 0.0]])
    assert np.array_equal(tagged[:, 0], [[5.0, 10.0], [0.0, 0.0], [2.0, 0.0]])


def test_the_kernels_count_as_compiled_once_cached_and_not_with_an_empty_cache(tmp_path):
    sim.run(SCENARIOS / "baseline.yaml", end="2025-01-31")       # compiled (or loaded) here
    assert sim.kernels.compiled()
    empty = subprocess.run([sys.executable, "-c", "import sim.kernels as k; print(k.compiled())"],
                           env=os.environ | {"NUMBA_CACHE_DIR": str(tmp_path)}, capture_output=True, text=True,
                           check=True, cwd=ROOT)
    assert empty.stdout.strip() == "False"


# a script's part that prints the name of each kernel the process compiles (none: all loaded from the cache)
SAY_WHAT_IS_COMPILED = """

class Compiled(event.Listener):
    def on_start(self, happened):
        print(happened.data["dispatcher"].py_func.__name__)

    def on_end(self, happened):
        pass


event.register("numba:compile", Compiled())
"""

COMPILED_HERE = """
import sys
import numpy as np
from numba.core import event
import sim.kernels
if len(sys.argv) > 1:                      # the kernel files as another version of them reads
    sim.kernels.package_digest = lambda: sys.argv[1]
from sim.kernels.sums import row_sums
""" + SAY_WHAT_IS_COMPILED + """
row_sums(np.ones((2, 2)))
"""


def _compiled_in_a_new_process(script: Path, cache: Path, *digest: str) -> list[str]:
    """The kernels a new process compiles to sum rows (an empty list: all loaded from ``cache``)."""
    return subprocess.run([sys.executable, str(script), *digest], env=os.environ | {"NUMBA_CACHE_DIR": str(cache)},
                          capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()


def test_a_kernel_cached_from_other_kernel_files_is_compiled_anew_not_loaded(tmp_path):
    """Numba checks a kernel's own file only: a kernel compiled into others (``sums.pairwise_sum``) would, once
    edited, leave its callers running its old code from their cache. A kernel cached by a process that read
    other kernel files (before an edit or an update, or after) is compiled anew; one cached from the same files
    is loaded."""
    script = tmp_path / "sum_rows.py"
    script.write_text(COMPILED_HERE)
    cache = tmp_path / "cache"
    assert _compiled_in_a_new_process(script, cache, "0" * 64)[0] == "row_sums"
    assert _compiled_in_a_new_process(script, cache)[0] == "row_sums"
    assert _compiled_in_a_new_process(script, cache) == []


def test_a_t_of_magnet_carries_its_recipe_s_provenance_in_its_maker_s_oxide_stock():
    """A maker's t of magnet holds, at each provenance row of its oxide stock, each element's share of that row
    weighted by the element's share of the recipe's content; countries that plan no magnets are no makers, and an
    element the stock holds none of adds nothing."""
    oxide = np.zeros((3, 3, 3))                           # [C, Q, E]: row 0 the mass, rows 1 and 2 two origins
    oxide[0, :, 0] = [10.0, 6.0, 4.0]                     # element 0: 6 t from origin 1, 4 t from origin 2
    oxide[0, :, 1] = [5.0, 5.0, 0.0]                      # element 1: all from origin 1; element 2: none held
    oxide[1, :, 0] = [8.0, 8.0, 0.0]                      # country 1 plans no magnets
    plan = np.array([[2.0], [0.0], [0.0]])                # [C, G]
    recipe_shares = np.array([[0.5, 0.25, 0.25]])         # [G, E]
    makers, rows, count, content = recipe_content(plan, oxide, *live_rows(oxide), recipe_shares)
    assert list(makers) == [0] and list(rows[0, :count[0]]) == [0, 1, 2]
    assert np.array_equal(content[0, :, 0], [1.0, 0.6 * 0.5 + 1.0 * 0.25, 0.4 * 0.5])


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), suppliers=st.integers(1, 6))
def test_the_largest_covered_share_over_suppliers_is_numpy_s(seed, suppliers):
    """A measure's largest covered share of a buyer's orders of an item, over its suppliers (what licences and
    front-loading add days for), is ``share.max(axis=1)``: shares of 0 and 1 and in between, most of them 0."""
    rng = np.random.default_rng(seed)
    share = rng.choice([0.0, 0.0, 0.0, 1.0, 0.5], size=(5, suppliers, 3)) * rng.random((5, suppliers, 3))
    assert np.array_equal(most_covered(share), share.max(axis=1))


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sectors=st.integers(1, 9), grades=st.integers(1, 5))
def test_end_use_demand_by_sector_and_grade_is_numpy_s_arithmetic_to_the_bit(seed, sectors, grades):
    """A step's end-use demand, t magnet by sector (units x kg per unit / 1000 x days x the multiplier, NumPy's
    order) and by grade (each sector's share of a grade multiplied, then added sector by sector, as einsum adds
    them where it does not fuse the two; with one grade, einsum's own): magnitudes far apart, many zeros."""
    rng = np.random.default_rng(seed)
    units = rng.random((6, sectors)) * 10.0 ** rng.uniform(-3, 6, (6, sectors)) * (rng.random((6, sectors)) < 0.7)
    kg = rng.uniform(0.01, 600.0, sectors)
    multiplier = rng.uniform(0.2, 1.5, (6, sectors))
    shares = rng.random((6, sectors, grades)) * (rng.random((6, sectors, grades)) < 0.5)
    net = SimpleNamespace(demand_units_per_day=units[None], magnet_kg_per_unit=kg)
    by_sector, by_grade = magnet_demand(net, shares, 0, multiplier, 7.0)
    assert by_sector.tobytes() == (units * kg / 1000.0 * 7.0 * multiplier).tobytes()
    added = np.zeros((6, grades))
    for s in range(sectors):                 # NumPy's scalar multiply, then add: no fused multiply-add
        added = added + by_sector[:, s:s + 1] * shares[:, s, :]
    if grades > 1:
        assert by_grade.tobytes() == added.tobytes()
    else:
        assert np.allclose(by_grade, added, rtol=1e-14, atol=0.0)



@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sectors=st.integers(1, 9), grades=st.integers(1, 4))
def test_defence_shares_of_use_are_numpy_s_arithmetic_to_the_bit(seed, sectors, grades):
    """Defence sectors' share of each country's use of magnets by grade, of oxides and of concentrate (what
    measures on civil or defence users cover): the NumPy formulas' bits, 0 where a country uses nothing."""
    from sim.kernels.end_use import defence_shares, magnets_by_grade
    from sim.kernels.products import matmul
    rng = np.random.default_rng(seed)
    C, E = 6, 5
    by_sector = rng.random((C, sectors)) * 10.0 ** rng.uniform(-3, 4, (C, sectors)) * (rng.random((C, sectors)) < 0.7)
    defence = rng.random(sectors) < 0.4
    sector_grades = rng.random((C, sectors, grades)) * (rng.random((C, sectors, grades)) < 0.6)
    by_grade = magnets_by_grade(by_sector, sector_grades)
    country_yield = rng.uniform(0.5, 1.0, C)
    recipe = rng.random((grades, E)) * (rng.random((grades, E)) < 0.5)
    non_magnet = rng.random((C, E)) * (rng.random((C, E)) < 0.5)
    got = defence_shares(by_sector, by_grade, defence, sector_grades, country_yield, recipe, non_magnet, 7.0)
    d = magnets_by_grade(by_sector * defence[None], sector_grades)
    oxide = matmul(by_grade / country_yield[:, None], recipe) + non_magnet * 7.0
    oxide_d = matmul(d / country_yield[:, None], recipe)
    total = oxide.sum(axis=1, keepdims=True)
    expected = (np.where(by_grade > 0, d / np.where(by_grade > 0, by_grade, 1), 0.0),
                np.where(oxide > 0, oxide_d / np.where(oxide > 0, oxide, 1), 0.0),
                np.where(total > 0, oxide_d.sum(axis=1, keepdims=True) / np.where(total > 0, total, 1), 0.0))
    assert all(a.tobytes() == b.tobytes() for a, b in zip(got, expected))


FIRST_CALLS = """
import numpy as np
from numba.core import event
from sim.kernels.markets import most_covered
from sim.kernels.sums import row_sums
""" + SAY_WHAT_IS_COMPILED + """
row_sums(np.ones((2, 2)))
most_covered(np.zeros((2, 2, 2)))
"""


def test_kernels_compiled_into_numbas_cache_on_two_processes_are_loaded_by_a_run_not_compiled_again(tmp_path):
    """``precompile`` compiles a list other than the package's (which ``ahead`` serves) into an empty cache of
    Numba's, split over two processes, passing over a line the kernels no longer match (a changed argument
    list); a new process then loads them at its first calls, compiling none."""
    listed = tmp_path / "signatures.txt"
    listed.write_text("# seconds\tkernel\ttypes\n"
                      "0.50\tsums.row_sums\t(Array(float64, 2, 'C', False, aligned=True),)\n"
                      "0.30\tsums.row_sums\t(float64, float64, float64)\n"       # before most_covered, its share
                      "0.20\tmarkets.most_covered\t(Array(float64, 3, 'C', False, aligned=True),)\n",
                      encoding="utf-8")
    script, cache = tmp_path / "first_calls.py", tmp_path / "cache"
    script.write_text(FIRST_CALLS)
    env = os.environ | {"NUMBA_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-c", f"import sim.kernels as k; k.precompile(2, {str(listed)!r})"], env=env,
                   check=True, cwd=ROOT)
    compiled = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True,
                              cwd=ROOT).stdout.split()
    assert compiled == []
    without = subprocess.run([sys.executable, str(script)], env=os.environ | {"NUMBA_CACHE_DIR": str(tmp_path / "new")},
                             capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    assert {"row_sums", "most_covered"} <= set(without)        # with an empty cache, the same calls compile


SMALL_LIST = ("# seconds\tkernel\ttypes\n"
              "0.50\tsums.row_sums\t(Array(float64, 2, 'C', False, aligned=True),)\n"
              "0.30\tsums.row_sums\t(float64, float64, float64)\n"          # a line the kernel no longer matches
              "0.20\tmarkets.most_covered\t(Array(float64, 3, 'C', False, aligned=True),)\n")

# builds the small list ahead (two libraries), then calls what they hold beside the kernels Numba compiles
AHEAD_AGAINST_NUMBA = """
import importlib.util, sys
from pathlib import Path
import numpy as np
from sim.kernels import ahead, signatures
from sim.kernels.markets import most_covered
from sim.kernels.sums import row_sums

listed = Path(sys.argv[1])
print(ahead.build(2, listed), ahead.state(listed))
exports = {}
for library in ahead.parts(ahead.folder(), ahead.key(signatures(listed))):
    spec = importlib.util.spec_from_file_location(library.name.split(".")[0], library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    exports |= {name: getattr(module, name) for name in dir(module) if name[0] == "k" and name[1:].isdigit()}
print(len(ahead.parts(ahead.folder(), ahead.key(signatures(listed)))), *sorted(exports))
x = np.random.default_rng(0).random((5, 300)) * 1e6 - 3e5
share = np.random.default_rng(1).random((4, 3, 6))
print(row_sums(x).tobytes() == exports["k0"](x).tobytes(), most_covered(share).tobytes() == exports["k2"](share).tobytes())
"""


def test_a_list_compiled_ahead_in_two_libraries_computes_what_numba_compiles_bit_for_bit(tmp_path):
    """``ahead.build`` compiles a list into libraries of this machine's (one a process), leaving out a line the
    kernels no longer match; what they hold returns the bytes the kernels compiled by Numba return."""
    listed = tmp_path / "signatures.txt"
    listed.write_text(SMALL_LIST, encoding="utf-8")
    said = subprocess.run([sys.executable, "-c", AHEAD_AGAINST_NUMBA, str(listed)], capture_output=True, text=True,
                          env=os.environ | {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}, cwd=ROOT)
    assert said.returncode == 0, said.stderr
    assert said.stdout.split("\n")[:3] == ["True built", "2 k0 k2", "True True"]


# kernels made (and one called) before the list is built ahead, then called
MADE_BEFORE_THE_BUILD = """
import sys
from pathlib import Path
import numpy as np
from numba.core import event
from sim.kernels import ahead
from sim.kernels.markets import most_covered
from sim.kernels.sums import row_sums
""" + SAY_WHAT_IS_COMPILED + """
most_covered(np.zeros((2, 2, 2)))
print("built", ahead.build(1, Path(sys.argv[1])))
row_sums(np.ones((2, 2)))
most_covered(np.zeros((2, 2, 2)))
"""


def test_kernels_made_before_their_build_ahead_are_served_by_it_in_the_same_process(tmp_path):
    """A first run on a machine imports the engine (its kernels made, nothing built to serve them) before it
    builds them ahead: the kernels then call what was built, and compile nothing more (the one called before
    was compiled then)."""
    listed = tmp_path / "signatures.txt"
    listed.write_text(SMALL_LIST, encoding="utf-8")
    said = subprocess.run([sys.executable, "-c", MADE_BEFORE_THE_BUILD, str(listed)], capture_output=True, text=True,
                          env=os.environ | {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}, cwd=ROOT)
    assert said.returncode == 0, said.stderr
    before, after = said.stdout.split("built True")
    assert "most_covered" in before.split() and after.split() == []


def test_a_build_ahead_that_fails_leaves_a_note_and_is_not_tried_again(tmp_path):
    """Without a C compiler (here one that does not exist) the build says False and why, in a note beside
    the kernels' cache (Numba's message, which names the compiler it looked for); asked again, it does not
    try: the kernels run from Numba's cache."""
    listed = tmp_path / "signatures.txt"
    listed.write_text(SMALL_LIST, encoding="utf-8")
    build = ("import sys, time; from pathlib import Path; from sim.kernels import ahead; f = Path(sys.argv[1]); "
             "print(ahead.build(1, f), ahead.state(f)); t = time.perf_counter(); print(ahead.build(1, f), "
             "time.perf_counter() - t < 1); print(ahead.failed_note(ahead.folder(), ahead.key(__import__("
             "'sim.kernels').kernels.signatures(f))).read_text())")
    said = subprocess.run([sys.executable, "-c", build, str(listed)], capture_output=True, text=True, cwd=ROOT,
                          env=os.environ | {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "CC": "/no/such/cc"})
    assert said.returncode == 0, said.stderr
    first, again, *note = said.stdout.split("\n")
    assert (first, again) == ("False failed", "False True")
    assert "compiler" in "\n".join(note)


def test_a_build_ahead_cut_short_halfway_does_not_count_as_built():
    """A Ctrl-C between the two libraries' moves leaves one: the next first run builds both again."""
    from sim.kernels.ahead import SUFFIX, whole

    both = [Path(f"ahead_abc_{part}of2{SUFFIX}") for part in (0, 1)]
    assert whole(both) and not whole(both[:1]) and not whole([])
    assert not whole([Path(f"ahead_abc_0of2{SUFFIX}"), Path(f"ahead_abc_0of1{SUFFIX}")])


def test_a_numba_whose_dispatchers_take_no_compiled_functions_leaves_the_kernels_to_its_cache():
    """Serving relies on a dispatcher's ``_insert``, which a later Numba may not have: then nothing is served,
    and nothing fails (the kernel compiles, or loads from Numba's cache, as it did)."""
    from sim.kernels import ahead

    if ahead.state() != "built":
        import pytest

        pytest.skip(f"the kernels are not compiled ahead here ({ahead.state()})")

    class Dispatcher:                                   # Numba's, less ``_insert``
        _cache = SimpleNamespace(_cache_path=str(ahead.folder()))

    dispatcher = Dispatcher()
    ahead.serve(dispatcher, "sums.row_sums")
    assert "_served_types" not in vars(dispatcher)


def test_a_served_kernel_that_numba_compiles_into_a_caller_keeps_one_function_for_python_s_calls(monkeypatch):
    """A function Numba compiles that calls a kernel (a kernel called with types the list does not name, whose
    body calls others) links in the kernel's own code, compiled for the served types; put beside the served
    function, it would leave Python's calls of the kernel choosing between two on a slow path (25 us a call
    where 1 us was). It is kept for the callers only: the caller computes the kernel's bytes, and nothing more
    is inserted into the kernel's dispatcher."""
    from numba import njit
    from numba.core.dispatcher import Dispatcher

    from sim.kernels import ahead
    from sim.kernels.sums import row_sums

    if ahead.state() != "built":
        import pytest

        pytest.skip(f"the kernels are not compiled ahead here ({ahead.state()})")
    x = np.random.default_rng(0).random((5, 300))
    served = row_sums(x)
    inserted = []
    insert = Dispatcher._insert
    monkeypatch.setattr(Dispatcher, "_insert", lambda self, *a: inserted.append(self) or insert(self, *a))
    caller = njit(lambda x: row_sums(x))
    assert caller(x).tobytes() == served.tobytes()
    assert caller in inserted and row_sums not in inserted
    assert row_sums(x).tobytes() == served.tobytes()


def test_kernels_are_not_compiled_ahead_when_switched_off():
    """``SIM_COMPILED_AHEAD=0`` (or Numba off): every kernel from Numba, as before."""
    said = subprocess.run([sys.executable, "-c", "from sim.kernels import ahead; print(ahead.state())"],
                          capture_output=True, text=True, check=True, cwd=ROOT,
                          env=os.environ | {"SIM_COMPILED_AHEAD": "0"})
    assert said.stdout.strip() == "off"


# a run, then the kernels that Numba compiled or loaded from its cache
RUN_THEN_NUMBAS = f"""
import importlib, pkgutil, sys
import pandas as pd
import sim, sim.kernels
from numba.core.dispatcher import Dispatcher
results = sim.run({str(SCENARIOS / "japan_ban.yaml")!r}, end="2026-09-30")
pd.to_pickle({{name: results.table(name) for name in results.TABLES}}, sys.argv[1])
print(*[f"{{info.name}}.{{name}}" for info in pkgutil.iter_modules(sim.kernels.__path__)
        for name, k in vars(importlib.import_module("sim.kernels." + info.name)).items()
        if isinstance(k, Dispatcher) and k.overloads])
"""


def test_a_run_with_the_kernels_compiled_ahead_loads_none_from_numba_and_gives_numbas_tables_bit_for_bit(tmp_path):
    """Where the package's list is compiled ahead (``tests/conftest.py`` builds it, where a C compiler is found),
    a Japan ban run takes every kernel from it, none from Numba; and its tables are those of the same run with
    every kernel from Numba (``SIM_COMPILED_AHEAD=0``), to the bit."""
    from sim.kernels import ahead

    if ahead.state() != "built":
        import pytest

        pytest.skip(f"the kernels are not compiled ahead here ({ahead.state()})")
    served = subprocess.run([sys.executable, "-c", RUN_THEN_NUMBAS, str(tmp_path / "ahead.pkl")], cwd=ROOT,
                            capture_output=True, text=True)
    assert served.returncode == 0, served.stderr
    assert served.stdout.split() == []
    numbas = subprocess.run([sys.executable, "-c", RUN_THEN_NUMBAS, str(tmp_path / "numba.pkl")], cwd=ROOT,
                            capture_output=True, text=True, env=os.environ | {"SIM_COMPILED_AHEAD": "0"})
    assert numbas.returncode == 0, numbas.stderr
    assert "clearing.clear_market" in numbas.stdout.split()      # these came from Numba
    ahead_tables, numba_tables = pd.read_pickle(tmp_path / "ahead.pkl"), pd.read_pickle(tmp_path / "numba.pkl")
    for name, table in numba_tables.items():
        pd.testing.assert_frame_equal(ahead_tables[name], table, check_exact=True)


def test_the_listed_kernels_are_shared_out_by_compile_time_each_once():
    """Shares of about equal compile time: the longest first, each to the share with the least so far."""
    listed = [sim.kernels.Signature(f"k.k{n}", "()", seconds) for n, seconds in enumerate([1.0, 5.0, 2.0, 4.0, 3.0])]
    split = sim.kernels.shares(listed, 2)
    assert [[s.seconds for s in share] for share in split] == [[5.0, 2.0, 1.0], [4.0, 3.0]]
    assert sorted(s.kernel for share in split for s in share) == sorted(s.kernel for s in listed)


def test_the_list_of_kernels_to_compile_ahead_names_every_kernel_the_shipped_scenarios_call():
    """``signatures.txt`` lists each kernel the shipped scenarios' runs (here to the end of 2028, past every dated
    event of theirs) call, with the types they call it with: else ``tools/kernel_signatures.py record``."""
    checked = subprocess.run([sys.executable, "tools/kernel_signatures.py", "check", "--end", "2028-12-31"],
                             capture_output=True, text=True, cwd=ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr


WITHOUT_SCIPY = f"""
import sys
import numpy as np
import sim
sim.run(sim.load_scenario({str(SCENARIOS / "japan_ban.yaml")!r}), seed=0, end="2024-03-31")
print("scipy.linalg" in sys.modules)
from numba import njit
print(njit(lambda a, b: np.dot(a, b))(np.eye(2), np.full((2, 2), 3.0)).sum(), "scipy.linalg" in sys.modules)
"""


def test_a_run_loads_its_kernels_without_scipy_s_linear_algebra_which_numba_still_loads_when_asked():
    """Numba's array math would import SciPy's linear algebra (0.15 s) as the first kernel loads, only to choose
    how np.cov takes inner products: a run leaves it unloaded, and compiled code that asks for np.dot afterwards
    in the same process still gets it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", WITHOUT_SCIPY], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout.split("\n")
    assert out[0] == "False"
    assert out[1] == "12.0 True"
