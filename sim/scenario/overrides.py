"""Changing one value of a scenario document by key path: ``stockpiles.JP.days=30,60,90``.

An override acts on the merged document (after ``extends``), before
validation, so a changed value is checked like a hand-written one and its
problems are located at the line where the key is written.

Key paths are dot-separated: map keys by name, list items by number
(``events.0.start``) or, for items with an ``id`` (events), by that id
(``events.cn_japan_dual_use_ban.start``). A segment that is not a key but
begins exactly one key stands for that key (``stockpile`` -> ``stockpiles``);
the last segment may also name a key the schema allows there but the file
does not write (``calendar.step_days``). Values are YAML scalars or flow
collections (``30``, ``0.5``, ``2026-03-01``, ``JP``, ``[JP, KR]``); ``null``
removes the key, as in ``extends``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import Problem, ScenarioError, did_you_mean
from .loading import fields_at
from .yamlfile import KeyPath, YamlDocument, format_path, locate, problem_at

OPENERS, CLOSERS = "[{", "]}"


@dataclass(frozen=True)
class KeyPathResolved:
    """A key path as written (``stockpile.JP.days``) and the document path it stands for."""

    written: str
    path: KeyPath                 # real keys and list indices: ('stockpiles', 'JP', 'days')
    segments: tuple[str, ...]     # the same for people: list items by their id where they have one
    notes: tuple[str, ...] = ()   # segments taken as another key: "'stockpile' taken as 'stockpiles'"

    @property
    def dotted(self) -> str:
        """``stockpiles.JP.days``, ``events.cn_japan_dual_use_ban.start``."""
        return ".".join(self.segments)


def split_assignment(text: str, option: str = "--set") -> tuple[str, list[Any]]:
    """``'stockpiles.JP.days=30,60'`` -> ``('stockpiles.JP.days', [30, 60])``; ScenarioError if malformed."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError.single(option, f"expected KEY.PATH=VALUE[,VALUE...], got {text!r}")
    if any(not part.strip() for part in key.split(".")):
        raise ScenarioError.single(option, f"empty segment in key path {key!r}")
    return key, parse_values(values, option, key)


def parse_values(text: str, option: str = "--set", key: str = "") -> list[Any]:
    """Comma-separated YAML values; commas inside brackets or quotes belong to the value."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    values = []
    for part in parts:
        if not part.strip():
            raise ScenarioError.single(option, f"{key}: empty value in {text!r}" if key else f"empty value in {text!r}")
        try:
            values.append(yaml.safe_load(part))
        except yaml.YAMLError as exc:
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ScenarioError.single(option, f"{key}: cannot read value {part.strip()!r} as YAML: {what}") \
                from None
    return values


def resolve(doc: YamlDocument, written: str, option: str = "--set") -> KeyPathResolved:
    """The document path a dotted key path stands for; ScenarioError naming the file, line and nearest key."""
    segments = written.split(".")
    path: list[str | int] = []
    shown: list[str] = []
    notes: list[str] = []
    node: Any = doc.data
    for n, segment in enumerate(segments):
        last = n == len(segments) - 1
        if isinstance(node, dict):
            key, note = _map_key(doc, tuple(path), node, segment, last, option)
        elif isinstance(node, list):
            key, note = _list_index(doc, tuple(path), node, segment, option)
        else:
            raise ScenarioError([problem_at(doc, tuple(path), f"{option} {written}: {format_path(tuple(path))} is "
                                                              f"{_kind(node)}, it has no key {segment!r}")])
        if note:
            notes.append(note)
        path.append(key)
        shown.append(_shown(node, key))
        node = node[key] if isinstance(node, list) or key in node else None
    return KeyPathResolved(written, tuple(path), tuple(shown), tuple(notes))


def apply(doc: YamlDocument, path: KeyPath, value: Any) -> YamlDocument:
    """A copy of ``doc`` with the value at ``path`` set (``None`` removes a map key); ``doc`` is unchanged."""
    if not path:
        raise ValueError("an override needs a key path")

    def put(node: Any, depth: int) -> Any:
        key = path[depth]
        copy = dict(node) if isinstance(node, dict) else list(node)
        if depth + 1 < len(path):
            copy[key] = put(node[key], depth + 1)
        elif value is None and isinstance(copy, dict):
            copy.pop(key, None)
        elif value is None:
            raise ScenarioError([problem_at(doc, path, "null removes a key; a list item cannot be removed this way")])
        else:
            copy[key] = value
        return copy

    return YamlDocument(doc.file, put(doc.data, 0), doc.lines)


def describe(value: Any) -> str:
    """A value as written in YAML flow style: ``30``, ``2026-03-01``, ``[JP, KR]``, ``null``."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("...").strip()


