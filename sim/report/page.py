"""A ``Briefing`` as one self-contained HTML page: inline CSS, PNGs as data URIs, an inline SVG, no script.

Nothing on the page reaches outside it (no link to a file, no URL), so it opens offline and can be mailed
as it is. Every text is escaped. It reads on a laptop (a column of at most 1100 px, wide tables scroll in
their box) and prints (A4, each big section on a new page, figures and rows never cut in two).
"""
from __future__ import annotations

import base64
import datetime as dt
import re
from html import escape
from pathlib import Path

from ..version import __version__
from .briefing import Briefing, Explained, Table
from .sources import Source, anchor
from .timeline import timeline_svg

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CAPTIONS = {"shortfall": "Unmet end-use magnet demand", "days_of_cover": "Days of cover",
            "prices": "Prices", "dependency": "Dependency on China", "flows": "Flows along the chain",
            "headline_bands": "Headline figures, P5 to P95"}
SECTIONS = (("headline", "Headline figures"), ("explanations", "Why the worst-hit countries were short"),
            ("plots", "Plots"), ("events", "Events"), ("sources", "Sources cited"), ("manifest", "Manifest"))

CSS = """
:root { --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; --soft: #f6f8fa; --accent: #8b1e1e; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
h1 { font-size: 1.55rem; line-height: 1.25; margin: 0 0 .4rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.02rem; margin: 1.4rem 0 .3rem; }
p, li { max-width: 75ch; }
.kind { text-transform: uppercase; letter-spacing: .08em; font-size: .75rem; color: var(--accent); margin: 0; }
.question { font-size: 1.02rem; margin: .3rem 0 .2rem; }
.question b { color: var(--muted); font-weight: 600; }
.note { color: var(--muted); font-size: .85rem; }
dl.header { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .8rem 0;
            font-size: .9rem; }
dl.header dt { color: var(--muted); }
dl.header dd { margin: 0; }
nav { border-top: 1px solid var(--rule); border-bottom: 1px solid var(--rule); margin: 1rem 0; padding: .3rem 0; }
nav ol { display: flex; flex-wrap: wrap; gap: .2rem 1.2rem; margin: 0; padding: 0; list-style: none;
         font-size: .9rem; }
a { color: #0b57a4; }
.scroll { overflow-x: auto; margin: .4rem 0 1rem; }
table { border-collapse: collapse; font-size: .84rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; caption-side: top; }
th, td { padding: .22rem .55rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.day { white-space: nowrap; }
td.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .78rem; white-space: nowrap; }
td.sha { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .78rem; word-break: break-all; }
tr.missing td { color: #b00020; font-weight: 600; }
figure { margin: 1rem 0 1.6rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { font-size: .85rem; color: var(--muted); margin-top: .25rem; }
pre { white-space: pre-wrap; font-size: .76rem; line-height: 1.4; background: var(--soft); padding: .7rem .9rem;
      border: 1px solid var(--rule); margin: .4rem 0 1rem; }
svg.timeline { display: block; margin: .6rem 0 1rem; border: 1px solid var(--rule); }
.explained { border-left: 3px solid var(--accent); padding-left: 1rem; margin: 1rem 0 2rem; }
footer { margin-top: 3rem; font-size: .8rem; color: var(--muted); }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  section.big { break-before: page; }
  figure, tr, svg, .explained pre { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .scroll { overflow: visible; }
}
"""


