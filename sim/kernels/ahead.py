"""The kernels compiled ahead: every kernel ``signatures.txt`` lists, for the types it lists, built into C
extensions of this machine's, which load in milliseconds where Numba's cache takes 0.4 s to load a run's.

Numba's cache keeps each kernel's machine code apart, with LLVM bitcode of every kernel it calls, which a process
parses and links at the kernel's first call: 0.4 s of the 2 s of ``python -m sim scenarios/japan_ban.yaml``, and
of every worker of an ensemble. Numba's ahead-of-time compiler (``numba.pycc``) writes the same kernels as shared
libraries that the system maps at once. ``build`` makes them (``precompile`` calls it, on a new machine or after
a change to a kernel), in parts side by side, into the folder Numba caches the kernels in, named by a digest of
what decides their code: the kernel files, the list, Numba, NumPy, Python and this CPU. ``serve`` hands a
kernel, as it is made (``kernel``), the compiled functions of its listed types: Numba's dispatcher calls them
for those types, and compiles any other types as before. Without a C compiler (or with
``SIM_COMPILED_AHEAD=0``) the kernels run from Numba's cache, as they did.

They are built as Numba builds them for this process: for this CPU's name and features, and a division by
zero gives inf or NaN (``error_model="numpy"``): the same bits (``tools/compare_engines.py``). One change to
the C that Numba links into such a library: a constant it unpickled at each call (the array type every array
returned is boxed as: 0.6 us a call) is unpickled once, as Numba's own runtime does.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import SIGNATURES, Signature, numba_types, package_digest, side_by_side, signatures

SWITCH = "SIM_COMPILED_AHEAD"          # "0": run every kernel from Numba's cache
PREFIX = "ahead_"
# Numba's settings (``NUMBA_OPT``, ...) that change the code it generates
SETTINGS = ("OPT", "USING_SVML", "BOUNDSCHECK", "LOOP_VECTORIZE", "SLP_VECTORIZE", "DEBUGINFO_DEFAULT")
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"

# Numba's mixin (numba/pycc/modulemixin.c), whose numba_unpickle unpickles its constant at every call, with the
# one kept by the constant's address (the objects live as long as the library)
KEPT_CONSTANTS_C = r"""
#define numba_unpickle numba_unpickle_every_time
#include "{mixin}"
#undef numba_unpickle

static PyObject *kept_constants = NULL;

NUMBA_EXPORT_FUNC(PyObject *)
numba_unpickle(const char *data, int n, const char *hashed)
{{
    PyObject *key, *obj;
    if (kept_constants == NULL && (kept_constants = PyDict_New()) == NULL)
        return NULL;
    key = PyLong_FromVoidPtr((void *) data);
    if (key == NULL)
        return NULL;
    obj = PyDict_GetItemWithError(kept_constants, key);
    if (obj != NULL) {{
        Py_DECREF(key);
        Py_INCREF(obj);
        return obj;
    }}
    if (PyErr_Occurred() || (obj = numba_unpickle_every_time(data, n, hashed)) == NULL) {{
        Py_DECREF(key);
        return NULL;
    }}
    if (PyDict_SetItem(kept_constants, key, obj) < 0) {{
        Py_DECREF(key);
        Py_DECREF(obj);
        return NULL;
    }}
    Py_DECREF(key);
    return obj;
}}
"""


def wanted() -> bool:
    """Whether kernels are served from, and built into, compiled libraries here: not with Numba off
    (``NUMBA_DISABLE_JIT=1``), nor with ``SIM_COMPILED_AHEAD=0``."""
    return os.environ.get(SWITCH, "1") != "0" and os.environ.get("NUMBA_DISABLE_JIT", "0") in ("", "0")


def folder(dispatcher: object | None = None) -> Path:
    """The folder Numba caches this package's kernels in (``__pycache__`` beside them, or under
    ``NUMBA_CACHE_DIR``, or the user's cache where the package's folder is read-only): the folder of
    ``dispatcher``'s cache, one of them (by default ``sums.pairwise_sum``)."""
    if dispatcher is None:
        from .sums import pairwise_sum as dispatcher
    return Path(dispatcher._cache._cache_path)


def key(listed: list[Signature]) -> str:
    """A digest of what decides the compiled code: the kernel files, the kernels and types listed, Numba,
    llvmlite, NumPy, Python, this CPU (its name and features, as Numba reads them), and Numba's settings of
    code generation."""
    import llvmlite
    import llvmlite.binding as ll
    import numba
    import numpy
    from numba.core import config
    from numba.core.codegen import get_host_cpu_features

    cpu = config.CPU_NAME or ll.get_host_cpu_name()
    features = config.CPU_FEATURES if config.CPU_FEATURES is not None else get_host_cpu_features()
    parts = [package_digest(), numba.__version__, llvmlite.__version__, numpy.__version__, sys.version, SUFFIX,
             cpu, features, KEPT_CONSTANTS_C] + [str(getattr(config, setting, None)) for setting in SETTINGS]
    parts += [f"{s.kernel}\t{s.types}" for s in listed]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def module_name(digest: str, part: int, processes: int) -> str:
    return f"{PREFIX}{digest}_{part}of{processes}"


