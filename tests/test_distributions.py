"""Uncertain numbers: distributions validate, respect their field's range, and sample reproducibly."""
import numpy as np
import pytest
from pydantic import TypeAdapter

from sim.scenario import has_distributions, realise
from sim.scenario.distributions import Dist
from sim.scenario.loading import load_scenario

from .conftest import MINIMAL

UNCERTAIN = MINIMAL.replace("capacity_t: 500", "capacity_t: {dist: normal, mean: 500, sd: 400}").replace(
    "recovery: 0.9", "recovery: {dist: triangular, low: 0.8, mode: 0.9, high: 1.0}")


def test_same_seed_same_world_other_seed_other_world(write):
    scenario = load_scenario(write(UNCERTAIN))
    a = realise(scenario, np.random.default_rng(7))
    b = realise(scenario, np.random.default_rng(7))
    c = realise(scenario, np.random.default_rng(8))
    assert a == b and a != c
    assert not has_distributions(a) and has_distributions(scenario)


def test_samples_stay_within_the_fields_range(write):
    """A normal with a large sd on a capacity is clipped at 0, a recovery stays in [0, 1]."""
    scenario = load_scenario(write(UNCERTAIN))
    draws = [realise(scenario, np.random.default_rng(s)) for s in range(300)]
    caps = [d.facilities.magnet["jp_mag"].capacity_t for d in draws]
    recs = [d.facilities.refinery["cn_ref"].recovery for d in draws]
    assert min(caps) == 0.0 and max(caps) > 500
    assert all(0.8 <= r <= 1.0 for r in recs)


def test_without_a_generator_each_distribution_gives_its_central_value(write):
    world = realise(load_scenario(write(UNCERTAIN)), None)
    assert world.facilities.magnet["jp_mag"].capacity_t == 500
    assert world.facilities.refinery["cn_ref"].recovery == pytest.approx(0.9)


@pytest.mark.parametrize("text, message", [
    ("{dist: normal, mean: 1}", "sd"),
    ("{dist: lognormal, median: -1, sigma: 0.2}", "median"),
    ("{dist: choice, values: [1, 2], p: [0.5, 0.6]}", "sum to 1"),
    ("{dist: gamma, shape: 2}", "dist"),
    ("{mean: 3}", "dist:"),
])
def test_malformed_distributions_are_explained(write, text, message):
    from sim.errors import ScenarioError
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(MINIMAL.replace("capacity_t: 500", f"capacity_t: {text}")))
    (problem,) = info.value.problems
    assert problem.path == "facilities.magnet.jp_mag.capacity_t" and message in problem.message


@pytest.mark.parametrize("written, bounds", [
    ({"dist": "triangular", "low": 20, "mode": 45, "high": 63}, (10.0, 50.0)),
    ({"dist": "triangular", "low": 30, "mode": 30, "high": 30}, (10.0, 50.0)),
    ({"dist": "normal", "mean": 30, "sd": 20}, (10.0, 50.0)),
    ({"dist": "lognormal", "median": 30, "sigma": 0.8}, (10.0, 50.0)),
    ({"dist": "uniform", "low": 5, "high": 60}, (10.0, 50.0)),
    ({"dist": "choice", "values": [10, 20, 40], "p": [0.2, 0.5, 0.3]}, (10.0, 50.0)),
    ({"dist": "choice", "values": [-0.0, 0.0, 5.0]}, (0.0, -0.0)),      # ties of signed zeros at both bounds
])
def test_n_draws_at_once_are_the_numbers_of_n_draws_in_turn_clipped_the_same(written, bounds):
    """A licence's review times are drawn a step's applications at a time: the same numbers, in the same order,
    as one draw per application, to the bit, and the stream goes on from the same place."""
    bounded = TypeAdapter(Dist).validate_python(written).with_bounds(*bounds)
    for seed, n in [(0, 1), (1, 7), (2, 40)]:
        in_turn, at_once = np.random.default_rng(seed), np.random.default_rng(seed)
        assert bounded.samples(at_once, n).tobytes() == np.array([bounded.sample(in_turn) for _ in range(n)]).tobytes()
        assert at_once.random() == in_turn.random()
