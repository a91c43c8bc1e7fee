"""Command line: ``python -m sim [run] SCENARIO.yaml [options]`` runs a scenario; ``python -m sim validate FILE...``,
``python -m sim compare A.yaml B.yaml...``, ``python -m sim sweep SCENARIO.yaml --set KEY=V1,V2...`` and
``python -m sim report RESULTS_DIR`` (the briefing of a saved folder; ``--report`` writes it with the folder).

Thin client of the Python API; bad input exits 2 with the problems listed, never a traceback. Each command
imports what it uses when it runs (a run loads no comparison, sweep or back-test code, ``--version`` and
``--help`` next to nothing), so that starting is quick.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .errors import BacktestError, EnsembleError, OutputError, ReportError, ScenarioError
from .experiments.executors import DEFAULT_REPLICATIONS, EPISODE_REPLICATIONS, TRUST_WARNING
from .files import check_output, check_writable, write_failure
from .locks import FolderBusy, folder_lock
from .progress import progress_bar, say
from .version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .aside import Ahead
    from .results.periods import Period

COMMANDS = ("validate", "compare", "sweep", "size", "sensitivity", "golden", "backtest", "explain", "report")
INTERRUPTED = 130                       # as a shell reports a process ended by SIGINT
RUN = "run"                   # 'python -m sim run SCENARIO.yaml' is 'python -m sim SCENARIO.yaml'
VERSION = f"python -m sim {__version__}"


def _validate(args: argparse.Namespace) -> int:
    from .scenario.loading import load_scenario
    from .world.describe import describe_scenario

    status = 0
    for n, file in enumerate(args.files):
        if n:
            print()
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            print(f"{file}: INVALID", file=sys.stderr)
            print(exc.report(), file=sys.stderr)
            status = 2
            continue
        if args.show:
            print(effective_yaml(file, scenario))
        else:
            print(f"{file}: valid")
            print(describe_scenario(scenario))
    return status


class _PlainDumper(yaml.SafeDumper):
    """Writes shared values out in full rather than as YAML anchors and aliases."""

    def ignore_aliases(self, data) -> bool:
        return True


def effective_yaml(file: Path, scenario) -> str:
    """The scenario as it stands after 'extends' and merging, name and title first."""
    from .scenario.loading import read_scenario

    data = read_scenario(file).data
    head = {"name": scenario.name, "title": data.get("title"), "description": data.get("description")}
    ordered = {k: v for k, v in head.items() if v is not None} | {k: v for k, v in data.items() if k not in head}
    return yaml.dump(ordered, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=110).rstrip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="Rare-earth supply-chain simulator. 'python -m sim SCENARIO.yaml' (or 'python -m sim run "
                    "SCENARIO.yaml') runs a scenario (see 'python -m sim run --help'); the commands below check, "
                    "compare and sweep scenarios and regenerate the golden reference (see 'python -m sim COMMAND "
                    "--help').")
    parser.add_argument("--version", action="version", version=VERSION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(RUN, help="run a scenario: 'python -m sim run SCENARIO.yaml [options]', the same as "
                             "'python -m sim SCENARIO.yaml [options]'", add_help=False)
    val = sub.add_parser("validate", help="check scenario files and print a one-screen summary of each")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE")
    val.add_argument("--show", action="store_true",
                     help="print the effective scenario (after 'extends' and merging) as YAML")
    val.set_defaults(func=_validate)

    cmp = sub.add_parser(
        "compare", help="run (or reuse saved runs of) several scenarios; print and write their headline "
                        "differences and overlaid plots",
        description="Run several scenarios, or reuse the runs saved in results/<name>/ when their manifest shows "
                    "the same scenario, model code, seed and dates; print a table of headline figures with the "
                    "differences against the first scenario; write it (table.csv), the monthly series "
                    "(monthly.csv), the summaries and overlaid plots to a folder, atomically. When any scenario "
                    "has uncertain inputs, each runs the same N replications (common random numbers) and the "
                    "table gives P50 [P5 .. P95] of each figure and of the paired differences (per replication, "
                    "the scenario's value minus the first's).")
    cmp.add_argument("files", nargs="+", type=Path, metavar="SCENARIO.yaml", help="two or more scenarios; "
                     "differences are taken against the first")
    cmp.add_argument("--out", type=Path, metavar="DIR",
                     help="comparison folder (default: results/compare_<name1>_vs_<name2>... beside the first "
                          "scenario's project)")
    _run_options(cmp)
    _replication_options(cmp)
    cmp.add_argument("--rerun", action="store_true", help="run every scenario even when a saved (plain) run would do")
    cmp.set_defaults(func=_compare)

    swp = sub.add_parser(
        "sweep", help="run a scenario once per value of one parameter; print and write a table and a plot",
        description="Run a scenario once per value of one parameter, set in the merged scenario (after "
                    "'extends') and validated like a hand-written file; print a table of headline figures, "
                    "one row per value; write it (table.csv), the monthly series, the summaries and plots "
                    "of the metric against the value to a folder, atomically. When the scenario has uncertain "
                    "inputs, each value runs the same N replications (common random numbers) and the table "
                    "gives P50 [P5 .. P95] of each figure and of its paired difference against the first value.")
    swp.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    swp.add_argument("--set", dest="assignments", action="append", required=True, metavar="KEY.PATH=V1,V2,...",
                     help="the parameter and its values, e.g. stockpiles.JP.days=30,60,90,180 or "
                          "events.cn_japan_dual_use_ban.start=2026-01-06,2026-04-01 (list items by number or "
                          "id; values read as YAML); twice for a grid of two parameters, every pair of values, "
                          "drawn as a heat map of the metric")
    swp.add_argument("--metric", metavar="NAME",
                     help="the figure plotted against the value: COUNTRY (its peak shortfall), ELEMENT (its peak "
                          "price), FIGURE (of the most affected country) or COUNTRY.FIGURE, e.g. "
                          "JP.weeks_to_shortfall (default: the most affected country's peak shortfall)")
    swp.add_argument("--out", type=Path, metavar="DIR",
                     help="sweep folder (default: results/<name>_sweep_<parameter>/ beside the scenario's project)")
    _run_options(swp)
    _replication_options(swp)
    swp.set_defaults(func=_sweep)

    siz = sub.add_parser(
        "size", help="find the smallest value of one lever that meets a target in a stated share of replications",
        description="Set one lever of a scenario (a key path, as for sweep) to values in a range and run each as "
                    "the same paired replications (common random numbers); count the replications whose headline "
                    "figure meets the target; find the smallest value meeting it in at least --confidence of them, "
                    "by bisection where the share rises steadily with the lever (else over a grid). Print the "
                    "values tried and the answer with its bootstrap band; write curve.csv, replications.csv, "
                    "summaries.json, manifest.json and plots/confidence.png to a folder, atomically.")
    siz.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    siz.add_argument("--lever", required=True, metavar="KEY.PATH", help="the lever, e.g. stockpiles.JP.days")
    siz.add_argument("--range", dest="span", required=True, metavar="LOW..HIGH",
                     help="the values to search, e.g. 0..720 (whole numbers: the answer is a whole number)")
    siz.add_argument("--target", required=True, metavar="'COUNTRY.FIGURE OP NUMBER'",
                     help="what must hold in a replication, e.g. 'JP.weeks_to_plant_shortfall >= 52' or "
                          "'JP.peak_shortfall_share <= 5%%' (OP: >=, <=, >, <; a figure that never happened, "
                          "such as weeks to a shortfall that never came, is larger than any number)")
    siz.add_argument("--confidence", type=float, default=0.95, metavar="SHARE",
                     help="the share of replications that must meet the target (default 0.95)")
    siz.add_argument("--resolution", type=float, metavar="STEP",
                     help="how finely to find the answer (default 1 for whole numbers, else 1/64 of the range)")
    siz.add_argument("--out", type=Path, metavar="DIR",
                     help="sizing folder (default: results/<name>_size_<lever>/ beside the scenario's project)")
    siz.add_argument("--end", type=_date, metavar="YYYY-MM-DD", help="stop every run early (within the calendar)")
    siz.add_argument("--seed", type=int, help="random seed of the replications (default: the scenario's run.seed)")
    siz.add_argument("--no-plots", action="store_true", help="write tables only")
    siz.add_argument("--quiet", action="store_true", help="print nothing but errors")
    _replication_options(siz)
    siz.set_defaults(func=_size, report=False)         # no briefing of a sizing yet

    sen = sub.add_parser(
        "sensitivity", help="rank the inputs that drive a headline figure: Sobol' indices or Morris screening",
        description="Vary several inputs of a scenario at once over a designed sample (SALib: Saltelli's scheme for "
                    "Sobol' first- and total-order indices, or Morris screening), run every sample (local processes "
                    "or a Dask cluster), and print each input's indices for each headline figure, with 95%% "
                    "intervals. Write runs.csv (each run's inputs beside its figures), indices.csv, manifest.json "
                    "and plots/indices.png to a folder, atomically.")
    sen.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    sen.add_argument("--vary", action="append", default=[], metavar="KEY.PATH[=LOW..HIGH]",
                     help="an input: KEY.PATH=LOW..HIGH varies it uniformly (whole numbers if both ends are, dates "
                          "if both are dates), KEY.PATH alone takes the distribution the scenario declares there "
                          "(repeat; default: every distribution the scenario declares that is drawn once per run)")
    sen.add_argument("--samples", type=int, default=64, metavar="N",
                     help="Sobol': base samples, a power of 2 (N × (inputs + 2) samples); Morris: trajectories "
                          "(N × (inputs + 1) samples). Default 64")
    sen.add_argument("--method", choices=("sobol", "morris"), default="sobol",
                     help="sobol (default): first- and total-order indices; morris: cheaper screening of many inputs")
    sen.add_argument("--metric", dest="metrics", action="append", default=[], metavar="NAME",
                     help="a headline figure, as sweep's --metric (repeat; default: the most affected country's "
                          "peak shortfall, unmet t, weeks to shortfall and output at risk)")
    sen.add_argument("--replications", type=int, default=1, metavar="K",
                     help="replications of each sample (the same K for every sample: common random numbers), "
                          "averaged; default 1")
    sen.add_argument("--workers", type=int, metavar="W", help="local worker processes (default: all cores)")
    _scheduler_options(sen, "the samples")
    sen.add_argument("--out", type=Path, metavar="DIR", help="folder (default: results/<name>_sensitivity_<method>/ "
                                                             "beside the scenario's project)")
    sen.add_argument("--end", type=_date, metavar="YYYY-MM-DD", help="stop every run early (within the calendar)")
    sen.add_argument("--seed", type=int, help="random seed of the sample and the runs (default: the scenario's "
                                              "run.seed)")
    sen.add_argument("--no-plots", action="store_true", help="write tables only")
    sen.add_argument("--quiet", action="store_true", help="print nothing but errors")
    sen.set_defaults(func=_sensitivity, report=False)

    gold = sub.add_parser(
        "golden", help="rerun the baseline, print what changed against results/baseline/ and rewrite it if "
                       "anything did",
        description="Rerun scenarios/baseline.yaml, print every difference from the committed golden reference "
                    "(results/baseline/summary.json and monthly.csv) and rewrite it; an unchanged reference is left "
                    "untouched. Do this on purpose, and "
                    "commit the new reference with a message that says why the numbers moved.")
    gold.set_defaults(func=_golden)

    back = sub.add_parser(
        "backtest", help="replay past episodes and score the model against what was observed",
        description="Run each episode of the targets in seeds/ (as an ensemble where the episode has uncertain "
                    "inputs), compare every target with its simulated counterpart and print the scorecard: "
                    "target, observed, band, simulated P50 [P5-P95], pass. Write scorecard.csv, "
                    "replications.csv and one plot per episode to a folder, atomically.")
    back.add_argument("episodes", nargs="*", metavar="EPISODE",
                      help="episodes to replay, by scenario name (default: all of seeds/)")
    back.add_argument("--replications", type=int, default=EPISODE_REPLICATIONS, metavar="N",
                      help=f"replications of an episode with uncertain inputs (default {EPISODE_REPLICATIONS})")
    back.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: all cores)")
    back.add_argument("--out", type=Path, metavar="DIR", help="scorecard folder (default: results/backtest/)")
    back.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY.PATH=VALUE",
                      help="set a key path in every episode's scenario, e.g. prices.scarcity_elasticity=3 "
                           "(repeatable): try a parameter on history")
    back.add_argument("--no-plots", action="store_true", help="write tables only")
    back.add_argument("--quiet", action="store_true", help="print nothing but errors")
    back.set_defaults(func=_backtest)

    why = sub.add_parser(
        "explain", help="why a country was short in a saved run: its unmet demand in parts, by maker, stage, "
                        "element, supplier and measure",
        description="Read a run's results folder and split a country's unmet end-use magnet demand over a period "
                    "(by default its worst calendar year) into parts that add up to it: what each magnet maker "
                    "supplied less than its share of the reference year (the year before the first export "
                    "measure), and why (its plants short of an element, the oxide supplier lost and the measure "
                    "on that route; an export measure on the route of magnets; the market), less what the "
                    "country re-sourced; with its stockpile's release and the parameters named, with their "
                    "sources. Prints the account; writes the parts (CSV) and a waterfall chart (PNG) into "
                    "RESULTS_DIR/explain/. On an ensemble's folder: each replication explained over the same "
                    "periods, and the P5, P50 and P95 of each part.")
    why.add_argument("folder", type=Path, metavar="RESULTS_DIR",
                     help="a run's folder (results/<name>/) or an ensemble's (results/<name>_ensemble/)")
    why.add_argument("--country", required=True, metavar="CODE", help="the country, by its code (JP, KR, ...)")
    why.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD",
                     help="the first period read: the one starting on or after this day")
    why.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD",
                     help="the last period read: the last one starting on or before this day")
    why.add_argument("--no-plots", action="store_true", help="write the parts only, no waterfall chart")
    why.set_defaults(func=_explain)

    brief = sub.add_parser(
        "report", help="write the briefing of a saved run, comparison, sweep or ensemble: RESULTS_DIR/report.html",
        description="Write report.html into a results folder (a run's, a comparison's, a sweep's or an ensemble's): "
                    "one self-contained page, plots embedded, no internet needed, readable on a laptop and "
                    "printable, with the scenario's question and header, the headline figures, why the "
                    "worst-hit countries were short, the plots, the events on a timeline, the sources cited "
                    "with their ids and the manifest. Of a run it also writes the explanations into "
                    "RESULTS_DIR/explain/. '--report' on a run, compare or sweep writes it with the folder.")
    brief.add_argument("folder", type=Path, metavar="RESULTS_DIR", help="a results folder, e.g. results/japan_ban")
    brief.add_argument("--scenario", type=Path, metavar="SCENARIO.yaml",
                       help="the scenario the results were made from, for its question and events (default: "
                            "scenarios/<name>.yaml of the project the folder is in, if it is unchanged)")
    brief.set_defaults(func=_report)
    return parser


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    try:
        path = write_report(args.folder, args.scenario)
    except ReportError as exc:
        print(f"python -m sim report: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        return _write_failed(args.folder, exc, "report")
    print(f"report in {path}")
    return 0


def _briefing(scenario_file: Path | None):
    """What ``--report`` adds to a folder as it is saved: ``sim.report.write_report`` (sent by name to a writer)."""
    import functools

    from .report import write_report

    return functools.partial(write_report, scenario_file=scenario_file)


def _said_report(args: argparse.Namespace, out: Path) -> None:
    if args.report and not args.quiet:
        print(f"report in {out / 'report.html'}")


def _explain(args: argparse.Namespace) -> int:
    from .experiments.manifest import read_manifest
    from .files import write_table

    where = f"python -m sim explain {args.folder}"
    manifest = read_manifest(args.folder) if args.folder.is_dir() else None
    kind = (manifest or {}).get("kind")
    if kind not in ("run", "ensemble"):
        print(f"{where}: not the folder of a run or an ensemble (expected the folder one writes, with "
              f"manifest.json, e.g. results/japan_ban or results/japan_ban_uncertain_ensemble)", file=sys.stderr)
        return 2
    try:
        explanation = _explanation(args, kind)
    except FileNotFoundError as exc:
        print(f"{where}: {exc}; the run was saved by an older version: run its scenario again", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 2
    print(explanation.text())
    stem = args.folder / "explain" / (f"{explanation.country}_{explanation.start:%Y-%m}_{explanation.end:%Y-%m}")
    try:
        stem.parent.mkdir(exist_ok=True)
        written = write_table(explanation.parts, stem, ("csv",))
        if kind == "run" and not args.no_plots:
            from .plots.explain import save_waterfall

            note = f"Scenario {manifest.get('scenario')} (seed {manifest.get('seed')}): parts of the unmet t"
            written.append(save_waterfall(explanation, stem.with_suffix(".png"), note))
    except OSError as exc:
        return _write_failed(stem.parent, exc, "explain")
    print(f"written: {', '.join(str(p) for p in written)}")
    return 0


def _explanation(args: argparse.Namespace, kind: str):
    """The explanation ``explain`` asks for: of a run, or of an ensemble's replications."""
    if kind == "ensemble":
        from .experiments.ensemble import explain_ensemble

        return explain_ensemble(args.folder, args.country, args.start, args.end)
    from .results.explain import explain, read_tables

    return explain(read_tables(args.folder), args.country, args.start, args.end)


