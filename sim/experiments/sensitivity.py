"""Which uncertain inputs drive an outcome: a designed experiment over several inputs at once, with SALib.

``sensitivity("korea_after_expiry.yaml", ["events.october_2025_controls.approval", "stockpiles.KR.days=0..180"],
samples=64, metrics=["KR.cumulative_unmet_t"])`` sets the inputs (key paths, as ``sweep`` resolves them) to the
values of a designed sample, runs each sample, and estimates how much of the metric's variance each input
explains.

Inputs. ``KEY.PATH=LOW..HIGH`` varies a value uniformly over the range (over whole numbers when both ends are
whole, over days when both are dates); ``KEY.PATH`` alone takes the distribution the scenario declares there.
Without inputs, every distribution the scenario declares that is drawn once per run is one. SALib samples the
unit cube, and each coordinate q becomes the input's q-quantile (``Distribution.quantile``), so the indices are
those of the inputs as distributed. A distribution drawn afresh for each use (a licence's review time, for each
application) is no input of a run: give it a range, which fixes it, or vary one of its parameters
(``...processing_days.mode=20..63``).

Methods. ``sobol``: Saltelli's scheme (SALib's Sobol' sampler; N × (D + 2) samples for D inputs, N a power of
2): each input's first-order index S1 (the share of the metric's variance it explains alone) and total-order
index ST (alone and with the others), with 95 % bootstrap intervals. An input with no effect has both near 0.
``morris``: Morris screening, N trajectories of D + 1 samples on 4 levels: μ* (the mean absolute elementary
effect, in the metric's unit per the input's whole range, quantile 0 to 1) with its 95 % interval, and σ (their
spread: interactions or a curved effect); cheaper, for ranking many inputs.

Runs. Sample i runs replications 0..K-1 (``replications``, 1 by default) of one seed: common random numbers, so
the uncertain inputs not varied, and the licence decisions, draw alike in every sample and the indices are not
blurred by them; the metric of a sample is the mean over its K replications. What the held draws still move
cannot be told from one replication, where it shows as interactions (total indices above first-order ones);
with K > 1 the notes give its share of the variance. A run that draws licence decisions needs K of about 4. The
runs go to local processes or a Dask cluster (``scheduler``), as an ensemble's do.

Metrics. Headline figures of a country or element (``parse_metric``); by default the most affected country's
peak shortfall, unmet demand, weeks to shortfall and output at risk. A figure in weeks that never happened (no
shortfall) counts as the weeks from the first export measure to the end of the run; dates are refused.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..errors import EnsembleError, Problem, ScenarioError
from ..files import atomic_folder, write_json, write_table
from ..results import Summary
from ..results.headlines import Headline, focus_countries, headline, iso, value
from ..results.summary import PROVENANCE_READ as SUMMARY_READ
from ..scenario import Scenario
from ..scenario.distributions import DateDist, DateUniform, Dist, Distribution, Uniform
from ..scenario.drawing import written_inputs
from ..scenario.loading import read_scenario, registry_for, validate_document
from ..scenario.overrides import KeyPathResolved, apply, describe, resolve
from ..scenario.yamlfile import YamlDocument, problem_at
from ..version import __version__
from ..world import step_dates
from . import executors
from .manifest import code_sha256
from .single import check_end, default_out, is_random, run
from .sizing import parse_range
from .sweeps import scenario_metric

METHODS = ("sobol", "morris")
MORRIS_LEVELS = 4
RESAMPLES = 100                          # bootstrap resamples of SALib's confidence intervals
CONFIDENCE = 0.95
DEFAULT_FIGURES = ("peak_shortfall_share", "cumulative_unmet_t", "weeks_to_shortfall", "value_at_risk_usd")
FLAT = 1e-3                              # a metric whose sd is below this share of its mean barely moves
SHOWN_PROBLEMS = 5                       # samples the scenario refuses, listed before the rest are counted


@dataclass(frozen=True)
class Input:
    """One input of the experiment: a key path and the distribution its values are read from."""

    key: KeyPathResolved
    distribution: Distribution
    declared: bool = False               # the scenario's own distribution, not a range given on the command line
    whole: bool = False                  # a range of whole numbers: its values are whole numbers

    @property
    def name(self) -> str:
        return self.key.dotted

    def at(self, q: float) -> Any:
        """The value at quantile ``q`` (a number, a whole number or a date)."""
        if self.whole:
            low, high = self.distribution.support()
            return int(min(high, low + math.floor(q * (high - low + 1))))
        return self.distribution.quantile(q)

    def describe(self) -> str:
        """'uniform 0..180' or 'as declared: triangular(low=20, mode=45, high=63)'."""
        if not self.declared:
            low, high = self.distribution.support()
            low, high = (int(x) if self.whole else iso(x) for x in (low, high))
            return f"uniform {low}..{high}" + (", whole numbers" if self.whole else "")
        shown = self.distribution.model_dump(exclude={"dist"}, mode="json")
        return (f"as declared: {self.distribution.dist}("
                + ", ".join(f"{k}={v}" for k, v in shown.items() if v is not None) + ")")


@dataclass
class Sensitivity:
    """The experiment's result: every run with its inputs and outputs (``runs``), and the indices of each input
    for each metric (``indices``, tidy: one row per metric and input)."""

    file: Path
    name: str
    method: str
    inputs: list[Input]
    metrics: list[Headline]
    samples: int                          # N: base samples (sobol) or trajectories (morris)
    replications: int                     # K per sample
    seed: int
    runs: pd.DataFrame                    # sample, replication, each input, each metric
    indices: pd.DataFrame                 # metric, label, unit, input, then S1, S1_conf, ST, ST_conf or mu...
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ranking(self) -> str:
        """The index inputs are ranked by: ST (sobol) or μ* (morris)."""
        return "ST" if self.method == "sobol" else "mu_star"

    def text(self) -> str:
        """Per metric: its mean and spread over the samples, and the inputs ranked by their index."""
        runs = len(self.runs)
        design = (f"Sobol' indices (Saltelli), N = {self.samples}" if self.method == "sobol"
                  else f"Morris screening, {self.samples} trajectories on {MORRIS_LEVELS} levels")
        lines = [f"{self.name}: {design}; {runs // self.replications} samples × {self.replications} "
                 f"replication{'s' if self.replications != 1 else ''} = {runs} runs (seed {self.seed})"
                 + (f" in {self.seconds:.0f} s" if self.seconds else "")]
        lines += [f"  {i.name}: {i.describe()}" for i in self.inputs]
        width = max(len(i.name) for i in self.inputs) + 2
        for metric in self.metrics:
            means = self.runs.groupby("sample")[metric.key].mean()
            rows = self.indices[self.indices["metric"] == metric.key].sort_values(self.ranking, ascending=False)
            lines += ["", f"{metric.key} ({metric.label}, {metric.unit}): mean {_number(means.mean())}, "
                          f"sd {_number(means.std(ddof=0))} over the samples"]
            if self.method == "sobol":
                lines.append(f"  {'input':<{width}}{'first order S1':>18}{'total ST':>18}")
                lines += [f"  {r.input:<{width}}{_pm(r.S1, r.S1_conf):>18}{_pm(r.ST, r.ST_conf):>18}"
                          for r in rows.itertuples()]
            else:
                lines.append(f"  {'input':<{width}}{'mu* (' + metric.unit + ')':>24}{'sigma':>14}")
                lines += [f"  {r.input:<{width}}{_pm(r.mu_star, r.mu_star_conf, _number):>24}"
                          f"{_number(r.sigma):>14}" for r in rows.itertuples()]
        return "\n".join(lines + ([""] + self.notes if self.notes else []))

    def save(self, folder: Path | str, plots: bool = True, extra: Callable[[Path], None] | None = None) -> Path:
        """Write runs.csv (each run's inputs and outputs), indices.csv, manifest.json and plots/indices.png into
        ``folder`` atomically."""
        folder = Path(folder)
        with atomic_folder(folder, "sensitivity") as work:
            write_table(self.runs, work / "runs", ("csv",))
            write_table(self.indices, work / "indices", ("csv",))
            write_json(work / "manifest.json", {
                "kind": "sensitivity", "sim_version": __version__, "code_sha256": code_sha256(),
                "command": "sensitivity", "scenario": self.name, "file": str(self.file), "method": self.method,
                "samples": self.samples, "replications": self.replications, "seed": self.seed, "runs": len(self.runs),
                "inputs": [{"key": i.name, "as_written": i.key.written, "distribution": i.describe()}
                           for i in self.inputs],
                "metrics": [m.key for m in self.metrics], "notes": self.notes})
            if plots:
                from ..plots.sensitivity import save_indices  # matplotlib only when plots are asked for

                (work / "plots").mkdir()
                save_indices(work / "plots" / "indices.png", self.indices, self.method,
                             f"Scenario {self.name}, {self.method}, {len(self.runs)} runs, seed {self.seed}")
            if extra is not None:
                extra(work)
        return folder


def sensitivity(scenario: str | Path, vary: Sequence[str] = (), *, samples: int = 64, method: str = "sobol",
                metrics: Sequence[str] = (), replications: int = 1, seed: int | None = None,
                end: dt.date | None = None, workers: int | None = None, scheduler: str | None = None,
                security=None, progress: Callable[[int, int], None] | None = None) -> Sensitivity:
    """Run the designed experiment over ``vary`` (``KEY.PATH=LOW..HIGH`` or ``KEY.PATH``; none: the scenario's
    declared distributions) and estimate each input's indices for each of ``metrics`` (see the module
    docstring). ``samples`` is N: base samples of Sobol' (a power of 2), trajectories of Morris.

    Raises ScenarioError, before running anything, for an unknown key path, a bad range, a path holding no
    distribution, an unknown or date metric, bad counts, or values the scenario refuses (each located at the
    key's line, with the value); EnsembleError when a run fails or the cluster cannot be reached.
    """
    file = Path(scenario)
    doc = read_scenario(file)
    base = validate_document(doc, registry_for(file))
    check_end(file, base, end)
    if method not in METHODS:
        raise ScenarioError.single("--method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    if samples < 2 or (method == "sobol" and samples & (samples - 1)):
        wanted = "a power of 2 (Sobol' sequences need one), e.g. 64" if method == "sobol" else "at least 2"
        raise ScenarioError.single("--samples", f"expected {wanted}; got {samples}")
    if replications < 1:
        raise ScenarioError.single("--replications", f"expected at least 1 per sample, got {replications}")
    inputs = parse_inputs(doc, base, vary)
    wanted = [_metric(m, base) for m in metrics]
    seed = base.run.seed if seed is None else int(seed)
    unit = _design(method, len(inputs), samples, seed)                    # [sample, input] in [0, 1]
    values = [[i.at(q) for i, q in zip(inputs, row)] for row in unit]
    _check_values(doc, inputs, values)
    started = time.perf_counter()
    summaries = run_samples(doc, [i.key.path for i in inputs], values, replications, seed, end, workers,
                            scheduler, security, progress, default_out(file, "sensitivity").parent)
    seconds = time.perf_counter() - started
    sector_units = {sector: s.unit for sector, s in base.sectors.items()}
    worst = focus_countries([s for runs in summaries for s in runs])[0]     # the most affected country
    chosen = [headline(subject or worst, name, sector_units)
              for subject, name in (wanted or [(worst, name) for name in DEFAULT_FIGURES])]
    last_day = step_dates(base.calendar, end)[-1]
    table = pd.DataFrame([{"sample": i, "replication": r}
                          | {inp.name: iso(v) for inp, v in zip(inputs, values[i])}
                          | {m.key: _as_number(s, m, last_day) for m in chosen}
                          for i, runs in enumerate(summaries) for r, s in enumerate(runs)])
    notes = _held_notes(base, _variant(doc, list(zip(inputs, values[0]))), inputs, seed, replications)
    frames = []
    for m in chosen:
        y = table.groupby("sample")[m.key].mean().to_numpy()
        if np.isnan(y).any():
            raise EnsembleError(f"{m.key} has no value in {int(np.isnan(y).sum())} samples (an element without "
                                "a price?): choose another --metric")
        if np.ptp(y) == 0:
            notes.append(f"note: {m.key} is {_number(y[0])} in every sample: no input moves it, every index is 0")
        elif np.std(y) < FLAT * abs(np.mean(y)):
            notes.append(f"note: {m.key} varies by less than {100 * FLAT:g}% of its mean over the samples: its "
                         "indices measure little but noise")
        noise = _noise_note(table, m, replications)
        notes += [noise] if noise else []
        frames.append(_analyse(method, inputs, unit, y, seed).assign(metric=m.key, label=m.label, unit=m.unit))
    indices = pd.concat(frames, ignore_index=True)
    indices = indices[["metric", "label", "unit", "input"] + [c for c in indices.columns
                                                              if c not in ("metric", "label", "unit", "input")]]
    return Sensitivity(file, base.name, method, inputs, chosen, samples, replications, seed, table, indices,
                       seconds, notes)


# ---------------------------------------------------------------- inputs
def parse_inputs(doc: YamlDocument, base: Scenario, vary: Sequence[str]) -> list[Input]:
    """The inputs ``--vary`` names, each resolved and checked; without any, the scenario's declared
    distributions drawn once per run. ScenarioError at ``--vary`` or at the key's line."""
    if not vary:
        declared = [k for k in _uncertain(base) if not k.endswith(".happened")]
        if not declared:
            raise ScenarioError.single("--vary", f"{base.name} declares no distribution drawn once per run: name "
                                                 "the inputs, --vary KEY.PATH=LOW..HIGH")
        vary = declared
    inputs, seen = [], set()
    for written in vary:
        key, sep, span = written.partition("=")
        resolved = resolve(doc, key.strip(), "--vary")
        if resolved.dotted in seen:
            raise ScenarioError.single("--vary", f"{resolved.dotted} is named twice")
        seen.add(resolved.dotted)
        inputs.append(_ranged(resolved, span) if sep else _declared(doc, base, resolved))
    return inputs


def _uncertain(base: Scenario) -> list[str]:
    """The scenario's uncertain inputs drawn once per run, as key paths ``resolve`` reads (``events.3.happened``)."""
    return [re.sub(r"\[(\d+)\]", r".\1", k) for k in written_inputs(base)]


def _ranged(key: KeyPathResolved, span: str) -> Input:
    low, sep, high = span.partition("..")
    try:
        first, last = dt.date.fromisoformat(low.strip()), dt.date.fromisoformat(high.strip())
    except ValueError:
        first = last = None
    if sep and first is not None and last is not None:
        if first >= last:
            raise ScenarioError.single("--vary", f"{key.dotted}: expected FIRST..LAST with FIRST before LAST, "
                                                 f"got {span!r}")
        return Input(key, DateUniform(dist="uniform", low=first, high=last))
    try:
        lo, hi = parse_range(span, "--vary")
    except ScenarioError as exc:
        raise ScenarioError.single("--vary", f"{key.dotted}: {exc.problems[0].message}") from None
    whole = isinstance(lo, int) and isinstance(hi, int)
    return Input(key, Uniform(dist="uniform", low=lo, high=hi), whole=whole)


def _declared(doc: YamlDocument, base: Scenario, key: KeyPathResolved) -> Input:
    """The distribution the scenario declares at ``key`` (with its field's bounds), or a located error."""
    node, parent = base, None
    for segment in key.path:
        parent = node
        if isinstance(node, BaseModel) and isinstance(segment, str):
            node = getattr(node, segment, None)
        elif isinstance(node, dict):
            node = node.get(segment)
        elif isinstance(node, (list, tuple)) and isinstance(segment, int) and segment < len(node):
            node = node[segment]
        else:
            node = None
    if key.path[-1] in getattr(type(parent), "drawn_per_use", ()):
        raise ScenarioError([problem_at(doc, key.path, f"{key.dotted} is drawn afresh for each use, not once "
                                                       f"per run: give a range to fix it ({key.dotted}=LOW..HIGH) "
                                                       f"or vary one of its parameters ({key.dotted}.mode=LOW..HIGH)")])
    if isinstance(node, Distribution):
        return Input(key, node, declared=True)
    written = doc.data
    for segment in key.path:
        written = written[segment] if isinstance(written, (dict, list)) else None
    if isinstance(written, dict) and "dist" in written:       # a distribution the model keeps elsewhere
        for kind in (Dist, DateDist):
            try:
                return Input(key, TypeAdapter(kind).validate_python(written), declared=True)
            except ValidationError:
                pass
    raise ScenarioError([problem_at(doc, key.path, f"{key.dotted} holds {written!r}, not a distribution: give it "
                                                   f"a range, --vary {key.dotted}=LOW..HIGH")])


def _check_values(doc: YamlDocument, inputs: list[Input], values: list[list[Any]]) -> None:
    """Each input at both ends of its range (the others as written), then every sample, validated like a
    hand-written file; ScenarioError with each place refused located once (with the first values refused
    there) and how many trials were refused."""
    problems: dict[tuple, Problem] = {}
    refused = 0
    trials = [[(i, i.at(q))] for i in inputs for q in (0.0, 1.0)] + [list(zip(inputs, row)) for row in values]
    for trial in trials:
        try:
            _variant(doc, trial)
        except ScenarioError as exc:
            refused += 1
            with_values = ", ".join(f"{i.name}={describe(v)}" for i, v in trial)
            for p in exc.problems:
                problems.setdefault((p.file, p.path, p.line),
                                    Problem(p.file, p.path, p.line, f"{p.message} [with {with_values}]"))
    if problems:
        shown = list(problems.values())[:SHOWN_PROBLEMS]
        if refused > 1 or len(problems) > SHOWN_PROBLEMS:
            shown.append(Problem("--vary", "", None, f"{refused} of {len(trials)} trials refused (both ends of each "
                                                     "range, then every sample): narrow the ranges"))
        raise ScenarioError(shown)


def _variant(doc: YamlDocument, setting: list[tuple[Input, Any]]) -> Scenario:
    """The scenario with each input set to its value, validated like a hand-written file."""
    changed = doc
    for i, v in setting:
        changed = apply(changed, i.key.path, v)
    return validate_document(changed)


# ---------------------------------------------------------------- running
def run_samples(doc: YamlDocument, paths: list[tuple], values: list[list[Any]], replications: int, seed: int,
                end: dt.date | None, workers: int | None = None, scheduler: str | None = None, security=None,
                progress: Callable[[int, int], None] | None = None,
                shared: Path | None = None) -> list[list[Summary]]:
    """Run replications 0..K-1 of ``seed`` of every sample (``doc`` with ``values[i]`` at ``paths``); their
    summaries, [sample][replication]. On a Dask cluster the runs are written into a scratch folder in
    ``shared``, which every worker must see at the same path. EnsembleError names every run that failed."""
    todo = list(range(len(values) * replications))
    client = executors.connect(scheduler, security) if scheduler else None
    if client is not None and shared is not None:
        shared.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".sensitivity-", dir=shared if client is not None else None)).resolve()
    try:
        task = functools.partial(_sample_run, doc, tuple(paths), tuple(tuple(v) for v in values), replications,
                                 seed, end, scratch)
        if client is not None:
            outcomes = executors.on_dask(client, task, todo, code_sha256(), f"sensitivity-seed{seed}",
                                         lambda t: _run_file(scratch, t).is_file(), scratch)
        else:
            outcomes = executors.locally(task, todo, workers)
        failed, done = [], 0
        for t, error in outcomes:
            done += 1
            if error is not None:
                failed.append((t, error))
            if progress is not None:
                progress(done, len(todo))
        if failed:
            raise EnsembleError("; ".join(f"sample {t // replications} replication {t % replications} (seed {seed}) "
                                          f"failed: {error}" for t, error in sorted(failed)[:SHOWN_PROBLEMS]))
        summaries = [Summary.from_dict(json.loads(_run_file(scratch, t).read_text(encoding="utf-8"))) for t in todo]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if client is not None:
            client.close()
    return [summaries[i * replications:(i + 1) * replications] for i in range(len(values))]


