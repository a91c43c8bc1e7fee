"""Errors a user can act on: where in which file, what was expected, what was found."""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, located by key path and line."""

    file: str
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario (or a file it extends) is invalid; carries every problem found at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.report())

    @classmethod
    def single(cls, file: str | Path, message: str, path: str = "", line: int | None = None) -> "ScenarioError":
        return cls([Problem(str(file), path, line, message)])

    def report(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in scenario:"
        return "\n".join([head] + [f"  {p}" for p in self.problems])


class InvariantError(RuntimeError):
    """The model broke one of its own invariants (e.g. mass balance); a bug, not bad input."""


def did_you_mean(name: Any, candidates: Iterable[str], names: dict[str, str] | None = None) -> str:
    """' (did you mean JP?)' for a near miss, also matching full names ('Japan' -> JP)."""
    if not isinstance(name, str):
        return ""
    candidates = [c for c in candidates if isinstance(c, str)]
    if names:
        for code, full in names.items():
            if full and full.lower() == name.lower():
                return f" (did you mean {code}?)"
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return f" (did you mean {lowered[name.lower()]}?)"
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


class BacktestError(RuntimeError):
    """A replication of a back-test episode raised while running: the model failed on a valid episode."""

    def __init__(self, episode: str, replication: int, error: str):
        self.episode, self.replication, self.error = episode, replication, error
        # one line whatever the error's own layout, so the CLI prints one line
        super().__init__(f"episode {episode}, replication {replication} failed: {' '.join(error.split())}")


class EnsembleError(RuntimeError):
    """An ensemble cannot start or resume (its folder holds another ensemble, its cluster is not there)."""


class OutputError(OSError):
    """An output folder cannot or must not be written: it is a file, it holds something other than results of
    its kind, or its place cannot be written. One line, said before anything runs."""


class ReportError(ValueError):
    """A briefing cannot be written from a folder: it is no run's, comparison's, sweep's or ensemble's results,
    or lacks a file the report reads. One line."""
