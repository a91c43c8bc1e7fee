"""Time a sweep of an uncertain scenario end to end: python benchmarks/bench_sweep.py [rounds] [--values V]
[--replications K] [--workers W] [--base CHECKOUT].

Runs ``python -m sim sweep scenarios/japan_ban_uncertain.yaml --set stockpiles.JP.days=0,10,20,... --replications
K --no-plots --quiet`` (V values, default 20, each run K times, default 2: V x K replications on W local workers,
default 2) as a user would, in a fresh interpreter, and reports its wall time and the CPU time of the command and
every process it started (its workers). A sweep's task binds every variant of the scenario, so what it costs to
hand a worker its task grows with the values, where an ensemble's does not.

One sweep goes first, untimed (warm: compiled kernels cached). With ``--base CHECKOUT`` the same sweep runs on the
code of another checkout (its ``sim`` on ``PYTHONPATH``), A and B in turn (A B A B ...), and each figure's ratio
A/B is taken pair by pair, so a machine whose speed drifts moves both alike. Prints medians, and the pairs' ratios
as median (min-max).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "japan_ban_uncertain.yaml"


def sweep(code: Path, values: int, replications: int, workers: int) -> dict[str, float]:
    """One sweep on the ``sim`` of checkout ``code``: wall seconds, and CPU seconds of it and its workers."""
    days = ",".join(str(10 * v) for v in range(values))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as out:
        started = time.perf_counter()
        # from a folder of its own: ``python -m`` puts the working folder ahead of PYTHONPATH on sys.path
        subprocess.run([sys.executable, "-m", "sim", "sweep", str(SCENARIO), "--set", f"stockpiles.JP.days={days}",
                        "--replications", str(replications), "--workers", str(workers), "--no-plots", "--quiet",
                        "--out", str(Path(out) / "sweep")], cwd=out, check=True,
                       env=os.environ | {"PYTHONPATH": str(code)})
        wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=3)
    parser.add_argument("--values", type=int, default=20)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--base", type=Path, metavar="CHECKOUT", help="the checkout to pair against")
    args = parser.parse_args()
    codes = [ROOT] + ([args.base.resolve()] if args.base else [])
    for code in codes:                                  # warm: kernels compiled, files in the disk cache
        sweep(code, 2, 1, args.workers)
    figures: list[list[dict[str, float]]] = [[] for _ in codes]
    for _ in range(args.rounds):
        for k, code in enumerate(codes):
            figures[k].append(sweep(code, args.values, args.replications, args.workers))
    runs = args.values * args.replications
    print(f"sweep of {args.values} values x {args.replications} replications ({runs} runs) on {args.workers} "
          f"workers, {args.rounds} rounds; medians:")
    for name in ("wall_s", "cpu_s"):
        line = f"  {name}: {statistics.median(f[name] for f in figures[0]):.2f}"
        if args.base:
            ratios = [a[name] / b[name] for a, b in zip(*figures)]
            line += (f" against {statistics.median(f[name] for f in figures[1]):.2f} (base); A/B "
                     f"x{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