def _run_file(folder: Path, t: int) -> Path:
    return folder / f"run{t:07d}.json"


def _sample_run(doc: YamlDocument, paths: tuple, values: tuple, replications: int, seed: int, end: dt.date | None,
                folder: Path, t: int) -> int:
    """Run t: replication t % K of sample t // K, its summary written to ``folder``."""
    sample, replication = divmod(t, replications)
    changed = doc
    for path, v in zip(paths, values[sample]):
        changed = apply(changed, path, v)
    results = run(validate_document(changed), seed=seed, end=end, replication=replication,
                  provenance=SUMMARY_READ)
    write_json(_run_file(folder, t), results.summary().to_dict())
    return t


# ---------------------------------------------------------------- analysis
def _design(method: str, inputs: int, samples: int, seed: int) -> np.ndarray:
    """The sample in the unit cube, [sample, input]."""
    problem = {"num_vars": inputs, "names": [f"x{k}" for k in range(inputs)], "bounds": [[0.0, 1.0]] * inputs}
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)


def _analyse(method: str, inputs: list[Input], unit: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """One metric's indices, a row per input. The bootstrap of the intervals draws from a seed of its own, derived
    from the run's and never 0 (SALib's Sobol' analysis takes a seed of 0 as none, and would draw anew each time)."""
    seed = int(np.random.SeedSequence([seed, 0x5A17]).generate_state(1)[0]) or 1
    names = [i.name for i in inputs]
    problem = {"num_vars": len(inputs), "names": names, "bounds": [[0.0, 1.0]] * len(inputs)}
    if np.ptp(y) == 0:
        zeros = np.zeros(len(inputs))
        columns = ("S1", "S1_conf", "ST", "ST_conf") if method == "sobol" else ("mu", "mu_star", "mu_star_conf",
                                                                                 "sigma")
        return pd.DataFrame({"input": names} | {c: zeros for c in columns})
    if method == "sobol":
        from SALib.analyze import sobol

        got = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                            seed=seed)
        return pd.DataFrame({"input": names, "S1": got["S1"], "S1_conf": got["S1_conf"], "ST": got["ST"],
                             "ST_conf": got["ST_conf"]})
    from SALib.analyze import morris

    got = morris.analyze(problem, unit, y, num_resamples=RESAMPLES, conf_level=CONFIDENCE, num_levels=MORRIS_LEVELS,
                         seed=seed)
    return pd.DataFrame({"input": names, "mu": got["mu"], "mu_star": got["mu_star"],
                         "mu_star_conf": got["mu_star_conf"], "sigma": got["sigma"]})


