"""Paired ensembles, for the commands that set runs side by side (compare, sweep): common random numbers.

One run of a scenario with uncertain inputs (``single.is_random``) is one draw of them, so a
comparison or a sweep of such scenarios runs an ensemble of each instead: the same ``replications`` of
the same seed for every scenario (or swept value). Replication r of each draws from the streams of
``SeedSequence(seed, spawn_key=(r,))`` (see ``Simulation``), and a world is drawn in a fixed order, so an
uncertain input written alike in two scenarios takes the same value in replication r of both: common
random numbers. (An input drawn earlier in one scenario than in the other, say a distribution added
before it, shifts the stream after it; the drawn values are listed per replication in
``replications.csv`` to check.) A difference is then taken per replication, B's replication r minus A's,
and banded (P5, P50, P95): the paired difference, which the draws both share do not blur.

A scenario without uncertain input is run once and stands for every replication (they would all be the
same). The replications run on the ensemble's executor (``executors.locally``), all scenarios in one
pool, into a temporary folder read back in replication order; results do not depend on the workers.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import EnsembleError
from ..results import Summary
from ..results.headlines import Headline, difference, difference_text, text, value
from ..scenario import Scenario
from ..scenario.drawing import written_inputs
from ..world import step_dates
from . import executors
from .bands import PERCENTILES, SeriesStack, band, series_bands
from .ensemble import load_ensemble, run_replication
from .executors import DEFAULT_REPLICATIONS
from .runs import ScenarioRun
from .single import is_random


class SideBySide:
    """What a comparison and a sweep share: their ``runs`` (``ScenarioRun``), one per scenario or value, each
    one plain run or the same paired replications."""

    runs: list

    @property
    def labels(self) -> list[str]:
        return [run.label for run in self.runs]

    @property
    def replications(self) -> int:
        """Paired replications per run; 1 for one plain run each."""
        return len(self.runs[0].replications) or 1

    @property
    def paired(self) -> bool:
        return bool(self.runs[0].replications)

def replications_for(scenarios: Sequence[Scenario], replications: int | None) -> int:
    """How many paired replications to run: as asked, else DEFAULT_REPLICATIONS when any scenario has
    uncertain inputs and 1 (one plain run each) when none has."""
    if replications is not None:
        if replications < 1:
            raise ValueError(f"replications must be at least 1, got {replications}")
        return replications
    return DEFAULT_REPLICATIONS if any(is_random(s) for s in scenarios) else 1


def one_draw_warning(names: Sequence[str], seed: int | None) -> str:
    """The warning for a comparison or sweep of uncertain scenarios made of one run each."""
    drawn = f"seed {seed}" if seed is not None else "each scenario's run.seed"
    return (f"warning: {', '.join(names)} {'has' if len(names) == 1 else 'have'} uncertain inputs and this is ONE "
            f"draw of them ({drawn}), not a band: another seed may give other numbers, even another sign; "
            "--replications N (N > 1) compares N paired draws")


def run_paired(scenarios: Sequence[tuple[str, Scenario, str]], replications: int, seed: int,
               end: dt.date | None, workers: int | None, file: Path | Sequence[Path]) -> list[ScenarioRun]:
    """Run ``replications`` of each (label, scenario, sha256) with common random numbers; a ScenarioRun each.

    Each run's ``replications`` holds its summaries in replication order, ``summary`` replication 0's,
    and ``series`` the P50 (``value``), P5 and P95 of each monthly series over the replications.
    Raises EnsembleError naming every replication that failed, with its seed, to rerun it alone.
    """
    files = [Path(file)] * len(scenarios) if isinstance(file, (str, Path)) else [Path(f) for f in file]
    todo = [(k, r) for k, (_, scenario, _) in enumerate(scenarios)
            for r in (range(replications) if is_random(scenario) else (0,))]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sim_paired_") as tmp:
        folders = [Path(tmp) / f"s{k:03d}" for k in range(len(scenarios))]
        task = functools.partial(_replication, tuple((s, digest) for _, s, digest in scenarios), seed, end,
                                 tuple(folders), tuple(todo))
        failed = [(todo[t], error) for t, error in executors.locally(task, list(range(len(todo))), workers)
                  if error is not None]
        if failed:
            raise EnsembleError("; ".join(f"replication {r} of {scenarios[k][0]} (seed {seed}) failed: {error}"
                                          for (k, r), error in sorted(failed))
                                + " (rerun one alone: python -m sim SCENARIO --seed S --replication R)")
        seconds = time.perf_counter() - started
        runs = []
        for (label, scenario, digest), folder, where in zip(scenarios, folders, files):
            ensemble = load_ensemble(folder, scenario, seed, replications)
            summaries = ensemble.summaries
            if not is_random(scenario):      # one run stands for all: they would be the same
                summaries = [dataclasses.replace(summaries[0], replication=r) for r in range(replications)]
            dates = step_dates(scenario.calendar, end)
            runs.append(ScenarioRun(label, where, scenario.name, seed, dates[0], dates[-1], digest, summaries[0],
                                    median_series(ensemble.monthly), seconds / len(scenarios),
                                    note=f"{replications} paired replications" if is_random(scenario) else
                                    "no uncertain input: one run stands for every replication",
                                    replications=summaries))
    return runs


def _replication(scenarios: tuple[tuple[Scenario, str], ...], seed: int, end: dt.date | None,
                 folders: tuple[Path, ...], todo: tuple[tuple[int, int], ...], t: int) -> int:
    """Task t of a paired run: replication r of scenario k (given with its sha256), written to that scenario's
    folder."""
    k, r = todo[t]
    scenario, digest = scenarios[k]
    run_replication(scenario, seed, end, folders[k], r, digest=digest)
    return t


def median_series(stack: SeriesStack) -> pd.DataFrame:
    """The monthly series of an ensemble as one run's (date, metric, country, element, value), ``value``
    their P50 over the replications, with their P5 and P95 beside it."""
    bands = series_bands(stack)
    out = pd.DataFrame({"date": pd.to_datetime(bands["date"]), "metric": bands["metric"],
                        "country": bands["country"].replace("", None), "element": bands["element"].replace("", None),
                        "value": bands["p50"], "p5": bands["p5"], "p95": bands["p95"]})
    return out.dropna(subset=["value"]).reset_index(drop=True)


# ---------------------------------------------------------------- bands of figures and of paired differences
def figure_band(summaries: Sequence[Summary], figure: Headline) -> dict[str, Any]:
    """P5, P50, P95 of a figure over the replications (``p5``...) and the share where it happened."""
    got = [value(s, figure) for s in summaries]
    return {f"p{p}": x for p, x in zip(PERCENTILES, band(got, figure.unit))} | {
        "happened": sum(v is not None for v in got) / len(got) if got else 0.0}


def paired_band(first: Sequence[Summary], other: Sequence[Summary], figure: Headline) -> dict[str, Any]:
    """P5, P50, P95 of ``other``'s replication r minus ``first``'s, over the replications where both have the
    figure (``pairs`` of them); dates in days, shares in share."""
    diffs = [difference(value(a, figure), value(b, figure), figure.unit) for a, b in zip(first, other, strict=True)]
    kept = [d for d in diffs if d is not None]
    return {f"p{p}": x for p, x in zip(PERCENTILES, band(kept, "difference"))} | {"pairs": len(kept)}


def band_text(cells: dict[str, Any], unit: str) -> str:
    """'87.1% [0.0% .. 87.8%]' (P50 [P5 .. P95]); one value where the three print alike; '—' if none."""
    low, mid, high = (text(cells[f"p{p}"], unit) for p in PERCENTILES)
    return mid if low == mid == high else f"{mid} [{low} .. {high}]"


def paired_text(cells: dict[str, Any], unit: str) -> str:
    """A band of paired differences: '-87.1 pp [-87.8 pp .. =]'; '=' for exactly zero."""
    low, mid, high = (_signed(cells[f"p{p}"], unit) for p in PERCENTILES)
    return mid if low == mid == high else f"{mid} [{low} .. {high}]"


def _signed(x: float | None, unit: str) -> str:
    if x is None:
        return "—"
    if unit == "date":
        return "=" if x == 0 else f"{x:+.0f} d"
    return difference_text(0.0, x, unit)


def describe(replications: int, seed: int, reference: str) -> str:
    """The line that heads a paired table: how many replications, and what the differences are."""
    return (f"P50 [P5 .. P95] over {replications} replications of seed {seed} (common random numbers: replication "
            f"r of each draws the same uncertain inputs); differences are paired: per replication, minus "
            f"{reference}'s")


def unpaired_inputs(first: tuple[Scenario, Sequence[Summary]], other: tuple[Scenario, Sequence[Summary]]) -> list[str]:
    """The uncertain inputs written alike in both scenarios that drew different values in some replication
    of both: where common random numbers do not hold (the other scenario draws other inputs before them)."""
    (a, a_drawn), (b, b_drawn) = first, other
    written_a, written_b = written_inputs(a), written_inputs(b)
    alike = [k for k, w in written_a.items() if k in written_b and written_b[k] == w]
    return [k for k in alike if any(k in x.drawn and k in y.drawn and x.drawn[k] != y.drawn[k]
                                    for x, y in zip(a_drawn, b_drawn))]


def pairing_notes(labels: Sequence[str], scenarios: Sequence[Scenario], runs: Sequence[ScenarioRun]) -> list[str]:
    """A note for each scenario (or value) whose common random numbers with the first do not hold."""
    notes = []
    for label, scenario, run in zip(labels[1:], scenarios[1:], runs[1:]):
        keys = unpaired_inputs((scenarios[0], runs[0].replications), (scenario, run.replications))
        if keys:
            them = "it" if len(keys) == 1 else "them"
            notes.append(f"note: {label} and {labels[0]} write {', '.join(keys)} alike but drew {them} differently "
                         f"in some replications: {label} draws other uncertain inputs before {them}, which shifts the "
                         "random stream; its differences are paired by replication, not by every draw (see "
                         "replications.csv)")
    return notes
