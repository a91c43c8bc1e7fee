"""Monte Carlo ensembles: N replications of one scenario, each with its own random streams, and their bands.

Replication r of an ensemble of seed s draws its world and its licence
decisions from ``SeedSequence(s).spawn(N)[r]``, so its results depend on
(s, r) only: not on how many workers run the ensemble, in which order they
finish, or on which machine. Each finished replication is written at once to
``replications/rNNNNN/`` (atomically): its summary and its monthly headline series as the bands read
them (``monthly.npz``, ``MonthlySeries.save``: arrays, no table),
so a killed ensemble loses nothing and ``resume=True`` runs only the missing
ones. A replication that raises is reported with its seed and replication
number, so it can be rerun alone (``sim.run(scenario, seed=s,
replication=r)``); a worker process that dies is replaced and its
replications retried once.

``scheduler="tcp://HOST:PORT"`` runs the same replications on an existing Dask
cluster (dask.distributed) instead of local processes; its workers write into the
same folder, so they must see it at the same path (a shared disk). The scheduler
reruns a replication whose worker died, and one that raised is tried once more.
Dask unpickles what the scheduler sends, so use only a cluster you control; a
``tls://`` address connects with TLS (``security=``, see ``executors.security_for``).

Bands (P5, P50, P95) are computed from the files on disk, in replication
order, after every replication is there: of every headline figure of the
summaries (``headline_bands.csv``) and of every monthly headline series
(``bands.csv``, with NumPy over the replications' series stacked in one array).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..engine.simulation import as_date
from ..errors import EnsembleError
from ..files import atomic_folder, check_output, write_json, write_table
from ..locks import folder_lock
from ..results import Summary
from ..results.causes import PROVENANCE_READ as CAUSES_READ
from ..results.causes import load_causes, save_causes
from ..results.events import events_table
from ..results.explain import EnsembleExplanation, explain_replications
from ..results.headlines import usd
from ..results.parameters import parameters_table
from ..results.report import percent
from ..results.series import PROVENANCE_READ as SERIES_READ
from ..results.series import MonthlySeries, load_banded
from ..results.summary import PROVENANCE_READ as SUMMARY_READ
from ..scenario import Scenario
from ..scenario.drawing import discrete_inputs, realise
from . import executors
from .bands import (
    PERCENTILES,
    SeriesStack,
    group_bands,
    group_headline_bands,
    headline_bands,
    outcome_groups,
    replications_table,
    series_bands,
)
from .manifest import code_sha256, read_manifest, scenario_sha256
from .single import run

REPLICATIONS = "replications"
BAND_TABLES = ("bands", "headline_bands", "replications")   # what write_bands writes from the replications
FAILURES = "failures.json"
MONTHLY = "monthly.npz"                                       # a replication's monthly series
CAUSES = "causes.npz"                                         # ... and the parts of its unmet demand
# the provenance rows a replication's run writes: those its summary, monthly series and causes read (the run adds
# what its measures read)
REPLICATION_PROVENANCE = tuple(sorted({*SUMMARY_READ, *SERIES_READ, *CAUSES_READ}))
PARAMETERS = "parameters.csv"                                 # the scenario's, as written, with their sources
SHOWN = ("peak_shortfall_share", "weeks_to_shortfall", "cumulative_unmet_t", "value_at_risk_usd",
         "peak_price_multiple", "home_peak_price_multiple")


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
    summaries: list[Summary]
    monthly: SeriesStack                      # the replications' monthly series, stacked
    failures: list[Failure] = field(default_factory=list)
    ran: int = 0                              # replications run now (the rest were on disk)

    @cached_property
    def series(self) -> pd.DataFrame:
        """Every replication's monthly series as one long frame (replication, date, metric, country, element,
        value; ``SeriesStack.frame``)."""
        return self.monthly.frame()

    @cached_property
    def headline_bands(self) -> pd.DataFrame:
        return headline_bands(self.summaries)

    @cached_property
    def bands(self) -> pd.DataFrame:
        return series_bands(self.monthly)

    @cached_property
    def groups(self) -> dict[int, str]:
        """{replication: group} when the outcome splits on a discrete uncertain input (an event with a
        probability, a choice) into a few groups (``outcome_groups``); {} otherwise."""
        return outcome_groups(self.summaries, discrete_inputs(self.scenario))

    @cached_property
    def group_bands(self) -> pd.DataFrame:
        """The bands of each group of ``groups`` (a ``group`` column); empty without groups."""
        return group_bands(self.monthly, self.groups)

    @cached_property
    def group_headline_bands(self) -> pd.DataFrame:
        """The headline bands of each group of ``groups`` (a ``group`` column); empty without groups."""
        return group_headline_bands(self.summaries, self.groups)

    @cached_property
    def events(self) -> pd.DataFrame:
        """Every event of the scenario (also those drawn to happen in some replications only), uncertain dates
        at their central value: what the band plots mark."""
        return events_table(realise(event, None) for event in self.scenario.events)

    def plot(self, folder: Path | str | None = None, countries: tuple[str, ...] | None = None) -> list[Path]:
        """Band plots (``sim.plots.plot_ensemble``) into ``folder``, by default ``<ensemble folder>/plots``;
        matplotlib is loaded only now."""
        from ..plots import plot_ensemble

        return plot_ensemble(self, folder, countries)

    def text(self, seconds: float | None = None) -> str:
        """The headline bands for the countries that go short, and the priced elements' peaks, for the terminal."""
        shown = self.headline_bands[self.headline_bands["figure"].isin(SHOWN)]
        width = max([8] + [len(str(subject)) + 1 for subject in shown["subject"]])   # grades are longer than codes
        took = f", {seconds:.1f} s" if seconds is not None else ""
        lines = [f"{self.scenario.name}: {self.scenario.title or ''}".rstrip(": "),
                 f"  {self.replications} replications of seed {self.seed} ({self.ran} run now, "
                 f"{self.replications - self.ran - len(self.failures)} already on disk"
                 f"{', ' + str(len(self.failures)) + ' failed' if self.failures else ''}){took}",
                 f"  {'subject':{width}}{'figure':28}{'P5':>12}{'P50':>12}{'P95':>12}  happened in"]
        for row in shown.itertuples():
            cells = [_band(getattr(row, f"p{p}"), row.unit) for p in PERCENTILES]
            lines.append(f"  {row.subject:{width}}{row.figure:28}{cells[0]:>12}{cells[1]:>12}{cells[2]:>12}  "
                         f"{100 * row.happened:.0f}%")
        return "\n".join(lines)


