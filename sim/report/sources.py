"""The sources a briefing cites, resolved through the registry of ``seeds/``: each id with what it says and where.

An id is cited by an event the timeline shows or a parameter an explanation names. An id the registry lacks
is listed as such (a publication named with its year, 'IEA GCMO 2024', is a citation without an entry; any
other is an error of the scenario's sources that the page shows rather than hides).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..scenario.registry import Registry, find_seeds, load_registry
from .briefing import Briefing


@dataclass
class Source:
    """One cited id: what the registry says of it, or that it is not there."""

    id: str
    anchor: str                    # its id in the page: 'src-<id>'
    text: str
    where: str                     # publication, article or the figure's own sources, with the year
    found: bool


def anchor(source_id: str) -> str:
    """The page's id of a source: 'src-' and the id with any character outside [A-Za-z0-9_.-] as '-'."""
    return "src-" + re.sub(r"[^A-Za-z0-9_.-]", "-", source_id)


def cited(briefing: Briefing) -> list[str]:
    """Every source id the briefing shows, in the order it first shows it (events, then explanations)."""
    ids = [s for event in briefing.events for s in event.sources]
    ids += [s for e in briefing.explained for row in e.cited for s in str(row.get("source") or "").split()]
    return list(dict.fromkeys(ids))


def registry_near(folder: Path) -> Registry | None:
    """The registry of the project ``folder`` belongs to (``find_seeds``), else the package's; None if neither."""
    try:
        return load_registry(find_seeds(Path(folder)))
    except (FileNotFoundError, OSError, ValueError):
        return None


def resolve(ids: list[str], registry: Registry | None) -> list[Source]:
    """Each id with its registry entry: text, and publication (or the article, or the figure's sources) and year."""
    out = []
    for source_id in ids:
        figure = registry.figures.get(source_id) if registry is not None else None
        if figure is None:
            publication = registry is not None and registry.is_citation(source_id)
            out.append(Source(source_id, anchor(source_id), "a publication named in the scenario" if publication else
                              "NOT IN THE REGISTRY of seeds/: a source id no entry has", "", publication))
            continue
        where = figure.publication or "; ".join(_article(registry, s) for s in figure.source) or (
            "modelling assumption (its basis is in seeds/)" if figure.kind == "assumption" else "")
        if figure.year is not None and str(figure.year) not in where:
            where = f"{where} ({figure.year})" if where else str(figure.year)
        out.append(Source(source_id, anchor(source_id), " ".join(figure.text.split()), where, True))
    return out


def _article(registry: Registry, source: str) -> str:
    """A source article by its outlet, headline and date ('Reuters: China bans ... (2026-01-06)'), else as named."""
    article = registry.articles.get(source)
    if article is None:
        return source
    headline = article.headline_en or article.headline
    outlet = f"{article.outlet}: " if article.outlet else ""
    return f"{outlet}{headline}" + (f" ({article.date})" if article.date else "")
