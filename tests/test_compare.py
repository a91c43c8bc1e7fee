"""Comparing scenarios: headline differences against the first, overlaid plots, saved runs reused only when they
match."""
import datetime as dt
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sim
from sim import save
from sim.cli import main
from sim.experiments.comparison import default_folder, saved_run, unique_labels
from sim.experiments.manifest import read_manifest
from sim.results.series import monthly_series
from sim.scenario.loading import load_scenario

from .conftest import MINIMAL, ROOT, SCENARIOS

END = dt.date(2026, 12, 31)      # a year after the Japan ban of 2026-01-06: it bites within the run
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """Baseline, the Japan ban and the Korea re-route to the end of 2026, with no saved runs to reuse."""
    files = [SCENARIOS / f"{name}.yaml" for name in ("baseline", "japan_ban", "korea_route")]
    return sim.compare(files, end=END, results_root=tmp_path_factory.mktemp("no_saved_runs"))


@pytest.fixture
def project(tmp_path):
    """A project folder holding copies of the baseline and the Japan ban in scenarios/, so results/ is in tmp_path."""
    (tmp_path / "scenarios").mkdir()
    for name in ("baseline.yaml", "japan_ban.yaml"):
        shutil.copy(SCENARIOS / name, tmp_path / "scenarios" / name)
    return tmp_path


def row(comparison, subject, figure):
    return comparison.table.loc[(subject, figure)]


# ---------------------------------------------------------------- the comparison
def test_the_table_has_a_column_per_scenario_and_differences_against_the_first(comparison):
    """Columns: each scenario, then '<scenario> - <first>'; the ban makes Japan short where the baseline is not."""
    assert comparison.labels == ["baseline", "japan_ban", "korea_route"]
    assert {"baseline", "japan_ban", "korea_route", "japan_ban - baseline", "korea_route - baseline"} <= set(
        comparison.table.columns)
    peak = row(comparison, "JP", "peak_shortfall_share")
    assert peak["baseline"] < 0.005 and peak["japan_ban"] > 0.5
    assert peak["japan_ban - baseline"] == pytest.approx(peak["japan_ban"] - peak["baseline"])
    weeks = row(comparison, "JP", "weeks_to_shortfall")
    assert weeks["baseline"] is None and 0 < weeks["japan_ban"] < 52
    assert row(comparison, "world", "first_measure")["japan_ban"] == "2026-01-06"


def test_rerouting_korea_through_china_raises_its_dependency_but_spares_not_japan(comparison):
    """korea_route: Korea buys from China instead of via Japan, so it depends more on China (and is followed for
    that, short or not) and is no shorter than under the plain ban; Japan is still short."""
    dependency = row(comparison, "KR", "oxide_direct_dependency_last_year")
    assert dependency["korea_route"] > dependency["japan_ban"] + 0.1
    kr_peak = row(comparison, "KR", "peak_shortfall_share")
    assert kr_peak["korea_route"] <= kr_peak["japan_ban"] + 1e-9
    assert row(comparison, "JP", "peak_shortfall_share")["korea_route"] > 0.5


def test_the_ban_raises_the_price_of_dysprosium(comparison):
    """Dy, short in Japan, peaks above its initial price under the ban, later than the ban and not in the baseline."""
    multiple = row(comparison, "Dy", "peak_price_multiple")
    assert multiple["japan_ban"] > multiple["baseline"] + 0.05
    assert row(comparison, "Dy", "peak_price_date")["japan_ban"] > "2026-01-06"


def test_unmet_demand_by_sector_is_in_product_units(comparison):
    """Each sector short in any scenario has a row in its own unit (vehicles for EVs), zero where nothing is missing."""
    ev = row(comparison, "JP", "unmet_ev")
    assert ev["unit"] == "vehicle" and ev["baseline"] == 0 and ev["japan_ban"] > 1000


