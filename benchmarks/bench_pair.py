"""Two checkouts' engines timed in turn in one process: python benchmarks/bench_pair.py A B [ROUNDS] [--scenario NAME]
[--results].

On a machine shared with other work, two processes timed one after the other see different loads, and a
change worth a few per cent of a run is lost in the spread. Here the ``sim`` package of each checkout is
copied twice (with its cache of compiled kernels, so nothing compiles again) into a temporary folder under
names of its own, the four are imported into this process in the order A B B A, and each round runs every
one of them, in an order that turns from round to round: A and B see the same load. Importing them A B B A
matters: in one process the engine imported first ran about 5 % faster than the same engine imported second
(2026-12-02, Japan ban). Prints the median CPU time of the thread per run of each, and the median over the
rounds of A's mean over B's.

With ``--results`` what is timed is what a replication of an ensemble does with its results apart from its run
(``ensemble.run_replication``: its summary, monthly series and causes, written to a folder): each round, each
copy runs a replication (of ``japan_ban_uncertain`` unless ``--scenario`` says) untimed, then the rest is timed.
"""
from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ORDER = ("a0", "b0", "b1", "a1")      # imported in this order, so that each checkout is first and last once


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="checkout A (a folder holding sim/ and scenarios/)")
    parser.add_argument("b", type=Path, help="checkout B, the baseline")
    parser.add_argument("rounds", type=int, nargs="?", default=15)
    parser.add_argument("--scenario")
    parser.add_argument("--results", action="store_true",
                        help="time what a replication does with its results, not the run")
    args = parser.parse_args()
    args.scenario = args.scenario or ("japan_ban_uncertain" if args.results else "japan_ban")
    checkouts = {"a": args.a, "b": args.b}
    with tempfile.TemporaryDirectory() as folder:
        engines = {}
        for name in ORDER:
            # copied with the files' times: Numba's cache of the kernels stays valid
            shutil.copytree(checkouts[name[0]] / "sim", Path(folder) / f"sim_{name}")
        sys.path.insert(0, folder)
        for name in ORDER:
            engine = importlib.import_module(f"sim_{name}")
            scenario = engine.load_scenario(checkouts[name[0]] / "scenarios" / f"{args.scenario}.yaml")
            engine.Simulation(scenario, seed=0).run()                 # kernels loaded, caches warm
            if args.results:                                           # and what reads the results, imported
                results_time(engine, scenario, Path(folder) / f"ensemble_{name}", args.rounds)
            engines[name] = (engine, scenario)
        seconds: dict[str, list[float]] = {name: [] for name in ORDER}
        for round_ in range(args.rounds):
            for name in ORDER[round_ % 4:] + ORDER[:round_ % 4]:
                engine, scenario = engines[name]
                if args.results:
                    seconds[name].append(results_time(engine, scenario, Path(folder) / f"ensemble_{name}", round_))
                    continue
                started = time.thread_time()
                engine.Simulation(scenario, seed=0).run()
                seconds[name].append(time.thread_time() - started)
    a = [(x + y) / 2 for x, y in zip(seconds["a0"], seconds["a1"])]
    b = [(x + y) / 2 for x, y in zip(seconds["b0"], seconds["b1"])]
    ratio = statistics.median(x / y for x, y in zip(a, b))
    by_copy = ", ".join(f"{name} {statistics.median(seconds[name]):.4f}" for name in ORDER)
    what = "what a replication does with its results" if args.results else "a run"
    print(f"{args.scenario}, {args.rounds} rounds, CPU time of {what}: A median {statistics.median(a):.4f} s, "
          f"B median {statistics.median(b):.4f} s, A/B median of the rounds {ratio:.4f} (each copy: {by_copy})")
    return 0


def results_time(engine, scenario, folder: Path, r: int) -> float:
    """CPU time of replication ``r`` of ``scenario`` (seed 0) in ``folder`` less that of its run."""
    ensemble = importlib.import_module(f"{engine.__name__}.experiments.ensemble")
    if not folder.exists():
        ensemble._prepare(folder, ensemble._manifest(scenario, 0, 10**6, None), resume=False)
    run, ran = ensemble.run, []

    def timed_run(*given, **named):
        started = time.thread_time()
        results = run(*given, **named)
        ran.append(time.thread_time() - started)
        return results

    ensemble.run = timed_run
    try:
        started = time.thread_time()
        ensemble.run_replication(scenario, 0, None, folder, r)
        return time.thread_time() - started - ran[0]
    finally:
        ensemble.run = run


if __name__ == "__main__":
    raise SystemExit(main())
