"""Licences with state: applications by lot, a review office with a queue, approval odds by importer, end
user and date, and magnets without Dy or Tb that need no licence. Short runs of the baseline world with
one licence on China's Dy and Tb oxides (or magnets)."""
from __future__ import annotations

import copy
import datetime as dt
import math
import pickle
from functools import partial

import numpy as np
import pandas as pd
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import run
from sim.engine import processes, shipping
from sim.engine.licensing import Reviews, lots
from sim.engine.simulation import Simulation
from sim.engine.transit import Awaiting, Shipment
from sim.errors import ScenarioError
from sim.scenario.loading import load_scenario
from sim.stages import STAGES

from .conftest import SCENARIOS

BASE = SCENARIOS / "baseline.yaml"
END = dt.date(2025, 4, 30)
LICENCE = """\
extends: {base}
name: licensed
events:
  - type: export_licence
    exporter: CN
    importers: {importers}
    stages: [refinery]
    elements: [Dy, Tb]
    start: 2025-01-06
    processing_days: 7
    approval: {approval}
"""


BAN_ON_JAPAN = """\
  - type: export_ban
    exporter: CN
    importers: [JP]
    stages: [refinery]
    elements: [Dy, Tb]
    start: 2025-03-03
"""


def licensed(write, approval: str = "1.0", importers: str = "all", extra: str = "", name: str = "s.yaml",
             end: dt.date = END):
    """A run of the baseline with a licence on China's Dy and Tb oxides, its keys ``extra`` added."""
    text = LICENCE.format(base=BASE, importers=importers, approval=approval) + extra
    return run(write(text, name), end=end)


def applications(results, outcome: str = "applied") -> pd.DataFrame:
    """One row per application (step, stage, exporter, importer, t), from the recorder."""
    frame = pd.DataFrame(results.raw.licences)
    frame = frame[frame["outcome"] == outcome].reset_index(drop=True)
    frame["exporter"] = [results.net.countries[i] for i in frame["exporter"]]
    frame["importer"] = [results.net.countries[i] for i in frame["importer"]]
    return frame


def decided(results, outcome: str) -> pd.DataFrame:
    lic = results.table("licences")
    return lic[lic["outcome"] == outcome]


# ---------------------------------------------------------------- lots
def test_a_shipment_splits_into_lots_of_the_size_the_last_one_smaller():
    """5 t in lots of 2 t is three applications of 2, 2 and 1 t, each holding the items in proportion."""
    tagged = np.zeros((1, 3, 2))
    tagged[0, 0] = [4.0, 1.0]
    parts = lots(Shipment("refinery", np.array([1]), np.array([0]), tagged), 2.0)
    assert [p.tagged[0, 0].sum() for p in parts] == pytest.approx([2.0, 2.0, 1.0])
    assert all(p.tagged[0, 0, 0] == pytest.approx(4 * p.tagged[0, 0, 1]) for p in parts)
    assert sum(p.tagged for p in parts) == pytest.approx(tagged)


def test_without_a_lot_size_a_route_makes_one_application_a_step(write):
    """As before lots existed: one application per route and step."""
    per_step = applications(licensed(write)).groupby(["k", "importer"]).size()
    assert len(per_step) > 0 and (per_step == 1).all()


def test_lots_split_a_weeks_shipment_on_a_route_into_applications_of_at_most_the_lot_size(write):
    results = licensed(write, extra="    lot_t: {refinery: 1}\n")
    japan = applications(results).query("importer == 'JP'")
    for _, week in japan.groupby("k"):
        sizes = sorted(week["t"], reverse=True)
        assert len(sizes) == math.ceil(sum(sizes) - 1e-9)
        assert sizes[:-1] == pytest.approx([1.0] * (len(sizes) - 1)) and 0 < sizes[-1] <= 1 + 1e-9
    assert japan.groupby("k").size().max() >= 3          # Japan's Dy and Tb: several tonnes a week


