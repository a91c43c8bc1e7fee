"""Time one ten-year baseline run (and the Japan ban) of the engine: python benchmarks/bench_run.py [repeats]
[SCENARIO ...] (names in scenarios/; e.g. october_2025_controls and suspension_expiry, whose origin rules make
23,000-27,000 licence applications, each an object of its own, decided from a calendar in batches).

Prints the median and best wall time over the repeats, simulated days per
second, and the time to build the tidy tables. Loading the scenario is timed
separately; the run includes the one-year spin-up.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from sim import Simulation, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def bench(name: str, repeats: int) -> None:
    t0 = time.perf_counter()
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    load = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        results = Simulation(scenario, seed=0).run()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    results.tables("month")
    tables = time.perf_counter() - t0
    days = (results.net.dates[-1] - results.net.dates[0]).days + results.net.step_days
    median = statistics.median(times)
    print(f"{name:10} load {load:5.2f} s | run median {median:5.2f} s, best {min(times):5.2f} s "
          f"({len(results.net.dates)} weekly steps, {days / median:,.0f} simulated days/s) | monthly tables "
          f"{tables:4.2f} s")


if __name__ == "__main__":
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for name in sys.argv[2:] or ("baseline", "japan_ban"):
        bench(name, repeats)
