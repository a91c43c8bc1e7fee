"""The command line: validate passes shipped scenarios, refuses bad ones with exit 2 and no traceback."""
import contextlib
import io
import json
import os
import re
import subprocess
import sys

import pytest

from sim.cli import main
from sim.results import Summary
from sim.results.headlines import usd

from .conftest import MINIMAL, ROOT, SCENARIOS


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, capture_output=True, text=True)


def test_validate_passes_every_shipped_scenario():
    result = run_cli("validate", *sorted(SCENARIOS.glob("*.yaml")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": valid") == len(list(SCENARIOS.glob("*.yaml")))


def test_validate_prints_a_one_screen_summary(capsys):
    assert main(["validate", str(SCENARIOS / "japan_ban.yaml")]) == 0
    out = capsys.readouterr().out
    assert "countries  20" in out and "refinery" in out and "CN 86%" in out
    assert "2026-01-06 export_ban CN -> JP" in out
    assert len(out.splitlines()) < 25


def test_a_bad_scenario_exits_2_with_problems_and_no_traceback(write, tmp_path):
    path = write(MINIMAL.replace("capacity_t: 500", "capacity_t: -3").replace("[JP]", "[JAPAN]"))
    before = set(tmp_path.iterdir())
    result = run_cli("validate", path, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "2 problems" in result.stderr and "capacity_t" in result.stderr and "JAPAN" in result.stderr
    assert set(tmp_path.iterdir()) == before   # nothing written


def test_a_syntax_error_exits_2_without_a_traceback(write):
    result = run_cli("validate", write("name: x\ncalendar: [1,\n"))
    assert result.returncode == 2 and "YAML syntax error" in result.stderr and "Traceback" not in result.stderr


def test_show_prints_the_effective_scenario_after_extends(capsys):
    assert main(["validate", "--show", str(SCENARIOS / "japan_ban.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("name: japan_ban")
    assert "cn_bayan_obo:" in out and "cn_japan_dual_use_ban" in out   # base and own parts
    assert "&id" not in out and "extends" not in out


def test_running_a_scenario_writes_tables_summary_and_plots(tmp_path):
    """'python -m sim SCENARIO --out DIR' prints a summary and writes Parquet and CSV tables, summary.json, PNGs."""
    out = tmp_path / "jb"
    result = run_cli(SCENARIOS / "japan_ban.yaml", "--out", out, "--end", "2026-12-31")
    assert result.returncode == 0, result.stderr
    assert "JP" in result.stdout and "shortfall" in result.stdout
    for name in ("flows", "production", "inventory", "unmet", "prices", "dependency", "balance"):
        assert (out / "tables" / f"{name}.parquet").stat().st_size > 0
        assert (out / "tables" / f"{name}.csv").stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["countries"]["JP"]["cumulative_unmet_t"] > 0
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "days_of_cover.png", "dependency.png", "flows.png", "prices.png", "shortfall.png"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_a_run_that_cannot_start_leaves_no_folder(tmp_path):
    """An --end outside the calendar exits 2 with a clear message and writes nothing."""
    out = tmp_path / "never"
    result = run_cli(SCENARIOS / "japan_ban.yaml", "--out", out, "--end", "2040-01-01")
    assert result.returncode == 2 and "--end" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_a_failing_save_leaves_no_partial_folder(tmp_path, monkeypatch):
    """If writing fails half-way, the results folder is not created and no temporary folder is left."""
    import datetime as dt

    from sim import run
    from sim.experiments import saving
    results = run(SCENARIOS / "baseline.yaml", end=dt.date(2024, 3, 1))

    def broken(work):
        raise OSError("disk full")
    with pytest.raises(OSError):
        saving.save(results, tmp_path / "baseline", plots=False, extra=broken)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def controls_run(tmp_path_factory):
    """'python -m sim october_2025_controls.yaml --seed 7 --no-plots --end 2026-12-31': what it printed, its
    folder, its summary. Several countries go short and the price of Dy outside China rises within the run."""
    out = tmp_path_factory.mktemp("cli") / "oct"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main([str(SCENARIOS / "october_2025_controls.yaml"), "--out", str(out), "--end", "2026-12-31",
                       "--seed", "7", "--no-plots"])
    assert status == 0
    return printed.getvalue(), out, json.loads((out / "summary.json").read_text())


def test_the_printed_headline_gives_every_priced_elements_peak_multiple_and_date(controls_run):
    """A run prints one 'price peaks' line for the market outside China naming every priced element and magnet
    grade of summary.json with its peak multiple (to the two decimals printed), the date of the peak, and
    ", the cap" on a peak at the cap (the baseline's x20), which the controls reach."""
    printed, _, summary = controls_run
    lines = [line for line in printed.splitlines()
             if line.strip().startswith("price peaks outside the home market:")]
    assert len(lines) == 1, "no (or more than one) 'price peaks' line in the headline"
    found = re.findall(r"(\w+) x(\d+\.\d+) \((\d{4}-\d\d-\d\d)(, the cap)?\)", lines[0])
    shown = {e: (float(x), day) for e, x, day, _ in found}
    capped = {e for e, _, _, cap in found if cap}
    assert capped == {e for e, p in summary["prices"].items() if p["peak_multiple"] >= 20 * (1 - 1e-9)} != set()
    prices = summary["prices"]
    assert prices and set(shown) == set(prices)
    for element, peak in prices.items():
        multiple, day = shown[element]
        assert multiple == pytest.approx(peak["peak_multiple"], abs=0.005)    # printed as x1.32
        assert day == peak["peak_date"]
    assert max(p["peak_multiple"] for p in prices.values()) > 1.05          # the ban moves a price


def test_the_printed_headline_lists_the_short_countries_most_unmet_first_with_their_figures(controls_run):
    """Under 'shortfall of end-use magnet demand' a row per short country of summary.json (at most 8), most unmet
    t first: peak shortfall (to the 0.1% printed), its date, weeks to plant / end-use shortfall, unmet t, gross
    output at risk; then a line saying what that is."""
    printed, _, summary = controls_run
    lines = printed.splitlines()
    assert "no end-use shortfall" not in printed
    first = lines.index("  shortfall of end-use magnet demand:") + 2                  # after the column heads
    table = [line for line in lines[first:] if line.startswith("    ")]
    assert table[-1].startswith("    output at risk: units not made") and "not GDP" in table[-1]
    rows = [line.split(maxsplit=8) for line in table[:-1]]
    short = sorted((c for c, v in summary["countries"].items() if v["cumulative_unmet_t"] > 1e-6),
                   key=lambda c: -summary["countries"][c]["cumulative_unmet_t"])[:8]
    assert len(short) >= 2 and [r[0] for r in rows] == short
    for country, peak, day, plants, slash, users, unmet_t, _, at_risk in rows:
        assert at_risk == Summary.from_dict(summary).countries[country].at_risk_text    # '$..' or 'not valued'
        assert at_risk == "not valued" or at_risk.startswith(usd(summary["countries"][country]["value_at_risk_usd"]))
        v = summary["countries"][country]
        assert float(peak.rstrip("%")) == pytest.approx(100 * v["peak_shortfall_share"], abs=0.05)
        assert day == v["peak_shortfall_date"] and slash == "/"
        weeks = [v["weeks_to_plant_shortfall"], v["weeks_to_shortfall"]]
        assert [plants, users] == ["—" if w is None else f"{w:.0f}" for w in weeks]     # whole weeks, or never
        assert float(unmet_t.replace(",", "")) == pytest.approx(v["cumulative_unmet_t"], abs=0.5)


def test_a_run_says_when_no_country_goes_short(tmp_path, capsys):
    """Without a shortfall the headline says so in one line and prints no shortfall table."""
    assert main([str(SCENARIOS / "baseline.yaml"), "--out", str(tmp_path / "b"), "--end", "2024-06-30",
                 "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "  no end-use shortfall in any country" in printed.splitlines()
    assert "shortfall of end-use magnet demand" not in printed


def test_seed_and_no_plots_reach_the_run_and_its_folder(controls_run):
    """--seed 7 is the run's seed (printed, in summary.json and manifest.json); --no-plots writes no plots."""
    printed, out, summary = controls_run
    assert summary["seed"] == 7 and json.loads((out / "manifest.json").read_text())["seed"] == 7
    assert printed.splitlines()[1].startswith("  seed 7, ")
    assert (out / "summary.json").is_file() and (out / "tables" / "flows.csv").is_file()
    assert not (out / "plots").exists()


def test_output_cut_short_by_its_reader_ends_quietly(tmp_path):
    """'python -m sim validate FILES | head -1': one line out, exit 0, no BrokenPipe traceback."""
    files = " ".join(str(p) for p in sorted(SCENARIOS.glob("*.yaml")))
    result = subprocess.run(f"{sys.executable} -m sim validate {files} | head -1", shell=True, cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.count("\n") == 1 and ": valid" in result.stdout
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


def test_version_prints_the_package_version():
    from sim import __version__
    for args in (["--version"], ["run", "--version"]):
        result = run_cli(*args)
        assert result.returncode == 0 and result.stdout.strip() == f"python -m sim {__version__}"


def test_run_is_an_explicit_subcommand(tmp_path):
    """'python -m sim run FILE' runs FILE, as 'python -m sim FILE' does; it is not read as a file called 'run'."""
    out = tmp_path / "jb"
    result = run_cli("run", SCENARIOS / "japan_ban.yaml", "--out", out, "--end", "2025-03-31", "--no-plots",
                     "--quiet")
    assert result.returncode == 0, result.stderr
    assert (out / "summary.json").is_file()
    assert "run" in run_cli("--help").stdout


@pytest.mark.parametrize("quiet", [False, True])
def test_a_run_that_must_first_compile_the_engine_compiles_it_ahead_and_says_so_unless_quiet(write, monkeypatch,
                                                                                               capsys, tmp_path, quiet):
    monkeypatch.setattr("sim.kernels.compiled", lambda: False)
    ahead = []
    monkeypatch.setattr("sim.kernels.precompile", lambda: ahead.append(True))
    scenario = write(MINIMAL)
    assert main([str(scenario), "--end", "2025-03-31", "--no-plots", "--out", str(tmp_path / "out"),
                 *(["--quiet"] if quiet else [])]) == 0
    said = "compiling the engine for this machine, once" in capsys.readouterr().err
    assert said is not quiet
    assert ahead == [True]


def test_a_run_that_is_the_first_to_use_a_kernel_says_so_once_when_it_compiles_it_and_nothing_after(tmp_path):
    """Where the cache holds the kernels of earlier runs (the up-front check says the engine is compiled), a
    kernel no run has used yet compiles in the run: up to half a minute of silence, said when they start. Said once
    a run; what compiles outside a run (a notebook's later call) is not."""
    first_use = ("import numpy as np; import sim.cli as c; from sim.kernels.markets import most_covered; "
                 "from sim.kernels.sums import row_sums; from sim.kernels.tagged import live_rows\n"
                 "with c._first_use_said(False): pass\n"                  # a run that compiled nothing
                 "most_covered(np.ones((2, 2, 2)))\n"                       # compiled after it
                 "with c._first_use_said(False): row_sums(np.ones((2, 2))); live_rows(np.ones((2, 2, 2)))")
    said = subprocess.run([sys.executable, "-c", first_use], env=os.environ | {"NUMBA_CACHE_DIR": str(tmp_path)},
                          capture_output=True, text=True, check=True, cwd=ROOT).stderr.splitlines()
    assert said == ["python -m sim: compiling the kernels this run is the first to use (row_sums ...), once "
                    "(up to half a minute)"]
