"""Progress of long runs and ensembles: reported step by step to a callback, drawn only on a terminal."""
from __future__ import annotations

import datetime as dt
import math

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


def test_no_bar_when_quiet_or_when_output_is_not_a_terminal(capsys):
    assert progress_bar(quiet=True, unit="step", desc="x") is None
    assert progress_bar(quiet=False, unit="step", desc="x") is None        # pytest captures stderr: no terminal
