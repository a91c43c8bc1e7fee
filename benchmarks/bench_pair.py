"""Two checkouts' engines timed in turn in one process: python benchmarks/bench_pair.py A B [ROUNDS] [--scenario NAME].

On a machine shared with other work, two processes timed one after the other see different loads, and a
change worth a few per cent of a run is lost in the spread. Here the ``sim`` package of each checkout is
copied twice (with its cache of compiled kernels, so nothing compiles again) into a temporary folder under
names of its own, the four are imported into this process in the order A B B A, and each round runs every
one of them, in an order that turns from round to round: A and B see the same load. Importing them A B B A
matters: in one process the engine imported first ran about 5 % faster than the same engine imported second
(2026-12-02, Japan ban). Prints the median CPU time of the thread per run of each, and the median over the
rounds of A's mean over B's.
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
    parser.add_argument("--scenario", default="japan_ban")
    args = parser.parse_args()
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
            engines[name] = (engine, scenario)
        seconds: dict[str, list[float]] = {name: [] for name in ORDER}
        for round_ in range(args.rounds):
            for name in ORDER[round_ % 4:] + ORDER[:round_ % 4]:
                engine, scenario = engines[name]
                started = time.thread_time()
                engine.Simulation(scenario, seed=0).run()
                seconds[name].append(time.thread_time() - started)
    a = [(x + y) / 2 for x, y in zip(seconds["a0"], seconds["a1"])]
    b = [(x + y) / 2 for x, y in zip(seconds["b0"], seconds["b1"])]
    ratio = statistics.median(x / y for x, y in zip(a, b))
    by_copy = ", ".join(f"{name} {statistics.median(seconds[name]):.4f}" for name in ORDER)
    print(f"{args.scenario}, {args.rounds} rounds, CPU time of a run: A median {statistics.median(a):.4f} s, "
          f"B median {statistics.median(b):.4f} s, A/B median of the rounds {ratio:.4f} (each copy: {by_copy})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
