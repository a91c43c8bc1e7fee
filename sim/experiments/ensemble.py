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

``scheduler="tcp://HOST:PORT"`` runs the same replications on an existing Dask
cluster (dask.distributed) instead of local processes; its workers write into the
same folder, so they must see it at the same path (a shared disk). The scheduler
reruns a replication whose worker died, and one that raised is tried once more.

Bands (P5, P50, P95) are computed from the files on disk, in replication
order, after every replication is there: of every headline figure of the
summaries (``headline_bands.csv``) and of every monthly headline series
(``bands.csv``).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from ..engine.measures import MEASURES
from ..engine.simulation import Simulation
from ..files import atomic_folder, write_json, write_table
from ..results.headlines import figures_for, number, value
from ..scenario import Scenario, has_distributions
from .outputs import code_sha256, read_manifest, scenario_sha256
from .runs import monthly_series

PERCENTILES = (5, 50, 95)
REPLICATIONS = "replications"
BAND_TABLES = ("bands", "headline_bands", "replications")   # what write_bands writes from the replications
FAILURES = "failures.json"
RETRIES = 1                      # a replication whose worker died (or, on Dask, that raised) is tried once more


SCHEDULER_ADDRESS = re.compile(r"(tcp|tls|ws|wss|ucx)://[^/\s:]+(:\d+)?|(tcp|tls|ws|wss|ucx)://\[[0-9a-fA-F:]+\]:\d+")


class EnsembleError(RuntimeError):
    """An ensemble cannot start or resume (its folder holds another ensemble, its cluster is not there)."""


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

    @cached_property
    def headline_bands(self) -> pd.DataFrame:
        return headline_bands(self.summaries)

    @cached_property
    def bands(self) -> pd.DataFrame:
        return series_bands(self.series)

    def plot(self, folder: Path | str | None = None, countries: tuple[str, ...] | None = None) -> list[Path]:
        """Band plots (``sim.plots.plot_ensemble``) into ``folder``, by default ``<ensemble folder>/plots``;
        matplotlib is loaded only now."""
        from ..plots import plot_ensemble

        return plot_ensemble(self, folder, countries)


def is_random(scenario: Scenario) -> bool:
    """Whether replications of the scenario can differ from one another.

    A replication draws its world (every number or date written as a distribution, and whether each
    event with a ``probability`` happens) and its licence decisions (review times and approvals); these
    are the engine's only draws. So replications differ when the scenario has a distribution or a
    probability anywhere, or a licence measure (export_licence, origin_rule) that approves with a chance
    below 1; a licence with a fixed review time, approved every time, decides the same in every one.
    """
    if has_distributions(scenario):
        return True
    return any(event.type in MEASURES and MEASURES[event.type].can_refuse(event) for event in scenario.events)


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
    elif not resume:                   # afresh: nothing of an earlier ensemble may be read as this one's
        for old_output in (REPLICATIONS, "plots"):
            shutil.rmtree(folder / old_output, ignore_errors=True)
        for old_output in (*(f"{table}.csv" for table in BAND_TABLES), FAILURES):
            (folder / old_output).unlink(missing_ok=True)
    for unfinished in (folder / REPLICATIONS).glob(".r*"):   # a replication killed while being written
        shutil.rmtree(unfinished, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "manifest.json", manifest)


def run_ensemble(scenario: Scenario, replications: int, folder: Path | str, seed: int | None = None,
                 end: dt.date | None = None, workers: int | None = None, resume: bool = False,
                 progress: Callable[[int, int], None] | None = None, scheduler: str | None = None) -> Ensemble:
    """Run the replications missing from ``folder`` on ``workers`` local processes (all cores by default).

    With ``scheduler`` (``"tcp://HOST:PORT"``) they run on that Dask cluster instead (``workers`` is
    then ignored). Its workers write each replication's files into ``folder`` themselves, so they must
    see it at the same path (a shared disk) and run the same ``sim`` code.
    """
    folder = Path(folder).resolve()            # the same absolute path on every worker
    seed = scenario.run.seed if seed is None else int(seed)
    client = _connect(scheduler) if scheduler else None     # before touching the folder: fail cleanly
    try:
        _prepare(folder, _manifest(scenario, seed, replications, end), resume)
        todo = sorted(set(range(replications)) - _done(folder, replications))
        finished = already = replications - len(todo)
        if progress:
            progress(finished, replications)
        if client is not None:
            outcomes = _on_dask(client, scenario, seed, todo, end, folder)
        else:
            workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
            outcomes = (_in_process(scenario, seed, todo, end, folder) if workers == 1
                        else _on_processes(scenario, seed, todo, end, folder, workers))
        failures: list[Failure] = []
        for r, error in outcomes:
            if error is None:
                finished += 1
            else:                              # reported with its seed, the others go on
                failures.append(Failure(r, seed, error))
            if progress:
                progress(finished, replications)
    finally:
        if client is not None:
            client.close()
    ensemble = load_ensemble(folder, scenario, seed, replications)
    ensemble.failures = sorted(failures, key=lambda f: f.replication)
    ensemble.ran = finished - already
    write_bands(ensemble)
    return ensemble


