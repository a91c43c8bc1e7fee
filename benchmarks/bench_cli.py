"""Time ``python -m sim scenarios/japan_ban.yaml`` end to end, warm, and where its time goes:
python benchmarks/bench_cli.py [repeats] [--scenario FILE] [--base CHECKOUT].

Every repeat starts fresh interpreters, as the command does:

- the command itself (``--quiet``, into a temporary folder), timed from outside: the end-to-end wall time,
  and the CPU time of it and every process it started;
- the same command once more, its steps marked as they happen (``sim`` run as ``python -m sim`` does, with
  the functions below wrapped to note the time): the interpreter's start (to the first line of Python,
  this script's few imports included), imports (``sim.cli`` and what a run imports before it loads the
  scenario), loading the scenario, the engine (``run``: building the
  simulation, loading its compiled kernels, the run), handing over (from the run's end to the start of
  ``save``: its summary), saving (``save``: tables, summary, monthly series, manifest and plots) and the
  exit (from ``main``'s return to the process's end, timed from outside). The command draws its plots in a
  second process beside the tables (``sim.aside.beside``), and, where it can fork, writes the whole folder
  from a process started before the run (``sim.aside.ahead``), which loads pandas and matplotlib while the
  engine runs: ``writer ahead by`` is how long it then waited for the results (less than 0: the run waited
  for it).

One run of each goes first, untimed (warm: compiled kernels cached, files in the disk cache). With
``--base CHECKOUT`` the same is timed for the code of another checkout (its ``sim`` on ``PYTHONPATH``),
A and B in turn (A B A B ...), and each figure's ratio A/B is taken pair by pair, so a machine whose speed
drifts moves both alike. Prints medians, and the pairs' ratios as median (min-max).
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
PHASES = ("start", "imports", "load", "engine", "handing over", "saving", "exit")
MARKS = os.environ.get("SIM_BENCH_MARKS", "")           # the file a marked command notes its steps in


def note(what: str) -> None:
    """Append ``what``, this process and the time to the marks file (any process of the command may)."""
    with open(MARKS, "a", encoding="utf-8") as marks:
        marks.write(f"{os.getpid()} {time.time():.6f} {what}\n")


def marked(owner: object, name: str) -> None:
    """Wrap ``owner.name`` to note its start and end (nothing when this checkout has no such function)."""
    function = getattr(owner, name, None)
    if function is None:
        return

    def wrapper(*args, **kwargs):
        note(f"> {name}")
        try:
            return function(*args, **kwargs)
        finally:
            note(f"< {name}")
    setattr(owner, name, wrapper)


# the functions whose start and end are noted, by module: wrapped as the command imports each module, not
# before (importing them first would hand the writer, forked early, modules the command loads later)
MARKED = {"sim.cli": ("main",), "sim.scenario.loading": ("load_scenario",),
          "sim.experiments.single": ("run", "save", "ready_to_save"), "sim.experiments.saving": ("save", "ready_to_save")}


class MarkOnImport:
    """A finder (``sys.meta_path``) that wraps ``MARKED``'s functions of a module once the module has run."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> object:
        if fullname not in MARKED:
            return None
        import importlib.util

        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        run = spec.loader.exec_module

        def run_then_mark(module: object) -> None:
            run(module)
            for name in MARKED[fullname]:
                marked(module, name)
        spec.loader.exec_module = run_then_mark
        return spec


def command_marked(argv: list[str]) -> None:
    """Run ``python -m sim argv`` in this process, as ``python -m sim`` does, noting its steps."""
    import runpy

    note("python")
    sys.meta_path.insert(0, MarkOnImport())
    sys.argv = ["python -m sim", *argv]
    runpy.run_module("sim", run_name="__main__", alter_sys=True)


def phases(marks: list[tuple[int, float, str]], started: float, ended: float) -> dict[str, float]:
    """The steps' seconds from the marks of one command (``started`` and ``ended`` timed from outside)."""
    main = marks[0][0]
    at = {what: t for pid, t, what in marks if pid == main}
    steps = {"start": at["python"] - started, "imports": at["> load_scenario"] - at["python"],
             "load": at["< load_scenario"] - at["> load_scenario"], "engine": at["< run"] - at["> run"],
             "handing over": at["> save"] - at["< run"], "saving": at["< save"] - at["> save"],
             "exit": ended - at["< main"]}
    ready = [t for pid, t, what in marks if pid != main and what == "< ready_to_save"]
    if ready:
        steps["writer ahead by"] = at["< run"] - ready[0]
    return steps


def _child(code: str, args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, float]:
    """Start and end (epoch seconds), wall and CPU (user + system, of it and every process it started)
    seconds of a fresh interpreter running ``sim`` from ``code``."""
    before, started, epoch = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter(), time.time()
    # not from a checkout's root: ``python -m`` puts the working folder first on sys.path, ahead of PYTHONPATH,
    # and the command would import the sim/ there whatever ``code`` says
    subprocess.run([sys.executable, *args], env=os.environ | {"PYTHONPATH": code} | (env or {}),
                   capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    return epoch, epoch + wall, wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def measure(code: str, scenario: str) -> dict[str, float]:
    """One repeat for the checkout ``code``: the command end to end (wall, CPU), then its steps."""
    with tempfile.TemporaryDirectory() as folder:
        *_, wall, cpu = _child(code, ["-m", "sim", scenario, "--quiet", "--out", str(Path(folder) / "cli")])
        marks = Path(folder) / "marks"
        started, ended, *_ = _child(code, [str(Path(__file__).resolve()), "--marked", scenario, "--quiet", "--out",
                                           str(Path(folder) / "marked")], env={"SIM_BENCH_MARKS": str(marks)})
        noted = [(int(pid), float(t), what) for pid, t, what in
                 (line.split(" ", 2) for line in marks.read_text(encoding="utf-8").splitlines())]
    return {"end to end": wall, "CPU, all processes": cpu} | phases(noted, started, ended)


def report(figures: dict[str, list[float]], base: dict[str, list[float]] | None) -> str:
    lines = [f"{'':20}{'median':>9}" + (f"{'base':>9}   ratio, pairs: median (min-max)" if base else "")]
    for name, values in figures.items():
        line = f"{name:20}{statistics.median(values):8.3f}s"
        if base and name in base:
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
    parser.add_argument("--marked", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.marked:                      # the child: the command, its steps noted
        command_marked(args.marked)
        return
    args.scenario = str(Path(args.scenario).resolve())     # the children run from another folder
    checkouts = {"this": str(ROOT)} | ({"base": str(args.base.resolve())} if args.base else {})
    for code in checkouts.values():      # warm: compiled kernels cached, files read once
        measure(code, args.scenario)
    runs: dict[str, dict[str, list[float]]] = {name: {} for name in checkouts}
    for _ in range(args.repeats):
        for name, code in checkouts.items():
            for figure, value in measure(code, args.scenario).items():
                runs[name].setdefault(figure, []).append(value)
    print(f"{Path(args.scenario).name}, {args.repeats} repeats" + (f", paired against {args.base}" if args.base
                                                                      else ""))
    print("\nwall\n" + report(runs["this"], runs.get("base")))


if __name__ == "__main__":
    main()
