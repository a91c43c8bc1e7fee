"""One run of a scenario, and its results folder.

``run`` is the one way a scenario is run: the CLI, ``compare``, ``sweep``, the
ensemble's workers and the golden reference all call it. ``save`` writes a
run's folder: tables (Parquet and CSV), summary.json, monthly.csv,
manifest.json and plots, into a fresh folder moved into place only when
complete (``sim.files.atomic_folder``), so a failed or interrupted save never
leaves a partial folder.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path

from ..aside import Ahead, beside, can_fork
from ..engine import Simulation
from ..engine.measures import MEASURES
from ..errors import ScenarioError
from ..files import atomic_folder, write_json, write_table
from ..progress import Progress
from ..results import Results
from ..scenario import Scenario, has_distributions, load_scenario
from .manifest import manifest

# the briefing's figures drawn in a second process beside the tables (``save(plots_beside=True)``), which
# writes the tables they read too (made there for them, at a monthly frequency): about as long as making the
# other tables, writing them and drawing the other figures, which the main process does meanwhile
DRAWN_BESIDE = ("flows", "days_of_cover", "shortfall")
WRITTEN_BESIDE = ("inventory", "unmet")


def run(scenario: Scenario | str | Path, seed: int | None = None, end: dt.date | str | None = None,
        replication: int | None = None, progress: Progress | None = None) -> Results:
    """Run a scenario (a file, or a loaded Scenario) once.

    ``seed`` defaults to the scenario's ``run.seed``; ``end`` stops early (within the calendar; a date or
    ``"YYYY-MM-DD"``);
    ``replication=r`` runs replication r of the seed's ensemble (its own random streams);
    ``progress(done, total)`` is told of every weekly step."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return Simulation(scenario, seed=seed, end=end, replication=replication).run(progress=progress)


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


def save(results: Results, folder: Path | str, frequency: str | None = None, formats: tuple[str, ...] | None = None,
         plots: bool | None = None, extra: Callable[[Path], None] | None = None,
         flows_periods: Sequence[str] | None = None, plots_beside: bool = False, writer: Ahead | None = None) -> Path:
    """Write a run's tables, summary, monthly series, manifest and plots into ``folder``, replacing it
    atomically. Frequency, formats and plots default to the scenario's ``outputs``; ``flows_periods`` are
    the flows chart's (``sim.plots.flows``; default: the year before the first export measure and its first).
    ``plots_beside`` draws the plots in a second process while the tables are written, where that can be
    done (``sim.aside``); ``writer``, a process started ahead of the run (``sim.aside.ahead``, after
    ``ready_to_save``), writes the files in place of this one: the command line's choices, for a process
    that runs no threads of its own. ``extra(work)`` adds to the folder once its files are written, before it
    is moved into place (the briefing, ``sim.report``); the writer calls it where there is one (so it must then
    be a module's function, or a ``functools.partial`` of one: it is sent by name)."""
    folder = Path(folder)
    with atomic_folder(folder, "run") as work:
        options = (frequency, formats, plots, flows_periods, plots_beside)
        if writer is not None:
            writer.do(write_run_then, results, work, options, extra)
        else:
            write_run_then(results, work, options, extra)
    return folder


def write_run_then(results: Results, work: Path, options: tuple, extra: Callable[[Path], None] | None) -> None:
    """``write_run(results, work, *options)``, then ``extra(work)``: ``save``'s one task for its writer."""
    write_run(results, work, *options)
    if extra is not None:
        extra(work)


def ready_to_save(formats: Sequence[str], plots: bool) -> None:
    """Load what ``save`` loads on its way (pandas, and pyarrow's Parquet writer for ``formats`` with
    Parquet; matplotlib, its fonts and its PNG writer for ``plots``): the head start of a writer (``save``)."""
    from ..results import series  # noqa: F401

    if "parquet" in formats:
        import pyarrow.parquet  # noqa: F401  (pandas imports it on the first table written as Parquet)
    if plots:
        from ..plots.style import ready_to_draw

        ready_to_draw()


def write_run(results: Results, work: Path, frequency: str | None = None, formats: tuple[str, ...] | None = None,
              plots: bool | None = None, flows_periods: Sequence[str] | None = None,
              plots_beside: bool = False) -> None:
    """Write ``save``'s files into ``work``, a fresh folder."""
    settings = results.scenario.outputs
    frequency = frequency or settings.frequency
    formats = tuple(formats or settings.formats)
    plots = settings.plots if plots is None else plots
    from ..results.series import headline_series  # pandas: only a run that is saved needs it

    figures: tuple[str, ...] = ()
    if plots:     # matplotlib only when plots are asked for; before a second process starts, which has it too
        from ..plots.briefing import FIGURES, briefing
        figures = FIGURES
        (work / "plots").mkdir()

    def draw(names: tuple[str, ...]) -> None:
        briefing(results, work / "plots", flows_periods=flows_periods, figures=names)

    def write_tables(names: Sequence[str]) -> None:
        for name in names:
            write_table(results.table(name, frequency), work / "tables" / name, formats)

    def aside() -> None:
        draw(DRAWN_BESIDE)
        write_tables(WRITTEN_BESIDE)

    (work / "tables").mkdir()
    beside_tables = plots and plots_beside and can_fork()
    with beside(aside) if beside_tables else nullcontext():
        write_tables([n for n in results.TABLES if not (beside_tables and n in WRITTEN_BESIDE)])
        summary, series = results.summary().to_dict(), headline_series(results)
        write_json(work / "summary.json", summary)
        write_table(series, work / "monthly", ("csv",))
        write_json(work / "manifest.json", manifest(results, frequency, formats))
        here = tuple(f for f in figures if not (beside_tables and f in DRAWN_BESIDE))
        if here:
            draw(here)
