"""What a saved run was made from: the scenario's hash, the code's hash, the seed and the dates.

``manifest.json`` lets ``compare`` reuse a saved run in place of a fresh one,
and an ensemble resume only the ensemble it holds.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Results
    from ..scenario import Scenario

PACKAGE = Path(__file__).resolve().parents[1]


def scenario_sha256(scenario: Scenario) -> str:
    """SHA-256 of a scenario as validated (before draws): names the inputs a result came from."""
    text = json.dumps(scenario.model_dump(mode="json", warnings=False), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sources_sha256(package: Path) -> str:
    """SHA-256 of every Python source under ``package`` (subpackages included), with its path."""
    digest = hashlib.sha256()
    for path in sorted(Path(package).rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def code_sha256() -> str:
    """SHA-256 of the ``sim`` package's sources: results saved by other code may hold other numbers.

    ``sim_version`` changes only with releases; this changes with any edit of the model, so a saved run
    is reused (``sim.experiments.comparison``) only when it was made by the code that would remake it.
    """
    return sources_sha256(PACKAGE)


def manifest(results: Results, frequency: str, formats: tuple[str, ...]) -> dict:
    """What ``manifest.json`` holds: enough to tell whether a saved run is the one a request would make."""
    return {
        "kind": "run", "sim_version": __version__, "scenario": results.scenario.name,
        "scenario_sha256": scenario_sha256(results.scenario), "code_sha256": code_sha256(), "seed": results.seed,
        "replication": results.replication, "start": results.net.dates[0].isoformat(),
        "end": results.net.dates[-1].isoformat(), "frequency": frequency, "formats": list(formats),
        "tables": {name: "tables/" + name for name in results.TABLES}}


def read_manifest(folder: Path) -> dict | None:
    """The ``manifest.json`` of a results folder, or None when there is none or it is unreadable."""
    try:
        data = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
