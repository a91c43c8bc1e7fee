"""Back-test targets: observed figures of ``seeds/`` and how each is read from a run's tables.

A target is a registry figure (the observed series of the episodes are in ``seeds/history.yaml``) with
a ``target:`` block::

    target:
      episode: april_2025_licensing    # the scenario (scenarios/<episode>.yaml) that replays it
      kind: validation                 # or calibration: a parameter of the world was fitted to it
      measure: change                  # share | change | multiple | total
      table: flows                     # a table of Results (flows, production, prices, unmet, ...)
      select: {stage: magnet, exporter: CN, importer: not CN}
      period: 2025-05                  # YYYY, YYYY-MM, YYYY-Qn or [FIRST_DAY, LAST_DAY]
      base: 2024-05                    # change and multiple: the period compared with
      band: [-0.84, -0.64]             # simulated values inside it pass
      band_reason: why the band is this wide, stated before the model's answer was seen

Measures, each read from a step table with steps split by days (``sim.results.periods``):

- ``share``: what ``select`` adds up to over the period as a share of what ``within`` adds up to;
- ``change``: what ``select`` adds up to over the period against the base period, less 1;
- ``multiple``: the same as a ratio (prices: the day-weighted mean level in the period against the base);
- ``total``: what ``select`` adds up to over the period, in the table's unit.

A selection names columns and values: a code (``CN``), a list (``[Dy, Tb]``) or ``not CN``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import Problem, ScenarioError
from ..results import Results
from ..results.periods import Period, covers, mean_in, total_in
from ..scenario.registry import FIGURE_FILES, Registry, SourceFigure
from ..scenario.yamlfile import problem_at, read_yaml

HISTORY_FILE = "history.yaml"
KINDS = ("calibration", "validation")
VALUES = {"production": "t", "flows": "t", "chain": "t", "inventory": "t", "magnet_output": "made_t",
          "prices": "usd_per_kg", "unmet": "unmet_t", "licences": "t"}
LEVELS = {"prices"}                     # tables whose value is a level (averaged over time), not a flow (summed)


@dataclass(frozen=True)
class Selection:
    """Rows of a table: each column equal to a value, one of a list, or (``not X``) anything but X."""

    where: dict[str, Any] = field(default_factory=dict)

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        keep = pd.Series(True, index=frame.index)
        for column, wanted in self.where.items():
            values = frame[column].astype(str)
            if isinstance(wanted, str) and wanted.startswith("not "):
                keep &= values != wanted[4:].strip()
            elif isinstance(wanted, (list, tuple)):
                keep &= values.isin([str(w) for w in wanted])
            else:
                keep &= values == str(wanted)
        return frame[keep]

    def __str__(self) -> str:
        return ", ".join(f"{k} {v if isinstance(v, str) and v.startswith('not ') else v}"
                         for k, v in self.where.items())


@dataclass(frozen=True)
class Target:
    """One observed figure and its simulated counterpart."""

    figure: SourceFigure
    episode: str
    kind: str
    measure: str
    table: str
    select: Selection
    period: Period
    band: tuple[float, float]
    band_reason: str
    within: Selection | None = None
    base: Period | None = None
    value_column: str = "t"

    @property
    def id(self) -> str:
        return self.figure.id

    @property
    def observed(self) -> float:
        """The figure's value, or the middle of its range."""
        lo, hi = self.figure.bounds()
        return (lo + hi) / 2

    @property
    def last_day(self) -> Period:
        """The later of the period and the base: a run must reach its end."""
        return max((p for p in (self.period, self.base) if p is not None), key=lambda p: p.end)

    def passes(self, simulated: float) -> bool:
        return self.band[0] <= simulated <= self.band[1]

    def _aggregate(self, frame: pd.DataFrame, step_days: float, period: Period) -> float:
        if self.table in LEVELS:
            return mean_in(frame, self.value_column, step_days, period)
        return total_in(frame, self.value_column, step_days, period)

    def simulate(self, results: Results) -> float:
        """The figure as this run has it, read from the run's step table."""
        frame = results.table(self.table)
        step_days = float(results.net.step_days)
        for period in (self.period, self.base):
            if period is not None and not covers(results.dates, step_days, period):
                raise ValueError(f"{self.id}: the run of {self.episode} does not cover {period.label}")
        chosen = self.select.rows(frame)
        value = self._aggregate(chosen, step_days, self.period)
        if self.measure == "total":
            return value
        if self.measure == "share":
            whole = self._aggregate(self.within.rows(frame), step_days, self.period)
            return value / whole if whole else float("nan")
        base = self._aggregate(chosen, step_days, self.base)
        ratio = value / base if base else float("nan")
        return ratio - 1.0 if self.measure == "change" else ratio