def parts(place: Path, digest: str) -> list[Path]:
    """The compiled libraries of ``digest`` in ``place``."""
    return sorted(place.glob(f"{PREFIX}{digest}_*{SUFFIX}"))


def whole(libraries: list[Path]) -> bool:
    """Whether these are every part of a build (``..._<part>of<parts>``): not one cut short halfway."""
    counts = {library.name[: -len(SUFFIX)].rsplit("of", 1)[-1] for library in libraries}
    return len(counts) == 1 and counts.pop() == str(len(libraries))


def failed_note(place: Path, digest: str) -> Path:
    """Where a build that failed says why: it is not tried again for the same kernels on this machine."""
    return place / f"{PREFIX}{digest}.failed"


def state(file: Path = SIGNATURES) -> str:
    """"built", "failed" (no C compiler here, say), "missing", or "off" (``wanted()`` is False)."""
    if not wanted():
        return "off"
    listed = signatures(Path(file))
    place, digest = folder(), key(listed)
    if failed_note(place, digest).exists():
        return "failed"
    return "built" if listed and whole(parts(place, digest)) else "missing"


def build(processes: int = 1, file: Path = SIGNATURES) -> bool:
    """Compile the kernels ``file`` lists into ``processes`` libraries side by side (each about a minute's work
    over their number, on 2 cores); True when they are there. A build that fails (no C compiler, no Python
    headers) leaves a note of why beside them, and False: the kernels then run from Numba's cache."""
    file = Path(file)
    done = state(file)
    if done != "missing":
        return done == "built"
    listed = signatures(file)
    place, digest = folder(), key(listed)
    processes = max(1, min(processes, len(listed)))
    part = "import sys; from sim.kernels.ahead import build_part; build_part(*sys.argv[1:])"
    parent = str(os.getpid())
    ended = side_by_side([[sys.executable, "-c", part, str(file), str(place), digest, str(k), str(processes), parent]
                          for k in range(processes)], capture=True)
    said = [output for code, output in ended if code]
    if said:
        failed_note(place, digest).write_text("\n".join(said), encoding="utf-8")
        for library in parts(place, digest):
            library.unlink(missing_ok=True)
        return False
    for old in place.glob(f"{PREFIX}*"):        # earlier kernels' (a process that has one loaded keeps it)
        if not old.name.startswith(f"{PREFIX}{digest}"):
            old.unlink(missing_ok=True)
    serve_made(file)
    return True


def build_part(file: str, place: str, digest: str, part: str, processes: str, parent: str) -> None:
    """``build``'s process ``part`` of ``processes``: compile its share of the list (by compile time, as
    ``precompile`` shares it) into one library, moved into ``place`` once whole. It ends with ``parent``,
    even one killed (Linux)."""
    from numba.core.errors import NumbaError

    from . import shares

    _end_with(int(parent))
    listed = signatures(Path(file))
    mine = {(s.kernel, s.types) for s in shares(listed, int(processes))[int(part)]}
    exports = {k: s for k, s in enumerate(listed) if (s.kernel, s.types) in mine}
    name = module_name(digest, int(part), int(processes))
    try:
        _library(name, exports, Path(place))
    except (NumbaError, TypeError):     # a line the kernels no longer match (their arguments changed): left
        _library(name, {k: s for k, s in exports.items() if _matches(s)}, Path(place))


