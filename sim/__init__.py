"""Rare-earth supply-chain simulator: mines -> refineries -> magnet plants -> end uses, between countries."""
__version__ = "0.1.0"

import datetime as _dt  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

from .engine.simulation import Simulation  # noqa: E402
from .errors import InvariantError, ScenarioError  # noqa: E402
from .experiments.comparison import Comparison, compare  # noqa: E402
from .experiments.ensemble import Ensemble, run_ensemble  # noqa: E402
from .experiments.sweeps import Sweep, sweep  # noqa: E402
from .results.tables import Results  # noqa: E402
from .scenario import (
    Scenario,  # noqa: E402
    load_registry,  # noqa: E402
    load_scenario,  # noqa: E402
)


def run(scenario: "Scenario | str | _Path", seed: int | None = None, end: _dt.date | None = None) -> Results:
    """Run a scenario (a file or a loaded Scenario) once; ``seed`` defaults to the scenario's ``run.seed``."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return Simulation(scenario, seed=seed, end=end).run()


__all__ = ["Comparison", "Ensemble", "InvariantError", "Results", "Scenario", "ScenarioError", "Simulation", "Sweep", "compare",
           "load_registry", "load_scenario", "run", "run_ensemble", "sweep"]
