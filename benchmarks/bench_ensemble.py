"""Time a Monte Carlo ensemble end to end: python benchmarks/bench_ensemble.py [N] [--scenario NAME] [--workers W].

Default: 1,000 replications of japan_ban_uncertain (japan_ban with its uncertain
inputs drawn per replication; japan_ban itself has no random input, so its
replications would all be identical) on all local cores. Times what a user
waits for with ``python -m sim SCENARIO.yaml --replications N --no-plots``:
every replication run and written to disk, then the bands read back and
computed. Also reports the time of one replication alone in this process and
the ensemble's efficiency against it (the ideal being cores x replications per
second of one run). The ensemble is written to a temporary folder, removed at
the end unless ``--keep DIR``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sim import Simulation, load_scenario
from sim.experiments.ensemble import run_ensemble

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("replications", type=int, nargs="?", default=1000)
    parser.add_argument("--scenario", default="japan_ban_uncertain")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--scheduler", help="a Dask scheduler (tcp://HOST:PORT) instead of local processes")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the ensemble here and keep it")
    args = parser.parse_args()

    scenario = load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    singles = []
    for r in range(3):
        started = time.perf_counter()
        Simulation(scenario, replication=r).run()
        singles.append(time.perf_counter() - started)
    single = statistics.median(singles)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_ensemble_"))
    try:
        started = time.perf_counter()
        ensemble = run_ensemble(scenario, args.replications, folder, workers=None if args.scheduler else args.workers,
                                scheduler=args.scheduler)
        seconds = time.perf_counter() - started
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    n = args.replications
    where = args.scheduler or f"{args.workers} local worker{'s' if args.workers != 1 else ''}"
    ideal = n * single / (args.workers or 1) if not args.scheduler else None
    print(f"{args.scenario}: {n} replications on {where} in {seconds:.1f} s ({seconds / n:.3f} s each, "
          f"{n / seconds:.1f} per second); {len(ensemble.failures)} failed")
    print(f"one replication alone: {single:.2f} s (median of 3)"
          + (f"; ideal on {args.workers} cores {ideal:.1f} s, efficiency {ideal / seconds:.0%}" if ideal else ""))
    print(f"target: 1,000 replications in under 120 s -> {'met' if seconds * 1000 / n < 120 else 'missed'} "
          f"(at this rate 1,000 take {seconds * 1000 / n:.0f} s)")
    return 1 if ensemble.failures else 0


if __name__ == "__main__":
    sys.exit(main())
