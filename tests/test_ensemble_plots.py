"""Band plots of a Monte Carlo ensemble: P50 lines over P5-P95 bands, written into the ensemble folder."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run_ensemble
from sim.cli import main
from sim.experiments.bands import group_bands, group_headline_bands, outcome_groups
from sim.plots import band_shortfall_figure, plot_ensemble
from sim.plots.bands import headline_bands_figure
from sim.scenario.drawing import discrete_inputs

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


# ---------------------------------------------------------------- an outcome split in groups
UNCERTAIN = SCENARIOS / "japan_ban_uncertain.yaml"


def _summary(r: int, drawn: dict) -> SimpleNamespace:
    return SimpleNamespace(replication=r, drawn=drawn)


def test_the_discrete_inputs_are_the_events_with_a_probability_and_the_choices():
    """japan_ban_uncertain draws one discrete input: whether the ban is read as defence only (the defence-only
    ban tied to it is no draw of its own); its triangular stockpile and delay are not discrete."""
    assert discrete_inputs(load_scenario(UNCERTAIN)) == ["events.ban_read_as_defence_only.happened"]


def test_replications_are_grouped_by_what_they_drew_of_a_discrete_input():
    """Replications split by the value of a discrete draw (continuous draws aside); a draw that splits them
    alike adds no group, one drawn alike in all (or too many ways) makes none."""
    key, tied = "events.a.happened", "events.b.happened"
    summaries = [_summary(r, {key: r % 4 == 0, tied: r % 4 == 0, "x": 1.0 + r}) for r in range(8)]
    groups = outcome_groups(summaries, [key, tied])       # "x", drawn but continuous, is not named
    assert groups == {r: "a happened" if r % 4 == 0 else "a did not happen" for r in range(8)}
    assert outcome_groups([_summary(r, {key: True}) for r in range(3)], [key]) == {}
    assert outcome_groups([_summary(r, {"c": r}) for r in range(6)], ["c"]) == {}    # 6 groups: too many


def test_a_split_ensemble_draws_one_band_per_group_labelled_with_its_draw_and_count(ensemble):
    """Given groups, each country panel holds a band and a P50 line per group, each labelled with what the
    group drew and how many replications it holds; the figure legend names them too."""
    groups = {int(r): "a happened" if r == 0 else "a did not happen" for r in ensemble.monthly.replications}
    frame = group_bands(ensemble.monthly, groups)
    fig = band_shortfall_figure(ensemble.bands, ["US"], {}, groups=frame)
    ax = fig.axes[0]
    assert len(ax.collections) == 2
    labels = {line.get_label() for line in ax.lines if not line.get_label().startswith("_")}
    assert labels == {"a did not happen: 2 of 3 replications", "a happened: 1 of 3 replications"}
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "a happened: 1 of 3 replications" in legend and "P50 of a happened" in legend
    one = frame[(frame["group"] == "a happened") & (frame["metric"] == "shortfall_share") & (frame["country"] == "US")]
    assert (one["p5"] == one["p95"]).all()                     # one replication: its band is its line


def test_a_split_ensemble_gives_each_group_its_own_headline_bar(ensemble):
    """The headline figure of an ensemble split in groups draws a bar per group for each subject, each from
    that group's own P5 to P95 (a group of one replication is a point), and names the groups with their
    counts; it does not draw one bar across both outcomes."""
    groups = {s.replication: "a happened" if s.replication == 0 else "a did not happen"
              for s in ensemble.summaries}
    frame = group_headline_bands(ensemble.summaries, groups)
    assert set(frame["group"]) == {"a happened", "a did not happen"}
    assert dict(frame.groupby("group")["replications"].max()) == {"a happened": 1, "a did not happen": 2}
    fig = headline_bands_figure(ensemble.headline_bands, groups=frame)
    prices = fig.axes[2]
    bars = [line for line in prices.lines if len(line.get_xdata()) == 2]
    subjects = [t.get_text() for t in prices.get_yticklabels()]
    assert len(bars) == 2 * len(subjects) > 0
    single = frame[(frame["group"] == "a happened") & (frame["figure"] == "peak_price_multiple")]
    assert (single["p5"].astype(float) == single["p95"].astype(float)).all()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["a did not happen: 2 of 3 replications", "a happened: 1 of 3 replications"]


def test_an_ensemble_without_a_discrete_draw_has_no_groups(ensemble):
    """The licensing ensemble draws no discrete input: one band, as before."""
    assert ensemble.groups == {} and ensemble.group_bands.empty


def test_the_band_plots_mark_every_event_of_the_scenario(ensemble, tmp_path, monkeypatch):
    """Every event of the scenario starting within the plotted months has a line on the band plots, and the
    key under the figure names them all."""
    import sim.plots.bands as module
    kept = {}
    save = module.save_figure

    def keep(fig, path, note, **kwargs):
        kept[path.stem] = fig
        return save(fig, path, note, **kwargs)

    monkeypatch.setattr(module, "save_figure", keep)
    plot_ensemble(ensemble, tmp_path)
    events = ensemble.events
    assert len(events) >= 1
    key = " ".join(t.get_text() for t in kept["shortfall"].texts)
    for row in events.itertuples():
        assert f"{row.number} {row.label}" in key
    ax = kept["shortfall"].axes[0]
    lines = {pd.Timestamp(line.get_xdata()[0]).date() for line in ax.lines
             if tuple(line.get_ydata()) == (0, 1)}
    inside = events[events["start"] <= pd.Timestamp(END)]
    assert {d.date() for d in inside["start"]} <= lines


def test_an_ensembles_series_is_every_replications_values_as_one_long_frame(ensemble):
    """``Ensemble.series``: a row per replication, series and month that replication has a value for."""
    frame = ensemble.series
    assert list(frame.columns) == ["date", "metric", "country", "element", "value", "replication"]
    assert set(frame["replication"]) == set(ensemble.monthly.replications.tolist())
    assert len(frame) == int((~np.isnan(ensemble.monthly.values)).sum())
    assert frame["element"].isna().all() == (not frame["metric"].str.contains("price").any())