def _target(figure: SourceFigure, spec: dict[str, Any], problem) -> Target | None:
    """Build a target from its ``target:`` block; report what is wrong through ``problem(key, message)``."""
    problems = 0

    def need(key: str, check, expected: str):
        nonlocal problems
        if key not in spec:
            problem((), f"missing '{key}': expected {expected}")
            problems += 1
            return None
        try:
            return check(spec[key])
        except (TypeError, ValueError) as exc:
            problem((key,), f"{exc}; expected {expected}")
            problems += 1
            return None

    def one_of(options):
        def check(v):
            if v not in options:
                raise ValueError(f"got {v!r}")
            return v
        return check

    def band(v):
        lo, hi = (float(x) for x in v)
        if lo > hi:
            raise ValueError(f"band {v} runs backwards")
        return lo, hi

    def selection(v):
        if not isinstance(v, dict) or not v:
            raise ValueError(f"{v!r} is not a map of column: value")
        return Selection(dict(v))

    def text(v):
        if not isinstance(v, str) or len(v.strip()) < 20:
            raise ValueError("say in a sentence why the band is this wide")
        return v

    measures = ("share", "change", "multiple", "total")
    episode = need("episode", str, "the name of a scenario in scenarios/")
    kind = need("kind", one_of(KINDS), " or ".join(KINDS))
    measure = need("measure", one_of(measures), ", ".join(measures))
    table = need("table", one_of(tuple(VALUES)), "a table of Results")
    select = need("select", selection, "a map of column: value, e.g. {stage: mine, country: CN}")
    period = need("period", Period.parse, "YYYY, YYYY-MM, YYYY-Qn or [FIRST_DAY, LAST_DAY]")
    band_ = need("band", band, "[LOW, HIGH] in the figure's unit")
    reason = need("band_reason", text, "why the band is this wide")
    within = base = None
    if measure == "share":
        within = need("within", selection, "the rows the share is of, e.g. {stage: mine}")
    if measure in ("change", "multiple"):
        base = need("base", Period.parse, "the period compared with")
    if figure.value is None and figure.range is None:
        problem((), "a target needs the observed figure as 'value' or 'range'")
        problems += 1
    if problems:
        return None
    return Target(figure, episode, kind, measure, table, select, period, band_, reason, within, base,
                  spec.get("value", VALUES[table]))


def load_targets(registry: Registry, episodes: tuple[str, ...] | None = None) -> list[Target]:
    """The figures of the registry with a ``target:`` block (of the named episodes only, when given), in
    file order. A malformed target is a ScenarioError naming the file, the key path and the line."""
    problems: list[Problem] = []
    targets = []
    for name in FIGURE_FILES:
        path = Path(registry.root) / name
        if not path.is_file():
            continue
        doc = read_yaml(path)
        for i, raw in enumerate(doc.data or []):
            spec = raw.get("target") if isinstance(raw, dict) else None
            if spec is None:
                continue
            figure = registry.figures[raw["id"]]
            found = _target(figure, spec, lambda key, message, i=i, doc=doc: problems.append(
                problem_at(doc, (i, "target", *key), f"{figure.id}: {message}")))
            if found is not None and (episodes is None or found.episode in episodes):
                targets.append(found)
    if problems:
        raise ScenarioError(problems)
    return targets
