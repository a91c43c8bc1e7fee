"""Value at risk: the output an end use could not make (vehicles not built, MW of wind not installed) times a
sourced value per unit: gross output at risk, by country and sector, in the tables, the summary, the
explanation and the run's report. Not GDP."""
import datetime

import numpy as np
import pytest

from sim import load_registry, load_scenario, save, write_report
from sim.engine.simulation import Simulation
from sim.errors import ScenarioError
from sim.results.causes import load_causes, save_causes
from sim.results.headlines import usd
from sim.results.report import run_report

from .conftest import MINIMAL, SCENARIOS


@pytest.fixture(scope="module")
def japan_ban():
    """A Japan ban run to the end of 2027: Japan goes short."""
    return Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end=datetime.date(2027, 12, 31)).run()


def test_the_baseline_values_cars_and_wind_at_the_figures_it_cites():
    """A vehicle at the cited price, a MW at the cited installed cost per kW times 1,000; the sectors counted in
    t magnet have no public value per t of magnet, and are not valued."""
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    registry = load_registry()
    per = {"vehicle": 1.0, "MW": 1000.0}           # the figures are per vehicle and per kW
    valued = {name: s for name, s in scenario.sectors.items() if s.value_usd_per_unit is not None}
    assert set(valued) == {"ev", "wind_onshore", "wind_offshore"}
    for sector in valued.values():
        (cited,) = sector.value_source
        assert sector.value_usd_per_unit == registry[cited].value * per[sector.unit]
    assert all(s.unit == "t magnet" for name, s in scenario.sectors.items() if name not in valued)


def test_a_ban_on_japan_puts_japanese_cars_not_built_at_their_value(japan_ban):
    unmet = japan_ban.table("unmet", "month")
    ev = unmet[(unmet["country"] == "JP") & (unmet["sector"] == "ev")]
    assert ev["unmet_units"].sum() > 100_000
    assert np.allclose(ev["value_at_risk_usd"], ev["unmet_units"] * 50_789)
    electronics = unmet[unmet["sector"] == "electronics"]
    assert electronics["value_at_risk_usd"].isna().all()          # not valued, not zero

    japan = japan_ban.summary().countries["JP"]
    by_sector = japan.unmet_by_sector
    assert by_sector["ev"].value_at_risk_usd == pytest.approx(by_sector["ev"].unmet_units * 50_789, rel=1e-12)
    assert by_sector["electronics"].value_at_risk_usd is None
    assert "electronics" in japan.unvalued_sectors and "ev" not in japan.unvalued_sectors
    assert japan.value_at_risk_usd == pytest.approx(
        sum(v.value_at_risk_usd for v in by_sector.values() if v.value_at_risk_usd is not None), rel=1e-12)
    weekly = japan_ban.table("unmet")          # the summary's steps: a month's table nets weeks within it
    assert japan.value_at_risk_usd == pytest.approx(weekly[weekly["country"] == "JP"]["value_at_risk_usd"].sum(),
                                                    rel=1e-9)


def test_a_country_never_short_has_nothing_at_risk(japan_ban):
    korea = japan_ban.summary().countries["KR"]
    assert korea.cumulative_unmet_t == 0.0 and korea.value_at_risk_usd == 0.0


def test_the_run_s_report_says_it_is_gross_output_not_gdp(japan_ban):
    summary = japan_ban.summary()
    said = run_report(summary)
    assert "output at risk" in said and "not GDP" in said
    assert f"${summary.countries['JP'].value_at_risk_usd / 1e9:,.2f} bn" in said
    assert "not valued: defence, electronics, industrial_motors, other" in said


def test_the_explanation_values_the_output_not_made_over_its_period(japan_ban):
    why = japan_ban.explain("JP", "2027-01-01", "2027-12-31")
    unmet = japan_ban.table("unmet", "month")
    in_2027 = unmet[(unmet["country"] == "JP") & (unmet["date"].dt.year == 2027)]
    assert why.value_at_risk_usd == pytest.approx(in_2027["value_at_risk_usd"].sum(), rel=1e-12)
    assert why.at_risk.iloc[0]["sector"] == "ev"                 # the largest value first
    text = why.text()
    assert "gross output at risk" in text and "not GDP" in text
    assert "not valued (no value per unit): electronics" in text
    cited = why.parameters[why.parameters["parameter"] == "value per unit"]
    assert set(cited["source"]) >= {"ev_price_us_2023"}


