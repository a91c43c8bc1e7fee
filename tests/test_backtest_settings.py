"""Trying a parameter on history: settings in every episode, the misfit of a scorecard, and the fit script."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim import ScenarioError
from sim.backtest import Scorecard, backtest

from .conftest import ROOT


def test_a_setting_changes_the_episode_it_is_tried_on():
    plain = backtest("myanmar_2024", workers=1)
    steep = backtest("myanmar_2024", workers=1, settings={"prices.scarcity_elasticity": 6})
    dy = "dy_price_cn_jul_2025"
    before, after = (card.table.set_index("target").loc[dy, "p50"] for card in (plain, steep))
    assert after > before > 1


def test_a_setting_an_episode_cannot_take_is_located_and_names_the_setting():
    with pytest.raises(ScenarioError) as caught:
        backtest("myanmar_2024", workers=1, settings={"prices.scarcity_elasticity": -1})
    assert "[with prices.scarcity_elasticity=-1]" in caught.value.report()


def _card(measure: str, observed: float, low: float, high: float, p50: float) -> Scorecard:
    table = pd.DataFrame([{"target": "t", "measure": measure, "observed": observed, "band_low": low,
                           "band_high": high, "p50": p50}])
    return Scorecard(table, pd.DataFrame(), [])


def test_the_misfit_is_zero_on_the_figure_and_one_at_the_band_edge():
    assert _card("share", 0.5, 0.4, 0.7, 0.5).misfit().iloc[0] == 0
    assert _card("share", 0.5, 0.4, 0.7, 0.7).misfit().iloc[0] == pytest.approx(1)
    assert _card("share", 0.5, 0.4, 0.7, 0.3).misfit().iloc[0] == pytest.approx(-2)


def test_the_misfit_of_a_multiple_is_read_on_a_log_scale():
    assert _card("multiple", 8.0, 4.0, 16.0, 4.0).misfit().iloc[0] == pytest.approx(-1)
    assert _card("multiple", 8.0, 4.0, 16.0, 2.0).misfit().iloc[0] == pytest.approx(-2)
    assert np.isnan(_card("multiple", 8.0, 4.0, 16.0, np.nan).misfit().iloc[0])


def test_the_command_sets_a_key_in_every_episode_and_refuses_two_values(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "backtest", "myanmar_2024", "--set",
                           "prices.scarcity_elasticity=6", "--no-plots", "--out", str(tmp_path / "b")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    twice = subprocess.run([sys.executable, "-m", "sim", "backtest", "myanmar_2024", "--set",
                            "prices.scarcity_elasticity=2,6", "--out", str(tmp_path / "c")],
                           capture_output=True, text=True, timeout=300)
    assert twice.returncode == 2 and "one value" in twice.stderr and not (tmp_path / "c").exists()


def test_the_fit_script_scores_a_setting_and_writes_what_reproduces_it(tmp_path):
    spec = importlib.util.spec_from_file_location("calibrate_market", ROOT / "benchmarks" / "calibrate_market.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    args = script.argparse.Namespace(fit=["myanmar_2024"], param=[("prices.scarcity_elasticity", 1.0, 3.0)],
                                     targets="dy_price_cn_jul_2025", replications=1, workers=1, method="powell",
                                     check=[], out=tmp_path / "fit.md", seeds=None)
    fit = script.Fit(args)
    misfit = fit([2.0])
    assert misfit > 0 and fit([2.0]) == misfit and len(fit.seen) == 1
    card = backtest("myanmar_2024", workers=1, settings=fit.settings([2.0]))
    text = script.render(args, fit, fit.settings([2.0]), misfit, 1.0, card, None, ["--fit", "myanmar_2024"])
    assert "| `prices.scarcity_elasticity` | 1 | 3 | 2 |" in text and "dy_price_cn_jul_2025" in text
