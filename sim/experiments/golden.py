"""The golden reference of the baseline: ``results/baseline/summary.json`` and ``monthly.csv``.

``python -m sim golden`` reruns the baseline, prints what changed against the
committed reference, and rewrites it when something did (on purpose: commit the
change with a message that says why the numbers moved). When nothing changed
beyond ``RELATIVE``/``ABSOLUTE`` the files are left alone, byte for byte and
modification time, so an unchanged baseline never shows as a change in git. The test suite compares a fresh
baseline run with the reference within ``RELATIVE``/``ABSOLUTE``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..files import json_safe, write_json, write_table
from ..results import Results
from ..results.series import headline_series
from .single import run

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "results" / "baseline"
SCENARIO = ROOT / "scenarios" / "baseline.yaml"
RELATIVE = 1e-6    # same code, same inputs: only float noise across platforms
ABSOLUTE = 1e-6    # t, or share


def _flatten(data, prefix: str = "") -> dict:
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


def differences(results: Results, folder: Path = REFERENCE) -> list[str]:
    """What differs between a run and a reference folder, first differences first; empty when they agree."""
    out = []
    summary_file, series_file = folder / "summary.json", folder / "monthly.csv"
    if not summary_file.exists() or not series_file.exists():
        return [f"no reference in {folder} (summary.json and monthly.csv)"]
    old = _flatten(json.loads(summary_file.read_text(encoding="utf-8")))
    new = _flatten(json.loads(json.dumps(json_safe(results.summary().to_dict()))))
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            if not np.isclose(a, b, rtol=RELATIVE, atol=ABSOLUTE):
                out.append(f"summary {key}: {a!r} -> {b!r}")
        elif a != b:
            out.append(f"summary {key}: {a!r} -> {b!r}")
    ref = pd.read_csv(series_file, parse_dates=["date"])
    cur = headline_series(results)
    keys = ["metric", "country", "date"]
    merged = ref.merge(cur, on=keys, how="outer", suffixes=("_ref", "_run"))
    merged[["value_ref", "value_run"]] = merged[["value_ref", "value_run"]].fillna(0.0)
    bad = merged[~np.isclose(merged["value_ref"], merged["value_run"], rtol=RELATIVE, atol=ABSOLUTE)]
    for metric, group in bad.groupby("metric", sort=True):
        first = group.sort_values("date").iloc[0]
        out.append(f"monthly {metric}: {len(group)} values differ; first {first['country']} "
                   f"{first['date'].date()}: {first['value_ref']:.6g} -> {first['value_run']:.6g}")
    return out


def regenerate(folder: Path = REFERENCE) -> list[str]:
    """Rerun the baseline and update the reference in ``folder``; return what changed (empty: nothing written)."""
    return update_reference(run(SCENARIO), folder)


def update_reference(results: Results, folder: Path = REFERENCE) -> list[str]:
    """Write ``results`` as the reference in ``folder`` if they differ from it; return the differences.

    Empty differences mean nothing is written: the reference's files keep their bytes and modification time.
    """
    changes = differences(results, folder)
    if not changes:
        return changes
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "summary.json", results.summary().to_dict())
    write_table(headline_series(results), folder / "monthly", ("csv",))
    return changes