def test_an_ensemble_replication_keeps_its_value_at_risk_for_the_bands(japan_ban, tmp_path):
    """What an ensemble's explanation reads of a replication gives the same value at risk as its tables."""
    save_causes(japan_ban, tmp_path / "causes.npz")
    kept = load_causes(tmp_path / "causes.npz")["unmet"]
    table = japan_ban.table("unmet", "month")
    for country in ("JP", "KR"):
        assert kept[kept["country"] == country]["value_at_risk_usd"].sum() == pytest.approx(
            table[table["country"] == country]["value_at_risk_usd"].sum(), rel=1e-9, abs=1e-6)


def test_a_scenario_may_value_a_sector_with_its_own_source(write):
    valued = MINIMAL.replace("grades: {standard: 1.0}, source: ev_magnet_kg}",
                             "grades: {standard: 1.0}, source: ev_magnet_kg, value_usd_per_unit: 30000, "
                             "value_source: 'IEA Global EV Outlook 2024'}")
    assert valued != MINIMAL
    assert load_scenario(write(valued)).sectors["ev"].value_usd_per_unit == 30000


@pytest.mark.parametrize("given, said", [
    ("value_usd_per_unit: 30000}", "value_usd_per_unit needs value_source"),
    ("value_usd_per_unit: 30000, value_source: ev_price_us_2032}", "source 'ev_price_us_2032' is neither"),
    ("value_usd_per_unit: -5, value_source: ev_price_us_2023}", "≥ 0"),
])
def test_a_value_without_a_known_source_is_refused_where_it_is_written(write, given, said):
    text = MINIMAL.replace("source: ev_magnet_kg}", "source: ev_magnet_kg, " + given)
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(text))
    (problem,) = info.value.problems
    assert said in str(problem)
    assert problem.path.startswith("sectors.ev")
    assert problem.line == next(i for i, line in enumerate(text.splitlines(), 1) if "value_usd_per_unit" in line)


def test_the_briefing_shows_each_short_country_s_output_at_risk_and_says_it_is_not_gdp(japan_ban, tmp_path):
    folder = save(japan_ban, tmp_path / "japan_ban")
    page = write_report(folder, SCENARIOS / "japan_ban.yaml").read_text(encoding="utf-8")
    assert "gross output at risk" in page and "not GDP" in page
    assert usd(japan_ban.summary().countries["JP"].value_at_risk_usd) in page


def test_a_country_short_only_in_unvalued_sectors_is_not_valued_rather_than_at_zero():
    from sim.results.summary import CountrySummary, SectorShortfall

    def country(by_sector, total):
        return CountrySummary(100.0, 5.0, 0.1, 1.0, None, None, None, None, by_sector, {}, {}, total)

    defence = {"defence": SectorShortfall(5.0, "t magnet", 5.0, None)}
    assert country(defence, 0.0).at_risk_text == "not valued"
    both = defence | {"ev": SectorShortfall(1.5, "vehicle", 1000.0, 50_789_000.0)}
    assert country(both, 50_789_000.0).at_risk_text == "$50.8 M + not valued"
    assert country(both, None).at_risk_text == "—" and country(both, None).unvalued_sectors == ()   # an older run


@pytest.mark.parametrize("amount, shown", [(0, "$0"), (12_345, "$12,345"), (1_499_999, "$1.5 M"),
                                           (303e6, "$303 M"), (999.6e6, "$1.00 bn"), (-1.4e6, "-$1.4 M"),
                                           (float("nan"), "—")])
def test_money_is_printed_to_three_figures(amount, shown):
    assert usd(amount) == shown


def test_a_source_of_a_value_without_the_value_is_refused(write):
    text = MINIMAL.replace("source: ev_magnet_kg}", "source: ev_magnet_kg, value_source: ev_price_us_2023}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(text))
    assert "give value_usd_per_unit too" in str(info.value.problems[0])
