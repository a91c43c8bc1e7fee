"""Files written whole or not at all: a file through a temporary file beside it, a folder through a fresh one.

A failed or interrupted write never leaves a half-written file or a partial
folder; an earlier complete one stays until it is replaced. A folder is only
ever replaced by one of its kind: ``check_output`` refuses a file, and a folder
that holds anything but results of that kind (told by its ``manifest.json``),
and checks the place can be written before a long run, not after it.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import OutputError
from .locks import folder_lock

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

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
    """Write one table as ``stem.parquet`` and/or ``stem.csv``; dates as ISO dates, floats in the CSV to
    ``CSV_FLOAT``'s nine significant figures (NaN empty)."""
    import pandas as pd

    out = frame.copy()
    if "date" in out:
        out["date"] = pd.to_datetime(out["date"]).dt.date
    paths = []
    if "parquet" in formats:
        paths.append(atomic_write(stem.with_suffix(".parquet"), lambda p: out.to_parquet(p, index=False)))
    if "csv" in formats:
        paths.append(atomic_write(stem.with_suffix(".csv"), lambda p: write_csv(out, p)))
    return paths


CSV_FLOAT = "%.9g"
CSV_ROWS = 50_000            # rows of a table made into text at a time: a table's text is not held whole


def csv_floats(values: np.ndarray) -> list[str]:
    """Floats as a CSV holds them: ``CSV_FLOAT``, NaN as an empty field; what ``to_csv(float_format=CSV_FLOAT)``
    writes, made in one pass (pandas formats value by value through three calls each, ten times slower)."""
    return [CSV_FLOAT % v if v == v else "" for v in values.tolist()]


def with_csv_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each float column as ``csv_floats`` writes it (by position: names may repeat)."""
    out = frame.copy()
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if column.dtype.kind == "f":
            out.isetitem(i, csv_floats(column.to_numpy()))
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as ``csv_text`` makes it, ``CSV_ROWS`` rows at a time."""
    with open(path, "w", encoding="utf-8", newline="") as file:
        for text in _csv_parts(frame):
            file.write(text)


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as ``with_csv_floats(frame).to_csv(index=False)`` writes it, byte for byte. A table of two or
    more columns named by text, of floats, whole numbers, booleans, and text, dates and nothing (an empty field),
    is made column by column, each distinct text quoted once, in two thirds of pandas' time; pandas writes any other
    (times of day, categories, NumPy scalars in a column of objects, names that are not text)."""
    return "".join(_csv_parts(frame))


# what a column of objects may hold to be written column by column: what str() writes as pandas does, or nothing
_CSV_OBJECTS = frozenset({str, int, bool, float, dt.date, type(None)})


def _csv_parts(frame: pd.DataFrame):
    """``csv_text``'s text: its header, then ``CSV_ROWS`` rows at a time."""
    import pandas as pd

    if not _by_columns(frame):
        yield with_csv_floats(frame).to_csv(index=False)
        return
    field, end = CsvField(), os.linesep                 # pandas' line ending
    yield ",".join(map(field, frame.columns)) + end
    for first in range(0, len(frame), CSV_ROWS):
        columns = []
        for i in range(frame.shape[1]):
            column = frame.iloc[first:first + CSV_ROWS, i]
            kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else "O"
            if kind == "f":
                columns.append(csv_floats(column.to_numpy()))
            elif kind in "iub":
                columns.append(list(map(str, column.to_numpy().tolist())))
            else:
                columns.append(["" if value is None or value is pd.NA or value is pd.NaT or value != value
                                else field(value) if type(value) is str else str(value)
                                for value in column.to_numpy(dtype=object).tolist()])
        yield "".join(",".join(row) + end for row in zip(*columns))


def _by_columns(frame: pd.DataFrame) -> bool:
    """Whether ``csv_text`` makes ``frame``'s text column by column (else pandas writes it)."""
    import pandas as pd

    if frame.shape[1] < 2 or frame.columns.nlevels > 1 or any(type(name) is not str for name in frame.columns):
        return False                 # a lone empty field is quoted; pandas formats names that are not text its way
    nothing = {type(pd.NA), type(pd.NaT)}
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            continue
        if not ((isinstance(dtype, np.dtype) and dtype.kind == "O") or isinstance(dtype, pd.StringDtype)):
            return False
        if not set(map(type, column.to_numpy(dtype=object).tolist())) <= _CSV_OBJECTS | nothing:
            return False
    return True


class CsvField:
    """A text as a CSV field, quoted where Python's csv module quotes it, which pandas writes with (a comma, a
    quote, the line ending: rules that have changed between Python's versions); each text asked once."""

    def __init__(self):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator=os.linesep)
        self._fields: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        field = self._fields.get(text)
        if field is None:
            self._buffer.seek(0)
            self._buffer.truncate()
            self._writer.writerow((text, ""))       # and an empty field: a lone empty field is quoted
            field = self._fields[text] = self._buffer.getvalue()[:-1 - len(os.linesep)]
        return field


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


