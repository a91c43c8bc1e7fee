"""Rounding is not material: a residue of arithmetic (a few 1e-16 t) never becomes trade or a licence
application, so a run's results do not hang on the last bit of a sum; and the step's matrix products add in
one stated order, the same on every machine."""
from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario
from sim.engine.simulation import Simulation
from sim.kernels.clearing import DUST_T, resource
from sim.kernels.exports import held_for_licences
from sim.kernels.products import matmul, matvec, vecmat
from sim.kernels.tagged import add_origin

from .conftest import SCENARIOS


def baseline_tables(dust_t: float) -> dict:
    """The baseline's tables to March 2026, with ``dust_t`` t of dysprosium oxide put into the United States'
    stock before the spin-up: the US makes Dy, uses none and sells none, so any it keeps is a residue."""
    simulation = Simulation(load_scenario(SCENARIOS / "baseline.yaml"), seed=0, end="2026-03-31")
    net, oxide = simulation.net, simulation.state.oxide
    amount = np.zeros(oxide.tagged[:, 0, :].shape)
    us = net.index("US")
    amount[us, net.elements.index("Dy")] = dust_t
    add_origin(oxide.tagged, oxide.rows, oxide.count, amount, net.tags.row("refined", 0), net.tags.row("touched", 0))
    return simulation.run().tables("step")


def test_a_rounding_residue_in_a_stock_does_not_grow_into_trade():
    """1e-15 t of Dy in the US stock once seeded a trade that more than doubled every week (the US kept a working
    stock of what it sold, and sold what it kept) until, a year on, it sent Vietnam and Japan all its Dy: it
    is now sunk with the rest of the US's unused Dy, and the run is the same to the bit."""
    plain, dusted = baseline_tables(0.0), baseline_tables(1e-15)
    flows = dusted["flows"]
    assert flows[(flows["exporter"] == "US") & (flows["item"] == "Dy")].empty
    for name in ("flows", "magnet_output", "inventory"):
        assert plain[name].equals(dusted[name]), name


def test_re_sourcing_leaves_rounding_residues_alone():
    """A buyer lacking a residue asks no one; a maker whose spare is a residue is asked nothing; a real lack is
    met from a real spare."""
    def re_source(spare_t: float, lacking_t: float) -> float:
        spare = np.array([[0.0], [spare_t]])
        shipped, carried = np.zeros((2, 2, 1)), np.zeros((2, 2), dtype=bool)
        unmet = np.array([[lacking_t], [0.0]])
        resource(spare, np.ones((2, 2, 1), dtype=bool), np.ones(2, dtype=bool), np.zeros((2, 2, 1)),
                 np.zeros((2, 2, 1)), shipped, carried, unmet, np.zeros(2))
        return float(shipped[0, 1, 0])

    assert re_source(5.0, 1e-12) == 0.0
    assert re_source(1e-12, 1.0) == 0.0
    assert re_source(5.0, 1.0) == 1.0
    assert 1e-12 < DUST_T < 1e-6


def test_a_licence_holds_nothing_of_a_route_where_its_share_is_a_rounding_residue():
    """A share of 1e-19 of a route's goods would be an application of a few 1e-19 t, drawing a review (and
    shifting every later random draw): that route ships unheld; a real share is held."""
    goods = np.zeros((2, 3, 2))
    goods[:, 0, :] = [[1.0, 2.0], [3.0, 4.0]]             # t of two oxides on two routes (row 0: the mass)
    buyer, supplier = np.array([0, 1]), np.array([1, 0])
    share = np.zeros((2, 2, 2))                            # [buyer, supplier, oxide]
    share[0, 1], share[1, 0] = [1e-19, 0.0], [0.5, 0.0]
    first, routes, held, t, left, mass = held_for_licences(goods, buyer, supplier, (share,), False)
    assert first.tolist() == [0, 1] and routes.tolist() == [1]         # the second route only
    assert held[:, 0, :].tolist() == [[1.5, 0.0]] and t.tolist() == [1.5]
    assert left[:, 0, :].tolist() == [[1.0, 2.0], [1.5, 4.0]] and mass.tolist() == [3.0, 5.5]


@pytest.mark.parametrize("zeros", [0.0, 0.7])
def test_a_product_adds_its_terms_in_the_order_of_the_inner_index(zeros):
    """Each entry is the plain loop's sum, bit for bit (a zero term skipped, the factors being finite), and
    NumPy's product (its BLAS adds in an order of its own) to the last places."""
    rng = np.random.default_rng(7)
    a, b, x = rng.random((5, 9)), rng.random((9, 4)), rng.random(9)
    a[rng.random(a.shape) < zeros] = 0.0
    x[rng.random(x.shape) < zeros] = 0.0

    def loop(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        out = np.zeros((rows.shape[0], columns.shape[1]))
        for i in range(rows.shape[0]):
            for j in range(columns.shape[1]):
                for p in range(rows.shape[1]):
                    if rows[i, p] != 0.0:
                        out[i, j] += rows[i, p] * columns[p, j]
        return out

    assert np.array_equal(matmul(a, b), loop(a, b))
    assert np.array_equal(matvec(a, x), loop(a, x[:, None])[:, 0])
    assert np.array_equal(vecmat(x, b), loop(x[None, :], b)[0])
    assert np.array_equal(matmul(a, b.T.copy().T), matmul(a, b))          # a view's layout: the same sums
    np.testing.assert_allclose(matmul(a, b), a @ b, rtol=1e-14)
    np.testing.assert_allclose(vecmat(x, b), x @ b, rtol=1e-14)
