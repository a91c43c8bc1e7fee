"""Bad back-test input is refused before any run, located at file, key path and line; failures of a run say
which episode and replication; a replication without a value does not hide the others.

Each case edits one target of a copy of seeds/ (with a copy of scenarios/ beside it) and reads what the
back-test says of it.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim import BacktestError, ScenarioError, backtest, load_scenario, run
from sim.backtest import Target, episodes, load_targets, scorecard
from sim.cli import main
from sim.results.columns import KEYS, VALUES, codes
from sim.scenario.registry import FIGURE_FILES, load_registry

from .conftest import SCENARIOS, SEEDS


@pytest.fixture
def seeds(tmp_path):
    """A copy of seeds/ with scenarios/ beside it, as the back-test finds them."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copytree(SCENARIOS, tmp_path / "scenarios")
    return tmp_path / "seeds"


def entry_of(seeds, figure_id: str) -> tuple[str, str, int, int]:
    """(file name, its text, start, end) of the entry of ``figure_id`` in the seeds."""
    for name in FIGURE_FILES:
        text = (seeds / name).read_text(encoding="utf-8")
        start = text.find(f"- id: {figure_id}\n")
        if start >= 0:
            end = text.find("\n- id: ", start + 1)
            return name, text, start, len(text) if end < 0 else end
    raise AssertionError(f"no figure {figure_id} in {seeds}")


def edit_target(seeds, figure_id: str, old: str, new: str) -> tuple[str, str]:
    """Replace ``old`` with ``new`` once in the entry of ``figure_id``; (file name, its new text)."""
    name, text, start, end = entry_of(seeds, figure_id)
    entry = text[start:end]
    assert old in entry, f"{figure_id} has no {old!r}"
    text = text[:start] + entry.replace(old, new, 1) + text[end:]
    (seeds / name).write_text(text, encoding="utf-8")
    return name, text


def key_line(seeds, figure_id: str, key: str) -> str:
    """The line of ``key`` in the target block of ``figure_id``, as written (so a case need not repeat it)."""
    name, text, start, end = entry_of(seeds, figure_id)
    found = re.search(rf"^    {key}: .*\n", text[start:end], re.MULTILINE)
    assert found, f"{figure_id} has no target key {key}"
    return found[0]


