"""Uncertain dates and uncertain events: any date may be a distribution, any event may happen with a probability.

Worlds are drawn with ``realise`` directly (no simulation), so these run in well under a second each.
"""
import collections
import datetime as dt

import numpy as np
import pytest

from sim.engine.simulation import Simulation
from sim.errors import ScenarioError
from sim.experiments.manifest import scenario_sha256
from sim.scenario import has_distributions, realise
from sim.scenario.loading import load_scenario
from sim.world.describe import describe_scenario

from .conftest import MINIMAL, SCENARIOS

D = dt.date.fromisoformat


def with_online(online: str, extra: str = "") -> str:
    """MINIMAL with the magnet plant's start date written as ``online`` (and more keys of the plant)."""
    return MINIMAL.replace("capacity_t: 500,", f"capacity_t: 500, online: {online},{extra}")


def worlds(scenario, n=200):
    return [realise(scenario, np.random.default_rng(seed)) for seed in range(n)]


def onlines(scenario, n=200):
    return [w.facilities.magnet["jp_mag"].online for w in worlds(scenario, n)]


# ---------------------------------------------------------------- dates
def test_a_plant_with_an_uncertain_start_comes_online_on_different_days_always_within_its_range(write):
    scenario = load_scenario(write(with_online("{dist: uniform, low: 2025-03-01, high: 2025-09-30}")))
    days = onlines(scenario)
    assert all(type(d) is dt.date for d in days)                     # whole days, not day numbers
    assert all(D("2025-03-01") <= d <= D("2025-09-30") for d in days)
    assert len(set(days)) > 100                                       # 214 days to choose from, 200 draws
    assert D("2025-05-01") < sorted(days)[100] < D("2025-08-01")      # the median near the middle


def test_a_triangular_start_is_most_often_near_its_mode(write):
    scenario = load_scenario(write(with_online("{dist: triangular, low: 2025-01-01, mode: 2025-02-01, "
                                               "high: 2026-01-01}")))
    days = onlines(scenario)
    assert all(D("2025-01-01") <= d <= D("2026-01-01") for d in days)
    early = sum(d < D("2025-04-01") for d in days)
    assert early > sum(d >= D("2025-10-01") for d in days)


def test_a_choice_of_dates_draws_only_those_dates_about_as_often_as_asked(write):
    scenario = load_scenario(write(with_online("{dist: choice, values: [2025-06-01, 2026-06-01], p: [0.2, 0.8]}")))
    counts = collections.Counter(onlines(scenario))
    assert set(counts) == {D("2025-06-01"), D("2026-06-01")}
    assert 20 <= counts[D("2025-06-01")] <= 60                        # 40 expected of 200


def test_a_normal_date_is_clipped_at_four_sd_so_every_draw_stays_in_a_known_range(write):
    scenario = load_scenario(write(with_online("{dist: normal, mean: 2025-07-01, sd_days: 30}")))
    days = onlines(scenario, 400)
    assert all(D("2025-07-01") - dt.timedelta(days=120) <= d <= D("2025-07-01") + dt.timedelta(days=120)
               for d in days)
    assert 15 < np.std([d.toordinal() for d in days]) < 45


def test_an_uncertain_date_is_drawn_per_replication_and_the_same_seed_gives_the_same_day(write):
    scenario = load_scenario(write(with_online("{dist: uniform, low: 2025-03-01, high: 2025-09-30}")))
    first = realise(scenario, np.random.default_rng(3))
    assert first == realise(scenario, np.random.default_rng(3))
    assert has_distributions(scenario) and not has_distributions(first)


def test_a_central_run_takes_the_mode_the_middle_the_mean_or_the_most_likely_date(write):
    cases = {"{dist: triangular, low: 2025-01-01, mode: 2025-02-01, high: 2026-01-01}": "2025-02-01",
             "{dist: uniform, low: 2025-03-01, high: 2025-03-11}": "2025-03-06",
             "{dist: normal, mean: 2025-07-01, sd_days: 30}": "2025-07-01",
             "{dist: choice, values: [2025-06-01, 2026-06-01], p: [0.2, 0.8]}": "2026-06-01"}
    for text, central in cases.items():
        world = realise(load_scenario(write(with_online(text))), None)
        assert world.facilities.magnet["jp_mag"].online == D(central), text


