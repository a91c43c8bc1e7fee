"""Fuzz the scenario loader: python benchmarks/fuzz_loader.py [cases] [--seed N] [--jobs N] [--keep DIR].

Mutates the shipped scenarios at the byte level (bit flips, control characters
inserted, truncations, deleted and repeated spans, key/value swaps, hostile
values such as ``{true: 1, a: 2}`` or an ``extends:`` holding a NUL) and loads
each mutated file as a user would (``load_scenario``, sources checked against
``seeds/``). Counts the answers: a valid Scenario, a ScenarioError, or any other
exception, which is a bug: its file is kept and its traceback printed. Exits 1
when there is any. Deterministic for a given seed and case count.

Not run in CI (ten thousand cases take minutes); tests/test_mutations.py runs a
few hundred of the same mutations there.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.errors import ScenarioError  # noqa: E402
from sim.scenario.loading import load_scenario, registry_for  # noqa: E402

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

# control characters YAML refuses, as UTF-8 (C0, DEL, C1, non-characters) and as raw bytes (not UTF-8)
CONTROL = [bytes([c]) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]] + \
    [chr(c).encode() for c in range(0x80, 0xA0)] + ["\ufffe".encode(), "\uffff".encode()] + \
    [bytes([c]) for c in range(0x80, 0xA0)]
HOSTILE_VALUES = [
    b"{true: 1, a: 2}", b"{1: x, b: y, null: z}", b'"\\0"', b'"\\ud800"', b"a" * 300, b"[", b"{", b"&a [*a]",
    b"*nowhere", b"!!python/object/apply:os.system ['true']", b"1e999", b"-.inf", b".nan", b"2026-02-30",
    b"~", b"[]", b"{}", b"- x", b"'", b'"', b"|", b">-", b"? [a]", b"<<: {a: 1}", b"0x1F", b"1_000", b"-0",
    b"9" * 400, b"2026-13-45", b"{dist: normal}", b"{dist: choice, values: [], p: []}", b"True", b"\t",
]
HOSTILE_EXTENDS = [
    b'extends: "base\\0line.yaml"', b'extends: "\\ud800.yaml"', b"extends: " + b"x" * 300 + b".yaml",
    b"extends: " + b"/y" * 2100, b"extends: .", b"extends: ..", b"extends: /", b"extends: ''",
    b"extends: [baseline.yaml]", b"extends: {a: 1}", b"extends: 3", b"extends: baseline.yaml\x07",
]
KEY_VALUE = re.compile(rb"^(\s*-?\s*)([^:#\n]+):[ \t]+([^#\n]+?)[ \t]*$", re.M)


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """One to three mutations of a file's bytes; returns the bytes and the names of the mutations."""
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        kind = rng.choice(["flip", "flip", "control", "control", "truncate", "delete", "repeat", "swap", "swap",
                           "value", "value", "extends"])
        n = len(data)
        at = rng.randrange(n + 1) if n else 0
        if kind == "flip" and n:
            i = rng.randrange(n)
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
        elif kind == "control":
            data = data[:at] + rng.choice(CONTROL) + data[at:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "delete":
            data = data[:at] + data[at + rng.randrange(1, 40):]
        elif kind == "repeat":
            data = data[:at] + data[at:at + rng.randrange(1, 80)] + data[at:]
        elif kind in ("swap", "value"):
            lines = list(KEY_VALUE.finditer(data))
            if not lines:
                continue
            m = rng.choice(lines)
            if kind == "swap":  # key: value -> value: key
                new = m.group(1) + m.group(3) + b": " + m.group(2)
            else:
                new = m.group(1) + m.group(2) + b": " + rng.choice(HOSTILE_VALUES)
            data = data[:m.start()] + new + data[m.end():]
        elif kind == "extends":
            line = rng.choice(HOSTILE_EXTENDS)
            if re.search(rb"^extends:.*$", data, re.M):
                data = re.sub(rb"^extends:.*$", lambda _: line, data, count=1, flags=re.M)
            else:
                data = line + b"\n" + data
        done.append(kind)
    return data, done


_registry = None
_workdir: Path | None = None


def _init(workdir: str) -> None:
    global _registry, _workdir
    _workdir = Path(workdir)
    _registry = registry_for(ROOT / "scenarios" / "baseline.yaml")


def run_case(args: tuple[int, int]) -> tuple[int, str, str, str, list[str], float]:
    """Mutate and load case ``i``: (i, outcome, source name, traceback or '', mutations, seconds)."""
    seed, i = args
    rng = random.Random(f"{seed}-{i}")
    source = rng.choice(SCENARIOS)
    data, kinds = mutate(source.read_bytes(), rng)
    assert _workdir is not None
    path = _workdir / f"case{i}_{source.name}"  # next to copies of every scenario: extends resolve
    path.write_bytes(data)
    t0 = time.perf_counter()
    try:
        load_scenario(path, registry=_registry)
        outcome, tb = "valid", ""
    except ScenarioError as exc:
        outcome, tb = "ScenarioError", ""
        if not exc.problems or not all(p.message and p.file for p in exc.problems):
            outcome, tb = "other", f"ScenarioError without a located message:\n{exc}"
    except Exception:  # noqa: BLE001 - the point: anything else is a bug to report
        outcome, tb = "other", traceback.format_exc()
    seconds = time.perf_counter() - t0
    if outcome != "other":
        path.unlink()
    return i, outcome, source.name, tb, kinds, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "fuzz_loader_failures",
                        help="folder where files that raised anything but ScenarioError are kept")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="fuzz_loader_"))
    for scenario in SCENARIOS:
        shutil.copy(scenario, work / scenario.name)
    counts: Counter = Counter()
    by_kind: Counter = Counter()
    failures = []
    t0 = time.perf_counter()
    jobs = [(args.seed, i) for i in range(args.cases)]
    with multiprocessing.Pool(args.jobs, initializer=_init, initargs=(str(work),)) as pool:
        for i, outcome, source, tb, kinds, _ in pool.imap_unordered(run_case, jobs, chunksize=20):
            counts[outcome] += 1
            for kind in set(kinds):
                by_kind[kind, outcome] += 1
            if outcome == "other":
                failures.append((i, source, tb))
    elapsed = time.perf_counter() - t0
    if failures:
        args.keep.mkdir(parents=True, exist_ok=True)
        for i, source, tb in sorted(failures):
            kept = args.keep / f"case{i}_{source}"
            shutil.copy(work / f"case{i}_{source}", kept)
            print(f"--- case {i} (a mutation of {source}), kept as {kept}\n{tb}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    print(f"{args.cases} mutated files of {len(SCENARIOS)} scenarios (seed {args.seed}), {args.jobs} processes, "
          f"{elapsed:.0f} s ({platform.python_implementation()} {platform.python_version()})")
    print(f"  ScenarioError     {counts['ScenarioError']:6d}")
    print(f"  valid             {counts['valid']:6d}")
    print(f"  other exception   {counts['other']:6d}")
    kinds = sorted({k for k, _ in by_kind})
    print("  by mutation (a case may have several): " + ", ".join(
        f"{k} {sum(by_kind[k, o] for o in ('ScenarioError', 'valid', 'other'))} "
        f"({by_kind[k, 'valid']} valid)" for k in kinds))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