def _band(x, unit: str) -> str:
    if x is None or x != x:
        return "—"
    if unit == "share":
        return percent(x)
    if unit.startswith("t"):
        return f"{x:,.0f}"
    if unit == "weeks":
        return f"{x:.1f}"
    if unit == "USD":
        return usd(x)
    return f"{x:.2f}" if isinstance(x, float) else str(x)


def replication_folder(folder: Path, r: int) -> Path:
    return Path(folder) / REPLICATIONS / f"r{r:05d}"


def run_replication(scenario: Scenario, seed: int, end: dt.date | None, folder: Path, r: int,
                    digest: str | None = None) -> int:
    """Run replication ``r`` (writing only the provenance rows its outputs read) and write its summary, monthly
    series (as the bands read them) and causes to its folder; return ``r``. ``digest``, where the caller has it,
    must be this scenario's ``scenario_sha256`` (a resumed ensemble trusts what its replications record)."""
    results = run(scenario, seed=seed, end=end, replication=r, provenance=REPLICATION_PROVENANCE)
    summary = results.summary().to_dict() | {"replication": r,
                                              "scenario_sha256": digest or scenario_sha256(scenario)}
    with atomic_folder(replication_folder(folder, r), "replication", lock=False) as work:   # the ensemble's is locked
        MonthlySeries.from_results(results).save(work / MONTHLY)
        save_causes(results, work / CAUSES)
        write_json(work / "summary.json", summary)
        write_json(work / "manifest.json", {"kind": "replication", "replication": r, "seed": seed})
    return r


def _done(folder: Path, n: int) -> set[int]:
    return {r for r in range(n) if (replication_folder(folder, r) / "summary.json").is_file()}


def _manifest(scenario: Scenario, seed: int, n: int, end: dt.date | None) -> dict:
    return {"kind": "ensemble", "scenario": scenario.name, "scenario_sha256": scenario_sha256(scenario),
            "code_sha256": code_sha256(), "seed": seed, "replications": n,
            "end": end.isoformat() if end else None}