def _metric(written: str, scenario: Scenario) -> tuple[str | None, str]:
    subject, name = scenario_metric(written, scenario)
    if name.endswith("_date") or name == "first_measure":
        raise ScenarioError.single("--metric", f"{written} is a date; a sensitivity needs a number (weeks, t, a "
                                               "share, USD, a price multiple)")
    return subject, name


def _as_number(summary: Summary, figure: Headline, last_day: dt.date) -> float:
    """The figure as a number: weeks that never came as the weeks from the first measure to the run's end; a
    country's figure that never happened as 0; an element's price that is not there as NaN."""
    got = value(summary, figure)
    if got is not None:
        return float(got)
    if figure.unit == "weeks":
        first = summary.first_measure
        return (last_day - first).days / 7.0 if first is not None else float("nan")
    return float("nan") if figure.unit == "x initial" else 0.0


def _held_notes(base: Scenario, variant: Scenario, inputs: list[Input], seed: int, replications: int) -> list[str]:
    """What is still drawn in a sample (``variant``, the scenario with the inputs set): held at the draws of the
    replications every sample shares; with one replication, that its part of the variance is not measured."""
    if not is_random(variant):
        return []
    varied = {i.name for i in inputs}
    held = [k for k in _uncertain(base) if k not in varied]
    runs = f"replication{'s 0..' + str(replications - 1) if replications > 1 else ' 0'} of seed {seed}"
    note = (f"note: still drawn, alike in every sample ({runs}; common random numbers): "
            + (f"{', '.join(held)}, and " if held else "") + "any licence reviews and decisions")
    if replications == 1:
        note += ("; with one replication their part of a figure's variance is not measured and shows as "
                 "interactions (ST above S1): --replications 4 averages it and measures it")
    return [note]


def _noise_note(table: pd.DataFrame, metric: Headline, replications: int) -> str | None:
    """With replications, how much of the variance the draws held in common make: of a single run's, and of the
    averaged figure the indices read."""
    if replications < 2:
        return None
    within = table.groupby("sample")[metric.key].var(ddof=1).mean()
    single, averaged = table[metric.key].var(ddof=1), table.groupby("sample")[metric.key].mean().var(ddof=1)
    if not (single > 0 and averaged > 0):
        return None
    return (f"note: {metric.key}: the draws held in common make {100 * within / single:.0f}% of a single run's "
            f"variance and about {100 * within / replications / averaged:.0f}% of the average of "
            f"{replications} that the indices read")


def _number(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "—"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _pm(x: float, conf: float, shown: Callable[[float], str] = lambda v: f"{v:.2f}") -> str:
    return f"{shown(x)} ± {shown(conf)}"


def default_folder(file: Path | str, name: str, method: str) -> Path:
    """``results/<name>_sensitivity_<method>/`` beside the scenario's project."""
    return default_out(Path(file), f"{name}_sensitivity_{method}")
