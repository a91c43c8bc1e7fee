"""The simulation: an explicit state, one module per part of the weekly step, the measures, the SimPy
processes; ``Simulation(scenario, seed).run()`` gives a run's ``Results``."""
from .simulation import SPIN_UP_DAYS, Simulation

__all__ = ["SPIN_UP_DAYS", "Simulation"]
