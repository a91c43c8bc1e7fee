"""Comparing and sweeping scenarios with uncertain inputs: paired ensembles with common random numbers, banded."""
import datetime as dt
import json

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.experiments.paired import DEFAULT_REPLICATIONS, replications_for
from sim.results.headlines import difference, value

from .conftest import SCENARIOS

END = dt.date(2026, 9, 30)       # nine months after the Japan ban of 2026-01-06: Japan goes short within the run
UNCERTAIN = SCENARIOS / "japan_ban_uncertain.yaml"
DEFENCE = SCENARIOS / "japan_ban_defence.yaml"
N = 6


@pytest.fixture(scope="module")
def itself(tmp_path_factory):
    """japan_ban_uncertain against itself, 6 replications, in this process."""
    return sim.compare([UNCERTAIN, UNCERTAIN], end=END, replications=N, workers=1,
                       results_root=tmp_path_factory.mktemp("no_saved_runs"))


@pytest.fixture(scope="module")
def against_defence(tmp_path_factory):
    """japan_ban_uncertain against the defence-only ban (no uncertain input), 6 replications, on 2 processes."""
    return sim.compare([UNCERTAIN, DEFENCE], end=END, replications=N, workers=2,
                       results_root=tmp_path_factory.mktemp("no_saved_runs"))


@pytest.fixture(scope="module")
def later_ban():
    """japan_ban_uncertain with the ban on 6 January and a month later (a certain input), 6 replications."""
    return sim.sweep(UNCERTAIN, "events.cn_japan_dual_use_ban.start", [dt.date(2026, 1, 6), dt.date(2026, 2, 6)],
                     end=END, replications=N, workers=2)


def test_a_scenario_compared_with_itself_differs_by_exactly_zero_in_every_replication(itself):
    """Common random numbers: replication r of both columns is the same draw, so every paired difference is 0,
    while the replications themselves differ (the band is not a band of one run)."""
    first, second = itself.runs
    assert itself.paired and itself.replications == N and len(first.replications) == N
    assert [s.drawn for s in first.replications] == [s.drawn for s in second.replications]
    assert len({s.drawn["stockpiles.JP.days"] for s in first.replications}) == N
    for figure in itself.figures:
        for a, b in zip(first.replications, second.replications, strict=True):
            assert difference(value(a, figure), value(b, figure), figure.unit) in (0.0, None), figure.key
    peak = itself.table.loc[("JP", "peak_shortfall_share")]
    assert peak["japan_ban_uncertain p5"] < peak["japan_ban_uncertain p95"]
    diffs = [peak[f"japan_ban_uncertain_2 - japan_ban_uncertain p{p}"] for p in (5, 50, 95)]
    assert diffs == [0.0, 0.0, 0.0] and peak["japan_ban_uncertain_2 - japan_ban_uncertain pairs"] == N


def test_one_process_or_many_give_the_same_replications(itself, against_defence):
    """The same seed gives the same bands of japan_ban_uncertain run here (workers=1) or on two processes."""
    columns = [f"japan_ban_uncertain {k}" for k in ("p5", "p50", "p95", "happened")]
    common = itself.table.index.intersection(against_defence.table.index)
    assert len(common) > 20
    pd.testing.assert_frame_equal(itself.table.loc[common, columns], against_defence.table.loc[common, columns])


def test_the_defence_only_reading_is_a_band_not_a_hidden_draw(against_defence):
    """Against the defence-only ban, Japan's paired difference spans the readings: none where the uncertain
    scenario drew the defence-only reading itself, the whole all-users shortfall where it did not."""
    row = against_defence.table.loc[("JP", "peak_shortfall_share")]
    label = "japan_ban_defence - japan_ban_uncertain"
    assert row["japan_ban_defence p95"] < 0.005                      # the defence-only ban: nobody short
    assert row[f"{label} p5"] < -0.5 and row[f"{label} p95"] == pytest.approx(0.0, abs=0.005)
    readings = [s.drawn["events.ban_read_as_defence_only.happened"] for s in against_defence.runs[0].replications]
    assert True in readings and False in readings
    defence = against_defence.runs[1]
    assert defence.note.startswith("no uncertain input") and len(defence.replications) == N
    assert [s.replication for s in defence.replications] == list(range(N))


def test_paired_differences_of_a_certain_change_are_narrower_than_unpaired_ones(later_ban):
    """A month's later ban, the uncertain inputs drawn alike in each replication (common random numbers): the
    paired differences of Japan's unmet magnets spread far less than differences of unrelated replications."""
    first, later = later_ban.runs
    assert [s.drawn for s in first.replications] == [s.drawn for s in later.replications]
    assert later_ban.notes == []
    figure = next(f for f in later_ban.figures if f.key == "JP.cumulative_unmet_t")
    a = [value(s, figure) for s in first.replications]
    b = [value(s, figure) for s in later.replications]
    paired = [y - x for x, y in zip(a, b)]
    unpaired = [y - x for x, y in zip(a, b[1:] + b[:1])]       # each against another replication's draw
    assert max(paired) - min(paired) < 0.25 * (max(unpaired) - min(unpaired))
    row = later_ban.table.iloc[1]
    assert row["JP.cumulative_unmet_t diff p50"] == pytest.approx(float(pd.Series(paired).median()))


