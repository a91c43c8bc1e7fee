"""Which inputs drive an outcome: Sobol' indices and Morris screening over a designed sample of runs."""
import datetime
import json

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

import sim
from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario.distributions import DateDist, Dist
from sim.scenario.loading import read_scenario, validate_document
from sim.scenario.overrides import apply, resolve

from .conftest import SCENARIOS

END = datetime.date(2026, 12, 31)
JAPAN = SCENARIOS / "japan_ban.yaml"
STOCKPILE, EV_VALUE = "stockpiles.JP.days=0..180", "sectors.ev.value_usd_per_unit=20000..80000"


@pytest.fixture(scope="module")
def sobol():
    """japan_ban to the end of 2026, with two inputs: Japan's stockpile, which moves its unmet demand, and the
    money a car is worth, which does not (it moves only the output at risk)."""
    return sim.sensitivity(JAPAN, [STOCKPILE, EV_VALUE], samples=8, end=END, workers=2,
                           metrics=["JP.cumulative_unmet_t", "JP.value_at_risk_usd"])


def _index(result, metric, name, column):
    rows = result.indices
    return float(rows[(rows["metric"] == metric) & (rows["input"] == name)][column].iloc[0])


def test_an_input_with_no_effect_gets_sobol_indices_of_zero(sobol):
    """A car's value does not change a tonne of unmet magnet: both its indices on unmet t are 0, while the
    stockpile explains nearly all of it."""
    assert _index(sobol, "JP.cumulative_unmet_t", "sectors.ev.value_usd_per_unit", "S1") == pytest.approx(0, abs=1e-9)
    assert _index(sobol, "JP.cumulative_unmet_t", "sectors.ev.value_usd_per_unit", "ST") == pytest.approx(0, abs=1e-9)
    assert _index(sobol, "JP.cumulative_unmet_t", "stockpiles.JP.days", "ST") > 0.9
    assert _index(sobol, "JP.value_at_risk_usd", "sectors.ev.value_usd_per_unit", "ST") > 0.05   # money: both


def test_each_run_stands_beside_its_inputs_and_one_rerun_alone_agrees(sobol):
    """N (D + 2) samples of one replication each; values in their ranges, days whole; a sample run again by hand
    with its inputs gives the same figure."""
    runs = sobol.runs
    assert len(runs) == 8 * (2 + 2) and set(runs["replication"]) == {0}
    days = runs["stockpiles.JP.days"]
    assert days.between(0, 180).all() and (days == days.round()).all() and days.nunique() > 4
    assert runs["sectors.ev.value_usd_per_unit"].between(20000, 80000).all()
    row = runs.iloc[5]
    doc = read_scenario(JAPAN)
    for key in ("stockpiles.JP.days", "sectors.ev.value_usd_per_unit"):
        doc = apply(doc, resolve(doc, key).path, row[key].item())
    alone = sim.run(validate_document(doc), end=END).summary().countries["JP"].cumulative_unmet_t
    assert alone == row["JP.cumulative_unmet_t"]


def test_the_folder_holds_the_runs_the_indices_and_a_chart(sobol, tmp_path):
    folder = sobol.save(tmp_path / "sens")
    assert {p.name for p in folder.iterdir()} == {"runs.csv", "indices.csv", "manifest.json", "plots"}
    assert (folder / "plots" / "indices.png").stat().st_size > 10_000
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["runs"] == 32 and len(manifest["inputs"]) == 2
    text = sobol.text()
    assert "JP.cumulative_unmet_t" in text and "stockpiles.JP.days: uniform 0..180, whole numbers" in text


def test_morris_screening_finds_no_effect_where_there_is_none_and_repeats_itself_on_any_workers():
    asked = dict(samples=3, method="morris", end=END, metrics=["JP.cumulative_unmet_t"])
    result = sim.sensitivity(JAPAN, [STOCKPILE, EV_VALUE], workers=2, **asked)
    again = sim.sensitivity(JAPAN, [STOCKPILE, EV_VALUE], workers=1, **asked)
    pd.testing.assert_frame_equal(result.runs, again.runs)
    pd.testing.assert_frame_equal(result.indices, again.indices)            # the bootstrap's intervals too
    assert len(result.runs) == 3 * (2 + 1)
    assert _index(result, "JP.cumulative_unmet_t", "sectors.ev.value_usd_per_unit", "mu_star") == 0
    assert _index(result, "JP.cumulative_unmet_t", "stockpiles.JP.days", "mu_star") > 1000   # t per 0..180 days


def test_without_inputs_the_scenarios_declared_distributions_are_varied():
    doc = read_scenario(SCENARIOS / "japan_ban_uncertain.yaml")
    from sim.experiments.sensitivity import parse_inputs

    inputs = parse_inputs(doc, validate_document(doc), [])
    by_name = {i.name: i for i in inputs}
    assert set(by_name) == {"stockpiles.JP.days", "stockpiles.JP.release.max_days_per_month",
                            "trade.switching_days.magnet"}                  # not the events' happened-or-not
    days = by_name["stockpiles.JP.days"]
    assert all(i.declared for i in inputs) and (days.at(0.0), days.at(1.0)) == (21, 180)


@pytest.mark.parametrize("written", [
    {"dist": "normal", "mean": 3, "sd": 2}, {"dist": "lognormal", "median": 3, "sigma": 0.5},
    {"dist": "triangular", "low": 20, "mode": 45, "high": 63}, {"dist": "uniform", "low": 0.5, "high": 0.9},
    {"dist": "choice", "values": [1, 2, 5], "p": [0.2, 0.5, 0.3]}])
