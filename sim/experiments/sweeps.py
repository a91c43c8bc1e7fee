"""One parameter of a scenario over a list of values: a run per value, headline figures against the value.

``sweep("japan_ban.yaml", "stockpiles.JP.days", [30, 60, 90, 180], end=...)``
sets the parameter in the merged scenario document (see ``overrides``) and
validates each changed document like a hand-written file: every problem of
every value is reported at once, located at the key's line, before anything
runs. The runs are made one after another. When the scenario has uncertain
inputs (``single.is_random``) one run per value would be one draw, so each
value runs a paired ensemble instead (``paired``: ``replications`` per value, 20
by default, with common random numbers) and the table holds P5/P50/P95 of each
figure and of its paired difference against the first value (per replication,
this value's minus the first value's). Asked for one replication, it makes one
run per value and warns that it is one draw.

The ``Sweep`` holds ``table`` (one row per value: the value, then every
headline figure ``SUBJECT.NAME`` of the countries short in any run and of the
priced elements), ``monthly`` (the runs' monthly series, long, with a
``scenario`` column holding the value) and ``metric``, the figure plotted
against the value: given as ``JP.weeks_to_shortfall``, ``JP`` (its peak
shortfall), ``Dy`` (its peak price) or a figure name (of the most affected
country); by default the peak shortfall of the most affected country. Of a
paired ensemble the table's columns are ``SUBJECT.NAME p5|p50|p95|happened``
and ``SUBJECT.NAME diff p5|p50|p95``, and the metric's value is its P50.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import Problem, ScenarioError
from ..files import atomic_folder, write_json, write_table
from ..results import Summary
from ..results.headlines import (
    Headline,
    figures_for,
    focus_countries,
    headline,
    iso,
    lookup,
    parse_metric,
    text,
    value,
)
from ..scenario import Scenario
from ..scenario.loading import read_scenario, registry_for, validate_document
from ..scenario.overrides import KeyPathResolved, apply, describe, resolve
from ..version import __version__
from . import paired
from .bands import PERCENTILES, replications_table
from .explained import write_explained
from .manifest import code_sha256, scenario_sha256
from .runs import ScenarioRun, execute
from .single import check_end, default_out, is_random

SHOWN = {                     # figures printed per followed country, with short headers
    "peak_shortfall_share": "peak",
    "peak_shortfall_date": "peak on",
    "weeks_to_shortfall": "wks to short",
    "cumulative_unmet_t": "unmet t",
    "value_at_risk_usd": "at risk",
}
SHOWN_COUNTRIES = 2


@dataclass
class Sweep(paired.SideBySide):
    """Runs of one scenario with one parameter set to each of a list of values (see the module docstring)."""

    file: Path
    name: str
    parameter: KeyPathResolved
    values: list[Any]
    runs: list[ScenarioRun]
    figures: list[Headline]
    metric: Headline
    table: pd.DataFrame
    monthly: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    by: KeyPathResolved | None = None     # the second parameter of a grid, None for one parameter
    by_values: list[Any] = field(default_factory=list)   # its value in each run (``values`` holds the first's)

    @property
    def metric_values(self) -> list[Any]:
        """The metric's value in each run (of a paired ensemble its P50), in the order of ``values``."""
        if self.paired:
            return [paired.figure_band(run.replications, self.metric)["p50"] for run in self.runs]
        return [value(run.summary, self.metric) for run in self.runs]

    @property
    def swept(self) -> str:
        """What was swept: ``stockpiles.JP.days``, or of a grid ``stockpiles.JP.days, trade.switching_days.magnet``."""
        return self.parameter.dotted + (f", {self.by.dotted}" if self.by is not None else "")

    @property
    def heading(self) -> str:
        if self.by is None:
            return f"{self.name}: {self.parameter.dotted} = {', '.join(self.labels)}"
        return (f"{self.name}: {self.parameter.dotted} = {', '.join(_labels(self.values))} by {self.by.dotted} = "
                f"{', '.join(_labels(self.by_values))}")

    def grid(self) -> pd.DataFrame:
        """Of a grid: the metric (of a paired ensemble its P50), a row per value of the first parameter and a
        column per value of the second."""
        frame = pd.DataFrame({"row": [describe(v) for v in self.values],
                              "column": [describe(v) for v in self.by_values], "metric": self.metric_values})
        return frame.pivot(index="row", columns="column", values="metric").loc[_labels(self.values),
                                                                                _labels(self.by_values)]

    def _grid_text(self) -> list[str]:
        table = self.grid()
        cells = [[str(label)] + [text(v, self.metric.unit) for v in row] for label, row in zip(table.index,
                                                                                                table.to_numpy())]
        heads = [f"{self.parameter.dotted} \\ {self.by.dotted}"] + [str(c) for c in table.columns]
        widths = [max(len(h), *(len(r[k]) for r in cells)) + 2 for k, h in enumerate(heads)]
        what = f"{self.metric.key} (metric{', P50' if self.paired else ''}):"
        return [what, "".join(f"{h:>{w}}" for h, w in zip(heads, widths)).rstrip()] + [
            "".join(f"{c:>{w}}" for c, w in zip(row, widths)).rstrip() for row in cells] + [""]

    def text(self) -> str:
        """A row per value: the metric, then the main figures of the most affected countries (of a paired
        ensemble: the metric's band and its paired difference against the first value's, then P50s)."""
        countries = [f.subject for f in self.figures if f.name == "peak_shortfall_share"][:SHOWN_COUNTRIES]
        shown = [self.metric] + [f for f in self.figures if f.subject in countries and f.name in SHOWN
                                 and f != self.metric]
        if self.paired:
            return self._paired_text(shown)
        heads = [self.swept, f"{self.metric.key} (metric)"] + [f"{f.subject} {SHOWN[f.name]}" for f in shown[1:]]
        rows = [[label] + [text(value(run.summary, f), f.unit) for f in shown]
                for label, run in zip(self.labels, self.runs)]
        widths = [max(len(h), *(len(r[k]) for r in rows)) + 2 for k, h in enumerate(heads)]
        lines = [self.heading] + (self._grid_text() if self.by is not None else []) + [
            "".join(f"{h:>{w}}" for h, w in zip(heads, widths))]
        lines += ["".join(f"{c:>{w}}" for c, w in zip(row, widths)) for row in rows]
        return "\n".join([line.rstrip() for line in lines] + self.notes)

    def _paired_text(self, shown: list[Headline]) -> str:
        first = self.labels[0]
        heads = [self.swept, f"{self.metric.key} (metric)", f"minus {first}'s"] + [
            f"{f.subject} {SHOWN[f.name]} P50" for f in shown[1:]]
        rows = []
        for run in self.runs:
            metric = paired.figure_band(run.replications, self.metric)
            diff = paired.paired_band(self.runs[0].replications, run.replications, self.metric)
            rows.append([run.label, paired.band_text(metric, self.metric.unit),
                         paired.paired_text(diff, self.metric.unit)]
                        + [text(paired.figure_band(run.replications, f)["p50"], f.unit) for f in shown[1:]])
        widths = [max(len(h), *(len(r[k]) for r in rows)) + 2 for k, h in enumerate(heads)]
        lines = [self.heading, paired.describe(self.replications, self.runs[0].seed, f"{self.swept} = {first}")] + (
            self._grid_text() if self.by is not None else []) + ["".join(f"{h:>{w}}" for h, w in zip(heads, widths))]
        lines += ["".join(f"{c:>{w}}" for c, w in zip(row, widths)) for row in rows]
        return "\n".join([line.rstrip() for line in lines] + self.notes)

    def save(self, folder: Path | str, plots: bool = True, extra: Callable[[Path], None] | None = None) -> Path:
        """Write table.csv, monthly.csv, summaries.json, manifest.json, plots/*.png and (of plain runs) the
        explanation of each run's worst-hit country (``explained``) into ``folder`` atomically; ``extra(work)``
        then adds to the folder before it is moved into place (the briefing, ``sim.report``)."""
        folder = Path(folder)
        with atomic_folder(folder, "sweep") as work:
            self.table.to_csv(work / "table.csv", index=False, float_format="%.9g")
            write_table(self.monthly, work / "monthly", ("csv",))
            manifest = {
                "kind": "sweep", "sim_version": __version__, "code_sha256": code_sha256(), "command": "sweep",
                "scenario": self.name, "file": str(self.file), "parameter": self.parameter.dotted,
                "parameter_as_written": self.parameter.written, "metric": self.metric.key,
                "runs": [{"value": iso(v), "label": run.label, "scenario_sha256": run.scenario_sha256,
                          "seed": run.seed, "start": run.start.isoformat(), "end": run.end.isoformat()}
                         | ({"by_value": iso(b)} if self.by is not None else {})
                         for v, b, run in zip(self.values, self.by_values or self.values, self.runs)]}
            if self.by is not None:
                manifest |= {"by": self.by.dotted, "by_as_written": self.by.written}
            note = f"Scenario {self.name}, {self.swept} swept; seed {self.runs[0].seed}"
            if self.paired:
                write_json(work / "summaries.json", {run.label: [s.to_dict() for s in run.replications]
                                                     for run in self.runs})
                frame = pd.concat([replications_table(run.replications).assign(**{self.swept: run.label})
                                   for run in self.runs], ignore_index=True)
                write_table(frame[[self.swept] + [c for c in frame.columns if c != self.swept]],
                            work / "replications", ("csv",))
                manifest |= {"replications": self.replications, "paired": True, "notes": self.notes}
                note += f"; P50 of {self.replications} paired replications"
            else:
                write_json(work / "summaries.json", {run.label: run.summary.to_dict() for run in self.runs})
            write_json(work / "manifest.json", manifest)
            if plots:
                from ..plots import grid_plots, sweep_plots  # matplotlib only when plots are asked for
                countries = [f.subject for f in self.figures if f.name == "peak_shortfall_share"]
                if self.metric.subject in countries:
                    countries = [self.metric.subject] + [c for c in countries if c != self.metric.subject]
                measures = {run.label: iso(run.summary.first_measure) for run in self.runs}
                label = f"{self.metric.subject} {self.metric.label}" + (" (P50)" if self.paired else "")
                if self.by is None:
                    sweep_plots(work / "plots", self.values, self.metric_values, self.parameter.dotted,
                                self.metric.key, label, self.metric.unit, self.monthly, self.labels, countries,
                                measures, note=note)
                else:
                    grid_plots(work / "plots", self.grid(), self.parameter.dotted, self.by.dotted, self.metric.key,
                               label, self.metric.unit, self.monthly, self.labels, countries, measures, note=note)
            if not self.paired:
                write_explained(work, [run.explained for run in self.runs if run.explained is not None], plots,
                                note)
            if extra is not None:
                extra(work)
        return folder


