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

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem, ScenarioError, did_you_mean
from .events import APPROVAL_FORMS, EVENT_TYPES
from .references import check_references
from .registry import Registry, find_seeds, load_registry
from .schema import Scenario
from .yamlfile import KeyPath, YamlDocument, format_path, problem_at, read_yaml, unreadable_paths

NOT_INHERITED = ("name", "title", "description")
ADDITIVE_LISTS = ("events",)
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
    doc = read_yaml(file, keep_unreadable=True)
    here = Path(file).resolve()
    if not doc.lines:                # nothing but blanks and comments; '{}' has a line
        raise ScenarioError.single(file, "the file is empty (no keys): a scenario needs at least 'calendar' and "
                                         "'countries', or 'extends: BASE.yaml'")
    if not isinstance(doc.data, dict):
        raise ScenarioError.single(file, f"a scenario must be a map of keys, got {type(doc.data).__name__}", line=1)
    parent = doc.data.get("extends")
    if parent is None:
        return doc
    line = doc.lines.get(("extends",), (str(file), None))[1]
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError.single(file, f"extends: expected a file name, got {parent!r}", "extends", line)
    unusable = _unusable_file_name(parent)
    if unusable:
        raise ScenarioError.single(file, f"extends: expected a file name, got {parent!r} ({unusable})", "extends", line)
    try:
        parent_path = (here.parent / parent).resolve()
        found = parent_path.is_file()
    except (OSError, ValueError) as exc:  # a name the file system refuses for a reason not checked above
        raise ScenarioError.single(file, f"extends: cannot use {parent!r} as a file name ({exc})",
                                   "extends", line) from None
    chain = _chain + (here,)
    if parent_path in chain:
        cycle = " -> ".join(p.name for p in chain + (parent_path,))
        raise ScenarioError.single(file, f"extends forms a cycle: {cycle}", "extends", line)
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise ScenarioError.single(file, f"extends chain deeper than {MAX_EXTENDS_DEPTH} files", "extends", line)
    if not found:
        raise ScenarioError.single(file, f"extends: file {parent!r} not found (looked for {parent_path})",
                                   "extends", line)
    base = read_scenario(parent_path, chain)
    base_data = {k: v for k, v in base.data.items() if k not in NOT_INHERITED + ("extends",)}
    lines: dict = {k: v for k, v in base.lines.items() if not (k and k[0] in NOT_INHERITED + ("extends",))}
    own = {k: v for k, v in doc.data.items() if k != "extends"}
    merged = _merge(base_data, own, base.lines, doc.lines, (), lines)
    lines[()] = (str(file), 1)
    return YamlDocument(str(file), merged, lines)


MAX_NAME_BYTES = 255     # a file or folder name, on the common file systems
MAX_PATH_BYTES = 4096    # a whole path (Linux PATH_MAX)


def _unusable_file_name(name: str) -> str:
    """Why ``name`` can be no file's name on this system (empty when it can be)."""
    if "\0" in name:
        return "it holds a NUL character"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "it holds a lone surrogate, not a character"
    if len(encoded) > MAX_PATH_BYTES:
        return f"longer than {MAX_PATH_BYTES} bytes"
    longest = max((len(part.encode("utf-8")) for part in re.split(r"[/\\]", name)), default=0)
    if longest > MAX_NAME_BYTES:
        return f"a name in it is {longest} bytes long; file names are limited to {MAX_NAME_BYTES}"
    return ""


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
            and loc[-1] not in _NOT_KEYS:
        out.append(loc[-1])  # a missing key: name it
    return tuple(out)


# pydantic's marks in a location that are not keys of the file: the union member tried, and '[key]' for a
# map key that fails its type (a stage 'smelter'), where the key itself is at fault
_NOT_KEYS = set(EVENT_TYPES) | set(APPROVAL_FORMS) | {"float", "str", "int", "tuple", "dict", "literal['all']", "[key]"}


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


def fields_at(data: Any, path: KeyPath) -> tuple[str, ...]:
    """The keys the schema allows in the map at ``path`` of scenario data; empty for free maps (ids, codes)."""
    model = _model_at(data, path)
    return tuple(model.model_fields) if model else ()


def _unwrap(ann: Any, node: Any) -> Any:
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(ann) if a is not type(None)]
            bare = [typing.get_args(m)[0] if typing.get_origin(m) is typing.Annotated else m for m in members]
            models = [m for m in bare if isinstance(m, type) and issubclass(m, BaseModel)]
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
    kinds: dict[KeyPath, set[str]] = {}
    for err in exc.errors():
        kinds.setdefault(_clean_loc(doc.data, err["loc"]), set()).add(err["type"])
    for err in exc.errors():
        path = _clean_loc(doc.data, err["loc"])
        kind = err["type"]
        if {"literal_error"} < kinds[path] and kinds[path] & {"tuple_type", "list_type"}:
            if kind != "literal_error":       # a list or 'all' (importers: JP): one message for both
                continue
            expected = err.get("ctx", {}).get("expected", "")
            example = f"[{got}]" if isinstance((got := err.get("input")), str) and got else "[A, B]"
            msg = f"expected a list, e.g. {example}, or {expected}; got {got!r}"
            key = (format_path(path), msg)
            if key not in seen:
                seen.add(key)
                problems.append(problem_at(doc, path, msg))
            continue
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        if kind == "extra_forbidden":
            model = _model_at(doc.data, path[:-1])
            allowed = sorted(model.model_fields) if model else []
            msg = f"unknown key {path[-1]!r}{did_you_mean(path[-1], allowed)}"
            if allowed and not did_you_mean(path[-1], allowed):
                msg += f"; expected one of: {', '.join(allowed)}"
        elif kind == "missing":
            if path in misspelt:
                continue
            msg = "required key is missing"
        elif kind == "union_tag_invalid":
            tag = err.get("ctx", {}).get("tag")
            msg = (f"unknown event type {tag!r}{did_you_mean(tag, EVENT_TYPES)}; "
                   f"expected one of: {', '.join(EVENT_TYPES)}")
            path = path + ("type",)
        elif kind == "union_tag_not_found":
            msg = f"an event needs a 'type:', one of: {', '.join(EVENT_TYPES)}"
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            options = re.findall(r"'([^']*)'", expected)
            msg = f"expected one of {expected}, got {got!r}{did_you_mean(got, options)}"
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
            problems.append(problem_at(doc, path, msg))
    return problems


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
    problems += check_references(doc, registry)
    unreadable = {format_path(path): value for path, value in unreadable_paths(data).items()}
    if unreadable:     # one problem each where it stands, instead of what the checks made of its text
        problems = [p for p in problems if not any(p.path == at or p.path.startswith((at + ".", at + "["))
                                                   for at in unreadable)]
        problems += [problem_at(doc, path, value.reason) for path, value in unreadable_paths(data).items()]
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
        registry = registry_for(file)
    return validate_document(doc, registry if check_sources else None)


def registry_for(file: str | Path) -> Registry | None:
    """The ``seeds/`` registry a scenario file's sources are checked against (see ``find_seeds``)."""
    seeds = find_seeds(Path(file))
    return load_registry(seeds) if seeds else None
