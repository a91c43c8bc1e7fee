"""The back-test: replay each episode of ``seeds/history.yaml`` and score every target against its run.

An episode is a scenario of ``scenarios/`` named by its targets. It runs once when nothing in it is
random, else as an ensemble of ``replications`` (the simulated figure is then read as P5/P50/P95 over
them). A target passes when its simulated P50 lies inside the band stated in ``seeds/``. Every run stops
at the last day a target of its episode needs.

Every target is checked against its episode's scenario before anything runs (``Target.problems_in``): a
code the scenario has not, a period its calendar does not cover, is a located ScenarioError. A
replication that raises while running is a BacktestError naming the episode and the replication.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import BacktestError, Problem, ScenarioError
from ..experiments import executors
from ..experiments.bands import PERCENTILES
from ..experiments.executors import EPISODE_REPLICATIONS as REPLICATIONS
from ..experiments.manifest import code_sha256
from ..experiments.single import is_random, run
from ..files import atomic_folder, write_json, write_table
from ..scenario import Scenario
from ..scenario.loading import read_scenario, validate_document
from ..scenario.overrides import apply, describe, resolve
from ..scenario.registry import load_registry
from ..version import __version__
from .targets import Target, load_targets


@dataclass(frozen=True)
class Episode:
    """One scenario replayed, with the targets read from it."""

    name: str
    file: Path
    scenario: Scenario
    targets: tuple[Target, ...]
    replications: int

    @property
    def end(self) -> dt.date:
        """The last day any of its targets needs (``episodes()`` has checked that the calendar reaches it)."""
        return max(t.last_day.end for t in self.targets) - dt.timedelta(days=1)


def episodes(names: str | Iterable[str] | None = None, replications: int = REPLICATIONS,
             seeds: Path | None = None, settings: Mapping[str, Any] | None = None) -> list[Episode]:
    """The episodes of the targets in ``seeds/`` (only those named, when given: one name or several), in
    file order, each target checked against its episode's scenario. ``settings`` sets key paths
    (``prices.scarcity_elasticity``, as ``sweep`` reads them) in every episode's scenario, after
    ``extends``: the way to try a parameter on history. ScenarioError, located, for a target its scenario
    cannot answer or a setting an episode does not take; ValueError for fewer than one replication."""
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    chosen = (names,) if isinstance(names, str) else tuple(names or ())
    registry = load_registry(seeds)
    root = Path(registry.root)
    targets = load_targets(registry)
    known = list(dict.fromkeys(t.episode for t in targets))
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise ScenarioError.single(root, f"no targets for episode {', '.join(map(repr, unknown))}; "
                                         f"episodes: {', '.join(known)}")
    problems, out = [], []
    for name in chosen or known:
        mine = tuple(t for t in targets if t.episode == name)
        file = root.parent / "scenarios" / f"{name}.yaml"
        if not file.is_file():
            problems.append(mine[0].problem(("episode",), f"no scenario {file} to replay"))
            continue
        try:
            scenario = _with(file, settings or {}, registry)  # its sources checked against the same seeds
        except ScenarioError as exc:
            problems += exc.problems
            continue
        problems += [p for t in mine for p in t.problems_in(scenario)]
        out.append(Episode(name, file, scenario, mine, replications if is_random(scenario) else 1))
    if problems:
        raise ScenarioError(problems)
    return out


def _with(file: Path, settings: Mapping[str, Any], registry) -> Scenario:
    """The episode's scenario with ``settings`` applied to its merged document, validated like a file."""
    doc = read_scenario(file)
    for written, value in settings.items():
        doc = apply(doc, resolve(doc, written).path, value)
    try:
        return validate_document(doc, registry)
    except ScenarioError as exc:
        shown = ", ".join(f"{k}={describe(v)}" for k, v in settings.items())
        raise ScenarioError([Problem(p.file, p.path, p.line, f"{p.message} [with {shown}]")
                             for p in exc.problems]) from None


def default_folder(seeds: Path | None = None) -> Path:
    """results/backtest/ of the project whose seeds/ holds the targets."""
    return Path(load_registry(seeds).root).parent / "results" / "backtest"


