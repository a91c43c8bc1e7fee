"""Runs among several, for the commands that set runs side by side (compare, sweep).

A ``ScenarioRun`` keeps what a comparison needs of a run (or of a paired
ensemble, see ``paired``): its summary and a monthly series of headline quantities. It is made by running a scenario, or
read back from a results folder written by ``saving.save`` (summary.json,
monthly.csv and the prices table), so a saved run can stand in for a fresh one.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..files import json_safe
from ..results import Results, Summary
from ..results.periods import means_by_period
from ..results.series import MonthlySeries, monthly_series
from ..scenario import Scenario
from .explained import RunExplained, explain_results
from .single import run


@dataclass
class ScenarioRun:
    """One run as a comparison sees it; ``seconds`` is None and ``saved`` the folder when it was reused.

    Of a scenario with uncertain inputs compared by a paired ensemble (``paired.run_paired``) it stands
    for the ensemble: ``replications`` holds the summaries in replication order, ``summary`` is
    replication 0's and ``series`` the P50 of each monthly series (with P5 and P95 beside it).
    """

    label: str                    # its column or legend in a comparison
    file: Path
    name: str
    seed: int
    start: dt.date
    end: dt.date
    scenario_sha256: str
    summary: Summary              # as summary.json holds it (NaN as None)
    series: pd.DataFrame          # monthly: date, metric, country, element, value (see ``monthly_series``)
    seconds: float | None = None
    saved: Path | None = None
    note: str = ""                # why it was run rather than reused
    replications: list[Summary] = field(default_factory=list)   # of a paired ensemble; empty for one run
    explained: RunExplained | None = None       # its worst-hit country's explanation (one run; ``explained``)

    @property
    def reused(self) -> bool:
        return self.saved is not None

    @property
    def summaries(self) -> list[Summary]:
        """Its replications' summaries, or its one summary."""
        return self.replications or [self.summary]


def execute(scenario: Scenario, label: str, file: Path, scenario_sha256: str, seed: int | None,
            end: dt.date | None) -> ScenarioRun:
    """Run a scenario and keep its summary, monthly series and the explanation of its worst-hit country (made
    now, while its tables can be: the comparison's folder keeps none)."""
    started = time.perf_counter()
    results = run(scenario, seed=seed, end=end)
    seconds = time.perf_counter() - started
    kept = from_results(results, label, file, scenario_sha256, seconds)
    kept.explained = explain_results(results, label)
    return kept


def from_results(results: Results, label: str, file: Path, scenario_sha256: str,
                 seconds: float | None = None) -> ScenarioRun:
    """What a comparison keeps of a fresh run; the summary goes through JSON as a saved one does."""
    summary = read_summary(json.dumps(json_safe(results.summary().to_dict())))
    return ScenarioRun(label, Path(file), results.scenario.name, results.seed, results.net.dates[0],
                       results.net.dates[-1], scenario_sha256, summary, monthly_series(results), seconds)


def read_series(folder: Path, manifest: dict) -> pd.DataFrame:
    """The monthly series of a saved run: monthly.csv and its prices table (monthly, or weekly made monthly).

    Raises ValueError saying what is missing when the folder cannot give it.
    """
    folder = Path(folder)
    monthly = folder / "monthly.csv"
    if not monthly.is_file():
        raise ValueError(f"{monthly.name} is missing")
    headline = _read_csv(monthly)
    frequency = manifest.get("frequency")
    if frequency not in ("month", "step"):
        raise ValueError(f"its tables are by {frequency}; a monthly comparison needs them by month or step")
    stem = folder / str(manifest.get("tables", {}).get("prices", "tables/prices"))
    if stem.with_suffix(".parquet").is_file():
        prices = pd.read_parquet(stem.with_suffix(".parquet"))
    elif stem.with_suffix(".csv").is_file():
        prices = _read_csv(stem.with_suffix(".csv"))
    else:
        raise ValueError("its prices table is missing")
    prices["date"] = pd.to_datetime(prices["date"])
    if frequency == "step" and len(prices):       # made monthly as Results.table(..., "month") does
        keys = [k for k in ("market", "element") if k in prices.columns]   # market: with a home market
        steps = np.diff(np.unique(prices["date"].to_numpy())).astype("timedelta64[D]")
        step_days = float(steps.min().astype(int)) if len(steps) else 7.0
        prices = means_by_period(prices, keys, ["usd_per_kg", "multiple"], step_days, "month")
        # the last step may run past the calendar's end, which monthly.csv stops at
        prices = prices[prices["date"] <= pd.to_datetime(headline["date"]).max()]
    return MonthlySeries.from_frames(headline, prices).frame()


def _read_csv(path: Path) -> pd.DataFrame:
    """A tidy CSV as written by ``files.write_table``; codes such as NA (Namibia) stay text."""
    return pd.read_csv(path, keep_default_na=False, na_values={"value": ["", "nan", "NaN"]})


def read_summary(text: str) -> Summary:
    """A summary from the text of a ``summary.json``."""
    return Summary.from_dict(json.loads(text))
