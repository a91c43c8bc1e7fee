"""Scenarios side by side: headline figures with differences against the first, and overlaid monthly series.

``compare(["japan_ban.yaml", "korea_route.yaml"], end=...)`` runs each
scenario in turn. When any of them has uncertain inputs (``single.is_random``)
one run would be one draw of them, so it runs a paired ensemble instead
(``paired``: ``replications`` of each, 20 by default, with common random
numbers) and tabulates P5/P50/P95 of each figure and of the paired
differences (per replication, the scenario's value minus the first's). Asked
for one replication, it makes one run each and warns that it is one draw.

One plain run of a scenario is reused from the run saved in its results folder
(``results/<name>/``, as ``python -m sim SCENARIO`` writes it) when that run's
manifest shows the same scenario (hash of the validated scenario), the same
model code (hash of the package's sources), the same seed and the same dates.
A reused run is read from its summary.json, monthly.csv and prices table;
comparing writes nothing into the scenarios' own results folders. Paired
ensembles are never reused: they run afresh.

The ``Comparison`` holds ``table`` (one row per headline figure, one column
per scenario, then one column of differences against the first scenario per
other scenario; dates differ in days, shares in share; of a paired ensemble
``<label> p5|p50|p95|happened`` per scenario and ``<label> - <first>
p5|p50|p95|pairs`` per other one) and ``monthly`` (the runs' monthly series,
long, with a ``scenario`` column; of an ensemble their P50, with P5 and P95);
``save(folder)`` writes them, the summaries, a manifest and overlaid plots (and
of an ensemble ``replications.csv``: what each replication drew and gave),
atomically.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ScenarioError
from ..files import atomic_folder, write_json, write_table
from ..results.headlines import (
    DEPENDENCY_NOTE,
    Headline,
    difference,
    difference_text,
    figures_for,
    iso,
    text,
    value,
)
from ..scenario import Scenario
from ..scenario.loading import read_scenario, registry_for, validate_document
from ..version import __version__
from ..world import step_dates
from . import paired
from .bands import PERCENTILES, replications_table
from .explained import explain_folder, write_explained
from .manifest import code_sha256, read_manifest, scenario_sha256
from .runs import ScenarioRun, execute, read_series, read_summary
from .single import check_end, default_out, is_random

RESERVED = ("subject", "figure", "label", "unit", "scenario")   # table columns a scenario label must not take
MAX_FOLDER_NAME = 100


@dataclass
class Comparison(paired.SideBySide):
    """Runs of several scenarios and their headline figures side by side (see the module docstring)."""

    runs: list[ScenarioRun]
    figures: list[Headline]
    table: pd.DataFrame
    monthly: pd.DataFrame
    notes: list[str] = field(default_factory=list)      # warnings and notes, printed under the table

    def text(self) -> str:
        """The table for the terminal: the first scenario's values, then each other's with its difference
        (of a paired ensemble: each scenario's band, then each other's band of paired differences)."""
        rows = []
        subject = None
        for fig in self.figures:
            cells = self._paired_cells(fig) if self.paired else self._cells(fig)
            if cells is None:                        # never happened in any run: nothing to compare
                continue
            unit = "" if fig.unit in ("share", "date", "weeks", "x initial") else fig.unit
            rows.append((fig.subject if fig.subject != subject else "", fig.label, unit, cells))
            subject = fig.subject
        first = self.runs[0].label
        heads = self.labels + ([f"{label} - {first}" for label in self.labels[1:]] if self.paired else [])
        widths = [max([len(label)] + [len(r[3][k]) for r in rows]) + 2 for k, label in enumerate(heads)]
        subject_width = max([len(f.subject) for f in self.figures] + [4]) + 2   # magnet grades outgrow countries
        name_width = max([len(r[1]) for r in rows] + [10]) + 2
        unit_width = max([len(r[2]) for r in rows] + [0]) + 2
        heading = ([f"headline figures, {paired.describe(self.replications, self.runs[0].seed, first)}:"]
                   if self.paired else [f"headline figures; in brackets the difference against {first}:"])
        lines = heading + [(" " * (subject_width + name_width + unit_width) + "".join(
            f"{label:>{w}}" for label, w in zip(heads, widths))).rstrip()]
        for shown, label, unit, cells in rows:
            lines.append((f"{shown:{subject_width}}{label:{name_width}}{unit:{unit_width}}"
                          + "".join(f"{c:>{w}}" for c, w in zip(cells, widths))).rstrip())
        lines += [f"  {line}" for line in textwrap.wrap(DEPENDENCY_NOTE, 100)]
        return "\n".join(lines + self.notes)

    def _cells(self, fig: Headline) -> list[str] | None:
        values = [_none(self.table.at[(fig.subject, fig.name), label]) for label in self.labels]
        if all(v is None for v in values):
            return None
        cells = [text(values[0], fig.unit)]
        for v in values[1:]:
            diff = difference_text(values[0], v, fig.unit)
            cells.append(text(v, fig.unit) + (f" ({diff})" if diff else ""))
        return cells

    def _paired_cells(self, fig: Headline) -> list[str] | None:
        row = self.table.loc[(fig.subject, fig.name)]
        if not any(row[f"{label} happened"] for label in self.labels):
            return None
        first = self.labels[0]
        return ([paired.band_text({f"p{p}": _none(row[f"{label} p{p}"]) for p in PERCENTILES}, fig.unit)
                 for label in self.labels]
                + [paired.paired_text({f"p{p}": _none(row[f"{label} - {first} p{p}"]) for p in PERCENTILES}, fig.unit)
                   for label in self.labels[1:]])

    def save(self, folder: Path | str, plots: bool = True, extra: Callable[[Path], None] | None = None) -> Path:
        """Write table.csv, monthly.csv, summaries.json, manifest.json, plots/*.png and (of plain runs) the
        explanation of each run's worst-hit country (``explained``) into ``folder`` atomically; ``extra(work)``
        then adds to the folder before it is moved into place (the briefing, ``sim.report``)."""
        folder = Path(folder)
        with atomic_folder(folder, "compare") as work:
            self.table.reset_index().to_csv(work / "table.csv", index=False, float_format="%.9g")
            write_table(self.monthly, work / "monthly", ("csv",))
            manifest = {"kind": "compare", "sim_version": __version__, "code_sha256": code_sha256(),
                        "command": "compare", "scenarios": [_run_record(run) for run in self.runs]}
            note = "Scenarios: " + ", ".join(f"{r.label} (seed {r.seed})" for r in self.runs)
            if self.paired:
                write_json(work / "summaries.json", {run.label: [s.to_dict() for s in run.replications]
                                                     for run in self.runs})
                write_table(pd.concat([replications_table(run.replications).assign(scenario=run.label)
                                       for run in self.runs], ignore_index=True).pipe(_scenario_first),
                            work / "replications", ("csv",))
                manifest |= {"replications": self.replications, "paired": True, "notes": self.notes}
                note += f"; lines: P50 of {self.replications} paired replications"
            else:
                write_json(work / "summaries.json", {run.label: run.summary.to_dict() for run in self.runs})
            write_json(work / "manifest.json", manifest)
            if plots:
                from ..plots import (
                    comparison_plots,  # matplotlib only when plots are asked for
                )
                comparison_plots(self.monthly, work / "plots", self.labels, _countries(self.figures),
                                 {run.label: iso(run.summary.first_measure) for run in self.runs}, note=note)
            if not self.paired:
                write_explained(work, [run.explained for run in self.runs if run.explained is not None], plots,
                                note)
            if extra is not None:
                extra(work)
        return folder


def compare(scenarios: Sequence[str | Path], *, seed: int | None = None, end: dt.date | None = None,
            rerun: bool = False, results_root: Path | str | None = None,
            progress: Callable[[ScenarioRun], None] | None = None, replications: int | None = None,
            workers: int | None = None) -> Comparison:
    """Run or reuse each scenario and set their headline figures side by side.

    ``seed`` and ``end`` apply to every scenario (default: each scenario's own
    ``run.seed`` and calendar end). When any scenario has uncertain inputs, each
    runs ``replications`` (default 20) paired replications of one seed (``seed``,
    else the first scenario's ``run.seed``) on ``workers`` local processes (default:
    all cores); with ``replications=1`` it is one run each and ``notes`` warns that
    it is one draw. Saved plain runs are looked for in ``<results_root>/<name>/``
    (default: the results folder beside each scenario's project, where ``python -m
    sim SCENARIO`` writes); ``rerun`` ignores them. ``progress`` is called with each
    run as it is done. Every scenario is checked before anything runs: all problems
    of all files come at once in one ScenarioError; a replication that fails raises
    EnsembleError.
    """
    files = [Path(f) for f in scenarios]
    if len(files) < 2:
        raise ScenarioError.single("compare", f"needs at least two scenarios, got {len(files)}")
    loaded, problems = [], []
    for file in files:
        try:
            doc = read_scenario(file)
            scenario = validate_document(doc, registry_for(file))
            check_end(file, scenario, end)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        loaded.append((file, scenario))
    if problems:
        raise ScenarioError(problems)
    labels = unique_labels([scenario.name for _, scenario in loaded])
    n = paired.replications_for([scenario for _, scenario in loaded], replications)
    uncertain = [label for (_, scenario), label in zip(loaded, labels) if is_random(scenario)]
    if uncertain and n > 1:
        common = int(seed) if seed is not None else loaded[0][1].run.seed
        seeds = list(dict.fromkeys(scenario.run.seed for _, scenario in loaded))
        notes = [] if seed is not None or len(seeds) == 1 else [
            f"note: the scenarios' run.seed differ ({', '.join(map(str, seeds))}); every one ran seed {common}, "
            "the first's, so that their replications pair"]
        runs = paired.run_paired([(label, scenario, scenario_sha256(scenario))
                                  for (_, scenario), label in zip(loaded, labels)], n, common, end, workers,
                                 [file for file, _ in loaded])
        for run in runs:
            if progress is not None:
                progress(run)
        return comparison_of(runs, notes + paired.pairing_notes(labels, [s for _, s in loaded], runs))
    notes = [paired.one_draw_warning(uncertain, seed)] if uncertain else []
    if not uncertain and n > 1:
        notes.append(f"note: no scenario has uncertain inputs, so one run each: {n} replications would be the same")
    plans: list[ScenarioRun | tuple] = []       # a saved run, or what it takes to make one
    for (file, scenario), label in zip(loaded, labels):
        folder = Path(results_root) / scenario.name if results_root is not None else default_out(file,
                                                                                                scenario.name)
        saved, why = (None, "rerun asked for") if rerun else saved_run(folder, scenario, file, label, seed, end)
        if saved is not None:
            plans.append(saved)
            continue
        plans.append((scenario, label, file, why))
    runs = []
    for plan in plans:
        if isinstance(plan, tuple):
            scenario, label, file, why = plan
            plan = execute(scenario, label, file, scenario_sha256(scenario), seed, end)
            plan.note = why
        runs.append(plan)
        if progress is not None:
            progress(plan)
    return comparison_of(runs, notes)


def comparison_of(runs: list[ScenarioRun], notes: list[str] | None = None) -> Comparison:
    """The table and the long monthly frame of runs (or paired ensembles) already made."""
    figures = figures_for([s for run in runs for s in run.summaries])
    monthly = pd.concat([run.series.assign(scenario=run.label) for run in runs], ignore_index=True)
    table = paired_table(runs, figures) if runs[0].replications else headline_table(runs, figures)
    return Comparison(runs, figures, table, _scenario_first(monthly), list(notes or []))


def headline_table(runs: list[ScenarioRun], figures: list[Headline]) -> pd.DataFrame:
    """One row per figure (index subject, figure), columns label, unit, each run, and ``<run> - <first>``."""
    first = runs[0]
    rows = []
    for fig in figures:
        values = [value(run.summary, fig) for run in runs]
        row = {"subject": fig.subject, "figure": fig.name, "label": fig.label, "unit": fig.unit}
        row |= {run.label: v for run, v in zip(runs, values)}
        row |= {f"{run.label} - {first.label}": difference(values[0], v, fig.unit)
                for run, v in zip(runs[1:], values[1:])}
        rows.append(row)
    return pd.DataFrame(rows, dtype=object).set_index(["subject", "figure"])   # None stays None: never happened


def paired_table(runs: list[ScenarioRun], figures: list[Headline]) -> pd.DataFrame:
    """One row per figure (index subject, figure), columns label, unit, ``<run> p5|p50|p95|happened`` for each
    run and ``<run> - <first> p5|p50|p95|pairs`` of the paired differences for each other run."""
    first = runs[0]
    rows = []
    for fig in figures:
        row = {"subject": fig.subject, "figure": fig.name, "label": fig.label, "unit": fig.unit}
        for run in runs:
            row |= {f"{run.label} {k}": v for k, v in paired.figure_band(run.replications, fig).items()}
        for run in runs[1:]:
            row |= {f"{run.label} - {first.label} {k}": v
                    for k, v in paired.paired_band(first.replications, run.replications, fig).items()}
        rows.append(row)
    return pd.DataFrame(rows, dtype=object).set_index(["subject", "figure"])


def saved_run(folder: Path, scenario: Scenario, file: Path, label: str, seed: int | None,
              end: dt.date | None) -> tuple[ScenarioRun | None, str]:
    """The run saved in ``folder`` if it is the one these arguments would make, else (None, why not)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None, (f"{folder} has no readable manifest.json" if Path(folder).is_dir() else
                      f"no saved run in {folder}")
    wanted_seed = scenario.run.seed if seed is None else int(seed)
    dates = step_dates(scenario.calendar, end)
    digest = scenario_sha256(scenario)
    if manifest.get("scenario_sha256") != digest:
        return None, f"the scenario changed since {folder} was saved"
    if manifest.get("code_sha256") is None:
        return None, f"{folder} records no code fingerprint (saved by an older version)"
    if manifest["code_sha256"] != code_sha256():
        return None, f"the model's code changed since {folder} was saved"
    if manifest.get("seed") != wanted_seed:
        return None, f"{folder} holds seed {manifest.get('seed')}, not {wanted_seed}"
    if manifest.get("replication") is not None:
        return None, f"{folder} holds replication {manifest['replication']} of an ensemble, not a plain run"
    if (manifest.get("start"), manifest.get("end")) != (dates[0].isoformat(), dates[-1].isoformat()):
        return None, (f"{folder} runs {manifest.get('start')} .. {manifest.get('end')}, not "
                      f"{dates[0]} .. {dates[-1]}")
    try:
        summary = read_summary((folder / "summary.json").read_text(encoding="utf-8"))
        series = read_series(folder, manifest)
    except (OSError, ValueError, KeyError) as exc:
        return None, f"{folder} cannot be read back ({exc})"
    return ScenarioRun(label, Path(file), scenario.name, wanted_seed, dates[0], dates[-1], digest, summary,
                       series, None, Path(folder), explained=explain_folder(folder, summary, label)), ""


def unique_labels(names: Sequence[str]) -> list[str]:
    """Scenario names as column labels: repeated ones numbered (``x``, ``x_2``), reserved words suffixed."""
    out: list[str] = []
    for name in names:
        label = name if name not in RESERVED else f"{name}_"
        n = 1
        while label in out:
            n += 1
            label = f"{name}_{n}"
        out.append(label)
    return out


def default_folder(first_file: Path | str, labels: Sequence[str]) -> Path:
    """``results/compare_<a>_vs_<b>...`` beside the first scenario's project; very long names shortened."""
    name = "compare_" + "_vs_".join(labels)
    if len(name) > MAX_FOLDER_NAME:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
        name = f"{name[:MAX_FOLDER_NAME - 9]}_{digest}"
    return default_out(Path(first_file), name)


def describe_run(run: ScenarioRun) -> str:
    """One line: how a run came to be in the comparison."""
    dates = f"seed {run.seed}, {run.start} .. {run.end}"
    if run.replications:
        return f"{run.label}: {run.note} ({dates})"
    if run.reused:
        return f"{run.label}: reused {run.saved} ({dates})"
    took = f" in {run.seconds:.1f} s" if run.seconds is not None else ""
    return f"{run.label}: ran{took} ({dates}){'; ' + run.note if run.note else ''}"


def _run_record(run: ScenarioRun) -> dict:
    return {"label": run.label, "file": str(run.file), "scenario": run.name, "scenario_sha256": run.scenario_sha256,
            "seed": run.seed, "start": run.start.isoformat(), "end": run.end.isoformat(),
            "reused_from": str(run.saved) if run.saved else None}


def _countries(figures: list[Headline]) -> list[str]:
    return list(dict.fromkeys(f.subject for f in figures if f.name == "peak_shortfall_share"))


def _scenario_first(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["scenario"] + [c for c in frame.columns if c != "scenario"]]


def _none(v):
    """NaN (from a DataFrame cell) as None."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v