def sweep(scenario: str | Path, parameter: str | KeyPathResolved, values: Sequence[Any], *, seed: int | None = None,
          end: dt.date | None = None, metric: str | None = None,
          progress: Callable[[ScenarioRun], None] | None = None, replications: int | None = None,
          workers: int | None = None, by: tuple[str | KeyPathResolved, Sequence[Any]] | None = None) -> Sweep:
    """Run ``scenario`` once per value of ``parameter`` (a key path, see ``overrides``, or one already
    resolved against this scenario) and tabulate. With ``by=(second parameter, its values)``, once per pair of
    values (every value of ``parameter`` with every value of the second): a grid, drawn as a heat map.

    When the scenario (with any value) has uncertain inputs, each value runs ``replications`` (default 20)
    paired replications of one seed (``seed``, else the scenario's ``run.seed``) on ``workers`` local
    processes (default: all cores); with ``replications=1`` it is one run per value and ``notes`` warns
    that it is one draw. A replication that fails raises EnsembleError.

    Raises ScenarioError, before running anything, for an unknown key path, an
    unknown metric, a repeated value or parameter, or any value that makes the scenario
    invalid (every problem of every value at once, each marked with its value).
    """
    file = Path(scenario)
    doc = read_scenario(file)
    axes = [(parameter, values)] + ([by] if by is not None else [])
    axes = [(p if isinstance(p, KeyPathResolved) else resolve(doc, p), list(v)) for p, v in axes]
    if len(axes) == 2 and axes[0][0].path == axes[1][0].path:
        raise ScenarioError.single("--set", f"{axes[0][0].dotted} is set twice: a grid needs two parameters")
    registry = registry_for(file)
    base = validate_document(doc, registry)
    check_end(file, base, end)
    for resolved, vals in axes:
        if not vals:
            raise ScenarioError.single("--set", f"{resolved.dotted}: no values to sweep")
        seen: set[str] = set()
        for v in vals:
            if describe(v) in seen:
                raise ScenarioError.single("--set", f"{resolved.dotted}: value {describe(v)} given twice")
            seen.add(describe(v))
    wanted = scenario_metric(metric, base) if metric else None
    points = list(itertools.product(*(vals for _, vals in axes)))
    settings = [", ".join(f"{resolved.dotted}={describe(v)}" for (resolved, _), v in zip(axes, point))
                for point in points]
    problems: list[Problem] = []
    prepared = []
    for point, setting in zip(points, settings):
        try:
            changed = doc
            for (resolved, _), v in zip(axes, point):
                changed = apply(changed, resolved.path, v)
            variant = validate_document(changed, registry)
            check_end(file, variant, end)
            prepared.append((", ".join(describe(v) for v in point), variant, scenario_sha256(variant)))
        except ScenarioError as exc:
            problems += [Problem(p.file, p.path, p.line, f"{p.message} [with {setting}]") for p in exc.problems]
    if problems:
        raise ScenarioError(problems)
    n = paired.replications_for([variant for _, variant, _ in prepared], replications)
    uncertain = any(is_random(variant) for _, variant, _ in prepared)
    notes = []
    if uncertain and n > 1:
        runs = paired.run_paired(prepared, n, base.run.seed if seed is None else int(seed), end, workers, file)
        for run in runs:
            if progress is not None:
                progress(run)
        notes += paired.pairing_notes(settings, [variant for _, variant, _ in prepared], runs)
    else:
        if uncertain:
            notes.append(paired.one_draw_warning([base.name], seed))
        elif n > 1:
            notes.append(f"note: {base.name} has no uncertain input, so one run per value: {n} replications "
                         "would be the same")
        runs = []
        for label, variant, digest in prepared:
            runs.append(execute(variant, label, file, digest, seed, end))
            if progress is not None:
                progress(runs[-1])
    result = sweep_of(file, base.name, axes[0][0], [point[0] for point in points], runs, wanted,
                      {sector: s.unit for sector, s in base.sectors.items()},
                      (axes[1][0], [point[1] for point in points]) if len(axes) == 2 else None)
    result.notes = notes
    return result


