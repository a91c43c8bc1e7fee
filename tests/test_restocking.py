"""Restocking after a shortage (``inventories.after_shortage``): a buyer that went short of an item raises its
target cover of it and lets its contracts stretch, in proportion to how short it went, and both fade with
``memory_days``; without the key nothing changes."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim import Simulation, load_scenario, run
from sim.engine.trade import contract_flex, precaution_days, remember_shortage
from sim.errors import ScenarioError
from sim.scenario import realise
from sim.scenario.schema import CONTRACT_FLEX
from sim.stages import REFINERY

from .conftest import MINIMAL

EXTRA_DAYS, STRETCHED_FLEX = 30, 1.0
# the minimal world, to mid-2026, with China's NdPr oxide banned to Japan for September and October 2025;
# its magnets hold NdPr alone, so Japan's plants run on what the ban withholds
TWO_MONTH_BAN = (MINIMAL.replace("end: 2026-12-31", "end: 2026-06-30")
                 .replace("recipe: {NdPr: 0.31, Dy: 0.005}", "recipe: {NdPr: 0.31}")
                 .replace("elements: [Dy, Tb]", "elements: [NdPr]")
                 .replace("start: 2026-01-06", "start: 2025-09-01\n    end: 2025-11-01"))
NO_BAN = TWO_MONTH_BAN[:TWO_MONTH_BAN.index("events:")]


def after_shortage(text: str, extra_days: float = EXTRA_DAYS, memory_days: float = 365,
                   flex: float = STRETCHED_FLEX) -> str:
    """The scenario ``text`` with buyers restocking after a shortage."""
    return text + (f"inventories:\n  after_shortage: {{extra_days: {extra_days}, memory_days: {memory_days}, "
                   f"contract_flex: {flex}}}\n")


def weekly_imports(results, month: str) -> float:
    """Japan's mean weekly imports of NdPr oxide from China over the weeks starting in ``month`` (YYYY-MM), t."""
    f = results.table("flows", "step")
    f = f[(f["stage"] == REFINERY) & (f["importer"] == "JP") & (f["exporter"] == "CN") & (f["item"] == "NdPr")]
    weeks = [pd.Timestamp(d) for d in results.net.dates if d.isoformat().startswith(month)]
    return float(f[f["date"].isin(weeks)]["t"].sum() / len(weeks))


def japan_cover_days(results) -> float:
    """Japan's days of cover of NdPr oxide at the last step."""
    inv = results.table("inventory", "step")
    inv = inv[(inv["country"] == "JP") & (inv["stage"] == REFINERY) & (inv["item"] == "NdPr")]
    return float(inv["days_of_cover"].iloc[-1])


# ---------------------------------------------------------------- behaviour
def test_after_a_two_month_ban_a_buyer_that_restocks_imports_more_than_before_and_than_without(write):
    """In the month after a two-month ban, a buyer with after_shortage imports more than in the month before
    the ban, and more than the same buyer without it, whose contracts cap it at a quarter above normal."""
    with_ = run(write(after_shortage(TWO_MONTH_BAN), "with.yaml"))
    without = run(write(TWO_MONTH_BAN, "without.yaml"))
    before, after = weekly_imports(with_, "2025-08"), weekly_imports(with_, "2025-11")
    assert weekly_imports(without, "2025-08") == before            # nobody short yet: the same world
    assert after > 1.4 * before
    assert after > 1.4 * weekly_imports(without, "2025-11")


def test_a_buyer_that_went_short_keeps_more_cover_long_after_the_disruption(write):
    """Eight months after the ban, a buyer that remembers a shortage for a year still holds well over its
    working stock (the extra days times how much of the shortage it still remembers), one without does not."""
    with_ = run(write(after_shortage(TWO_MONTH_BAN), "with.yaml"))
    without = run(write(TWO_MONTH_BAN, "without.yaml"))
    assert japan_cover_days(with_) > japan_cover_days(without) + EXTRA_DAYS / 3


def test_the_extra_cover_decays_away(write):
    """With a memory of four weeks the extra cover is gone within months of the ban: Japan ends with the
    cover of the run without after_shortage, within two days, and remembers almost nothing of the shortage."""
    simulation = Simulation(load_scenario(write(after_shortage(TWO_MONTH_BAN, memory_days=28), "with.yaml")))
    results = simulation.run()
    without = run(write(TWO_MONTH_BAN, "without.yaml"))
    assert japan_cover_days(results) == pytest.approx(japan_cover_days(without), abs=2.0)
    japan = simulation.net.index("JP")
    assert precaution_days(simulation.state, simulation.net, REFINERY)[japan].max() < 0.01


