"""A folder of results read into a ``Briefing``, by the kind its manifest.json names: run, compare, sweep, ensemble.

A run's worst-hit countries are explained now, from its tables, and the explanations written into its
``explain/`` (``sim.experiments.explained``); a comparison's or sweep's were written when it was saved, and
are read back. An ensemble's are its parts' P5/P50/P95 (``ensemble_explanation``), where the code that
makes them is there.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from ..errors import ReportError
from ..experiments.explained import explain_tables, read_index, write_explained
from ..experiments.manifest import read_manifest
from ..results import Summary
from ..results.explain import SHORT_T, read_tables
from ..results.headlines import figures_for, text, value
from ..results.parameters import PARAMETER_COLUMNS, event_row
from ..results.report import percent
from .briefing import Briefing, Event, Explained, Question, Table
from .scenarios import find_scenario, question_of

EXPLAINED = 3                     # a report explains up to this many worst-hit countries (of a run, an ensemble)
PARTS_SHOWN = 8                   # the largest parts of an explanation listed; the rest summed in one row
PLOT_ORDER = ("shortfall", "days_of_cover", "prices", "dependency", "flows", "headline_bands")
NOTHING = ("—", "0", "0.0%", "x1.00")    # a figure's text where nothing happened
MOVED = 1.005                     # a price peak counts as a move from this multiple of its initial price
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")
_UNTIL = re.compile(r"\buntil (\d{4}-\d{2}-\d{2})")
ENSEMBLE_HINT = ("explanations of an ensemble (P5/P50/P95 of each part over its replications) are given by "
                 "'python -m sim explain ENSEMBLE_DIR --country CODE'")


def read_briefing(folder: Path, scenario_file: Path | str | None = None) -> Briefing:
    """The ``Briefing`` of ``folder``; a ReportError (one line) when it is no folder of results a report is
    written for, or lacks a file it needs. ``scenario_file``: the scenario it was made from, where known."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder; give the folder a run, comparison, sweep or ensemble wrote")
    manifest = read_manifest(folder)
    kind = manifest.get("kind") if manifest else None
    readers = {"run": _run, "compare": _side_by_side, "sweep": _side_by_side, "ensemble": _ensemble}
    if kind not in readers:
        found = f"its manifest.json is of a {kind}" if kind else "no readable manifest.json"
        raise ReportError(f"{folder}: not the results of a run, comparison, sweep or ensemble ({found}); "
                          f"e.g. results/japan_ban")
    try:
        return readers[kind](folder, manifest, scenario_file)
    except FileNotFoundError as exc:
        raise ReportError(f"{folder}: {Path(exc.filename).name if exc.filename else exc} is missing; "
                          f"the folder is incomplete or was saved by an older version: run it again") from None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReportError(f"{path}: not readable JSON ({exc})") from None


def _plots(folder: Path) -> list[Path]:
    """The folder's plots/*.png, the briefing's figures in their usual order first."""
    found = sorted((folder / "plots").glob("*.png"))
    rank = {name: k for k, name in enumerate(PLOT_ORDER)}
    return sorted(found, key=lambda p: (rank.get(p.stem, len(rank)), p.name))


def _day(text_: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text_)[:10]) if text_ else None
    except ValueError:
        return None


def _events(lane: str, rows: list[dict]) -> list[Event]:
    """Events from rows of a ``parameters`` table: the date the rule starts with, and the one it runs 'until'."""
    out = []
    for row in rows:
        if row.get("subject") != "event":
            continue
        rule = str(row.get("value") or "")
        start, until = _DATE.match(rule), _UNTIL.search(rule)
        out.append(Event(lane, str(row.get("name") or ""), str(row.get("country") or ""), rule,
                         _day(start.group(1)) if start else None, _day(until.group(1)) if until else None,
                         str(row.get("source") or "").split()))
    return out


def _sha_table(rows: list[tuple[str, Any]], caption: str) -> Table:
    return Table(caption, ["", ""], [[k, "—" if v is None else str(v)] for k, v in rows])


