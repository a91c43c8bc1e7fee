"""The events of a briefing on a timeline: an inline SVG drawn from their dates, one row per event.

A run's period is shaded; each event is a dot at its start and a bar to its end (to the period's end, paler,
when it has none: a measure in force to the end), labelled with its id; events are grouped by run (lane)
when the briefing sets several runs side by side. Plain SVG, no script: it prints as it shows.
"""
from __future__ import annotations

import datetime as dt
from html import escape

from .briefing import Event

WIDTH = 1000                # the drawing's units; it scales to the page's width
LEFT = 150                  # room for the lanes' names
RIGHT = 16
TOP = 28                    # room for the years
ROW = 24
RESTRICT, OTHER = "#b03a2e", "#2e6da4"


def timeline_svg(events: list[Event], span: tuple[dt.date, dt.date] | None) -> str:
    """The SVG of ``events`` over ``span`` (widened to take every dated event); '' when none is dated."""
    dated = [e for e in events if e.start is not None]
    if not dated:
        return ""
    days = [d for e in dated for d in (e.start, e.end) if d is not None] + (list(span) if span else [])
    lo, hi = min(days), max(days)
    lo, hi = dt.date(lo.year, 1, 1), dt.date(hi.year + 1, 1, 1)
    scale = (WIDTH - LEFT - RIGHT) / max((hi - lo).days, 1)

    def x(day: dt.date) -> float:
        return LEFT + (day - lo).days * scale

    lanes = list(dict.fromkeys(e.lane for e in dated))
    height = TOP + ROW * len(dated) + 8 * len(lanes) + 6
    out = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
           f'aria-label="timeline of the events" font-size="12" '
           f'font-family="system-ui, sans-serif">']
    bottom = height - 4
    if span:
        out.append(f'<rect x="{x(span[0]):.1f}" y="{TOP - 6}" width="{x(span[1]) - x(span[0]):.1f}" '
                   f'height="{bottom - TOP + 6}" fill="#f3f4f6"><title>the run: {span[0]} .. {span[1]}</title></rect>')
    for year in range(lo.year, hi.year + 1):
        at = x(dt.date(year, 1, 1))
        out.append(f'<line x1="{at:.1f}" y1="{TOP - 8}" x2="{at:.1f}" y2="{bottom}" stroke="#d0d7de" '
                   f'stroke-width="1"/>')
        if year < hi.year:
            middle = x(dt.date(year, 7, 1))
            out.append(f'<text x="{middle:.1f}" y="{TOP - 12}" text-anchor="middle" fill="#57606a">{year}</text>')
    y = TOP
    for lane in lanes:
        if len(lanes) > 1:
            out.append(f'<line x1="0" y1="{y + 2}" x2="{WIDTH}" y2="{y + 2}" stroke="#8c959f" stroke-width="0.6"/>')
        y += 8
        inside = sorted((e for e in dated if e.lane == lane), key=lambda e: (e.start, e.id))
        out.append(f'<text x="4" y="{y + ROW / 2 + 4:.1f}" font-weight="600">{escape(_short(lane, 22))}</text>')
        for e in inside:
            middle = y + ROW / 2
            colour = RESTRICT if _restricts(e) else OTHER
            start = x(e.start)
            stop = x(e.end) if e.end else x(span[1]) if span and span[1] > e.start else start
            tip = escape(e.rule)
            if stop > start:
                out.append(f'<rect x="{start:.1f}" y="{middle - 4:.1f}" width="{stop - start:.1f}" height="8" rx="2" '
                           f'fill="{colour}" fill-opacity="{0.75 if e.end else 0.25}"><title>{tip}</title></rect>')
            out.append(f'<circle cx="{start:.1f}" cy="{middle:.1f}" r="5" fill="{colour}"><title>{tip}</title>'
                       f'</circle>')
            label = f"{e.start:%Y-%m-%d} {e.id or e.rule.split(' ')[1]}"
            if start + 10 + 7 * len(label) < WIDTH - RIGHT:
                out.append(f'<text x="{start + 9:.1f}" y="{middle - 7:.1f}">{escape(label)}</text>')
            else:
                out.append(f'<text x="{start - 9:.1f}" y="{middle - 7:.1f}" text-anchor="end">{escape(label)}</text>')
            y += ROW
    out.append("</svg>")
    return "\n".join(out)


def _restricts(event: Event) -> bool:
    """An export measure (ban, licence, quota, origin rule): red; anything else (a suspension, a plant) blue."""
    kind = event.rule.split(" ")[1] if " " in event.rule else ""
    return kind.startswith(("export_", "origin", "quota"))


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
