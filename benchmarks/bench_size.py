"""Wall and CPU seconds of the README's sizing examples, as a user runs them: the whole command.

    python benchmarks/bench_size.py [rounds] [--workers W]

Runs each example of the README's "How much is enough" section ``rounds`` times (default 3) as
``python -m sim size ...`` in a fresh process writing to a temporary folder, and prints, per example, the
median and range of wall seconds, the CPU seconds of all its processes, and how many lever values and
replications were run (so seconds per replication can be read off). The kernels are compiled before the
first round.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = {   # name: the command's arguments after 'size'
    "end users, a year, 95%": ["scenarios/japan_stockpile_uncertain.yaml", "--lever", "stockpiles.JP.days",
                               "--range", "0..720", "--target", "JP.weeks_to_shortfall >= 52",
                               "--confidence", "0.95", "--replications", "20"],
    "plants, a year, 95%": ["scenarios/japan_stockpile_uncertain.yaml", "--lever", "stockpiles.JP.days",
                            "--range", "0..720", "--target", "JP.weeks_to_plant_shortfall >= 52",
                            "--confidence", "0.95", "--replications", "20"],
}


def once(command: str, arguments: list[str], workers: int | None) -> tuple[float, float, dict]:
    """Wall and CPU seconds of one ``python -m sim COMMAND ...`` (quiet, no plots, into a temporary folder), and
    the manifest it wrote."""
    with tempfile.TemporaryDirectory() as folder:
        out = pathlib.Path(folder) / "out"
        extra = ["--workers", str(workers)] if workers else []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", command, *arguments, *extra, "--quiet", "--no-plots", "--out",
                        str(out)], cwd=ROOT, check=True, env=os.environ | {"PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        manifest = json.loads((out / "manifest.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, manifest


def compile_kernels() -> None:
    subprocess.run([sys.executable, "-c", "import sim.kernels as k; k.precompile()"], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=3)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    compile_kernels()
    print(f"{'example':28}{'wall median':>12}{'(min-max)':>16}{'CPU':>9}{'values':>8}{'reps':>6}{'s/rep':>8}")
    for name, arguments in EXAMPLES.items():
        got = [once("size", arguments, args.workers) for _ in range(args.rounds)]
        walls = [g[0] for g in got]
        wall, cpu = statistics.median(walls), statistics.median(g[1] for g in got)
        values, reps = len(got[0][2]["runs"]), got[0][2]["replications"]
        print(f"{name:28}{wall:>11.1f}s{f'({min(walls):.1f}-{max(walls):.1f})':>16}{cpu:>8.1f}s{values:>8}{reps:>6}"
              f"{wall / (values * reps):>8.3f}")


if __name__ == "__main__":
    main()