# ---------------------------------------------------------------- the office
def test_an_office_deciding_one_application_a_week_builds_a_backlog_and_stretches_waiting(write):
    lotted = "    lot_t: {refinery: 1}\n"
    fast = licensed(write, importers="[JP]", extra=lotted, name="fast.yaml")
    slow = licensed(write, importers="[JP]", extra=lotted + "    office: {applications_per_week: 1}\n",
                    name="slow.yaml")
    queue = slow.table("licence_queue").set_index("date")
    assert (queue["exporter"] == "CN").all() and (queue["importer"] == "JP").all()
    assert queue["applications"].is_monotonic_increasing and queue["applications"].iloc[-1] > 20
    assert fast.table("licence_queue").empty                     # no office, no queue
    # the office takes up one a week, so one decision a week at most
    assert (applications(slow, "approved").groupby("k").size() <= 1).all()
    applied = decided(fast, "applied")["t"].sum()
    assert decided(fast, "approved")["t"].sum() > 0.8 * applied       # a week's review: nearly all decided
    assert decided(slow, "approved")["t"].sum() < 0.3 * applied       # most still wait
    monthly = slow.table("licence_queue", "month").set_index("date")
    assert monthly.loc["2025-03-01", "applications"] == queue.loc["2025-03-31", "applications"]   # a level


def test_a_ban_stops_the_goods_waiting_at_an_office_and_empties_its_queue(write):
    results = licensed(write, importers="[JP]", extra="    lot_t: {refinery: 1}\n"
                       "    office: {applications_per_week: 1}\n" + BAN_ON_JAPAN)
    queue = results.table("licence_queue")
    assert len(queue) and queue["date"].max() < pd.Timestamp("2025-03-03")
    backlog = queue.loc[queue["date"].idxmax(), "t"]
    stopped = decided(results, "stopped awaiting licence")["t"].sum()
    assert backlog < stopped <= backlog + 1.0 + 1e-9     # the queue, and the one lot under review
    assert decided(results, "approved")["date"].max() < pd.Timestamp("2025-03-17")


# ---------------------------------------------------------------- odds
def test_approval_odds_differ_by_importer(write):
    results = licensed(write, approval="{default: 1.0, by_importer: {JP: 0.0}}")
    refused, approved = decided(results, "refused"), decided(results, "approved")
    assert set(refused["importer"]) == {"JP"}
    assert "JP" not in set(approved["importer"]) and len(set(approved["importer"])) >= 3


def test_a_group_names_importers_and_a_country_code_beats_its_group(write):
    results = licensed(write, approval="{default: 1.0, by_importer: {G7: 0.0, JP: 1.0}}")
    refused = set(decided(results, "refused")["importer"])
    assert refused and refused <= set(load_scenario(BASE).groups["G7"].members) - {"JP"}
    assert "JP" in set(decided(results, "approved")["importer"])


def test_a_general_licence_from_a_date_approves_every_decision_after_it(write):
    results = licensed(write, approval="{default: 0.0, changes: [{date: 2025-03-01, default: 1.0}]}")
    refused, approved = decided(results, "refused"), decided(results, "approved")
    assert len(refused) and refused["date"].max() < pd.Timestamp("2025-03-08")
    assert len(approved) and approved["date"].min() >= pd.Timestamp("2025-03-01")


def test_a_general_licence_for_named_importers_leaves_the_others_refused(write):
    results = licensed(write, approval="{default: 0.0, changes: [{date: 2025-03-01, by_importer: {JP: 1.0}}]}")
    approved = decided(results, "approved")
    assert set(approved["importer"]) == {"JP"} and approved["date"].min() >= pd.Timestamp("2025-03-01")
    later = decided(results, "refused").query("date >= '2025-03-08'")
    assert len(later) and "JP" not in set(later["importer"])


def test_a_freeze_from_a_date_refuses_every_decision_after_it_even_of_applications_made_before(write):
    results = licensed(write, approval="{default: 1.0, changes: [{date: 2025-03-01, default: 0.0}]}")
    refused, approved = decided(results, "refused"), decided(results, "approved")
    assert len(approved) and approved["date"].max() < pd.Timestamp("2025-03-08")
    assert len(refused) and refused["date"].min() < pd.Timestamp("2025-03-08")   # made before, decided after


def test_odds_by_end_user_refuse_the_defence_share_and_approve_the_rest(write):
    results = licensed(write, approval="{default: 1.0, by_end_user: {defence: 0.0}}")
    refused, approved = decided(results, "refused")["t"].sum(), decided(results, "approved")["t"].sum()
    assert 0 < refused < 0.2 * approved                # defence is a small share of each country's use
    assert decided(licensed(write, name="all.yaml"), "refused").empty