def _run_options(parser: argparse.ArgumentParser) -> None:
    """--end, --seed, --no-plots, --quiet: as for a single run."""
    parser.add_argument("--end", type=_date, metavar="YYYY-MM-DD", help="stop every run early (within the calendar)")
    parser.add_argument("--seed", type=int, help="random seed of every run (default: each scenario's run.seed)")
    parser.add_argument("--no-plots", action="store_true", help="write tables only")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument("--report", action="store_true",
                        help="also write report.html, the briefing, into the folder (see 'python -m sim report')")


def _replication_options(parser: argparse.ArgumentParser) -> None:
    """--replications, --workers: the paired ensembles of a comparison or sweep with uncertain inputs."""
    parser.add_argument("--replications", type=int, metavar="N",
                        help=f"paired replications of each run when any input is uncertain (default "
                             f"{DEFAULT_REPLICATIONS}; without uncertain inputs one run each); 1 makes one draw")
    parser.add_argument("--workers", type=int, metavar="W",
                        help="local worker processes for the replications (default: all cores)")


def _bad_counts(args: argparse.Namespace, command: str) -> bool:
    for name in ("replications", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"python -m sim {command}: --{name} must be at least 1, got {value}", file=sys.stderr)
            return True
    return False


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _period(text: str) -> Period:
    """A flows-chart period: ``2026``, ``2026-Q1``, ``2026-03``, or ``2025-07-01..2026-06-30`` (days included)."""
    from .results.periods import Period

    try:
        return Period.parse(text.split("..") if ".." in text else text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim [run]", description="Run a scenario and write its tables, summary and plots.",
        epilog="Other commands: 'python -m sim validate FILE...' checks scenario files; 'python -m sim compare "
               "A.yaml B.yaml...' sets scenarios side by side; 'python -m sim sweep SCENARIO.yaml --set "
               "KEY.PATH=V1,V2...' runs one parameter over a list of values; 'python -m sim golden' regenerates "
               "the baseline's golden reference.")
    parser.add_argument("--version", action="version", version=VERSION)
    parser.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="results folder (default: results/<scenario name>/ beside the scenarios folder)")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's run.seed)")
    parser.add_argument("--end", type=_date, metavar="YYYY-MM-DD", help="stop before the calendar's end")
    parser.add_argument("--no-plots", action="store_true", help="write tables and summary only")
    parser.add_argument("--flows-period", dest="flows_periods", action="append", type=_period,
                        metavar="YYYY|YYYY-Qn|YYYY-MM|FIRST..LAST",
                        help="a period of the flows chart, one panel each (repeat for more; default: the year "
                             "before the first export measure and the first year of it)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors (and no progress bar)")
    parser.add_argument("--report", action="store_true",
                        help="also write report.html, the briefing, into the results folder (see 'python -m sim "
                             "report')")
    parser.add_argument("--replications", type=int, metavar="N",
                        help="run a Monte Carlo ensemble of N replications (default: the scenario's "
                             "run.replications); writes results/<name>_ensemble/")
    parser.add_argument("--workers", type=int, metavar="W", help="local worker processes (default: all cores)")
    _scheduler_options(parser, "the ensemble's replications")
    parser.add_argument("--resume", action="store_true",
                        help="run only the replications missing from the ensemble's folder")
    parser.add_argument("--replication", type=int, metavar="R",
                        help="run replication R of the seed's ensemble alone (to rerun one that failed)")
    return parser


