"""Briefing plots: five PNGs per run, written with matplotlib only from sim.plots."""
import datetime
import importlib
import pathlib
import subprocess
import sys

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.engine.simulation import Simulation
from sim.plots import briefing, briefing_countries, colour
from sim.plots.briefing import cover_figure, cover_top, prices_figure, shortfall_figure
from sim.plots.style import multiple_ticks

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

    def keep(fig, path, note, **kwargs):
        drawn[pathlib.Path(path).stem] = fig
        return save(fig, path, note, **kwargs)

    monkeypatch.setattr(module, "save_figure", keep)
    briefing(results, tmp_path, countries=countries)
    assert [ax.get_title() for ax in drawn["days_of_cover"].axes if ax.get_title()] == list(countries)
    legend = drawn["dependency"].axes[1].get_legend()          # to the right of the second panel
    assert [text.get_text() for text in legend.get_texts()] == [*countries, "direct", "embedded"]


def test_the_engine_does_not_import_matplotlib():
    """Only sim.plots uses matplotlib: running and tabulating a scenario or an ensemble must not load it."""
    code = "import sys, sim.engine.simulation, sim.results.tables, sim.experiments.ensemble; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- what the plots mark and label
@pytest.fixture(scope="module")
def many():
    """Suspension expiry: ten events (measures, suspensions, tariffs), cut short after the controls return."""
    return Simulation(load_scenario(SCENARIOS / "suspension_expiry.yaml"), seed=0, end=datetime.date(2027, 6, 30)).run()


@pytest.fixture(scope="module")
def drawn(many, tmp_path_factory):
    """The briefing's figures by name, kept as save_figure (which adds the events' key) leaves them."""
    module = importlib.import_module("sim.plots.briefing")
    save, figures = module.save_figure, {}

    def keep(fig, path, note, **kwargs):
        figures[pathlib.Path(path).stem] = fig
        return save(fig, path, note, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "save_figure", keep)
        briefing(many, tmp_path_factory.mktemp("drawn"))
    for fig in figures.values():
        fig.canvas.draw()
    return figures


def _vline_dates(ax) -> set:
    """The dates of the vertical lines across an axes."""
    def day(x):
        return pd.Timestamp(x).date() if isinstance(x, (pd.Timestamp, datetime.date)) else mdates.num2date(x).date()
    return {day(line.get_xdata()[0]) for line in ax.lines
            if len(set(np.atleast_1d(line.get_xdata()))) == 1 and tuple(line.get_ydata()) == (0, 1)}


def test_every_event_of_the_run_is_marked_by_its_number_and_named_in_the_key(many, drawn):
    """Each event's start (and end, within the run) has a line and its number on the axes, and the key under
    the figure names every event by number and id, not only the first measure."""
    results = many
    events = results.events
    assert len(events) == 10
    ax = drawn["shortfall"].axes[0]
    shown = events[events["start"] <= pd.Timestamp(results.dates[-1])]
    assert {d.date() for d in shown["start"]} <= _vline_dates(ax)
    numbers = {n for t in ax.texts for part in t.get_text().replace(" ends", "").split(" · ")
               for n in part.split(",") if n.isdigit()}
    assert {str(n) for n in shown["number"]} <= numbers
    key = " | ".join(t.get_text() for t in drawn["shortfall"].texts)
    for row in events.itertuples():
        assert f"{row.number} {row.label}" in key


def test_an_event_with_no_date_is_named_in_the_key_without_one(tmp_path):
    """A substitution is set off by a price, not a date (2010's Dy thrifting): the key names it with "no set
    date", and the briefing is drawn."""
    from matplotlib.figure import Figure

    from sim.plots.style import event_key
    from sim.results.events import events_table

    events = events_table(load_scenario(SCENARIOS / "crisis_2010.yaml").events)
    assert events["start"].isna().any()
    fig = Figure()
    event_key(fig, events)
    undated = events[events["start"].isna()].iloc[0]
    assert any(t.get_text().startswith(f"{undated.number} {undated.label}") and "no set date" in t.get_text()
               for t in fig.texts)


