"""Where a run's time goes as it runs: the compiled kernels against the Python between them.
python benchmarks/bench_step_split.py [--scenario NAME] [--runs N] [--functions]

Runs a scenario once to load its kernels, then N times with every kernel that Python calls timed as it is
called (wall time from the call to its return: Numba reading the arguments, the arithmetic, and the memory the
run touches for the first time); the rest of a run is the Python between the kernels (the engine's functions,
NumPy's calls outside the kernels, SimPy). ``bench_kernel_floor.py`` replays the same calls on warm memory:
the difference between the two is what a kernel pays for memory a run has not yet touched. With
``--functions``, every function and method of the engine, the recorder and its sparse records is timed too,
and the time of each is given without that of the timed functions it calls (its own lines, NumPy's calls and
SimPy's included): each timing adds about a microsecond, so the Python's share grows under it, but where it
goes holds.
"""
from __future__ import annotations

import argparse
import collections
import importlib
import pkgutil
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="japan_ban")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--functions", action="store_true", help="time the engine's functions too")
    args = parser.parse_args()
    from numba.core.dispatcher import Dispatcher

    import sim.engine
    import sim.kernels
    from sim import load_scenario
    from sim.engine.simulation import Simulation

    scenario = load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    Simulation(scenario, seed=0).run()                   # kernels loaded, and compiled where they were not
    own: collections.Counter[str] = collections.Counter()       # seconds, without timed callees
    calls: collections.Counter[str] = collections.Counter()
    inside: list[float] = []                             # seconds of timed callees, by open timing

    def timed(label: str, function):
        def call(*arguments, **keywords):
            started = time.perf_counter()
            inside.append(0.0)
            try:
                return function(*arguments, **keywords)
            finally:
                seconds = time.perf_counter() - started
                own[label] += seconds - inside.pop()
                calls[label] += 1
                if inside:
                    inside[-1] += seconds
        return call

    modules = [importlib.import_module(f"sim.kernels.{m.name}") for m in pkgutil.iter_modules(sim.kernels.__path__)]
    def rebind(timings: dict) -> None:
        """Every name a timed kernel or function is called by in ``sim`` bound to its timing."""
        for name, module in list(sys.modules.items()):
            if name.startswith("sim.") and module is not None:
                for attribute, value in list(vars(module).items()):
                    if isinstance(value, (Dispatcher, types.FunctionType)) and value in timings:
                        setattr(module, attribute, timings[value])

    rebind({k: timed(f"kernel {k.py_func.__name__}", k) for module in modules for k in vars(module).values()
            if isinstance(k, Dispatcher)})
    if args.functions:
        engine = [importlib.import_module(f"sim.engine.{m.name}") for m in pkgutil.iter_modules(sim.engine.__path__)]
        engine += [importlib.import_module("sim.results.recorder"), importlib.import_module("sim.results.sparse")]
        functions = {}
        for module in engine:
            short = module.__name__.rsplit(".", 1)[1]
            for attribute, value in list(vars(module).items()):
                if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                    functions[value] = timed(f"{short}.{attribute}", value)
                elif isinstance(value, type) and value.__module__ == module.__name__:
                    for method, function in list(vars(value).items()):
                        if isinstance(function, types.FunctionType) and not method.startswith("__"):
                            setattr(value, method, timed(f"{short}.{value.__name__}.{method}", function))
        rebind(functions)

    started = time.perf_counter()
    for _ in range(args.runs):
        Simulation(scenario, seed=0).run()
    run = (time.perf_counter() - started) / args.runs
    in_kernels = sum(s for label, s in own.items() if label.startswith("kernel ")) / args.runs
    n_kernel_calls = sum(n for label, n in calls.items() if label.startswith("kernel ")) // args.runs
    print(f"{args.scenario}: a run {run * 1e3:.0f} ms{' (its functions timed too)' if args.functions else ''}; "
          f"in kernels {in_kernels * 1e3:.0f} ms ({in_kernels / run:.0%}, {n_kernel_calls} calls), "
          f"the Python between them {(run - in_kernels) * 1e3:.0f} ms ({1 - in_kernels / run:.0%})")
    print(f"  {'ms a run':>9} {'calls':>7} {'us a call':>9}")
    for label, seconds in own.most_common(30):
        print(f"  {seconds / args.runs * 1e3:9.1f} {calls[label] // args.runs:7d} "
              f"{seconds / calls[label] * 1e6:9.1f}  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
