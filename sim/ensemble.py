"""Monte Carlo ensembles: N replications of one scenario, each with its own random streams, and their bands.

Replication r of an ensemble of seed s draws its world and its licence
decisions from ``SeedSequence(s).spawn(N)[r]``, so its results depend on
(s, r) only: not on how many workers run the ensemble, in which order they
finish, or on which machine. Each finished replication is written at once to
``replications/rNNNNN/`` (its summary and monthly headline series; atomically),
so a killed ensemble loses nothing and ``resume=True`` runs only the missing
ones. A replication that raises is reported with its seed and replication
number, so it can be rerun alone (``Simulation(scenario, seed=s,
replication=r)``); a worker process that dies is replaced and its
replications retried once.

Bands (P5, P50, P95) are computed from the files on disk, in replication
order, after every replication is there: of every headline figure of the
summaries (``headline_bands.csv``) and of every monthly headline series
(``bands.csv``).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .engine import Simulation
from .headlines import figures_for, number, value
from .outputs import atomic_folder, code_sha256, read_manifest, scenario_sha256, write_json, write_table
from .runs import monthly_series
from .schema import Scenario

PERCENTILES = (5, 50, 95)
REPLICATIONS = "replications"
RETRIES = 1                      # a replication whose worker died is tried once more


class EnsembleError(RuntimeError):
    """An ensemble cannot start or resume (its folder holds another ensemble)."""


@dataclass
class Failure:
    replication: int
    seed: int
    error: str


@dataclass
class Ensemble:
    """What an ensemble produced: per-replication summaries and series, their bands, and failures."""

    scenario: Scenario
    seed: int
    replications: int
    folder: Path
    summaries: list[dict]
    series: pd.DataFrame                      # replication, date, metric, country, element, value
    failures: list[Failure] = field(default_factory=list)
    ran: int = 0                              # replications run now (the rest were on disk)

    @property
    def headline_bands(self) -> pd.DataFrame:
        return headline_bands(self.summaries)

    @property
    def bands(self) -> pd.DataFrame:
        return series_bands(self.series)


def replication_folder(folder: Path, r: int) -> Path:
    return Path(folder) / REPLICATIONS / f"r{r:05d}"


def run_replication(scenario: Scenario, seed: int, r: int, end: dt.date | None, folder: Path) -> int:
    """Run replication ``r`` and write its summary and monthly series to its folder; return ``r``."""
    results = Simulation(scenario, seed=seed, end=end, replication=r).run()
    summary = results.summary() | {"replication": r}
    with atomic_folder(replication_folder(folder, r)) as work:
        monthly_series(results).to_parquet(work / "monthly.parquet", index=False)
        write_json(work / "summary.json", summary)
    return r


def _done(folder: Path, n: int) -> set[int]:
    return {r for r in range(n) if (replication_folder(folder, r) / "summary.json").is_file()}


def _manifest(scenario: Scenario, seed: int, n: int, end: dt.date | None) -> dict:
    return {"kind": "ensemble", "scenario": scenario.name, "scenario_sha256": scenario_sha256(scenario),
            "code_sha256": code_sha256(), "seed": seed, "replications": n,
            "end": end.isoformat() if end else None}


def _prepare(folder: Path, manifest: dict, resume: bool) -> None:
    """Check a folder can take this ensemble: on resume, it must hold the same one; else start afresh."""
    old = read_manifest(folder)
    if resume and old is not None:
        differs = [k for k in ("scenario_sha256", "code_sha256", "seed", "end") if old.get(k) != manifest.get(k)]
        if differs:
            raise EnsembleError(f"cannot resume in {folder}: it holds an ensemble with another "
                                f"{', '.join(differs)}; run without --resume to start afresh")
    elif not resume and (folder / REPLICATIONS).exists():
        shutil.rmtree(folder / REPLICATIONS)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "manifest.json", manifest)


def run_ensemble(scenario: Scenario, replications: int, folder: Path | str, seed: int | None = None,
                 end: dt.date | None = None, workers: int | None = None, resume: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> Ensemble:
    """Run the replications missing from ``folder`` on ``workers`` local processes (all cores by default)."""
    folder = Path(folder)
    seed = scenario.run.seed if seed is None else int(seed)
    _prepare(folder, _manifest(scenario, seed, replications, end), resume)
    todo = sorted(set(range(replications)) - _done(folder, replications))
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    failures: list[Failure] = []
    finished = already = replications - len(todo)
    if progress:
        progress(finished, replications)
    for _ in range(RETRIES + 1):                 # a first try, then a retry of what a dead worker held
        if not todo:
            break
        broken: list[int] = []
        if workers == 1:
            for r in todo:
                try:
                    run_replication(scenario, seed, r, end, folder)
                    finished += 1
                except Exception as exc:   # reported with its seed, the others go on
                    failures.append(Failure(r, seed, f"{type(exc).__name__}: {exc}"))
                if progress:
                    progress(finished, replications)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(run_replication, scenario, seed, r, end, folder): r for r in todo}
                for future in as_completed(futures):
                    r = futures[future]
                    try:
                        future.result()
                        finished += 1
                    except BrokenProcessPool:
                        broken.append(r)
                    except Exception as exc:
                        failures.append(Failure(r, seed, f"{type(exc).__name__}: {exc}"))
                    if progress:
                        progress(finished, replications)
        todo = sorted(broken)
    failures += [Failure(r, seed, "its worker process died twice") for r in todo]
    ensemble = load_ensemble(folder, scenario, seed, replications)
    ensemble.failures = sorted(failures, key=lambda f: f.replication)
    ensemble.ran = finished - already
    write_bands(ensemble)
    return ensemble


def load_ensemble(folder: Path, scenario: Scenario, seed: int, replications: int) -> Ensemble:
    """Read the replications on disk, in replication order."""
    summaries, series = [], []
    for r in sorted(_done(folder, replications)):
        where = replication_folder(folder, r)
        summaries.append(json.loads((where / "summary.json").read_text(encoding="utf-8")))
        series.append(pd.read_parquet(where / "monthly.parquet").assign(replication=r))
    frame = pd.concat(series, ignore_index=True) if series else pd.DataFrame(
        columns=["date", "metric", "country", "element", "value", "replication"])
    return Ensemble(scenario, seed, replications, folder, summaries, frame)


def headline_bands(summaries: list[dict]) -> pd.DataFrame:
    """P5/P50/P95 of every headline figure over the replications, and the share of them where it happened.

    Dates are banded as dates; a figure that did not happen in a replication (never short, say) counts
    in ``happened`` but not in the percentiles.
    """
    rows = []
    for figure in figures_for(summaries):
        got = [value(s, figure) for s in summaries]
        seen = [v for v in got if v is not None]
        row = {"subject": figure.subject, "figure": figure.name, "unit": figure.unit,
               "happened": len(seen) / len(got) if got else 0.0}
        if figure.unit == "date":
            days = np.array([dt.date.fromisoformat(v).toordinal() for v in seen], dtype=float)
            for p in PERCENTILES:
                row[f"p{p}"] = dt.date.fromordinal(int(round(np.percentile(days, p)))).isoformat() if len(days) else None
        else:
            nums = np.array([x for x in (number(v, figure.unit) for v in seen) if x is not None], dtype=float)
            for p in PERCENTILES:
                row[f"p{p}"] = float(np.percentile(nums, p)) if len(nums) else None
        rows.append(row)
    return pd.DataFrame(rows, columns=["subject", "figure", "unit", "happened", *(f"p{p}" for p in PERCENTILES)])


def series_bands(series: pd.DataFrame) -> pd.DataFrame:
    """P5/P50/P95 of every monthly headline series over the replications, by date.

    Tonnages a replication does not list (tables drop zero rows) count as 0 t; shares and prices it
    does not list (no imports, no price) are left out of that date's percentiles.
    """
    keys = ["metric", "country", "element", "date"]
    frame = series.assign(country=series["country"].fillna(""), element=series["element"].fillna(""))
    wide = frame.pivot_table(index=keys, columns="replication", values="value", aggfunc="sum")
    wide = wide.reindex(columns=sorted(frame["replication"].unique()))
    tonnes = wide.index.get_level_values("metric").str.endswith("_t")
    wide.loc[tonnes] = wide.loc[tonnes].fillna(0.0)
    values = wide.to_numpy(dtype=float)
    out = wide.index.to_frame(index=False)
    with np.errstate(all="ignore"):
        for p in PERCENTILES:
            out[f"p{p}"] = np.nanpercentile(values, p, axis=1)
    out["replications"] = np.isfinite(values).sum(axis=1)
    return out


def write_bands(ensemble: Ensemble) -> None:
    """bands.csv, headline_bands.csv and failures.json beside the replications."""
    folder = ensemble.folder
    write_table(ensemble.bands, folder / "bands", ("csv",))
    write_table(ensemble.headline_bands, folder / "headline_bands", ("csv",))
    write_json(folder / "failures.json", {"failures": [f.__dict__ for f in ensemble.failures]})


def progress_bar(quiet: bool) -> Callable[[int, int], None] | None:
    """A progress bar on the terminal (tqdm), or nothing when quiet or when output is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar: dict = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, initial=done, unit="run", desc="replications")
        bar["bar"].n = done
        bar["bar"].refresh()
        if done >= total:
            bar["bar"].close()

    return update
