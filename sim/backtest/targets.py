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
      base: 2024-05                    # change and multiple only: the period compared with
      band: [-0.84, -0.64]             # simulated values inside it pass
      band_reason: why the band is this wide, stated before the model's answer was seen

Measures, each read from a step table with steps split by days (``sim.results.periods``):

- ``share``: what ``select`` adds up to over the period as a share of what ``within`` (a second
  selection, share only) adds up to;
- ``change``: what ``select`` adds up to over the period against the ``base`` period, less 1;
- ``multiple``: the same as a ratio;
- ``total``: what ``select`` adds up to over the period, in the table's unit.

``base`` belongs to change and multiple only, ``within`` to share only; either elsewhere is refused.

What a target reads of a table is its value column: ``t`` (production, flows, chain, inventory,
licences, licence_queue), ``made_t`` (magnet_output), ``unmet_t`` (unmet), ``usd_per_kg`` (prices) or
``multiple`` (magnet_prices), unless the block's ``column:`` names another value column of the table
(``sim.results.columns.VALUES``), e.g. ``column: unmet_units`` for products not made rather than tonnes of
magnet missing.

The rows a selection picks add up over the period where the table holds flows; where it holds levels
(``LEVELS``: prices, magnet prices, stocks, licence queues) they add up within each step and that sum is
averaged over the period's days. A price, a price multiple or days of cover (``PER_ROW``) does not add up
across rows: it is read for one row — a prices selection names one element, and in an episode with a
home market one market (``market: outside``) — and only as a change or multiple of a base. An episode
without a home market has one world price per element and no market to name.

A selection names key columns of the table (``sim.results.columns.KEYS``) and values: a code (``CN``), a
list (``[Dy, Tb]``) or ``not CN``. Every code must be one a run of the episode's scenario can hold, and
the period and base must lie within its calendar (``Target.problems_in``): what would select nothing, or
read days the run does not have, is refused before any run.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import Problem, ScenarioError, did_you_mean
from ..results import Results
from ..results.columns import KEYS, OPTIONAL_KEYS, VALUES, codes
from ..results.periods import Period, covers, mean_in, total_in
from ..scenario import Scenario
from ..scenario.registry import FIGURE_FILES, Registry, SourceFigure
from ..scenario.yamlfile import KeyPath, YamlDocument, problem_at, read_yaml

KINDS = ("calibration", "validation")
MEASURES = ("share", "change", "multiple", "total")
COLUMN = {"production": "t", "flows": "t", "chain": "t", "inventory": "t", "magnet_output": "made_t",
          "prices": "usd_per_kg", "magnet_prices": "multiple", "unmet": "unmet_t", "licences": "t",
          "licence_queue": "t"}   # read unless `column:` says otherwise; a magnet price may have no USD/kg
LEVELS = {"prices", "magnet_prices", "inventory", "licence_queue"}   # levels (averaged over time), not flows
PER_ROW = {("prices", "usd_per_kg"), ("prices", "multiple"), ("magnet_prices", "usd_per_kg"),
           ("magnet_prices", "multiple"), ("inventory", "days_of_cover")}
TARGET_KEYS = ("episode", "kind", "measure", "table", "select", "within", "period", "base", "column", "band",
               "band_reason")


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

    def codes(self) -> list[tuple[KeyPath, str, str]]:
        """(key path within the selection, column, code) of every code it names, ``not`` taken off."""
        named = []
        for column, wanted in self.where.items():
            if isinstance(wanted, (list, tuple)):
                named += [((column, i), column, str(w)) for i, w in enumerate(wanted)]
            elif isinstance(wanted, str) and wanted.startswith("not "):
                named.append(((column,), column, wanted[4:].strip()))
            else:
                named.append(((column,), column, str(wanted)))
        return named

    def names_one(self, column: str) -> bool:
        """Whether the selection picks exactly one code of ``column``."""
        wanted = self.where.get(column)
        return wanted is not None and not isinstance(wanted, (list, tuple)) and not (
            isinstance(wanted, str) and wanted.startswith("not "))