def test_one_chance_and_odds_with_only_that_default_decide_alike(write):
    """``approval: 0.7`` and ``approval: {default: 0.7}`` are one rule written two ways: same draws, same
    decisions."""
    plain = licensed(write, approval="0.7", name="plain.yaml")
    odds = licensed(write, approval="{default: 0.7}", name="odds.yaml")
    pd.testing.assert_frame_equal(plain.table("licences"), odds.table("licences"))
    assert not decided(plain, "refused").empty


def test_lots_and_an_office_decide_the_same_for_the_same_seed(write):
    extra = "    lot_t: {refinery: 1}\n    office: {applications_per_week: 3}\n"
    text = LICENCE.format(base=BASE, importers="all", approval="{default: 0.6, by_end_user: {defence: 0.1}}")
    path = write(text + extra)
    a, b = run(path, seed=3, end=END), run(path, seed=3, end=END)
    for name in ("licences", "licence_queue", "flows"):
        pd.testing.assert_frame_equal(a.table(name), b.table(name))


# ---------------------------------------------------------------- Dy-free magnets
def test_magnets_without_dy_or_tb_ship_without_a_licence(write):
    """A licence on items holding Dy and Tb does not cover a grade whose recipe has neither."""
    dy_free = f"""\
extends: {BASE}
magnet_grades:
  standard_dy_free: {{name: NdFeB without Dy or Tb, recipe: {{NdPr: 0.31}}, source: asm_grade_recipes}}
sectors:
  electronics: {{grades: {{standard: null, standard_dy_free: 1.0}}}}
"""
    licence = """\
events:
  - type: export_licence
    exporter: CN
    stages: [magnet]
    elements: [Dy, Tb]
    start: 2025-01-06
    processing_days: 60
"""
    free = run(write(dy_free, "free.yaml"), end=dt.date(2025, 2, 28))
    held = run(write(dy_free + licence, "held.yaml"), end=dt.date(2025, 2, 28))

    def january(results, grade):
        f = results.table("flows", "month")
        f = f[(f["exporter"] == "CN") & (f["item"] == grade) & (f["date"] == "2025-01-01")]
        return f["t"].sum()
    assert january(held, "standard_dy_free") == pytest.approx(january(free, "standard_dy_free"), rel=0.1)
    assert january(held, "standard_dy_free") > 100
    assert january(held, "standard") < 0.5 * january(free, "standard")


# ---------------------------------------------------------------- bad input
def test_bad_licence_keys_are_located_errors(write):
    text = LICENCE.format(base=BASE, importers="all", approval="""
      defualt: 0.5
      by_importer: {USA: 0.2}
      changes:
        - {date: 2025-09-01, default: 0.9}
        - {date: 2025-06-15, default: 0.6}""") + """\
    lot_t: {smelter: 2}
    office: {applications_per_wek: 3}
"""
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(text))
    found = {p.path: (p.line, p.message) for p in info.value.problems}
    lines = text.splitlines()

    def line(needle):
        return next(i for i, text_line in enumerate(lines, 1) if needle in text_line)
    assert found["events[0].approval.defualt"] == (line("defualt"), "unknown key 'defualt' (did you mean default?)")
    assert "did you mean US?" in found["events[0].approval.by_importer.USA"][1]
    assert found["events[0].approval.changes[1].date"][0] == line("2025-06-15")
    assert "date order" in found["events[0].approval.changes[1].date"][1]
    assert "'smelter'" in found["events[0].lot_t.smelter"][1]
    assert "did you mean applications_per_week?" in found["events[0].office.applications_per_wek"][1]
    assert len(found) == 5


