"""The events of a scenario as a table: what the plots mark on their date axes.

One row per event, numbered in the scenario's order: ``number``, ``label`` (its id, else its type and
what it acts on), ``type``, ``start``, ``end`` (NaT when open), ``restricts`` (an export measure that
stops or holds goods), ``probability`` (NaN when certain).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

EVENT_COLUMNS = ["number", "label", "type", "start", "end", "restricts", "probability"]


def event_label(event: Any, number: int) -> str:
    """An event's id; without one its type and what it acts on ('suspension of april_2025_licences')."""
    if event.id:
        return event.id
    for field, joint in (("measure", " of "), ("facility", " at "), ("exporter", " by ")):
        target = getattr(event, field, None)
        if target:
            return f"{event.type}{joint}{target}"
    return f"{event.type} {number}"


def events_table(events: Iterable[Any]) -> pd.DataFrame:
    """The event records (with their dates drawn or central) as rows, from 1 in the given order.

    The start is an event's ``start`` (``date`` for a capacity change), the end its ``end`` or ``until``.
    """
    import pandas as pd

    rows = []
    for number, event in enumerate(events, start=1):
        start = getattr(event, "start", None) or getattr(event, "date", None)
        end = getattr(event, "end", None) or getattr(event, "until", None)
        rows.append({"number": number, "label": event_label(event, number), "type": event.type,
                     "start": pd.Timestamp(start) if start else pd.NaT, "end": pd.Timestamp(end) if end else pd.NaT,
                     "restricts": bool(getattr(type(event), "restricts", False)),
                     "probability": event.probability if event.probability is not None else float("nan")})
    return pd.DataFrame(rows, columns=EVENT_COLUMNS).astype({"start": "datetime64[ns]", "end": "datetime64[ns]"})