@dataclass(frozen=True)
class Written:
    """Where a target block is written: the figure's index in its file and the line of each key of the block
    (a document holding only those lines, so a target stays small to send to a worker)."""

    doc: YamlDocument
    index: int

    @classmethod
    def of(cls, doc: YamlDocument, index: int) -> Written:
        lines = {path: line for path, line in doc.lines.items() if path[:2] == (index, "target") or path == (index,)}
        return cls(YamlDocument(doc.file, None, lines), index)

    def problem(self, key: KeyPath, message: str) -> Problem:
        return problem_at(self.doc, (self.index, "target", *key), message)


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
    written: Written = field(compare=False, repr=False)
    within: Selection | None = None
    base: Period | None = None
    column: str = "t"

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

    def problem(self, key: KeyPath, message: str) -> Problem:
        """A problem of this target, located at ``key`` of its block."""
        return self.written.problem(key, f"{self.id}: {message}")

    def problems_in(self, scenario: Scenario) -> list[Problem]:
        """What of this target a run of ``scenario`` cannot answer: a code it has not (which would select
        nothing), a period or base outside its calendar (days the run does not have)."""
        found = []
        known = codes(scenario)[self.table]
        full_names = {code: country.name for code, country in scenario.countries.items()}
        for key, selection in (("select", self.select), ("within", self.within)):
            for path, column, code in selection.codes() if selection else ():
                if column not in known:        # a key only some scenarios' tables have: a market
                    found.append(self.problem((key, *path), (
                        f"no {column} in {self.table} of {scenario.name}: it has one world price per element "
                        f"(prices by market need prices.home_market)")))
                elif code not in known[column]:
                    found.append(self.problem((key, *path), (
                        f"no {column} {code!r} in {self.table} of {scenario.name}"
                        f"{did_you_mean(code, known[column], full_names)}; expected one of "
                        f"{', '.join(known[column]) or '(none)'}")))
        for column in OPTIONAL_KEYS.get(self.table, ()):       # a market, where the episode has markets
            if column in known and (self.table, self.column) in PER_ROW and not self.select.names_one(column):
                found.append(self.problem(("select",), (
                    f"{scenario.name} has a home market: a {self.table} selection must name one {column} "
                    f"({' or '.join(known[column])}), e.g. {{{column}: {known[column][-1]}}}")))
        calendar = scenario.calendar
        for key, period in (("period", self.period), ("base", self.base)):
            last = period.end - dt.timedelta(days=1) if period else None
            if period and not (calendar.start <= period.start and last <= calendar.end):
                found.append(self.problem((key,), f"{period.label} ({period.start} .. {last}) is not within the "
                                                  f"calendar of {scenario.name}, {calendar.start} .. {calendar.end}"))
        return found

    def _aggregate(self, frame: pd.DataFrame, dates: pd.DatetimeIndex, step_days: float, period: Period) -> float:
        if self.table in LEVELS:
            # several rows of a level (stocks in several countries) hold their sum; a step without a row held none
            level = frame.groupby("date")[self.column].sum(min_count=1).reindex(dates, fill_value=0.0)
            return mean_in(level.rename_axis("date").reset_index(), self.column, step_days, period)
        return total_in(frame, self.column, step_days, period)

    def simulate(self, results: Results) -> float:
        """The figure as this run has it, read from the run's step table."""
        frame = results.table(self.table)
        step_days = float(results.net.step_days)
        for period in (self.period, self.base):
            if period is not None and not covers(results.dates, step_days, period):
                raise ValueError(f"{self.id}: the run of {self.episode} does not cover {period.label}")
        chosen = self.select.rows(frame)
        value = self._aggregate(chosen, results.dates, step_days, self.period)
        if self.measure == "total":
            return value
        if self.measure == "share":
            whole = self._aggregate(self.within.rows(frame), results.dates, step_days, self.period)
            return value / whole if whole else float("nan")
        base = self._aggregate(chosen, results.dates, step_days, self.base)
        ratio = value / base if base else float("nan")
        return ratio - 1.0 if self.measure == "change" else ratio


