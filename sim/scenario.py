"""From YAML files to a validated, frozen ``Scenario``.

Steps, each separate: read (safe YAML with lines) -> resolve ``extends`` and merge
-> validate the shape (pydantic) and the cross-references (countries, elements,
grades, sectors, facilities, dates, shares, sources) -> one ``Scenario``. Every
problem of a file is reported at once, located by file, key path and line.

Merging an ``extends`` chain: maps merge by key (recursively), ``events`` lists
add up (base first), other lists are replaced, and ``null`` deletes a key of the
base. ``name``, ``title`` and ``description`` are never inherited.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import Problem, ScenarioError
from .registry import Registry, find_seeds, load_registry
from .schema import DEFAULT_ELEMENTS, EVENT_TYPES, MEASURE_TYPES, Scenario
from .yamlfile import KeyPath, YamlDocument, format_path, read_yaml

NOT_INHERITED = ("name", "title", "description")
ADDITIVE_LISTS = ("events",)
SHARE_TOLERANCE = 1e-6
MAX_EXTENDS_DEPTH = 20


# ---------------------------------------------------------------- reading and merging
def _merge(base: Any, over: Any, base_lines: dict, over_lines: dict, path: KeyPath,
           lines: dict) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            sub = path + (key,)
            if value is None and key in out:
                del out[key]
                continue
            out[key] = _merge(base.get(key), value, base_lines, over_lines, sub, lines) if key in base else \
                _copy_lines(value, over_lines, sub, sub, lines)
            lines[sub] = over_lines.get(sub, lines.get(sub))
        return out
    if isinstance(base, list) and isinstance(over, list) and path and path[-1] in ADDITIVE_LISTS and len(path) == 1:
        for i, item in enumerate(over):
            _copy_lines(item, over_lines, path + (i,), path + (len(base) + i,), lines)
        return base + over
    return _copy_lines(over, over_lines, path, path, lines)


def _copy_lines(value: Any, src_lines: dict, src: KeyPath, dst: KeyPath, lines: dict) -> Any:
    """Point the lines of ``value`` (at ``src`` in its file) to key path ``dst`` of the merged data."""
    if src in src_lines:
        lines[dst] = src_lines[src]
    if isinstance(value, dict):
        for key, sub in value.items():
            _copy_lines(sub, src_lines, src + (key,), dst + (key,), lines)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _copy_lines(sub, src_lines, src + (i,), dst + (i,), lines)
    return value


def read_scenario(file: str | Path, _chain: tuple[Path, ...] = ()) -> YamlDocument:
    """Read a scenario file and everything it extends into one merged document."""
    doc = read_yaml(file)
    here = Path(file).resolve()
    if not isinstance(doc.data, dict):
        raise ScenarioError.single(file, f"a scenario must be a map of keys, got {type(doc.data).__name__}", line=1)
    parent = doc.data.get("extends")
    if parent is None:
        return doc
    line = doc.lines.get(("extends",), (str(file), None))[1]
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError.single(file, f"extends: expected a file name, got {parent!r}", "extends", line)
    parent_path = (here.parent / parent).resolve()
    chain = _chain + (here,)
    if parent_path in chain:
        cycle = " -> ".join(p.name for p in chain + (parent_path,))
        raise ScenarioError.single(file, f"extends forms a cycle: {cycle}", "extends", line)
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise ScenarioError.single(file, f"extends chain deeper than {MAX_EXTENDS_DEPTH} files", "extends", line)
    if not parent_path.is_file():
        raise ScenarioError.single(file, f"extends: file {parent!r} not found (looked for {parent_path})",
                                   "extends", line)
    base = read_scenario(parent_path, chain)
    base_data = {k: v for k, v in base.data.items() if k not in NOT_INHERITED + ("extends",)}
    lines: dict = {k: v for k, v in base.lines.items() if not (k and k[0] in NOT_INHERITED + ("extends",))}
    own = {k: v for k, v in doc.data.items() if k != "extends"}
    merged = _merge(base_data, own, base.lines, doc.lines, (), lines)
    lines[()] = (str(file), 1)
    return YamlDocument(str(file), merged, lines)


# ---------------------------------------------------------------- locating problems
def _line(doc: YamlDocument, path: KeyPath) -> tuple[str, int | None]:
    for n in range(len(path), -1, -1):
        if path[:n] in doc.lines:
            return doc.lines[path[:n]]
    return doc.file, None


def _problem(doc: YamlDocument, path: KeyPath, message: str) -> Problem:
    file, line = _line(doc, path)
    return Problem(file, format_path(path), line, message)


def _suggest(name: Any, candidates: typing.Iterable[str], names: dict[str, str] | None = None) -> str:
    """' (did you mean JP?)' for a near miss, also matching full names ('Japan' -> JP)."""
    if not isinstance(name, str):
        return ""
    candidates = [c for c in candidates if isinstance(c, str)]
    if names:
        for code, full in names.items():
            if full and full.lower() == name.lower():
                return f" (did you mean {code}?)"
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return f" (did you mean {lowered[name.lower()]}?)"
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _clean_loc(data: Any, loc: tuple) -> KeyPath:
    """Drop pydantic's union tags from an error location, keeping only real keys and indices."""
    out: list = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, (dict, list)):
            continue  # a union tag such as 'export_ban' or 'float'
        else:
            break
    if loc and out and loc[-1] not in out[-1:] and isinstance(node, dict) and isinstance(loc[-1], str) \
            and loc[-1] not in _UNION_TAGS:
        out.append(loc[-1])  # a missing key: name it
    return tuple(out)