def _scheduler_options(parser: argparse.ArgumentParser, what: str) -> None:
    """--scheduler and its TLS files: ``what`` runs on a Dask cluster instead of local processes."""
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help=f"run {what} on this Dask cluster instead of local processes; its workers must see "
                             "the results folder at the same path (a shared disk). Warning: " + TRUST_WARNING)
    parser.add_argument("--tls-ca-file", metavar="PEM", help="with a tls:// --scheduler: the CA certificate the "
                        "scheduler's certificate must be signed by (default: Dask's distributed.comm.tls.ca-file)")
    parser.add_argument("--tls-cert", metavar="PEM", help="with a tls:// --scheduler: this client's certificate "
                        "(default: Dask's distributed.comm.tls.client.cert)")
    parser.add_argument("--tls-key", metavar="PEM", help="with a tls:// --scheduler: this client's private key, "
                        "unless it is in the certificate file (default: Dask's distributed.comm.tls.client.key)")


def _bad_scheduler(args: argparse.Namespace, command: str = "") -> bool:
    """True (with one line printed) when --scheduler, --workers and the TLS files do not go together."""
    where = f"python -m sim{' ' + command if command else ''}"
    if args.scheduler and args.workers is not None:
        print(f"{where}: --scheduler and --workers do not go together: --workers sets local processes, "
              "a Dask cluster has the workers it was started with", file=sys.stderr)
        return True
    tls = [f"--{name.replace('_', '-')}" for name in ("tls_ca_file", "tls_cert", "tls_key") if getattr(args, name)]
    if tls and not args.scheduler:
        print(f"{where}: {', '.join(tls)} go{'es' if len(tls) == 1 else ''} with a tls:// --scheduler",
              file=sys.stderr)
        return True
    return False


