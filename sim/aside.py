"""Work done in a second process beside the main one, on the command line's way to its results folder.

``beside``: a run's plots drawn while its tables are written. The child is a fork of this process, so it
starts with the run's results already in memory (nothing is pickled).

``ahead``: a process started before the run, which loads the libraries of writing (pandas, matplotlib)
while this one loads the engine and runs it, then takes the results (pickled, their arrays sent as they lie
in memory) and writes the folder.

Only where forking is safe and pays: Linux, more than one core, and a caller that knows the process runs no
threads of its own (the command line; not a notebook's kernel). A second process never outlives the one
that started it, and its failure is this one's: an OSError as itself (a full disk reads the same from
either process), a process that ended without a word as a ChildProcessError, anything else as a
RuntimeError that carries the child's traceback; a Ctrl-C, which reaches both, as a KeyboardInterrupt.
"""
from __future__ import annotations

import fcntl
import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MESSAGE_CHARS = 8_000       # a report under a pipe's buffer (64 KB on Linux): the child never waits on its parent
PIPE_BYTES = 1 << 20        # the largest pipe Linux grants by default: tens of MB of results in fewer turns
PR_SET_PDEATHSIG = 1        # prctl(2): the signal a process gets when its parent ends
SIZE = struct.Struct("<Q")


def can_fork() -> bool:
    """Forking a second process pays and is safe here: Linux, and more than one core to run it on."""
    return sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1


@contextmanager
def beside(task: Callable[[], object]) -> Iterator[None]:
    """Run ``task()`` in a forked child while the block runs here; wait for it when the block ends.

    The child's failure is raised here when the block ends (see the module's note). If the block raises
    (or is interrupted), the child is stopped first."""
    read, write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:                                          # the child: run the task, report, and leave at once
        os.close(read)
        _child(parent, write, task)
    os.close(write)
    try:
        yield
    except BaseException:
        os.kill(pid, signal.SIGTERM)
        raise
    finally:
        status = _ended(pid, read)
    _raise_failure(*status)


class Ahead:
    """A forked process that has loaded what its task needs and waits for it (``ahead``)."""

    def __init__(self, pid: int, tasks: int, reports: int):
        self._pid: int | None = pid
        self._tasks: int | None = tasks
        self._reports = reports

    def do(self, task: Callable[..., object], *args: object) -> None:
        """Run ``task(*args)`` there, and wait for it to end; its failure is raised here.

        ``task`` is pickled by name (a module's function); ``args`` with pickle's protocol 5, NumPy arrays
        sent from their memory into the other's without a copy in between."""
        if self._pid is None or self._tasks is None:
            raise RuntimeError("the second process has no task to take any more")
        buffers: list[pickle.PickleBuffer] = []
        head = pickle.dumps((task, args), protocol=5, buffer_callback=buffers.append)
        try:
            _send(self._tasks, [memoryview(head)] + [b.raw() for b in buffers])
        except BrokenPipeError:                 # it ended before taking the task: how it ended says why
            pass
        finally:
            self._close_tasks()
        ended = _ended(self._pid, self._reports)
        self._pid = None
        _raise_failure(*ended)

    def stop(self) -> None:
        """End it at once, its task undone or cut short (a run that failed, or that needs no writing)."""
        self._close_tasks()
        if self._pid is None:
            return
        pid, self._pid = self._pid, None
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:              # reaped already, by ``do`` interrupted as it finished
            return
        _ended(pid, self._reports)

    def _close_tasks(self) -> None:
        if self._tasks is not None:
            os.close(self._tasks)
            self._tasks = None