# ---------------------------------------------------------------- explanations
def _explained(folder: Path, runs: list[dict]) -> list[Explained]:
    """The explanations of ``explain/index.json``'s runs, their parts and texts read from their files."""
    import pandas as pd

    out = []
    where = folder / "explain"
    for run in runs:
        for entry in run.get("explanations", []):
            parts = pd.read_csv(where / entry["parts"], keep_default_na=False, na_values={"t": [""]})
            demand, unmet = float(entry["demand_t"]), float(entry["unmet_t"])
            share = f" ({100 * unmet / demand:.1f}%)" if demand else ""
            picture = where / entry["waterfall"] if entry.get("waterfall") else None
            out.append(Explained(
                run.get("label", ""), entry["country"],
                f"{entry['start'][:7]} to {entry['end'][:7]} ({entry['why_period']})",
                f"unmet {unmet:,.0f} t of {demand:,.0f} t of end-use magnet demand{share}",
                _parts_table(parts), _beyond_parts((where / entry["text"]).read_text(encoding="utf-8")),
                picture if picture is not None and picture.is_file() else None, entry.get("cited", [])))
    return out


def _beyond_parts(account: str) -> str:
    """What an account says besides its parts and the parameters it names (which the page shows as tables):
    what the country bought instead, its stockpile."""
    lines = account.rstrip().splitlines()
    after = next((k + 1 for k, line in enumerate(lines) if line.strip().endswith("= unmet")), len(lines))
    until = next((k for k, line in enumerate(lines) if line.strip().startswith("what shaped it")), len(lines))
    return "\n".join(line.strip() for line in lines[after:until])


def _parts_table(parts) -> Table:
    """The largest parts, t magnet signed (lost +, re-sourced -), the rest summed, and the total."""
    shown = parts.head(PARTS_SHOWN)
    rows = [[f"{t:+,.1f}", label] for t, label in zip(shown["t"], shown["label"])]
    if len(parts) > PARTS_SHOWN:
        rows.append([f"{parts['t'].iloc[PARTS_SHOWN:].sum():+,.1f}", f"{len(parts) - PARTS_SHOWN} smaller parts"])
    rows.append([f"{parts['t'].sum():,.1f}", "= unmet"])
    return Table("the largest parts (t magnet; + supply lost, - made up by buying more elsewhere)",
                 ["t magnet", "part"], rows, {0})


def ensemble_explanation(folder: Path, country: str):
    """The explanation of ``country`` in an ensemble (P5/P50/P95 of each part over its replications), by
    ``sim.experiments.ensemble.explain_ensemble``; None where that is not there (an older version) or the
    ensemble cannot give it (replications saved without what it reads)."""
    try:
        from ..experiments.ensemble import explain_ensemble
    except ImportError:
        return None
    try:
        return explain_ensemble(folder, country)
    except (ValueError, OSError, KeyError):
        return None


def _ensemble_explained(folder: Path, countries: list[str]) -> list[Explained]:
    out = []
    for country in countries:
        got = ensemble_explanation(folder, country)
        if got is None:
            continue
        parts = got.parts
        keys = [c for c in parts.columns if c not in ("p5", "p50", "p95") and parts[c].dtype == object][:3]
        rows = [[*(f"{getattr(row, p):+,.1f}" for p in ("p5", "p50", "p95")),
                 " / ".join(str(getattr(row, k)) for k in keys if getattr(row, k))]
                for row in parts.head(PARTS_SHOWN).itertuples()]
        table = Table("the largest parts over the replications (t magnet)", ["P5", "P50", "P95", "part"], rows,
                      {0, 1, 2})
        account = got.text()
        out.append(Explained("", country, getattr(got, "why_period", "") or "over the ensemble's replications",
                             account.splitlines()[1].strip() if len(account.splitlines()) > 1 else "", table,
                             account, None, []))
    return out


