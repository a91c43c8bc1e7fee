"""Hostile bytes in a scenario file are a ScenarioError naming file, line and key path — never a traceback.

The three holes a fuzz of 10,000 mutated files found (issue 15): control characters YAML refuses, an
``extends:`` the file system cannot take as a name, and a number written as a map whose keys cannot be sorted.
"""
import pytest

from sim.errors import ScenarioError
from sim.scenario.loading import load_scenario

from .conftest import MINIMAL


def only_problem(path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    problems = info.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# ---------------------------------------------------------------- control characters
@pytest.mark.parametrize("char", ["\x07", "\x00", "\x1b", "\x7f", "\x80", "\x9f"],
                         ids=["BEL", "NUL", "ESC", "DEL", "C1-0x80", "C1-0x9F"])
def test_a_control_character_in_a_value_is_reported_at_its_key_and_line(write, char):
    text = MINIMAL.replace("name: A mine", f"name: A {char}mine")
    p = only_problem(write(text))
    assert p.path == "facilities.mine.cn_mine.name"
    assert p.line == line_of(MINIMAL, "name: A mine")
    assert f"U+{ord(char):04X}" in p.message and "not allowed" in p.message


def test_a_control_character_in_a_key_names_the_column_and_what_is_expected(write):
    text = MINIMAL.replace("step_days", "step\x07days")
    p = only_problem(write(text))
    assert p.line == line_of(MINIMAL, "step_days") and p.path.startswith("calendar")
    assert "column" in p.message and "expected printable text" in p.message


def test_every_control_character_of_a_file_is_reported_at_once(write):
    text = MINIMAL.replace("name: tiny", "name: ti\x07ny").replace("JP: {name: Japan}", "JP: {name: Ja\x7fpan}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(text))
    assert [(p.path, p.line) for p in info.value.problems] == [("name", 1), ("countries.JP", 5)] or \
        [p.line for p in info.value.problems] == [1, 5]


def test_a_control_character_where_the_yaml_is_broken_too_still_gives_its_line(write):
    p = only_problem(write("name: [unclosed\nfoo: \x07\n"))
    assert p.line == 2 and "U+0007" in p.message


def test_tabs_and_line_breaks_are_not_control_characters_to_refuse(write):
    assert load_scenario(write(MINIMAL.replace("\n", "\r\n"))).name == "tiny"


# ---------------------------------------------------------------- extends: names the file system refuses
@pytest.mark.parametrize("name, why", [
    ('"base\\0.yaml"', "NUL"),
    ('"\\ud800.yaml"', "lone surrogate"),
    ("a" * 300 + ".yaml", "255"),
    ("dir/" + "b" * 256 + "/base.yaml", "255"),
    ("/".join(["c" * 200] * 25), "4096"),
], ids=["NUL", "lone-surrogate", "name-over-255-bytes", "folder-over-255-bytes", "path-over-4096-bytes"])
def test_an_extends_no_file_system_can_open_is_a_scenario_error(write, name, why):
    path = write(f"extends: {name}\nname: child\n")
    p = only_problem(path)
    assert p.file == str(path) and p.path == "extends" and p.line == 1
    assert "expected a file name" in p.message and why in p.message


def test_a_long_but_possible_extends_is_simply_not_found(write):
    p = only_problem(write("extends: " + "d" * 250 + ".yaml\n"))
    assert p.path == "extends" and "not found" in p.message


# ---------------------------------------------------------------- a number written as a map with mixed keys
def test_a_number_written_as_a_map_with_keys_of_mixed_types_says_what_was_expected(write):
    text = MINIMAL.replace("capacity_t: 500", "capacity_t: {true: 1, a: 2}")
    p = only_problem(write(text))
    assert p.path == "facilities.magnet.jp_mag.capacity_t"
    assert p.line == line_of(text, "capacity_t: {true")
    assert "expected a number or a distribution" in p.message and "True" in p.message and "a" in p.message


def test_a_date_written_as_a_map_with_keys_of_mixed_types_says_what_was_expected(write):
    text = MINIMAL.replace("start: 2026-01-06", "start: {1: x, b: y}")
    p = only_problem(write(text))
    assert p.path == "events[0].start" and "expected a date" in p.message


def test_a_whole_number_too_large_for_a_float_says_what_was_expected(write):
    """Found by benchmarks/fuzz_loader.py: 400 nines raised OverflowError from float()."""
    text = MINIMAL.replace("capacity_t: 500", "capacity_t: " + "9" * 400)
    p = only_problem(write(text))
    assert p.path == "facilities.magnet.jp_mag.capacity_t" and p.line == line_of(text, "capacity_t: 999")
    assert "expected a number a float can hold" in p.message and "400 digits" in p.message