def _bad_seed(seed: int | None, command: str = "") -> bool:
    if seed is not None and seed < 0:
        print(f"python -m sim{' ' + command if command else ''}: --seed must be >= 0, got {seed}", file=sys.stderr)
        return True
    return False


def _cannot_write(out: Path | None, kind: str, command: str = "", default_place: Path | None = None) -> bool:
    """Before a run: True (with one line printed) when its output folder must not or cannot be written.

    ``out`` (--out) is checked whole (``sim.files.check_output``: not a file, not a folder of other
    things, a place that can be written); without it, ``default_place``, the folder the default output
    goes into, is checked for writing."""
    try:
        if out is not None:
            check_output(out, kind)
        elif default_place is not None:
            check_writable(default_place)
    except OutputError as exc:
        print(f"python -m sim{' ' + command if command else ''}: {exc}; nothing run", file=sys.stderr)
        return True
    return False


def _write_failed(out: Path, exc: OSError, command: str = "") -> int:
    """A failure while writing the output: one line, exit 2 (the folder is written whole or not at all)."""
    print(f"python -m sim{' ' + command if command else ''}: {write_failure(out, exc)}", file=sys.stderr)
    return 2


def _compare(args: argparse.Namespace) -> int:
    from .experiments.comparison import compare, describe_run
    from .experiments.comparison import default_folder as compare_folder
    from .experiments.single import default_out

    if _bad_seed(args.seed, "compare") or _bad_counts(args, "compare"):
        return 2
    if len(args.files) < 2:
        print(f"python -m sim compare: needs at least two scenarios, got {len(args.files)}", file=sys.stderr)
        return 2
    if _cannot_write(args.out, "compare", "compare", default_out(args.files[0], "compare").parent):
        return 2
    report = None if args.quiet else (lambda run: print("  " + describe_run(run), flush=True))
    try:
        result = compare(args.files, seed=args.seed, end=args.end, rerun=args.rerun, progress=report,
                         replications=args.replications, workers=args.workers)
    except ScenarioError as exc:
        print("python -m sim compare: cannot compare; nothing written", file=sys.stderr)
        print(exc.report(), file=sys.stderr)
        return 2
    except EnsembleError as exc:
        print(f"python -m sim compare: {exc}; nothing written", file=sys.stderr)
        return 1
    return _save_and_show(result, args.out or compare_folder(args.files[0], result.labels), args, "comparison",
                          "compare")