def line_of(text: str, needle: str, after: str = "") -> int:
    """The first line holding ``needle`` at or below the first line holding ``after``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i, line in enumerate(lines[start:], start + 1) if needle in line)


def problems_of(call) -> list:
    with pytest.raises(ScenarioError) as caught:
        call()
    return caught.value.problems


def only_problem(call):
    problems = problems_of(call)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def targets_of(seeds) -> list[Target]:
    return load_targets(load_registry(seeds))


@pytest.fixture
def no_runs(monkeypatch):
    """Any run of a scenario fails the test: what is refused must be refused before the runs."""
    def forbidden(*args, **kwargs):
        raise AssertionError("an episode ran although its targets are invalid")
    monkeypatch.setattr(scorecard, "run", forbidden)


# ---------------------------------------------------------------- selections
def test_the_shipped_targets_are_answerable_by_their_episodes():
    """Both sides of the checks below: every target of seeds/ names codes its episode has, within its calendar."""
    assert {e.name for e in episodes()} >= {"baseline", "crisis_2010", "april_2025_licensing", "myanmar_2024"}


def test_a_target_that_selects_an_element_the_episode_does_not_have_names_it_and_the_line(seeds, no_runs):
    """The model calls neodymium-praseodymium NdPr: 'Nd' would read no price at all, so it is refused."""
    name, text = edit_target(seeds, "dy_price_europe_may_2025", "select: {element: Dy, market: outside}",
                             "select: {element: Nd, market: outside}")
    p = only_problem(lambda: backtest("april_2025_licensing", workers=1, seeds=seeds))
    assert p.file.endswith(name) and p.line == line_of(text, "select: {element: Nd, market: outside}")
    assert re.fullmatch(r"\[\d+\]\.target\.select\.element", p.path), p.path
    assert "'Nd'" in p.message and "did you mean NdPr?" in p.message


def test_a_target_that_selects_a_country_the_episode_does_not_have_is_refused_not_read_as_zero(seeds, no_runs):
    name, text = edit_target(seeds, "mm_mine_output_2025", "country: MM}", "country: BU}")
    p = only_problem(lambda: episodes("myanmar_2024", seeds=seeds))
    assert re.fullmatch(r"\[\d+\]\.target\.select\.country", p.path) and "no country 'BU'" in p.message
    assert p.line == line_of(text, "country: BU}")


def test_each_code_of_a_list_and_the_code_after_not_is_checked_where_it_is_written(seeds):
    within = key_line(seeds, "clepa_approvals_jun_2025", "within")           # importer: [DE, FR, EE]
    edit_target(seeds, "clepa_approvals_jun_2025", within, within.replace("EE]", "EE, EU]"))
    edit_target(seeds, "cn_magnet_exports_us_may_2025", "exporter: CN", "exporter: not CHN")
    problems = problems_of(lambda: episodes("april_2025_licensing", seeds=seeds))
    paths = {re.sub(r"^\[\d+\]", "", p.path): p.message for p in problems}
    assert set(paths) == {".target.within.importer[3]", ".target.select.exporter"}, paths
    assert "no importer 'EU'" in paths[".target.within.importer[3]"]
    assert "no exporter 'CHN'" in paths[".target.select.exporter"] and "did you mean CN?" in paths[".target.select.exporter"]


def test_a_selection_may_name_only_key_columns_of_its_table(seeds):
    """flows has exporter and importer, not country: a selection by country would fail only after the runs."""
    edit_target(seeds, "cn_magnet_exports_us_may_2025", "exporter: CN", "country: CN")
    p = only_problem(lambda: targets_of(seeds))
    assert p.path.endswith(".target.select.country")
    assert "flows has no key column 'country'" in p.message and "stage, exporter, importer, item" in p.message


@pytest.mark.parametrize("home_market", [None, "CN"])
def test_every_key_a_run_holds_is_a_code_of_its_scenario_and_every_table_has_its_named_columns(home_market):
    """The codes the checks accept are those the tables hold: a run's tables are date, keys, values; with a
    home market prices have a market column and magnet prices have rows."""
    scenario = load_scenario(SCENARIOS / "april_2025_licensing.yaml")
    scenario = scenario.model_copy(update={"prices": scenario.prices.model_copy(update={"home_market": home_market})})
    results = run(scenario, end=dt.date(2025, 6, 30))
    known = codes(scenario)
    for table, keys in KEYS.items():
        frame = results.table(table)
        assert set(known[table]) <= set(keys)
        assert list(frame.columns) == ["date", *known[table], *VALUES[table]], table
        for key in known[table]:
            assert set(frame[key].astype(str)) <= set(known[table][key]), (table, key)
    assert {"applied", "approved", "refused"} <= set(results.table("licences")["outcome"])
    assert ("market" in known["prices"]) == (home_market is not None) == (len(results.table("magnet_prices")) > 0)


# ---------------------------------------------------------------- periods
def test_a_period_outside_the_episodes_calendar_is_refused_before_any_run(seeds, no_runs):
    """crisis_2010 runs 2009-2012: a target in 2013 is a located error, not a traceback after the runs."""
    name, text = edit_target(seeds, "price_dy_end2012", key_line(seeds, "price_dy_end2012", "period"),
                             "    period: 2013-01\n")
    p = only_problem(lambda: backtest("crisis_2010", workers=1, seeds=seeds))
    assert p.path.endswith(".target.period") and p.line == line_of(text, "period: 2013-01")
    assert "2013-01" in p.message and "calendar of crisis_2010, 2009-01-01 .. 2012-12-31" in p.message


def test_a_base_before_the_calendar_is_refused(seeds):
    edit_target(seeds, "price_nd_end2012", key_line(seeds, "price_nd_end2012", "base"), "    base: 2008\n")
    p = only_problem(lambda: episodes("crisis_2010", seeds=seeds))
    assert p.path.endswith(".target.base") and "2008" in p.message


def test_an_episode_runs_to_the_last_day_its_targets_need_and_is_never_cut_to_its_calendar():
    crisis = episodes("crisis_2010")[0]
    assert crisis.end == dt.date(2012, 12, 31)
    shorter = crisis.scenario.model_copy(update={"calendar": crisis.scenario.calendar.model_copy(
        update={"end": dt.date(2012, 6, 30)})})
    assert type(crisis)(crisis.name, crisis.file, shorter, crisis.targets, 1).end == dt.date(2012, 12, 31)


# ---------------------------------------------------------------- the target block
def test_a_target_that_is_not_a_map_is_a_located_error(seeds):
    name, text = edit_target(seeds, "mm_mine_output_2025", "  target:\n", "  target: 5\n  old_target:\n")
    p = only_problem(lambda: targets_of(seeds))
    assert re.fullmatch(r"\[\d+\]\.target", p.path) and p.line == line_of(text, "target: 5")
    assert "got 5; expected a map of episode, kind" in p.message


def test_an_unknown_key_of_a_target_is_named_and_value_points_to_column(seeds):
    """A figure has its own 'value'; the column a target reads is 'column'."""
    period = key_line(seeds, "mm_mine_output_2025", "period")
    edit_target(seeds, "mm_mine_output_2025", period, period + "    value: made_t\n")
    p = only_problem(lambda: targets_of(seeds))
    assert p.path.endswith(".target.value") and "unknown key 'value' (did you mean column?)" in p.message


def test_column_names_a_value_column_of_the_table(seeds):
    period = key_line(seeds, "mm_mine_output_2025", "period")
    edit_target(seeds, "mm_mine_output_2025", period, period + "    column: made_t\n")
    p = only_problem(lambda: targets_of(seeds))
    assert p.path.endswith(".target.column") and "expected a value column of production: t" in p.message


def test_column_reads_another_value_column_of_the_table(seeds):
    edit_target(seeds, "mm_mine_output_2025", key_line(seeds, "mm_mine_output_2025", "table"), "    table: magnet_output\n")
    edit_target(seeds, "mm_mine_output_2025", key_line(seeds, "mm_mine_output_2025", "select"),
                "    select: {country: JP}\n    column: short_t\n")
    target = next(t for t in targets_of(seeds) if t.id == "mm_mine_output_2025")
    assert (target.table, target.column) == ("magnet_output", "short_t")


@pytest.mark.parametrize("measure, extra", [("total", ""), ("share", "    within: {element: Dy}\n")])
def test_a_price_is_never_added_up(seeds, measure, extra):
    """A total or share of prices is no figure: a price is read as a change or multiple of a base."""
    edit_target(seeds, "dy_price_europe_may_2025", key_line(seeds, "dy_price_europe_may_2025", "measure"),
                f"    measure: {measure}\n{extra}")
    edit_target(seeds, "dy_price_europe_may_2025", key_line(seeds, "dy_price_europe_may_2025", "base"), "")
    p = only_problem(lambda: targets_of(seeds))
    assert p.path.endswith(".target.measure") and "read as a change or multiple" in p.message


@pytest.mark.parametrize("select", ["[Dy, Tb]", "not Dy"])
def test_a_prices_selection_names_one_element(seeds, select):
    edit_target(seeds, "dy_price_europe_may_2025", "select: {element: Dy, market: outside}",
                f"select: {{element: {select}, market: outside}}")
    p = only_problem(lambda: targets_of(seeds))
    assert p.path.endswith(".target.select") and "a prices selection must name one element" in p.message


def with_one_world_price(seeds, episode: str) -> None:
    """Give the copy of an episode's scenario one world price per element: no home market."""
    with open(seeds.parent / "scenarios" / f"{episode}.yaml", "a", encoding="utf-8") as file:
        file.write("prices:\n  home_market: null\n")