def score_replication(episode: Episode, folder: Path, r: int) -> int:
    """Run replication ``r`` of an episode and write each target's simulated value to ``folder``."""
    results = run(episode.scenario, end=episode.end, replication=r if episode.replications > 1 else None)
    values = {t.id: t.simulate(results) for t in episode.targets}
    (folder / f"{episode.name}.r{r:05d}.json").write_text(json.dumps(values), encoding="utf-8")
    return r


def _task(jobs: list[tuple[Episode, int]], folder: Path, i: int) -> int:
    episode, r = jobs[i]
    return score_replication(episode, folder, r)


@dataclass
class Scorecard:
    """Every target beside its simulated counterpart: ``table`` (one row per target) and ``values`` (one
    row per target and replication). P5/P50/P95 are of the replications with a value; ``na_replications``
    counts those without one (nothing in the base period, or in the whole a share is of)."""

    table: pd.DataFrame
    values: pd.DataFrame
    episodes: list[Episode]
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return int(self.table["passes"].sum())

    def text(self) -> str:
        lines = []
        for episode in self.episodes:
            rows = self.table[self.table["episode"] == episode.name]
            runs = (f"{episode.replications} replications" if episode.replications > 1 else "one run")
            lines.append(f"{episode.name}: {episode.scenario.title or ''} ({runs}, to {episode.end})")
            lines.append(f"  {'target':<34} {'kind':<11} {'observed':>13} {'band':>19}  {'simulated P50 [P5-P95]':<28}")
            for row in rows.itertuples():
                fmt = FORMATS[row.measure]
                band = f"{fmt(row.band_low)}..{fmt(row.band_high)}"
                observed = (fmt(row.observed) if row.observed_low == row.observed_high
                            else f"{fmt(row.observed_low)}..{fmt(row.observed_high)}")
                simulated = fmt(row.p50) if row.replications == 1 else (
                    f"{fmt(row.p50)} [{fmt(row.p5)}..{fmt(row.p95)}]")
                lines.append(f"  {row.target:<34} {row.kind:<11} {observed:>13} {band:>19}  "
                             f"{simulated:<28} {'pass' if row.passes else 'MISS'}")
        n = len(self.table)
        lines.append(f"{self.passed} of {n} targets pass ({(self.table['kind'] == 'validation').sum()} validation, "
                     f"{(self.table['kind'] == 'calibration').sum()} calibration)"
                     + (f"; {self.seconds:.0f} s" if self.seconds else ""))
        return "\n".join(lines)

    def misfit(self, targets: Iterable[str] | None = None) -> pd.Series:
        """How far each target's simulated P50 lies from its observed figure, in half-widths of its band
        (0 on the figure, 1 at the band's edge on that side; on a log scale for multiples, which are ratios);
        NaN where the model gives no value. For a fit: the smaller the sum of squares, the closer."""
        rows = self.table if targets is None else self.table[self.table["target"].isin(list(targets))]
        sim, obs = rows["p50"].to_numpy(dtype=float), rows["observed"].to_numpy(dtype=float)
        low, high = rows["band_low"].to_numpy(dtype=float), rows["band_high"].to_numpy(dtype=float)
        ratio = (rows["measure"] == "multiple").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            sim, obs, low, high = (np.where(ratio, np.log(x), x) for x in (sim, obs, low, high))
            edge = np.where(sim >= obs, high - obs, obs - low)
            z = (sim - obs) / np.where(edge > 0, edge, np.nan)
        return pd.Series(z, index=rows["target"].to_numpy(), name="misfit")

    def markdown(self) -> str:
        """The scorecard as a Markdown table (one row per target), for a report or the README."""
        lines = ["| episode | target | kind | observed | band | simulated P50 [P5–P95] | |",
                 "|---|---|---|---|---|---|---|"]
        for row in self.table.itertuples():
            fmt = FORMATS[row.measure]
            observed = (fmt(row.observed) if row.observed_low == row.observed_high
                        else f"{fmt(row.observed_low)}–{fmt(row.observed_high)}")
            simulated = fmt(row.p50) if row.replications == 1 else f"{fmt(row.p50)} [{fmt(row.p5)}–{fmt(row.p95)}]"
            lines.append(f"| {row.episode} | `{row.target}` | {row.kind} | {observed} | {fmt(row.band_low)}–"
                         f"{fmt(row.band_high)} | {simulated} | {'pass' if row.passes else '**miss**'} |")
        return "\n".join(lines) + "\n"

    def save(self, folder: Path | str, plots: bool = True) -> Path:
        """scorecard.csv, replications.csv and one plot per episode, written whole into ``folder``."""
        folder = Path(folder)
        with atomic_folder(folder, "backtest") as work:
            write_table(self.table, work / "scorecard", ("csv",))
            write_json(work / "manifest.json", {"kind": "backtest", "sim_version": __version__,
                                                "code_sha256": code_sha256(),
                                                "episodes": [e.name for e in self.episodes]})
            write_table(self.values, work / "replications", ("csv",))
            if plots:
                from ..plots.backtest import plot_episode  # matplotlib only when plots are asked for
                for episode in self.episodes:
                    plot_episode(self.table[self.table["episode"] == episode.name],
                                 self.values[self.values["episode"] == episode.name], episode.name,
                                 episode.replications, work)
        return folder