def test_dates_drawn_for_two_fields_never_cross_when_their_ranges_do_not(write):
    """Load-time checks look at the extremes, so every replication's start comes before its until."""
    text = MINIMAL + ("  - {type: suspension, measure: ban, start: {dist: uniform, low: 2026-02-01, high: 2026-04-01},"
                      " until: {dist: triangular, low: 2026-04-01, mode: 2026-06-01, high: 2026-12-01}}\n")
    for world in worlds(load_scenario(write(text))):
        assert world.events[1].start <= world.events[1].until


def test_plain_dates_are_read_as_before(write):
    scenario = load_scenario(write(with_online("'2025-04-01'")))
    assert scenario.facilities.magnet["jp_mag"].online == D("2025-04-01")
    assert scenario.events[0].start == D("2026-01-06") and not has_distributions(scenario)


# ---------------------------------------------------------------- probabilities
EXTENSION = """\
  - type: suspension
    id: pause
    measure: ban
    start: 2026-03-01
    until: 2026-06-01
    probability: {p}
"""


def test_an_extension_with_probability_half_happens_in_about_half_of_200_realisations(write):
    scenario = load_scenario(write(MINIMAL + EXTENSION.format(p=0.5)))
    happened = sum(any(e.type == "suspension" for e in w.events) for w in worlds(scenario))
    assert 70 <= happened <= 130                                      # 100 expected; sd 7
    assert all(w.events[0].type == "export_ban" for w in worlds(scenario, 20))   # the measure itself stays


def test_a_probability_may_itself_be_uncertain(write):
    scenario = load_scenario(write(MINIMAL + EXTENSION.format(p="{dist: uniform, low: 0.6, high: 1.0}")))
    happened = sum(len(w.events) == 2 for w in worlds(scenario))
    assert 140 <= happened <= 180                                     # 160 expected


def test_events_together_with_one_decision_happen_in_the_same_replications(write):
    text = MINIMAL + EXTENSION.format(p=0.5) + ("  - {type: outage, facility: cn_ref, start: 2026-03-01, "
                                                "end: 2026-04-01, together_with: pause}\n")
    for world in worlds(load_scenario(write(text))):
        assert sorted(e.type for e in world.events[1:]) in ([], ["outage", "suspension"])


def test_a_measure_that_does_not_happen_takes_its_suspensions_with_it(write):
    text = MINIMAL + "    probability: 0.3\n" + EXTENSION.format(p=1)
    for world in worlds(load_scenario(write(text))):
        assert len(world.events) in (0, 2)


def test_a_central_run_keeps_an_event_with_probability_one_half_or_more(write):
    for p, kept in [(0.5, True), (0.49, False), (1, True), (0, False)]:
        world = realise(load_scenario(write(MINIMAL + EXTENSION.format(p=p))), None)
        assert (len(world.events) == 2) is kept, p


def test_a_realised_world_is_decided_and_drawing_it_again_changes_nothing(write):
    scenario = load_scenario(write(MINIMAL + EXTENSION.format(p=0.5)))
    world = realise(scenario, np.random.default_rng(1))
    assert all(e.probability is None and e.together_with is None for e in world.events)
    assert realise(world, np.random.default_rng(2)) is world and realise(world, None) is world


def test_each_measure_keeps_its_own_terms_when_an_earlier_one_does_not_happen(write):
    """The engine pairs each measure of a drawn world with the event it was drawn from, not with its neighbour."""
    text = MINIMAL.replace("    id: ban\n", "    id: ban\n    probability: 0.5\n") + """\
  - type: export_licence
    id: licence
    exporter: CN
    start: 2026-02-01
    processing_days: {dist: triangular, low: 20, mode: 45, high: 63}
"""
    scenario = load_scenario(write(text))
    seen = set()
    for seed in range(6):
        sim = Simulation(scenario, seed=seed)
        ids = tuple(m.id for m in sim.measures)
        seen.add(ids)
        licence = sim.measures[-1]
        assert licence.id == "licence" and licence.expected_days == 45
    assert seen == {("ban", "licence"), ("licence",)}