def test_review_times_drawn_a_step_at_a_time_are_those_drawn_one_application_at_a_time(write, monkeypatch):
    """Reviews that start in a step draw their times in the order they started, whatever measures they
    belong to (interleaved, one with a fixed time that draws nothing): the numbers one draw per application
    gives, and the stream goes on from the same place."""
    text = LICENCE.format(base=BASE, importers="all", approval="1.0").replace(
        "processing_days: 7", "processing_days: {dist: triangular, low: 20, mode: 45, high: 63}") + """\
  - type: export_licence
    exporter: CN
    importers: all
    stages: [magnet]
    start: 2025-01-06
    processing_days: {dist: uniform, low: 1, high: 9}
    approval: 1.0
  - type: export_licence
    exporter: CN
    importers: all
    stages: [mine]
    start: 2025-01-06
    processing_days: 7
    approval: 1.0
"""
    simulation = Simulation(load_scenario(write(text)), seed=3)
    simulation.env = simpy.Environment()          # on day 0: a review's due day is its time
    triangular, uniform, fixed = simulation.measures
    started = [triangular, triangular, uniform, fixed, triangular, uniform, uniform, fixed, fixed, triangular]
    desk = simulation.state.awaiting
    simulation._starting = [desk.hold(measure.index, 0, 1, np.array([0]), np.array([1]), np.zeros((1, 1), np.int64),
                                      np.ones((1, 1, 1)), np.ones(1))[0] for measure in started]
    drawn: list[float] = []
    monkeypatch.setattr(simulation.reviews, "start", lambda applications, due, sailed: drawn.extend(due))
    in_turn = np.random.default_rng()
    in_turn.bit_generator.state = simulation.licence_rng.bit_generator.state      # the same stream, from here
    simulation._start_reviews()
    expected = [m._review.sample(in_turn) if m is not fixed else 7.0 for m in started]
    assert np.array(drawn).tobytes() == np.array(expected).tobytes()
    assert simulation.licence_rng.random() == in_turn.random()


class CalendarModel:
    """Just enough of a simulation for the clock's processes: its decisions come from a calendar of reviews and
    are written down, with what else happened, in the order they came."""

    def __init__(self, env: simpy.Environment):
        self.env, self.reviews, self.log = env, Reviews(), []
        self.names: list[str] = []     # the applications' names, by their numbers in the calendar

    def reviews_started(self) -> int:
        return self.reviews.started

    def decisions(self, started: int) -> None:
        days, applications, _ = self.reviews.decided_by(self.env.now, started)
        for day, application in zip(days.tolist(), applications.tolist()):
            self.log.append((day, self.names[application]))


def reviews_and_events(script, by_calendar: bool) -> list:
    """Run a script of reviews started in batches on given days (``(day, [processing days])``) beside events that
    wait a given number of days, one after another (``[days]``), until day 30. Reviews are SimPy events of their
    own, or a calendar (``Reviews``) whose decisions the events and the end have made first."""
    env = simpy.Environment()
    model, log = CalendarModel(env), []
    model.log = log
    starts, waits = script

    def start_reviews():
        for n, (day, times) in enumerate(starts):
            yield env.timeout(day)
            for m, days in enumerate(times):
                name = f"review {n}.{m}"
                if by_calendar:
                    model.names.append(name)
                    model.reviews.start([len(model.names) - 1], [env.now + days], 0)
                else:
                    env.timeout(days).callbacks.append(lambda _, name=name: log.append((env.now, name)))

    def event(n, times):
        for days in times:
            if by_calendar:
                yield from processes.after(env, model, days)
            else:
                yield env.timeout(days)
            log.append((env.now, f"event {n}"))

    env.process(start_reviews())
    for n, times in enumerate(waits):
        env.process(event(n, times))
    env.run(until=30)
    if by_calendar:
        model.decisions(0)
    return log


days = st.integers(0, 6).map(float)


@given(st.tuples(st.lists(st.tuples(days, st.lists(days, max_size=4)), max_size=5),
                 st.lists(st.lists(days, min_size=1, max_size=5), max_size=3)))
def test_licence_decisions_kept_in_a_calendar_come_in_the_order_simpy_would_make_them_as_events(script):
    """Decisions by day and, on one day, after the events set going before their reviews started and before
    those set going after; none due at the end."""
    assert reviews_and_events(script, by_calendar=True) == reviews_and_events(script, by_calendar=False)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batches=st.integers(1, 30))