def _prepare(folder: Path, manifest: dict, resume: bool) -> None:
    """Check a folder can take this ensemble: on resume, it must hold the same one; else start afresh."""
    check_output(folder, "ensemble")    # never clear out a folder that is not an ensemble's (OutputError)
    old = read_manifest(folder)
    if resume and old is not None:
        differs = [k for k in ("scenario_sha256", "code_sha256", "seed", "end") if old.get(k) != manifest.get(k)]
        if differs:
            raise EnsembleError(f"cannot resume in {folder}: it holds an ensemble with another "
                                f"{', '.join(differs)}; run without --resume to start afresh")
    elif not resume:                   # afresh: nothing of an earlier ensemble may be read as this one's
        for old_output in (REPLICATIONS, "plots", "explain"):
            shutil.rmtree(folder / old_output, ignore_errors=True)
        for old_output in (*(f"{table}.csv" for table in BAND_TABLES), FAILURES, PARAMETERS):
            (folder / old_output).unlink(missing_ok=True)
    for unfinished in (folder / REPLICATIONS).glob(".r*"):   # a replication killed while being written
        shutil.rmtree(unfinished, ignore_errors=True)
    if resume:
        _check_replications(folder, manifest)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "manifest.json", manifest)


def _check_replications(folder: Path, manifest: dict) -> None:
    """On resume, every replication on disk must have been made with the ensemble's seed and scenario:
    else an EnsembleError names them (the bands would mix two ensembles)."""
    wrong = []
    for r in sorted(_done(folder, manifest["replications"])):
        where = replication_folder(folder, r)
        try:
            made = json.loads((where / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            made = None
        if not isinstance(made, dict):
            wrong.append(f"r{r:05d} (its summary.json is unreadable)")
            continue
        differs = [f"{key} {str(made.get(key))[:12]}" for key in ("seed", "scenario_sha256", "replication")
                   if made.get(key) != (r if key == "replication" else manifest[key])]
        if differs:
            wrong.append(f"r{r:05d} ({', '.join(differs)})")
    if wrong:
        shown = "; ".join(wrong[:5]) + (f"; and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        raise EnsembleError(
            f"cannot resume in {folder}: {len(wrong)} replication{'s' if len(wrong) != 1 else ''} on disk "
            f"{'were' if len(wrong) != 1 else 'was'} not made with this ensemble's seed {manifest['seed']} and "
            f"scenario (sha256 {manifest['scenario_sha256'][:12]}): {shown}; remove "
            f"{'them' if len(wrong) != 1 else 'it'} from {folder / REPLICATIONS} to have "
            f"{'them' if len(wrong) != 1 else 'it'} rerun, or run without --resume to start afresh")


def run_ensemble(scenario: Scenario, replications: int, folder: Path | str, seed: int | None = None,
                 end: dt.date | str | None = None, workers: int | None = None, resume: bool = False,
                 progress: Callable[[int, int], None] | None = None, scheduler: str | None = None,
                 security=None) -> Ensemble:
    """Run the replications missing from ``folder`` on ``workers`` local processes (all cores by default).

    With ``scheduler`` (``"tcp://HOST:PORT"``) they run on that Dask cluster instead (``workers`` is
    then ignored). Its workers write each replication's files into ``folder`` themselves, so they must
    see it at the same path (a shared disk) and run the same ``sim`` code. Dask unpickles what the scheduler
    sends: use only a cluster you control. A ``tls://`` scheduler is reached with ``security`` (a
    ``distributed.security.Security``; default: TLS files from Dask's configuration, see
    ``executors.security_for``).
    """
    folder = Path(folder).resolve()            # the same absolute path on every worker
    seed = scenario.run.seed if seed is None else int(seed)
    end = as_date(end, "end")                  # '2026-06-30' as well as a date
    client = executors.connect(scheduler, security) if scheduler else None   # before the folder: fail cleanly
    try:
        with folder_lock(folder):              # one ensemble at a time in a folder (FolderBusy otherwise)
            return _run_locked(scenario, replications, folder, seed, end, workers, resume, progress, client)
    finally:
        if client is not None:
            client.close()


class Interrupted(KeyboardInterrupt):
    """An ensemble stopped by Ctrl-C (SIGINT): the replications finished so far are on disk."""

    def __init__(self, folder: Path, seed: int, replications: int, saved: int):
        super().__init__(f"interrupted: {saved} of {replications} replications saved in {folder}")
        self.folder, self.seed, self.replications, self.saved = folder, seed, replications, saved


def _run_locked(scenario: Scenario, replications: int, folder: Path, seed: int, end: dt.date | None,
                workers: int | None, resume: bool, progress: Callable[[int, int], None] | None,
                client) -> Ensemble:
    manifest = _manifest(scenario, seed, replications, end)
    _prepare(folder, manifest, resume)
    todo = sorted(set(range(replications)) - _done(folder, replications))
    finished = already = replications - len(todo)
    if progress:
        progress(finished, replications)
    task = functools.partial(run_replication, scenario, seed, end, folder, digest=manifest["scenario_sha256"])
    if client is not None:
        outcomes = executors.on_dask(client, task, todo, code_sha256(), f"{scenario.name}-seed{seed}",
                                     lambda r: (replication_folder(folder, r) / "summary.json").is_file(), folder)
    else:
        outcomes = executors.locally(task, todo, workers)
    failures: list[Failure] = []
    try:
        for r, error in outcomes:
            if error is None:
                finished += 1
            else:                              # reported with its seed, the others go on
                failures.append(Failure(r, seed, error))
            if progress:
                progress(finished, replications)
    except KeyboardInterrupt:                  # the executor has stopped its workers; what is on disk stays
        outcomes.close()
        raise Interrupted(folder, seed, replications, len(_done(folder, replications))) from None
    ensemble = load_ensemble(folder, scenario, seed, replications)
    ensemble.failures = sorted(failures, key=lambda f: f.replication)
    ensemble.ran = finished - already
    write_bands(ensemble)
    return ensemble


def load_ensemble(folder: Path, scenario: Scenario, seed: int, replications: int) -> Ensemble:
    """Read the replications on disk, in replication order."""
    done = sorted(_done(folder, replications))
    summaries = [Summary.from_dict(json.loads((replication_folder(folder, r) / "summary.json").read_text(
        encoding="utf-8"))) for r in done]
    monthly = SeriesStack.stack(done, [load_banded(replication_folder(folder, r) / MONTHLY) for r in done])
    return Ensemble(scenario, seed, replications, folder, summaries, monthly)


def write_bands(ensemble: Ensemble) -> None:
    """The BAND_TABLES (as CSV) and failures.json beside the replications; band plots drawn from earlier
    bands are removed (``Ensemble.plot`` draws them again)."""
    folder = ensemble.folder
    shutil.rmtree(folder / "plots", ignore_errors=True)
    tables = {"bands": ensemble.bands, "headline_bands": ensemble.headline_bands,
              "replications": replications_table(ensemble.summaries)}
    for name in BAND_TABLES:
        write_table(tables[name], folder / name, ("csv",))
    write_table(parameters_table(ensemble.scenario), folder / Path(PARAMETERS).stem, ("csv",))
    write_json(folder / FAILURES, {"failures": [f.__dict__ for f in ensemble.failures]})


def explain_ensemble(folder: Path | str, country: str, start: dt.date | None = None,
                     end: dt.date | None = None) -> EnsembleExplanation:
    """Why ``country`` was short in the replications of the ensemble in ``folder``: each replication's
    explanation over the same periods (by default the calendar year with the most unmet t over all of them),
    and the P5, P50 and P95 of each part (``sim.results.explain.explain_replications``). A ValueError names a
    folder with no replication whose parts were kept."""
    folder = Path(folder)
    manifest = read_manifest(folder) or {}
    done = sorted(_done(folder, int(manifest.get("replications", 0))))
    kept = [r for r in done if (replication_folder(folder, r) / CAUSES).is_file()]
    if not kept:
        raise ValueError(f"{folder}: no replication holds {CAUSES} (an ensemble run before explanations were "
                         f"kept: run it again)")
    tables = [load_causes(replication_folder(folder, r) / CAUSES) for r in kept]
    if (folder / PARAMETERS).is_file():
        parameters = pd.read_csv(folder / PARAMETERS, keep_default_na=False)
        tables = [t | {"parameters": parameters} for t in tables]
    return explain_replications(tables, kept, country, start, end)