def _save_and_show(result, out: Path, args: argparse.Namespace, what: str, command: str,
                   scenario_file: Path | None = None) -> int:
    """Write a comparison, a sweep or a sizing to ``out`` (with its report, with --report) and print its table
    (unless --quiet)."""
    try:
        result.save(out, plots=not args.no_plots, extra=_briefing(scenario_file) if args.report else None)
    except OSError as exc:
        return _write_failed(out, exc, command)
    except ReportError as exc:
        print(f"python -m sim {command}: cannot write the report: {exc}; nothing written", file=sys.stderr)
        return 2
    if not args.quiet:
        print()
        print(result.text())
        print(f"{what} in {out}")
    _said_report(args, out)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .experiments.single import default_out
    from .experiments.sweeps import default_folder as sweep_folder
    from .experiments.sweeps import sweep
    from .scenario.loading import read_scenario
    from .scenario.overrides import resolve, split_assignment

    if _bad_seed(args.seed, "sweep") or _bad_counts(args, "sweep"):
        return 2
    if _cannot_write(args.out, "sweep", "sweep", default_out(args.scenario, "sweep").parent):
        return 2

    def made():
        if len(args.assignments) > 2:
            raise ScenarioError.single("--set", f"a sweep varies one parameter, or two as a grid; got "
                                                f"{len(args.assignments)} --set options "
                                                f"({', '.join(args.assignments)})")
        doc = read_scenario(args.scenario)
        axes = []
        for assignment in args.assignments:
            written, values = split_assignment(assignment)
            parameter = resolve(doc, written)
            axes.append((parameter, values))
            if not args.quiet:
                notes = "".join(f"{note}; " for note in parameter.notes)
                print(f"--set {written}: {notes}sweeping {parameter.dotted} over {len(values)} "
                      f"value{'s' if len(values) != 1 else ''}")
        swept = ", ".join(parameter.dotted for parameter, _ in axes)
        report = None if args.quiet else (lambda run: print(
            f"  {swept}={run.label}: " + (run.note if run.replications else f"ran in {run.seconds:.1f} s"),
            flush=True))
        return sweep(args.scenario, *axes[0], seed=args.seed, end=args.end, metric=args.metric, progress=report,
                     replications=args.replications, workers=args.workers, by=axes[1] if len(axes) == 2 else None)

    return _made_and_saved(args, made, "sweep", lambda result: sweep_folder(args.scenario, result.name,
                                                                           result.parameter, result.by),
                           "sweep", "sweep", args.scenario)


