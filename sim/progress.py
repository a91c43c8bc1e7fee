"""Progress bars for long runs and ensembles: on a terminal only, never in pipes or with --quiet."""
from __future__ import annotations

import sys
from typing import Callable

Progress = Callable[[int, int], None]          # progress(done, total)


def progress_bar(quiet: bool, unit: str, desc: str) -> Progress | None:
    """A tqdm bar fed ``progress(done, total)``, or None when quiet or when stderr is not a terminal.

    tqdm redraws at most ten times a second, so a run can report every step."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    # no monitor thread (it only retunes how often a stalled bar redraws): the command line forks to draw its
    # plots (``sim.aside``), which wants a process without threads of its own
    tqdm.monitor_interval = 0
    bar: dict = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, initial=done, unit=unit, desc=desc, leave=False)
        bar["bar"].update(done - bar["bar"].n)
        if done >= total:
            bar["bar"].close()

    return update


def say(line: str) -> None:
    """A line on stderr that leaves a progress bar drawn there whole (through tqdm on a terminal)."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)
