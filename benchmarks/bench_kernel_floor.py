"""What a run's compiled kernels cost without the Python between them: python benchmarks/bench_kernel_floor.py
[--scenario NAME] [--steps FIRST LAST].

The floor under any way of calling the kernels, a whole step in one call included: the arithmetic they do.
Runs a scenario once with every kernel that Python calls wrapped to keep a copy of its arguments during the
calendar steps FIRST to LAST (default 300 to 350 of a Japan ban), then calls the same kernels again, in the same
order, on copies of those arguments read just before each call (so that they are in the cache, as a run's mostly
are), each call timed alone (best of five replays), and the same calls with the same arguments into a kernel
that does nothing (what a call from Python costs: Numba unboxing every array). The difference is the kernels'
arithmetic. Prints both per step and scaled to the run, and the kernels that cost most.
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
    for name, module in list(sys.modules.items()):     # every name a kernel is called by from Python
        if name.startswith("sim.") and module is not None:
            for attribute, value in list(vars(module).items()):
                if isinstance(value, Dispatcher) and value in wrapped:
                    setattr(module, attribute, wrapped[value])
    step = simulation.Simulation.next_step

    def next_step(self):
        kept["on"] = args.steps[0] <= self.state.k < args.steps[1]
        return step(self)

    simulation.Simulation.next_step = next_step
    scenario = load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    run = simulation.Simulation(scenario, seed=0)
    run.run()
    kept["on"] = False
    steps, run_steps = args.steps[1] - args.steps[0], run.steps      # run.steps: spin-up and calendar
    nothing = numba.njit(lambda *arguments: None)
    for _, arguments in calls:
        nothing(*arguments)                            # compiled for every signature before the timing
    per_kernel: dict[str, float] = collections.defaultdict(float)

    def replay(kernel_of, by_kernel: dict[str, float] | None = None) -> float:
        """Seconds in the calls alone, each on copies of its arguments read just before (in the cache, as a
        run's mostly are)."""
        total = 0.0
        for kernel, arguments in calls:
            arguments = copy.deepcopy(arguments)
            for value in arguments:
                if isinstance(value, np.ndarray):
                    value.sum()
            started = time.perf_counter()
            kernel_of(kernel)(*arguments)
            seconds = time.perf_counter() - started
            total += seconds
            if by_kernel is not None:
                by_kernel[kernel.py_func.__name__] += seconds
        return total

    kernels_s = min(replay(lambda k: k) for _ in range(5))
    calling_s = min(replay(lambda k: nothing) for _ in range(5))
    replay(lambda k: k, per_kernel)
    arithmetic = kernels_s - calling_s
    print(f"{args.scenario}: {len(calls)} kernel calls in {steps} steps ({len(calls) / steps:.0f} a step)")
    print(f"  kernels called one after another: {kernels_s / steps * 1e6:.0f} us a step; calling them alone "
          f"{calling_s / steps * 1e6:.0f} us; their arithmetic {arithmetic / steps * 1e6:.0f} us")
    print(f"  a run of {run_steps} steps: arithmetic {arithmetic / steps * run_steps * 1e3:.0f} ms, calls "
          f"{calling_s / steps * run_steps * 1e3:.0f} ms")
    total = sum(per_kernel.values())
    for name, seconds in sorted(per_kernel.items(), key=lambda item: -item[1])[:10]:
        print(f"  {name:24} {seconds / total:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