# ---------------------------------------------------------------- a run
def _run(folder: Path, manifest: dict, scenario_file: Path | str | None) -> Briefing:
    summary = Summary.from_dict(_json(folder / "summary.json"))
    scenario, file = find_scenario(folder, manifest.get("scenario"), manifest.get("scenario_sha256"),
                                   (scenario_file,))
    seed = f"{summary.seed}" + (f", replication {summary.replication}" if summary.replication is not None else "")
    header = [("scenario", summary.scenario), ("dates", f"{summary.start} .. {summary.end}"),
              ("step", f"{summary.step_days} days"), ("seed", seed),
              ("first export measure", str(summary.first_measure or "none"))]
    explained, note = [], ""
    try:
        tables = read_tables(folder)
    except FileNotFoundError as exc:
        tables, note = None, f"not explained: {exc} (the run was saved by an older version; run it again)"
    events: list[Event] = []
    if tables is not None:
        ran = explain_tables(tables, summary, "", EXPLAINED)
        write_explained(folder, [ran], True, f"Scenario {summary.scenario} (seed {summary.seed})")
        explained = _explained(folder, read_index(folder) or [])
        events = _events(summary.scenario, ran.events)
        note = ("no country was short: nothing to explain" if not explained else
                "each over its worst year; 'python -m sim explain RESULTS_DIR --country CODE --from ... --to ...' "
                "explains another country or period")
    return Briefing(
        "run", f"{summary.scenario}: {summary.title}" if summary.title else summary.scenario,
        [Question(summary.scenario, summary.title or "", question_of(scenario, file))], header,
        _run_headline(summary), explained, note, _plots(folder), events,
        "" if events else "no event in the run" if tables is not None else "the run's parameters table is missing",
        (summary.start, summary.end),
        [_sha_table([(k, manifest.get(k)) for k in ("sim_version", "scenario", "scenario_sha256", "code_sha256",
                                                      "seed", "replication", "start", "end", "frequency")],
                    "manifest.json")])