# Each runner yields (replication, None) for one written to its folder, (replication, error) for one that failed.
Outcomes = Iterator[tuple[int, str | None]]


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _in_process(scenario: Scenario, seed: int, todo: list[int], end: dt.date | None, folder: Path) -> Outcomes:
    for r in todo:
        try:
            run_replication(scenario, seed, r, end, folder)
        except Exception as exc:
            yield r, _error(exc)
        else:
            yield r, None


def _on_processes(scenario: Scenario, seed: int, todo: list[int], end: dt.date | None, folder: Path,
                  workers: int) -> Outcomes:
    """On a pool of ``workers`` processes. A worker that dies breaks the pool and every replication it
    held; those are retried once, each in a pool of its own, so one that kills its worker every time
    is found and reported, and the others are saved."""
    broken: list[int] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_replication, scenario, seed, r, end, folder): r for r in todo}
        for future in as_completed(futures):
            r = futures[future]
            try:
                future.result()
            except BrokenProcessPool:
                broken.append(r)
            except Exception as exc:
                yield r, _error(exc)
            else:
                yield r, None
    for r in sorted(broken):
        with ProcessPoolExecutor(max_workers=1) as alone:
            try:
                alone.submit(run_replication, scenario, seed, r, end, folder).result()
            except BrokenProcessPool:
                yield r, "its worker process died, twice (the second time running it alone)"
            except Exception as exc:
                yield r, _error(exc)
            else:
                yield r, None


def _connect(scheduler: str):
    """A client of the Dask cluster at ``scheduler``, or an EnsembleError naming it."""
    try:
        from distributed import Client
    except ImportError as exc:                   # a declared dependency; only a broken install lacks it
        raise EnsembleError(f"--scheduler needs dask.distributed ({exc}); pip install 'dask[distributed]'") from None
    if not SCHEDULER_ADDRESS.fullmatch(scheduler):     # Dask would wait a minute on 'localhost' before failing
        raise EnsembleError(f"--scheduler {scheduler!r} is not a scheduler address: expected tcp://HOST:PORT "
                            "(or tls://, ws://, wss://, ucx://), as 'dask scheduler' prints it")
    try:
        return Client(scheduler, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise EnsembleError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def _same_code(code: str, run: Callable[..., int], *args) -> int:
    """``run(*args)`` on a Dask worker, refused where the worker's sim sources differ from the client's."""
    if code_sha256() != code:
        raise EnsembleError(f"the worker runs other sim code (sources sha256 {code_sha256()[:12]}, the client's "
                            f"{code[:12]}): install the same sim on every worker")
    return run(*args)


def _on_dask(client, scenario: Scenario, seed: int, todo: list[int], end: dt.date | None, folder: Path) -> Outcomes:
    """Run on the cluster: the scheduler reruns a task whose worker died (``distributed.scheduler.
    allowed-failures`` times) and ``retries`` reruns one that raised; the rest is as for local processes."""
    from distributed import as_completed as completed

    token = uuid.uuid4().hex[:8]
    futures = {client.submit(_same_code, code_sha256(), run_replication, scenario, seed, r, end, folder,
                             retries=RETRIES, pure=False, key=f"{scenario.name}-seed{seed}-r{r:05d}-{token}"): r
               for r in todo}
    try:
        for future in completed(futures, loop=client.loop):
            r = futures[future]
            try:
                future.result()
            except Exception as exc:           # its own error, or KilledWorker once its workers died too often
                yield r, _error(exc)
            else:
                if not (replication_folder(folder, r) / "summary.json").is_file():
                    yield r, (f"ran on {client.scheduler.address}, but its files are not in {folder}: the "
                              "cluster's workers must write to the same folder (a shared disk, at the same path)")
                else:
                    yield r, None
    finally:
        client.cancel(list(futures))


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


def replications_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per replication: what it drew (``drawn.<key path>``) and every headline figure
    (``<subject>.<figure>``; dates as ISO text, None where it did not happen), to see which input
    moves which result."""
    figures = figures_for(summaries)
    rows = [{"replication": s.get("replication"), **{f"drawn.{k}": v for k, v in s.get("drawn", {}).items()},
             **{f"{f.subject}.{f.name}": value(s, f) for f in figures}} for s in summaries]
    return pd.DataFrame(rows)


def write_bands(ensemble: Ensemble) -> None:
    """The BAND_TABLES (as CSV) and failures.json beside the replications; band plots drawn from earlier
    bands are removed (``Ensemble.plot`` draws them again)."""
    folder = ensemble.folder
    shutil.rmtree(folder / "plots", ignore_errors=True)
    tables = {"bands": ensemble.bands, "headline_bands": ensemble.headline_bands,
              "replications": replications_table(ensemble.summaries)}
    for name in BAND_TABLES:
        write_table(tables[name], folder / name, ("csv",))
    write_json(folder / FAILURES, {"failures": [f.__dict__ for f in ensemble.failures]})