def test_monthly_is_long_with_a_scenario_column(comparison):
    """monthly: scenario, date, metric, country, element, value; Japan's shortfall share follows the ban."""
    monthly = comparison.monthly
    assert list(monthly.columns) == ["scenario", "date", "metric", "country", "element", "value"]
    assert set(monthly["scenario"]) == {"baseline", "japan_ban", "korea_route"}
    share = monthly[(monthly["metric"] == "shortfall_share") & (monthly["country"] == "JP")]
    by = share.groupby("scenario")["value"].max()
    assert by["baseline"] < 0.005 and by["japan_ban"] > 0.5
    before = share[(share["scenario"] == "japan_ban") & (share["date"] < "2026-01-01")]
    assert before["value"].max() < 0.005
    prices = monthly[monthly["metric"] == "price_multiple"]
    assert {"Dy", "Tb", "NdPr"} <= set(prices["element"])


def test_text_shows_values_and_differences(comparison):
    """The printed table names each scenario and shows differences in brackets, percentage points for shares."""
    text = comparison.text()
    assert "baseline" in text.splitlines()[1] and "korea_route" in text.splitlines()[1]
    jp = next(line for line in text.splitlines() if line.startswith("JP"))
    assert "peak shortfall" in jp and "pp)" in jp


def printed_rows(comparison) -> dict[tuple[str, str], str]:
    """The rows of comparison.text() by (subject, figure label): the subject is written on its first row only,
    in a column as wide as the longest subject (a magnet grade) and two spaces."""
    labels = sorted({f.label for f in comparison.figures}, key=len, reverse=True)
    width = max(len(f.subject) for f in comparison.figures) + 2
    rows, subject = {}, None
    for line in comparison.text().splitlines()[2:]:
        label = next((x for x in labels if line[width:].startswith(x + "  ")), None)
        if label is None:
            continue                                   # the note on dependency under the table
        subject = line[:width].strip() or subject
        rows[(subject, label)] = line
    return rows


def test_text_shows_every_figure_that_happened_in_some_run_and_none_that_never_did(comparison):
    """The printed table has a row for each figure with a value in at least one scenario, in the table's order;
    a figure that happened in no scenario (never short, never recovered) is left out."""
    happened = [(f.subject, f.label) for f in comparison.figures
                if any(row(comparison, f.subject, f.name)[label] is not None for label in comparison.labels)]
    assert len(happened) < len(comparison.figures)      # some never happened: JP never recovers within the run
    assert list(printed_rows(comparison)) == happened


def test_the_bracketed_difference_is_each_scenario_minus_the_first(comparison):
    """In brackets: the scenario's value minus the first scenario's, with its sign; shares in percentage points
    (to the 0.1 pp printed)."""
    rows = printed_rows(comparison)
    for subject, figure, label in [("JP", "peak_shortfall_share", "peak shortfall"),
                                   ("JP", "oxide_direct_dependency_last_year", "oxide from CN, last year")]:
        shown = [float(x) for x in re.findall(r"\(([+-]\d+\.\d) pp\)", rows[(subject, label)])]
        r = row(comparison, subject, figure)
        expected = [100 * r["japan_ban - baseline"], 100 * r["korea_route - baseline"]]
        assert shown == pytest.approx(expected, abs=0.05)
    # the ban raises Japan's peak shortfall (+) and lowers its direct dependency on China (-): both signs appear
    assert row(comparison, "JP", "peak_shortfall_share")["japan_ban - baseline"] > 0
    assert row(comparison, "JP", "oxide_direct_dependency_last_year")["japan_ban - baseline"] < -0.01


