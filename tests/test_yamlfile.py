"""Reading YAML safely: syntax errors, duplicates, tags and bombs are refused with a location."""
import pytest

from sim.errors import ScenarioError
from sim.scenario.yamlfile import MAX_BYTES, read_yaml


def problems_of(path):
    with pytest.raises(ScenarioError) as info:
        read_yaml(path)
    return info.value.problems


def test_a_valid_file_gives_data_and_the_line_of_each_key(write):
    """Every key path maps to the line where it is written."""
    doc = read_yaml(write("a: 1\nb:\n  c: [x, y]\n"))
    assert doc.data == {"a": 1, "b": {"c": ["x", "y"]}}
    assert doc.lines[("b", "c")][1] == 3
    assert doc.lines[("b", "c", 1)][1] == 3


def test_a_syntax_error_names_file_and_line(write):
    """An unclosed list is reported at the line where parsing failed."""
    path = write("a: [1, 2\nb: 3\n")
    (p,) = problems_of(path)
    assert p.file == str(path) and p.line == 2 and "syntax" in p.message


def test_a_duplicate_key_is_an_error_not_a_silent_overwrite(write):
    (p,) = problems_of(write("c:\n  d: 1\n  d: 2\n"))
    assert p.path == "c.d" and p.line == 3 and "first written at line 2" in p.message


def test_python_object_tags_are_refused(write):
    """Safe loading: no object construction, whatever the tag."""
    for text in ("a: !!python/object/apply:os.system ['echo hi']\n", "a: !!python/name:os.system\n"):
        (p,) = problems_of(write(text))
        assert "tag" in p.message or "constructor" in p.message


def test_an_alias_bomb_is_refused_quickly(write):
    """Nine levels of nine-fold aliases would expand to 9**9 nodes; refused instead."""
    text = 'a: &a ["l","l","l","l","l","l","l","l","l"]\n'
    prev = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    (p,) = problems_of(write(text))
    assert "expands to more than" in p.message


def test_modest_aliases_are_allowed(write):
    doc = read_yaml(write("x: &c {La: 0.5, Ce: 0.5}\ny: *c\n"))
    assert doc.data["y"] == {"La": 0.5, "Ce": 0.5}


def test_an_oversized_file_is_refused(write):
    path = write("a: 1\n")
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    (p,) = problems_of(path)
    assert "limited to" in p.message


def test_a_missing_file_is_reported(tmp_path):
    (p,) = problems_of(tmp_path / "nope.yaml")
    assert p.message == "file not found"


def test_an_impossible_date_is_reported_at_its_key_and_line(write):
    """2026-13-45 looks like a date to YAML but is none: a problem at its key path, not a traceback."""
    (p,) = problems_of(write("events:\n  - type: export_ban\n    start: 2026-13-45\n"))
    assert (p.path, p.line) == ("events[0].start", 3)
    assert "2026-13-45" in p.message and "YYYY-MM-DD" in p.message