def test_a_sweep_of_an_uncertain_scenario_gives_p5_p50_p95_per_value(later_ban):
    """A row per value with P5/P50/P95 (and the share of replications where it happened) of each figure and
    of its paired difference against the first value, which is zero for the first value itself."""
    table = later_ban.table
    assert list(table["events.cn_japan_dual_use_ban.start"]) == [dt.date(2026, 1, 6), dt.date(2026, 2, 6)]
    for p in (5, 50, 95):
        assert f"JP.peak_shortfall_share p{p}" in table and f"JP.peak_shortfall_share diff p{p}" in table
        assert table[f"JP.cumulative_unmet_t diff p{p}"].iloc[0] == 0.0
    assert (table["JP.peak_shortfall_share p5"] <= table["JP.peak_shortfall_share p50"]).all()
    assert (table["JP.peak_shortfall_share p50"] <= table["JP.peak_shortfall_share p95"]).all()
    assert table["world.first_measure p5"].tolist() == ["2026-01-06", "2026-01-06"]   # defence-only: 6 January
    assert table["world.first_measure p95"].tolist() == ["2026-01-06", "2026-02-06"]
    assert later_ban.metric.key == "JP.peak_shortfall_share"
    assert later_ban.metric_values == list(table["JP.peak_shortfall_share p50"])
    text = later_ban.text()
    assert f"over {N} replications of seed 0" in text and "paired" in text
    assert "P50 [P5 .. P95]" in text.splitlines()[1]


def test_an_input_drawn_out_of_step_is_reported(tmp_path):
    """Fixing the stockpile's release (a distribution drawn before the ban's reading) shifts the random stream
    after it: the sweep says the reading, written alike, was not drawn alike in every replication."""
    swept = sim.sweep(UNCERTAIN, "stockpiles.JP.release.max_days_per_month",
                      [{"dist": "triangular", "low": 15, "mode": 15, "high": 31}, 31],
                      end=dt.date(2026, 2, 28), replications=4, workers=1)
    assert len(swept.notes) == 1 and "events.ban_read_as_defence_only.happened" in swept.notes[0]
    assert "stockpiles.JP.days" not in swept.notes[0]       # drawn before the change: still alike
    assert swept.notes[0] in swept.text()


def test_the_cli_says_how_many_paired_replications_and_writes_bands(tmp_path, capsys):
    """compare --replications 4: the printed table names the replications and the pairing; table.csv holds
    the bands, replications.csv what each replication drew and gave, the manifest the replications."""
    out = tmp_path / "cmp"
    assert main(["compare", str(UNCERTAIN), str(DEFENCE), "--replications", "4", "--workers", "1",
                 "--end", "2026-06-30", "--out", str(out), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "over 4 replications of seed 0" in printed and "differences are paired" in printed
    assert "japan_ban_defence - japan_ban_uncertain" in printed
    table = pd.read_csv(out / "table.csv")
    assert {"japan_ban_uncertain p5", "japan_ban_uncertain p50", "japan_ban_uncertain p95",
            "japan_ban_defence - japan_ban_uncertain p50"} <= set(table.columns)
    draws = pd.read_csv(out / "replications.csv")
    assert draws.groupby("scenario")["replication"].apply(list).to_dict() == {
        "japan_ban_uncertain": [0, 1, 2, 3], "japan_ban_defence": [0, 1, 2, 3]}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 4 and manifest["paired"] is True
    assert len(json.loads((out / "summaries.json").read_text())["japan_ban_uncertain"]) == 4


def test_one_replication_of_an_uncertain_scenario_is_one_draw_and_says_so(tmp_path, capsys):
    """--replications 1: one plain run each, as before, with a warning that it is one draw."""
    assert main(["sweep", str(UNCERTAIN), "--set", "stockpiles.JP.days=42,90", "--replications", "1",
                 "--end", "2026-02-28", "--out", str(tmp_path / "swp"), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "warning: japan_ban_uncertain has uncertain inputs and this is ONE draw" in printed
    assert "stockpiles.JP.days" in pd.read_csv(tmp_path / "swp" / "table.csv").columns
    assert not (tmp_path / "swp" / "replications.csv").exists()


def test_certain_scenarios_make_one_run_each_whatever_is_asked(tmp_path):
    """Without uncertain input the comparison is the plain one; asking for replications only adds a note."""
    assert replications_for([sim.load_scenario(DEFENCE)], None) == 1
    assert replications_for([sim.load_scenario(UNCERTAIN)], None) == DEFAULT_REPLICATIONS
    plain = sim.compare([SCENARIOS / "japan_ban.yaml", DEFENCE], end=dt.date(2026, 2, 28), replications=5,
                        results_root=tmp_path)
    assert not plain.paired and plain.replications == 1 and "japan_ban_defence - japan_ban" in plain.table
    assert plain.notes == ["note: no scenario has uncertain inputs, so one run each: 5 replications would be "
                           "the same"]


@pytest.mark.parametrize("option", ["--replications", "--workers"])
def test_counts_below_one_exit_2(option, tmp_path, capsys):
    """--replications 0 or --workers 0 are refused before anything runs."""
    assert main(["compare", str(UNCERTAIN), str(DEFENCE), option, "0", "--out", str(tmp_path / "c")]) == 2
    assert f"{option} must be at least 1" in capsys.readouterr().err and not (tmp_path / "c").exists()
