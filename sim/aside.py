"""Work done in a second process beside the main one: a run's plots drawn while its tables are written.

The child is a fork of this process, so it starts with the run's results already in memory (nothing is
pickled). Only where forking is safe and pays: Linux, more than one core, and a caller that knows the
process runs no threads of its own (the command line; not a notebook's kernel).
"""
from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MESSAGE_CHARS = 8_000       # a report under a pipe's buffer (64 KB on Linux): the child never waits on its parent


def can_fork() -> bool:
    """Forking a second process pays and is safe here: Linux, and more than one core to run it on."""
    return sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1


@contextmanager
def beside(task: Callable[[], object]) -> Iterator[None]:
    """Run ``task()`` in a forked child while the block runs here; wait for it when the block ends.

    The child's failure is raised here when the block ends: an OSError as itself (a full disk reads the
    same from either process), anything else as a RuntimeError that carries the child's traceback. If the
    block raises (or is interrupted), the child is stopped first."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                          # the child: run the task, report, and leave at once
        os.close(read)
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # a Ctrl-C ends it quietly; the parent reports it
            task()
        except BaseException as exc:                      # noqa: BLE001 - every failure goes to the parent
            code = 1
            if isinstance(exc, OSError) and exc.errno is not None:
                detail = f"{exc.errno}\0{exc.strerror}\0{exc.filename or ''}"
            else:
                detail = "\0" + traceback.format_exc()[-MESSAGE_CHARS:]
            os.write(write, detail.encode("utf-8", "replace"))
        finally:
            os._exit(code)                                # no atexit, no buffers flushed twice
    os.close(write)
    try:
        yield
    except BaseException:
        os.kill(pid, signal.SIGTERM)
        raise
    finally:
        _, status = os.waitpid(pid, 0)
        with os.fdopen(read, "rb") as pipe:
            detail = pipe.read().decode("utf-8", "replace")
    code = os.waitstatus_to_exitcode(status)
    if code == -signal.SIGINT:
        raise KeyboardInterrupt
    if code != 0:
        raise _failure(detail, code)


def _failure(detail: str, code: int) -> Exception:
    """The child's failure as an exception of this process."""
    errno, _, rest = detail.partition("\0")
    if errno:
        strerror, _, filename = rest.partition("\0")
        return OSError(int(errno), strerror, filename or None)
    if rest:
        return RuntimeError(f"the second process failed:\n{rest}")
    return RuntimeError(f"the second process ended with status {code}")
