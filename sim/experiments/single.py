"""One run of a scenario, and its results folder.

``run`` is the one way a scenario is run: the CLI, ``compare``, ``sweep``, the
ensemble's workers and the golden reference all call it. ``save`` (from
``saving``, which does not load the engine) writes a run's folder.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..engine import Simulation
from ..engine.measures import MEASURES
from ..errors import ScenarioError
from ..progress import Progress
from ..results import Results
from ..scenario import Scenario, has_distributions, load_scenario


def run(scenario: Scenario | str | Path, seed: int | None = None, end: dt.date | str | None = None,
        replication: int | None = None, progress: Progress | None = None,
        provenance: tuple[str, ...] | None = None) -> Results:
    """Run a scenario (a file, or a loaded Scenario) once.

    ``seed`` defaults to the scenario's ``run.seed``; ``end`` stops early (within the calendar; a date or
    ``"YYYY-MM-DD"``);
    ``replication=r`` runs replication r of the seed's ensemble (its own random streams);
    ``progress(done, total)`` is told of every weekly step;
    ``provenance``: the kinds of provenance to write, as ``Simulation`` takes them (None: every kind)."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return Simulation(scenario, seed=seed, end=end, replication=replication,
                      provenance=provenance).run(progress=progress)


def check_end(file: Path | str, scenario: Scenario, end: dt.date | None) -> None:
    """ScenarioError unless ``end`` (a requested early stop) lies within the scenario's calendar."""
    calendar = scenario.calendar
    if end is not None and not (calendar.start <= end <= calendar.end):
        raise ScenarioError.single(file, f"--end {end} must lie within the calendar {calendar.start} .. "
                                         f"{calendar.end}")


def is_random(scenario: Scenario) -> bool:
    """Whether replications of the scenario can differ from one another (one run is then one draw).

    A replication draws its world (every number or date written as a distribution, and whether each
    event with a ``probability`` happens) and its licence decisions (review times and approvals); these
    are the engine's only draws. So replications differ when the scenario has a distribution or a
    probability anywhere, or a licence measure (export_licence, origin_rule) with any chance of approval
    below 1 (of its importers, end users or dates); a licence with a fixed review time, approved every
    time, decides the same in every one.
    """
    if has_distributions(scenario):
        return True
    return any(event.type in MEASURES and MEASURES[event.type].can_refuse(event) for event in scenario.events)


def default_out(scenario_file: Path, name: str) -> Path:
    """results/<name>/ of the project the scenario belongs to (the folder above scenarios/), else ./results."""
    here = Path(scenario_file).resolve().parent
    root = here.parent if here.name == "scenarios" else Path.cwd()
    return root / "results" / name


