"""What a briefing says, before it is HTML: plain records a folder of results is read into (``reading``).

The page (``page``) is drawn from a ``Briefing`` alone, whatever kind of folder it came from: a run, a
comparison, a sweep or an ensemble.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Table:
    """A table of the page: a caption, column heads, rows of text; ``numeric`` columns are set right."""

    caption: str
    heads: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)    # column numbers
    note: str = ""


@dataclass
class Question:
    """One scenario's name, title and the question it asks (its description, else its file's 'Question:')."""

    name: str
    title: str
    question: str


@dataclass
class Event:
    """An event of a run, as its ``parameters`` row gives it: the rule in words, its dates, its sources."""

    lane: str                      # the run it belongs to (its label; the scenario's name for a run alone)
    id: str
    country: str
    rule: str
    start: dt.date | None
    end: dt.date | None
    sources: list[str]


@dataclass
class Explained:
    """Why one country was short in one run: the account, its largest parts, the waterfall, what it cites."""

    lane: str                      # the run's label ('' for a run alone)
    country: str
    period: str                    # '2027-01 to 2027-12 (its worst year: the most unmet t)'
    headline: str                  # 'unmet 8,729 t of 11,833 t of end-use magnet demand (73.8%)'
    parts: Table | None
    text: str                      # what the account says beyond its tables (re-sourcing, stockpile)
    waterfall: Path | None
    cited: list[dict]              # the parameters rows it names (subject, country, name, value, source)


@dataclass
class Briefing:
    """Everything one report shows, in the order it shows it."""

    kind: str                                          # run, compare, sweep, ensemble
    title: str
    questions: list[Question]
    header: list[tuple[str, str]]                      # dates, seed(s), step, ...
    headline: list[Table]
    explained: list[Explained]
    explain_note: str                                  # how to explain further, or why nothing is explained
    plots: list[Path]
    events: list[Event]
    events_note: str
    span: tuple[dt.date, dt.date] | None               # the runs' first and last day: the timeline's axis
    manifest: list[Table]
