"""The static baseline: the capacity shares it implies agree with the articles' figures."""
import pytest

from sim.scenario.loading import load_scenario
from sim.scenario.registry import load_registry
from sim.world import capacity_shares, facility_table

from .calibration import band, within
from .conftest import SCENARIOS


@pytest.fixture(scope="module")
def shares():
    table = capacity_shares(load_scenario(SCENARIOS / "baseline.yaml"))
    return {(r.stage, r.country): r for r in table.itertuples()}


def test_china_has_60_to_70_percent_of_mining(shares):
    share = shares[("mine", "CN")].share
    assert within(share, "cn_mining_share", "cn_mining_share_range"), share


def test_us_has_about_12_percent_of_mining(shares):
    share = shares[("mine", "US")].share
    assert within(share, "us_mining_share"), share


def test_china_has_85_to_92_percent_of_refining_capacity(shares):
    """The articles disagree (85–90% in 001, 92% in 000); the capacity share must lie in their span."""
    share = shares[("refinery", "CN")].share
    lo, hi = band("cn_refining_share_range")[0], band("cn_refining_share")[1]
    assert lo <= share <= hi, share


def test_china_has_about_90_percent_of_magnet_making(shares):
    share = shares[("magnet", "CN")].share
    assert within(share, "cn_magnet_share"), share


def test_japan_makes_under_9_percent_of_magnets(shares):
    share = shares[("magnet", "JP")].share
    assert 0 < share < band("argus2022_jp_magnet_share")[1], share


def test_world_mine_output_is_between_the_articles_and_usgs():
    """350 kt (articles) to 390 kt (USGS, which rounds to two figures: under 395 kt)."""
    registry = load_registry()
    low = registry["world_mining_2024"].value
    high = registry["usgs25_mine_world"].values[2024] + 5_000
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    table = facility_table(scenario)
    world = table[table["stage"] == "mine"]["output_t"].sum()
    assert low <= world < high, world


def test_a_plant_not_yet_open_has_no_capacity_and_ramps_up_after():
    """Narva opens on 2025-09-01 with a one-year ramp: nothing before, half after six months."""
    import datetime as dt
    scenario = load_scenario(SCENARIOS / "baseline.yaml")

    def narva(on):
        t = facility_table(scenario, on)
        return t.loc[t["facility"] == "ee_narva", "capacity_t"].item()

    assert narva(dt.date(2025, 8, 31)) == 0
    assert narva(dt.date(2026, 3, 2)) == pytest.approx(1000, rel=0.01)
    assert narva(dt.date(2027, 1, 1)) == 2000
