"""Briefing plots: five PNGs per run, written with matplotlib only from sim.plots."""
import datetime
import importlib
import pathlib
import subprocess
import sys

import pytest

from sim import load_scenario
from sim.engine.simulation import Simulation
from sim.plots import briefing, briefing_countries

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


@pytest.mark.parametrize("countries", [("KR",), ("US", "JP")])
def test_the_cover_and_dependency_plots_follow_exactly_the_countries_asked_for(results, tmp_path, monkeypatch,
                                                                              countries):
    """A panel of days of cover per country asked for, and those countries in the dependency legend, in order."""
    assert briefing_countries(results) != countries                 # the default countries would not pass
    drawn = {}
    module = importlib.import_module("sim.plots.briefing")      # the package's name ``briefing`` is the function
    save = module.save_figure

    def keep(fig, path, note):
        drawn[pathlib.Path(path).stem] = fig
        return save(fig, path, note)

    monkeypatch.setattr(module, "save_figure", keep)
    briefing(results, tmp_path, countries=countries)
    assert [ax.get_title() for ax in drawn["days_of_cover"].axes if ax.get_title()] == list(countries)
    legend = drawn["dependency"].axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == [*countries, "direct", "embedded"]


def test_the_engine_does_not_import_matplotlib():
    """Only sim.plots uses matplotlib: running and tabulating a scenario or an ensemble must not load it."""
    code = "import sys, sim.engine.simulation, sim.results.tables, sim.experiments.ensemble; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
