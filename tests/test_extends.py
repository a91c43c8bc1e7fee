"""Inheritance: a scenario extends another; maps merge by key, events add up, null deletes."""
from sim.scenario.loading import load_scenario, read_scenario

from .conftest import MINIMAL, SCENARIOS


def test_maps_merge_by_key_and_events_add_up(write):
    write(MINIMAL, "base.yaml")
    child = write("""\
        extends: base.yaml
        name: child
        facilities:
          magnet:
            jp_mag: {capacity_t: 800}
        events:
          - {type: outage, facility: cn_ref, start: 2025-06-01, end: 2025-07-01}
        """, "child.yaml")
    scenario = load_scenario(child)
    plant = scenario.facilities.magnet["jp_mag"]
    assert plant.capacity_t == 800 and plant.country == "JP"   # overridden key, inherited siblings
    assert [e.type for e in scenario.events] == ["export_ban", "outage"]
    assert "cn_mine" in scenario.facilities.mine


def test_null_removes_an_inherited_entry(write):
    write(MINIMAL, "base.yaml")
    child = write("extends: base.yaml\ndemand: {JP: null}\n", "child.yaml")
    assert load_scenario(child).demand == {}


def test_other_lists_are_replaced_not_appended(write):
    write(MINIMAL, "base.yaml")
    child = write("extends: base.yaml\nelements: [NdPr, Ce, Dy, Tb]\n", "child.yaml")
    assert load_scenario(child).elements == ("NdPr", "Ce", "Dy", "Tb")


def test_name_and_title_are_not_inherited(write):
    write(MINIMAL.replace("name: tiny", "name: tiny\ntitle: Base title"), "base.yaml")
    scenario = load_scenario(write("extends: base.yaml\n", "my_case.yaml"))
    assert scenario.name == "my_case" and scenario.title is None


def test_a_chain_of_three_files_merges_in_order(write):
    write(MINIMAL, "a.yaml")
    write("extends: a.yaml\nfacilities: {magnet: {jp_mag: {capacity_t: 600}}}\n", "b.yaml")
    c = write("extends: b.yaml\nfacilities: {magnet: {jp_mag: {utilisation: 0.5}}}\n", "c.yaml")
    plant = load_scenario(c).facilities.magnet["jp_mag"]
    assert (plant.capacity_t, plant.utilisation) == (600, 0.5)


def test_the_japan_ban_is_a_dozen_lines_on_the_baseline():
    """japan_ban.yaml carries only its difference: the ban, on top of the whole baseline."""
    text = (SCENARIOS / "japan_ban.yaml").read_text(encoding="utf-8")
    code_lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(code_lines) <= 15
    ban = load_scenario(SCENARIOS / "japan_ban.yaml")
    base = load_scenario(SCENARIOS / "baseline.yaml")
    assert ban.facilities == base.facilities and ban.trade == base.trade
    assert len(ban.events) == len(base.events) + 1


def test_lines_of_merged_keys_point_into_the_file_that_set_them():
    doc = read_scenario(SCENARIOS / "japan_ban.yaml")
    assert doc.lines[("events", 0, "start")][0].endswith("japan_ban.yaml")
    assert doc.lines[("facilities", "mine", "cn_bayan_obo", "capacity_t")][0].endswith("baseline.yaml")