def test_a_price_target_of_an_episode_with_a_home_market_names_one_market(seeds, no_runs):
    """Two prices per element: a target that names none would read them both as one."""
    for figure_id in ("dy_price_europe_may_2025", "tb_price_europe_may_2025"):
        element = figure_id[:2].capitalize()
        edit_target(seeds, figure_id, f"select: {{element: {element}, market: outside}}",
                    f"select: {{element: {element}}}")
    problems = problems_of(lambda: episodes("april_2025_licensing", seeds=seeds))
    assert {p.message.split(":")[0] for p in problems} == {"dy_price_europe_may_2025", "tb_price_europe_may_2025"}
    for p in problems:
        assert p.path.endswith(".target.select") and "must name one market (home or outside)" in p.message


def test_the_price_targets_of_2025_outside_china_name_the_market_outside_china(seeds):
    """Both sides: the baseline has a home market, and each shipped price target of Europe in 2025 names the
    market outside China, so every target is answerable."""
    (episode,) = episodes("april_2025_licensing", seeds=seeds)
    assert {t.select.where.get("market") for t in episode.targets if t.table == "prices"} == {"outside"}


def test_a_market_is_refused_where_the_episode_has_one_world_price(seeds, no_runs):
    with_one_world_price(seeds, "april_2025_licensing")
    name, text, start, end = entry_of(seeds, "dy_price_europe_may_2025")
    problems = problems_of(lambda: episodes("april_2025_licensing", seeds=seeds))
    assert {p.message.split(":")[0] for p in problems} == {"dy_price_europe_may_2025", "tb_price_europe_may_2025"}
    p = next(p for p in problems if p.message.startswith("dy_"))
    assert p.path.endswith(".target.select.market") and p.line == line_of(text, "select: {element: Dy, market: outside}")
    assert "one world price per element" in p.message and "prices.home_market" in p.message


