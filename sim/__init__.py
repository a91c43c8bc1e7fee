"""Rare-earth supply-chain simulator: mines -> refineries -> magnet plants -> end uses, between countries.

The public API; the CLI (``python -m sim``) is a thin client of it. See the README's "Architecture"
for where each part lives.
"""
from .backtest import Scorecard, backtest
from .engine import Simulation
from .errors import BacktestError, EnsembleError, InvariantError, ScenarioError
from .experiments.comparison import Comparison, compare
from .experiments.ensemble import Ensemble, run_ensemble
from .experiments.single import run, save
from .experiments.sweeps import Sweep, sweep
from .results import Results, Summary
from .scenario import Scenario, load_registry, load_scenario
from .version import __version__

__all__ = ["BacktestError", "Comparison", "Ensemble", "EnsembleError", "InvariantError", "Results", "Scenario",
           "ScenarioError", "Scorecard", "Simulation", "Summary", "Sweep", "__version__", "backtest", "compare",
           "load_registry", "load_scenario", "run", "run_ensemble", "save", "sweep"]