@contextmanager
def ahead(prepare: Callable[[], object]) -> Iterator[Ahead]:
    """A forked process that runs ``prepare()`` at once (its imports), then the one task handed to it with
    ``Ahead.do``; stopped when the block ends without handing it one, or raises.

    ``prepare`` is a head start only: what it fails to do (a library that does not import) the task does
    again, and fails there."""
    tasks_read, tasks = os.pipe()
    reports, reports_write = os.pipe()
    try:
        fcntl.fcntl(tasks, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:                             # a smaller limit set for this machine: the default pipe does
        pass
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(tasks)
        os.close(reports)
        _child(parent, reports_write, lambda: _serve(prepare, tasks_read))
    os.close(tasks_read)
    os.close(reports_write)
    helper = Ahead(pid, tasks, reports)
    try:
        yield helper
    finally:
        helper.stop()


def _serve(prepare: Callable[[], object], tasks: int) -> None:
    """The process ahead: prepare, then take the task and do it (none, when its parent closed the pipe)."""
    try:
        prepare()
    except Exception:                           # noqa: BLE001 - a head start only: the task meets it again
        pass
    received = _receive(tasks)
    if received is not None:
        task, args = received
        task(*args)


def _child(parent: int, report: int, task: Callable[[], object]) -> None:
    """In a forked child: run ``task()``, write its failure to ``report``, and leave at once."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)      # a Ctrl-C ends it quietly; the parent reports it
        _end_with(parent)
        task()
    except BaseException as exc:                          # noqa: BLE001 - every failure goes to the parent
        code = 1
        if isinstance(exc, OSError) and exc.errno is not None:
            detail = f"{exc.errno}\0{exc.strerror}\0{exc.filename or ''}"
        else:
            detail = "\0" + traceback.format_exc()[-MESSAGE_CHARS:]
        os.write(report, detail.encode("utf-8", "replace"))
    finally:
        os._exit(code)                                    # no atexit, no buffers flushed twice


def _end_with(parent: int) -> None:
    """Have the kernel end this process when ``parent`` ends, even by ``kill -9`` (Linux's prctl)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:                  # it ended before the request was made
        os._exit(1)


def _ended(pid: int, report: int) -> tuple[int, str]:
    """Wait for the child ``pid`` to end; its exit code and what it reported."""
    _, status = os.waitpid(pid, 0)
    with os.fdopen(report, "rb") as pipe:
        detail = pipe.read().decode("utf-8", "replace")
    return os.waitstatus_to_exitcode(status), detail


def _raise_failure(code: int, detail: str) -> None:
    """The child's failure as an exception of this process (see the module's note); nothing when it did well."""
    if code == 0:
        return
    if code == -signal.SIGINT:
        raise KeyboardInterrupt
    errno, _, rest = detail.partition("\0")
    if errno:
        strerror, _, filename = rest.partition("\0")
        raise OSError(int(errno), strerror, filename or None)
    if rest:
        raise RuntimeError(f"the second process failed:\n{rest}")
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"ended with status {code}"
    raise ChildProcessError(f"the second process {how}")


def _send(pipe: int, views: list[memoryview]) -> None:
    """Their sizes, then the bytes of each view, in full."""
    _write(pipe, memoryview(SIZE.pack(len(views)) + b"".join(SIZE.pack(v.nbytes) for v in views)))
    for view in views:
        _write(pipe, view.cast("B"))


def _write(pipe: int, view: memoryview) -> None:
    while view:
        view = view[os.write(pipe, view):]


def _receive(pipe: int) -> tuple[Callable[..., object], tuple] | None:
    """What ``_send`` sent, unpickled (its arrays over the bytes received); None when nothing was."""
    count = _read(pipe, SIZE.size, at_start=True)
    if count is None:
        return None
    (n,) = SIZE.unpack(count)
    sizes = struct.unpack(f"<{n}Q", _read(pipe, SIZE.size * n))
    head, *buffers = (_read(pipe, size) for size in sizes)
    return pickle.loads(head, buffers=buffers)


def _read(pipe: int, size: int, at_start: bool = False) -> bytearray | None:
    """``size`` bytes; None at once if the pipe is closed ``at_start``."""
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        n = os.readv(pipe, [view[got:]])
        if n == 0:
            if at_start and got == 0:
                return None
            raise EOFError(f"the task was cut short after {got} of {size} bytes")
        got += n
    return data
