"""What an ensemble spends outside the engine: python benchmarks/bench_replication.py [N] [--scenario NAME] [--keep DIR].

Runs N replications (default 12) of japan_ban_uncertain one after another in this process, as a worker
runs them (``ensemble.run_replication``), and splits each one's wall time in two: the run itself
(``sim.run``: drawing the world, building its arrays, the spin-up and the calendar) and the rest, what a
replication does with its results (its summary, its monthly series and writing them). Then times what the
parent does at the end: reading the N replications back (``load_ensemble``) and computing and writing the
bands (``write_bands``). Prints medians, and JSON with ``--json``. The code measured is the ``sim`` that
Python imports (set PYTHONPATH to measure another tree with this same script).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sim
import sim.experiments.ensemble as ensemble

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("replications", type=int, nargs="?", default=12)
    parser.add_argument("--scenario", default="japan_ban_uncertain")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the replications here and keep them")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args()
    scenario = sim.load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_replication_"))
    running: list[float] = []
    run = ensemble.run

    def timed_run(*given, **named):
        started = time.perf_counter()
        results = run(*given, **named)
        running.append(time.perf_counter() - started)
        return results

    ensemble.run = timed_run           # the run inside run_replication, timed apart from the rest
    try:
        ensemble._prepare(folder, ensemble._manifest(scenario, 0, args.replications, None), resume=False)
        rest = []
        for r in range(args.replications):
            started = time.perf_counter()
            ensemble.run_replication(scenario, 0, None, folder, r)
            rest.append(time.perf_counter() - started - running[-1])
        started = time.perf_counter()
        loaded = ensemble.load_ensemble(folder, scenario, 0, args.replications)
        read = time.perf_counter() - started
        started = time.perf_counter()
        ensemble.write_bands(loaded)
        bands = time.perf_counter() - started
    finally:
        ensemble.run = run
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    figures = {"replications": args.replications, "run_median_s": statistics.median(running),
               "outside_median_s": statistics.median(rest), "read_s": read, "bands_s": bands}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{args.scenario}: {args.replications} replications in this process; per replication (median): "
              f"run {figures['run_median_s']:.3f} s, the rest (summary, series, writing) "
              f"{figures['outside_median_s']:.3f} s; at the end: reading {read:.2f} s, bands {bands:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