def _made_and_saved(args: argparse.Namespace, made, verb: str, folder, what: str, command: str,
                    scenario_file: Path | None = None) -> int:
    """An experiment of ``args.scenario`` (``made()``) saved and shown (``_save_and_show``); bad input exits 2
    and a failed replication 1, each with one report and nothing written."""
    try:
        result = made()
    except ScenarioError as exc:
        print(f"{args.scenario}: cannot {verb}; nothing written", file=sys.stderr)
        print(exc.report(), file=sys.stderr)
        return 2
    except EnsembleError as exc:
        print(f"{args.scenario}: cannot {verb}: {exc}; nothing written", file=sys.stderr)
        return 1
    return _save_and_show(result, args.out or folder(result), args, what, command, scenario_file)


def _size(args: argparse.Namespace) -> int:
    from .experiments.single import default_out
    from .experiments.sizing import default_folder as size_folder
    from .experiments.sizing import parse_range, size
    from .scenario.loading import read_scenario
    from .scenario.overrides import resolve

    if _bad_seed(args.seed, "size") or _bad_counts(args, "size"):
        return 2
    if _cannot_write(args.out, "sizing", "size", default_out(args.scenario, "size").parent):
        return 2

    def made():
        low, high = parse_range(args.span)
        lever = resolve(read_scenario(args.scenario), args.lever, "--lever")
        if not args.quiet and lever.notes:
            print(f"--lever {args.lever}: {'; '.join(lever.notes)}")
        report = None if args.quiet else (lambda said: print(f"  {said}", flush=True))
        return size(args.scenario, lever, low, high, args.target, confidence=args.confidence,
                    replications=args.replications, seed=args.seed, end=args.end, workers=args.workers,
                    resolution=args.resolution, progress=report)

    return _made_and_saved(args, made, "size", lambda result: size_folder(args.scenario, result.name, result.lever),
                           "sizing", "size")


def _sensitivity(args: argparse.Namespace) -> int:
    from .experiments.executors import security_for
    from .experiments.sensitivity import default_folder as sensitivity_folder
    from .experiments.sensitivity import sensitivity
    from .experiments.single import default_out

    if _bad_seed(args.seed, "sensitivity") or _bad_counts(args, "sensitivity") or _bad_scheduler(args, "sensitivity"):
        return 2
    if _cannot_write(args.out, "sensitivity", "sensitivity", default_out(args.scenario, "sensitivity").parent):
        return 2
    if not args.scheduler:
        _compile_first(args.quiet)

    def made():
        security = security_for(args.scheduler, args.tls_ca_file, args.tls_cert, args.tls_key) \
            if args.scheduler else None
        return sensitivity(args.scenario, args.vary, samples=args.samples, method=args.method, metrics=args.metrics,
                           replications=args.replications, seed=args.seed, end=args.end, workers=args.workers,
                           scheduler=args.scheduler, security=security,
                           progress=progress_bar(args.quiet, "run", "samples"))

    return _made_and_saved(args, made, "run the sensitivity analysis",
                           lambda result: sensitivity_folder(args.scenario, result.name, result.method),
                           "sensitivity analysis", "sensitivity")


def _backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest
    from .backtest import default_folder as backtest_folder

    for name in ("replications", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"python -m sim backtest: --{name} must be at least 1, got {value}", file=sys.stderr)
            return 2
    out = args.out or backtest_folder()
    if _cannot_write(out, "backtest", "backtest"):
        return 2
    bar = progress_bar(args.quiet, "run", "back-test")
    try:
        settings = dict(_one_value(a) for a in args.assignments)
        scorecard = backtest(args.episodes, replications=args.replications, workers=args.workers, progress=bar,
                             settings=settings)
    except ScenarioError as exc:
        print("python -m sim backtest: cannot replay; nothing written", file=sys.stderr)
        print(exc.report(), file=sys.stderr)
        return 2
    except BacktestError as exc:
        print(f"python -m sim backtest: {exc}; nothing written", file=sys.stderr)
        return 2
    try:
        scorecard.save(out, plots=not args.no_plots)
    except OSError as exc:
        return _write_failed(out, exc, "backtest")
    if not args.quiet:
        print(scorecard.text())
        print(f"scorecard in {out}")
    return 0


def _one_value(assignment: str) -> tuple[str, object]:
    """``KEY.PATH=VALUE`` -> (key path, value); a ScenarioError unless exactly one value is given."""
    from .scenario.overrides import split_assignment

    key, values = split_assignment(assignment)
    if len(values) != 1:
        raise ScenarioError.single("--set", f"{key}: one value to set, got {len(values)} ({assignment})")
    return key, values[0]


def _golden(args: argparse.Namespace) -> int:
    from .experiments.golden import REFERENCE, regenerate

    changes = regenerate()
    if not changes:
        print(f"baseline unchanged; {REFERENCE} left as it is")
        return 0
    print("\n".join(changes))
    print(f"reference written to {REFERENCE}")
    return 0


def _run(argv: list[str]) -> int:
    args = _run_parser().parse_args(argv)
    if _bad_run_arguments(args):
        return 2
    with _writer(not args.no_plots) as writer:
        return _run_with(args, writer)


