"""The chain by country: what each stage used in a country, by the country where it was made one stage up.

Read from the provenance rows the recorder keeps (``consumed_tags``,
``made_tags``; row layout in ``world.provenance``), all in t REO:

- ``refinery``: concentrate fed to separation in ``country``, by the mining
  country (``origin_stage`` ``mine``)
- ``magnet``: the rare-earth content of magnets made in ``country``, by the
  country that separated its oxides (``origin_stage`` ``refinery``)
- ``end_use``: the rare-earth content of magnets end users in ``country``
  used, by the magnet-making country (``origin_stage`` ``magnet``)

Every t a stage used carries the country one stage up, so a stage's rows in
a country sum to what it used there (oxides recovered from end-of-life
magnets count as separated where they were recovered). Separation losses and
oxides not used in magnets leave between stages: a stage's rows need not sum
to the rows of the stage above.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..stages import MAGNET, MINE, REFINERY
from ..world.provenance import Tags
from .periods import Period
from .recorder import Recorder
from .sparse import SparseSteps

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt

    import pandas as pd

    from ..world import Network


class Results(Protocol):
    """What the flows chart reads of a run (``sim.results.tables.Results`` is one): named here so that this
    module imports nothing from ``tables``, which imports it."""

    countries: tuple[str, ...]
    dates: pd.DatetimeIndex
    first_measure: dt.date | None
    net: Network
    raw: Recorder

CHAIN = ((REFINERY, MINE), (MAGNET, REFINERY), ("end_use", MAGNET))   # (stage, origin_stage)


def chain_links(raw: Recorder, tags: Tags) -> list[tuple[str, str, SparseSteps]]:
    """(stage, origin_stage, t REO ``[step, country, origin]``, sparse) for each link of ``CHAIN``."""
    arrays = (raw.consumed_tags.select(0, slice(None), tags.kind("mined")),   # separation feed by mining country
              raw.made_tags.select(slice(None), tags.kind("refined")),        # magnets made by separating country
              raw.consumed_tags.select(2, slice(None), tags.kind("made")))    # end use by magnet-making country
    return [(stage, origin_stage, array) for (stage, origin_stage), array in zip(CHAIN, arrays)]


# ------------------------------------------------------------ the flows chart's table
COLUMNS = ("mine", "refinery", "magnet", "end_use")    # the chart's columns, upstream first
COLUMN_LABELS = {"mine": "Mined in", "refinery": "Separated in", "magnet": "Magnets made in", "end_use": "Used in"}
UNITS = {"mine": "t REO", "refinery": "t REO", "magnet": "t magnet", "end_use": "t magnet"}
WORLD = "world"                                          # the country of a term not split by country
FLOW_TABLE = ["period", "first_day", "last_day", "column", "side", "flow", "country", "other", "t", "unit"]


def flow_periods(results: Results) -> list[Period]:
    """The flows chart's default periods, each a year of whole steps (52 weekly steps): the year before the
    first export measure and the first year of it (from the first step that starts on or after its start),
    each cut short by the calendar; without a measure in the run (or with one from its start), its first year."""
    import pandas as pd

    dates = results.dates
    n = round(365.25 / results.net.step_days)
    measure = results.first_measure
    first = int(np.searchsorted(dates, pd.Timestamp(measure))) if measure is not None else 0
    if first == 0 or first >= len(dates):
        return [_steps_period(results, 0, n, "first year of the run")]
    return [_steps_period(results, max(0, first - n), first, "the year before the first export measure"),
            _steps_period(results, first, first + n, f"its first year (from {measure.day} {measure:%b %Y})")]


def _steps_period(results: Results, first: int, stop: int, label: str) -> Period:
    """The days of steps ``first`` to ``stop`` (excluded, cut at the calendar's end)."""
    import pandas as pd

    dates = results.dates
    last = dates[min(stop, len(dates)) - 1]
    return Period(dates[first].date(), (last + pd.Timedelta(days=results.net.step_days)).date(), label)


def period_steps(results: Results, period: Period) -> np.ndarray:
    """Indices of the steps whose first day lies in ``period`` (a step straddling its end counts whole); a
    ValueError if the run has none."""
    import pandas as pd

    dates = results.dates
    steps = np.flatnonzero((dates >= pd.Timestamp(period.start)) & (dates < pd.Timestamp(period.end)))
    if steps.size == 0:
        raise ValueError(f"period {period.label} ({period.start} to {period.end}) has no step of the run "
                         f"({dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d})")
    return steps


def chain_flows(results: Results, periods: Sequence[Period | str] | None = None) -> pd.DataFrame:
    """The flows chart's table: for each period (default ``flow_periods``) and column of the chart, what
    entered it (``side`` in) and what left it (out), so that in each column in = out.

    Columns (``column``; unit in ``unit``): ``mine`` (t REO of concentrate), ``refinery`` (t REO of
    oxides), ``magnet`` (t magnet), ``end_use`` (t magnet). ``flow`` names the term:

    - mine: in ``mined``; out ``to separation`` (``country`` mining, ``other`` separating)
    - refinery: in ``from mines`` (``country`` separating, ``other`` mining), ``recycled`` (oxides from
      end-of-life magnets); out ``separation losses`` (tailings), ``to magnets`` (the magnets' rare-earth
      content, ``country`` separating, ``other`` making), ``magnet-making losses`` (swarf, by making
      country), ``other uses`` (oxides used outside magnets), ``sunk surplus`` (oxides nobody needed)
    - magnet: in ``from oxides`` (t magnet made, ``country`` making, ``other`` separating); out ``to end
      users`` (``country`` making, ``other`` using)
    - end_use: in ``from magnet makers`` (``country`` using, ``other`` making); out ``used`` (what end
      users got)
    - every stage but end use: ``stock built`` (out) or ``stock drawn`` (in), the change over the period
      of what the world held (country ``world``): in stock, in strategic stockpiles, at sea and awaiting a
      licence

    Separating countries include oxides recovered from end-of-life magnets where recovered. Steps count
    whole in the period of their first day. Rows with 0 t are left out.
    """
    import pandas as pd

    raw, tags, countries = results.raw, results.net.tags, list(results.countries)
    chosen = [p if isinstance(p, Period) else Period.parse(p) for p in (periods or flow_periods(results))]
    held = raw.held()
    # the provenance each period sums, narrowed once for all periods (a narrowing reads the whole record)
    fed_by = raw.consumed_tags.select(0, slice(None), tags.kind("mined"))      # [step, separating, mining]
    content_by = raw.made_tags.select(slice(None), tags.kind("refined"))       # [step, making, separating] t REO
    made_by = raw.made_tags_t.select(slice(None), tags.kind("refined"))        # [step, making, separating] t magnet
    used_by = raw.used_tags_t.select(slice(None), tags.kind("made"))           # [step, using, making] t magnet
    rows: list[tuple] = []
    for period in chosen:
        steps = period_steps(results, period)
        last_day = (results.dates[steps[-1]] + pd.Timedelta(days=results.net.step_days - 1)).date()
        head = (period.label, results.dates[steps[0]].date(), last_day)

        def add(column: str, side: str, flow: str, values: np.ndarray, other: np.ndarray | None = None) -> None:
            """Rows of one term: ``values`` [C] by country, [C, other C] by country pairs, or a world scalar."""
            values = np.asarray(values, dtype=float)
            if values.ndim == 0:
                cells = [(WORLD, "", float(values))]
            elif values.ndim == 1:
                cells = [(c, "", float(v)) for c, v in zip(countries, values)]
            else:
                cells = [(c, o, float(values[i, j])) for i, c in enumerate(countries) for j, o in enumerate(countries)]
            rows.extend((*head, column, side, flow, c, o, t, UNITS[column]) for c, o, t in cells if t > 1e-12)

        total = lambda array: array[steps].sum(axis=0)  # noqa: E731 (a one-line helper over this period)
        fed, to_magnets, made_t, used_t = (total(array) for array in (fed_by, content_by, made_by, used_by))
        change = held[steps[-1] + 1] - held[steps[0]]                        # [stage] over the period
        add("mine", "in", "mined", total(raw.mined).sum(axis=1))
        add("mine", "out", "to separation", fed.T)
        add("refinery", "in", "from mines", fed)
        add("refinery", "in", "recycled", total(raw.recycled).sum(axis=1))
        add("refinery", "out", "separation losses", total(raw.feed) - total(raw.separated).sum(axis=1))
        add("refinery", "out", "to magnets", to_magnets.T)
        add("refinery", "out", "magnet-making losses", total(raw.making_losses))
        add("refinery", "out", "other uses", total(raw.other_uses).sum(axis=1))
        add("refinery", "out", "sunk surplus", total(raw.sunk).sum(axis=1))
        add("magnet", "in", "from oxides", made_t)
        add("magnet", "out", "to end users", used_t.T)
        add("end_use", "in", "from magnet makers", used_t)
        add("end_use", "out", "used", total(raw.supplied).sum(axis=1))
        for column, delta in zip(COLUMNS, change):
            add(column, "out", "stock built", max(delta, 0.0))
            add(column, "in", "stock drawn", max(-delta, 0.0))
    frame = pd.DataFrame(rows, columns=FLOW_TABLE)
    frame["first_day"] = pd.to_datetime(frame["first_day"])
    frame["last_day"] = pd.to_datetime(frame["last_day"])
    return frame


def column_balance(flows: pd.DataFrame) -> pd.DataFrame:
    """In, out and their difference (``residual_t``, 0 to rounding) of each period and column of a
    ``chain_flows`` table, in the column's unit: the conservation check of the chart."""
    sums = flows.groupby(["period", "column", "side"], sort=False)["t"].sum().unstack("side", fill_value=0.0)
    sums = sums.reindex(columns=["in", "out"], fill_value=0.0).rename(columns={"in": "in_t", "out": "out_t"})
    sums["residual_t"] = sums["in_t"] - sums["out_t"]
    return sums.reset_index()
