"""A run's results folder: tables (Parquet and CSV), summary.json, monthly.csv, manifest.json and plots,
written into a fresh folder moved into place only when complete (``sim.files.atomic_folder``), so a failed
or interrupted save never leaves a partial folder.

Apart from the run (``single``) and the engine, so that the process the command line starts to write a
run's folder (``sim.cli._writer``) loads neither, nor Numba: it takes the results as they are.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from ..aside import Ahead, beside, can_fork
from ..files import atomic_folder, write_json, write_table
from .manifest import manifest

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Results

# the briefing's figures drawn in a second process beside the tables (``save(plots_beside=True)``), which
# writes the tables they read too (made there for them, at a monthly frequency): about as long as making the
# other tables, writing them and drawing the other figures, which the main process does meanwhile
DRAWN_BESIDE = ("flows", "days_of_cover", "shortfall")
WRITTEN_BESIDE = ("inventory", "unmet")


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