def test_the_calendar_of_reviews_gives_its_decisions_in_the_order_of_their_day_then_their_number(seed, batches):
    """Reviews started in batches (some 3,000 in all, past the calendar's first room, many due on one day), taken
    out as days pass: each time those due before the day, or on it before a review number, in the order of
    ``(day, number)`` that a heap of Python tuples gives, with the voyages sailed as each started."""
    from heapq import heappop, heappush
    rng = np.random.default_rng(seed)
    reviews, expected, now = Reviews(), [], 0.0
    for batch in range(batches):
        n = int(rng.integers(0, 200))
        due = now + np.floor(rng.uniform(0, 60, n)) * rng.choice([1.0, 0.5])
        applications = rng.integers(0, 10**6, n)
        for k in range(n):
            heappush(expected, (float(due[k]), reviews.started + k, int(applications[k]), batch))
        reviews.start(applications.tolist(), due, batch)
        now += float(rng.integers(0, 20))
        started = int(rng.integers(0, reviews.started + 1))
        days, taken, sailed = reviews.decided_by(now, started)
        in_order = []
        while expected and (expected[0][0] < now or (expected[0][0] == now and expected[0][1] < started)):
            day, _, application, voyages = heappop(expected)
            in_order.append((day, application, voyages))
        assert list(zip(days.tolist(), taken.tolist(), sailed.tolist())) == in_order
        assert reviews.due == (expected[0][0] if expected else np.inf)
    assert reviews.size == len(expected)


def test_a_batch_of_licence_decisions_settles_as_its_decisions_do_one_at_a_time(write):
    """Settled in one call, decisions land the goods due before each, send and return goods, and record them as
    the same decisions settled one by one: stocks, order books, holds, books and outcomes to the bit."""
    text = LICENCE.format(base=BASE, importers="all", approval="0.5").replace(
        "processing_days: 7", "processing_days: {dist: triangular, low: 20, mode: 45, high: 63}")
    # two weeks past END: a batch of more than 20 reviews still pending at the end
    simulation = Simulation(load_scenario(write(text)), seed=1, end=END + dt.timedelta(days=14))
    simulation.run()
    simulation.state.k -= 1                                     # decided in the calendar's last step: recorded
    days, applications, sailed = simulation.reviews.decided_by(math.inf, simulation.reviews.started)
    n = len(days)
    approved = np.arange(n) % 3 != 0                           # every third refused
    banning = np.arange(n) % 7 == 1                            # some refused in part
    banned = np.where(banning[:, None], 0.25, 0.0) * np.ones((1, simulation.net.items("refinery")))
    assert n > 20 and (approved & banning).any()

    def settled(batches: list[slice]):
        state, ledger = copy.deepcopy((simulation.state, simulation.ledger))
        outcomes = [shipping.settle(state, days[part], applications[part], sailed[part], approved[part],
                                    banning[part], banned[part], ledger.books(), partial(ledger.departures_of, state.k))
                    for part in batches]
        at_sea = [(h.t, h.buyer, h.supplier, h.tagged, h.due) for h in state.in_flight]
        return (np.concatenate([o for o, _ in outcomes]), np.concatenate([t for _, t in outcomes]),
                [s.tagged for s in state.stocks.values()], state.pipeline, state.refused, at_sea,
                state.in_flight.sailed, ledger.accounts.terms, ledger.recorder.exports["refinery"].entries())

    together, one_by_one = settled([slice(None)]), settled([slice(d, d + 1) for d in range(n)])
    assert (together[0] == 1).any() and (together[0] == 2).any()          # approved and refused both
    assert pickle.dumps(together) == pickle.dumps(one_by_one)


# ---------------------------------------------------------------- the desk: goods awaiting a licence
class SmallDesk(Awaiting):
    """A desk that starts with room for 2 entries and grows to twice what it needs: it makes room often."""
    ENTRIES, ROOM = 2, 1


batches = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 4), st.integers(1, 6), st.integers(0, 5)),
                   min_size=1, max_size=30)


