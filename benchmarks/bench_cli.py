"""Time ``python -m sim scenarios/japan_ban.yaml`` end to end, warm, and where its time goes:
python benchmarks/bench_cli.py [repeats] [--scenario FILE] [--base CHECKOUT].

Every repeat starts fresh interpreters, as the command does:

- the command itself (``--quiet``, into a temporary folder), timed from outside: the end-to-end wall time;
- the same steps in one process, each timed inside it: imports (``sim.cli`` and what a run imports before
  it starts), loading the scenario, the engine, tables and writing them (``save`` without plots: tables,
  summary, monthly series, manifest; pandas is imported here, on first use) and the five plots (matplotlib
  imported on first use). What the process spends outside these (the interpreter starting and ending) is
  its wall time, timed from outside, less their sum. The command itself draws the plots in a second process
  while it writes the tables (``sim.aside``, on Linux with two cores or more), so on such a machine its end
  to end is less than the sum of the steps, which are timed one after the other.

One run of each goes first, untimed (warm: compiled kernels cached, files in the disk cache). With
``--base CHECKOUT`` the same is timed for the code of another checkout (its ``sim`` on ``PYTHONPATH``),
A and B in turn (A B A B ...), and each figure's ratio A/B is taken pair by pair, so a machine whose speed
drifts moves both alike. Prints medians, and the pairs' ratios as median (min-max).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("imports", "load", "engine", "tables+writing", "plots")


def steps(scenario: str, out: str) -> dict[str, tuple[float, float]]:
    """Run the command's steps in this process; (wall, CPU) seconds of each."""
    marks = [(time.perf_counter(), time.process_time())]
    import sim.cli  # noqa: F401  (what 'python -m sim' imports before it reads its arguments)
    from sim.experiments.single import run, save
    from sim.scenario import load_scenario
    marks.append((time.perf_counter(), time.process_time()))
    loaded = load_scenario(scenario)
    marks.append((time.perf_counter(), time.process_time()))
    results = run(loaded)
    marks.append((time.perf_counter(), time.process_time()))
    save(results, out, plots=False)
    marks.append((time.perf_counter(), time.process_time()))
    from sim.plots import briefing
    briefing(results, Path(out) / "plots")
    marks.append((time.perf_counter(), time.process_time()))
    return {name: (b[0] - a[0], b[1] - a[1]) for name, a, b in zip(PHASES, marks, marks[1:])}


def _child(code: str, args: list[str]) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of a fresh interpreter running ``sim`` from ``code``, and what
    it printed."""
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    # not from a checkout's root: ``python -m`` puts the working folder first on sys.path, ahead of PYTHONPATH,
    # and the command would import the sim/ there whatever ``code`` says
    done = subprocess.run([sys.executable, *args], env=os.environ | {"PYTHONPATH": code}, capture_output=True,
                          text=True, check=True, cwd=tempfile.gettempdir())
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, done.stdout


def measure(code: str, scenario: str) -> dict[str, tuple[float, float]]:
    """One repeat for the checkout ``code``: the command end to end, then its steps timed inside a process;
    (wall, CPU) seconds of each."""
    with tempfile.TemporaryDirectory() as folder:
        command = _child(code, ["-m", "sim", scenario, "--quiet", "--out", str(Path(folder) / "cli")])
        *process, printed = _child(code, [str(Path(__file__).resolve()), "--steps", scenario,
                                          str(Path(folder) / "steps")])
    figures = {name: tuple(v) for name, v in json.loads(printed.strip().splitlines()[-1]).items()}
    figures["interpreter"] = tuple(whole - sum(f[k] for f in figures.values()) for k, whole in enumerate(process))
    return {"end to end": command[:2], **figures}


def report(figures: dict[str, list[float]], base: dict[str, list[float]] | None) -> str:
    lines = [f"{'':16}{'median':>9}" + (f"{'base':>9}   ratio, pairs: median (min-max)" if base else "")]
    for name, values in figures.items():
        line = f"{name:16}{statistics.median(values):8.3f}s"
        if base:
            ratios = [a / b for a, b in zip(values, base[name])]
            line += (f"{statistics.median(base[name]):8.3f}s   ×{statistics.median(ratios):.2f} "
                     f"({min(ratios):.2f}-{max(ratios):.2f})")
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repeats", type=int, nargs="?", default=5)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "japan_ban.yaml"))
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with (its sim/ parent)")
    parser.add_argument("--steps", nargs=2, metavar=("SCENARIO", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.scenario = str(Path(args.scenario).resolve())     # the children run from another folder
    if args.steps:                       # the child: time the steps here, print them as JSON
        print(json.dumps(steps(*args.steps)))
        return
    checkouts = {"this": str(ROOT)} | ({"base": str(args.base.resolve())} if args.base else {})
    for code in checkouts.values():      # warm: compiled kernels cached, files read once
        measure(code, args.scenario)
    runs: dict[str, dict[str, list[tuple[float, float]]]] = {name: {} for name in checkouts}
    for _ in range(args.repeats):
        for name, code in checkouts.items():
            for figure, value in measure(code, args.scenario).items():
                runs[name].setdefault(figure, []).append(value)
    print(f"{Path(args.scenario).name}, {args.repeats} repeats" + (f", paired against {args.base}" if args.base
                                                                      else ""))
    for k, what in enumerate(("wall", "CPU (user + system)")):
        pick = {name: {f: [v[k] for v in values] for f, values in figures.items()} for name, figures in runs.items()}
        print(f"\n{what}\n" + report(pick["this"], pick.get("base")))


if __name__ == "__main__":
    main()
