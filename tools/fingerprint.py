"""Fingerprints of every scenario's results, to show that a change of code leaves them identical to the last bit.

    python tools/fingerprint.py record FILE.json [--end YYYY-MM-DD] [--replications N] [--scenarios DIR]
    python tools/fingerprint.py check FILE.json [--scenarios DIR]

``record`` runs every scenario in ``scenarios/`` on its full horizon (or up to
``--end``) with seed 0 and writes, per scenario, a SHA-256 of each of its
tables (at every step and at the scenario's output frequency), of its summary
(as summary.json holds it), of its monthly headline series (monthly.csv) and
of the monthly series a comparison reads; then runs an ensemble of
``japan_ban_uncertain`` on two local workers and hashes its band tables.
Numbers are hashed as their shortest exact text (``repr``), so equal hashes
mean equal numbers to the last bit. ``check`` does the same and names every
table that differs from the recorded file (exit 1), or prints "identical".
``--scenarios DIR`` fingerprints the scenarios of another folder instead (variants
that exercise what no shipped scenario does), without the ensemble.

Bit for bit holds for the same Python and NumPy; record and check on one machine.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
ENSEMBLE = "japan_ban_uncertain"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def frame_digest(frame: pd.DataFrame) -> str:
    """Every value's exact text, with the column names and their types."""
    head = ",".join(f"{c}:{t}" for c, t in zip(frame.columns, frame.dtypes.astype(str)))
    return digest(head + "\n" + frame.to_csv(index=False, float_format=None))


def scenario_fingerprints(file: Path, end: dt.date | None) -> dict[str, str]:
    import sim
    from sim.files import json_safe
    from sim.results.series import headline_series, monthly_series

    scenario = sim.load_scenario(file)
    results = sim.run(scenario, seed=0, end=end)
    out = {}
    for frequency in dict.fromkeys(("step", scenario.outputs.frequency)):
        for name, frame in results.tables(frequency).items():
            out[f"tables/{name}@{frequency}"] = frame_digest(frame)
    out["summary.json"] = digest(json.dumps(json_safe(results.summary().to_dict()), indent=2, ensure_ascii=False))
    out["monthly.csv"] = frame_digest(headline_series(results))
    out["comparison series"] = frame_digest(monthly_series(results))
    return out


def ensemble_fingerprints(replications: int, end: dt.date | None) -> dict[str, str]:
    import sim

    scenario = sim.load_scenario(SCENARIOS / f"{ENSEMBLE}.yaml")
    with tempfile.TemporaryDirectory() as folder:
        ensemble = sim.run_ensemble(scenario, replications, Path(folder) / "ensemble", seed=0, end=end, workers=2)
        if ensemble.failures:
            raise SystemExit(f"{ENSEMBLE}: {len(ensemble.failures)} replications failed: {ensemble.failures}")
        return {f"{name}.csv": digest((Path(folder) / "ensemble" / f"{name}.csv").read_text(encoding="utf-8"))
                for name in ("bands", "headline_bands", "replications")}


def fingerprints(end: dt.date | None, replications: int, only: set[str] | None = None,
                 folder: Path = SCENARIOS) -> dict:
    import numpy

    out: dict = {"end": end.isoformat() if end else None, "replications": replications, "scenarios": {},
                 "python": sys.version.split()[0], "numpy": numpy.__version__, "pandas": pd.__version__}
    for file in sorted(folder.glob("*.yaml")):
        if only and file.stem not in only:
            continue
        started = time.perf_counter()
        out["scenarios"][file.stem] = scenario_fingerprints(file, end)
        print(f"  {file.stem}: {len(out['scenarios'][file.stem])} hashes, {time.perf_counter() - started:.1f} s",
              file=sys.stderr, flush=True)
    if replications and (not only or ENSEMBLE in only) and folder == SCENARIOS:
        out["ensemble"] = {ENSEMBLE: ensemble_fingerprints(replications, end)}
    return out


def differences(old: dict, new: dict) -> tuple[list[str], list[str]]:
    """What differs from the recording or is gone from it; and what is new (an output added since)."""
    changes, added = [], []
    for group in ("scenarios", "ensemble"):
        for name in sorted(set(old.get(group, {})) | set(new.get(group, {}))):
            a, b = old.get(group, {}).get(name), new.get(group, {}).get(name)
            if a is None or b is None:
                changes.append(f"{name}: {'not recorded' if a is None else 'not run now'}")
                continue
            changes += [f"{name}: {key} differs" for key in sorted(a) if a[key] != b.get(key)]
            added += [f"{name}: {key}" for key in sorted(set(b) - set(a))]
    return changes, added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--end", type=dt.date.fromisoformat, help="stop every run early (record only)")
    parser.add_argument("--replications", type=int, default=20, help="of the ensemble (record only; 0: none)")
    parser.add_argument("--only", help="check only these scenarios, comma-separated (the ensemble is "
                                       f"{ENSEMBLE}'s)")
    parser.add_argument("--scenarios", type=Path, default=SCENARIOS, help="the folder of scenarios (default: the "
                                                                          "shipped ones)")
    args = parser.parse_args(argv)
    if args.action == "record":
        data = fingerprints(args.end, args.replications, folder=args.scenarios.resolve())
        args.file.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"recorded {len(data['scenarios'])} scenarios in {args.file}")
        return 0
    old = json.loads(args.file.read_text(encoding="utf-8"))
    end = dt.date.fromisoformat(old["end"]) if old.get("end") else None
    only = set(args.only.split(",")) if args.only else None
    if only:
        old = {**old, "scenarios": {k: v for k, v in old["scenarios"].items() if k in only},
               "ensemble": old.get("ensemble", {}) if ENSEMBLE in only else {}}
    new = fingerprints(end, old.get("replications", 0), only, args.scenarios.resolve())
    for tool in ("python", "numpy", "pandas"):
        if old.get(tool) != new[tool]:
            print(f"note: recorded with {tool} {old.get(tool)}, checked with {new[tool]}: bits may differ",
                  file=sys.stderr)
    changes, added = differences(old, new)
    if added:
        print(f"new since the recording (not compared): {', '.join(sorted({a.split(': ')[1] for a in added}))}")
    print("\n".join(changes) if changes else f"identical: {len(old['scenarios'])} scenarios"
          + (f" and the {ENSEMBLE} ensemble" if old.get("ensemble") else ""))
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