def render(briefing: Briefing, sources: list[Source]) -> str:
    """The whole page."""
    b = briefing
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(b.title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>", "<main>",
             _top(b), _headline(b), _explanations(b), _plots(b), _events(b), _sources(sources), _manifest(b),
             f'<footer>Written by python -m sim {escape(__version__)} from the files of the results folder; '
             f'every figure above is read from them.</footer>', "</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _top(b: Briefing) -> str:
    kinds = {"run": "Briefing: one run", "compare": "Briefing: a comparison", "sweep": "Briefing: a sweep",
             "ensemble": "Briefing: an ensemble"}
    out = [f'<header id="top"><p class="kind">{escape(kinds.get(b.kind, b.kind))}</p>', f"<h1>{escape(b.title)}</h1>"]
    for q in b.questions:
        who = f"<b>{escape(q.name)}</b>: " if len(b.questions) > 1 else ""
        title = escape(q.title) if len(b.questions) > 1 and q.title else ""
        if title:
            out.append(f'<p class="question">{who}{title}</p>')
            who = ""
        if q.question:
            out.append(f'<p class="question">{who}<b>Question.</b> {escape(q.question)}</p>')
    out.append('<dl class="header">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in b.header)
               + "</dl>")
    out.append("<nav><ol>" + "".join(f'<li><a href="#{key}">{escape(name)}</a></li>' for key, name in SECTIONS)
               + "</ol></nav></header>")
    return "\n".join(out)


def table(t: Table, link_sources: int | None = None) -> str:
    """A ``Table`` in a box that scrolls sideways when wider than the page; column ``link_sources`` holds
    source ids, each linked to its entry in the sources."""
    heads = "".join(f'<th{" class=num" if k in t.numeric else ""} scope="col">{escape(h)}</th>'
                    for k, h in enumerate(t.heads))
    rows = []
    for row in t.rows:
        cells = []
        for k, cell in enumerate(row):
            body = _linked(cell) if k == link_sources else escape(cell)
            kind = (' class="num"' if k in t.numeric else ' class="sha"' if len(cell) == 64 and cell.isalnum() else
                    ' class="day"' if _DAY.match(cell) else "")
            cells.append(f"<td{kind}>{body}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{escape(t.note)}</p>' if t.note else ""
    head = f"<thead><tr>{heads}</tr></thead>" if any(t.heads) else ""
    return (f'<div class="scroll"><table><caption>{escape(t.caption)}</caption>{head}<tbody>{"".join(rows)}'
            f"</tbody></table></div>{note}")


def _linked(ids: str) -> str:
    return " ".join(f'<a href="#{anchor(s)}">{escape(s)}</a>' for s in ids.split())


def png(path: Path, alt: str) -> str:
    """An <img> holding the PNG at ``path`` as a data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _headline(b: Briefing) -> str:
    return '<section id="headline"><h2>Headline figures</h2>' + "".join(table(t) for t in b.headline) + "</section>"


def _explanations(b: Briefing) -> str:
    out = ['<section id="explanations" class="big"><h2>Why the worst-hit countries were short</h2>',
           f'<p class="note">{escape(b.explain_note)}</p>' if b.explain_note else ""]
    for e in b.explained:
        out.append(_explained(e))
    return "\n".join(out) + "</section>"


def _explained(e: Explained) -> str:
    run = f"{e.lane}: " if e.lane else ""
    out = [f'<div class="explained"><h3>{escape(run + e.country)}, {escape(e.period)}</h3>',
           f"<p>{escape(e.headline)}</p>" if e.headline else ""]
    if e.parts is not None:
        out.append(table(e.parts))
    if e.waterfall is not None:
        alt = f"waterfall of the parts of {run}{e.country}'s unmet demand"
        out.append(f"<figure>{png(e.waterfall, alt)}<figcaption>{escape(alt)}</figcaption></figure>")
    if e.cited:
        rows = [[" ".join(x for x in (str(r.get("subject") or ""), str(r.get("country") or ""),
                                      str(r.get("name") or "")) if x), str(r.get("value") or ""),
                 str(r.get("source") or "")] for r in e.cited]
        out.append(table(Table("what shaped it: the parameters it names", ["parameter", "value", "sources"], rows),
                         link_sources=2))
    if e.text:
        out.append(f"<pre>{escape(e.text)}</pre>")
    out.append("</div>")
    return "\n".join(out)


def _plots(b: Briefing) -> str:
    out = ['<section id="plots" class="big"><h2>Plots</h2>']
    if not b.plots:
        out.append('<p class="note">no plots in the folder (written with --no-plots?)</p>')
    for path in b.plots:
        caption = CAPTIONS.get(path.stem, path.stem.replace("_", " "))
        out.append(f"<figure>{png(path, caption)}<figcaption>{escape(caption)} (plots/{escape(path.name)})"
                   f"</figcaption></figure>")
    return "\n".join(out) + "</section>"


def _events(b: Briefing) -> str:
    out = ['<section id="events" class="big"><h2>Events</h2>']
    if b.events_note:
        out.append(f'<p class="note">{escape(b.events_note)}</p>')
    svg = timeline_svg(b.events, b.span)
    if svg:
        out.append(svg)
        out.append('<p class="note">red: export measures; blue: other events; a pale bar runs to the end of the run '
                   'where the event gives no end; grey: the run\'s period.</p>')
    if b.events:
        several = len({e.lane for e in b.events}) > 1
        rows = [([e.lane] if several else []) + [str(e.start or "—"), str(e.end or "—"), e.id, e.country, e.rule,
                                                  " ".join(e.sources)]
                for e in sorted(b.events, key=lambda e: (e.start or e.end or dt.date.min, e.lane))]
        heads = (["run"] if several else []) + ["start", "until", "id", "by", "rule", "sources"]
        out.append(table(Table("the events by date", heads, rows), link_sources=len(heads) - 1))
    return "\n".join(out) + "</section>"


def _sources(sources: list[Source]) -> str:
    out = ['<section id="sources" class="big"><h2>Sources cited</h2>']
    if not sources:
        out.append('<p class="note">no source cited by the events and explanations shown</p>')
    else:
        out.append('<p class="note">every source id the events and explanations above name, as the registry of '
                   'seeds/ (figures.yaml, assumptions.yaml, articles.yaml) gives it</p>')
        rows = "".join(
            f'<tr id="{escape(s.anchor)}"{"" if s.found else " class=missing"}><td class="id">{escape(s.id)}</td>'
            f"<td>{escape(s.text)}</td><td>{escape(s.where)}</td></tr>" for s in sources)
        out.append('<div class="scroll"><table><caption>sources</caption><thead><tr><th scope="col">id</th>'
                   f'<th scope="col">what it says</th><th scope="col">where</th></tr></thead><tbody>{rows}</tbody>'
                   "</table></div>")
    return "\n".join(out) + "</section>"


def _manifest(b: Briefing) -> str:
    return ('<section id="manifest"><h2>Manifest</h2><p class="note">what the results were made from: the model\'s '
            "version and code, the scenario (hash of it as validated) and the seed.</p>"
            + "".join(table(t) for t in b.manifest) + "</section>")
