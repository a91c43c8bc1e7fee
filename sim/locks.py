"""One writer per output folder: a lock file beside it, ``<folder>.lock``, held while a run writes there.

A second run (or ensemble, comparison, sweep) into a folder that another process is writing is refused at
once with a ``FolderBusy`` naming that process; it does not wait. The lock is an ``fcntl.flock`` on the lock
file, so the kernel releases it when its holder exits, even by ``kill -9``: a stale lock file never blocks a
later run. The file is removed on release; a process that opened it just before is made to try again, so two
processes never hold locks on two different files of one name.

Within one process the lock is re-entrant: the command line takes it before a run, and ``save`` or
``run_ensemble`` taking it again for the same folder is a no-op.
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HELD: dict[Path, int] = {}           # folder -> how many times this process holds it


class FolderBusy(Exception):
    """Another process is writing the folder."""


def lock_path(folder: Path | str) -> Path:
    folder = Path(folder).resolve()
    return folder.with_name(folder.name + ".lock")


@contextmanager
def folder_lock(folder: Path | str) -> Iterator[Path]:
    """Hold ``<folder>.lock`` while the block runs; FolderBusy at once if another process holds it."""
    folder = Path(folder).resolve()
    if _HELD.get(folder):
        _HELD[folder] += 1
        try:
            yield folder
        finally:
            _HELD[folder] -= 1
        return
    fd = _acquire(folder)
    _HELD[folder] = 1
    try:
        yield folder
    finally:
        del _HELD[folder]
        _release(folder, fd)


def _acquire(folder: Path) -> int:
    path = lock_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise FolderBusy(f"{folder} is being written by another run{holder}; wait for it to finish, or "
                             f"write elsewhere with --out") from None
        except BaseException:
            os.close(fd)
            raise
        try:                                   # still the file at that path (not one its holder just removed)?
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _read(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (process {pid})" if pid.isdigit() else ""


def _release(folder: Path, fd: int) -> None:
    try:
        lock_path(folder).unlink(missing_ok=True)      # while still held: whoever opens it next sees it gone
    finally:
        os.close(fd)