def sweep_of(file: Path, name: str, parameter: KeyPathResolved, values: list[Any], runs: list[ScenarioRun],
             metric: tuple[str | None, str] | None = None, sector_units: dict[str, str] | None = None,
             by: tuple[KeyPathResolved, list[Any]] | None = None) -> Sweep:
    """The table, the metric and the long monthly frame of runs already made; ``by``: of a grid, the second
    parameter and its value in each run."""
    summaries = [s for run in runs for s in run.summaries]
    focus = focus_countries(summaries)
    subject, figure = metric or (None, "peak_shortfall_share")
    if subject is None:
        subject = focus[0]
    countries = focus + ([subject] if subject not in focus and subject not in _elements(summaries)
                         and subject != "world" else [])
    figures = figures_for(summaries, countries)
    chosen = lookup(f"{subject}.{figure}", figures)
    if chosen is None:      # a sector without unmet demand in any run, or an element without a price
        chosen = headline(subject, figure, sector_units or {})
        figures.append(chosen)
    settings = [{parameter.dotted: v} | ({by[0].dotted: b} if by is not None else {})
                for v, b in zip(values, by[1] if by is not None else values)]
    table = paired_table(settings, runs, figures) if runs[0].replications else pd.DataFrame(
        [setting | {f.key: value(run.summary, f) for f in figures} for setting, run in zip(settings, runs)])
    for f in figures:                                           # None (never happened) as NaN
        if runs[0].replications:
            numeric = [f"{f.key} diff p{p}" for p in PERCENTILES] + (
                [f"{f.key} p{p}" for p in PERCENTILES] if f.unit != "date" else [])
        else:
            numeric = [f.key] if f.unit != "date" else []
        for column in numeric:
            table[column] = pd.to_numeric(table[column])
    monthly = pd.concat([run.series.assign(scenario=run.label) for run in runs], ignore_index=True)
    monthly = monthly[["scenario"] + [c for c in monthly.columns if c != "scenario"]]
    return Sweep(file, name, parameter, values, runs, figures, chosen, table, monthly,
                 by=by[0] if by is not None else None, by_values=list(by[1]) if by is not None else [])


