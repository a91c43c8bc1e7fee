"""The briefing: one self-contained HTML page (``report.html``) written beside a folder of results.

``write_report(folder)`` reads a run's, comparison's, sweep's or ensemble's folder (by the kind its
manifest.json names) into a ``Briefing`` (``reading``), resolves the sources it cites through the registry
(``sources``) and writes the page (``page``, with the events' timeline of ``timeline``) atomically. The page
holds the scenario's question and header, the headline figures, why the worst-hit countries were short, the
plots (embedded), the events on a timeline, the sources cited with their ids, and the manifest.

The report room reads folders only (as ``results`` and ``plots`` read tables): the commands write a folder,
then its report, inside the same atomic write (``save(..., extra=...)``).
"""
from __future__ import annotations

from pathlib import Path

from ..files import atomic_write

REPORT = "report.html"


def write_report(folder: Path | str, scenario_file: Path | str | None = None) -> Path:
    """Write ``folder/report.html`` (see the module's docstring) and return its path; a ReportError (one line)
    for a folder a report cannot be written from. ``scenario_file``: the scenario the results were made from,
    for its question and events, where it is not beside the results (``results/<name>/`` of the project
    whose ``scenarios/<name>.yaml`` it is)."""
    from .page import render
    from .reading import read_briefing
    from .sources import cited, registry_near, resolve

    folder = Path(folder)
    briefing = read_briefing(folder, scenario_file)
    html = render(briefing, resolve(cited(briefing), registry_near(folder)))
    return atomic_write(folder / REPORT, lambda p: p.write_text(html, encoding="utf-8"))


__all__ = ["REPORT", "write_report"]
