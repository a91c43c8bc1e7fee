"""Where an ensemble's replications run: in this process, on a pool of local processes, or on a Dask cluster.

Each executor takes a ``task(r)`` that runs replication r and writes its files (a picklable, module-level
function with its arguments bound), and yields ``(r, None)`` for each one done, ``(r, error)`` for each one
that failed, as they finish. A replication whose worker process dies is retried once, alone. A pool of local
processes is given the task once, as each worker starts, and then only replication numbers: a task binds the
scenarios it runs (a sweep's every variant), and sending them with each replication would cost the pickling of
all of them, twice, each time. Where workers are forked (Linux) the task is not pickled at all, where they are
spawned (macOS, Windows) and on Dask it is: so it must pickle, though a forked pool does not find out.

Trust: a Dask client unpickles what the scheduler sends it, so a scheduler (or anyone who can pose as one
on the network) can run code in the process that connects. Point ``scheduler`` only at a cluster you
control. A ``tls://`` address connects with Dask's TLS security (``security_for``): the scheduler must
show a certificate signed by the given CA, and this client shows its own, so no other host can pose as it.
"""
from __future__ import annotations

import ctypes
import functools
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ..errors import EnsembleError
from .manifest import code_sha256

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import ProcessPoolExecutor

RETRIES = 1                      # a replication whose worker died (or, on Dask, that raised) is tried once more
# replications run where inputs are uncertain, unless told: here, where the command line reads them without
# importing what runs them (concurrent.futures comes with the first pool)
DEFAULT_REPLICATIONS = 20        # of a comparison or sweep (sim.experiments.paired)
EPISODE_REPLICATIONS = 20        # of a back-test episode (sim.backtest)
SCHEDULER_ADDRESS = re.compile(r"(tcp|tls|ws|wss|ucx)://[^/\s:]+(:\d+)?|(tcp|tls|ws|wss|ucx)://\[[0-9a-fA-F:]+\]:\d+")

Task = Callable[[int], int]
Outcomes = Iterator[tuple[int, str | None]]


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def in_process(task: Task, todo: list[int]) -> Outcomes:
    """One after another, here."""
    for r in todo:
        try:
            task(r)
        except Exception as exc:
            yield r, _error(exc)
        else:
            yield r, None


def on_processes(task: Task, todo: list[int], workers: int) -> Outcomes:
    """On a pool of ``workers`` processes. A worker that dies breaks the pool and every replication it
    held; those are retried once, each in a pool of its own, so one that kills its worker every time
    is found and reported, and the others are saved.

    Stopped early (Ctrl-C in this process, or the caller closing the generator), the pool's workers are
    ended at once and the queued replications dropped; workers whose parent dies (``kill -9``) end
    themselves within a second (``_worker_start``)."""
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    broken: list[int] = []
    pool = _pool(workers, task)
    try:
        futures = {pool.submit(_held_task, r): r for r in todo}
        for future in as_completed(futures):
            r = futures[future]
            try:
                future.result()
            except BrokenProcessPool:
                broken.append(r)
            except Exception as exc:
                yield r, _error(exc)
            else:
                yield r, None
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()
    for r in sorted(broken):
        alone = _pool(1, task)
        try:
            alone.submit(_held_task, r).result()
        except BrokenProcessPool:
            yield r, "its worker process died, twice (the second time running it alone)"
        except Exception as exc:
            yield r, _error(exc)
        except BaseException:
            _stop(alone)
            raise
        else:
            yield r, None
        alone.shutdown()


WATCH_SECONDS = 0.5                  # how often a worker looks whether its parent is still there


_held: Task | None = None           # in a pool's worker: the task its replications run, given as it started


def _pool(workers: int, task: Task) -> ProcessPoolExecutor:
    """Worker processes that each hold ``task``, to be sent replication numbers (``_held_task``)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, initializer=_worker_start, initargs=(task,))


def _held_task(r: int) -> int:
    return _held(r)


def _worker_start(task: Task) -> None:
    """In each worker: hold the pool's task; leave Ctrl-C to the parent (the terminal sends SIGINT to every
    process of the group; the parent stops the pool), and end this process once its parent is gone."""
    global _held
    _held = task
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reuse_freed_memory()
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True, name="watch-parent").start()


def _watch_parent(parent: int) -> None:
    """A dead parent's children are handed to another process (init or a subreaper): their parent id changes."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)                      # now, not after the replication: nobody will read it


def _stop(pool: ProcessPoolExecutor) -> None:
    """End a pool now: queued tasks cancelled, running ones killed (their half-written folders are removed
    by the next resume)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)


def locally(task: Task, todo: list[int], workers: int | None) -> Outcomes:
    """Here when one worker will do (one task, or ``workers=1``), else on a pool of ``workers`` local processes
    (default: all cores, never more than there are tasks), the engine's kernels compiled ahead on every core
    first where the cache lacks them (``sim.kernels.precompile``), not once in each worker."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    if workers == 1:
        return in_process(task, todo)
    from .. import kernels

    if not kernels.compiled():
        kernels.precompile()
    return on_processes(task, todo, workers)


TLS_CONFIG = ("distributed.comm.tls.ca-file", "distributed.comm.tls.client.cert", "distributed.comm.tls.client.key")
TRUST_WARNING = ("Dask unpickles what the scheduler sends: a scheduler you do not control (or a host posing as it) "
                 "can run code on this machine. Use only your own cluster; on a shared network, a tls:// "
                 "address with --tls-ca-file/--tls-cert/--tls-key")


