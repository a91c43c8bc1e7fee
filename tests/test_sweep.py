"""Sweeping one parameter: key paths resolved and validated like a hand-written file, a run per value, a table."""
import datetime as dt
import json
import math
import re
import shutil

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario.loading import read_scenario
from sim.scenario.overrides import apply, describe, resolve, split_assignment
from sim.scenario.yamlfile import read_yaml

from .conftest import MINIMAL, SCENARIOS

END = dt.date(2026, 12, 31)      # a year after the Japan ban of 2026-01-06
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def later(weeks):
    """Weeks to shortfall for ordering: never short within the run counts as later than any number."""
    return math.inf if weeks is None or pd.isna(weeks) else weeks


@pytest.fixture(scope="module")
def stockpile_sweep():
    """Japan's strategic stockpile at 0, 42 (the baseline's) and 180 days, under the Japan ban, to the end of 2026."""
    return sim.sweep(SCENARIOS / "japan_ban.yaml", "stockpiles.JP.days", [0, 42, 180], end=END)


@pytest.fixture
def minimal(write):
    return read_scenario(write(MINIMAL))


# ---------------------------------------------------------------- key paths and values
def test_a_key_path_names_list_items_by_number_or_by_id(minimal):
    """events.0.start and events.ban.start are the same key; dotted shows the id."""
    by_number, by_id = resolve(minimal, "events.0.start"), resolve(minimal, "events.ban.start")
    assert by_number.path == by_id.path == ("events", 0, "start")
    assert by_id.dotted == "events.ban.start" and not by_id.notes


def test_a_segment_that_begins_exactly_one_key_stands_for_it():
    """A segment that begins one key stands for it: 'stockpile.JP.days' is stockpiles.JP.days, and the resolution says so."""
    resolved = resolve(read_scenario(SCENARIOS / "japan_ban.yaml"), "stockpile.JP.days")
    assert resolved.path == ("stockpiles", "JP", "days") and resolved.dotted == "stockpiles.JP.days"
    assert resolved.notes == ("'stockpile' taken as 'stockpiles'",)


def test_an_ambiguous_prefix_is_refused_with_the_candidates(minimal):
    """'facilities.m' could be mine or magnet: an error listing both, not a guess."""
    with pytest.raises(ScenarioError) as err:
        resolve(minimal, "facilities.m.x")
    assert "could be any of mine, magnet" in str(err.value)


def test_an_unknown_key_names_the_file_and_line_and_suggests_the_nearest_key(minimal):
    """A misspelt key is located at its parent's line in the file and answered with a did-you-mean."""
    with pytest.raises(ScenarioError) as err:
        resolve(minimal, "facilities.magnet.jp_mag.capcity_t")
    [problem] = err.value.problems
    assert problem.file == minimal.file and problem.line == minimal.lines[("facilities", "magnet", "jp_mag")][1]
    assert problem.path == "facilities.magnet.jp_mag.capcity_t" and "did you mean capacity_t?" in problem.message


def test_an_unknown_event_id_or_number_is_refused_with_the_ids(minimal):
    """An id no event has, or a number past the end of the list, is refused naming what there is."""
    with pytest.raises(ScenarioError, match=r"no item with id 'bna'.*did you mean ban\?"):
        resolve(minimal, "events.bna.start")
    with pytest.raises(ScenarioError, match="events has 1 item .0 .. 0., no item 3"):
        resolve(minimal, "events.3.start")


def test_the_last_key_may_be_one_the_schema_allows_but_the_file_does_not_write(minimal):
    """material_yield is not written for jp_mag but is a magnet plant's key; 'colour' is not."""
    assert resolve(minimal, "facilities.magnet.jp_mag.material_yield").path[-1] == "material_yield"
    assert resolve(minimal, "facilities.magnet.jp_mag.material").path[-1] == "material_yield"
    with pytest.raises(ScenarioError, match="no key 'colour'"):
        resolve(minimal, "facilities.magnet.jp_mag.colour")