def paired_table(settings: list[dict[str, Any]], runs: list[ScenarioRun], figures: list[Headline]) -> pd.DataFrame:
    """A row per value (``settings``: each run's parameters and their values): ``KEY p5|p50|p95|happened`` of
    each figure over its replications, and ``KEY diff p5|p50|p95`` of the paired difference against the first
    value (this value's replication r minus the first's; dates in days)."""
    first = runs[0].replications
    rows = []
    for setting, run in zip(settings, runs):
        row = dict(setting)
        for f in figures:
            row |= {f"{f.key} {k}": x for k, x in paired.figure_band(run.replications, f).items()}
            diff = paired.paired_band(first, run.replications, f)
            row |= {f"{f.key} diff p{p}": diff[f"p{p}"] for p in PERCENTILES}
        rows.append(row)
    return pd.DataFrame(rows)


def default_folder(file: Path | str, name: str, parameter: KeyPathResolved, by: KeyPathResolved | None = None) -> Path:
    """``results/<name>_sweep_<parameter>/`` (of a grid ``..._<parameter>_by_<second>/``) beside the scenario's
    project."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", parameter.dotted + (f"_by_{by.dotted}" if by is not None else ""))
    return default_out(Path(file), f"{name}_sweep_{safe}")


def scenario_metric(name: str, scenario: Scenario) -> tuple[str | None, str]:
    """``parse_metric`` against a scenario's countries, sectors and priced items; ScenarioError at --metric."""
    home = scenario.prices.home_market is not None     # then magnet grades have prices too
    priced = list(scenario.prices.initial_usd_per_kg) + (list(scenario.magnet_grades) if home else [])
    try:
        return parse_metric(name, list(scenario.countries), list(scenario.sectors), priced, home)
    except ValueError as exc:
        raise ScenarioError.single("--metric", str(exc)) from None


def _labels(values: Sequence[Any]) -> list[str]:
    """Each distinct value as text, in the order given."""
    return list(dict.fromkeys(describe(v) for v in values))


def _elements(summaries: list[Summary]) -> set[str]:
    return {e for s in summaries for e in s.prices}
