"""Time one stage's trade (``sim.engine.trade.trade``: need, orders, clearing, what buyers learn) per call, inside
a ten-year Japan ban run: python benchmarks/bench_trade.py [repeats].

Each run calls trade three times a step (concentrate, oxides, magnets); the script times every call of the
runs after a first (compiling or loading the kernels) and prints the median and mean microseconds a call, and
the share of the engine's time they take. Run it in two checkouts (PYTHONPATH) to compare them.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from sim import Simulation, load_scenario
from sim.engine import end_use, magnet_making, separation

ROOT = Path(__file__).resolve().parent.parent
CALLERS = (separation, magnet_making, end_use)      # the parts of the step that trade, each its own stage


def timed(trade, calls: list[float]):
    """``trade`` recording each call's wall time (s) in ``calls``."""
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        out = trade(*args, **kwargs)
        calls.append(time.perf_counter() - t0)
        return out
    return wrapper


def main(repeats: int) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "japan_ban.yaml")
    Simulation(scenario, seed=0).run()
    calls: list[float] = []
    originals = [module.trade for module in CALLERS]
    for module, trade in zip(CALLERS, originals):
        module.trade = timed(trade, calls)
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        Simulation(scenario, seed=0).run()
        runs.append(time.perf_counter() - t0)
    for module, trade in zip(CALLERS, originals):
        module.trade = trade
    us = [t * 1e6 for t in calls]
    print(f"trade: {len(us) // repeats} calls a run, median {statistics.median(us):.1f} us, mean "
          f"{statistics.mean(us):.1f} us a call; {sum(calls) / sum(runs):.0%} of the runs' "
          f"{statistics.median(runs):.2f} s median")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
