"""Command line: ``python -m sim validate FILE...`` and ``python -m sim SCENARIO.yaml``.

Thin client of the Python API; bad input exits 2 with the problems listed, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from .errors import ScenarioError
from .scenario import load_scenario, read_scenario
from .summary import scenario_summary

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
        description="Rare-earth supply-chain simulator. 'python -m sim validate FILE...' checks scenarios.")
    sub = parser.add_subparsers(dest="command", required=True)
    val = sub.add_parser("validate", help="check scenario files and print a one-screen summary of each")
    val.add_argument("files", nargs="+", type=Path, metavar="FILE")
    val.add_argument("--show", action="store_true",
                     help="print the effective scenario (after 'extends' and merging) as YAML")
    val.set_defaults(func=_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        print(f"python -m sim: running scenarios needs the simulation engine, which is not built yet; "
              f"'python -m sim validate {argv[0]}' checks the file", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    return args.func(args)
