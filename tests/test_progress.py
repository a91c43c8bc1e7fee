"""Progress of long runs and ensembles: reported step by step to a callback, drawn only on a terminal."""
from __future__ import annotations

import datetime as dt
import io
import math
import sys

from sim import Simulation, load_scenario
from sim.engine.simulation import SPIN_UP_DAYS
from sim.progress import progress_bar

from .conftest import SCENARIOS


def test_a_run_reports_every_step_up_to_its_total():
    seen = []
    simulation = Simulation(load_scenario(SCENARIOS / "baseline.yaml"), end=dt.date(2024, 3, 31))
    simulation.run(progress=lambda done, total: seen.append((done, total)))
    total = seen[0][1]
    assert [done for done, _ in seen] == list(range(1, total + 1))
    assert total == len(simulation.net.dates) + math.ceil(SPIN_UP_DAYS / simulation.step_days)   # and the spin-up


class Stderr(io.StringIO):
    """A stand-in for sys.stderr that is, or is not, a terminal, whatever pytest's capturing (-s or not) does."""

    def __init__(self, terminal: bool):
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def test_no_bar_when_quiet_or_when_output_is_not_a_terminal(monkeypatch):
    """No bar when stderr is a pipe or a file, and none with --quiet even on a terminal."""
    monkeypatch.setattr(sys, "stderr", Stderr(terminal=False))
    assert progress_bar(quiet=True, unit="step", desc="x") is None
    assert progress_bar(quiet=False, unit="step", desc="x") is None
    monkeypatch.setattr(sys, "stderr", Stderr(terminal=True))
    assert progress_bar(quiet=True, unit="step", desc="x") is None


def test_on_a_terminal_a_bar_is_drawn_on_stderr_and_cleared_when_done(monkeypatch):
    """On a terminal the bar shows the first step reported and is erased once the last step is done."""
    terminal = Stderr(terminal=True)
    monkeypatch.setattr(sys, "stderr", terminal)
    update = progress_bar(quiet=False, unit="step", desc="baseline")
    assert update is not None
    for done in range(1, 4):
        update(done, 3)
    drawn = terminal.getvalue()
    assert "baseline" in drawn and "1/3" in drawn
    assert drawn.rstrip("\r").split("\r")[-1].strip() == ""                 # the last thing drawn is a blank line