def _percent(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def _signed(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:+.0f}%"


def _times(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"x{x:.2f}"


def _tonnes(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:,.0f} t"


FORMATS: dict[str, Callable[[float], str]] = {"share": _percent, "change": _signed, "multiple": _times,
                                              "total": _tonnes}


def backtest(names: str | Iterable[str] | None = None, replications: int = REPLICATIONS,
             workers: int | None = None, seeds: Path | None = None,
             progress: Callable[[int, int], None] | None = None,
             settings: Mapping[str, Any] | None = None) -> Scorecard:
    """Replay the episodes (all, or the one or several named) and score each target. ``workers`` local
    processes (default: all cores) share every episode's replications; ``settings`` sets key paths in every
    episode (see ``episodes``). Raises what ``episodes()`` raises before anything runs, and BacktestError
    for a replication that raised."""
    started = time.perf_counter()
    chosen = episodes(names, replications, seeds, settings)
    jobs = [(e, r) for e in chosen for r in range(e.replications)]
    with tempfile.TemporaryDirectory(prefix="sim-backtest-") as tmp:
        folder = Path(tmp)
        task = functools.partial(_task, jobs, folder)
        outcomes = executors.locally(task, list(range(len(jobs))), workers)
        done = 0
        for i, error in outcomes:
            if error is not None:
                episode, r = jobs[i]
                raise BacktestError(episode.name, r, error)
            done += 1
            if progress:
                progress(done, len(jobs))
        values = pd.DataFrame([
            {"episode": e.name, "replication": r, "target": target, "simulated": value}
            for e, r in jobs
            for target, value in json.loads((folder / f"{e.name}.r{r:05d}.json").read_text()).items()])
    return Scorecard(_score(chosen, values), values, chosen, time.perf_counter() - started)


def _score(chosen: list[Episode], values: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for episode in chosen:
        for t in episode.targets:
            sims = values.loc[(values["episode"] == episode.name) & (values["target"] == t.id),
                              "simulated"].to_numpy(dtype=float)
            # a replication without a value (nothing in the base period) leaves the others' band standing;
            # a target none has a value for has no P50 and does not pass
            finite = sims[np.isfinite(sims)]
            p5, p50, p95 = np.percentile(finite, PERCENTILES) if finite.size else (np.nan,) * len(PERCENTILES)
            fig = t.figure
            low, high = fig.bounds()
            rows.append({
                "episode": episode.name, "target": t.id, "kind": t.kind, "measure": t.measure, "text": fig.text,
                "period": t.period.label, "base": t.base.label if t.base else "",
                "observed": t.observed, "observed_low": low, "observed_high": high,
                "band_low": t.band[0], "band_high": t.band[1],
                "p5": p5, "p50": p50, "p95": p95, "passes": t.passes(p50), "replications": len(sims),
                "na_replications": len(sims) - finite.size,
                "source": fig.publication or ", ".join(fig.source), "band_reason": t.band_reason})
    return pd.DataFrame(rows)
