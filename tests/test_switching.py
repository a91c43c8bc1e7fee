"""Switching delays by stage and by item: a buyer short of an item may re-source it from any maker only after
that item's delay (its stage's, unless ``trade.switching_days_by_item`` gives it its own)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim import Simulation, load_scenario, run
from sim.engine.trade import start_qualifying
from sim.errors import ScenarioError
from sim.scenario import drawn_inputs, realise
from sim.stages import MAGNET, MINE, REFINERY

from .conftest import MINIMAL, SCENARIOS

BASE = SCENARIOS / "baseline.yaml"
BAN_START = dt.date(2025, 1, 6)
STAGE_DAYS, HIGH_TEMP_DAYS = 90, 300
HIGH_TEMP_BY_ITEM = f"switching_days_by_item: {{magnet: {{high_temp: {HIGH_TEMP_DAYS}}}}}"
US_MAGNET_BAN = f"""\
inventories:
  after_shortage: null      # contracts that stretch after a shortage would blur the week of re-sourcing
trade:
  switching_days: {{magnet: {STAGE_DAYS}}}
  {{by_item}}
events:
  - type: export_ban
    exporter: CN
    importers: [US]
    stages: [magnet]
    start: {BAN_START}
"""


def us_ban(write, by_item: str = ""):
    """The baseline with China's magnets banned to the US (US buyers go short of every grade at the ban's start),
    with ``by_item`` (a YAML line) under ``trade:``."""
    return write(f"extends: {BASE}\nname: us_magnet_ban\n" + US_MAGNET_BAN.replace("{by_item}", by_item))


def minimal_with(trade_keys: str) -> str:
    """The minimal scenario with ``trade_keys`` (YAML lines under ``trade:``)."""
    return MINIMAL.replace("trade:\n", "trade:\n" + trade_keys)


def first_re_sourced(results, grade: str) -> int:
    """Days from the ban to the first week the US imports half as much again of a grade from makers other than
    China as it usually does: beyond what its contracts allow (a quarter more), so the week it re-sources it."""
    f = results.table("flows", "step")
    f = f[(f["stage"] == MAGNET) & (f["importer"] == "US") & (f["exporter"] != "CN") & (f["item"] == grade)]
    weekly = f.groupby("date")["t"].sum()
    usual = weekly[(weekly.index >= "2024-06-01") & (weekly.index < "2025-01-01")].mean()
    beyond = weekly[(weekly.index >= pd.Timestamp(BAN_START)) & (weekly > 1.5 * usual)]
    return (beyond.index[0] - pd.Timestamp(BAN_START)).days


# ---------------------------------------------------------------- behaviour
def test_high_temperature_magnets_are_re_sourced_only_after_their_own_longer_delay(write):
    """A buyer short of every grade from the ban's first week re-sources standard magnets in the first week after
    the stage's delay, high-temperature ones only in the first week after their own longer delay."""
    results = run(us_ban(write, HIGH_TEMP_BY_ITEM), end=dt.date(2026, 3, 31))
    assert STAGE_DAYS < first_re_sourced(results, "standard") <= STAGE_DAYS + 7
    assert STAGE_DAYS < first_re_sourced(results, "smco") <= STAGE_DAYS + 7
    assert HIGH_TEMP_DAYS < first_re_sourced(results, "high_temp") <= HIGH_TEMP_DAYS + 7


def test_without_a_delay_by_item_every_grade_follows_the_stage(write):
    """With no delay by item, high-temperature magnets are re-sourced after the stage's delay like the others."""
    results = run(us_ban(write), end=dt.date(2025, 9, 30))
    assert STAGE_DAYS < first_re_sourced(results, "high_temp") <= STAGE_DAYS + 7


