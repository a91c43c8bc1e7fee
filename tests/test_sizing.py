"""How much is enough: the smallest value of a lever meeting a target in a stated share of replications."""
import datetime
import json

import numpy as np
import pytest

import sim
from sim.cli import main
from sim.errors import ScenarioError
from sim.experiments.sizing import GRID, search

from .conftest import SCENARIOS

END = datetime.date(2027, 6, 30)


def _thresholds(n: int = 20) -> np.ndarray:
    """Replication r meets the target from lever value 100 + 7 r on: a known answer."""
    return 100 + 7 * np.arange(n)


def test_bisection_finds_the_smallest_value_that_meets_the_target_in_the_stated_share():
    """With 20 replications and 95 %, 19 must meet it: from the 19th smallest threshold on, 226."""
    limits = _thresholds()
    calls = []

    def evaluate(values):
        calls.append(list(values))
        return [list(v >= limits) for v in values]

    tried, method = search(evaluate, lambda x: float(round(x)), 0, 720, 1.0, 0.95)
    assert method == "bisection"
    share = {v: np.mean(m) for v, m in tried.items()}
    assert share[226.0] >= 0.95 and share[225.0] < 0.95          # both sides of the answer were tried
    assert len(tried) <= GRID + int(np.ceil(np.log2(720 / (GRID - 1)))) + 1   # a bisection, not a scan
    assert all(v not in sum(calls[:k], []) for k, call in enumerate(calls) for v in call)   # each value run once


def test_a_share_that_falls_somewhere_is_searched_on_the_grid_and_said_so():
    def evaluate(values):
        return [[v not in (360.0,)] * 20 for v in values]            # fails in the middle only

    tried, method = search(evaluate, lambda x: float(round(x)), 0, 720, 1.0, 0.95)
    assert method == "grid" and sorted(tried) == [0.0, 180.0, 360.0, 540.0, 720.0]


@pytest.fixture(scope="module")
def japan_sized():
    """The deterministic Japan stockpile scenario: the smallest stockpile that keeps Japan's magnet plants
    supplied for 30 weeks after the ban."""
    return sim.size(SCENARIOS / "japan_stockpile.yaml", "stockpiles.JP.days", 0, 360,
                    "JP.weeks_to_plant_shortfall >= 30", end=END)


def test_size_finds_the_threshold_that_runs_either_side_of_it_show(japan_sized):
    """One day less than the answer leaves the plants short before 30 weeks; the answer does not."""
    answer = japan_sized.answer
    assert japan_sized.method == "bisection" and answer is not None and 0 < answer < 360
    assert answer == int(answer)                                   # days are whole: the answer too
    swept = sim.sweep(SCENARIOS / "japan_stockpile.yaml", "stockpiles.JP.days", [int(answer) - 1, int(answer)],
                      end=END)
    weeks = [run.summary.countries["JP"].weeks_to_plant_shortfall for run in swept.runs]
    assert weeks[0] is not None and weeks[0] < 30
    assert weeks[1] is None or weeks[1] >= 30
    assert "no uncertain input" in japan_sized.text()


def test_size_writes_its_curve_and_chart(japan_sized, tmp_path):
    folder = japan_sized.save(tmp_path / "sized")
    curve = (folder / "curve.csv").read_text().splitlines()
    assert curve[0].startswith("value,met,replications,share")
    assert len(curve) - 1 == len(japan_sized.curve) >= GRID
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "sizing" and manifest["answer"] == japan_sized.answer
    assert (folder / "plots" / "confidence.png").read_bytes()[:4] == b"\x89PNG"


def test_paired_replications_give_the_answer_a_band(tmp_path, capsys):
    """Uncertain inputs: each value runs the same replications; the answer has a bootstrap band around it."""
    assert main(["size", str(SCENARIOS / "japan_stockpile_uncertain.yaml"), "--lever", "stockpiles.JP.days",
                 "--range", "0..720", "--target", "JP.weeks_to_plant_shortfall >= 52", "--replications", "6",
                 "--end", "2027-06-30", "--workers", "1", "--out", str(tmp_path / "s"), "--no-plots"]) == 0
    out = capsys.readouterr().out
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    answer, low, high = manifest["answer"], manifest["answer_p5"], manifest["answer_p95"]
    assert answer is not None and low <= answer and (high is None or answer <= high)
    assert f"stockpiles.JP.days = {answer:,.0f}" in out and "bootstrap P5..P95" in out
    rows = (tmp_path / "s" / "replications.csv").read_text().splitlines()
    assert rows[0].startswith("stockpiles.JP.days,") and "target_met" in rows[0]


@pytest.mark.parametrize("args, said", [
    (["--lever", "stockpiles.JP.dayz", "--range", "0..720"], "no key 'dayz' in stockpiles.JP (did you mean days?)"),
    (["--lever", "stockpiles.JP.days", "--range", "720..0"], "--range: expected LOW..HIGH with LOW < HIGH"),
    (["--lever", "stockpiles.JP.days", "--range", "zero..720"], "--range: expected LOW..HIGH (numbers)"),
    (["--lever", "stockpiles.JP.days", "--range=-10..720"], "stockpiles.JP.days: must be ≥ 0, got -10 [with"),
])
def test_bad_levers_and_ranges_are_refused_where_they_are_written(args, said, capsys, tmp_path):
    code = main(["size", str(SCENARIOS / "japan_stockpile.yaml"), *args, "--target",
                 "JP.weeks_to_plant_shortfall >= 30", "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and said in err and "nothing written" in err and not (tmp_path / "s").exists()


@pytest.mark.parametrize("target, said", [
    ("JP.weeks_to_shortfal >= 52", "did you mean JP.weeks_to_shortfall?"),
    ("JP.weeks_to_shortfall => 52", "expected COUNTRY.FIGURE OP NUMBER"),
    ("JP.peak_shortfall_date >= 52", "is a date"),
    ("weeks_to_shortfall >= 52", "name whose figure it is"),
    ("JP.weeks_to_shortfall >= 500", "too early to tell"),
    ("JP.cumulative_unmet_t <= 5%", "not a share"),
])
def test_a_target_the_runs_cannot_answer_is_refused_before_anything_runs(target, said):
    with pytest.raises(ScenarioError) as info:
        sim.size(SCENARIOS / "japan_stockpile.yaml", "stockpiles.JP.days", 0, 360, target, end=END)
    assert said in str(info.value.problems[0])


def test_the_issue_s_name_for_weeks_to_shortfall_is_taken():
    from sim.experiments.sizing import parse_target

    target = parse_target("JP.weeks_to_short_users >= 52", sim.load_scenario(SCENARIOS / "japan_stockpile.yaml"), 300)
    assert target.figure.key == "JP.weeks_to_shortfall" and target.met(None) and not target.met(51.0)
