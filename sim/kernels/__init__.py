"""Compiled kernels: the arithmetic of the weekly step over plain arrays, one call for a part's whole work.

Each module is named after what its kernels do (``sums``: NumPy's order of addition; ``tagged``: taking
and adding tagged mass). Kernels take and return NumPy arrays only (no State, no Network, no SimPy), so the
engine's parts stay functions of the state that hand arrays in and book what comes back. They do the
arithmetic of the NumPy code they replace in the same order, so results stay those of the engine before
them: where NumPy adds pairwise, ``sums.pairwise_sum`` does too.

Every kernel is ``@kernel``: Numba's ``njit``, compiled on first use and cached on disk, in ``__pycache__`` next to
this package's modules (``*.nbi`` index, ``*.nbc`` code), or under ``NUMBA_CACHE_DIR`` when that is set (a
read-only install falls back to Numba's user-wide cache, ``~/.cache/numba``). A machine, or a Dask worker
with its own disk, compiles once. Numba keys a kernel's cache on its own file only, so a kernel compiled into
its callers (``sums.pairwise_sum``, ``tagged.take_share`` ...) would, once edited, leave them running its old
code from their cache (an update pulled into a checkout would too). So each kernel's cache is also keyed on a
digest of every kernel file as this process read them (``package_digest``): any change to a kernel compiles
them all anew, once, and a process that read other files (one started before an update) never hands its
kernels to the others. ``NUMBA_DISABLE_JIT=1`` runs the same functions as plain Python (slowly), for a
debugger.

Where a C compiler is found, the kernels that ``signatures.txt`` lists are also compiled ahead into libraries
of this machine's (``ahead``), which a process loads in milliseconds where Numba's cache takes 0.4 s; each
kernel calls them for the listed types, and Numba compiles (or loads from its cache) any other.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType


@contextlib.contextmanager
def ctrl_c_stays_ctrl_c() -> Iterator[None]:
    """Let a Ctrl-C that lands inside compiled code leave as the ``KeyboardInterrupt`` it is.

    Two ways it could be lost while a cached kernel loads on its first call. Numba unpickles it from Python
    code its C code runs: a SIGINT there comes out as a ``SystemError`` ("returned a result with an
    exception set") whose cause is the ``KeyboardInterrupt``. And llvmlite tells Python of the loaded code
    through a ctypes callback: a ``KeyboardInterrupt`` raised in a callback is printed ("Exception ignored
    on calling ctypes callback function") and dropped, so the run went on to the end and exited 0 (2 of 40
    Ctrl-Cs in the first second of a loaded machine's run). Inside the block, a Ctrl-C is also noted where
    no callback can drop it, and ``ctrl_c_pending`` (checked by every step) or the block's end raises it;
    the "Exception ignored" report of a dropped one is not printed.
    """
    noted, hook = _note_ctrl_c(), sys.unraisablehook
    if noted is not None:
        sys.unraisablehook = functools.partial(_not_a_dropped_ctrl_c, hook)
    try:
        yield
        ctrl_c_pending()
    except Exception as exc:
        if _caused_by_ctrl_c(exc):
            raise KeyboardInterrupt from exc
        raise
    finally:
        if noted is not None:
            signal.signal(signal.SIGINT, noted)
            sys.unraisablehook = hook
            _pressed.clear()


_pressed: list[bool] = []        # a Ctrl-C came inside ``ctrl_c_stays_ctrl_c`` and was not raised yet


def ctrl_c_pending() -> None:
    """Raise the ``KeyboardInterrupt`` of a Ctrl-C that came inside ``ctrl_c_stays_ctrl_c`` and that a
    callback from compiled code dropped."""
    if _pressed:
        _pressed.clear()
        raise KeyboardInterrupt


def _not_a_dropped_ctrl_c(hook: Callable[[object], object], unraisable: object) -> None:
    """Report what a callback dropped (``sys.unraisablehook``), but a Ctrl-C that will be raised again: the
    command line's one line says it was interrupted, without ctypes' "Exception ignored" above it."""
    if not (_pressed and isinstance(getattr(unraisable, "exc_value", None), KeyboardInterrupt)):
        hook(unraisable)


def _note_ctrl_c() -> object | None:
    """Have a Ctrl-C noted as well as raised, where Python's own handler is in place (in the main thread;
    not where a caller set one of its own); returns the handler to put back, or None."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None

    def ctrl_c(signum: int, frame: object) -> None:
        _pressed.append(True)
        raise KeyboardInterrupt

    return signal.signal(signal.SIGINT, ctrl_c)


def _caused_by_ctrl_c(exc: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def lazy(name: str) -> ModuleType:
    """The kernel module ``name`` (``records``, ...), loaded at the first use of one of its kernels: what names
    its kernels through it can be imported, and its objects unpickled, without loading Numba (the command's
    writer, ``sim.experiments.saving``). Once loaded, its kernels are read as a module's attributes."""
    import importlib.util

    full = f"{__name__}.{name}"
    if full in sys.modules:
        return sys.modules[full]
    spec = importlib.util.find_spec(full)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    spec.loader.exec_module(module)
    return module


def kernel(function: Callable) -> Callable:
    """A kernel: ``function`` compiled by Numba on first use and cached on disk (see the module's note).
    A division by zero gives inf or NaN, as NumPy's does, where Numba's default checks every divisor to raise
    ZeroDivisionError: the kernels guard their divisors, so the check only cost time (a Japan ban run a few
    per cent, the same bits)."""
    from numba import njit

    array_math_without_scipy()
    compiled = njit(cache=True, error_model="numpy")(function)
    # Numba's cache index: none when Numba is off. Its stamp (the file's time and size) is what a cached kernel
    # must match to be loaded, and what a kernel compiled here is saved with.
    index = getattr(getattr(compiled, "_cache", None), "_cache_file", None)
    if hasattr(index, "_source_stamp"):
        index._source_stamp = (index._source_stamp, package_digest())
        from . import ahead

        ahead.serve(compiled, f"{function.__module__.rsplit('.', 1)[1]}.{function.__name__}")
    return compiled


@functools.cache
def array_math_without_scipy() -> None:
    """Import Numba's array math, which every kernel's first load imports, without SciPy's linear algebra.

    ``numba.np.arraymath`` imports ``scipy.linalg`` as it is imported, only to choose how ``np.cov`` and
    ``np.corrcoef`` take their inner products (by BLAS, or by a loop). No kernel calls them, and importing
    ``scipy.linalg`` took 0.15 s of the command's 2.3 s. Here that one import is held back (``None`` in
    ``sys.modules`` while array math is imported), so array math takes its loops; ``np.dot`` and Numba's
    linear algebra still import SciPy when compiled code first uses them. Where SciPy's linear algebra is
    loaded already, there is nothing to gain, and nothing is held back."""
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    held = "scipy.linalg.cython_blas"
    sys.modules[held] = None
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if held in sys.modules and sys.modules[held] is None:
            del sys.modules[held]


@functools.cache
def package_digest() -> str:
    """SHA-256 of every kernel file of this package (names and contents, in name order), as this process first
    read them."""
    digest = hashlib.sha256()
    for file in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def compiled() -> bool:
    """Whether this machine's cache holds the kernels for their current source, so a run starts at once;
    False when the next run compiles them first (about a minute on 2 cores).

    A kernel file counts as compiled when one of its kernels is in the cache for the kernel files as they are
    (a kernel used only inside others is cached when they are compiled: any change to a kernel file compiles
    them all). True when Numba is off (``NUMBA_DISABLE_JIT=1``) or its cache cannot be read: nothing to say
    then. True as well where the listed kernels are compiled ahead (``ahead``).
    """
    import importlib
    import pkgutil

    from numba.core.dispatcher import Dispatcher

    from . import ahead

    try:
        if ahead.state() == "built":
            return True
        for info in pkgutil.iter_modules(__path__):
            module = importlib.import_module(f"{__name__}.{info.name}")
            kernels = [k for k in vars(module).values()
                       if isinstance(k, Dispatcher) and k.__module__ == module.__name__]
            if kernels and not any(k._cache._cache_file._load_index() for k in kernels):
                return False
    except (AttributeError, OSError):           # a Numba whose cache is laid out otherwise: say nothing
        return True
    return True


# The kernels the shipped scenarios call from the engine, each with the types it is called with and the seconds
# it took to compile first on 2 cores (callees included): ``tools/kernel_signatures.py record`` writes it,
# ``check`` (and a test) says whether it still names what the runs call.
SIGNATURES = Path(__file__).with_name("signatures.txt")


@dataclass(frozen=True)
class Signature:
    """One line of ``signatures.txt``: a kernel (``module.name`` under this package), the Numba types of its
    arguments as ``repr`` writes them, and the seconds its first compilation took."""

    kernel: str
    types: str
    seconds: float

    def line(self) -> str:
        return f"{self.seconds:.2f}\t{self.kernel}\t{self.types}"

    def compile(self) -> None:
        """Compile the kernel for these types (or load it from the cache), as its first call would."""
        import importlib

        module, name = self.kernel.rsplit(".", 1)
        getattr(importlib.import_module(f"{__name__}.{module}"), name).compile(numba_types(self.types))


def numba_types(written: str) -> tuple:
    """The Numba types of a kernel's arguments from their ``repr`` (``Array(float64, 2, 'C', False, ...)``)."""
    from numba.core import types

    return eval(written, {"__builtins__": {}}, dict(vars(types)))  # noqa: S307 - our own list's text


def signatures(file: Path = SIGNATURES) -> list[Signature]:
    """The kernels and types ``file`` lists (none if it is missing)."""
    if not file.is_file():
        return []
    listed = []
    for line in file.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            seconds, kernel, types = line.split("\t")
            listed.append(Signature(kernel, types, float(seconds)))
    return listed


def shares(listed: list[Signature], processes: int) -> list[list[Signature]]:
    """``listed`` split into ``processes`` shares of about equal compile time, the longest first in each."""
    split: list[list[Signature]] = [[] for _ in range(processes)]
    load = [0.0] * processes
    for signature in sorted(listed, key=lambda s: (-s.seconds, s.kernel)):
        least = load.index(min(load))
        split[least].append(signature)
        load[least] += signature.seconds
    return split


def precompile(processes: int | None = None, file: Path = SIGNATURES) -> None:
    """Compile the kernels the shipped scenarios call (``file``, by default ``signatures.txt``) into this
    machine's cache, split over ``processes`` working at once (default: the cores, up to 4): on 2 cores about
    ×0.57 of the time a run takes to compile them one by one as it first calls them. What the cache holds
    already is only loaded; a kernel a run calls that the list lacks (new code, or types of its own) still
    compiles at its first call. Nothing with Numba off (``NUMBA_DISABLE_JIT=1``). The processes stop if this
    one ends first.

    Where a C compiler is found, this package's list is compiled ahead instead (``ahead.build``, in
    ``processes`` parts, even one), which later runs load in milliseconds. Numba's cache is filled as above
    where that fails, or for another list (``ahead`` serves the kernels this package's), with two processes or
    more."""
    import os

    from . import ahead

    processes = processes or min(4, os.cpu_count() or 1)
    if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"):
        return
    if (Path(file) == SIGNATURES and ahead.build(processes)) or processes < 2:
        return
    share = "import sys; from sim.kernels import compile_share; compile_share(sys.argv[1], *map(int, sys.argv[2:]))"
    parent = str(os.getpid())
    side_by_side([[sys.executable, "-c", share, str(file), parent, str(part), str(processes)]
                  for part in range(processes)])


def side_by_side(commands: list[list[str]], capture: bool = False) -> list[tuple[int, str]]:
    """Run ``commands`` as processes at once, each in a session of its own (a Ctrl-C here ends them, not with
    their tracebacks), and wait for them all; stopped if this process stops waiting (interrupted). Their exit
    codes and, with ``capture``, the end of what each printed."""
    import subprocess

    started = [subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                                stderr=subprocess.STDOUT if capture else subprocess.DEVNULL, start_new_session=True)
               for command in commands]
    ended = []
    try:
        for process in started:
            said, _ = process.communicate()
            ended.append((process.returncode, (said or b"").decode(errors="replace")[-4000:]))
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            process.wait()
    return ended


def compile_share(file: str, parent: int, part: int, processes: int) -> None:
    """``precompile``'s process ``part`` of ``processes``: compile its share of the list, one kernel after
    another, until done or until ``parent`` has gone (a killed command leaves no compiler running long). A line
    the kernels no longer match (their code changed since the list was written) is left to the runs."""
    import os

    for signature in shares(signatures(Path(file)), processes)[part]:
        if os.getppid() != parent:
            return
        try:
            signature.compile()
        except Exception:                     # noqa: BLE001 - stale line: the run compiles what it calls
            continue