def test_cover_and_contracts_follow_how_short_a_buyer_went_and_fade_by_e_every_memory_days(write):
    """Half short of an item: half the extra days and half the stretch; four weekly steps without a
    shortage and a memory of 28 days later, both are down by a factor e."""
    simulation = Simulation(load_scenario(write(after_shortage(TWO_MONTH_BAN, memory_days=28))))
    state, net = simulation.state, simulation.net
    state.k = 0                                            # the calendar's first step
    wants = np.ones((net.n_countries, net.items(REFINERY)))
    remember_shortage(state, net, REFINERY, 0.5 * wants, wants, wants)
    assert precaution_days(state, net, REFINERY) == pytest.approx(np.full(wants.shape, EXTRA_DAYS / 2))
    assert contract_flex(state, net, REFINERY) == pytest.approx(CONTRACT_FLEX + (STRETCHED_FLEX - CONTRACT_FLEX) / 2)
    for _ in range(4):
        remember_shortage(state, net, REFINERY, 0 * wants, wants, wants)
    assert precaution_days(state, net, REFINERY) == pytest.approx(np.full(wants.shape, EXTRA_DAYS / 2 / math.e))


def test_a_shortage_below_the_threshold_is_not_remembered(write):
    """A buyer missing less than the share that sends it looking for new suppliers has not gone short."""
    simulation = Simulation(load_scenario(write(after_shortage(TWO_MONTH_BAN))))
    state, net = simulation.state, simulation.net
    state.k = 0
    wants = np.ones((net.n_countries, net.items(REFINERY)))
    remember_shortage(state, net, REFINERY, 0.001 * wants, wants, wants)
    assert not state.shortage[REFINERY].any()


# ---------------------------------------------------------------- nothing changes without it
@pytest.mark.parametrize("case", ["no shortage", "no raise, no stretch"])
def test_after_shortage_that_has_nothing_to_answer_changes_nothing(write, case):
    """With no disruption, or with no extra days and contracts that stretch no further than usual, a scenario
    with after_shortage gives tables identical to the last bit to the same scenario without it."""
    text, kwargs = (NO_BAN, {}) if case == "no shortage" else (TWO_MONTH_BAN, {"extra_days": 0, "flex": 0.25})
    with_ = run(write(after_shortage(text, **kwargs), "with.yaml"))
    without = run(write(text, "without.yaml"))
    for name in ("flows", "inventory", "unmet", "prices"):
        pd.testing.assert_frame_equal(with_.table(name, "step"), without.table(name, "step"), check_exact=True)


def test_without_after_shortage_nobody_remembers_a_shortage(write):
    """The default: buyers keep their working stock targets and usual contracts whatever happened."""
    simulation = Simulation(load_scenario(write(TWO_MONTH_BAN)))
    simulation.run()
    assert simulation.net.restocking is None
    assert not any(memory.any() for memory in simulation.state.shortage.values())
    assert contract_flex(simulation.state, simulation.net, REFINERY) == CONTRACT_FLEX


# ---------------------------------------------------------------- the key
def test_every_number_of_after_shortage_may_be_a_distribution(write):
    """Like any number, each may be uncertain; a draw of contract_flex is clipped at the usual flex."""
    text = TWO_MONTH_BAN + ("inventories:\n  after_shortage: {extra_days: {dist: uniform, low: 10, high: 40},\n"
                            "    memory_days: {dist: triangular, low: 180, mode: 365, high: 730},\n"
                            "    contract_flex: {dist: normal, mean: 0.3, sd: 1}}\n")
    scenario = load_scenario(write(text))
    drawn = [realise(scenario, np.random.default_rng(seed)).inventories.after_shortage for seed in range(20)]
    assert all(10 <= a.extra_days <= 40 and 180 <= a.memory_days <= 730 for a in drawn)
    assert min(a.contract_flex for a in drawn) == CONTRACT_FLEX
    assert realise(scenario, None).inventories.after_shortage.memory_days == 365


@pytest.mark.parametrize("values, key, expected", [
    ("extra_days: -5, memory_days: 365, contract_flex: 1.0", "extra_days", "must be ≥ 0, got -5"),
    ("extra_days: 30, memory_days: 0, contract_flex: 1.0", "memory_days", "must be > 0, got 0"),
    ("extra_days: 30, memory_days: 365, contract_flex: 0.1", "contract_flex", "must be ≥ 0.25, got 0.1"),
    ("extra_days: 30, memory_day: 365, contract_flex: 1.0", "memory_day", "did you mean memory_days?"),
])
def test_a_bad_value_of_after_shortage_is_located(write, values, key, expected):
    """A negative cover, a memory of no time, contracts that would tighten after a shortage, a misspelt key:
    each one problem naming the file's line and the key path."""
    text = TWO_MONTH_BAN + f"inventories:\n  after_shortage: {{{values}}}\n"
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(text))
    (problem,) = info.value.problems
    assert problem.path == f"inventories.after_shortage.{key}" and expected in problem.message
    assert problem.line == len(text.splitlines())


def test_good_values_of_after_shortage_load_with_a_source(write):
    """The other side of each rule: zero extra days, the usual flex and a cited source are accepted."""
    text = TWO_MONTH_BAN + ("inventories:\n  after_shortage: {extra_days: 0, memory_days: 1, contract_flex: 0.25, "
                            "source: asm_working_stocks}\n")
    after = load_scenario(write(text)).inventories.after_shortage
    assert (after.extra_days, after.memory_days, after.contract_flex) == (0, 1, CONTRACT_FLEX)
