"""What calling the compiled kernels costs a run, apart from their work:
python benchmarks/bench_call_cost.py [--scenario NAME] [--repeats N].

Two parts, in one process:

- **a run's calls**: the scenario run once to load its kernels, then once with every kernel the engine calls
  counted: calls a step, the arrays handed in a step (those in tuples counted one by one) and the arrays
  handed back;
- **the price of a call** (Numba's compiled functions, called from Python, warm, on arrays of [27, 11], the
  Japan ban's oxides): a call of nothing; 40 arrays as arguments, in a tuple, and held in a ``structref``
  (one object that Numba unboxes once, whose fields the compiled code reads); one array handed back, ten, and
  ten made in the call. The median of ``--repeats`` timings of 20,000 calls each.

Multiplying the two gives what a step pays to hand its arrays over and back, the part of the run that fewer,
larger calls (or a state unboxed once) would save. A ``structref`` cannot be compiled ahead by
``numba.pycc``: kernels taking one would load from Numba's cache (0.3-0.4 s a process, ``sim.kernels``).
"""
from __future__ import annotations

import argparse
import collections
import importlib
import pkgutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ARRAYS = 40


def arrays_in(value: object) -> int:
    """Arrays in an argument or a result, those in (nested) tuples counted one by one."""
    if isinstance(value, np.ndarray):
        return 1
    if isinstance(value, tuple):
        return sum(arrays_in(item) for item in value)
    return 0


def run_calls(scenario: str) -> tuple[int, collections.Counter, collections.Counter, collections.Counter]:
    """Steps of a run of ``scenario`` and, by kernel, its calls, arrays handed in and arrays handed back."""
    from numba.core.dispatcher import Dispatcher

    import sim.engine  # noqa: F401
    import sim.kernels
    from sim import load_scenario
    from sim.engine.simulation import Simulation

    world = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml")
    Simulation(world, seed=0).run()
    calls, handed, back = collections.Counter(), collections.Counter(), collections.Counter()

    def counted(name: str, dispatcher: Dispatcher):
        def call(*args):
            result = dispatcher(*args)
            calls[name] += 1
            handed[name] += arrays_in(args)
            back[name] += arrays_in(result)
            return result
        return call

    for info in pkgutil.iter_modules(sim.kernels.__path__):      # kernels the engine calls as a module's
        importlib.import_module(f"sim.kernels.{info.name}")
    for name, module in list(sys.modules.items()):               # and by the names it imported them under
        if module is None or not name.startswith(("sim.engine", "sim.results", "sim.kernels.", "sim.world")):
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, Dispatcher) and value.__module__.startswith("sim.kernels.") and (
                    not name.startswith("sim.kernels.") or value.__module__ == name):   # not those kernels call
                setattr(module, attribute, counted(attribute, value))
    simulation, steps = Simulation(world, seed=0), [0]
    step = simulation.next_step

    def next_step() -> bool:
        stepped = step()
        steps[0] += stepped
        return stepped

    simulation.next_step = next_step
    simulation.run()
    return steps[0], calls, handed, back


def call_prices(repeats: int) -> dict[str, float]:
    """us a call of each kind (see the module's note)."""
    from numba import njit, types
    from numba.experimental import structref

    @structref.register
    class RunArraysType(types.StructRef):
        def preprocess_fields(self, fields):
            return tuple((name, types.unliteral(kind)) for name, kind in fields)

    class RunArrays(structref.StructRefProxy):
        pass

    names = [f"a{i}" for i in range(ARRAYS)]
    structref.define_proxy(RunArrays, RunArraysType, names)
    source = f"def by_arguments({', '.join(names)}):\n    return a0[0, 0] + a{ARRAYS - 1}[0, 0]\n"
    space: dict = {}
    exec(source, space)  # noqa: S102 - a function of 40 parameters, written out
    by_arguments = njit(space["by_arguments"])

    @njit
    def nothing():
        return 0.0

    @njit
    def by_tuple(t):
        return t[0][0, 0] + t[ARRAYS - 1][0, 0]

    @njit
    def by_structref(s):
        return s.a0[0, 0] + s.a39[0, 0]

    @njit
    def one_back(a):
        return a

    @njit
    def ten_back(a):
        return a, a, a, a, a, a, a, a, a, a

    @njit
    def ten_made(a):
        s = a.shape
        return (np.empty(s), np.empty(s), np.empty(s), np.empty(s), np.empty(s), np.empty(s), np.empty(s),
                np.empty(s), np.empty(s), np.empty(s))

    arrays = [np.zeros((27, 11)) for _ in range(ARRAYS)]
    held, together, a = RunArrays(*arrays), tuple(arrays), arrays[0]
    kinds = {"nothing": (nothing, ()), f"{ARRAYS} arrays as arguments": (by_arguments, tuple(arrays)),
             f"{ARRAYS} arrays in a tuple": (by_tuple, (together,)),
             f"{ARRAYS} arrays in a structref": (by_structref, (held,)),
             "one array back": (one_back, (a,)), "ten arrays back": (ten_back, (a,)),
             "ten arrays made and handed back": (ten_made, (a,))}
    prices = {}
    for kind, (function, args) in kinds.items():
        function(*args)
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(20_000):
                function(*args)
            timings.append((time.perf_counter() - start) / 20_000 * 1e6)
        prices[kind] = statistics.median(timings)
    return prices


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="japan_ban")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    steps, calls, handed, back = run_calls(args.scenario)
    print(f"{args.scenario}: {steps} steps; a step: {sum(calls.values()) / steps:.1f} kernel calls, "
          f"{sum(handed.values()) / steps:.0f} arrays handed in, {sum(back.values()) / steps:.0f} handed back")
    print("   calls/step  arrays in/call  back/call  kernel")
    for name, n in sorted(calls.items(), key=lambda item: -handed[item[0]])[:15]:
        print(f"   {n / steps:10.2f}  {handed[name] / n:14.1f}  {back[name] / n:9.1f}  {name}")
    print("a call, warm (us, median of the repeats):")
    for kind, us in call_prices(args.repeats).items():
        print(f"   {us:6.2f}  {kind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
