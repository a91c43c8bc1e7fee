"""A part of the step booked in one compiled call books what its terms and records, booked one by one, did."""
import numpy as np
import pytest

from sim import load_scenario
from sim.engine.flows import Flows
from sim.engine.ledger import NO_GOODS, NOT_SENT
from sim.engine.simulation import Simulation
from sim.errors import InvariantError
from sim.kernels.balance import CONSUMED, LOSSES, TERMS, add_content, add_losses, add_transit
from sim.kernels.booking import book_end_use, book_magnet_making, book_separation, book_term
from sim.kernels.sums import row_sums
from sim.results.sparse import SparseSteps, add_goods, put_sums

from .conftest import SCENARIOS

STEPS, C, Q, E, G, S = 6, 4, 5, 7, 3, 2


def tagged_flow(rng: np.random.Generator, items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mass [C, X], at [n], values [n, X]): a flow's provenance rows that may hold anything, some holding
    nothing, one -0.0."""
    at = np.flatnonzero(rng.random(C * Q) < 0.6)
    values = rng.random((len(at), items)) * 10 * (rng.random((len(at), 1)) > 0.2)
    values[0, 0] = -0.0
    dense = np.zeros((C * Q, items))
    dense[at] = values
    return dense.reshape(C, Q, items)[:, 0].copy(), at, values


def goods(rng: np.random.Generator, items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(buyer, supplier [m], goods [m, L, X]) on distinct routes, some carrying nothing."""
    m = int(rng.integers(1, 5))
    route = rng.choice(C * C, m, replace=False)
    cargo = rng.random((m, 3, items)) * 100 * (rng.random((m, 1, 1)) > 0.2)
    return route // C, route % C, cargo


class Books:
    """Accounts and records, booked by the fused kernels (``fused``) or one by one (``alone``)."""

    def __init__(self):
        self.terms = np.zeros((len(TERMS), E))
        self.transit_t = np.zeros(3)
        self.dense = {name: np.zeros(shape) for name, shape in (
            ("demand", (STEPS, C, S)), ("supplied", (STEPS, C, S)), ("losses", (STEPS, C)),
            ("other_uses", (STEPS, C, E)), ("made", (STEPS, C, G)), ("planned", (STEPS, C, G)),
            ("feed", (STEPS, C)), ("separated", (STEPS, C, E)), ("mined", (STEPS, C, E)))}
        self.sparse = {name: SparseSteps(STEPS, (3, C * Q) if name == "consumed" else (C * Q,))
                       for name in ("consumed", "used_t", "made_t", "made_reo")}
        self.exports = {stage: SparseSteps(STEPS, (C, C), (items,)) for stage, items in ((0, 1), (1, E), (2, G))}

    def departed(self, stage: int, sent: tuple | None) -> tuple:
        if sent is None:
            return NOT_SENT
        buyer, supplier, cargo = sent
        return (True, buyer, supplier, cargo, C, stage == 0, self.exports[stage].room_to_add(len(buyer)))

    def transit(self, stage: int, content: np.ndarray, leaving: np.ndarray | None) -> tuple:
        return (leaving is not None, stage, NO_GOODS if leaving is None else leaving, content,
                self.transit_t)

    def alone_exports(self, k: int, stage: int, content: np.ndarray, leaving, sent) -> None:
        if leaving is not None:
            add_transit(self.terms, self.transit_t, stage, leaving, content, 1.0)
        if sent is not None:
            add_goods(self.exports[stage], k, *sent, stage == 0)


