"""Band plots of a Monte Carlo ensemble: P50 lines over P5-P95 bands, written into the ensemble folder."""
from __future__ import annotations

import datetime as dt

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run_ensemble
from sim.cli import main
from sim.plots import band_shortfall_figure, plot_ensemble

from .conftest import SCENARIOS

END = dt.date(2026, 3, 31)
LICENSING = SCENARIOS / "april_2025_licensing.yaml"
NAMES = ["dependency.png", "headline_bands.png", "prices.png", "shortfall.png"]
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    return run_ensemble(load_scenario(LICENSING), 3, tmp_path_factory.mktemp("plots") / "ens", end=END, workers=1)


def test_ensemble_plot_writes_four_pngs_into_its_plots_folder(ensemble):
    paths = ensemble.plot()
    assert sorted(p.name for p in paths) == NAMES
    assert all(p.parent == ensemble.folder / "plots" for p in paths)
    for path in paths:
        assert path.stat().st_size > 10_000 and path.read_bytes()[:8] == PNG_HEADER
    assert not [p for p in (ensemble.folder / "plots").iterdir() if p.name.startswith(".")]   # no temporaries


def test_plot_ensemble_writes_to_another_folder_on_request(ensemble, tmp_path):
    paths = plot_ensemble(ensemble, tmp_path / "elsewhere", countries=("JP",))
    assert sorted(p.name for p in paths) == NAMES and all(p.parent == tmp_path / "elsewhere" for p in paths)


def test_the_shaded_band_runs_from_p5_to_p95_and_the_line_is_p50(ensemble):
    bands = ensemble.bands
    rows = bands[(bands["metric"] == "shortfall_share") & (bands["country"] == "US")].sort_values("date")
    assert (rows["p95"] > rows["p5"] + 1e-6).any()          # a real band, not a line
    fig = band_shortfall_figure(bands, ["US"], {})
    ax = fig.axes[0]
    (band,) = ax.collections
    vertices = band.get_paths()[0].vertices
    for date, p5, p50, p95 in zip(rows["date"], rows["p5"], rows["p50"], rows["p95"]):
        at = vertices[np.isclose(vertices[:, 0], mdates.date2num(pd.Timestamp(date)))][:, 1]
        assert at.min() == pytest.approx(p5) and at.max() == pytest.approx(p95)
    (line,) = ax.lines[:1]
    assert np.allclose(np.asarray(line.get_ydata(), dtype=float), rows["p50"].to_numpy())


def test_the_cli_writes_band_plots_unless_told_not_to(tmp_path):
    out = tmp_path / "ens"
    common = [str(LICENSING), "--replications", "2", "--workers", "1", "--end", END.isoformat(), "--out", str(out),
              "--quiet"]
    assert main(common + ["--no-plots"]) == 0
    assert (out / "bands.csv").is_file() and not list(out.rglob("*.png"))
    assert main(common + ["--resume"]) == 0                  # nothing left to run; the plots are drawn
    assert sorted(p.name for p in (out / "plots").iterdir()) == NAMES
    assert main(common + ["--resume", "--no-plots"]) == 0    # new bands: plots of the old ones do not stay
    assert not (out / "plots").exists()