def test_going_into_a_number_is_refused(minimal):
    """A path that continues below a plain value says what the value is."""
    with pytest.raises(ScenarioError, match="is the number 500, it has no key 'x'"):
        resolve(minimal, "facilities.magnet.jp_mag.capacity_t.x")


def test_values_are_read_as_yaml_and_commas_inside_brackets_belong_to_the_value():
    """Numbers, dates, codes, flow lists and null, as a scenario file would read them."""
    key, values = split_assignment("events.0.importers=30,0.5,2026-03-01,JP,[JP, KR],null")
    assert key == "events.0.importers"
    assert values == [30, 0.5, dt.date(2026, 3, 1), "JP", ["JP", "KR"], None]
    assert [describe(v) for v in values] == ["30", "0.5", "2026-03-01", "JP", "[JP, KR]", "null"]


@pytest.mark.parametrize("text, message", [
    ("stockpiles.JP.days", "expected KEY.PATH=VALUE"),
    ("=30", "expected KEY.PATH=VALUE"),
    ("stockpiles..days=30", "empty segment"),
    ("stockpiles.JP.days=30,,60", "empty value"),
    ("stockpiles.JP.days=[30", "cannot read value '[30' as YAML"),
])
def test_a_malformed_set_is_refused(text, message):
    """--set needs KEY.PATH=VALUE[,VALUE...] with no empty parts and readable values."""
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[")):
        split_assignment(text)


def test_apply_changes_a_copy_and_keeps_the_lines(minimal):
    """The original document is untouched; the copy has the value where the key is, and the same lines."""
    changed = apply(minimal, ("facilities", "magnet", "jp_mag", "capacity_t"), 900)
    assert changed.data["facilities"]["magnet"]["jp_mag"]["capacity_t"] == 900
    assert minimal.data["facilities"]["magnet"]["jp_mag"]["capacity_t"] == 500
    assert changed.lines is minimal.lines
    removed = apply(minimal, ("events", 0, "elements"), None)
    assert "elements" not in removed.data["events"][0] and "elements" in minimal.data["events"][0]


# ---------------------------------------------------------------- the sweep
def test_a_longer_japanese_stockpile_delays_and_shrinks_japans_shortfall(stockpile_sweep):
    """More days of stockpile: Japan goes short no earlier, peaks later and misses less magnet demand."""
    table = stockpile_sweep.table
    assert list(table["stockpiles.JP.days"]) == [0, 42, 180]
    weeks = [later(w) for w in table["JP.weeks_to_shortfall"]]
    assert weeks == sorted(weeks) and weeks[-1] > weeks[0]
    peaks = list(table["JP.peak_shortfall_date"])
    assert peaks == sorted(peaks) and peaks[0] < peaks[-1]
    unmet = list(table["JP.cumulative_unmet_t"])
    assert unmet[0] > unmet[1] > unmet[2] > 0


def test_the_value_the_scenario_already_has_reproduces_the_unswept_run(stockpile_sweep):
    """Setting days to the baseline's 42 changes nothing: that row is the plain scenario's run."""
    plain = sim.run(SCENARIOS / "japan_ban.yaml", end=END).summary().countries["JP"]
    row = stockpile_sweep.table.set_index("stockpiles.JP.days").loc[42]
    assert row["JP.cumulative_unmet_t"] == pytest.approx(plain.cumulative_unmet_t, rel=1e-9)
    assert row["JP.peak_shortfall_date"] == plain.peak_shortfall_date.isoformat()


def test_the_table_has_a_row_per_value_and_the_default_metric_is_the_most_affected_countrys_peak(stockpile_sweep):
    """Columns: the parameter, then SUBJECT.FIGURE; the metric defaults to the most affected country's peak."""
    table = stockpile_sweep.table
    assert len(table) == 3 and table.columns[0] == "stockpiles.JP.days"
    assert {"world.first_measure", "JP.peak_shortfall_share", "JP.unmet_ev", "Dy.peak_price_multiple"} <= set(
        table.columns)
    assert stockpile_sweep.metric.key == "JP.peak_shortfall_share"
    assert stockpile_sweep.metric_values == list(table["JP.peak_shortfall_share"])
    assert set(stockpile_sweep.monthly["scenario"]) == {"0", "42", "180"}


def test_text_prints_each_values_own_run_under_the_right_heads(stockpile_sweep):
    """sweep.text(): a row per value in the order given, each with that value's metric and figures (the unmet
    t and peak date of the most affected country, to the precision printed)."""
    lines = stockpile_sweep.text().splitlines()
    heads = re.split(r"\s{2,}", lines[1].strip())
    assert heads[:2] == ["stockpiles.JP.days", "JP.peak_shortfall_share (metric)"]
    rows = [dict(zip(heads, re.split(r"\s{2,}", line.strip()))) for line in lines[2:]]
    table = stockpile_sweep.table
    assert [r["stockpiles.JP.days"] for r in rows] == ["0", "42", "180"]
    for r, (_, expected) in zip(rows, table.iterrows(), strict=True):
        assert float(r["JP.peak_shortfall_share (metric)"].rstrip("%")) == pytest.approx(
            100 * expected["JP.peak_shortfall_share"], abs=0.05)
        assert float(r["JP unmet t"].replace(",", "")) == pytest.approx(expected["JP.cumulative_unmet_t"], abs=0.5)
        assert r["JP peak on"] == expected["JP.peak_shortfall_date"]


def test_save_writes_the_table_the_metric_plot_and_a_manifest(stockpile_sweep, tmp_path):
    """save() writes table.csv (a row per value), monthly.csv, summaries, a manifest and two PNGs, atomically."""
    out = stockpile_sweep.save(tmp_path / "sweep")
    assert pd.read_csv(out / "table.csv")["stockpiles.JP.days"].tolist() == [0, 42, 180]
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["JP.peak_shortfall_share.png", "shortfall.png"]
    assert all(p.read_bytes()[:8] == PNG_HEADER for p in (out / "plots").iterdir())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameter"] == "stockpiles.JP.days" and [r["value"] for r in manifest["runs"]] == [0, 42, 180]
    assert len({r["scenario_sha256"] for r in manifest["runs"]}) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["sweep"]


def test_sweeping_the_ban_start_by_event_id_moves_japans_shortfall():
    """A later ban (dates as values, the event named by its id) makes Japan short later."""
    swept = sim.sweep(SCENARIOS / "japan_ban.yaml", "events.cn_japan_dual_use_ban.start",
                      [dt.date(2026, 1, 6), dt.date(2026, 4, 6)], end=END, metric="JP.peak_shortfall_date")
    table = swept.table
    assert list(table["world.first_measure"]) == ["2026-01-06", "2026-04-06"]
    first, second = table["JP.peak_shortfall_date"]
    assert second > first
    assert swept.metric.key == "JP.peak_shortfall_date" and swept.metric.unit == "date"


def test_an_invalid_value_is_reported_with_its_key_path_line_and_value_before_anything_runs(monkeypatch):
    """days=-5 is refused where stockpiles.JP.days is written (the baseline), naming the value; no run starts."""
    def no_run(*args, **kwargs):
        raise AssertionError("a run started")
    monkeypatch.setattr("sim.experiments.sweeps.execute", no_run)
    with pytest.raises(ScenarioError) as err:
        sim.sweep(SCENARIOS / "japan_ban.yaml", "stockpiles.JP.days", [30, -5, "many"], end=END)
    line = read_yaml(SCENARIOS / "baseline.yaml").lines[("stockpiles", "JP", "days")][1]
    assert len(err.value.problems) == 2
    for problem, value in zip(err.value.problems, ("-5", "many")):
        assert problem.file.endswith("baseline.yaml") and problem.line == line
        assert problem.path == "stockpiles.JP.days" and value in problem.message
        assert f"[with stockpiles.JP.days={value}]" in problem.message


def test_an_unknown_metric_is_refused_before_anything_runs(monkeypatch):
    """--metric names a country, element, figure or COUNTRY.FIGURE; a misspelling gets a did-you-mean."""
    monkeypatch.setattr("sim.experiments.sweeps.execute", lambda *a, **k: pytest.fail("a run started"))
    with pytest.raises(ScenarioError, match=r"did you mean JP.weeks_to_shortfall\?"):
        sim.sweep(SCENARIOS / "japan_ban.yaml", "stockpiles.JP.days", [30], end=END, metric="JP.weeks_to_shortfal")


def test_a_value_given_twice_is_refused():
    """Each value is one row: a repeated value is a mistake in the list."""
    with pytest.raises(ScenarioError, match="value 30 given twice"):
        sim.sweep(SCENARIOS / "japan_ban.yaml", "stockpiles.JP.days", [30, 60, 30], end=END)


# ---------------------------------------------------------------- command line
def test_the_cli_accepts_the_issues_singular_key_and_writes_the_default_folder(tmp_path, capsys):
    """'sweep --set stockpile.JP.days=30,90' says which key it took, prints a row per value and writes
    results/<name>_sweep_<parameter>/ beside the project, with the --metric plot."""
    (tmp_path / "scenarios").mkdir()
    for name in ("baseline.yaml", "japan_ban.yaml"):
        shutil.copy(SCENARIOS / name, tmp_path / "scenarios" / name)
    file = tmp_path / "scenarios" / "japan_ban.yaml"
    assert main(["sweep", str(file), "--set", "stockpile.JP.days=30,90", "--end", str(END),
                 "--metric", "JP.weeks_to_shortfall"]) == 0
    out = capsys.readouterr().out
    assert "'stockpile' taken as 'stockpiles'; sweeping stockpiles.JP.days over 2 values" in out
    rows = [line.split() for line in out.splitlines() if line.strip().split(" ")[0] in ("30", "90")]
    assert [r[0] for r in rows] == ["30", "90"]
    folder = tmp_path / "results" / "japan_ban_sweep_stockpiles.JP.days"
    assert f"sweep in {folder}" in out
    assert len(pd.read_csv(folder / "table.csv")) == 2
    assert (folder / "plots" / "JP.weeks_to_shortfall.png").read_bytes()[:8] == PNG_HEADER


@pytest.mark.parametrize("args, expected", [
    (["--set", "stockpiles.JP.days=30,-5"], ["baseline.yaml:", ": stockpiles.JP.days:", "-5"]),
    (["--set", "stockpiles.JP.dayz=30"], ["baseline.yaml:", "stockpiles.JP.dayz", "did you mean days?"]),
    (["--set", "events.cn_japan_ban.start=2026-03-01"], ["japan_ban.yaml:", "did you mean cn_japan_dual_use_ban?"]),
    (["--set", "stockpiles.JP.days"], ["--set: expected KEY.PATH=VALUE"]),
    (["--set", "stockpiles.JP.days=30", "--set", "calendar.step_days=14", "--set", "stockpiles.JP.days=3"],
     ["a sweep varies one parameter, or two as a grid"]),
    (["--set", "stockpiles.JP.days=30", "--set", "stockpile.JP.days=60"], ["stockpiles.JP.days is set twice"]),
    (["--set", "stockpiles.JP.days=30,60", "--set", "trade.switching_days.magnet=90,-1"],
     ["stockpiles.JP.days=30, trade.switching_days.magnet=-1"]),
    (["--set", "stockpiles.JP.days=30", "--metric", "XX"], ["unknown metric 'XX'"]),
    (["--set", "stockpiles.JP.days=30", "--end", "2050-01-01"], ["--end 2050-01-01 must lie within the calendar"]),
])
def test_bad_input_exits_2_with_a_located_message_and_writes_nothing(args, expected, tmp_path, capsys):
    """Bad --set, --metric or --end: exit 2, the scenario named, the problem located, no folder written."""
    out = tmp_path / "out"
    assert main(["sweep", str(SCENARIOS / "japan_ban.yaml"), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert "japan_ban.yaml: cannot sweep; nothing written" in err
    assert all(text in err for text in expected), err
    assert "Traceback" not in err and not list(tmp_path.iterdir())


def test_quiet_prints_nothing_and_still_writes_the_sweep(tmp_path, capsys):
    """'sweep --quiet' prints nothing (no key-path note, no runs, no table) and writes the sweep folder."""
    out = tmp_path / "sweep"
    assert main(["sweep", str(SCENARIOS / "japan_ban.yaml"), "--set", "stockpiles.JP.days=30,60", "--end",
                 "2024-03-31", "--no-plots", "--quiet", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert len(pd.read_csv(out / "table.csv")) == 2 and not (out / "plots").exists()


def test_a_missing_scenario_exits_2(tmp_path, capsys):
    """A scenario file that does not exist is named."""
    assert main(["sweep", str(tmp_path / "nope.yaml"), "--set", "a.b=1"]) == 2
    assert "nope.yaml: file not found" in capsys.readouterr().err and not list(tmp_path.iterdir())


@pytest.fixture(scope="module")
def grid():
    """Japan's stockpile (0 or 180 days) by the delay before its buyers can re-source magnets (90 or 270 days)."""
    return sim.sweep(SCENARIOS / "japan_ban.yaml", "stockpiles.JP.days", [0, 180], end=dt.date(2027, 12, 31),
                     metric="JP.cumulative_unmet_t", by=("trade.switching_days.magnet", [90, 270]))


def test_a_grid_runs_every_pair_of_values_and_a_bigger_stockpile_or_quicker_switch_leaves_japan_less_short(grid):
    table = grid.grid()
    assert table.shape == (2, 2) and list(table.index) == ["0", "180"] and list(table.columns) == ["90", "270"]
    assert table.loc["180", "90"] < table.loc["0", "90"] and table.loc["180", "270"] < table.loc["0", "270"]
    assert table.loc["0", "90"] < table.loc["0", "270"]
    rows = grid.table[["stockpiles.JP.days", "trade.switching_days.magnet", "JP.cumulative_unmet_t"]]
    assert rows.values.tolist() == [[0, 90, table.loc["0", "90"]], [0, 270, table.loc["0", "270"]],
                                    [180, 90, table.loc["180", "90"]], [180, 270, table.loc["180", "270"]]]


def test_a_grid_prints_its_matrix_and_saves_a_heat_map(grid, tmp_path):
    text = grid.text()
    assert "stockpiles.JP.days = 0, 180 by trade.switching_days.magnet = 90, 270" in text
    assert re.search(r"stockpiles.JP.days \\ trade.switching_days.magnet\s+90\s+270", text)
    folder = grid.save(tmp_path / "grid")
    assert (folder / "plots" / "JP.cumulative_unmet_t.png").read_bytes()[:8] == PNG_HEADER
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["by"] == "trade.switching_days.magnet" and [r["by_value"] for r in manifest["runs"]] == [
        90, 270, 90, 270]


def test_a_grid_of_uncertain_runs_pairs_every_cell_with_common_random_numbers():
    swept = sim.sweep(SCENARIOS / "japan_ban_uncertain.yaml", "stockpiles.JP.release.max_days_per_month", [15, 31],
                      end=END, replications=2, workers=2, metric="JP.cumulative_unmet_t",
                      by=("trade.switching_days.magnet", [180, 365]))
    assert swept.paired and swept.grid().shape == (2, 2)
    assert "JP.cumulative_unmet_t p50" in swept.table and "trade.switching_days.magnet" in swept.table
    assert "P50 [P5 .. P95] over 2 replications" in swept.text()
