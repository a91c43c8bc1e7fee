"""What a run's compiled kernels cost without the Python between them: python benchmarks/bench_kernel_floor.py
[--scenario NAME] [--steps FIRST LAST].

The floor under any way of calling the kernels, a whole step in one call included. Runs a scenario once with
every kernel that Python calls wrapped to keep a copy of its arguments during the calendar steps FIRST to LAST
(default 300 to 350 of a Japan ban), then times each call again, alone, on fresh copies of its arguments read
just before (so that they are in the cache, as a run's mostly are), best of five, three ways:

- from Python, as the run calls it: Numba unboxes every argument, the kernel works, its results are boxed;
- the same arguments handed to a compiled function that does nothing: what unboxing them costs (and, as a
  lower bound, the same objects handed to it again and again, warm: about half of it on 2026-12-06, 73 against
  136 us a step of a Japan ban, on an Intel Xeon at 2.1 GHz);
- the same arguments handed to a compiled function that calls the kernel and drops its results: unboxing and
  the kernel's work, its allocations included, with no result boxed. Less the second, this is the kernel's
  work inside compiled code: what it would cost in a step compiled whole.

Prints each per step and scaled to the run, and the kernels that cost most. (A kernel with no effect but its
results could be left out by the compiler of the third; the kernels a step calls change their arguments or
allocate what they return, and their work measured so is the first way's less its unboxing, less about 1-3 us
of boxing results.)
"""
from __future__ import annotations

import argparse
import collections
import copy
import importlib
import pkgutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="japan_ban")
    parser.add_argument("--steps", type=int, nargs=2, default=(300, 350), metavar=("FIRST", "LAST"))
    args = parser.parse_args()
    import numba
    import numpy as np
    from numba.core.dispatcher import Dispatcher

    import sim.engine.simulation as simulation
    import sim.kernels
    from sim import load_scenario

    calls: list[tuple[Dispatcher, tuple]] = []
    kept = {"on": False}
    modules = [importlib.import_module(f"sim.kernels.{m.name}") for m in pkgutil.iter_modules(sim.kernels.__path__)]
    kernels = {k for module in modules for k in vars(module).values() if isinstance(k, Dispatcher)}

    def keeping(kernel: Dispatcher):
        def call(*arguments):
            if kept["on"]:
                calls.append((kernel, copy.deepcopy(arguments)))
            return kernel(*arguments)
        return call

    wrapped = {k: keeping(k) for k in kernels}
    unwrap = []
    for name, module in list(sys.modules.items()):     # every name a kernel is called by from Python
        if name.startswith("sim.") and module is not None:
            for attribute, value in list(vars(module).items()):
                if isinstance(value, Dispatcher) and value in wrapped:
                    setattr(module, attribute, wrapped[value])
                    unwrap.append((module, attribute, value))
    step = simulation.Simulation.next_step

    def next_step(self):
        kept["on"] = args.steps[0] <= self.state.k < args.steps[1]
        return step(self)

    simulation.Simulation.next_step = next_step
    scenario = load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    run = simulation.Simulation(scenario, seed=0)
    run.run()
    kept["on"] = False
    for module, attribute, value in unwrap:          # kernels compiled anew below read their callees by name
        setattr(module, attribute, value)
    steps, run_steps = args.steps[1] - args.steps[0], run.steps      # run.steps: spin-up and calendar
    nothing = numba.njit(lambda *arguments: None)
    within: dict[tuple[Dispatcher, int], Dispatcher] = {}

    def calling(kernel: Dispatcher, n: int) -> Dispatcher:
        """A compiled function of ``n`` arguments that calls ``kernel`` with them and drops what it returns."""
        if (kernel, n) not in within:
            names = ", ".join(f"a{i}" for i in range(n))
            space = {"kernel": kernel}
            exec(f"def call({names}):\n    kernel({names})\n", space)
            within[kernel, n] = numba.njit(space["call"])
        return within[kernel, n]

    def again(function, arguments: tuple) -> float:
        """Seconds of one call of ``function`` on the same ``arguments``, called 20 times in a row, best of 5."""
        best_s = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(20):
                function(*arguments)
            best_s = min(best_s, (time.perf_counter() - started) / 20)
        return best_s

    def best(function, arguments: tuple) -> float:
        """Seconds of one call of ``function`` on fresh copies of ``arguments`` read just before, best of 5."""
        times = []
        for _ in range(5):
            fresh = copy.deepcopy(arguments)
            for value in fresh:
                if isinstance(value, np.ndarray):
                    value.sum()
            started = time.perf_counter()
            function(*fresh)
            times.append(time.perf_counter() - started)
        return min(times)

    for kernel, arguments in calls:                    # compiled for every signature before the timing
        nothing(*arguments)
        calling(kernel, len(arguments))(*copy.deepcopy(arguments))
    per_kernel: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    warm_s = 0.0
    for kernel, arguments in calls:
        timed = per_kernel[kernel.py_func.__name__]
        timed[0] += best(kernel, arguments)
        timed[1] += best(nothing, arguments)
        timed[2] += best(calling(kernel, len(arguments)), arguments)
        timed[3] += 1
        warm_s += again(nothing, arguments)
    python_s, unboxing_s, inside_s = (sum(t[i] for t in per_kernel.values()) for i in range(3))
    work_s = inside_s - unboxing_s

    def per_step(seconds: float) -> str:
        return f"{seconds / steps * 1e6:.0f} us a step ({seconds / steps * run_steps * 1e3:.0f} ms a run)"

    print(f"{args.scenario}: {len(calls)} kernel calls in {steps} steps ({len(calls) / steps:.0f} a step), "
          f"each timed alone, best of 5; a run is {run_steps} steps")
    print(f"  from Python: {per_step(python_s)}")
    print(f"  unboxing their arguments: {per_step(unboxing_s)}; the same objects again, warm: {per_step(warm_s)}")
    print(f"  their work inside compiled code: {per_step(work_s)}")
    print(f"  the rest, boxing their results: {per_step(python_s - unboxing_s - work_s)}")
    print(f"  {'kernel':24} {'calls':>5} {'from Python':>12} {'unboxing':>9} {'work':>8}   (us a call)")
    for name, (py, unboxing, inside, n) in sorted(per_kernel.items(), key=lambda item: -item[1][0])[:12]:
        print(f"  {name:24} {n:5} {py / n * 1e6:12.1f} {unboxing / n * 1e6:9.1f} {(inside - unboxing) / n * 1e6:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