@given(batches)
def test_goods_awaiting_a_licence_keep_their_rows_and_tonnes_while_the_desk_makes_room(script):
    """However goods come in and applications leave, each one still held has the rows and tagged mass it was
    given, though the desk moves and grows its arrays."""
    desk = SmallDesk({stage: (9, 3) for stage in STAGES}, rows=1)
    given_to: dict = {}
    number = 0
    for s, n, length, leaving in script:
        rows = np.arange(n * length, dtype=np.int64).reshape(n, length) + number
        goods = np.arange(n * length * 3, dtype=float).reshape(n, length, 3) + 0.5 + number
        made = desk.hold(0, 0, s, np.zeros(n, np.int64), np.ones(n, np.int64), rows, goods, np.ones(n))
        for i, application in enumerate(made):
            given_to[application] = (s, rows[i].copy(), goods[i].copy())
        number += 1000
        desk.held[np.flatnonzero(desk.held)[:leaving]] = False
        held = np.flatnonzero(desk.held[:desk.n])
        assert sorted(held.tolist()) == sorted(a for a in given_to if desk.held[a])
        for application in held.tolist():
            s, rows_given, goods_given = given_to[application]
            run = slice(desk.start[application], desk.start[application] + desk.length[application])
            assert desk.s[application] == s
            assert (desk.rows[s][run] == rows_given).all() and (desk.values[s][run] == goods_given).all()
            assert (desk.goods(application).goods[0] == goods_given).all()


def test_a_desk_that_makes_room_often_decides_lots_at_an_office_as_one_that_never_does(write, monkeypatch):
    """Lots, an office and odds by end user, with a ban stopping goods that await a licence: a desk of one entry
    to start, moved and grown all run long, gives the same results to the bit as one that never needs room."""
    extra = "    lot_t: {refinery: 1}\n    office: {applications_per_week: 8}\n" + BAN_ON_JAPAN
    approval = "{default: 0.7, by_end_user: {defence: 0.1}}"

    def tables(entries: int) -> dict[str, bytes]:
        monkeypatch.setattr(Awaiting, "ENTRIES", entries)
        results = licensed(write, approval=approval, extra=extra)
        assert decided(results, "stopped awaiting licence")["t"].sum() > 0 and len(decided(results, "refused"))
        # each table pickled alone: one pickle of them all also says which objects two tables share, which the
        # first run of a process makes (and caches) and the second reuses
        return {name: pickle.dumps(frame) for name, frame in results.tables("step").items()}

    assert tables(1) == tables(1 << 20)


@given(seed=st.integers(0, 2**32 - 1), changes=st.integers(0, 3))
def test_chances_are_the_importer_s_odds_in_force_that_day_at_most_its_end_user_s_cap(seed, changes):
    """Each application's chance is its measure's odds for its importer as in force on its day (a change from
    its date on, the spin-up's days as day 0), capped by its end user's odds where a change names them: as
    NumPy's search over the change days and ``fmin`` give them, for two licences with changes and a measure
    without odds (which approves everything)."""
    from types import SimpleNamespace

    from sim.engine.licensing import odds_table
    from sim.engine.transit import END_USERS
    from sim.kernels.licences import approval_chances
    rng = np.random.default_rng(seed)
    C, n = 4, 40

    def odds(k: int) -> SimpleNamespace:
        caps = rng.random(k + 1)
        caps[rng.random(k + 1) < 0.4] = np.nan
        return SimpleNamespace(from_day=np.concatenate([[-np.inf], np.sort(rng.integers(0, 60, k)).astype(float)]),
                               importer=rng.random((k + 1, C)), end_user={"defence": caps})
    licences = [odds(changes), None, odds(max(0, changes - 1))]
    measure = rng.choice([0, 2], n)
    importer, end_user = rng.integers(0, C, n), rng.integers(0, len(END_USERS), n)
    days = rng.uniform(-10.0, 80.0, n)
    got = approval_chances(measure, importer, end_user, days, *odds_table([SimpleNamespace(odds=o) for o in licences]))
    expected = np.empty(n)
    for m in (0, 2):                                     # the rule as each measure's own arrays gave it
        which, book = measure == m, licences[m]
        i = np.searchsorted(book.from_day, np.maximum(0.0, np.floor(days[which])), side="right") - 1
        chance = book.importer[i, importer[which]]
        capped = end_user[which] == END_USERS.index("defence")
        chance[capped] = np.fmin(chance[capped], book.end_user["defence"][i[capped]])
        expected[which] = chance
    assert got.tobytes() == expected.tobytes()
    assert (approval_chances(np.array([1]), np.array([0]), np.array([0]), np.array([5.0]),
                             *odds_table([SimpleNamespace(odds=o) for o in licences])) == 1.0).all()