def test_the_event_numbers_do_not_overlap(drawn):
    """Numbers of events close in time are staggered onto rows, so no two of them overlap."""
    for name in ("shortfall", "prices", "dependency"):
        ax = drawn[name].axes[0]
        boxes = [t.get_window_extent() for t in ax.texts if t.get_gid() != "empty-note"]
        assert len(boxes) > 1
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b), name


def test_the_price_axis_is_a_log_ruler_labelled_at_x1_2_x1_5_x2_and_up(drawn):
    """Prices under the Japan ban reach ×20: the log axis is labelled ×1, ×1.2, ×1.5, ×2, ×3, ×5, ×10, ×20."""
    ax = drawn["prices"].axes[0]
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels == ["×1", "×1.2", "×1.5", "×2", "×3", "×5", "×10", "×20"]


def test_a_narrow_price_axis_is_labelled_at_x1_1_x1_2_x1_3():
    """A price that rises by 40% is read on ticks ×1.1, ×1.2, ×1.3 (no finer axis is needed to read ×1.3)."""
    assert multiple_ticks(0.95, 1.45, room=3.0) == [1.0, 1.1, 1.2, 1.3]
    assert multiple_ticks(0.95, 22, room=3.5) == [1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0]
    assert multiple_ticks(0.95, 22, room=1.0) == [1.0, 2.0, 5.0, 10.0, 20.0]     # a short panel: fewer labels


def test_the_days_of_cover_axis_fits_each_countrys_data(many, drawn):
    """Each cover panel's axis ends a little above the highest cover it shows (at most a year), not at a
    fixed 120 days."""
    inventory = many.table("inventory", "month")
    panels = [ax for ax in drawn["days_of_cover"].axes if ax.get_title() in many.countries]
    assert panels
    for ax in panels:
        cover = inventory[(inventory["stage"] == "refinery") & (inventory["country"] == ax.get_title())
                          & inventory["item"].isin(("Dy", "Tb", "NdPr"))]["days_of_cover"]
        highest = min(cover.max(), 365.0) if len(cover) else 0.0
        assert highest * 1.0 <= ax.get_ylim()[1] <= max(10.0, highest * 1.1)
    assert cover_top(pd.Series([20.0, 1e22])) == pytest.approx(365 * 1.08)
    assert cover_top(pd.Series([], dtype=float)) == 10.0


def test_legends_sit_outside_the_axes_they_explain(drawn):
    """No legend covers the lines: every legend of a briefing plot lies outside its axes."""
    seen = 0
    for name, fig in drawn.items():
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                seen += 1
                assert not legend.get_window_extent().overlaps(ax.get_window_extent()), name
    assert seen >= 4


def test_an_empty_panel_says_why(results):
    """A run where nobody goes short, nothing is priced differently and a country holds no oxide says so."""
    calm = Simulation(load_scenario(SCENARIOS / "baseline.yaml"), seed=0, end=datetime.date(2024, 6, 30)).run()
    notes = [t.get_text() for t in shortfall_figure(calm).axes[0].texts]
    assert "no country goes short" in notes
    prices = [t.get_text() for ax in prices_figure(calm).axes for t in ax.texts]
    assert any(t.startswith("no price moves") for t in prices)
    cover = cover_figure(results, ("ROW",))
    assert any("no Dy, Tb or\nNdPr oxide" in t.get_text() for ax in cover.axes for t in ax.texts)


def test_a_country_has_one_colour_in_every_plot():
    """A country's colour is fixed by its code: the same whatever the run's countries, distinct for every
    country of the scenarios."""
    assert colour("XX") == colour("XX", ("XX",)) == colour("XX", ("AA", "BB", "XX"))
    codes = {c for path in SCENARIOS.glob("*.yaml") for c in load_scenario(path).countries}
    assert len({colour(c) for c in codes}) == len(codes)