@pytest.mark.parametrize("figure_id, key", [("cn_magnet_exports_us_may_2025", "base"), ("cn_mine_share_2010", "within")])
def test_change_needs_a_base_and_share_needs_within(seeds, figure_id, key):
    edit_target(seeds, figure_id, key_line(seeds, figure_id, key), "")
    p = only_problem(lambda: targets_of(seeds))
    assert f"missing '{key}'" in p.message


@pytest.mark.parametrize("figure_id, stray", [
    ("mm_mine_output_2025", "base: 2024"),                          # a total
    ("cn_mine_share_2010", "base: 2009"),                           # a share
    ("cn_magnet_exports_us_may_2025", "within: {stage: magnet}"),   # a change
])
def test_a_base_or_within_the_measure_does_not_use_is_refused(seeds, figure_id, stray):
    """A stray key would be read as meaning something; it means nothing for that measure."""
    period = key_line(seeds, figure_id, "period")
    edit_target(seeds, figure_id, period, f"{period}    {stray}\n")
    p = only_problem(lambda: targets_of(seeds))
    assert p.path.endswith(".target." + stray.split(":")[0])


def test_stocks_are_a_level_added_up_across_rows_and_averaged_over_the_days(seeds):
    """10 t in Japan and 20 t in Korea held all year read 30 t, not 52 weeks of them; a week without a row held none."""
    edit_target(seeds, "mm_mine_output_2025", key_line(seeds, "mm_mine_output_2025", "table"), "    table: inventory\n")
    edit_target(seeds, "mm_mine_output_2025", key_line(seeds, "mm_mine_output_2025", "select"),
                "    select: {stage: refinery, item: Dy, country: [JP, KR]}\n")
    target = next(t for t in targets_of(seeds) if t.id == "mm_mine_output_2025")
    dates = pd.DatetimeIndex(pd.date_range("2024-12-30", periods=54, freq="7D"), name="date")   # covers 2025
    stocks = pd.DataFrame([(d, c, "refinery", "Dy", t) for d in dates for c, t in (("JP", 10.0), ("KR", 20.0))
                           if not (c == "KR" and d == dates[10])], columns=["date", "country", "stage", "item", "t"])
    stocks["days_of_cover"] = np.nan
    results = SimpleNamespace(table=lambda name: stocks, dates=dates, net=SimpleNamespace(step_days=7))
    assert target.simulate(results) == pytest.approx(30.0 - 20.0 * 7 / 365)


def test_a_licence_queue_is_a_level_like_stocks(seeds):
    """12 t waiting at China's licence office for Japan all year read 12 t, not 52 weeks of them."""
    edit_target(seeds, "mm_mine_output_2025", key_line(seeds, "mm_mine_output_2025", "table"),
                "    table: licence_queue\n")
    edit_target(seeds, "mm_mine_output_2025", key_line(seeds, "mm_mine_output_2025", "select"),
                "    select: {exporter: CN, importer: JP}\n")
    target = next(t for t in targets_of(seeds) if t.id == "mm_mine_output_2025")
    dates = pd.DatetimeIndex(pd.date_range("2024-12-30", periods=54, freq="7D"), name="date")   # covers 2025
    queue = pd.DataFrame([(d, "magnet", "CN", "JP", 3, 12.0) for d in dates],
                         columns=["date", "stage", "exporter", "importer", "applications", "t"])
    results = SimpleNamespace(table=lambda name: queue, dates=dates, net=SimpleNamespace(step_days=7))
    assert target.simulate(results) == pytest.approx(12.0)


