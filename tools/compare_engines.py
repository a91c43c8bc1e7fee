"""Every scenario's tables against a recorded reference, number by number, to a relative tolerance.

    python tools/compare_engines.py record DIR [--end YYYY-MM-DD] [--only a,b]
    python tools/compare_engines.py check DIR [--rtol 1e-12] [--only a,b] [--besides days_of_cover,...] [--nudge]

``record`` runs every scenario in ``scenarios/`` (seed 0, full horizon or up to
``--end``) and writes each of its tables at every step to ``DIR/<scenario>/<table>.parquet``.
``check`` runs them again and compares every number within ``rtol`` of the reference,
relative to the larger of the two values or to the largest value of its column (so that a
zero against 1e-17 t is rounding, not a change; a column of nothing but rounding, and the
mass balance's residual, relative to the largest number of its table). Where a table
gained or lost rows (a flow that one engine rounds to nothing and the other keeps), rows
are matched by their labels, one alone counted against zeros, and the count is printed.
It prints the worst difference of each scenario and exits 1 if any is over ``rtol``.

Where ``tools/fingerprint.py`` says whether results are equal to the last bit, this
says how far apart they are: it is how a new engine (the compiled core of issue 16)
is held to the engine it replaces.

``check --nudge`` runs this engine with one input one ulp larger (the first facility of each
stage: its rate every day, ``np.nextafter``), against a record of the same engine: how far
the model itself carries a difference in the last bit, the least two engines that do not
round alike must expect.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
# columns that are what does not add up (the mass balance's residual, ~1e-10 t of ~1e6 t): relative to their own
# largest value two engines' rounding differs by 100%, so they are judged against the largest number of the table
ABSOLUTE = {"residual_t"}


def scenario_tables(file: Path, end: dt.date | None) -> dict[str, pd.DataFrame]:
    """The tables of one run of ``file`` (seed 0) at every step."""
    import sim

    return sim.run(sim.load_scenario(file), seed=0, end=end).tables("step")


def worst_difference(ref: pd.DataFrame, new: pd.DataFrame) -> tuple[float, str]:
    """The largest relative difference between two versions of a table, and where it is. Where their rows
    differ (a flow of a few 1e-16 t that one engine rounds to zero and the other keeps), the rows are matched
    by their labels (``aligned``), a row of one alone counted against zeros, and ``where`` says how many."""
    if list(ref.columns) != list(new.columns):
        return np.inf, f"columns {list(ref.columns)} -> {list(new.columns)}"
    note = ""
    if len(ref) != len(new) or not labels_equal(ref, new):
        ref, new, alone = aligned(ref, new)
        note = f"; {alone[0]} row(s) only before, {alone[1]} only after"
    worst, where = 0.0, ""
    for column in ref.columns:
        a, b = ref[column].to_numpy(), new[column].to_numpy()
        if not (np.issubdtype(a.dtype, np.number) and np.issubdtype(b.dtype, np.number)):
            continue
        a, b = a.astype(float), b.astype(float)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if same.all():
            continue
        finite = np.isfinite(a)
        scale = np.abs(a[finite]).max() if finite.any() else 0.0
        if column in ABSOLUTE or scale == 0:    # rounding noise by nature (or 1e-16 t where all was 0): judged
            # against the totals of its table
            scale = max(scale, np.nanmax(np.abs(ref.select_dtypes("number").to_numpy(dtype=float)), initial=0.0))
        rel = np.where(same, 0.0, np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), scale))
        rel = np.nan_to_num(rel, nan=np.inf)
        row = int(rel.argmax())
        if rel[row] > worst:
            worst, where = float(rel[row]), f"{column} row {row}: {a[row]!r} -> {b[row]!r}"
    return worst, where + note if worst else note.lstrip("; ")


def label_columns(frame: pd.DataFrame) -> list[str]:
    """The columns that name a row (dates, codes): all but the numbers."""
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


def labels_equal(ref: pd.DataFrame, new: pd.DataFrame) -> bool:
    return all((ref[c].astype(str).to_numpy() == new[c].astype(str).to_numpy()).all() for c in label_columns(ref))


def aligned(ref: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, tuple[int, int]]:
    """Both tables on the union of their rows, matched by their labels (and their order among rows of the same
    labels), a row missing from one as zeros in it; and how many rows each has alone."""
    keys = label_columns(ref)
    numbers = [c for c in ref.columns if c not in keys]
    left, right = (frame.assign(_nth=frame.groupby(keys, sort=False).cumcount()) if keys else
                   frame.assign(_nth=np.arange(len(frame))) for frame in (ref, new))
    keys = [*keys, "_nth"]
    merged = left.merge(right, on=keys, how="outer", suffixes=("", "_new"), indicator=True)
    only_before, only_after = ((merged["_merge"] == side).to_numpy() for side in ("left_only", "right_only"))
    before = merged[keys].assign(**{c: np.where(only_after, 0.0, merged[c]) for c in numbers})
    after = merged[keys].assign(**{c: np.where(only_before, 0.0, merged[f"{c}_new"]) for c in numbers})
    return before[ref.columns], after[ref.columns], (int(only_before.sum()), int(only_after.sum()))


def files(only: str | None) -> list[Path]:
    chosen = set(only.split(",")) if only else None
    return [f for f in sorted(SCENARIOS.glob("*.yaml")) if chosen is None or f.stem in chosen]


def record(folder: Path, end: dt.date | None, only: str | None) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for file in files(only):
        started = time.perf_counter()
        (folder / file.stem).mkdir(exist_ok=True)
        for name, frame in scenario_tables(file, end).items():
            frame.to_parquet(folder / file.stem / f"{name}.parquet", index=False)
        print(f"  {file.stem}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    (folder / "reference.json").write_text(json.dumps({"end": end.isoformat() if end else None}) + "\n",
                                           encoding="utf-8")
    print(f"recorded {len(files(only))} scenarios in {folder}")
    return 0


def nudge_first_facilities() -> None:
    """From now on in this process, every world's first facility of each stage runs one ulp faster on every day it
    runs at all (a plant standing idle stays idle); asked again, nothing more."""
    import sim.world.network as network

    made = network.facility_arrays
    if getattr(made, "nudged", False):
        return

    def nudged(*given, **named):
        facilities = made(*given, **named)
        if len(facilities.ids):
            rate = facilities.rate_t_per_day[:, 0]
            rate[:] = np.where(rate > 0, np.nextafter(rate, np.inf), rate)
        return facilities
    nudged.nudged = True
    network.facility_arrays = nudged


def check(folder: Path, rtol: float, only: str | None, besides: str | None = None, nudge: bool = False) -> int:
    if nudge:
        nudge_first_facilities()
    meta = json.loads((folder / "reference.json").read_text(encoding="utf-8"))
    end = dt.date.fromisoformat(meta["end"]) if meta["end"] else None
    over = 0
    for file in files(only):
        if not (folder / file.stem).is_dir():
            print(f"{file.stem}: not recorded")
            over += 1
            continue
        tables = scenario_tables(file, end)
        worst, where = 0.0, ""
        for path in sorted((folder / file.stem).glob("*.parquet")):
            if path.stem not in tables:
                worst, where = np.inf, f"{path.stem}: no longer made"
                break
            skipped = besides.split(",") if besides else []
            diff, at = worst_difference(pd.read_parquet(path).drop(columns=skipped, errors="ignore"),
                                        tables[path.stem].drop(columns=skipped, errors="ignore"))
            if diff > worst:
                worst, where = diff, f"{path.stem}: {at}"
        over += worst > rtol
        verdict = "OVER" if worst > rtol else "ok"
        print(f"{file.stem:32s} worst {worst:.2e} {verdict}" + (f" ({where})" if worst else ""), flush=True)
    print(f"{over} scenario(s) over {rtol:g}" if over else f"every scenario within {rtol:g}")
    return 1 if over else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--end", type=dt.date.fromisoformat, help="stop every run early (record only)")
    parser.add_argument("--rtol", type=float, default=1e-12, help="relative tolerance (check only)")
    parser.add_argument("--only", help="these scenarios only, comma-separated")
    parser.add_argument("--besides", help="columns left out of the comparison (check only), comma-separated: "
                        "days_of_cover, say, where a stock with a use of micrograms a day covers 1e11 days")
    parser.add_argument("--nudge", action="store_true", help="check this engine with each stage's first "
                        "facility one ulp faster: how far the model carries a difference in the last bit")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.action == "record":
        return record(args.folder, args.end, args.only)
    return check(args.folder, args.rtol, args.only, args.besides, args.nudge)


if __name__ == "__main__":
    sys.exit(main())
