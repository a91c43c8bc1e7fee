"""The list of kernels the shipped scenarios call, with their types, that ``sim.kernels.precompile`` compiles.

    python tools/kernel_signatures.py record [--end YYYY-MM-DD]
    python tools/kernel_signatures.py check [--end YYYY-MM-DD]

``record`` runs every scenario in ``scenarios/`` (seed 0, to ``--end`` or its calendar's end), notes each
kernel of ``sim.kernels`` the engine called and the Numba types it was called with, then times compiling
each in a fresh process with an empty cache, in the list's order (a kernel's time includes the kernels it
calls that none before it did), and writes ``sim/kernels/signatures.txt``. ``check`` runs them again and
exits 1, naming them, when they call a kernel with types the list lacks (a kernel's code or arguments
changed): record it again then. Kernels loaded from the cache do not show what they call; compiled
afresh (as ``record`` does, with an empty cache) they do, so the list holds those too.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["SIM_COMPILED_AHEAD"] = "0"      # kernels from Numba, whose dispatchers note the types of their calls

from sim.kernels import SIGNATURES, Signature, numba_types, signatures  # noqa: E402

TIME_ONE = """
import sys, time
from sim.kernels import signatures
for signature in signatures():
    started = time.perf_counter()
    signature.compile()
    print(f"{time.perf_counter() - started:.2f}", flush=True)
"""


def called(end: str | None = None) -> set[tuple[str, str]]:
    """(kernel, types) of every kernel the shipped scenarios' runs compiled (their callees too, but those called
    with a constant, which compile with their callers)."""
    import importlib
    import pkgutil

    from numba.core.dispatcher import Dispatcher

    import sim
    import sim.kernels

    for file in sorted((ROOT / "scenarios").glob("*.yaml")):
        sim.run(file, end=end)
    found = set()
    for info in pkgutil.iter_modules(sim.kernels.__path__):
        module = importlib.import_module(f"sim.kernels.{info.name}")
        for name, kernel in vars(module).items():
            if isinstance(kernel, Dispatcher) and kernel.__module__ == module.__name__:
                found |= {(f"{info.name}.{name}", repr(types)) for types in kernel.overloads
                          if written_back(types)}
    return found


def written_back(types: tuple) -> bool:
    """Whether ``repr`` writes these types so that they read back the same. Not where a kernel called another
    with a constant (``Literal[int](0)``): that one compiles with its caller."""
    try:
        return numba_types(repr(types)) == types
    except Exception:              # noqa: BLE001 - any type repr does not write as Python
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("--end", help="stop every run at this date (default: each calendar's end)")
    args = parser.parse_args()
    if args.action == "record" and "SIGNATURES_CACHE" not in os.environ:   # the runs too with an empty cache
        with tempfile.TemporaryDirectory() as cache:
            env = os.environ | {"NUMBA_CACHE_DIR": cache, "SIGNATURES_CACHE": cache}
            return subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=env, cwd=ROOT).returncode
    found = called(args.end)
    if args.action == "check":
        missing = sorted(found - {(s.kernel, s.types) for s in signatures()})
        for kernel, types in missing:
            print(f"called, not listed: {kernel} {types}")
        if missing:
            print(f"{SIGNATURES.relative_to(ROOT)} is out of date: python tools/kernel_signatures.py record")
            return 1
        print(f"{SIGNATURES.relative_to(ROOT)} names the {len(found)} kernels the shipped scenarios called")
        return 0
    listed = [Signature(kernel, types, 0.0) for kernel, types in sorted(found)]
    SIGNATURES.write_text("".join(s.line() + "\n" for s in listed), encoding="utf-8")
    with tempfile.TemporaryDirectory() as cache:      # each kernel's first compilation, in the list's order
        started = time.perf_counter()
        timed = subprocess.run([sys.executable, "-c", TIME_ONE], env=os.environ | {"NUMBA_CACHE_DIR": cache},
                               capture_output=True, text=True, check=True, cwd=ROOT)
    seconds = [float(line) for line in timed.stdout.split()]
    listed = [Signature(s.kernel, s.types, t) for s, t in zip(listed, seconds)]
    head = (f"# seconds to compile first (callees included; {time.perf_counter() - started:.0f} s in all, one "
            f"process, {os.cpu_count()} cores)\tkernel\targument types: tools/kernel_signatures.py record\n")
    SIGNATURES.write_text(head + "".join(s.line() + "\n" for s in listed), encoding="utf-8")
    print(f"{SIGNATURES.relative_to(ROOT)}: {len(listed)} kernels, {sum(seconds):.0f} s to compile one by one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