def test_save_writes_table_monthly_summaries_and_plots_atomically(comparison, tmp_path):
    """save() writes table.csv, monthly.csv, summaries.json, manifest.json, three PNGs and the explanations of
    the runs' worst-hit countries; it replaces an old folder."""
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "manifest.json").write_text('{"command": "compare"}')     # an earlier comparison's, before 'kind'
    (out / "stale.txt").write_text("from an earlier comparison")
    comparison.save(out)
    assert sorted(p.name for p in out.iterdir()) == ["explain", "manifest.json", "monthly.csv", "plots",
                                                     "summaries.json", "table.csv"]
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["dependency.png", "prices.png", "shortfall.png"]
    assert all(p.read_bytes()[:8] == PNG_HEADER for p in (out / "plots").iterdir())
    table = pd.read_csv(out / "table.csv", keep_default_na=False)
    jp = table[(table["subject"] == "JP") & (table["figure"] == "peak_shortfall_share")].iloc[0]
    assert float(jp["japan_ban"]) == pytest.approx(row(comparison, "JP", "peak_shortfall_share")["japan_ban"])
    assert set(json.loads((out / "summaries.json").read_text())) == {"baseline", "japan_ban", "korea_route"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["scenario"] for s in manifest["scenarios"]] == ["baseline", "japan_ban", "korea_route"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_a_failing_save_leaves_no_folder(comparison, tmp_path, monkeypatch):
    """If writing fails half-way, neither the comparison folder nor a temporary one is left."""
    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(sys.modules["sim.experiments.comparison"], "write_json", broken)
    with pytest.raises(OSError):
        comparison.save(tmp_path / "cmp", plots=False)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- reuse of saved runs
def test_compare_reuses_saved_results_when_the_scenario_is_unchanged_and_reruns_when_it_changed(project):
    """A saved run with the same scenario, code, seed and dates is read back, not rerun; an edited scenario is rerun."""
    files = [project / "scenarios" / "baseline.yaml", project / "scenarios" / "japan_ban.yaml"]
    fresh = {}
    for file in files:
        results = sim.run(file, end=END)
        fresh[results.scenario.name] = results
        save(results, project / "results" / results.scenario.name, plots=False)
    # mark the saved summary: only a comparison that read the file can show this number
    summary_file = project / "results" / "japan_ban" / "summary.json"
    summary = json.loads(summary_file.read_text())
    summary["countries"]["JP"]["peak_shortfall_share"] = 0.123456
    summary_file.write_text(json.dumps(summary))

    reused = sim.compare(files, end=END)
    assert [r.reused for r in reused.runs] == [True, True]
    assert row(reused, "JP", "peak_shortfall_share")["japan_ban"] == 0.123456
    # the series read back from monthly.csv and tables/prices match the run's own
    mine = monthly_series(fresh["japan_ban"]).reset_index(drop=True)
    back = reused.runs[1].series.reset_index(drop=True)
    assert (back[["metric", "date"]] == mine[["metric", "date"]]).all().all()
    assert np.allclose(back["value"], mine["value"], rtol=1e-8, atol=1e-9)

    text = files[1].read_text().replace("start: 2026-01-06", "start: 2026-03-02")
    files[1].write_text(text)
    changed = sim.compare(files, end=END)
    assert [r.reused for r in changed.runs] == [True, False]
    assert "scenario changed" in changed.runs[1].note
    assert row(changed, "JP", "peak_shortfall_share")["japan_ban"] > 0.5
    assert row(changed, "world", "first_measure")["japan_ban"] == "2026-03-02"

    rerun = sim.compare(files, end=END, rerun=True)
    assert [r.reused for r in rerun.runs] == [False, False]


def test_a_saved_run_is_refused_for_another_seed_end_code_or_without_a_manifest(project):
    """saved_run() says why a saved run cannot stand in: other seed, other dates, other code, no manifest."""
    file = project / "scenarios" / "baseline.yaml"
    end = dt.date(2024, 3, 31)
    folder = project / "results" / "baseline"
    scenario = load_scenario(file)
    assert saved_run(folder, scenario, file, "baseline", None, end) == (None, f"no saved run in {folder}")
    save(sim.run(file, end=end), folder, plots=False)
    run, why = saved_run(folder, scenario, file, "baseline", None, end)
    assert run is not None and run.reused and why == ""
    assert run.summary.countries["JP"].cumulative_unmet_t == 0
    assert "seed 0, not 3" in saved_run(folder, scenario, file, "baseline", 3, end)[1]
    assert "2024-03-25" in saved_run(folder, scenario, file, "baseline", None, dt.date(2024, 6, 30))[1]
    manifest = read_manifest(folder)
    (folder / "manifest.json").write_text(json.dumps(manifest | {"code_sha256": "0" * 64}))
    assert "code changed" in saved_run(folder, scenario, file, "baseline", None, end)[1]
    del manifest["code_sha256"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert "no code fingerprint" in saved_run(folder, scenario, file, "baseline", None, end)[1]
    (folder / "manifest.json").unlink()
    assert "no readable manifest.json" in saved_run(folder, scenario, file, "baseline", None, end)[1]


# ---------------------------------------------------------------- command line
def test_the_cli_reuses_a_saved_run_prints_the_table_and_writes_the_default_folder(project, capsys):
    """'compare A B' prints how each run came to be and the table; writes results/compare_A_vs_B beside the project."""
    files = [str(project / "scenarios" / n) for n in ("baseline.yaml", "japan_ban.yaml")]
    assert main([files[1], "--end", str(END), "--no-plots", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", *files, "--end", str(END)]) == 0
    out = capsys.readouterr().out
    assert "baseline: ran" in out and "japan_ban: reused" in out
    assert "peak shortfall" in out and "JP" in out
    folder = project / "results" / "compare_baseline_vs_japan_ban"
    assert f"comparison in {folder}" in out
    assert (folder / "table.csv").is_file() and (folder / "plots" / "shortfall.png").is_file()
    assert not [p for p in (project / "results").iterdir() if p.name.startswith(".")]


def test_quiet_prints_nothing_and_still_writes_the_comparison(project, capsys):
    """'compare --quiet' prints nothing (no runs, no table) and writes the comparison folder all the same."""
    files = [str(project / "scenarios" / n) for n in ("baseline.yaml", "japan_ban.yaml")]
    out = project / "cmp"
    assert main(["compare", *files, "--end", "2024-03-31", "--no-plots", "--quiet", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert (out / "table.csv").is_file() and not (out / "plots").exists()


def test_bad_input_exits_2_names_every_bad_file_and_writes_nothing(write, tmp_path, capsys):
    """A missing file and an invalid one are both reported, located by file and line; nothing is written."""
    bad = write(MINIMAL.replace("capacity_t: 500", "capacity_t: -3"), "bad.yaml")
    out = tmp_path / "out"
    assert main(["compare", str(SCENARIOS / "japan_ban.yaml"), str(tmp_path / "missing.yaml"), str(bad),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "missing.yaml: file not found" in err
    assert f"{bad}:" in err and "capacity_t" in err and "-3" in err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--end", "2050-01-01"], "--end 2050-01-01 must lie within the calendar"),
    (["--seed", "-1"], "--seed must be >= 0"),
])
def test_bad_options_exit_2_and_write_nothing(args, message, tmp_path, capsys):
    """An --end outside the calendar or a negative seed exits 2 before anything runs."""
    files = [str(SCENARIOS / "baseline.yaml"), str(SCENARIOS / "japan_ban.yaml")]
    assert main(["compare", *files, "--out", str(tmp_path / "out"), *args]) == 2
    assert message in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_one_scenario_is_not_a_comparison(tmp_path, capsys):
    """compare needs two or more scenarios."""
    assert main(["compare", str(SCENARIOS / "japan_ban.yaml"), "--out", str(tmp_path / "out")]) == 2
    assert "at least two scenarios" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_help_lists_the_commands():
    """'python -m sim --help' lists validate, compare and sweep."""
    out = subprocess.run([sys.executable, "-m", "sim", "--help"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0
    assert all(f"    {c}" in out.stdout for c in ("validate", "compare", "sweep"))


def test_comparing_and_sweeping_do_not_import_matplotlib():
    """The comparison and the sweep load matplotlib only when they draw."""
    code = ("import sys, sim, sim.experiments.comparison, sim.experiments.sweeps, sim.cli; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- names
def test_labels_are_unique_and_never_a_table_column():
    """Repeated scenario names are numbered; names of the table's own columns are suffixed."""
    assert unique_labels(["a", "a", "unit", "b"]) == ["a", "a_2", "unit_", "b"]


def test_the_default_folder_sits_beside_the_project_and_stays_short(project):
    """results/compare_<a>_vs_<b> beside scenarios/; very long names end in a short hash."""
    file = project / "scenarios" / "baseline.yaml"
    assert default_folder(file, ["a", "b"]) == project / "results" / "compare_a_vs_b"
    long = default_folder(file, ["x" * 60, "y" * 60])
    assert len(long.name) <= 100 and long.name.startswith("compare_xxx")
