"""How much is enough: the smallest value of one lever that meets a target in a stated share of replications.

``size("japan_ban_uncertain.yaml", "stockpiles.JP.days", 0, 720, "JP.weeks_to_shortfall >= 52",
confidence=0.95)`` sets the lever (a key path, as ``sweep`` resolves it) to values in the range and runs
each as a paired ensemble: replication r of every value draws the same uncertain inputs (common random
numbers, ``paired``), so the values differ by the lever alone. For each value it counts the replications
whose headline figure meets the target. The search first tries a grid over the range; where the share that
meets the target never falls as the lever rises over the grid, it bisects between the last value short of
the confidence and the first that reaches it, down to the resolution (1 for a lever given in whole
numbers); otherwise the answer is the smallest value tried above which every value tried meets it, and a
note says the curve is not monotone. A scenario without uncertain input runs once per value, and its
share is 0 or 1.

The answer's uncertainty comes from the replications: a bootstrap resamples them (the same resample for
every value, as they are paired) and finds the answer again each time; its P5 and P95 are the band. Each
value's share has a Wilson 95 % interval. A figure that never happened in a run (never short: no weeks to
shortfall) counts as larger than any threshold, so the runs must last long enough to tell: a target in
weeks after the first measure longer than the runs is refused before anything runs.
"""
from __future__ import annotations

import datetime as dt
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem, ScenarioError
from ..files import atomic_folder, write_json, write_table
from ..results.headlines import Headline, headline, value
from ..scenario import Scenario
from ..scenario.events import first_restriction
from ..scenario.loading import read_scenario, registry_for, validate_document
from ..scenario.overrides import KeyPathResolved, apply, describe, resolve
from ..version import __version__
from . import paired
from .bands import replications_table
from .manifest import code_sha256, scenario_sha256
from .runs import ScenarioRun
from .single import check_end, default_out, is_random
from .sweeps import scenario_metric

OPERATORS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le, ">": operator.gt,
                                                         "<": operator.lt}
ALIASES = {"weeks_to_short_users": "weeks_to_shortfall", "weeks_to_short_plants": "weeks_to_plant_shortfall"}
NEVER_MEANS_LATER = {"weeks"}          # a figure of these units that never happened is later than any threshold
GRID = 5                               # values tried first, ends included
BOOTSTRAP = 2000                       # resamples of the replications for the answer's band
STEPS_DEFAULT = 64                     # a lever in decimals is found to 1/64 of its range
_TARGET = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(>=|<=|>|<)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class Target:
    """A headline figure of one subject compared with a threshold: ``JP.weeks_to_shortfall >= 52``."""

    figure: Headline
    op: str
    threshold: float
    written: str

    def met(self, got: Any) -> bool:
        """Whether one run's value of the figure meets the target (None: it never happened in the run)."""
        if got is None:
            return self.figure.unit in NEVER_MEANS_LATER and self.op in (">=", ">")
        return OPERATORS[self.op](float(got), self.threshold)

    def __str__(self) -> str:
        shown = f"{100 * self.threshold:g}%" if self.figure.unit == "share" else f"{self.threshold:g}"
        return f"{self.figure.key} {self.op} {shown}"


def parse_target(written: str, scenario: Scenario, horizon_weeks: float | None) -> Target:
    """``"JP.weeks_to_shortfall >= 52"`` (a share as 0.05 or 5%) -> Target; ScenarioError at ``--target``
    naming what is wrong: the form, the figure (with a did-you-mean), a date figure, or a target in weeks
    the runs are too short to tell (``horizon_weeks``: from the first measure to the runs' end)."""
    found = _TARGET.match(written)
    if not found:
        raise ScenarioError.single("--target", f"expected COUNTRY.FIGURE OP NUMBER with OP one of >=, <=, >, <, "
                                               f"e.g. 'JP.weeks_to_shortfall >= 52'; got {written!r}")
    name, op, number, percent = found.groups()
    subject, _, figure = name.rpartition(".")
    figure = ALIASES.get(figure, figure)
    try:
        subject, figure = scenario_metric(f"{subject}.{figure}" if subject else figure, scenario)
    except ScenarioError as exc:
        raise ScenarioError.single("--target", exc.problems[0].message) from None
    if subject is None or subject == "world":
        raise ScenarioError.single("--target", f"name whose figure it is, e.g. JP.{figure}: a target is one "
                                               "country's (or element's) figure")
    chosen = headline(subject, figure, {sector: s.unit for sector, s in scenario.sectors.items()})
    unit = chosen.unit
    if unit == "date":
        raise ScenarioError.single("--target", f"{subject}.{figure} is a date; a target compares a number "
                                               "(weeks, t, a share, USD, a price multiple)")
    threshold = float(number) / (100.0 if percent else 1.0)
    if percent and unit != "share":
        raise ScenarioError.single("--target", f"{subject}.{figure} is in {unit}, not a share: drop the %")
    if unit in NEVER_MEANS_LATER and op in (">=", ">") and horizon_weeks is not None and threshold > horizon_weeks:
        raise ScenarioError.single("--target", f"the runs end {horizon_weeks:.0f} weeks after the first export "
                                               f"measure, too early to tell whether {subject}.{figure} reaches "
                                               f"{threshold:g}: run them longer (--end)")
    return Target(chosen, op, threshold, written.strip())