def test_a_buyer_short_of_one_item_qualifies_only_the_items_sharing_its_delay(write):
    """Short of standard magnets alone, a buyer starts qualifying the grades with the stage's delay, not
    high-temperature magnets, whose delay is their own; short of them too, it starts that group as well, once."""
    simulation = Simulation(load_scenario(us_ban(write, HIGH_TEMP_BY_ITEM)))
    state, net = simulation.state, simulation.net
    state.k = 0                                  # the calendar's first step: nobody qualified, nobody qualifying
    state.qualified[MAGNET][:] = False
    us, grades = net.index("US"), net.item_names(MAGNET)
    wants = np.ones((net.n_countries, len(grades)))
    unmet = np.zeros_like(wants)
    unmet[us, grades.index("standard")] = 1.0
    assert start_qualifying(state, net, MAGNET, unmet, wants) == [(us, 0)]
    delays = [(g.days, [grades[i] for i in g.items]) for g in net.switching_groups[MAGNET]]
    assert delays == [(STAGE_DAYS, ["standard", "smco"]), (HIGH_TEMP_DAYS, ["high_temp"])]
    unmet[us, grades.index("high_temp")] = 1.0
    assert start_qualifying(state, net, MAGNET, unmet, wants) == [(us, 1)]
    assert start_qualifying(state, net, MAGNET, unmet, wants) == []


def test_one_delay_for_a_stage_makes_one_group_of_all_its_items(write):
    """Without delays by item each stage's items form one group, so a short buyer starts one qualification per
    stage, as many SimPy events as a delay by stage alone takes."""
    net = Simulation(load_scenario(us_ban(write))).net
    for stage in (MINE, REFINERY, MAGNET):
        (group,) = net.switching_groups[stage]
        assert list(group.items) == list(range(net.items(stage)))
    assert net.switching_groups[MAGNET][0].days == STAGE_DAYS


# ---------------------------------------------------------------- the scenario language
def test_delays_by_grade_element_and_concentrate_are_accepted(write):
    """Magnets are named by grade, oxides by element and the mine stage's one item as concentrate."""
    scenario = load_scenario(write(minimal_with(
        "  switching_days_by_item: {magnet: {standard: 400}, refinery: {Dy: 200}, mine: {concentrate: 100}}\n")))
    net = Simulation(scenario).net
    assert net.switching_days[MAGNET].tolist() == [400.0]
    assert net.switching_days[MINE].tolist() == [100.0]
    dy = net.elements.index("Dy")
    assert net.switching_days[REFINERY][dy] == 200.0
    assert set(np.delete(net.switching_days[REFINERY], dy)) == {90.0}     # the stage's default for the others


@pytest.mark.parametrize("keys, path, message", [
    ("{magnet: {standrd: 400}}", "trade.switching_days_by_item.magnet.standrd",
     "unknown magnet grade 'standrd' (did you mean standard?)"),
    ("{refinery: {Dyy: 200}}", "trade.switching_days_by_item.refinery.Dyy", "unknown element 'Dyy' (did you mean Dy?)"),
    ("{refinery: {standard: 200}}", "trade.switching_days_by_item.refinery.standard", "unknown element 'standard'"),
    ("{mine: {NdPr: 100}}", "trade.switching_days_by_item.mine.NdPr", "unknown mine item 'NdPr'; known: concentrate"),
    ("{smelter: {standard: 100}}", "trade.switching_days_by_item.smelter",
     "expected one of 'mine', 'refinery' or 'magnet', got 'smelter'"),
    ("{magnet: {standard: -5}}", "trade.switching_days_by_item.magnet.standard", "must be ≥ 0, got -5"),
])
def test_a_bad_delay_by_item_is_located(write, keys, path, message):
    """An unknown item or stage, or a negative delay, is one problem at its key path and line."""
    text = minimal_with(f"  switching_days_by_item: {keys}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(text))
    (problem,) = info.value.problems
    assert problem.path == path and message in problem.message, str(problem)
    assert problem.line == next(i for i, line in enumerate(text.splitlines(), 1) if "switching_days_by_item" in line)


def test_a_delay_by_item_may_be_a_distribution(write):
    """Like any number, a delay by item may be drawn: within its range in each replication, its mode in the
    central run, and listed among what a replication drew."""
    scenario = load_scenario(us_ban(write, "switching_days_by_item: "
                                           "{magnet: {high_temp: {dist: triangular, low: 365, mode: 540, high: 730}}}"))
    path = "trade.switching_days_by_item.magnet.high_temp"
    assert realise(scenario, None).trade.switching_days_by_item[MAGNET]["high_temp"] == 540
    draws = set()
    for replication in range(5):
        simulation = Simulation(scenario, seed=0, replication=replication)
        days = simulation.net.switching_days[MAGNET][simulation.net.item_names(MAGNET).index("high_temp")]
        assert 365 <= days <= 730 and drawn_inputs(scenario, simulation.world)[path] == days
        draws.add(days)
    assert len(draws) == 5
