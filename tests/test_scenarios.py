"""The scenario library: every file states its question, sources and result, runs, and behaves as it claims."""
from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from sim import load_registry, load_scenario, run

from .conftest import SCENARIOS, SEEDS

FILES = sorted(SCENARIOS.glob("*.yaml"))
LABELS = ("Question", "Sources", "Shows")
LABEL_LINE = re.compile(r"^([A-Z][A-Za-z]+):\s*(.*)$")


# ---------------------------------------------------------------- headers
def header_parts(path: Path) -> dict[str, str]:
    """The labelled parts of the comment block a scenario file starts with ('Question: ...' up to the next label)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    parts: dict[str, list[str]] = {}
    label = None
    for line in lines:
        match = LABEL_LINE.match(line)
        if match:
            label = match.group(1)
            parts[label] = [match.group(2)]
        elif label is not None:
            if not line:
                label = None
            else:
                parts[label].append(line)
    return {k: " ".join(v).strip() for k, v in parts.items()}


def cited_in(sources_text: str) -> list[str]:
    """The entries of a Sources part: ids or publications separated by commas or semicolons, remarks in brackets."""
    text = re.sub(r"\([^()]*\)", "", sources_text)
    return [e.strip().rstrip(".").strip() for e in re.split(r"[,;]", text) if e.strip().rstrip(".").strip()]


@pytest.fixture(scope="module")
def registry():
    return load_registry(SEEDS)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_header_asks_cites_and_shows(path):
    """The header states the question, its dated sources and the measured result, in that order."""
    parts = header_parts(path)
    assert [label for label in parts if label in LABELS] == list(LABELS), f"{path.name}: {list(parts)}"
    assert parts["Question"].rstrip().endswith("?"), f"{path.name}: the question should be a question"
    assert re.search(r"\d", parts["Shows"]) and "filled in" not in parts["Shows"], \
        f"{path.name}: Shows must give the measured headline numbers"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_header_cites_only_registry_ids_or_publications(path, registry):
    """Every entry of Sources is a figure id of seeds/ (or an id prefix ending in _*) or a publication with its year."""
    entries = cited_in(header_parts(path)["Sources"])
    assert entries, f"{path.name}: no sources"
    bad = []
    for entry in entries:
        if entry.endswith("_*"):
            if not any(fid.startswith(entry[:-1]) for fid in registry.figures):
                bad.append(entry)
        elif not registry.is_citation(entry):
            bad.append(entry)
    assert bad == [], f"{path.name}: not in seeds/ and not a publication with its year: {bad}"


# ---------------------------------------------------------------- every file runs
def short_end(path: Path) -> dt.date:
    """About a year after the calendar starts, or far enough that the first event has bitten (120 days)."""
    scenario = load_scenario(path)
    cal = scenario.calendar
    dates = [d for e in scenario.events for d in (getattr(e, "start", None), getattr(e, "date", None)) if d]
    end = cal.start + dt.timedelta(days=365)
    if dates:
        end = max(end, min(dates) + dt.timedelta(days=120))
    return min(end, cal.end)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_runs_and_balances_mass(path):
    """The scenario runs on a short horizon and everything mined stays accounted for, element by element."""
    results = run(path, end=short_end(path))
    balance = results.table("balance")
    scale = (balance["opening_t"] + balance["mined_t"]).clip(lower=1)
    assert (balance["residual_t"].abs() / scale).max() < 1e-9
    assert results.summary().mass_balance_max_relative_residual < 1e-9


# ---------------------------------------------------------------- behaviour of the library
@cache
def results_of(name: str, end: str):
    return run(SCENARIOS / f"{name}.yaml", end=dt.date.fromisoformat(end))


def unmet_t(results, countries, start: str, end: str) -> float:
    u = results.table("unmet")
    u = u[u["country"].isin(countries) & (pd.to_datetime(u["date"]) >= start) & (pd.to_datetime(u["date"]) < end)]
    return float(u["unmet_t"].sum())


def non_chinese(results, stage: str, item: str | None, start: str, end: str) -> float:
    p = results.table("production")
    p = p[(p["stage"] == stage) & (p["country"] != "CN") & (pd.to_datetime(p["date"]) >= start)
          & (pd.to_datetime(p["date"]) < end)]
    if item:
        p = p[p["item"] == item]
    return float(p["t"].sum())


def test_defence_reading_of_the_japan_ban_leaves_japan_far_less_short():
    """Banning only defence end users (MOFCOM's reading) leaves Japan under a tenth of the all-users shortfall."""
    everyone = unmet_t(results_of("japan_ban", "2027-06-30"), ["JP"], "2026-01-06", "2027-07-01")
    defence = unmet_t(results_of("japan_ban_defence", "2027-06-30"), ["JP"], "2026-01-06", "2027-07-01")
    assert everyone > 10_000
    assert defence < 0.1 * everyone


def test_extending_the_suspension_leaves_korea_and_japan_no_worse():
    """Over the year of the extension, Korea and Japan together go no shorter than when the controls return."""
    window = ("2026-11-10", "2027-11-10")
    returned = unmet_t(results_of("suspension_expiry", "2027-11-10"), ["KR", "JP"], *window)
    extended = unmet_t(results_of("suspension_expiry_extended", "2027-11-10"), ["KR", "JP"], *window)
    assert extended <= 1.02 * returned


def test_the_busan_pause_spares_importers_of_goods_made_from_chinese_material():
    """Under the Busan deal (origin rule suspended) Korea, the US and Germany go less short than with the rule in force."""
    window = ("2025-12-01", "2026-11-10")
    countries = ["KR", "US", "DE"]
    in_force = unmet_t(results_of("october_2025_controls", "2026-11-10"), countries, *window)
    paused = unmet_t(results_of("busan_suspension", "2026-11-10"), countries, *window)
    assert paused < in_force


def test_a_price_floor_keeps_more_non_chinese_ndpr_separated():
    """Against China's low prices, MP's floor keeps more non-Chinese NdPr separated than no floor, an allied floor more."""
    window = ("2027-01-01", "2029-01-01")
    none = non_chinese(results_of("g7_no_floor", "2028-12-31"), "refinery", "NdPr", *window)
    mp = non_chinese(results_of("g7_price_floor", "2028-12-31"), "refinery", "NdPr", *window)
    allied = non_chinese(results_of("g7_price_floor_allies", "2028-12-31"), "refinery", "NdPr", *window)
    assert mp > 1.1 * none
    assert allied > 1.5 * mp


def test_chinas_low_prices_push_ndpr_below_non_chinese_cash_cost():
    """Without a floor China's extra output drives NdPr below the $45/kg at which allied producers idle."""
    prices = results_of("g7_no_floor", "2028-12-31").table("prices", "month")
    ndpr = prices[prices["element"] == "NdPr"].set_index("date")["usd_per_kg"]
    assert ndpr.min() < 45 <= ndpr.iloc[0]


def test_working_stocks_carry_every_end_user_through_the_kachin_outage_to_the_reopening():
    """Five months without most of Myanmar's heavy-REE feed leave no end user short, and prices do not move
    before the reopening of 27 March 2025 (as in China's market then: dy_price_cn_mar_2025)."""
    results = results_of("myanmar_2024", "2026-06-30")
    assert unmet_t(results, results.countries, "2024-10-01", "2026-06-30") < 1e-9     # t: rounding, no shortfall
    prices = results.table("prices")
    before = prices[prices["date"] < pd.Timestamp("2025-03-27")]
    assert before["multiple"].max() < 1.01


def test_the_2010_halt_stops_chinese_oxides_to_japan_for_its_two_months_and_no_longer():
    """From 21 September to 23 November 2010 nothing leaves China for Japan; in December shipments run again,
    while the quota keeps China's other buyers supplied."""
    flows = results_of("crisis_2010", "2011-03-31").table("flows")
    oxides = flows[(flows["stage"] == "refinery") & (flows["exporter"] == "CN")]
    dates = pd.to_datetime(oxides["date"])
    to_japan = oxides[oxides["importer"] == "JP"]
    during = (dates >= "2010-09-27") & (dates < "2010-11-22")
    assert to_japan.loc[during[to_japan.index], "t"].sum() == 0
    assert to_japan.loc[((dates >= "2010-12-01") & (dates < "2011-01-01"))[to_japan.index], "t"].sum() > 0
    assert oxides.loc[during & (oxides["importer"] != "JP"), "t"].sum() > 0

def test_april_licensing_cuts_chinas_magnet_exports_in_spring_2025():
    """China's magnet exports in April-May 2025 fall below 60% of the baseline's (reported: -74% in May)."""
    def exports(results):
        f = results.table("flows", "month")
        f = f[(f["exporter"] == "CN") & (f["stage"] == "magnet")]
        f = f[(pd.to_datetime(f["date"]) >= "2025-04-01") & (pd.to_datetime(f["date"]) < "2025-06-01")]
        return float(f["t"].sum())
    assert exports(results_of("april_2025_licensing", "2025-08-31")) < 0.6 * exports(
        results_of("baseline", "2025-08-31"))


def test_a_direct_route_spares_korea_under_the_japan_ban(tmp_path):
    """Buying through Japan, Korea goes short under the Japan ban unless its contracts with China stretch after
    the shortage (the baseline's restocking); with direct Chinese supply it goes less short either way."""
    def korea_unmet(name: str, contracts_stretch: bool) -> float:
        path = SCENARIOS / f"{name}.yaml"
        if not contracts_stretch:
            path = tmp_path / f"{name}_rigid.yaml"
            path.write_text(f"extends: {SCENARIOS / name}.yaml\nname: {name}_rigid\n"
                            "inventories:\n  after_shortage: null\n", encoding="utf-8")
        results = run(path, end=dt.date(2027, 6, 30))
        return unmet_t(results, ["KR"], "2026-01-06", "2027-07-01")

    rigid_via_japan = korea_unmet("japan_ban", contracts_stretch=False)
    assert rigid_via_japan > 10
    assert korea_unmet("korea_route", contracts_stretch=False) < 0.5 * rigid_via_japan
    assert korea_unmet("korea_route", contracts_stretch=True) <= korea_unmet("japan_ban", contracts_stretch=True) + 1e-6


def test_a_bigger_stockpile_buys_japan_time():
    """A 180-day JOGMEC stockpile moves Japan's first end-user shortfall at least ten weeks later."""
    small = results_of("japan_ban", "2027-06-30").summary().countries["JP"].weeks_to_shortfall
    large = results_of("japan_stockpile", "2027-06-30").summary().countries["JP"].weeks_to_shortfall
    assert large >= small + 10


def test_the_corridor_brings_non_chinese_separation_to_the_articles_band():
    """With the corridor's projects non-Chinese separation output reaches the articles' 15-20% of the world in
    the early 2030s (non_cn_refining_2030), from 7.4% in the baseline."""
    p = results_of("indo_pacific_corridor", "2032-12-31").table("production", "year")
    p = p[(p["stage"] == "refinery") & (pd.to_datetime(p["date"]).dt.year.isin([2031, 2032]))]
    share = float(p.loc[p["country"] != "CN", "t"].sum() / p["t"].sum())
    low, high = load_registry(SEEDS)["non_cn_refining_2030"].bounds()
    assert low <= share <= high


def test_dysprosium_prices_move_ev_makers_to_the_lean_grade():
    """Under demand growth Dy stays dear and EV makers order the Dy-lean grade by 2029."""
    out = results_of("demand_growth", "2029-12-31").table("magnet_output", "year")
    lean = out[(out["grade"] == "high_temp_lean") & (pd.to_datetime(out["date"]).dt.year == 2029)]
    assert lean["planned_t"].sum() > 1000


def test_the_defence_restriction_leaves_civil_users_supplied_and_defence_users_short():
    """China's August 2025 restriction on Western defence buyers leaves every civil user fully supplied, while
    US defence users go short within months of it, and nobody before it."""
    u = results_of("defence_supply_2025", "2026-12-31").table("unmet")
    assert u.loc[u["end_user"] != "defence", "unmet_t"].sum() == pytest.approx(0.0, abs=1e-6)
    us_defence = u[(u["country"] == "US") & (u["end_user"] == "defence") & (u["unmet_t"] > 1e-6)]
    assert not us_defence.empty
    first = pd.Timestamp(us_defence["date"].min())
    assert pd.Timestamp("2025-08-01") < first < pd.Timestamp("2026-01-01")


@pytest.mark.parametrize("replication", [0, 1])
def test_central_asian_separation_starts_with_its_drawn_mine_date(replication):
    """The Kazakh and Uzbek projects separate nothing before their mines' drawn start dates and add non-Chinese
    separation output after them, by 2033 at most what their drawn mine sizes could feed."""
    scenario = load_scenario(SCENARIOS / "central_asia_projects.yaml")
    results = run(scenario, seed=0, replication=replication)
    drawn = results.summary().drawn
    p = results.table("production")
    p = p[p["stage"] == "refinery"]
    for country, mine in (("KZ", "kz_ca_mine"), ("UZ", "uz_ca_mine")):
        online = pd.Timestamp(drawn[f"facilities.mine.{mine}.online"])
        ours = p[p["country"] == country]
        assert ours.loc[pd.to_datetime(ours["date"]) < online, "t"].sum() == pytest.approx(0.0, abs=1e-6)
        after = ours[pd.to_datetime(ours["date"]) >= online + pd.Timedelta(days=120)]
        weekly_feed = drawn[f"facilities.mine.{mine}.capacity_t"] * 7 / 365
        assert 0.0 < after.groupby("date")["t"].sum().max() <= weekly_feed * 1.001
