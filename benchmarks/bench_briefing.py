"""CPU seconds of each briefing figure of one run, drawn and written as a PNG, the tables it reads made afresh.

    python benchmarks/bench_briefing.py [scenario] [rounds]

Runs the scenario once (default scenarios/japan_ban.yaml), then draws the five figures of
``sim.plots.briefing.FIGURES`` ``rounds`` times (default 3) after one round that warms matplotlib's
caches, with the cycle collector paused as the command line pauses it; prints the best round of each
figure and their sum. Each figure starts from a run whose tables (and their calendars) are not yet made, as
in a process that draws it first. Compare checkouts by running it with ``PYTHONPATH`` set to each, in turn.
"""
from __future__ import annotations

import gc
import importlib
import pathlib
import sys
import tempfile
import time

from sim.experiments.single import run
from sim.plots.style import ready_to_draw

briefing = importlib.import_module("sim.plots.briefing")     # the module: ``sim.plots.briefing`` is its function


def figure_seconds(scenario: str, rounds: int) -> dict[str, float]:
    """The best CPU seconds of each briefing figure over ``rounds`` rounds (after a warm-up round)."""
    results = run(scenario)
    results.summary()              # written before the figures by the command line: not theirs to make
    ready_to_draw()
    folder = pathlib.Path(tempfile.mkdtemp())
    best: dict[str, float] = {}
    gc.disable()
    for done in range(rounds + 1):
        for name in briefing.FIGURES:
            results._tables.clear()
            results._periods.clear()
            start = time.process_time()
            briefing.briefing(results, folder, figures=(name,))
            seconds = time.process_time() - start
            if done:
                best[name] = min(best.get(name, seconds), seconds)
    gc.enable()
    return best


if __name__ == "__main__":
    scenario = sys.argv[1] if len(sys.argv) > 1 else "scenarios/japan_ban.yaml"
    best = figure_seconds(scenario, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
    print(" ".join(f"{name}={seconds:.3f}" for name, seconds in best.items()), f"sum={sum(best.values()):.3f}")