def _target(figure: SourceFigure, spec: dict[str, Any], written: Written,
            problem: Callable[[KeyPath, str], None]) -> Target | None:
    """Build a target from its ``target:`` block; report what is wrong through ``problem(key, message)``."""
    problems = 0

    def report(key: KeyPath, message: str) -> None:
        nonlocal problems
        problem(key, message)
        problems += 1

    def need(key: str, check, expected: str):
        if key not in spec:
            report((), f"missing '{key}': expected {expected}")
            return None
        return may(key, check, expected)

    def may(key: str, check, expected: str):
        try:
            return check(spec[key])
        except (TypeError, ValueError) as exc:
            report((key,), f"{exc}; expected {expected}")
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

    for key in spec:
        if key not in TARGET_KEYS:
            report((key,), f"unknown key {key!r}{did_you_mean(key, TARGET_KEYS, {'column': 'value'})}; "
                           f"expected one of: {', '.join(TARGET_KEYS)}")
    episode = need("episode", str, "the name of a scenario in scenarios/")
    kind = need("kind", one_of(KINDS), " or ".join(KINDS))
    measure = need("measure", one_of(MEASURES), ", ".join(MEASURES))
    table = need("table", one_of(tuple(COLUMN)), f"a table the back-test reads: {', '.join(COLUMN)}")
    select = need("select", selection, "a map of column: value, e.g. {stage: mine, country: CN}")
    period = need("period", Period.parse, "YYYY, YYYY-MM, YYYY-Qn or [FIRST_DAY, LAST_DAY]")
    band_ = need("band", band, "[LOW, HIGH] in the figure's unit")
    reason = need("band_reason", text, "why the band is this wide")
    within = base = None
    if measure == "share":
        within = need("within", selection, "the rows the share is of, e.g. {stage: mine}")
    elif "within" in spec and measure is not None:
        report(("within",), f"a {measure} has no 'within' (the rows a share is of); only a share does")
    if measure in ("change", "multiple"):
        base = need("base", Period.parse, "the period compared with")
    elif "base" in spec and measure is not None:
        report(("base",), f"a {measure} compares with no base period; only change and multiple do")
    column = COLUMN.get(table)
    if table is not None and "column" in spec:
        column = may("column", one_of(VALUES[table]), f"a value column of {table}: {', '.join(VALUES[table])}")
    for key, chosen in (("select", select), ("within", within)):
        if table is not None and chosen is not None:
            for path, problem_ in _misnamed(chosen, table):
                report((key, *path), problem_)
    if table is not None and column is not None and (table, column) in PER_ROW:
        if measure in ("total", "share"):
            report(("measure",), f"got {measure!r}: {column} of {table} does not add up, so it is read as "
                                 f"a change or multiple of a base period")
        # a key only some episodes' tables have (a market) is checked against the episode (Target.problems_in)
        missing = [k for k in KEYS[table] if select is not None and not select.names_one(k)
                   and k not in OPTIONAL_KEYS.get(table, ())]
        if missing:
            report(("select",), f"a {table} selection must name one {' and one '.join(missing)} "
                                f"({column} does not add up across rows), e.g. {{{missing[0]}: ...}}")
    if figure.value is None and figure.range is None:
        report((), "a target needs the observed figure as 'value' or 'range'")
    if problems:
        return None
    return Target(figure, episode, kind, measure, table, select, period, band_, reason, written, within, base,
                  column)


def _misnamed(selection: Selection, table: str) -> list[tuple[KeyPath, str]]:
    """(key path, message) of each column of ``selection`` that is no key column of ``table``, and of each
    value that is not a code, a list of codes or ``not CODE``."""
    found = []
    keys = KEYS[table]
    for column, wanted in selection.where.items():
        if column not in keys:
            found.append(((column,), f"{table} has no key column {column!r}{did_you_mean(column, keys)}; "
                                     f"expected one of {', '.join(keys)}"))
        items = wanted if isinstance(wanted, list) else [wanted]
        if not items or not all(isinstance(w, (str, int, float)) and not isinstance(w, bool) for w in items):
            found.append(((column,), f"got {wanted!r}; expected a code, a list of codes or 'not CODE'"))
    return found


def load_targets(registry: Registry) -> list[Target]:
    """The figures of the registry with a ``target:`` block, in file order. A malformed target is a
    ScenarioError naming the file, the key path and the line."""
    problems: list[Problem] = []
    targets = []
    for name in FIGURE_FILES:
        path = Path(registry.root) / name
        if not path.is_file():
            continue
        doc = read_yaml(path)
        for i, raw in enumerate(doc.data or []):
            if not isinstance(raw, dict) or raw.get("target") is None:
                continue
            figure, spec = registry.figures[raw["id"]], raw["target"]
            if not isinstance(spec, dict):
                problems.append(problem_at(doc, (i, "target"), f"{figure.id}: got {spec!r}; expected a map of "
                                                               f"{', '.join(TARGET_KEYS)}"))
                continue
            written = Written.of(doc, i)
            found = _target(figure, spec, written, lambda key, message, w=written, f=figure: problems.append(
                w.problem(key, f"{f.id}: {message}")))
            if found is not None:
                targets.append(found)
    if problems:
        raise ScenarioError(problems)
    return targets