@dataclass
class Sizing:
    """The search's result: every value tried with its share of replications meeting the target
    (``curve``), each replication's figure at each value (``replications``), and the answer."""

    file: Path
    name: str
    lever: KeyPathResolved
    low: float
    high: float
    target: Target
    confidence: float
    replications: int
    seed: int
    method: str                           # "bisection" or "grid"
    answer: float | None                  # the smallest value meeting the target; None: none in the range
    band: tuple[float | None, float | None]   # the answer's bootstrap P5 and P95 (None: above the range)
    above_range: float                    # share of bootstrap resamples in which no value met it
    curve: pd.DataFrame                   # value, met, replications, share, share_low, share_high, meets
    runs: list[ScenarioRun]               # in the order the values were tried
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The curve, one row per value tried, and the answer with its band."""
        lines = [f"{self.name}: the smallest {self.lever.dotted} in {_number(self.low)}..{_number(self.high)} with "
                 f"{self.target} in at least {100 * self.confidence:g}% of {self.replications} "
                 f"replication{'s' if self.replications != 1 else ''} (seed {self.seed})",
                 f"  {self.lever.dotted:>20}  {'met':>9}  {'share':>6}  {'95% interval':>15}"]
        for row in self.curve.itertuples():
            lines.append(f"  {_number(row.value):>20}  {f'{row.met}/{row.replications}':>9}  {100 * row.share:>5.0f}%"
                         f"  {f'{100 * row.share_low:.0f}% .. {100 * row.share_high:.0f}%':>15}"
                         f"{'  meets' if row.meets else ''}")
        lines.append(f"answer: {self.answer_text()} ({self.method})")
        return "\n".join(lines + self.notes)

    def answer_text(self) -> str:
        if self.answer is None:
            return (f"none in {_number(self.low)}..{_number(self.high)}: even {_number(self.high)} meets the target "
                    f"in {100 * self.curve['share'].iloc[-1]:.0f}% of replications")
        low, high = self.band
        band = (f"; bootstrap P5..P95 of the answer {_number(low)} .. "
                f"{_number(high) if high is not None else 'above the range'}" if self.replications > 1 else "")
        return f"{self.lever.dotted} = {_number(self.answer)}{band}"

    def save(self, folder: Path | str, plots: bool = True, extra: Callable[[Path], None] | None = None) -> Path:
        """Write curve.csv, replications.csv, summaries.json, manifest.json and plots/confidence.png into
        ``folder`` atomically."""
        folder = Path(folder)
        with atomic_folder(folder, "sizing") as work:
            write_table(self.curve, work / "curve", ("csv",))
            frames = [replications_table(run.summaries).assign(**{self.lever.dotted: run.label}) for run in self.runs]
            frame = pd.concat(frames, ignore_index=True)
            frame["target_met"] = [self.target.met(value(s, self.target.figure)) for run in self.runs
                                   for s in run.summaries]
            write_table(frame[[self.lever.dotted] + [c for c in frame.columns if c != self.lever.dotted]],
                        work / "replications", ("csv",))
            write_json(work / "summaries.json", {run.label: [s.to_dict() for s in run.summaries] for run in self.runs})
            write_json(work / "manifest.json", {
                "kind": "sizing", "sim_version": __version__, "code_sha256": code_sha256(), "command": "size",
                "scenario": self.name, "file": str(self.file), "lever": self.lever.dotted,
                "lever_as_written": self.lever.written, "range": [self.low, self.high], "target": str(self.target),
                "confidence": self.confidence, "replications": self.replications, "seed": self.seed,
                "method": self.method, "answer": self.answer, "answer_p5": self.band[0], "answer_p95": self.band[1],
                "answer_above_range_share": self.above_range, "notes": self.notes,
                "runs": [{"value": run.label, "scenario_sha256": run.scenario_sha256, "start": run.start.isoformat(),
                          "end": run.end.isoformat()} for run in self.runs]})
            if plots:
                from ..plots.sizing import save_confidence_curve  # matplotlib only when plots are asked for

                (work / "plots").mkdir()
                save_confidence_curve(work / "plots" / "confidence.png", self)
            if extra is not None:
                extra(work)
        return folder


def size(scenario: str | Path, lever: str | KeyPathResolved, low: float, high: float, target: str, *,
         confidence: float = 0.95, replications: int | None = None, seed: int | None = None,
         end: dt.date | None = None, workers: int | None = None, resolution: float | None = None,
         progress: Callable[[str], None] | None = None) -> Sizing:
    """The smallest value of ``lever`` in ``low``..``high`` meeting ``target`` in at least ``confidence`` of the
    replications (see the module docstring). ``replications`` defaults to 20 when the scenario has uncertain
    inputs (1 when it has none); ``resolution`` to 1 for a lever in whole numbers, else 1/64 of the range.

    Raises ScenarioError, before running anything, for an unknown key path, a bad range, confidence or
    target, or a value at either end of the range that makes the scenario invalid; EnsembleError when a
    replication fails.
    """
    file = Path(scenario)
    doc = read_scenario(file)
    resolved = lever if isinstance(lever, KeyPathResolved) else resolve(doc, lever, "--lever")
    registry = registry_for(file)
    base = validate_document(doc, registry)
    check_end(file, base, end)
    whole = all(float(x).is_integer() and not isinstance(x, float) for x in (low, high))
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ScenarioError.single("--range", f"expected LOW..HIGH with LOW < HIGH, got {low}..{high}")
    if not 0.0 < confidence <= 1.0:
        raise ScenarioError.single("--confidence", f"expected a share in (0, 1], e.g. 0.95; got {confidence}")
    step = resolution if resolution is not None else (1.0 if whole else (high - low) / STEPS_DEFAULT)
    if not step > 0:
        raise ScenarioError.single("--resolution", f"expected a positive number, got {resolution}")
    wanted = _parse_for(target, base, end)
    start_seed = base.run.seed if seed is None else int(seed)
    n = paired.replications_for([base], replications)
    uncertain = is_random(base)
    notes = [] if uncertain else [f"note: {base.name} has no uncertain input: one run per value, each meets the "
                                  "target or not"]
    if uncertain and n == 1:
        notes.append(paired.one_draw_warning([base.name], start_seed))

    def snap(x: float) -> float:
        v = min(high, max(low, low + round((x - low) / step) * step))
        return float(round(v)) if whole else v

    def variant(v: float) -> tuple[str, Scenario, str]:
        label = describe(int(v) if whole else v)
        changed = apply(doc, resolved.path, int(v) if whole else v)
        made = validate_document(changed, registry)
        return label, made, scenario_sha256(made)

    _check_ends(variant, [low, high], resolved)
    runs: dict[float, ScenarioRun] = {}

    def evaluate(values: list[float]) -> list[list[bool]]:
        made = paired.run_paired([variant(v) for v in values], n, start_seed, end, workers, file)
        out = []
        for v, run in zip(values, made):
            runs[v] = run
            out.append([wanted.met(value(s, wanted.figure)) for s in run.summaries])
            if progress is not None:
                progress(f"{resolved.dotted}={run.label}: {sum(out[-1])}/{n} meet {wanted}")
        return out

    tried, method = search(evaluate, snap, low, high, step, confidence)
    if method == "grid":
        notes.append("note: the share meeting the target does not rise steadily with the lever over the values "
                     "tried, so no bisection: the answer is the smallest value tried above which every value tried "
                     "meets it; narrow --range around it to refine")
    values = sorted(tried)
    met = np.array([tried[v] for v in values], dtype=bool)                    # [value, replication]
    answer = _smallest(values, met.mean(axis=1), confidence)
    band, above = _bootstrap(values, met, confidence, start_seed) if n > 1 else ((answer, answer), 0.0)
    curve = pd.DataFrame({"value": values, "met": met.sum(axis=1), "replications": n, "share": met.mean(axis=1)})
    curve["share_low"], curve["share_high"] = zip(*(_wilson(k, n) for k in curve["met"]))
    curve["meets"] = curve["share"] >= confidence
    return Sizing(file, base.name, resolved, float(low), float(high), wanted, confidence, n, start_seed, method,
                  answer, band, above, curve, [runs[v] for v in values], notes)


def search(evaluate: Callable[[list[float]], list[list[bool]]], snap: Callable[[float], float], low: float,
           high: float, step: float, confidence: float) -> tuple[dict[float, list[bool]], str]:
    """Each value tried -> whether each replication met the target there, and the method: a grid of GRID
    values over the range (``snap`` puts a value on the resolution), then, while the share meeting the
    target never falls as the lever rises, bisection between the last value short of ``confidence`` and the
    first that reaches it, until they are ``step`` apart ("bisection"); "grid" where the share falls
    somewhere. ``evaluate(values)`` runs the values, each once."""
    tried: dict[float, list[bool]] = {}

    def run(values: list[float]) -> None:
        new = sorted({v for v in values if v not in tried})
        if new:
            tried.update(zip(new, evaluate(new)))

    def shares() -> dict[float, float]:
        return {v: sum(met) / len(met) for v, met in tried.items()}

    run([snap(x) for x in np.linspace(low, high, GRID)])
    if not _monotone(shares()):
        return tried, "grid"
    while True:
        share = shares()
        passing = [v for v in share if share[v] >= confidence]
        failing = [v for v in share if share[v] < confidence]
        if not passing or not failing:
            return tried, "bisection"
        a, b = max(failing), min(passing)
        middle = snap((a + b) / 2)
        if b - a <= step * (1 + 1e-9) or middle in tried:
            return tried, "bisection"
        run([middle])
        if not _monotone(shares()):
            return tried, "grid"


def parse_range(written: str, option: str = "--range") -> tuple[float, float]:
    """``'0..720'`` -> (0, 720), whole numbers as ints; ScenarioError at ``option`` if malformed."""
    low, sep, high = written.partition("..")
    try:
        if not sep:
            raise ValueError
        ends = [int(x) if re.fullmatch(r"\s*[-+]?\d+\s*", x) else float(x) for x in (low, high)]
    except ValueError:
        raise ScenarioError.single(option, f"expected LOW..HIGH (numbers), e.g. 0..720; got {written!r}") from None
    if not all(math.isfinite(x) for x in ends) or ends[0] >= ends[1]:
        raise ScenarioError.single(option, f"expected LOW..HIGH with LOW < HIGH, got {written!r}")
    return ends[0], ends[1]


def _parse_for(target: str, base: Scenario, end: dt.date | None) -> Target:
    """The target, checked against how long the runs last after the first export measure."""
    from ..world import step_dates

    dates = step_dates(base.calendar, end)
    first = first_restriction(base.events)
    horizon = (dates[-1] - first).days / 7.0 if first is not None else None
    return parse_target(target, base, horizon)


def _check_ends(variant: Callable[[float], Any], ends: list[float], lever: KeyPathResolved) -> None:
    problems: list[Problem] = []
    for v in ends:
        try:
            variant(v)
        except ScenarioError as exc:
            problems += [Problem(p.file, p.path, p.line, f"{p.message} [with {lever.dotted}={describe(v)}]")
                         for p in exc.problems]
    if problems:
        raise ScenarioError(problems)


def _monotone(share: dict[float, float]) -> bool:
    """The share never falls as the lever rises over the values tried."""
    ordered = [share[v] for v in sorted(share)]
    return all(b >= a - 1e-12 for a, b in zip(ordered, ordered[1:]))


def _smallest(values: Sequence[float], share: np.ndarray, confidence: float) -> float | None:
    """The smallest value tried from which on every value tried reaches the confidence; None if the largest
    does not."""
    answer = None
    for v, s in zip(reversed(values), share[::-1]):
        if s < confidence - 1e-12:
            break
        answer = v
    return answer


def _bootstrap(values: list[float], met: np.ndarray, confidence: float,
               seed: int) -> tuple[tuple[float | None, float | None], float]:
    """P5 and P95 of the answer over resamples of the replications (the same resample at every value: they are
    paired), and the share of resamples with no answer in the range (counted as above it)."""
    rng = np.random.default_rng([seed, 0x5123])
    n = met.shape[1]
    picks = rng.integers(0, n, size=(BOOTSTRAP, n))
    shares = met[:, picks].mean(axis=2)                                      # [value, resample]
    answers = [_smallest(values, shares[:, b], confidence) for b in range(BOOTSTRAP)]
    above = sum(a is None for a in answers) / BOOTSTRAP
    ranked = np.sort([np.inf if a is None else a for a in answers])             # no answer: above the range
    low, high = ranked[int(0.05 * (BOOTSTRAP - 1))], ranked[math.ceil(0.95 * (BOOTSTRAP - 1))]
    return ((None if np.isinf(low) else float(low)), (None if np.isinf(high) else float(high))), above


def _wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a share k/n, 95 %."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _number(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def default_folder(file: Path | str, name: str, lever: KeyPathResolved) -> Path:
    """``results/<name>_size_<lever>/`` beside the scenario's project."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", lever.dotted)
    return default_out(Path(file), f"{name}_size_{safe}")
