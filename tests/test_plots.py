"""Briefing plots: five PNGs per run, written with matplotlib only from sim.plots."""
import datetime
import subprocess
import sys

import pytest

from sim import load_scenario
from sim.engine.simulation import Simulation
from sim.plots import briefing

from .conftest import ROOT, SCENARIOS

NAMES = ("shortfall.png", "days_of_cover.png", "prices.png", "dependency.png", "flows.png")
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results():
    """The Japan-ban scenario, cut short after the ban bites so the module stays fast."""
    return Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end=datetime.date(2027, 6, 30)).run()


def test_briefing_writes_five_named_pngs(results, tmp_path):
    """briefing() returns the paths of five non-empty PNG files with the expected names, in the folder given."""
    paths = briefing(results, tmp_path)
    assert [p.name for p in paths] == list(NAMES)
    for path in paths:
        assert path.parent == tmp_path and path.is_file() and path.stat().st_size > 10_000
        assert path.read_bytes()[:8] == PNG_HEADER


def test_briefing_follows_the_countries_asked_for_and_creates_the_folder(results, tmp_path):
    """Given countries and a folder that does not exist yet, briefing() creates it and still writes all five."""
    paths = briefing(results, tmp_path / "new" / "briefing", countries=("KR",))
    assert sorted(p.name for p in paths) == sorted(NAMES) and all(p.stat().st_size > 0 for p in paths)


def test_the_engine_does_not_import_matplotlib():
    """Only sim.plots uses matplotlib: running and tabulating a scenario or an ensemble must not load it."""
    code = "import sys, sim.engine.simulation, sim.results.tables, sim.experiments.ensemble; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
