"""Rare-earth supply-chain simulator: mines -> refineries -> magnet plants -> end uses, between countries."""
from .errors import InvariantError, ScenarioError
from .registry import load_registry
from .scenario import load_scenario
from .schema import Scenario

__all__ = ["InvariantError", "Scenario", "ScenarioError", "load_registry", "load_scenario"]
__version__ = "0.1.0"
