"""Stockpiles sized three ways: days of the country's own oxide use, days of its end users' magnet content,
or tonnes of each oxide; the run says what each holds, and warns when oxide days hold little."""
from __future__ import annotations

import datetime as dt

import pytest

from sim import run
from sim.results.report import run_report

from .conftest import SCENARIOS

END = dt.date(2024, 3, 31)       # what a stockpile holds is settled at the calendar's start


def german_pile(write, size: str, name: str):
    """The baseline with a German stockpile sized by ``size`` (the stockpile's keys, as a YAML flow map's)."""
    path = write(f"extends: {SCENARIOS / 'baseline.yaml'}\nname: {name}\nstockpiles:\n"
                 f"  DE: {{{size}, source: asm_de_stockpile}}\n", f"{name}.yaml")
    return run(path, end=END)


@pytest.fixture(scope="module")
def by_days_of(tmp_path_factory):
    def write(text, name):
        path = tmp_path_factory.mktemp(name) / name
        path.write_text(text, encoding="utf-8")
        return path
    return {days_of: german_pile(write, f"elements: [Dy, Tb], days: 90, days_of: {days_of}", days_of)
            for days_of in ("oxide_use", "end_use")}


def test_end_use_days_hold_what_end_users_magnets_contain(by_days_of):
    """90 days of end use hold 90 days of the Dy in Germany's end-use magnets, far more than 90 days of its
    oxide use (it buys most magnets made)."""
    oxide, end = by_days_of["oxide_use"], by_days_of["end_use"]
    net = end.net
    de, dy = net.index("DE"), net.elements.index("Dy")
    content = net.end_use_content(0)[de, dy]
    own_use = oxide.raw.use_oxide_opening[de, dy]
    held_end = end.summary().stockpiles["DE"].t_at_start["Dy"]
    held_oxide = oxide.summary().stockpiles["DE"].t_at_start["Dy"]
    assert held_end == pytest.approx(90 * content, rel=1e-9)
    assert held_oxide == pytest.approx(90 * own_use, rel=1e-9)
    assert held_end > 5 * held_oxide


def test_the_summary_says_what_a_stockpiles_days_count(by_days_of):
    """Each stockpile states its size, what its days count, and its t in days of both measures."""
    pile = by_days_of["end_use"].summary().to_dict()["stockpiles"]["DE"]
    assert (pile["sized_in"], pile["days"], pile["days_of"]) == ("days", 90.0, "end_use")
    assert pile["days_of_end_use_at_start"]["Dy"] == pytest.approx(90.0)
    assert pile["days_of_oxide_use_at_start"]["Dy"] > 5 * 90


def test_oxide_days_for_germany_warn_and_japan_does_not(by_days_of):
    """Germany's oxide use is a small share of its end users' Dy: a warning names it and the other ways to
    size it; Japan's 42 oxide days (it makes its magnets) and Germany's end-use days do not warn."""
    summary = by_days_of["oxide_use"].summary()
    assert len(summary.warnings) == 1
    warning = summary.warnings[0]
    assert warning.startswith("DE's stockpile") and "days_of: end_use" in warning and "t:" in warning
    assert f"warning: {warning}" in run_report(summary)
    assert by_days_of["end_use"].summary().warnings == []
    assert "warnings" not in by_days_of["end_use"].summary().to_dict()


def test_the_report_states_each_stockpile(by_days_of):
    """The headline names each stockpile, its size and what its days count, then what it holds."""
    report = run_report(by_days_of["end_use"].summary())
    assert "stockpile DE: 90 days of end users' magnet content: Dy " in report
    assert "stockpile JP: 42 days of own oxide use:" in report


def test_tonnes_given_are_what_the_stockpile_holds_at_the_start(write):
    """A stockpile given in t holds those t of each oxide at the start, and no other oxide."""
    results = german_pile(write, "t: {Dy: 50, Tb: 10}", "in_t")
    pile = results.summary().stockpiles["DE"]
    assert pile.sized_in == "t" and pile.days is None
    assert pile.t_at_start == pytest.approx({"Dy": 50.0, "Tb": 10.0})
    de = results.net.index("DE")
    held = dict(zip(results.net.elements, results.raw.stockpile_opening[de]))
    assert {e for e, t in held.items() if t > 0} == {"Dy", "Tb"}
    assert results.summary().warnings == []
