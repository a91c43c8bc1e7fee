"""The explanations a folder keeps of its runs: why the worst-hit countries were short, written into ``explain/``.

A comparison or sweep folder holds no run's tables, so it could not be explained afterwards. So while a run
is in memory (``runs.execute``), or from the folder a reused run is read back from, the explanation of its
worst-hit country (``sim.results.explain``) is kept on its ``ScenarioRun``, and written when the folder is
saved; a run's report (``sim.report``) writes those of its own worst-hit countries the same way. In
``explain/``, per explanation (``<label>_`` dropped for a run alone):

- ``<label>_<country>_<YYYY-MM>_<YYYY-MM>.csv``: the parts (t magnet, largest first), each with its ``label``;
- ``....txt``: the account ``python -m sim explain`` prints;
- ``....png``: the waterfall (with plots);

and ``index.json``: per run its label, its events (the ``parameters`` table's event rows, with their sources)
and its explanations: country, period, unmet and demand t, the files, the parameters rows cited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files import atomic_write, write_json, write_table
from ..results.explain import EXPLAINED_TABLES, explain, read_tables, worst_hit

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..results import Results, Summary
    from ..results.explain import Explanation

FOLDER = "explain"
INDEX = "index.json"
KEPT_PER_RUN = 1                  # a comparison or sweep keeps its runs' worst-hit country only


@dataclass
class RunExplained:
    """The explanations of one run's worst-hit countries, and the run's events (rows of its parameters table)."""

    label: str                                        # the run's label in a comparison or sweep; '' alone
    explanations: list[Explanation] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def explain_tables(tables: dict[str, pd.DataFrame], summary: Summary, label: str = "",
                   top: int = KEPT_PER_RUN) -> RunExplained:
    """Explain the ``top`` worst-hit countries of a run from its tables (each over its worst year)."""
    parameters = tables.get("parameters")
    events = [] if parameters is None else parameters[parameters["subject"] == "event"].to_dict("records")
    return RunExplained(label, [explain(tables, country) for country in worst_hit(summary, top)], events)


def explain_results(results: Results, label: str = "", top: int = KEPT_PER_RUN) -> RunExplained:
    """``explain_tables`` of a run in memory (its tables by month, as a run's folder holds them by default)."""
    return explain_tables({name: results.table(name, "month") for name in EXPLAINED_TABLES}, results.summary(),
                          label, top)


def explain_folder(folder: Path, summary: Summary, label: str = "", top: int = KEPT_PER_RUN) -> RunExplained | None:
    """``explain_tables`` of a saved run; None where the folder lacks a table (saved by an older version)."""
    try:
        tables = read_tables(folder)
    except FileNotFoundError:
        return None
    return explain_tables(tables, summary, label, top)


def stem(label: str, explanation: Explanation) -> str:
    """``<label>_<country>_<YYYY-MM>_<YYYY-MM>``; a label's characters outside [A-Za-z0-9_.-] as '_'."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", label)
    return f"{safe + '_' if safe else ''}{explanation.country}_{explanation.start:%Y-%m}_{explanation.end:%Y-%m}"


def write_explained(folder: Path, runs: list[RunExplained], plots: bool, note: str) -> list[Path]:
    """Write ``runs``' explanations into ``folder/explain/`` (see the module's docstring); return the files."""
    where = Path(folder) / FOLDER
    where.mkdir(exist_ok=True)
    written, index = [], []
    for run in runs:
        entries = []
        for e in run.explanations:
            name = stem(run.label, e)
            parts = e.parts.assign(label=[e.part_label(row) for row in e.parts.itertuples()])
            written += write_table(parts, where / name, ("csv",))
            text = e.text() + "\n"
            written.append(atomic_write(where / f"{name}.txt", lambda p, t=text: p.write_text(t, encoding="utf-8")))
            waterfall = None
            if plots:
                from ..plots.explain import save_waterfall  # matplotlib only when plots are asked for

                who = f"{run.label}: " if run.label else ""
                written.append(save_waterfall(e, where / f"{name}.png", f"{note}; {who}parts of {e.country}'s "
                                                                         f"unmet t"))
                waterfall = f"{name}.png"
            entries.append({"country": e.country, "start": e.start.isoformat(), "end": e.end.isoformat(),
                            "why_period": e.why_period, "unmet_t": e.unmet_t, "demand_t": e.demand_t,
                            "parts": f"{name}.csv", "text": f"{name}.txt", "waterfall": waterfall,
                            "cited": e.parameters.to_dict("records") if e.parameters is not None else []})
        index.append({"label": run.label, "events": run.events, "explanations": entries})
    write_json(where / INDEX, {"runs": index})
    written.append(where / INDEX)
    return written


def read_index(folder: Path) -> list[dict[str, Any]] | None:
    """The runs of ``folder/explain/index.json`` (see the module's docstring); None where there is none."""
    import json

    try:
        data = json.loads((Path(folder) / FOLDER / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    runs = data.get("runs") if isinstance(data, dict) else None
    return runs if isinstance(runs, list) else None
