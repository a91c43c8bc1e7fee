"""The flows chart's table: the periods it shows, its units, and columns that reconcile (in = out)."""
import argparse
import datetime

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.cli import _period, main
from sim.engine.simulation import Simulation
from sim.plots.flows import flows_figure
from sim.results.chain import COLUMNS, FLOW_TABLE, chain_flows, column_balance, flow_periods, period_steps
from sim.results.periods import Period

from .conftest import SCENARIOS


@pytest.fixture(scope="module")
def results():
    """The Japan ban (6 January 2026) run past the first year of the ban."""
    return Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end=datetime.date(2027, 2, 1)).run()


@pytest.fixture(scope="module")
def flows(results):
    return chain_flows(results)


def test_by_default_the_chart_shows_the_year_before_the_ban_and_its_first_year(results, flows):
    """52 weekly steps before the first step under the ban (12 Jan 2026), and the 52 from it."""
    before, during = flow_periods(results)
    assert (before.start, before.end) == (datetime.date(2025, 1, 13), datetime.date(2026, 1, 12))
    assert (during.start, during.end) == (datetime.date(2026, 1, 12), datetime.date(2027, 1, 11))
    assert [len(period_steps(results, p)) for p in (before, during)] == [52, 52]
    assert "before the first export measure" in before.label and "6 Jan 2026" in during.label
    assert list(flows.columns) == FLOW_TABLE
    days = flows.groupby("period", sort=False)[["first_day", "last_day"]].first()
    assert [(a.date(), b.date()) for a, b in days.itertuples(index=False)] == [
        (datetime.date(2025, 1, 13), datetime.date(2026, 1, 11)), (datetime.date(2026, 1, 12), datetime.date(2027, 1, 10))]


def test_a_scenario_without_a_measure_shows_its_first_year():
    baseline = Simulation(load_scenario(SCENARIOS / "baseline.yaml"), seed=0, end=datetime.date(2024, 3, 1)).run()
    assert baseline.first_measure is None
    (period,) = flow_periods(baseline)
    assert period.start == datetime.date(2024, 1, 1) and period.label == "first year of the run"
    assert set(chain_flows(baseline)["period"]) == {"first year of the run"}   # cut short by the calendar


def test_magnets_are_in_t_magnet_as_in_the_magnet_output_table(results, flows):
    """The magnet column's t by making country are the t magnet the plants made in the period."""
    output = results.table("magnet_output")
    for label, group in flows.groupby("period"):
        made = group[(group["column"] == "magnet") & (group["flow"] == "from oxides")]
        assert set(made["unit"]) == {"t magnet"}
        first, last = group["first_day"].iloc[0], group["last_day"].iloc[0]
        expected = output[(output["date"] >= first) & (output["date"] <= last)].groupby("country")["made_t"].sum()
        got = made.groupby("country")["t"].sum()
        pd.testing.assert_series_equal(got.sort_index(), expected[expected > 0].sort_index(), check_names=False,
                                       rtol=1e-9)
        in_reo = group[(group["column"] == "refinery") & (group["flow"] == "to magnets")]["t"].sum()
        assert made["t"].sum() > 2.5 * in_reo       # magnets weigh more than their rare-earth content


def test_each_column_balances_in_against_out_with_nothing_left_undrawn(flows):
    """In = out (stock change included) in every column and period, to 1e-6 of what entered."""
    balance = column_balance(flows)
    assert len(balance) == 2 * len(COLUMNS)
    assert (balance["in_t"] > 1e4).all()
    np.testing.assert_array_less(np.abs(balance["residual_t"]) / balance["in_t"], 1e-6)


def test_the_oxides_not_made_into_magnets_are_shown_where_they_go(flows):
    """Separation and magnet-making losses, other uses and sunk surplus are rows of the oxide column, and the
    concentrate bands arrive as they left."""
    oxides = flows[(flows["column"] == "refinery") & (flows["side"] == "out")].groupby("flow")["t"].sum()
    assert {"separation losses", "magnet-making losses", "other uses", "sunk surplus", "to magnets"} <= set(oxides.index)
    assert oxides["sunk surplus"] > oxides["to magnets"]
    leave = flows[flows["flow"] == "to separation"].set_index(["period", "country", "other"])["t"]
    arrive = flows[flows["flow"] == "from mines"].set_index(["period", "other", "country"])["t"]
    np.testing.assert_allclose(leave.sort_index().to_numpy(), arrive.sort_index().to_numpy())
    assert set(flows.loc[flows["column"].isin(["mine", "refinery"]), "unit"]) == {"t REO"}


def test_a_user_chooses_the_periods(results):
    flows = chain_flows(results, ["2026", Period.parse(["2025-07-01", "2025-12-31"])])
    assert list(dict.fromkeys(flows["period"])) == ["2026", "2025-07-01..2025-12-31"]
    assert flows.loc[flows["period"] == "2026", "first_day"].iloc[0] == pd.Timestamp("2026-01-05")
    with pytest.raises(ValueError, match="no step of the run"):
        chain_flows(results, ["2030"])


def test_the_chart_names_its_periods_dates_and_units(results):
    fig = flows_figure(results)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert "13 Jan 2025 to 11 Jan 2026" in titles[0] and "before the first export measure" in titles[0]
    assert "12 Jan 2026 to 10 Jan 2027" in titles[1]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("Mined in\n") and t.endswith("kt REO") for t in texts)
    assert any(t.startswith("Magnets made in\n") and t.endswith("kt magnet") for t in texts)
    assert any(t.startswith("− sunk surplus") for t in texts)
    assert "6 Jan 2026" in fig._suptitle.get_text()


def test_the_cli_takes_flows_periods_and_refuses_one_outside_the_run(tmp_path):
    assert _period("2026").start == datetime.date(2026, 1, 1)
    assert _period("2025-07-01..2026-06-30").end == datetime.date(2026, 7, 1)
    with pytest.raises(argparse.ArgumentTypeError):
        _period("2026-13")
    code = main([str(SCENARIOS / "japan_ban.yaml"), "--flows-period", "2040", "--out", str(tmp_path / "o"),
                 "--quiet"])
    assert code == 2 and not (tmp_path / "o").exists()