_UNION_TAGS = set(EVENT_TYPES) | {"float", "str", "int", "tuple", "dict", "literal['all']"}


def _model_at(data: Any, path: KeyPath) -> type[BaseModel] | None:
    """The schema model class that describes the map at ``path`` (for 'did you mean' on keys)."""
    ann: Any = Scenario
    node = data
    for part in path:
        ann = _unwrap(ann, node)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            ann = field.annotation
        else:
            origin = typing.get_origin(ann)
            args = typing.get_args(ann)
            if origin is dict:
                ann = args[1]
            elif origin in (tuple, list):
                ann = args[0]
            else:
                return None
        node = node[part] if isinstance(node, (dict, list)) else None
    ann = _unwrap(ann, node)
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _unwrap(ann: Any, node: Any) -> Any:
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(ann) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            tag = node.get("type") if isinstance(node, dict) else None
            chosen = [m for m in models if tag is not None and
                      typing.get_args(m.model_fields.get("type").annotation if "type" in m.model_fields else None)
                      == (tag,)]
            if chosen:
                return chosen[0]
            non_literal = [m for m in members if typing.get_origin(m) is not typing.Literal]
            if len(non_literal) == 1:
                ann = non_literal[0]
            elif len(models) == 1:
                ann = models[0]
            else:
                return ann
        else:
            return ann


def _pydantic_problems(doc: YamlDocument, exc: ValidationError) -> list[Problem]:
    problems = []
    seen = set()
    misspelt = set()  # (parent path, key) a misspelling stands for: its 'missing' problem would say it twice
    for err in exc.errors():
        if err["type"] == "extra_forbidden":
            path = _clean_loc(doc.data, err["loc"])
            model = _model_at(doc.data, path[:-1])
            close = difflib.get_close_matches(str(path[-1]), list(model.model_fields) if model else [], n=1, cutoff=0.6)
            if close:
                misspelt.add(path[:-1] + (close[0],))
    for err in exc.errors():
        path = _clean_loc(doc.data, err["loc"])
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        if kind == "extra_forbidden":
            model = _model_at(doc.data, path[:-1])
            allowed = sorted(model.model_fields) if model else []
            msg = f"unknown key {path[-1]!r}{_suggest(path[-1], allowed)}"
            if allowed and not _suggest(path[-1], allowed):
                msg += f"; expected one of: {', '.join(allowed)}"
        elif kind == "missing":
            if path in misspelt:
                continue
            msg = "required key is missing"
        elif kind == "union_tag_invalid":
            tag = err.get("ctx", {}).get("tag")
            msg = f"unknown event type {tag!r}{_suggest(tag, EVENT_TYPES)}; expected one of: {', '.join(EVENT_TYPES)}"
            path = path + ("type",)
        elif kind == "union_tag_not_found":
            msg = f"an event needs a 'type:', one of: {', '.join(EVENT_TYPES)}"
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            options = re.findall(r"'([^']*)'", expected)
            msg = f"expected one of {expected}, got {got!r}{_suggest(got, options)}"
        elif kind in ("date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact"):
            msg = f"expected a date written YYYY-MM-DD, got {got!r}"
        elif kind in ("int_type", "int_parsing", "int_from_float"):
            msg = f"expected a whole number, got {got!r}"
        elif kind in ("string_type",):
            msg = f"expected text, got {got!r}"
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            msg = f"expected a map of keys, got {type(got).__name__} {got!r}" if not isinstance(got, (dict, list)) \
                else f"expected a map of keys, got a {type(got).__name__}"
        elif kind in ("tuple_type", "list_type"):
            msg = f"expected a list, got {got!r}"
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            msg = f"{msg.replace('Input should be', 'must be')}, got {got!r}"
        key = (format_path(path), msg)
        if key not in seen:
            seen.add(key)
            problems.append(_problem(doc, path, msg))
    return problems


