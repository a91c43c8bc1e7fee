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
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..results.tables import Results, headline_series
from ..scenario.schema import Scenario

FORMATS = ("parquet", "csv")


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


def json_safe(value):
    """JSON-safe: NaN and infinities as null, NumPy scalars as Python numbers."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _atomic(path: Path, write) -> Path:
    """Write a file through ``write(temporary path)`` and move it into place: never half-written."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_json(path: Path, data: dict) -> None:
    text = json.dumps(json_safe(data), indent=2, ensure_ascii=False) + "\n"
    _atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_table(frame: pd.DataFrame, stem: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write one table as ``stem.parquet`` and/or ``stem.csv``; dates as ISO dates."""
    out = frame.copy()
    if "date" in out:
        out["date"] = pd.to_datetime(out["date"]).dt.date
    paths = []
    if "parquet" in formats:
        paths.append(_atomic(stem.with_suffix(".parquet"), lambda p: out.to_parquet(p, index=False)))
    if "csv" in formats:
        paths.append(_atomic(stem.with_suffix(".csv"), lambda p: out.to_csv(p, index=False, float_format="%.9g")))
    return paths


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_folder(folder: Path) -> Iterator[Path]:
    """A fresh folder beside ``folder`` to write into, moved into place as ``folder`` when the block ends.

    If the block raises, the fresh folder is removed and ``folder`` is left as it was.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    os.chmod(work, 0o777 & ~_umask())          # mkdtemp makes it private; a results folder is not (shared disks)
    try:
        yield work
        _replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


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


def _replace(work: Path, folder: Path) -> None:
    """Move the finished folder into place; the old one is removed only after the new one is there."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        os.replace(folder, old)
    os.replace(work, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