def _bad_run_arguments(args: argparse.Namespace) -> bool:
    """True (with one line printed) when a run's options do not go together."""
    if _bad_seed(args.seed):
        return True
    for name in ("replications", "workers", "replication"):
        value = getattr(args, name)
        if value is not None and value < (1 if name != "replication" else 0):
            print(f"python -m sim: --{name} must be >= {1 if name != 'replication' else 0}, got {value}",
                  file=sys.stderr)
            return True
    if _bad_scheduler(args):
        return True
    if args.scheduler and args.replication is not None:
        print("python -m sim: --scheduler and --replication do not go together: one replication alone runs "
              "locally", file=sys.stderr)
        return True
    if args.replication is not None and (args.replications is not None or args.resume):
        print("python -m sim: --replication R runs one replication alone; it does not go with --replications "
              "or --resume (which fills the gaps of an ensemble)", file=sys.stderr)
        return True
    return False


def _run_with(args: argparse.Namespace, writer: Ahead | None) -> int:
    """python -m sim SCENARIO.yaml, its options checked: ``writer`` writes a single run's folder (or is
    stopped, for an ensemble or a failure)."""
    from .engine.simulation import collector_paused
    from .experiments.saving import save
    from .experiments.single import check_end, default_out, is_random, run
    from .results.report import run_report
    from .scenario.loading import load_scenario

    out = args.out
    try:
        scenario = load_scenario(args.scenario)
        check_end(args.scenario, scenario, args.end)
        last_day = args.end or scenario.calendar.end
        for period in args.flows_periods or ():
            if not (period.start <= last_day and period.end > scenario.calendar.start):
                raise ScenarioError.single(args.scenario, f"--flows-period {period.label} lies outside the run "
                                           f"{scenario.calendar.start} .. {last_day}")
        replications = args.replications or scenario.run.replications
        if args.replication is None and (replications > 1 or args.resume):
            if writer is not None:
                writer.stop()           # its core to the ensemble's workers
            return _ensemble(args, scenario, replications)
        if args.scheduler:
            print(f"python -m sim: --scheduler runs an ensemble on a Dask cluster, and {args.scenario} asks for one "
                  "run; give --replications N (N > 1)", file=sys.stderr)
            return 2
        alone = "" if args.replication is None else f"_r{args.replication:05d}"
        out = args.out or default_out(args.scenario, scenario.name + alone)
        if _cannot_write(out, "run"):
            return 2
        said = _compile_first(args.quiet)
        # the lock before the run: a folder another run is writing is refused at once
        with folder_lock(out), collector_paused(), _first_use_said(args.quiet or said):
            started = time.perf_counter()
            results = run(scenario, seed=args.seed, end=args.end, replication=args.replication,
                          progress=progress_bar(args.quiet, "step", scenario.name))
            seconds = time.perf_counter() - started
            summary = results.summary()    # before the writer takes the results, which then carry it
            save(results, out, plots=False if args.no_plots else None, flows_periods=args.flows_periods,
                 plots_beside=True, writer=writer, extra=_briefing(args.scenario) if args.report else None)
    except ScenarioError as exc:
        print(f"{args.scenario}: INVALID", file=sys.stderr)
        print(exc.report(), file=sys.stderr)
        return 2
    except OSError as exc:
        return _write_failed(out, exc)
    except ReportError as exc:
        print(f"python -m sim: cannot write the report: {exc}; nothing written", file=sys.stderr)
        return 2
    if not args.quiet:
        print(run_report(summary, seconds, cap=results.scenario.prices.max_multiple))
        print(f"results in {out}")
        worst = max(summary.countries.items(), key=lambda kv: kv[1].cumulative_unmet_t, default=None)
        if worst is not None and worst[1].cumulative_unmet_t > 1e-6:
            print(f"why {worst[0]} is short: python -m sim explain {out} --country {worst[0]}")
        if args.replication is None and is_random(scenario):
            print(f"note: {scenario.name} has uncertain inputs and this run is one draw of them (seed "
                  f"{results.seed}); --replications N gives their P5/P50/P95 bands", file=sys.stderr)
    _said_report(args, out)
    return 0


@contextmanager
def _writer(plots: bool) -> Iterator[Ahead | None]:
    """The process that writes a single run's folder (``sim.aside.ahead``), started before the run: it loads
    the model's modules, pandas, Parquet's writer (and matplotlib, unless ``plots`` is False) on the second
    core while this process loads them, the scenario, and runs it. None where forking does not pay.

    Started before the engine's libraries are imported, not after: with the kernels compiled ahead the run
    ends before a writer started after them (0.4 s of loading pandas and matplotlib) is ready. It prepares for
    the scenarios' default outputs (Parquet and CSV, plots): what a scenario's ``outputs`` leave out it loaded
    for nothing, on a core that had nothing else to do."""
    from .aside import ahead, can_fork

    if not can_fork():
        yield None
        return

    def prepare() -> None:
        gc.disable()         # a short-lived process that keeps most of what it makes (``collector_paused``)
        from .experiments.saving import ready_to_save

        ready_to_save(("parquet", "csv"), plots)

    with ahead(prepare) as writer:
        yield writer