def _weeks(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


def _run_headline(s: Summary) -> list[Table]:
    w = s.world
    world = Table("the world in the first year", ["figure", "value"], [
        ["REO mined", f"{w.mined_kt_first_year:,.0f} kt"],
        ["China's share: mining / separation / magnets",
         f"{percent(w.china_share_mining)} / {percent(w.china_share_refining)} / {percent(w.china_share_magnets)}"],
        ["first export measure", str(s.first_measure or "none")]], {1})
    short = sorted((c for c, v in s.countries.items() if (v.cumulative_unmet_t or 0.0) > SHORT_T),
                   key=lambda c: -s.countries[c].cumulative_unmet_t)
    rows = []
    for c in short:
        v = s.countries[c]
        rows.append([c, percent(v.peak_shortfall_share), str(v.peak_shortfall_date or "—"),
                     f"{_weeks(v.weeks_to_plant_shortfall)} / {_weeks(v.weeks_to_shortfall)}",
                     f"{v.cumulative_unmet_t:,.0f}", percent(v.cumulative_unmet_t / v.demand_t if v.demand_t else None),
                     _weeks(v.weeks_to_recover_from_peak),
                     v.at_risk_text])
    countries = Table("shortfall of end-use magnet demand; output at risk: units not made (vehicles, MW) x each "
                      "sector's sourced value per unit (gross output, not GDP)", [
                          "country", "peak", "on", "weeks to short (plants / users)", "unmet t", "of demand",
                          "weeks to recover from peak", "output at risk"],
                      rows, {1, 3, 4, 5, 6, 7}, "" if rows else "no end-use shortfall in any country")
    prices = []
    for market, peaks in (("", s.prices), ("home market", s.home_prices)):
        prices += [[item + (f" ({market})" if market else ""), f"x{p.peak_multiple:.2f}", str(p.peak_date),
                    f"{p.peak_usd_per_kg:,.2f}" if p.peak_usd_per_kg is not None else "—"]
                   for item, p in peaks.items() if p.peak_multiple >= MOVED]
    moved = Table("price peaks (the items that rose by 0.5% or more)", ["item", "peak", "on", "peak USD/kg"],
                  prices, {1, 3}, "" if prices else "no price moved")
    return [countries, moved, world]


# ---------------------------------------------------------------- a comparison or a sweep
def _side_by_side(folder: Path, manifest: dict, scenario_file: Path | str | None) -> Briefing:
    kind = manifest["kind"]
    runs = manifest.get("scenarios" if kind == "compare" else "runs") or []
    raw = _json(folder / "summaries.json")
    summaries = {label: [Summary.from_dict(d) for d in (got if isinstance(got, list) else [got])]
                 for label, got in raw.items()}
    labels = list(summaries)
    paired = bool(manifest.get("paired"))
    first = summaries[labels[0]][0]
    if kind == "compare":
        questions = []
        for record in runs:
            scenario, file = find_scenario(folder, record.get("scenario"), record.get("scenario_sha256"),
                                           (record.get("file"),))
            got = summaries.get(record.get("label"), [first])[0]
            questions.append(Question(record.get("label", ""), got.title or "", question_of(scenario, file)))
        title = "Comparison: " + " vs ".join(labels)
    else:
        scenario, file = find_scenario(folder, manifest.get("scenario"), None, (scenario_file, manifest.get("file")))
        questions = [Question(manifest.get("scenario", ""), first.title or "", question_of(scenario, file))]
        title = f"Sweep of {manifest.get('scenario')}: {manifest.get('parameter')} = {', '.join(labels)}"
    seeds = sorted({str(r.get("seed")) for r in runs})
    spans = sorted({f"{r.get('start')} .. {r.get('end')}" for r in runs})
    header = ([("scenarios", ", ".join(labels))] if kind == "compare" else
              [("scenario", str(manifest.get("scenario"))), ("parameter", str(manifest.get("parameter"))),
               ("values", ", ".join(labels)), ("metric", str(manifest.get("metric")))])
    header += [("dates", "; ".join(spans)), ("step", f"{first.step_days} days"), ("seed", ", ".join(seeds))]
    if paired:
        header.append(("replications", f"{manifest.get('replications')} paired (common random numbers) of each"))
    index = read_index(folder) or []
    explained = [] if paired else _explained(folder, index)
    if paired:
        note = ("the runs are paired ensembles, whose replications are not kept here: " + ENSEMBLE_HINT
                + " (of an ensemble run with 'python -m sim SCENARIO.yaml --replications N')")
    elif explained:
        note = "each run's worst-hit country, over its worst year (kept when the folder was saved)"
    elif index:
        note = "no country was short in any run: nothing to explain"
    else:
        note = "not explained: the folder was saved by an older version; run it again"
    events = [e for run in index for e in _events(run.get("label", ""), run.get("events", []))]
    dates = [d for r in runs for d in (_day(r.get("start")), _day(r.get("end"))) if d]
    records = Table("the runs", ["label", "scenario", "seed", "dates", "scenario sha256"] + (
        ["reused from"] if kind == "compare" else []),
        [[str(r.get("label")), str(r.get("scenario", manifest.get("scenario"))), str(r.get("seed")),
          f"{r.get('start')} .. {r.get('end')}", str(r.get("scenario_sha256"))]
         + ([str(r.get("reused_from") or "—")] if kind == "compare" else []) for r in runs])
    keys = ["sim_version", "code_sha256", "command", "scenario", "file", "parameter", "metric", "replications"]
    return Briefing(
        kind, title, questions, header, [_side_by_side_table(summaries, paired, kind)], explained, note,
        _plots(folder), events,
        "" if events else ("no event in any run" if index else "the runs' events were not kept"),
        (min(dates), max(dates)) if dates else None,
        [_sha_table([(k, manifest.get(k)) for k in keys if k in manifest], "manifest.json"), records])


def _side_by_side_table(summaries: dict[str, list[Summary]], paired: bool, kind: str) -> Table:
    """A row per headline figure, a column per run (of paired ensembles its P50 [P5 .. P95]); plain runs of a
    comparison with the difference against the first in brackets; elements whose price moved in no run left out."""
    from ..experiments.paired import band_text, figure_band
    from ..results.headlines import difference_text

    everything = [s for got in summaries.values() for s in got]
    moved = {e for s in everything for peaks in (s.prices, s.home_prices) for e, p in peaks.items()
             if p.peak_multiple >= MOVED}
    countries = {c for s in everything for c in s.countries}
    figures = [f for f in figures_for(everything) if f.subject in countries or f.subject == "world"
               or f.subject in moved]
    labels = list(summaries)
    rows, subject = [], None
    for f in figures:
        if paired:
            cells = [band_text(figure_band(summaries[label], f), f.unit) for label in labels]
        else:
            values = [value(summaries[label][0], f) for label in labels]
            cells = [text(values[0], f.unit)]
            for v in values[1:]:
                diff = difference_text(values[0], v, f.unit) if kind == "compare" else ""
                cells.append(text(v, f.unit) + (f" ({diff})" if diff else ""))
        if all(c == "—" for c in cells):
            continue
        unit = "" if f.unit in ("share", "date", "weeks", "x initial") else f.unit
        rows.append([f.subject if f.subject != subject else "", f.label, unit] + cells)
        subject = f.subject
    note = ("P50 [P5 .. P95] over the paired replications" if paired else
            f"in brackets the difference against {labels[0]}" if kind == "compare" else "")
    return Table("headline figures", ["", "figure", "unit"] + labels, rows, set(range(3, 3 + len(labels))), note)


# ---------------------------------------------------------------- an ensemble
def _ensemble(folder: Path, manifest: dict, scenario_file: Path | str | None) -> Briefing:
    import pandas as pd

    from ..experiments.ensemble import SHOWN, replication_folder
    from ..scenario.drawing import realise

    bands = pd.read_csv(folder / "headline_bands.csv", keep_default_na=False, na_values={
        c: [""] for c in ("p5", "p50", "p95", "happened")})
    n = int(manifest.get("replications") or 0)
    first = next((replication_folder(folder, r) / "summary.json" for r in range(n)
                  if (replication_folder(folder, r) / "summary.json").is_file()), None)
    if first is None:
        raise ReportError(f"{folder}: no replication's summary.json in {folder / 'replications'}")
    one = Summary.from_dict(_json(first))
    scenario, file = find_scenario(folder, manifest.get("scenario"), manifest.get("scenario_sha256"),
                                   (scenario_file,))
    header = [("scenario", str(manifest.get("scenario"))), ("dates", f"{one.start} .. {one.end}"),
              ("step", f"{one.step_days} days"),
              ("seed", f"{manifest.get('seed')} ({n} replications, replication r drawing from SeedSequence(seed)."
                       f"spawn({n})[r])")]
    shown = bands[bands["figure"].isin(SHOWN)]
    rows, subject = [], None
    for row in shown.itertuples():
        cells = [text(None if pd.isna(x) else (x if row.unit == "date" else float(x)), row.unit)
                 for x in (row.p5, row.p50, row.p95)]
        if all(c in NOTHING for c in cells):       # never short, never moved: the table keeps what happened
            continue
        rows.append([str(row.subject) if row.subject != subject else "", str(row.figure).replace("_", " "), *cells,
                     f"{100 * float(row.happened):.0f}%"])
        subject = row.subject
    table = Table(f"headline figures over {n} replications", ["", "figure", "P5", "P50", "P95", "happened in"],
                  rows, {2, 3, 4, 5}, "left out: figures that are nil in every replication (no shortfall, a price "
                                      "that never moved); all are in headline_bands.csv")
    unmet = bands[(bands["figure"] == "cumulative_unmet_t")].astype({"p50": float, "p95": float})
    worst = unmet[unmet["p95"] > SHORT_T].sort_values(["p50", "p95"], ascending=False)["subject"].head(EXPLAINED)
    explained = _ensemble_explained(folder, list(worst))
    note = ("each worst-hit country's parts, P5/P50/P95 over the replications" if explained else
            "no country was short in any replication: nothing to explain" if not len(worst) else
            "not explained here: " + ENSEMBLE_HINT)
    events = [] if scenario is None else _events(
        str(manifest.get("scenario")), [dict(zip(PARAMETER_COLUMNS, event_row(realise(event, None))))
                                                 for event in scenario.events])
    events_note = ("" if events else "no event in the scenario" if scenario is not None else
                   "the scenario's file was not found beside the results (or has changed since): its events are "
                   "not shown")
    return Briefing(
        "ensemble", f"{one.scenario}: {one.title} ({n} replications)" if one.title else one.scenario,
        [Question(one.scenario, one.title or "", question_of(scenario, file))], header, [table], explained, note,
        _plots(folder), events, events_note, (one.start, one.end),
        [_sha_table([(k, manifest.get(k)) for k in ("kind", "scenario", "scenario_sha256", "code_sha256", "seed",
                                                      "replications", "end")], "manifest.json")])
