"""The registry of source figures in ``seeds/``: every number the baseline cites.

``seeds/figures.yaml`` lists figures (id, value or range, unit, year, source,
use); ``seeds/assumptions.yaml`` the modelling assumptions, each with its basis;
``seeds/history.yaml`` the observed figures of the episodes the back-tests
replay (``sim.backtest``); ``seeds/articles.yaml`` the source articles. A scenario's
``source:`` names figure ids, or a publication with its year for numbers that
are not in the registry.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

REGISTRY_ENV = "SIM_SEEDS"
FIGURE_FILES = ("figures.yaml", "assumptions.yaml", "history.yaml")
# libyaml's safe loader where PyYAML was built with it: the same plain data, read ten times faster (the
# registry is some 150 kB of YAML, read by every run); the registry needs no line numbers
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PUBLICATION = re.compile(r"\s.*\b(1[89]|20)\d\d\b")


@dataclass(frozen=True)
class SourceFigure:
    """One figure of a source: a number, a range, keyed values, or a dated event."""

    id: str
    kind: str
    text: str
    use: str
    unit: str | None = None
    value: float | None = None
    bound: str | None = None
    range: tuple[float, float] | None = None
    values: dict[Any, float] = field(default_factory=dict)
    year: int | None = None
    date: Any = None
    source: tuple[str, ...] = ()
    publication: str | None = None
    fitted_to: tuple[str, ...] = ()           # an assumption's parameters were fitted to these targets
    target: dict[str, Any] | None = None      # how a back-test compares the figure with a run (sim.backtest)

    @property
    def context_only(self) -> bool:
        return self.use.startswith("context:")

    def bounds(self) -> tuple[float, float]:
        """The figure as an interval: a range as is, a single value as [v, v]."""
        if self.range is not None:
            return self.range
        if self.value is not None:
            return (self.value, self.value)
        raise ValueError(f"figure {self.id} has no single value or range")


@dataclass(frozen=True)
class Article:
    file: str
    headline: str
    headline_en: str
    date: Any
    outlet: str | None


@dataclass(frozen=True)
class Registry:
    root: Path
    figures: dict[str, SourceFigure]
    articles: dict[str, Article]

    def __getitem__(self, figure_id: str) -> SourceFigure:
        return self.figures[figure_id]

    def __contains__(self, figure_id: str) -> bool:
        return figure_id in self.figures

    def is_citation(self, source: str) -> bool:
        """A source is a registry id, or a named publication with its year ('IEA GCMO 2024')."""
        return source in self.figures or bool(_PUBLICATION.search(source))


def find_seeds(start: Path | None = None) -> Path | None:
    """The ``seeds/`` folder: $SIM_SEEDS, else the nearest one above ``start``, else the project's."""
    if os.environ.get(REGISTRY_ENV):
        return Path(os.environ[REGISTRY_ENV])
    candidates = []
    if start is not None:
        start = start.resolve()
        candidates += [start, *start.parents] if start.is_dir() else list(start.parents)
    candidates.append(Path(__file__).resolve().parents[2])
    for folder in candidates:
        if (folder / "seeds" / "figures.yaml").is_file():
            return folder / "seeds"
    return None


def _figure(raw: dict[str, Any]) -> SourceFigure:
    rng = raw.get("range")
    src = raw.get("source") or ()
    return SourceFigure(
        id=raw["id"], kind=raw["kind"], text=raw["text"], use=raw["use"], unit=raw.get("unit"),
        value=raw.get("value"), bound=raw.get("bound"), range=tuple(rng) if rng else None,
        values=dict(raw.get("values") or {}),
        year=raw.get("year"), date=raw.get("date"),
        source=(src,) if isinstance(src, str) else tuple(src), publication=raw.get("publication"),
        fitted_to=tuple(raw.get("fitted_to") or ()), target=raw.get("target"),
    )


@lru_cache(maxsize=8)
def _load(root: Path) -> Registry:
    figures_raw = []
    for name in FIGURE_FILES:
        if (root / name).is_file():
            figures_raw += yaml.load((root / name).read_text(encoding="utf-8"), Loader=SAFE_LOADER) or []
    articles_raw = yaml.load((root / "articles.yaml").read_text(encoding="utf-8"), Loader=SAFE_LOADER) or []
    figures = {}
    for raw in figures_raw:
        fig = _figure(raw)
        if fig.id in figures:
            raise ValueError(f"{root}: duplicate figure id {fig.id!r}")
        figures[fig.id] = fig
    articles = {a["file"]: Article(a["file"], a["headline"], a.get("headline_en", ""), a.get("date"),
                                   a.get("outlet")) for a in articles_raw}
    return Registry(root, figures, articles)


def load_registry(root: Path | None = None) -> Registry:
    """Load the registry from ``root`` (a ``seeds/`` folder) or the one ``find_seeds`` finds."""
    root = root or find_seeds()
    if root is None:
        raise FileNotFoundError("no seeds/figures.yaml found; set SIM_SEEDS to the project's seeds/ folder")
    return _load(Path(root).resolve())
