"""Safe YAML reading that remembers the line of every key.

Only plain data is built (PyYAML's SafeLoader: no Python objects). Files over
``MAX_BYTES`` and documents whose aliases expand past ``MAX_NODES`` nodes (the
"billion laughs" bomb) are refused, and so are duplicate keys, which YAML would
otherwise drop silently. A control character (BEL, DEL, C1 codes 0x80-0x9F, NUL...)
YAML does not allow is reported at its line and key path, every one at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, ScenarioError

MAX_BYTES = 5_000_000
MAX_NODES = 200_000

KeyPath = tuple[str | int, ...]
_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


class Unreadable(str):
    """The text of a value YAML could not build (``2026-02-30``), kept in its place with why it failed, so
    the scenario's other problems are still found; validation reports it where it stands."""

    reason: str

    def __new__(cls, text: str, reason: str) -> "Unreadable":
        out = super().__new__(cls, text)
        out.reason = reason
        return out


@dataclass(frozen=True)
class YamlDocument:
    """Plain data of one YAML file and the (file, line) where each key path is written."""

    file: str
    data: Any
    lines: dict[KeyPath, tuple[str, int]]


def format_path(path: KeyPath) -> str:
    """('facilities', 'mine', 3, 'capacity_t') -> 'facilities.mine[3].capacity_t'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Walker:
    def __init__(self, file: str, loader: yaml.SafeLoader, keep_unreadable: bool = False):
        self.file = file
        self.loader = loader
        self.keep_unreadable = keep_unreadable
        self.count = 0
        self.lines: dict[KeyPath, tuple[str, int]] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise ScenarioError.single(
                self.file,
                f"document expands to more than {MAX_NODES} nodes (too many aliases or too large); refused",
                format_path(path), node.start_mark.line + 1)
        self.lines.setdefault(path, (self.file, node.start_mark.line + 1))
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
            raise ScenarioError.single(self.file, f"YAML tag {node.tag!r} is not allowed; write plain maps and lists",
                                       format_path(path), node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves '<<' merge keys
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                try:
                    key = self.loader.construct_object(key_node, deep=True)
                except (ValueError, OverflowError) as exc:
                    self.problems.append(Problem(self.file, format_path(path), key_node.start_mark.line + 1,
                                                 f"cannot read the key {key_node.value!r} ({exc})"))
                    continue
                if isinstance(key, (dict, list)):
                    self.problems.append(Problem(self.file, format_path(path), key_node.start_mark.line + 1,
                                                 "a key must be a plain value, not a map or list"))
                    continue
                if key in out:
                    self.problems.append(Problem(
                        self.file, format_path(path + (key,)), key_node.start_mark.line + 1,
                        f"duplicate key {key!r} (first written at line {self.lines[path + (key,)][1]})"))
                    continue
                self.lines[path + (key,)] = (self.file, key_node.start_mark.line + 1)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:      # 2026-13-45 reads as a date YAML cannot build
            reason = f"cannot read {node.value!r} ({exc}); a date is written YYYY-MM-DD"
            if self.keep_unreadable:
                return Unreadable(str(node.value), reason)
            self.problems.append(Problem(self.file, format_path(path), node.start_mark.line + 1, reason))
            return None


def read_yaml(file: str | Path, keep_unreadable: bool = False) -> YamlDocument:
    """Read one YAML file safely into plain data plus a key-path -> line map.

    Raises ScenarioError naming the file (and line) for a missing file, a syntax
    error, an oversized document or duplicate keys. A value YAML cannot build
    (an impossible date) is a problem too, unless ``keep_unreadable``: then it
    stays in the data as an ``Unreadable`` string, for the caller to report
    along with the others.
    """
    file = str(file)
    path = Path(file)
    try:
        if not path.is_file():
            raise ScenarioError.single(file, "file not found")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError.single(file, f"file is {size} bytes; scenario files are limited to {MAX_BYTES}")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError.single(file, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (OSError, ValueError) as exc:  # unreadable, or a name the file system refuses
        raise ScenarioError.single(file, f"cannot read the file ({exc})") from None
    bad = _unprintable(file, text)
    if bad:
        raise ScenarioError(bad)
    return read_yaml_text(file, text, keep_unreadable)


def read_yaml_text(file: str, text: str, keep_unreadable: bool = False) -> YamlDocument:
    """Parse YAML text (read from ``file``, the name used in problems) into plain data and lines;
    ``keep_unreadable`` as in ``read_yaml``."""
    loader = yaml.SafeLoader(text)
    try:
        node = _composed(text) or loader.get_single_node()
        walker = _Walker(file, loader, keep_unreadable)
        data = walker.build(node, ()) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or str(exc)
        if exc.context:
            what = f"{exc.context}: {what}"
        raise ScenarioError.single(file, f"YAML syntax error: {what}", line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError.single(file, f"YAML error: {exc}") from None
    except RecursionError:
        raise ScenarioError.single(file, "document is nested too deeply; refused") from None
    finally:
        loader.dispose()
    if walker.problems:
        raise ScenarioError(walker.problems)
    return YamlDocument(file, data, walker.lines)


def _composed(text: str) -> yaml.Node | None:
    """The document's node tree as libyaml composes it (a tenth of the time of PyYAML's own parser: 4 ms for
    the baseline against 37 ms); None where libyaml is missing, finds no document, or refuses the text, which
    PyYAML's parser then reads (and words the problem as it always has)."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None:
        return None
    loader = fast(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # what YAML counts as the end of a line


def _unprintable(file: str, text: str) -> list[Problem]:
    """A problem for each character YAML refuses (control characters other than tab and newlines, DEL,
    C1 codes, lone surrogates, U+FFFE/U+FFFF), located by line, column and the key it is written in."""
    found = [(m.start(), m.group()) for m in _NON_PRINTABLE.finditer(text)]
    if not found:
        return []
    # where each key starts in the file read with every such character blanked out, to name where they sit
    marks = _key_marks(_NON_PRINTABLE.sub(" ", text))
    problems = []
    for pos, char in found[:20]:
        breaks = list(_LINE_BREAK.finditer(text, 0, pos))
        line = len(breaks) + 1
        column = pos - (breaks[-1].end() if breaks else 0) + 1
        # the last key written before the character: the key it is in, or whose value it is in
        path: KeyPath = ()
        best = (0, 0)
        for mark, key_path in marks:
            if best <= mark < (line, column):  # on a tie the later, deeper one: '- name: x' names 'name'
                best, path = mark, key_path
        problems.append(Problem(file, format_path(path), line,
                                f"control character U+{ord(char):04X} at column {column} is not allowed in YAML; "
                                f"expected printable text (remove it, or write it as an escape in a quoted string)"))
    if len(found) > 20:
        problems.append(Problem(file, "", None, f"... and {len(found) - 20} more such characters"))
    return problems


def _key_marks(text: str) -> list[tuple[tuple[int, int], KeyPath]]:
    """((line, column), key path) of every key and list item of a YAML text, both counted from 1; as many
    as can be found when the text is not valid YAML."""
    out: list[tuple[tuple[int, int], KeyPath]] = []

    def walk(node: yaml.Node, path: KeyPath) -> None:
        if len(out) > MAX_NODES:
            return
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = path + (key.value if isinstance(key, yaml.ScalarNode) else "?",)
                out.append(((key.start_mark.line + 1, key.start_mark.column + 1), sub))
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                out.append(((item.start_mark.line + 1, item.start_mark.column + 1), path + (i,)))
                walk(item, path + (i,))

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            walk(node, ())
    except (yaml.YAMLError, RecursionError):
        pass  # the file has other faults too: the characters are still reported by line and column
    return out


def unreadable_paths(data: Any, path: KeyPath = ()) -> dict[KeyPath, Unreadable]:
    """Key path -> value, of every ``Unreadable`` value in ``data``."""
    if isinstance(data, Unreadable):
        return {path: data}
    out: dict[KeyPath, Unreadable] = {}
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        out |= unreadable_paths(value, path + (key,))
    return out


def locate(doc: YamlDocument, path: KeyPath) -> tuple[str, int | None]:
    """The (file, line) of a key path, or of its nearest written parent when the key is missing."""
    for n in range(len(path), -1, -1):
        if path[:n] in doc.lines:
            return doc.lines[path[:n]]
    return doc.file, None


def problem_at(doc: YamlDocument, path: KeyPath, message: str) -> Problem:
    """A Problem located at a key path of a document."""
    file, line = locate(doc, path)
    return Problem(file, format_path(path), line, message)