def test_a_distribution_read_through_its_quantiles_matches_its_draws(written):
    """A share q of the sampler's draws lies below the q-quantile (within four standard errors; for a choice,
    q falls between the shares strictly below and at or below it)."""
    d = TypeAdapter(Dist).validate_python(written)
    n = 40_000
    draws = d.samples(np.random.default_rng(8), n)
    for q in (0.1, 0.5, 0.9):
        x, error = d.quantile(q), 4 * np.sqrt(q * (1 - q) / n)
        assert np.mean(draws < x) - error <= q <= np.mean(draws <= x) + error


def test_a_quantile_stays_within_the_fields_bounds_and_dates_are_days():
    share = TypeAdapter(Dist).validate_python({"dist": "normal", "mean": 0.9, "sd": 0.2}).with_bounds(0, 1)
    assert share.quantile(1.0) == 1.0 and share.quantile(0.0) < 0.9
    start = TypeAdapter(DateDist).validate_python({"dist": "triangular", "low": datetime.date(2026, 7, 1),
                                                   "mode": datetime.date(2027, 7, 1), "high": datetime.date(2028, 6, 30)})
    assert (start.quantile(0.0), start.quantile(1.0)) == (datetime.date(2026, 7, 1), datetime.date(2028, 6, 30))


@pytest.mark.parametrize("vary, options, says", [
    (["stockpile.JP.dyas=0..10"], {}, "did you mean"),
    (["stockpiles.JP.days=10..0"], {}, "LOW < HIGH"),
    (["stockpiles.JP.days=ten..20"], {}, "expected LOW..HIGH"),
    (["stockpiles.JP.days=-30..30"], {}, "stockpiles.JP.days=-30"),
    (["stockpiles.JP.days"], {}, "holds 42, not a distribution"),
    (["stockpiles.JP.days=0..9", "stockpiles.JP.days=0..9"], {}, "named twice"),
    ([STOCKPILE], {"samples": 12}, "power of 2"),
    ([STOCKPILE], {"method": "anova"}, "expected one of sobol, morris"),
    ([STOCKPILE], {"metrics": ["JP.peak_shortfall_date"]}, "is a date"),
    ([STOCKPILE], {"metrics": ["JP.cumulativ_unmet_t"]}, "did you mean"),
    ([], {}, "declares no distribution"),
])
def test_bad_inputs_are_refused_before_anything_runs(vary, options, says):
    with pytest.raises(ScenarioError, match=says):
        sim.sensitivity(JAPAN, vary, end=END, **({"samples": 4} | options))


def test_a_distribution_drawn_per_application_is_refused_with_what_to_write_instead():
    with pytest.raises(ScenarioError, match=r"drawn afresh for each use.*processing_days.mode=LOW..HIGH") as got:
        sim.sensitivity(SCENARIOS / "april_2025_licensing.yaml", ["events.april_2025_licences.processing_days"])
    assert got.value.problems[0].line is not None                    # located at the key's line


def test_the_command_line_refuses_bad_input_in_one_report_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "sens"
    assert main(["sensitivity", str(JAPAN), "--vary", "stockpiles.JP.days=ten..20", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot run the sensitivity analysis; nothing written" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["sensitivity", str(JAPAN), "--vary", STOCKPILE, "--scheduler", "tcp://127.0.0.1:1",
                 "--workers", "2"]) == 2
    assert "--scheduler and --workers do not go together" in capsys.readouterr().err


def test_the_command_line_runs_prints_and_writes_the_analysis(tmp_path, capsys):
    out = tmp_path / "sens"
    assert main(["sensitivity", str(JAPAN), "--vary", STOCKPILE, "--samples", "2", "--end", "2026-06-30",
                 "--metric", "JP.cumulative_unmet_t", "--out", str(out), "--no-plots", "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "Sobol' indices (Saltelli), N = 2; 6 samples" in printed and f"sensitivity analysis in {out}" in printed
    assert (out / "runs.csv").is_file() and (out / "indices.csv").is_file() and not (out / "plots").exists()


def test_what_is_still_drawn_is_named_and_with_replications_its_share_of_the_variance_measured():
    """Japan's stockpile varied under japan_ban_uncertain: the reading of the ban, the release and the switching
    delay are still drawn, alike in every sample; two replications a sample measure how much they move a run."""
    asked = dict(samples=2, end=END, metrics=["JP.cumulative_unmet_t"], workers=2)
    once = sim.sensitivity(SCENARIOS / "japan_ban_uncertain.yaml", ["stockpiles.JP.days=0..180"], **asked)
    twice = sim.sensitivity(SCENARIOS / "japan_ban_uncertain.yaml", ["stockpiles.JP.days=0..180"], replications=2,
                            **asked)
    (held,) = [n for n in once.notes if n.startswith("note: still drawn")]
    assert "trade.switching_days.magnet" in held and "stockpiles.JP.days," not in held and "not measured" in held
    assert len(twice.runs) == 2 * len(once.runs) and set(twice.runs["replication"]) == {0, 1}
    assert any(n.startswith("note: JP.cumulative_unmet_t: the draws held in common make") for n in twice.notes)
    first = twice.runs[twice.runs["replication"] == 0].reset_index(drop=True)
    assert first["JP.cumulative_unmet_t"].tolist() == once.runs["JP.cumulative_unmet_t"].tolist()   # replication 0
