"""Rare-earth supply-chain simulator: mines -> refineries -> magnet plants -> end uses, between countries.

The public API; the CLI (``python -m sim``) is a thin client of it. See the README's "Architecture"
for where each part lives.

Each name is imported from its module when it is first used (``sim.run``, ``from sim import compare``):
``import sim`` costs next to nothing, and a run imports only what it uses, so pandas comes in with the
first table and matplotlib with the first plot.
"""
from __future__ import annotations

import importlib
import sys
import types

from .errors import BacktestError, EnsembleError, InvariantError, ReportError, ScenarioError
from .version import __version__

# name -> the module of sim that defines it
_MODULES = {"Scorecard": "backtest", "backtest": "backtest", "Simulation": "engine",
            "Comparison": "experiments.comparison", "compare": "experiments.comparison",
            "Ensemble": "experiments.ensemble", "run_ensemble": "experiments.ensemble",
            "explain_ensemble": "experiments.ensemble",
            "run": "experiments.single", "save": "experiments.saving", "Sizing": "experiments.sizing",
            "size": "experiments.sizing", "Sensitivity": "experiments.sensitivity",
            "sensitivity": "experiments.sensitivity", "Sweep": "experiments.sweeps",
            "sweep": "experiments.sweeps", "Results": "results", "Summary": "results", "Scenario": "scenario",
            "load_registry": "scenario", "load_scenario": "scenario", "write_report": "report"}

__all__ = ["BacktestError", "Comparison", "Ensemble", "EnsembleError", "InvariantError", "ReportError", "Results",
           "Scenario", "ScenarioError", "Scorecard", "Sensitivity", "Simulation", "Sizing", "Summary", "Sweep",
           "__version__",
           "backtest", "compare", "explain_ensemble", "load_registry", "load_scenario", "run", "run_ensemble", "save",
           "sensitivity", "size", "sweep", "write_report"]


def __getattr__(name: str) -> object:
    """A name of the API, imported from its module on first use (PEP 562) and kept."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Api(types.ModuleType):
    """The package ``sim``, whose ``backtest`` is the function: importing the subpackage ``sim.backtest``
    would otherwise bind the subpackage to that name in its place (it is still ``sys.modules["sim.backtest"]``)."""

    def __setattr__(self, name: str, value: object) -> None:
        if not (name == "backtest" and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Api
