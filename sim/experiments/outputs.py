"""Writing a run to disk: tables (Parquet and CSV), summary.json, manifest.json and plots, atomically.

Everything is written into a fresh folder beside the target and moved into
place only when complete (``atomic_folder``), so a failed or interrupted run
never leaves a partial results folder (an earlier complete one stays until
replaced). The manifest records what a run was made from (scenario hash, code
hash, seed, dates) so that a saved run can be reused in its stead.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from .. import __version__
from ..files import atomic_folder, write_json, write_table
from ..results.tables import Results, headline_series
from ..scenario import Scenario


def scenario_sha256(scenario: Scenario) -> str:
    """SHA-256 of a scenario as validated (before draws): names the inputs a result came from."""
    text = json.dumps(scenario.model_dump(mode="json", warnings=False), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scenario_hash(results: Results) -> str:
    """SHA-256 of the scenario a run was made from (see ``scenario_sha256``)."""
    return scenario_sha256(results.scenario)


@functools.cache
def code_sha256() -> str:
    """SHA-256 of the package's Python sources: results saved by other code may hold other numbers.

    ``sim_version`` changes only with releases; this changes with any edit of the model, so a saved run
    is reused (``sim.comparison``) only when it was made by the code that would remake it.
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def manifest(results: Results, frequency: str, formats: tuple[str, ...]) -> dict:
    """What ``manifest.json`` holds: enough to tell whether a saved run is the one a request would make."""
    return {
        "sim_version": __version__, "scenario": results.scenario.name, "scenario_sha256": scenario_hash(results),
        "code_sha256": code_sha256(), "seed": results.seed, "replication": results.replication, "start": results.net.dates[0].isoformat(),
        "end": results.net.dates[-1].isoformat(), "frequency": frequency, "formats": list(formats),
        "tables": {name: "tables/" + name for name in results.TABLES}}


def read_manifest(folder: Path) -> dict | None:
    """The ``manifest.json`` of a results folder, or None when there is none or it is unreadable."""
    try:
        data = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def default_out(scenario_file: Path, name: str) -> Path:
    """results/<name>/ of the project the scenario belongs to (the folder above scenarios/), else ./results."""
    here = Path(scenario_file).resolve().parent
    root = here.parent if here.name == "scenarios" else Path.cwd()
    return root / "results" / name


def save(results: Results, folder: Path, frequency: str | None = None, formats: tuple[str, ...] | None = None,
         plots: bool | None = None, extra: Callable[[Path], None] | None = None) -> Path:
    """Write a run's tables, summary, manifest and plots into ``folder``, replacing it atomically."""
    settings = results.scenario.outputs
    frequency = frequency or settings.frequency
    formats = tuple(formats or settings.formats)
    plots = settings.plots if plots is None else plots
    folder = Path(folder)
    with atomic_folder(folder) as work:
        (work / "tables").mkdir()
        for name, frame in results.tables(frequency).items():
            write_table(frame, work / "tables" / name, formats)
        write_json(work / "summary.json", results.summary())
        write_table(headline_series(results), work / "monthly", ("csv",))
        write_json(work / "manifest.json", manifest(results, frequency, formats))
        if plots:
            from ..plots import briefing  # matplotlib only when plots are asked for
            (work / "plots").mkdir()
            briefing(results, work / "plots")
        if extra is not None:
            extra(work)
    return folder