def test_a_scenario_with_no_probabilities_draws_the_same_world_as_before(write):
    """Without ``probability`` no extra draw is taken: one draw per distribution, in field order, nothing more."""
    text = MINIMAL.replace("capacity_t: 500", "capacity_t: {dist: normal, mean: 500, sd: 100}").replace(
        "recovery: 0.9", "recovery: {dist: uniform, low: 0.8, high: 1.0}")
    scenario = load_scenario(write(text))
    rng, mirror = np.random.default_rng(11), np.random.default_rng(11)
    world = realise(scenario, rng)
    assert world.facilities.refinery["cn_ref"].recovery == mirror.uniform(0.8, 1.0)
    assert world.facilities.magnet["jp_mag"].capacity_t == max(0.0, mirror.normal(500, 100))
    assert rng.random() == mirror.random()                            # the stream is where the numbers left it
    assert world.events == scenario.events                            # and every event is there


def test_unset_probabilities_leave_the_scenario_hash_as_it_was(write):
    scenario = load_scenario(write(MINIMAL))
    dumped = scenario.model_dump(mode="json", warnings=False)["events"][0]
    assert "probability" not in dumped and "together_with" not in dumped
    assert scenario_sha256(scenario) != scenario_sha256(load_scenario(write(MINIMAL + "    probability: 0.5\n")))


# ---------------------------------------------------------------- the example
def test_the_example_extends_the_pause_in_about_half_the_replications_and_seadrift_starts_in_its_range():
    scenario = load_scenario(SCENARIOS / "suspension_uncertain.yaml")
    extended, starts = 0, set()
    for world in worlds(scenario, 100):
        extensions = [e for e in world.events if e.type == "suspension" and e.until == D("2027-11-10")]
        assert len(extensions) in (0, 2)                              # civil and defence: one decision
        extended += bool(extensions)
        starts.add(world.facilities.refinery["us_lynas_seadrift"].online)
    assert 30 <= extended <= 70                                       # 50 expected; sd 5
    assert min(starts) >= D("2026-07-01") and max(starts) <= D("2028-06-30") and len(starts) > 80
    central = realise(scenario, None)
    assert central.facilities.refinery["us_lynas_seadrift"].online == D("2027-07-01")
    assert sum(e.type == "suspension" and e.until == D("2027-11-10") for e in central.events) == 2
    summary = describe_scenario(scenario)
    assert "(probability 0.5)" in summary and "(together with extension_civil)" in summary


