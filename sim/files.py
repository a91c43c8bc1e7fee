"""Files written whole or not at all: a file through a temporary file beside it, a folder through a fresh one.

A failed or interrupted write never leaves a half-written file or a partial
folder; an earlier complete one stays until it is replaced.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from .locks import folder_lock

FORMATS = ("parquet", "csv")


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


def atomic_write(path: Path, write) -> Path:
    """Write a file through ``write(temporary path)`` and move it into place: never half-written.

    The temporary name is this write's own (process id and a random part), so two writers never share one."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_json(path: Path, data: dict) -> None:
    text = json.dumps(json_safe(data), indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_table(frame: pd.DataFrame, stem: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write one table as ``stem.parquet`` and/or ``stem.csv``; dates as ISO dates."""
    out = frame.copy()
    if "date" in out:
        out["date"] = pd.to_datetime(out["date"]).dt.date
    paths = []
    if "parquet" in formats:
        paths.append(atomic_write(stem.with_suffix(".parquet"), lambda p: out.to_parquet(p, index=False)))
    if "csv" in formats:
        paths.append(atomic_write(stem.with_suffix(".csv"), lambda p: out.to_csv(p, index=False, float_format="%.9g")))
    return paths


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_folder(folder: Path, lock: bool = True) -> Iterator[Path]:
    """A fresh folder beside ``folder`` to write into, moved into place as ``folder`` when the block ends.

    If the block raises, the fresh folder is removed and ``folder`` is left as it was. With ``lock`` (the
    default) ``folder`` is locked meanwhile (``sim.locks``): a FolderBusy if another process is writing it.
    An ensemble's replication folders are written without: the ensemble's folder is locked around them.
    """
    folder = Path(folder)
    if lock:
        with folder_lock(folder), atomic_folder(folder, lock=False) as work:
            yield work
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    os.chmod(work, 0o777 & ~_umask())          # mkdtemp makes it private; a results folder is not (shared disks)
    try:
        yield work
        _replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _replace(work: Path, folder: Path) -> None:
    """Move the finished folder into place; the old one is removed only after the new one is there."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        os.replace(folder, old)
    os.replace(work, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