def security_for(scheduler: str, ca_file: str | None = None, cert: str | None = None, key: str | None = None):
    """The ``distributed.security.Security`` to connect to ``scheduler`` with: for a ``tls://`` address, mutual
    TLS with the CA file, client certificate and key given, else those of Dask's configuration
    (``distributed.comm.tls.ca-file``, ``...client.cert``, ``...client.key``, e.g. from
    ``DASK_DISTRIBUTED__COMM__TLS__CA_FILE``); None for a plain address, which takes no TLS files.
    An EnsembleError says what is missing or does not go together."""
    given = {"--tls-ca-file": ca_file, "--tls-cert": cert, "--tls-key": key}
    if not scheduler.startswith("tls://"):
        named = [flag for flag, value in given.items() if value]
        if named:
            raise EnsembleError(f"{', '.join(named)} go{'es' if len(named) == 1 else ''} with a tls:// scheduler "
                                f"address, and {scheduler!r} is not one")
        return None
    import dask
    from distributed.security import Security

    ca_file, cert, key = (value or dask.config.get(name, None) for value, name in zip(given.values(), TLS_CONFIG))
    if not ca_file or not cert:
        raise EnsembleError(f"a tls:// scheduler needs the cluster's CA certificate and this client's certificate: "
                            f"give --tls-ca-file and --tls-cert (and --tls-key unless the key is in the certificate "
                            f"file), or set Dask's {TLS_CONFIG[0]} and {TLS_CONFIG[1]}")
    for what, path in (("CA file", ca_file), ("certificate", cert), ("key", key)):
        if path and not os.path.isfile(path):
            raise EnsembleError(f"TLS {what} {path!r} not found")
    return Security(require_encryption=True, tls_ca_file=ca_file, tls_client_cert=cert, tls_client_key=key)


def connect(scheduler: str, security=None):
    """A client of the Dask cluster at ``scheduler``, or an EnsembleError naming it. ``security`` (a
    ``distributed.security.Security``) defaults to ``security_for(scheduler)``: TLS from Dask's configuration
    for a ``tls://`` address. See the module's note on trust."""
    try:
        from distributed import Client
    except ImportError as exc:                   # a declared dependency; only a broken install lacks it
        raise EnsembleError(f"--scheduler needs dask.distributed ({exc}); pip install 'dask[distributed]'") from None
    if not SCHEDULER_ADDRESS.fullmatch(scheduler):     # Dask would wait a minute on 'localhost' before failing
        raise EnsembleError(f"--scheduler {scheduler!r} is not a scheduler address: expected tcp://HOST:PORT "
                            "(or tls://, ws://, wss://, ucx://), as 'dask scheduler' prints it")
    if security is None:
        security = security_for(scheduler)
    elif scheduler.startswith("tls://") and not getattr(security, "require_encryption", False):
        raise EnsembleError("a tls:// scheduler needs a Security with require_encryption=True and its TLS files")
    try:
        if security is None:
            return Client(scheduler, set_as_default=False)
        return Client(scheduler, security=security, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise EnsembleError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def same_code(code: str, task: Task, r: int) -> int:
    """``task(r)`` on a Dask worker, refused where the worker's sim sources differ from the client's."""
    if code_sha256() != code:
        raise EnsembleError(f"the worker runs other sim code (sources sha256 {code_sha256()[:12]}, the client's "
                            f"{code[:12]}): install the same sim on every worker")
    reuse_freed_memory()
    return task(r)


# glibc's mallopt parameters, and the values a replication runs well with: arrays of up to 4 MiB (a week's
# tagged stocks are ~140 kB) come from the heap, and up to 8 MiB freed at its top stay there for the next step
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES = 4 << 20, 8 << 20


@functools.cache
def reuse_freed_memory() -> bool:
    """Have this process's allocator (glibc) keep freed memory for reuse; once per process, True if done.

    A Dask nanny starts its worker with ``MALLOC_TRIM_THRESHOLD_=65536``, which also fixes glibc's mmap
    threshold at 128 kB: every array of 128 kB or more is then mapped from the system and handed back when
    freed, and a replication spends about 0.3 s a run (120,000 page faults) in the kernel, +45 % of its CPU.
    Elsewhere (macOS, Windows, musl) there is nothing to do."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, TypeError, AttributeError):      # no C library by that name, or none that has mallopt
        return False
    return all([mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)])


def on_dask(client, task: Task, todo: list[int], code: str, name: str, written: Callable[[int], bool],
            folder: object) -> Outcomes:
    """Run on the cluster: the scheduler reruns a task whose worker died (``distributed.scheduler.
    allowed-failures`` times) and ``retries`` reruns one that raised; the rest is as for local processes.
    ``code`` is the client's ``code_sha256()``; ``written(r)`` says whether replication r's files reached
    ``folder``, which every worker must see at the same path."""
    from distributed import as_completed as completed

    token = uuid.uuid4().hex[:8]
    futures = {client.submit(same_code, code, task, r, retries=RETRIES, pure=False,
                             key=f"{name}-r{r:05d}-{token}"): r for r in todo}
    try:
        for future in completed(futures, loop=client.loop):
            r = futures[future]
            try:
                future.result()
            except Exception as exc:           # its own error, or KilledWorker once its workers died too often
                yield r, _error(exc)
            else:
                if not written(r):
                    yield r, (f"ran on {client.scheduler.address}, but its files are not in {folder}: the "
                              "cluster's workers must write to the same folder (a shared disk, at the same path)")
                else:
                    yield r, None
    finally:
        client.cancel(list(futures))
