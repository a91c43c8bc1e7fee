"""Command line: ``python -m sim SCENARIO.yaml [options]`` runs a scenario; ``python -m sim validate FILE...``.

Thin client of the Python API; bad input exits 2 with the problems listed, never a traceback.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import yaml

from .engine import Simulation
from .errors import Problem, ScenarioError
from .outputs import save
from .policies import NotModelled
from .report import headline
from .scenario import load_scenario, read_scenario
from .summary import scenario_summary
from .yamlfile import problem_at

COMMANDS = ("validate",)


def _validate(args: argparse.Namespace) -> int:
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
            print(scenario_summary(scenario))
    return status


class _PlainDumper(yaml.SafeDumper):
    """Writes shared values out in full rather than as YAML anchors and aliases."""

    def ignore_aliases(self, data) -> bool:
        return True


def effective_yaml(file: Path, scenario) -> str:
    """The scenario as it stands after 'extends' and merging, name and title first."""
    data = read_scenario(file).data
    head = {"name": scenario.name, "title": data.get("title"), "description": data.get("description")}
    ordered = {k: v for k, v in head.items() if v is not None} | {k: v for k, v in data.items() if k not in head}
    return yaml.dump(ordered, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=110).rstrip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="Rare-earth supply-chain simulator. 'python -m sim SCENARIO.yaml' runs a scenario "
                    "(see 'python -m sim SCENARIO.yaml --help'); 'python -m sim validate FILE...' checks scenarios.")
    sub = parser.add_subparsers(dest="command", required=True)
    val = sub.add_parser("validate", help="check scenario files and print a one-screen summary of each")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE")
    val.add_argument("--show", action="store_true",
                     help="print the effective scenario (after 'extends' and merging) as YAML")
    val.set_defaults(func=_validate)
    return parser


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim", description="Run a scenario and write its tables, summary and plots.",
        epilog="Other command: 'python -m sim validate FILE...' checks scenario files.")
    parser.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="results folder (default: results/<scenario name>/ beside the scenarios folder)")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's run.seed)")
    parser.add_argument("--end", type=_date, metavar="YYYY-MM-DD", help="stop before the calendar's end")
    parser.add_argument("--no-plots", action="store_true", help="write tables and summary only")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser


def default_out(scenario_file: Path, name: str) -> Path:
    """results/<name>/ of the project the scenario belongs to (the folder above scenarios/), else ./results."""
    here = scenario_file.resolve().parent
    root = here.parent if here.name == "scenarios" else Path.cwd()
    return root / "results" / name


def _not_modelled(file: Path, exc: NotModelled) -> ScenarioError:
    try:
        doc = read_scenario(file)
        return ScenarioError([problem_at(doc, ("events", exc.index, "type"), exc.reason)])
    except ScenarioError:
        return ScenarioError([Problem(str(file), f"events[{exc.index}].type", None, exc.reason)])


def _run(argv: list[str]) -> int:
    args = _run_parser().parse_args(argv)
    if args.seed is not None and args.seed < 0:
        print(f"python -m sim: --seed must be >= 0, got {args.seed}", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
        calendar = scenario.calendar
        if args.end is not None and not (calendar.start <= args.end <= calendar.end):
            raise ScenarioError.single(args.scenario, f"--end {args.end} must lie within the calendar "
                                                      f"{calendar.start} .. {calendar.end}")
        started = time.perf_counter()
        simulation = Simulation(scenario, seed=args.seed, end=args.end)
        results = simulation.run()
        seconds = time.perf_counter() - started
    except NotModelled as exc:
        print(f"{args.scenario}: cannot run", file=sys.stderr)
        print(_not_modelled(args.scenario, exc).report(), file=sys.stderr)
        return 2
    except ScenarioError as exc:
        print(f"{args.scenario}: INVALID", file=sys.stderr)
        print(exc.report(), file=sys.stderr)
        return 2
    out = args.out or default_out(args.scenario, scenario.name)
    save(results, out, plots=False if args.no_plots else None)
    if not args.quiet:
        print(headline(results.summary(), seconds))
        print(f"results in {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        return _run(argv)
    args = _parser().parse_args(argv)
    return args.func(args)