# ---------------------------------------------------------------- cross-reference checks
class _Checker:
    """Checks that need the whole file: names that refer to other parts, sums, dates, sources.

    Works on the plain merged data, defensively, so that it runs even where the
    shape is wrong and all problems come out together.
    """

    def __init__(self, doc: YamlDocument, registry: Registry | None):
        self.doc = doc
        self.data = doc.data
        self.registry = registry
        self.problems: list[Problem] = []
        d = self.data
        self.countries: dict[str, str] = {k: str(v.get("name") or "") if isinstance(v, dict) else ""
                                         for k, v in _map(d.get("countries")).items()}
        self.groups = _map(d.get("groups"))
        self.elements = d.get("elements") if isinstance(d.get("elements"), list) else list(DEFAULT_ELEMENTS)
        self.grades = list(_map(d.get("magnet_grades")))
        self.sectors = list(_map(d.get("sectors")))
        fac = _map(d.get("facilities"))
        self.facility_ids: dict[str, tuple[str, str]] = {}
        for stage in ("mine", "refinery", "magnet"):
            for fid in _map(fac.get(stage)):
                if fid in self.facility_ids:
                    self.add(("facilities", stage, fid), f"facility id {fid!r} is also used in "
                             f"facilities.{self.facility_ids[fid][0]}; ids must be unique across stages")
                else:
                    self.facility_ids[fid] = (stage, fid)
        cal = _map(d.get("calendar"))
        self.start = cal.get("start") if isinstance(cal.get("start"), dt.date) else None
        self.end = cal.get("end") if isinstance(cal.get("end"), dt.date) else None

    def add(self, path: KeyPath, message: str) -> None:
        self.problems.append(_problem(self.doc, path, message))

    # name checks -------------------------------------------------------
    def country(self, path: KeyPath, code: Any, allow_groups: bool = True, allow_all: bool = False) -> None:
        if not _is_name(code) or (allow_all and code == "all"):
            return
        known = list(self.countries) + (list(self.groups) if allow_groups else [])
        if code not in known:
            what = "country or group" if allow_groups else "country"
            hint = _suggest(code, known, self.countries)
            if not allow_groups and code in self.groups:
                hint = " (a group is not allowed here; name one country)"
            self.add(path, f"unknown {what} {code!r}{hint}")

    def countries_list(self, path: KeyPath, value: Any, allow_all: bool = True) -> None:
        if allow_all and value == "all":
            return
        if isinstance(value, list):
            for i, code in enumerate(value):
                self.country(path + (i,), code)

    def element(self, path: KeyPath, name: Any) -> None:
        if _is_name(name) and name not in self.elements:
            self.add(path, f"unknown element {name!r}{_suggest(name, self.elements)}; "
                     f"the scenario's elements are {', '.join(map(str, self.elements))}")

    def elements_list(self, path: KeyPath, value: Any, allow_all: bool = True) -> None:
        if allow_all and value == "all":
            return
        if isinstance(value, list):
            for i, name in enumerate(value):
                self.element(path + (i,), name)

    def named(self, path: KeyPath, name: Any, known: list[str], what: str) -> None:
        if _is_name(name) and name not in known:
            self.add(path, f"unknown {what} {name!r}{_suggest(name, known)}"
                     + (f"; known: {', '.join(known)}" if known and len(known) <= 12 else ""))

    def sums_to_one(self, path: KeyPath, shares: Any, what: str) -> None:
        if not isinstance(shares, dict) or not shares:
            return
        values = list(shares.values())
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return  # distributions or bad values: the shape check reports the latter
        total = sum(values)
        if abs(total - 1) > SHARE_TOLERANCE:
            self.add(path, f"{what} must sum to 1, got {total:.6g}")

    def date_in_horizon(self, path: KeyPath, value: Any) -> None:
        if not isinstance(value, dt.date) or self.start is None or self.end is None:
            return
        if not self.start <= value <= self.end:
            self.add(path, f"date {value} is outside the scenario's calendar {self.start} .. {self.end}")

    # the whole file ----------------------------------------------------
    def run(self) -> list[Problem]:
        d = self.data
        self.check_calendar()
        for code in self.countries:
            if not re.fullmatch(r"[A-Z]{2,3}", str(code)):
                self.add(("countries", code), f"country code {code!r} must be 2–3 capital letters (ISO 3166, "
                         "or ROW for the rest of the world)")
        for name, group in self.groups.items():
            if name in self.countries:
                self.add(("groups", name), f"group {name!r} has the name of a country")
            members = group.get("members") if isinstance(group, dict) else None
            if isinstance(members, list):
                for i, code in enumerate(members):
                    self.country(("groups", name, "members", i), code, allow_groups=False)
        self.check_facilities()
        for gname, grade in _map(d.get("magnet_grades")).items():
            recipe = _map(grade.get("recipe") if isinstance(grade, dict) else None)
            for el in recipe:
                self.element(("magnet_grades", gname, "recipe", el), el)
            nums = [v for v in recipe.values() if isinstance(v, (int, float))]
            if nums and sum(nums) > 1 + SHARE_TOLERANCE:
                self.add(("magnet_grades", gname, "recipe"), f"rare-earth content exceeds the magnet's mass: "
                         f"shares sum to {sum(nums):.4g} > 1")
        for sname, sector in _map(d.get("sectors")).items():
            mix = _map(sector.get("grades") if isinstance(sector, dict) else None)
            for g in mix:
                self.named(("sectors", sname, "grades", g), g, self.grades, "magnet grade")
            self.sums_to_one(("sectors", sname, "grades"), mix, "grade shares")
        for code, per_sector in _map(d.get("demand")).items():
            self.country(("demand", code), code, allow_groups=False)
            for sname in _map(per_sector):
                self.named(("demand", code, sname), sname, self.sectors, "sector")
        for code, entry in _map(d.get("non_magnet_demand")).items():
            self.country(("non_magnet_demand", code), code, allow_groups=False)
            for el in _map(entry.get("t_per_year") if isinstance(entry, dict) else None):
                self.element(("non_magnet_demand", code, "t_per_year", el), el)
        self.check_trade()
        inv = _map(d.get("inventories"))
        for code in _map(inv.get("by_country")):
            self.country(("inventories", "by_country", code), code, allow_groups=False)
        for code, pile in _map(d.get("stockpiles")).items():
            self.country(("stockpiles", code), code, allow_groups=False)
            if isinstance(pile, dict):
                self.elements_list(("stockpiles", code, "elements"), pile.get("elements"), allow_all=False)
        for el in _map(_map(d.get("prices")).get("initial_usd_per_kg")):
            self.element(("prices", "initial_usd_per_kg", el), el)
        self.check_events()
        self.check_sources()
        return self.problems

    def check_calendar(self) -> None:
        if self.start and self.end and self.end <= self.start:
            self.add(("calendar", "end"), f"end {self.end} must come after start {self.start}")
        elements = self.data.get("elements")
        if isinstance(elements, list):
            dupes = {e for e in elements if elements.count(e) > 1}
            if dupes:
                self.add(("elements",), f"elements listed twice: {', '.join(map(str, sorted(dupes, key=str)))}")

    def check_facilities(self) -> None:
        fac = _map(self.data.get("facilities"))
        for stage in ("mine", "refinery", "magnet"):
            for fid, f in _map(fac.get(stage)).items():
                if not isinstance(f, dict):
                    continue
                base = ("facilities", stage, fid)
                if "country" in f:
                    self.country(base + ("country",), f["country"], allow_groups=False)
                if stage == "mine":
                    comp = _map(f.get("composition"))
                    for el in comp:
                        self.element(base + ("composition", el), el)
                    self.sums_to_one(base + ("composition",), comp, "composition shares")
                if stage == "refinery" and isinstance(f.get("separates"), list):
                    self.elements_list(base + ("separates",), f["separates"], allow_all=False)
                if stage == "magnet" and isinstance(f.get("grades"), list):
                    for i, g in enumerate(f["grades"]):
                        self.named(base + ("grades", i), g, self.grades, "magnet grade")

    def check_trade(self) -> None:
        trade = _map(self.data.get("trade"))
        for stage, buyers in _map(trade.get("suppliers")).items():
            for buyer, entry in _map(buyers).items():
                base = ("trade", "suppliers", stage, buyer)
                self.country(base, buyer, allow_groups=False)
                shares = _map(entry.get("shares") if isinstance(entry, dict) else None)
                for seller in shares:
                    self.country(base + ("shares", seller), seller, allow_groups=False)
                self.sums_to_one(base + ("shares",), shares, "supplier shares")
        for key in _map(trade.get("routes")):
            if isinstance(key, str) and key.count("-") == 1:
                for part in key.split("-"):
                    if part:
                        self.country(("trade", "routes", key), part)

    def check_events(self) -> None:
        events = self.data.get("events")
        if not isinstance(events, list):
            return
        ids: dict[str, int] = {}
        measure_ids = {e.get("id"): e for e in events
                       if isinstance(e, dict) and _is_name(e.get("id")) and e.get("type") in MEASURE_TYPES}
        for i, ev in enumerate(events):
            if not isinstance(ev, dict):
                continue
            base = ("events", i)
            if ev.get("id") is not None and _is_name(ev["id"]):
                if ev["id"] in ids:
                    self.add(base + ("id",), f"event id {ev['id']!r} is already used by events[{ids[ev['id']]}]")
                ids.setdefault(ev["id"], i)
            for key in ("start", "end", "date", "until", "announced"):
                self.date_in_horizon(base + (key,), ev.get(key))
            if isinstance(ev.get("start"), dt.date) and isinstance(ev.get("end"), dt.date) and ev["end"] < ev["start"]:
                self.add(base + ("end",), f"end {ev['end']} comes before start {ev['start']}")
            if "exporter" in ev:
                self.country(base + ("exporter",), ev["exporter"])
            for key in ("importers", "countries"):
                if key in ev:
                    self.countries_list(base + (key,), ev[key])
            if "country" in ev:
                self.country(base + ("country",), ev["country"], allow_groups=False)
            if "elements" in ev:
                self.elements_list(base + ("elements",), ev["elements"])
            if "element" in ev:
                self.element(base + ("element",), ev["element"])
            if "facility" in ev:
                self.named(base + ("facility",), ev["facility"], list(self.facility_ids), "facility")
            if isinstance(ev.get("sectors"), list):
                for j, s in enumerate(ev["sectors"]):
                    self.named(base + ("sectors", j), s, self.sectors, "sector")
            for key in ("from_grade", "to_grade"):
                if key in ev:
                    self.named(base + (key,), ev[key], self.grades, "magnet grade")
            if ev.get("type") == "suspension" and "measure" in ev:
                self.named(base + ("measure",), ev["measure"], [k for k in measure_ids if k], "measure id")
                if isinstance(ev.get("start"), dt.date) and isinstance(ev.get("until"), dt.date) \
                        and ev["until"] < ev["start"]:
                    self.add(base + ("until",), f"until {ev['until']} comes before start {ev['start']}")

    def check_sources(self) -> None:
        if self.registry is None:
            return
        for path, value in _walk(self.data, ()):
            if path and path[-1] in ("source", "switching_source") or (len(path) >= 2 and path[-2] in
                                                                         ("source", "switching_source")):
                if isinstance(value, str) and not self.registry.is_citation(value):
                    self.add(path, f"source {value!r} is neither a figure id in {self.registry.root}/figures.yaml "
                             f"nor a publication with its year{_suggest(value, self.registry.figures)}")