MAX_NAME_BYTES = 230   # 255 on the usual file systems (ext4, APFS, NTFS), less room for the temporary names beside it
KINDS = ("run", "ensemble", "replication", "compare", "sweep", "sizing", "sensitivity", "backtest")
# folders of results without a manifest, told by holding only these files (and plots): the golden reference
# (results/baseline/: a run's summary and monthly series) and back-test scorecards written before they had one
WITHOUT_MANIFEST = {"run": ("summary.json", "monthly.csv"), "backtest": ("scorecard.csv", "replications.csv")}


def folder_kind(folder: Path) -> str | None:
    """The kind of results a folder holds (one of KINDS), from its manifest.json; None when it holds none.

    Manifests name their kind; those written before they did are told by their keys (``command`` of a
    comparison or sweep, ``tables`` of a run); folders without one by their files (WITHOUT_MANIFEST)."""
    folder = Path(folder)
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if isinstance(data, dict):
        kind = data.get("kind") or data.get("command") or ("run" if "tables" in data else None)
        return kind if kind in KINDS else None
    try:
        names = {p.name for p in folder.iterdir()}
    except OSError:
        return None
    for kind, files in WITHOUT_MANIFEST.items():
        if files[0] in names and all(n in files or n.endswith(".png") for n in names):
            return kind
    return None


def _holds_other(folder: Path, kind: str) -> bool:
    """True when ``folder`` is a file, or a folder with something in it that is not results of ``kind``."""
    if not folder.is_dir():
        return True
    return any(folder.iterdir()) and folder_kind(folder) != kind


def check_output(folder: Path | str, kind: str) -> Path:
    """Refuse, with one line (OutputError), an output folder a run of ``kind`` must not or cannot write.

    Refused: a file (never replaced), a folder holding anything but results of ``kind`` (an empty one
    is fine), a name too long for a file system, and a place that cannot be written: a folder is made
    and removed there (in the nearest existing folder above, and in ``folder`` itself when it exists),
    so a read-only disk or a parent that is a file is found before a long run, not after it."""
    folder = Path(folder)
    if folder.is_symlink():    # replacing the folder would replace the link, not what it points to
        target = f"{os.readlink(folder)}{'' if folder.exists() else ', which does not exist'}"
        raise OutputError(f"{folder} is a symbolic link (to {target}): refusing to replace it; give the folder itself")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a results folder: refusing to replace it; give a folder")
    if folder.is_dir() and _holds_other(folder, kind):
        raise OutputError(f"{folder} holds something other than {kind} results (no manifest.json of a {kind}): "
                          f"refusing to replace it; remove it or give another folder")
    if len(folder.name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise OutputError(f"cannot write {folder}: its name is longer than {MAX_NAME_BYTES} bytes")
    check_writable(folder)
    return folder


def check_writable(folder: Path | str) -> None:
    """OutputError unless ``folder`` could be made, or written in when it exists: a folder is made and
    removed in the nearest existing folder above it (and in it), so nothing is left either way."""
    folder = Path(folder)
    above = folder.parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise OutputError(f"cannot write {folder}: {above} is a file, not a folder")
    for place in (above, folder) if folder.is_dir() else (above,):
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".probe-", dir=place))
        except OSError as exc:
            raise OutputError(f"cannot write {folder}: {describe_os_error(exc)}") from None


def describe_os_error(exc: OSError) -> str:
    """An OSError in one line: its reason and the file it concerns."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason} ({exc.filename})" if exc.filename else reason


def write_failure(folder: Path | str, exc: OSError) -> str:
    """The one line a command prints when writing its output failed."""
    if isinstance(exc, OutputError):
        return str(exc)
    return f"cannot write {folder}: {describe_os_error(exc)}; nothing written"


@contextmanager
def atomic_folder(folder: Path, kind: str, lock: bool = True) -> Iterator[Path]:
    """A fresh folder beside ``folder`` to write into, moved into place as ``folder`` when the block ends.

    If the block raises, the fresh folder is removed and ``folder`` is left as it was. ``folder`` is
    replaced only when it holds results of ``kind`` (``check_output``, also checked before it starts).
    With ``lock`` (the default) ``folder`` is locked meanwhile (``sim.locks``): a FolderBusy if another
    process is writing it. An ensemble's replication folders are written without: the ensemble's folder
    is locked around them.
    """
    if lock:
        with folder_lock(Path(folder)), atomic_folder(folder, kind, lock=False) as work:
            yield work
        return
    folder = check_output(folder, kind)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    os.chmod(work, 0o777 & ~_umask())          # mkdtemp makes it private; a results folder is not (shared disks)
    try:
        yield work
        _replace(work, folder, kind)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _replace(work: Path, folder: Path, kind: str) -> None:
    """Move the finished folder into place; the old one is removed only after the new one is there,
    and put back if the new one cannot be."""
    old = None
    if folder.exists() or folder.is_symlink():
        if _holds_other(folder, kind):     # checked again: something may have come there during the run
            check_output(folder, kind)
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        os.replace(folder, old)
    try:
        os.replace(work, folder)
    except BaseException:
        if old is not None:
            os.replace(old, folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