def assert_same(fused: Books, alone: Books) -> None:
    """Every number the same, to the bit (a -0.0 where there was one)."""
    for a, b in [(fused.terms, alone.terms), (fused.transit_t, alone.transit_t),
                 *((fused.dense[n], alone.dense[n]) for n in fused.dense),
                 *((fused.sparse[n][:], alone.sparse[n][:]) for n in fused.sparse),
                 *((fused.exports[s][:], alone.exports[s][:]) for s in fused.exports)]:
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("seed", range(6))
def test_a_step_s_parts_booked_in_one_call_each_book_what_their_terms_and_records_did_one_by_one(seed):
    """End use, magnet making, separation, mining: step after step, with and without exports, some going to
    sea at once and some not; the balance's terms, the dense records and the sparse ones (across their
    chunks) come out the same as the calls they stand for made them."""
    rng = np.random.default_rng(seed)
    recipe, oxides = rng.random((G, E)) * 0.3, np.eye(E)
    recipe_reo = recipe.sum(axis=1)
    magnets_content = recipe
    fused, alone = Books(), Books()
    positions = C * Q
    for k in range(STEPS):
        # end use: magnets used, exports of magnets
        demand, supplied = rng.random((C, S)), rng.random((C, S))
        mass, at, values = tagged_flow(rng, G)
        leaving = None if k == 2 else rng.random((3, 2, G))
        sent = None if k in (2, 4) else goods(rng, G)
        f, a = fused, alone
        book_end_use(f.terms, recipe, k, demand, supplied, mass, positions, at, values, f.dense["demand"],
                     f.dense["supplied"], f.sparse["used_t"].room_to_put(len(at), positions),
                     f.sparse["consumed"].room_to_put(len(at), positions), recipe_reo,
                     f.transit(2, magnets_content, leaving), f.departed(2, sent))
        add_content(a.terms[CONSUMED], mass, recipe, 1.0)
        a.dense["demand"][k], a.dense["supplied"][k] = demand, supplied
        put_sums(k, positions, at, values, plain=(a.sparse["used_t"], 0),
                 weighted=(a.sparse["consumed"], 2, recipe_reo))
        a.alone_exports(k, 2, magnets_content, leaving, sent)

        # magnet making: other uses, swarf, magnets made, oxides used, exports of oxides
        other, into, made, planned = rng.random((C, E)), rng.random((C, E)), rng.random((C, G)), rng.random((C, G))
        _, made_at, made_values = tagged_flow(rng, G)
        _, used_at, used_values = tagged_flow(rng, E)
        leaving = rng.random((2, 3, E))
        sent = None if k == 3 else goods(rng, E)
        book_magnet_making(f.terms, recipe, oxides, k, other, into, made, planned, positions, made_at, made_values,
                           used_at, used_values,
                           (f.dense["losses"], f.dense["other_uses"], f.dense["made"], f.dense["planned"]),
                           f.sparse["made_t"].room_to_put(len(made_at), positions),
                           f.sparse["made_reo"].room_to_put(len(made_at), positions), recipe_reo,
                           f.sparse["consumed"].room_to_put(len(used_at), positions),
                           f.transit(1, oxides, leaving), f.departed(1, sent))
        add_content(a.terms[CONSUMED], other, oxides, 1.0)
        a.dense["losses"][k] = add_losses(a.terms[LOSSES], into, made, recipe)
        put_sums(k, positions, made_at, made_values, plain=(a.sparse["made_t"], 0),
                 weighted=(a.sparse["made_reo"], 0, recipe_reo))
        a.dense["other_uses"][k], a.dense["made"][k], a.dense["planned"][k] = other, made, planned
        put_sums(k, positions, used_at, used_values, plain=(a.sparse["consumed"], 1))
        a.alone_exports(k, 1, oxides, leaving, sent)

        # separation: feed, oxides out, exports of concentrate (one item, summed over elements)
        feed, feed_at, feed_values = tagged_flow(rng, E)
        separated = feed * rng.random((C, E))
        leaving = None if k == 5 else rng.random((2, 2, E))
        sent = None if k == 5 else goods(rng, E)
        book_separation(f.terms, oxides, k, feed, separated, positions, feed_at, feed_values, f.dense["feed"],
                        f.dense["separated"], f.sparse["consumed"].room_to_put(len(feed_at), positions),
                        f.transit(0, oxides, leaving), f.departed(0, sent))
        add_losses(a.terms[LOSSES], feed, separated, oxides)
        a.dense["feed"][k], a.dense["separated"][k] = row_sums(feed), separated
        put_sums(k, positions, feed_at, feed_values, plain=(a.sparse["consumed"], 0))
        a.alone_exports(k, 0, oxides, leaving, sent)

        # mining: a term of the balance, recorded as it is
        mined = rng.random((C, E))
        book_term(f.terms[1], f.dense["mined"], k, mined, oxides)
        add_content(a.terms[1], mined, oxides, 1.0)
        a.dense["mined"][k] = mined
    assert fused.exports[0][:].any() and fused.sparse["consumed"][:].any()
    assert_same(fused, alone)


def test_a_part_booked_outside_the_calendar_is_refused_not_written_past_the_records():
    """The booking kernels write step k unchecked (compiled code does not check indices), so the ledger refuses a
    part of a step beyond the calendar's last rather than write past the records."""
    simulation = Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), end="2024-03-31")
    simulation.run()
    ledger = simulation.ledger
    mined = np.ones((len(simulation.net.countries), len(simulation.net.elements)))
    before = ledger.accounts.terms.copy()
    with pytest.raises(InvariantError, match="outside the calendar"):
        ledger.book(ledger.recorder.n, Flows(mined=mined))
    np.testing.assert_array_equal(ledger.accounts.terms, before)
    ledger.book(ledger.recorder.n - 1, Flows(mined=mined))        # the last step is the calendar's
    assert (ledger.accounts.terms != before).any()