def _library(name: str, exports: dict[int, Signature], place: Path) -> None:
    """Compile ``exports`` (as ``k<line>``, the line's number in the list) into the library ``name``, moved
    into ``place`` once whole."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # numba.pycc's notice that it is to be replaced one day
        compiler = _compiler(name)
    for k, signature in exports.items():
        compiler.export(f"k{k}", numba_types(signature.types))(_dispatcher(signature.kernel).py_func)
    with tempfile.TemporaryDirectory() as work:
        compiler.output_dir = work
        compiler.mixin = Path(work) / "kept_constants.c"
        compiler.compile()
        os.replace(Path(work) / compiler.output_file, place / compiler.output_file)


def _end_with(parent: int) -> None:
    """Have Linux end this process when ``parent`` ends (prctl's PR_SET_PDEATHSIG); nothing elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() != parent:                  # it ended before the request was made
        os._exit(1)


def _matches(signature: Signature) -> bool:
    """Whether the kernel compiles for the listed types (Numba's JIT, into its cache)."""
    from numba.core.errors import NumbaError

    try:
        signature.compile()
    except (NumbaError, TypeError):       # types it does not take, or more or fewer of them
        return False
    return True


def _compiler(name: str) -> object:
    """Numba's ``CC`` for a library ``name``, set to build as Numba's JIT does for this process (see the
    module's note)."""
    import numba.pycc.compiler
    from numba.core import codegen
    from numba.core.compiler import Flags
    from numba.pycc import CC

    class NumpyErrors(Flags):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.error_model = "numpy"

    class ThisCPU(codegen.AOTCPUCodegen):
        def _customize_tm_features(self):         # the JIT's: this CPU's features, not its name's defaults
            return self._get_host_cpu_features()

    class Extension(CC):
        mixin: Path

        def _get_mixin_sources(self):
            sources = super()._get_mixin_sources()
            mixin = next(s for s in sources if Path(s).name == "modulemixin.c")
            self.mixin.write_text(KEPT_CONSTANTS_C.format(mixin=Path(mixin).resolve().as_posix()), encoding="utf-8")
            # paths without "..": the objects are written under the build folder by their sources' paths
            return [str(self.mixin) if s == mixin else os.path.normpath(s) for s in sources]

    numba.pycc.compiler.Flags = NumpyErrors          # this process builds, and does nothing else
    codegen.AOTCPUCodegen._customize_tm_features = ThisCPU._customize_tm_features
    compiler = Extension(name)
    compiler.target_cpu = "host"
    return compiler


def _dispatcher(kernel: str) -> object:
    module, name = kernel.rsplit(".", 1)
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


@functools.cache
def _served(place: Path, file: Path) -> dict[str, list[tuple[tuple, Callable]]]:
    """Each kernel ``file`` lists, its compiled functions by their types, from this machine's libraries in
    ``place`` (none when they are not built, or do not load)."""
    if not wanted():
        return {}
    listed = signatures(file)
    try:
        digest = key(listed)
    except (AttributeError, ImportError):               # a Numba that reads the CPU otherwise
        return {}
    served: dict[str, list[tuple[tuple, Callable]]] = {}
    for library in parts(place, digest):
        name = library.name[: -len(SUFFIX)]
        try:
            spec = importlib.util.spec_from_file_location(name, library)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except (ImportError, OSError):                   # half written by a build cut short: Numba's cache then
            continue
        for export in dir(module):
            if export.startswith("k") and export[1:].isdigit():
                signature = listed[int(export[1:])]
                served.setdefault(signature.kernel, []).append((numba_types(signature.types),
                                                               getattr(module, export)))
    return served


def serve(dispatcher: object, kernel: str, file: Path = SIGNATURES) -> None:
    """Hand ``dispatcher`` (the kernel ``module.name`` of this package) the compiled functions of the types
    ``file`` lists for it, which it then calls for those types instead of compiling them."""
    try:
        place = folder(dispatcher)
    except AttributeError:                              # no cache: Numba off, or laid out otherwise
        return
    for types, function in _served(place, Path(file)).get(kernel, ()):
        try:
            dispatcher._insert([t._code for t in types], function)
        except (AttributeError, TypeError):   # a Numba whose dispatchers take them otherwise: its cache then
            return
        _served_once(dispatcher, tuple(types))


def _served_once(dispatcher: object, types: tuple) -> None:
    """Keep ``types`` served by one function. Numba compiles a kernel again, for types it is served, when it
    compiles a function that calls it (the caller is linked with the kernel's own code), and inserts the result
    beside the served function: Python's calls of the kernel then choose between two equal entries on a slow
    path, about 25 us a call where 1 us was. So what Numba compiles for served types is kept for its callers
    and not inserted; Python's calls stay on the served function, which computes the same bits. The types are
    kept alive there too: Numba knows a type by an id it drops with it."""
    served = dispatcher.__dict__.setdefault("_served_types", set())
    served.add(types)
    if "add_overload" in dispatcher.__dict__:
        return
    insert = type(dispatcher).add_overload

    def add_overload(compiled) -> None:
        if tuple(compiled.signature.args) in served:
            dispatcher.overloads[tuple(compiled.signature.args)] = compiled
        else:
            insert(dispatcher, compiled)

    dispatcher.add_overload = add_overload


def serve_made(file: Path = SIGNATURES) -> None:
    """Once built: hand the kernels this process made before (``kernel``, which found nothing built to serve
    then) what was built for them, so that its run, or the workers it forks, do not compile them again."""
    from numba.core.dispatcher import Dispatcher

    _served.cache_clear()
    for name, module in list(sys.modules.items()):
        if name.startswith(f"{__package__}.") and module is not None:
            for attribute, value in list(vars(module).items()):
                if isinstance(value, Dispatcher) and value.__module__ == name:
                    serve(value, f"{name.rsplit('.', 1)[1]}.{attribute}", file)
