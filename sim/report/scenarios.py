"""The scenario behind a results folder, when it can be found: for the question it asks and its events.

A run's folder names its scenario and the hash of it (manifest.json), not its file; the file is the one
given (the command line knows it), else the one the manifest names (a comparison's, a sweep's), else
``scenarios/<name>.yaml`` of the project the folder sits in (``results/<name>/``), taken only when its hash
is the manifest's: a scenario edited since the run is not the one that made it.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import ScenarioError
from ..experiments.manifest import scenario_sha256
from ..scenario import Scenario, load_scenario

_HEADING = re.compile(r"^#\s*([A-Z][A-Za-z ]{1,30}):\s*(.*)$")   # '# Question: ...', '# Sources: ...'


def find_scenario(folder: Path, name: str | None, sha256: str | None,
                  files: tuple[Path | str | None, ...] = ()) -> tuple[Scenario | None, Path | None]:
    """The scenario (and its file) of ``name`` with hash ``sha256`` (None: any), from the first of ``files``
    (given or named; relative ones also from the project's root) or ``scenarios/<name>.yaml`` that has it."""
    root = Path(folder).resolve().parent.parent            # <root>/results/<name>/
    candidates: list[Path] = []
    for file in files:
        if file:
            candidates += [Path(file)] + ([root / file] if not Path(file).is_absolute() else [])
    if name:
        candidates.append(root / "scenarios" / f"{name}.yaml")
    for file in dict.fromkeys(candidates):
        if not file.is_file():
            continue
        try:
            scenario = load_scenario(file)
        except (ScenarioError, OSError):
            continue
        if sha256 is None or scenario_sha256(scenario) == sha256:
            return scenario, file
    return None, None


def question_of(scenario: Scenario | None, file: Path | None) -> str:
    """The question a scenario asks: its ``description``, else the 'Question:' paragraph of its file's opening
    comment; '' when neither says."""
    if scenario is not None and scenario.description:
        return " ".join(scenario.description.split())
    if file is None:
        return ""
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    words: list[str] = []
    for line in lines:
        if not line.startswith("#"):
            break                                      # the opening comment ends at the first key
        heading = _HEADING.match(line)
        if words and (heading or line.strip() == "#"):
            break                                      # the next paragraph
        if heading and heading.group(1) == "Question":
            words.append(heading.group(2))
        elif words:
            words.append(line.lstrip("#").strip())
    return " ".join(" ".join(words).split())