def _is_name(value: Any) -> bool:
    """A value that can name something; other shapes are left to the shape check to report."""
    return isinstance(value, (str, int, float, bool)) or value is None


def _map(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _walk(value: Any, path: KeyPath):
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, path + (i,))


# ---------------------------------------------------------------- public API
def validate_document(doc: YamlDocument, registry: Registry | None = None) -> Scenario:
    """Validate merged scenario data; raise ScenarioError with every problem found."""
    data = dict(doc.data)
    data.setdefault("name", Path(doc.file).stem)
    doc = YamlDocument(doc.file, data, doc.lines)
    problems: list[Problem] = []
    scenario = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems += _pydantic_problems(doc, exc)
    problems += _Checker(doc, registry).run()
    if problems:
        problems.sort(key=lambda p: (p.file != doc.file, p.file, p.line or 0))
        raise ScenarioError(problems)
    assert scenario is not None
    return scenario


def load_scenario(file: str | Path, registry: Registry | None = None, check_sources: bool = True) -> Scenario:
    """Read, merge, validate: the one way from a scenario file to a ``Scenario``.

    Sources are checked against ``registry``, else the ``seeds/`` registry found
    above the file (or $SIM_SEEDS); pass ``check_sources=False`` to skip them.
    """
    doc = read_scenario(file)
    if check_sources and registry is None:
        seeds = find_seeds(Path(file))
        registry = load_registry(seeds) if seeds else None
    return validate_document(doc, registry if check_sources else None)