# ---------------------------------------------------------------- episodes
def test_replications_must_be_at_least_one():
    with pytest.raises(ValueError, match="replications must be at least 1, got 0"):
        backtest("baseline", replications=0)


def test_one_episode_may_be_named_by_itself():
    """backtest('baseline') replays the baseline, not episodes 'b', 'a', 's', ..."""
    assert set(backtest("baseline", workers=1).table["episode"]) == {"baseline"}


def test_an_unknown_episode_names_the_seeds_folder(seeds):
    p = only_problem(lambda: episodes("crisis_2011", seeds=seeds))
    assert p.file == str(seeds.resolve()) and p.line is None and "no targets for episode 'crisis_2011'" in p.message


def test_an_episode_without_its_scenario_is_located_at_the_episode_of_its_first_target(seeds):
    (seeds.parent / "scenarios" / "myanmar_2024.yaml").unlink()
    first = next(t for t in targets_of(seeds) if t.episode == "myanmar_2024")
    p = only_problem(lambda: episodes("myanmar_2024", seeds=seeds))
    assert p.path.endswith(".target.episode") and "myanmar_2024.yaml" in p.message
    text = (seeds / p.file.rsplit("/", 1)[-1]).read_text(encoding="utf-8")
    assert p.line == line_of(text, "episode: myanmar_2024", after=f"- id: {first.id}")


def test_an_episodes_sources_are_checked_against_the_seeds_its_targets_come_from(seeds, tmp_path, monkeypatch):
    """Not against another seeds/ the environment points to, which would know none of them."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "figures.yaml").write_text("- {id: x, kind: public, text: x, use: 'context: x'}\n", encoding="utf-8")
    (elsewhere / "articles.yaml").write_text("[]\n", encoding="utf-8")
    monkeypatch.setenv("SIM_SEEDS", str(elsewhere))
    assert [e.name for e in episodes("baseline", seeds=seeds)] == ["baseline"]


# ---------------------------------------------------------------- runs
def test_a_replication_that_fails_is_one_line_naming_the_episode_and_replication_and_nothing_is_written(
        tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("the engine broke\non two lines")
    monkeypatch.setattr(scorecard, "run", broken)
    out = tmp_path / "scorecard"
    assert main(["backtest", "baseline", "--workers", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["python -m sim backtest: episode baseline, replication 0 failed: RuntimeError: "
                                "the engine broke on two lines; nothing written"]
    assert not out.exists()
    with pytest.raises(BacktestError) as caught:
        backtest("baseline", workers=1)
    assert (caught.value.episode, caught.value.replication) == ("baseline", 0)


def test_a_replication_without_a_value_leaves_the_others_band_and_a_target_none_has_does_not_pass(monkeypatch):
    """Replication 0 has no value: P50 of the other four; a target no replication has a value for is n/a."""
    monkeypatch.setattr(scorecard, "run", lambda scenario, end, replication: SimpleNamespace(replication=replication))
    monkeypatch.setattr(Target, "simulate", lambda self, results: (
        float("nan") if results.replication == 0 or self.id == "clepa_approvals_jun_2025"
        else float(results.replication)))
    card = backtest("april_2025_licensing", replications=5, workers=1)
    table = card.table.set_index("target")
    some = table.drop(index="clepa_approvals_jun_2025")
    assert (some["na_replications"] == 1).all() and (some["p50"] == 2.5).all() and (some["replications"] == 5).all()
    none = table.loc["clepa_approvals_jun_2025"]
    assert none["na_replications"] == 5 and np.isnan(none["p50"]) and not none["passes"]
    assert re.search(r"clepa_approvals_jun_2025 .* n/a \[n/a\.\.n/a\] +MISS", card.text())
