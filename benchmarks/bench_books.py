"""What the books of a step cost: python benchmarks/bench_books.py [REPEATS] [--scenario NAME].

The books are the ledger (``Ledger.book`` for each part's flows, ``close_step``: the stocks recorded, the
mass balance and the stocks checked; goods that land or go back to their exporters are booked in the compiled
call that moves them, in the books ``Ledger.books`` gives it) and the recorder it writes. Measured two ways, in CPU time of this thread
(a shared machine's waits left out), the best of REPEATS (default 7):

- replayed: one run's calls (every book of its calendar) made again on fresh ledgers, and
  ``close_step`` on every calendar step against the final state, so that nothing else is timed;
- in the run: a whole run's time less that of a run whose books do nothing (its results are then wrong;
  only its time is used), so that what the books cost in the run (caches shared with the step) is counted.

Prints microseconds per calendar step. The code measured is the ``sim`` that Python imports (set PYTHONPATH
to measure another tree with this same script).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim import Simulation, load_scenario
from sim.engine.ledger import Ledger
from sim.results.recorder import Recorder

ROOT = Path(__file__).resolve().parent.parent


def replayed(scenario, repeats: int) -> dict[str, float]:
    """Seconds (best of ``repeats``) of one run's book calls made again, and of close_step."""
    books = []
    book = Ledger.book

    def keep_book(ledger: Ledger, k, flows) -> None:
        if ledger.accounts is not None:
            books.append((k, flows))
        book(ledger, k, flows)

    Ledger.book = keep_book
    try:
        simulation = Simulation(scenario, seed=0)
        simulation.run()
    finally:
        Ledger.book = book
    net, state = simulation.net, simulation.state
    best = {"book": float("inf"), "close_step": float("inf")}
    for _ in range(repeats):
        ledger = Ledger(net, Recorder(net))
        ledger.open(state)
        started = time.thread_time()
        for k, flows in books:
            ledger.book(k, flows)
        best["book"] = min(best["book"], time.thread_time() - started)
        ledger = Ledger(net, Recorder(net))          # nothing booked since it opened: the balance holds
        ledger.open(state)
        started = time.thread_time()
        for k in range(len(net.dates)):
            ledger.close_step(k, state)
        best["close_step"] = min(best["close_step"], time.thread_time() - started)
    return best


def in_the_run(scenario, repeats: int) -> float:
    """Seconds the books add to a run: the best run less the best run whose books do nothing."""
    def best_run() -> float:
        Simulation(scenario, seed=0).run()
        times = []
        for _ in range(repeats):
            started = time.thread_time()
            Simulation(scenario, seed=0).run()
            times.append(time.thread_time() - started)
        return min(times)

    whole = best_run()
    saved = Ledger.book, Ledger.books, Ledger.close_step
    Ledger.book = lambda ledger, k, flows: None
    Ledger.books = lambda ledger: None                # goods land and go back unbooked
    Ledger.close_step = lambda ledger, k, state: None
    try:
        without = best_run()
    finally:
        Ledger.book, Ledger.books, Ledger.close_step = saved
    return whole - without


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repeats", type=int, nargs="?", default=7)
    parser.add_argument("--scenario", default="japan_ban")
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    steps = len(Simulation(scenario, seed=0).net.dates)
    parts = replayed(scenario, args.repeats)
    print(f"{args.scenario}, {steps} calendar steps, CPU time per step, best of {args.repeats}")
    for name, seconds in parts.items():
        print(f"  replayed {name:11} {seconds / steps * 1e6:7.1f} us")
    print(f"  replayed {'in all':11} {sum(parts.values()) / steps * 1e6:7.1f} us")
    print(f"  in the run (run less a run without books) {in_the_run(scenario, args.repeats) / steps * 1e6:7.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