def _ensemble(args: argparse.Namespace, scenario, replications: int) -> int:
    """python -m sim SCENARIO.yaml --replications N: run (or resume) an ensemble and print its bands."""
    from .experiments.ensemble import Interrupted, run_ensemble
    from .experiments.executors import security_for
    from .experiments.single import default_out, is_random

    out = args.out or default_out(args.scenario, f"{scenario.name}_ensemble")
    if _cannot_write(out, "ensemble"):
        return 2
    if not args.quiet and not is_random(scenario):
        print(_no_randomness_note(args.scenario, scenario.name, replications), file=sys.stderr)
    if not args.scheduler:           # a cluster's workers have caches of their own
        _compile_first(args.quiet)
    started = time.perf_counter()
    end = f" --end {args.end}" if args.end else ""
    try:
        security = security_for(args.scheduler, args.tls_ca_file, args.tls_cert, args.tls_key) \
            if args.scheduler else None
        with folder_lock(out):                          # the plots too
            ensemble = run_ensemble(scenario, replications, out, seed=args.seed, end=args.end,
                                    workers=args.workers, resume=args.resume,
                                    progress=progress_bar(args.quiet, "run", "replications"),
                                    scheduler=args.scheduler, security=security)
            seconds = time.perf_counter() - started
            if scenario.outputs.plots and not args.no_plots:   # as a single run: the scenario's setting
                ensemble.plot()                                # <out>/plots/*.png; loads matplotlib only now
            if args.report:
                _briefing(args.scenario)(out)
    except (EnsembleError, ReportError) as exc:
        print(f"{args.scenario}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:        # finished replications stay on disk: --resume takes them up
        print(f"python -m sim: {write_failure(out, exc).removesuffix('; nothing written')}; finished "
              f"replications are kept (--resume goes on from them)", file=sys.stderr)
        return 2
    except Interrupted as stop:
        print(f"\n{args.scenario}: interrupted; {stop.saved} of {stop.replications} replications are saved in "
              f"{stop.folder}\n  resume with: python -m sim {args.scenario} --replications {stop.replications} "
              f"--seed {stop.seed}{end} --out {stop.folder} --resume", file=sys.stderr)
        return INTERRUPTED
    for failure in ensemble.failures:
        print(f"replication {failure.replication} (seed {failure.seed}) failed: {failure.error}\n"
              f"  rerun it alone: python -m sim {args.scenario} --seed {failure.seed} "
              f"--replication {failure.replication}{end}", file=sys.stderr)
    if ensemble.failures:
        print(f"  fill the gaps once mended: python -m sim {args.scenario} --replications {replications} "
              f"--seed {ensemble.seed}{end} --out {out} --resume", file=sys.stderr)
    if not args.quiet:
        print(ensemble.text(seconds))
        print(f"ensemble in {out}")
    _said_report(args, out)
    return 1 if ensemble.failures else 0


def _compile_first(quiet: bool) -> bool:
    """Where the engine's kernels are not compiled yet (a new machine, or new code), compile them first on
    every core (``sim.kernels.precompile``), and say so: a minute of silence at the first run would look
    like a hang. True when it said so."""
    from . import kernels

    if kernels.compiled():
        return False
    if not quiet:
        print("python -m sim: compiling the engine for this machine, once (a minute or two on 2 cores; later "
              "runs start at once)", file=sys.stderr)
    kernels.precompile()
    return not quiet


@contextmanager
def _first_use_said(quiet: bool) -> Iterator[None]:
    """Within the block (a run in this process), say so when a kernel starts compiling: where the cache holds
    the kernels of earlier runs, one this run is the first to use (an export licence's, after runs without one)
    compiles in the run, seconds of silence otherwise. Once; not from processes forked in the block."""
    if quiet:
        yield
        return
    from numba.core import event

    here = os.getpid()

    class FirstUse(event.Listener):
        said = False

        def on_start(self, happened: event.Event) -> None:
            kernel = happened.data["dispatcher"].py_func
            if not self.said and os.getpid() == here and kernel.__module__.startswith("sim.kernels."):
                self.said = True
                say(f"python -m sim: compiling the kernels this run is the first to use ({kernel.__name__} ...), "
                    f"once (up to half a minute)")

        def on_end(self, happened: event.Event) -> None:
            pass

    with event.install_listener("numba:compile", FirstUse()):
        yield


def _no_randomness_note(file: Path, name: str, replications: int) -> str:
    """One line for an ensemble of a scenario without uncertain input: every replication will be the same."""
    uncertain = file.with_name(f"{file.stem}_uncertain.yaml")
    hint = (f"see {uncertain.name} for its uncertain version" if uncertain.is_file() else
            "write an input as a distribution, e.g. {dist: triangular, low: 20, mode: 45, high: 63}, to get a band")
    return (f"note: {name} has no uncertain input (no distributions, no event probabilities, no licences that "
            f"can refuse): its {replications} replications will be identical; {hint}")


def main(argv: list[str] | None = None) -> int:
    """The command line. Exit 2 on bad input or an output folder another run is writing; 130 on Ctrl-C, in
    one line; output cut short by its reader (``| head -1``) ends it quietly, not with a traceback."""
    try:
        code = _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except FolderBusy as exc:
        print(f"python -m sim: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\npython -m sim: interrupted; no partial output was left", file=sys.stderr)
        code = INTERRUPTED
    if code == INTERRUPTED:
        _forget_uncaught_ctrl_c()
    return code


def _forget_uncaught_ctrl_c() -> None:
    """Keep the exit status 130 for a Ctrl-C we handled.

    CPython marks a Ctrl-C as never caught when it leaves code run from a string (``exec("...")``), even if
    a caller catches it later, and then ends the process by SIGINT instead of with its exit status. SciPy,
    which Numba imports as the engine starts, runs such strings, so a Ctrl-C in the first tenth of a second
    of a run ended as a death by signal. The mark is cleared each time code from a string starts.
    """
    exec("None")  # noqa: S102 - a constant; only its start matters


def _main(argv: list[str]) -> int:
    if argv and argv[0] == RUN:
        return _run(argv[1:])
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        return _run(argv)
    args = _parser().parse_args(argv)
    return args.func(args)


def _quiet_stdout() -> None:
    """Point stdout at the null device, so that flushing it again at exit does not raise a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):      # stdout is not a file (a test's capture): nothing will be flushed to it
        pass