# ---------------------------------------------------------------- bad input
def only_problem(path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    return problem


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("online, message", [
    ("{dist: uniform, low: 2028-01-01, hihg: 2029-06-30}", "unknown key 'hihg' (did you mean high?)"),
    ("{dist: normal, mean: 2028-01-01, sd: 30}", "unknown key 'sd' (did you mean sd_days?)"),
    ("{dist: lognormal, median: 2028-01-01, sigma: 1}", "a date cannot be lognormal"),
    ("{dist: uniform, low: 0, high: 10}", "(low): expected a date written YYYY-MM-DD, got 0"),
    ("{dist: triangular, low: 2028-01-01, mode: 2027-01-01, high: 2029-01-01}", "needs low <= mode <= high"),
    ("{dist: choice, values: [2026-11-10, 2027-11-10], p: [0.4, 0.7]}", "sum to 1"),
    ("{dist: normal, mean: 2028-01-01, sd_days: 1e9}", "too large"),
    ("{low: 2028-01-01}", "a distribution of dates with 'dist:'"),
])
def test_a_bad_date_distribution_is_named_at_its_key_path_and_line(write, online, message):
    text = with_online(online)
    p = only_problem(write(text))
    assert p.path == "facilities.magnet.jp_mag.online" and message in p.message, p
    assert p.line == line_of(text, "online:")


def test_a_date_distribution_reaching_beyond_the_calendar_is_refused_at_load_time(write):
    text = MINIMAL.replace("start: 2026-01-06", "start: {dist: uniform, low: 2026-06-01, high: 2027-06-30}")
    p = only_problem(write(text))
    assert p.path == "events[0].start" and "beyond the scenario's calendar" in p.message
    assert "2026-06-01 .. 2027-06-30" in p.message and p.line == line_of(text, "start: {dist")


@pytest.mark.parametrize("start, until, ok", [
    ("{dist: uniform, low: 2026-03-01, high: 2026-06-30}", "2026-05-01", False),
    ("{dist: uniform, low: 2026-03-01, high: 2026-06-30}", "2026-06-30", True),
    ("2026-03-01", "{dist: choice, values: [2026-02-01, 2026-09-01]}", False),
])
def test_dates_that_could_be_drawn_out_of_order_are_refused_at_load_time(write, start, until, ok):
    path = write(MINIMAL + f"  - {{type: suspension, measure: ban, start: {start}, until: {until}}}\n")
    if ok:
        load_scenario(path)
        return
    p = only_problem(path)
    assert p.path == "events[1].until" and "until can be drawn before start" in p.message


def test_a_plant_that_could_close_before_it_opens_is_refused(write):
    p = only_problem(write(with_online("{dist: uniform, low: 2025-03-01, high: 2025-09-30}", " closes: 2025-06-01,")))
    assert p.path == "facilities.magnet.jp_mag.closes" and "closes can be drawn before online" in p.message


@pytest.mark.parametrize("extra, path, message", [
    ("    probability: 1.5\n", "events[0].probability", "must be ≤ 1"),
    ("    probability: {dist: uniform, low: 2, high: 3}\n", "events[0].probability", "outside the allowed range"),
    ("    together_with: later\n", "events[0].together_with", "must name an earlier event's id"),
    ("    probability: 0.5\n    together_with: ban\n", "events[0].together_with", "not both"),
])
def test_bad_probabilities_are_named(write, extra, path, message):
    p = only_problem(write(MINIMAL + extra))
    assert p.path == path and message in p.message, p


def test_a_date_with_a_time_of_day_is_refused_not_a_crash(write):
    p = only_problem(write(MINIMAL.replace("start: 2026-01-06", "start: 2026-01-06T10:00:00")))
    assert p.path == "events[0].start" and "YYYY-MM-DD" in p.message


def test_shares_that_must_sum_to_one_cannot_be_distributions(write):
    """Drawn supplier shares would not sum to 1 (and nothing rescales them): refused where written."""
    path = write("extends: " + str(SCENARIOS / "baseline.yaml") + "\n"
                 "trade:\n  suppliers:\n    refinery:\n      JP:\n        shares: {CN: {dist: uniform, low: 0.5, "
                 "high: 0.7}, MY: 0.34, VN: 0.02, EE: 0.04}\n        source: asm_trade_shares\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert any("cannot be distributions" in p.message for p in info.value.problems)


def test_what_a_replication_drew_is_listed_by_key_path():
    """Per-replication draws and event outcomes are listed; a licence's review time, drawn afresh for every
    application, is not (no single value of it acted)."""
    from sim.scenario import drawn_inputs
    scenario = load_scenario(SCENARIOS / "suspension_uncertain.yaml")
    world = Simulation(scenario, seed=0, replication=1).world
    drawn = drawn_inputs(scenario, world)
    online = dt.date.fromisoformat(drawn["facilities.refinery.us_lynas_seadrift.online"])
    assert dt.date(2026, 7, 1) <= online <= dt.date(2028, 6, 30)
    assert isinstance(drawn["events.extension_civil.happened"], bool)
    assert not any(key.endswith("processing_days") for key in drawn)
    certain = load_scenario(SCENARIOS / "japan_ban.yaml")
    assert drawn_inputs(certain, Simulation(certain, seed=0, replication=1).world) == {}
