"""Bad scenarios get one clear problem each — file, key path, line, what was expected — all at once."""
import pytest

from sim.errors import ScenarioError
from sim.scenario.loading import load_scenario

from .conftest import MINIMAL


def problems_of(path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def only_problem(path):
    problems = problems_of(path)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_minimal_scenario_is_valid(write):
    """The base of the cases below is itself valid, so each case tests exactly one fault."""
    scenario = load_scenario(write(MINIMAL))
    assert scenario.name == "tiny" and scenario.facilities.mine["cn_mine"].capacity_t == 1000


def test_a_misspelt_key_is_named_with_a_suggestion(write):
    """One problem, not two: the misspelling stands for the required key it hides."""
    text = MINIMAL.replace("capacity_t: 500", "capcity_t: 500")
    p = only_problem(write(text))
    assert p.path == "facilities.magnet.jp_mag.capcity_t"
    assert "did you mean capacity_t?" in p.message
    assert p.line == line_of(text, "capcity_t")


def test_an_unknown_key_far_from_any_lists_the_keys_allowed(write):
    p = only_problem(write(MINIMAL.replace("step_days: 7", "step_days: 7, zzz: 1")))
    assert p.path == "calendar.zzz" and "expected one of: end, start, step_days" in p.message


def test_an_unknown_country_gets_a_did_you_mean(write):
    text = MINIMAL.replace("importers: [JP]", "importers: [JPN]")
    p = only_problem(write(text))
    assert p.path == "events[0].importers[0]" and "did you mean JP?" in p.message
    assert p.line == line_of(text, "JPN")


def test_a_country_written_by_name_suggests_its_code(write):
    p = only_problem(write(MINIMAL.replace("country: JP,", "country: Japan,")))
    assert p.path == "facilities.magnet.jp_mag.country" and "did you mean JP?" in p.message


def test_an_unknown_element_is_named(write):
    text = MINIMAL.replace("elements: [Dy, Tb]", "elements: [Dy, Tbb]")
    p = only_problem(write(text))
    assert p.path == "events[0].elements[1]" and "unknown element 'Tbb'" in p.message and "Tb?" in p.message


def test_a_negative_capacity_says_what_was_expected(write):
    text = MINIMAL.replace("capacity_t: 1000, composition", "capacity_t: -2, composition")
    p = only_problem(write(text))
    assert p.path == "facilities.mine.cn_mine.capacity_t"
    assert p.message == "must be ≥ 0, got -2"
    assert p.line == line_of(text, "capacity_t: -2")


def test_a_non_numeric_capacity_says_what_was_expected(write):
    p = only_problem(write(MINIMAL.replace("capacity_t: 500", "capacity_t: lots")))
    assert p.path == "facilities.magnet.jp_mag.capacity_t" and "expected a number, got 'lots'" in p.message


def test_supplier_shares_must_sum_to_one(write):
    p = only_problem(write(MINIMAL.replace("KR: 0.4", "KR: 0.3")))
    assert p.path == "trade.suppliers.refinery.JP.shares" and "sum to 1, got 0.9" in p.message


def test_shares_that_sum_to_one_pass(write):
    """The other side of the rule: 0.25 + 0.75 is fine, up to float rounding."""
    load_scenario(write(MINIMAL.replace("CN: 0.6, KR: 0.4", "CN: 0.1, KR: 0.2, JP: 0.7")))


def test_an_unknown_stage_holding_a_map_is_named_at_its_own_key(write):
    """A stage that is not one is the fault, located at its key, whatever it holds."""
    text = MINIMAL.replace("    refinery:\n      JP:", "    smelter:\n      JP:")
    p = only_problem(write(text))
    assert p.path == "trade.suppliers.smelter" and "expected one of 'mine', 'refinery' or 'magnet'" in p.message
    assert p.line == line_of(text, "smelter")


def test_mine_composition_must_sum_to_one(write):
    p = only_problem(write(MINIMAL.replace("Ce: 0.7", "Ce: 0.6")))
    assert p.path == "facilities.mine.cn_mine.composition" and "sum to 1" in p.message


def test_an_event_date_outside_the_horizon_is_an_error(write):
    text = MINIMAL.replace("start: 2026-01-06", "start: 2030-01-06")
    p = only_problem(write(text))
    assert p.path == "events[0].start" and "outside the scenario's calendar" in p.message


def test_an_event_date_on_the_last_day_is_inside(write):
    load_scenario(write(MINIMAL.replace("start: 2026-01-06", "start: 2026-12-31")))


def test_an_unknown_event_type_suggests_the_right_one(write):
    p = only_problem(write(MINIMAL.replace("type: export_ban", "type: export_bann")))
    assert p.path == "events[0].type" and "did you mean export_ban?" in p.message


def test_a_bad_date_says_how_to_write_one(write):
    p = only_problem(write(MINIMAL.replace("start: 2026-01-06", "start: next year")))
    assert p.path == "events[0].start" and "YYYY-MM-DD" in p.message


def test_a_missing_required_key_is_named(write):
    p = only_problem(write(MINIMAL.replace("    exporter: CN\n", "")))
    assert p.path == "events[0].exporter" and "missing" in p.message


def test_an_unknown_source_is_an_error_but_a_publication_with_a_year_is_not(write):
    p = only_problem(write(MINIMAL.replace("source: ev_magnet_kg", "source: ev_magnet_kgg")))
    assert p.path == "sectors.ev.source" and "did you mean ev_magnet_kg?" in p.message
    load_scenario(write(MINIMAL.replace("source: ev_magnet_kg", "source: IEA Global EV Outlook 2025")))


def test_a_missing_extends_file_is_named(write):
    p = only_problem(write("extends: nowhere.yaml\nname: x\n"))
    assert p.path == "extends" and "'nowhere.yaml' not found" in p.message and p.line == 1


def test_a_cycle_of_extends_is_named(write):
    write("extends: b.yaml\n", "a.yaml")
    path = write("extends: a.yaml\n", "b.yaml")
    p = only_problem(path)
    assert "cycle" in p.message and "b.yaml -> a.yaml -> b.yaml" in p.message


def test_all_problems_of_a_file_come_at_once(write):
    """Five faults of different kinds, five problems, sorted by line."""
    text = (MINIMAL.replace("capacity_t: 500", "capacity_t: -1")
            .replace("importers: [JP]", "importers: [XX]")
            .replace("KR: 0.4", "KR: 0.5")
            .replace("step_days: 7", "step_day: 7")
            .replace("elements: [Dy, Tb]", "elements: [Dy, Zz]"))
    problems = problems_of(write(text))
    paths = {p.path for p in problems}
    assert paths == {"calendar.step_day", "facilities.magnet.jp_mag.capacity_t", "trade.suppliers.refinery.JP.shares",
                     "events[0].importers[0]", "events[0].elements[1]"}
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_a_problem_in_an_extended_file_names_that_file(write):
    base = write(MINIMAL.replace("capacity_t: 500", "capacity_t: -5"), "base.yaml")
    child = write("extends: base.yaml\nname: child\n", "child.yaml")
    p = only_problem(child)
    assert p.file == str(base) and p.path == "facilities.magnet.jp_mag.capacity_t"


def test_a_distribution_may_stand_for_a_number(write):
    text = MINIMAL.replace("capacity_t: 500", "capacity_t: {dist: triangular, low: 400, mode: 500, high: 700}")
    scenario = load_scenario(write(text))
    assert scenario.facilities.magnet["jp_mag"].capacity_t.mode == 500


def test_a_malformed_distribution_is_explained(write):
    p = only_problem(write(MINIMAL.replace("capacity_t: 500", "capacity_t: {dist: triangular, low: 9, mode: 5, high: 7}")))
    assert "low <= mode <= high" in p.message


def test_a_distribution_outside_the_fields_range_is_refused(write):
    p = only_problem(write(MINIMAL.replace("recovery: 0.9", "recovery: {dist: uniform, low: 1.5, high: 2}")))
    assert p.path == "facilities.refinery.cn_ref.recovery" and "outside the allowed range" in p.message


# ---------------------------------------------------------------- stockpiles
PILE = "stockpiles:\n  JP: {{{body}, source: asm_stockpile_release}}\n"


@pytest.mark.parametrize("body, got", [("elements: [Dy], days: 30, t: {Dy: 5}", "got both"),
                                       ("elements: [Dy]", "got neither")])
def test_a_stockpile_needs_exactly_one_of_days_or_t(write, body, got):
    text = MINIMAL + PILE.format(body=body)
    p = only_problem(write(text))
    assert p.path == "stockpiles.JP" and "exactly one of days" in p.message and got in p.message
    assert p.line == line_of(text, "source: asm_stockpile_release")


@pytest.mark.parametrize("body", ["elements: [Dy], days: 30", "t: {Dy: 5, Tb: 1}",
                                  "elements: [Dy], days: 30, days_of: end_use"])
def test_a_stockpile_in_days_or_in_t_is_valid(write, body):
    """The other side: days with elements, or t alone, in either unit of days."""
    load_scenario(write(MINIMAL + PILE.format(body=body)))


def test_an_unknown_element_in_a_stockpiles_t_is_named(write):
    text = MINIMAL + PILE.format(body="t: {Dyy: 5}")
    p = only_problem(write(text))
    assert p.path == "stockpiles.JP.t.Dyy" and "unknown element 'Dyy'" in p.message and "Dy?" in p.message
    assert p.line == line_of(text, "Dyy")


def test_a_bad_days_of_lists_the_choices(write):
    text = MINIMAL + PILE.format(body="elements: [Dy], days: 30, days_of: end_users")
    p = only_problem(write(text))
    assert p.path == "stockpiles.JP.days_of" and "'oxide_use'" in p.message and "'end_use'" in p.message
    assert "did you mean end_use?" in p.message


def test_a_stockpile_in_t_names_its_elements_in_t(write):
    p = only_problem(write(MINIMAL + PILE.format(body="elements: [Dy], t: {Dy: 5}")))
    assert p.path == "stockpiles.JP" and "leave out elements" in p.message


@pytest.mark.parametrize("name", [".", "..", "..."])
def test_a_name_of_dots_is_refused_at_its_line(write, name):
    """results/<name>/ must be a folder of its own: '.' would replace the whole results folder."""
    text = MINIMAL.replace("name: tiny", f'name: "{name}"')
    p = only_problem(write(text))
    assert p.path == "name" and p.line == line_of(text, "name:") and "usable name" in p.message


def test_a_file_called_dot_dot_yaml_without_a_name_is_refused(write):
    """The name defaults to the file's stem; '..yaml' would give the name '.'."""
    p = only_problem(write(MINIMAL.replace("name: tiny\n", ""), "..yaml"))
    assert p.path == "name" and "usable name" in p.message


def test_a_name_longer_than_a_folder_name_allows_is_refused_at_its_line(write):
    text = MINIMAL.replace("name: tiny", "name: " + "a" * 300)
    p = only_problem(write(text))
    assert p.path == "name" and p.line == line_of(text, "name:") and "100" in p.message
    assert load_scenario(write(MINIMAL.replace("name: tiny", "name: " + "a" * 100))).name == "a" * 100


def test_an_impossible_date_is_one_located_problem_among_the_others(write):
    """2026-02-30 does not hide the file's other problems: each is reported, the date at its own line."""
    text = MINIMAL.replace("start: 2026-01-06", "start: 2026-02-30").replace("capacity_t: 500", "capacity_t: -3")
    problems = problems_of(write(text))
    assert len(problems) == 2, [str(p) for p in problems]
    date = next(p for p in problems if p.path == "events[0].start")
    assert "2026-02-30" in date.message and "YYYY-MM-DD" in date.message
    assert date.line == line_of(text, "2026-02-30")
    assert any(p.path == "facilities.magnet.jp_mag.capacity_t" for p in problems)


def test_an_empty_file_says_it_is_empty(write):
    for text in ("", "\n\n", "# only a comment\n"):
        problem = only_problem(write(text))
        assert "file is empty" in problem.message and "required key" not in problem.message


def test_a_string_where_a_list_is_wanted_gets_one_clear_message(write):
    """importers: JP is one problem saying to write a list (or 'all'), not two that contradict each other."""
    problem = only_problem(write(MINIMAL.replace("importers: [JP]", "importers: JP")))
    assert problem.path == "events[0].importers"
    assert "[JP]" in problem.message and "'all'" in problem.message


def test_releasing_a_stockpile_a_country_does_not_have_is_an_error(write):
    text = MINIMAL + "  - {type: stockpile_release, country: KR, start: 2026-02-01, days_per_month: 10}\n"
    problem = only_problem(write(text))
    assert problem.path == "events[1].country" and "KR has no stockpile" in problem.message
    assert problem.line == line_of(text, "stockpile_release")


def test_releasing_a_stockpile_a_country_has_is_valid(write):
    text = (MINIMAL + "  - {type: stockpile_release, country: JP, start: 2026-02-01, days_per_month: 10}\n"
            "stockpiles:\n  JP: {days: 30, elements: [Dy]}\n")
    load_scenario(write(text))