# ---------------------------------------------------------------- helpers
def _map_key(doc: YamlDocument, parent: KeyPath, node: dict, segment: str, last: bool,
             option: str) -> tuple[Any, str | None]:
    keys = {str(k): k for k in node}
    if segment in keys:
        return keys[segment], None
    allowed = list(fields_at(doc.data, parent)) if last else []
    if segment in allowed:
        return segment, None                         # a key the schema knows, not written in the file
    candidates = list(dict.fromkeys(list(keys) + allowed))
    starting = [k for k in candidates if k.startswith(segment)]
    if len(starting) == 1:
        key = keys.get(starting[0], starting[0])
        return key, f"{segment!r} taken as {starting[0]!r}"
    where = format_path(parent) or "the top level"
    if len(starting) > 1:
        message = f"{segment!r} could be any of {', '.join(starting)}; write one in full"
    else:
        message = f"no key {segment!r} in {where}{did_you_mean(segment, candidates)}"
        if candidates and not did_you_mean(segment, candidates):
            message += f"; keys: {', '.join(candidates[:20])}" + (", ..." if len(candidates) > 20 else "")
    raise ScenarioError([_problem(doc, parent, segment, f"{option}: {message}")])


def _list_index(doc: YamlDocument, parent: KeyPath, node: list, segment: str, option: str) -> tuple[int, str | None]:
    where = format_path(parent)
    if segment.lstrip("-").isdigit():
        index = int(segment)
        if 0 <= index < len(node):
            return index, None
        items = f"{len(node)} item{'s' if len(node) != 1 else ''}" + (f" (0 .. {len(node) - 1})" if node else "")
        raise ScenarioError([_problem(doc, parent, segment, f"{option}: {where} has {items}, no item {index}")])
    ids = {str(item["id"]): i for i, item in enumerate(node) if isinstance(item, dict) and item.get("id") is not None}
    if segment in ids:
        return ids[segment], None
    starting = [k for k in ids if k.startswith(segment)]
    if len(starting) == 1:
        return ids[starting[0]], f"{segment!r} taken as {starting[0]!r} ({where}[{ids[starting[0]]}])"
    if not ids:
        message = f"{where} is a list of {len(node)} items without ids; name an item by its number"
    elif len(starting) > 1:
        message = f"{segment!r} could be any of {', '.join(starting)}; write one in full"
    else:
        message = f"no item with id {segment!r} in {where}{did_you_mean(segment, list(ids))}; " \
                  f"ids: {', '.join(ids)} (or a number 0 .. {len(node) - 1})"
    raise ScenarioError([_problem(doc, parent, segment, f"{option}: {message}")])


def _problem(doc: YamlDocument, parent: KeyPath, segment: str, message: str) -> Problem:
    """A problem at the written parent of a segment that is not there."""
    file, line = locate(doc, parent)
    return Problem(file, format_path(parent + (segment,)), line, message)


def _shown(node: Any, key: Any) -> str:
    if isinstance(node, list):
        item = node[key]
        return str(item["id"]) if isinstance(item, dict) and item.get("id") is not None else str(key)
    return str(key)


def _kind(node: Any) -> str:
    if node is None:
        return "not written"
    if isinstance(node, bool):
        return f"the value {node!r}"
    if isinstance(node, (int, float)):
        return f"the number {node!r}"
    return f"the value {describe(node)}"
