"""The engine's behaviour: calibration from simulated flows, the Japan ban, determinism, mass balance."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim import InvariantError, Simulation, load_scenario, run
from sim.experiments.golden import REFERENCE, differences, update_reference

from .conftest import PORTABLE, SCENARIOS

SHORT_END = dt.date(2027, 12, 31)


@pytest.fixture(scope="module")
def baseline():
    return run(SCENARIOS / "baseline.yaml")


@pytest.fixture(scope="module")
def japan_ban():
    return run(SCENARIOS / "japan_ban.yaml", end=SHORT_END)


@pytest.fixture(scope="module")
def baseline_short():
    return run(SCENARIOS / "baseline.yaml", end=SHORT_END)


def _first_year(results, frame):
    return frame[frame["date"] < pd.Timestamp(results.net.dates[0]) + pd.DateOffset(years=1)]


def _share(results, stage: str, country: str) -> float:
    p = _first_year(results, results.table("production"))
    p = p[p["stage"] == stage]
    return p.loc[p["country"] == country, "t"].sum() / p["t"].sum()


def _direct(results, country: str) -> float:
    return results.summary().countries[country].dependency_on_CN_before["refinery"].direct


# ---------------------------------------------------------------- the baseline (its calibration is in the scorecard)
def test_korea_depends_on_china_more_through_japan_than_directly(baseline):
    """South Korea's embedded dependency on Chinese oxides exceeds its direct one (kr_via_japan)."""
    embedded = baseline.summary().countries["KR"].dependency_on_CN_before["refinery"].embedded
    assert embedded > _direct(baseline, "KR") + 0.1


def test_baseline_meets_all_demand(baseline):
    """With no measures every end use gets its magnets for ten years."""
    unmet = baseline.table("unmet", "year")
    assert unmet["unmet_t"].sum() <= 1e-6 * unmet["demand_t"].sum()


# ---------------------------------------------------------------- the Japan ban
def _jp_dy_stock(results, stage="refinery"):
    inv = results.table("inventory")
    rows = inv[(inv["country"] == "JP") & (inv["stage"] == stage) & (inv["item"] == "Dy")]
    return rows.set_index("date")["t"]


def test_japanese_dysprosium_stocks_fall_after_the_ban(japan_ban, baseline_short):
    """Three months after 6 January 2026 Japan holds under a third of the Dy it holds without the ban."""
    when = pd.Timestamp("2026-04-06")
    banned = _jp_dy_stock(japan_ban).reindex([when], fill_value=0) + _jp_dy_stock(japan_ban, "stockpile").reindex(
        [when], fill_value=0)
    free = _jp_dy_stock(baseline_short).reindex([when], fill_value=0) + _jp_dy_stock(
        baseline_short, "stockpile").reindex([when], fill_value=0)
    assert banned.iloc[0] < free.iloc[0] / 3


def test_japanese_high_temperature_magnets_fall_short_once_stocks_run_out(japan_ban):
    """Japanese plants make all the high-temperature magnets they plan before the ban and far fewer after."""
    out = japan_ban.table("magnet_output", "month")
    jp = out[(out["country"] == "JP") & (out["grade"] == "high_temp")].set_index("date")
    before = jp.loc[:"2025-12-01"]
    after = jp.loc["2026-07-01":"2026-12-01"]
    assert before["short_t"].sum() <= 1e-6 * before["planned_t"].sum()
    assert after["made_t"].sum() < 0.5 * after["planned_t"].sum()


def test_south_korea_is_hit_through_japan_and_makes_up_from_china(japan_ban):
    """Korea buys Chinese material processed in Japan: its magnet imports from Japan fall by more than half; its
    contracts with China stretch after the shortage, so its Chinese magnets rise and its end users are not
    short, though its own magnet plants are, for a time."""
    flows = japan_ban.table("flows", "quarter")
    magnets = flows[(flows["stage"] == "magnet") & (flows["importer"] == "KR")]
    by_exporter = magnets.groupby(["exporter", "date"])["t"].sum()
    assert by_exporter.loc[("JP", "2026-07-01")] < 0.5 * by_exporter.loc[("JP", "2025-07-01")]
    assert by_exporter.loc[("CN", "2026-07-01")] > 1.05 * by_exporter.loc[("CN", "2025-07-01")]
    korea = japan_ban.summary().countries["KR"]
    assert korea.cumulative_unmet_t == 0 and korea.weeks_to_plant_shortfall is not None


def test_a_bigger_japanese_stockpile_delays_the_shortfall(write):
    """Doubling JOGMEC's 42 days of stockpile moves Japan's first shortfall later."""
    bigger = write(f"""\
        extends: {SCENARIOS / 'japan_ban.yaml'}
        stockpiles:
          JP: {{days: 120}}
        """)
    small = run(SCENARIOS / "japan_ban.yaml", end=SHORT_END).summary().countries["JP"]
    large = run(bigger, end=SHORT_END).summary().countries["JP"]
    assert large.weeks_to_shortfall > small.weeks_to_shortfall
    assert large.cumulative_unmet_t < small.cumulative_unmet_t


def test_ndpr_keeps_flowing_from_china_to_japan(japan_ban, baseline_short):
    """NdPr is not on the list: China's NdPr exports to Japan in 2026 are no lower than without the ban."""
    def ndpr(results):
        f = results.table("flows", "year")
        f = f[(f["stage"] == "refinery") & (f["exporter"] == "CN") & (f["importer"] == "JP") & (f["item"] == "NdPr")]
        return f.set_index("date")["t"].loc["2026-01-01"]
    assert ndpr(japan_ban) >= 0.99 * ndpr(baseline_short)


def test_banned_elements_stop_flowing_from_china_to_japan(japan_ban):
    """From the week the ban starts no Dy, Tb or Dy-bearing magnet leaves China for Japan."""
    f = japan_ban.table("flows")
    after = f[(f["date"] >= "2026-01-06") & (f["exporter"] == "CN") & (f["importer"] == "JP")]
    assert after[after["item"].isin(["Dy", "Tb", "Y", "Sm", "Gd", "high_temp", "standard", "smco"])]["t"].sum() == 0
    assert after[after["item"] == "NdPr"]["t"].sum() > 0


@pytest.mark.parametrize("fixture", ["baseline", "japan_ban"])
def test_mass_balance_holds(fixture, request):
    """Everything mined is in a stock, at sea, consumed, sunk or lost, for every element, to 1e-9."""
    b = request.getfixturevalue(fixture).table("balance")
    scale = (b["opening_t"] + b["mined_t"]).clip(lower=1)
    assert (b["residual_t"].abs() / scale).max() < 1e-9
    assert (b["mined_t"] > 0).any()


def test_a_broken_balance_fails_loudly():
    """If mass appeared from nowhere the run stops with an InvariantError naming the element."""
    sim = Simulation(load_scenario(SCENARIOS / "baseline.yaml"), end=dt.date(2024, 3, 1))
    sim.run()
    sim.ledger.accounts.mined[sim.net.elements.index("Dy")] += 1.0
    with pytest.raises(InvariantError, match="Dy"):
        sim.ledger.check(sim.state, len(sim.net.dates) - 1)


def test_a_negative_stock_fails_loudly():
    """Draws take at most what is there: a stock below zero stops the run, naming the stock and country."""
    sim = Simulation(load_scenario(SCENARIOS / "baseline.yaml"), end=dt.date(2024, 3, 1))
    sim.run()
    sim.state.oxide.tagged[sim.net.countries.index("JP"), 0, sim.net.elements.index("Dy")] = -1e-12
    with pytest.raises(InvariantError, match="refinery stock of Dy in JP is -1e-12"):
        sim.ledger.check(sim.state, len(sim.net.dates) - 1)


def test_orders_a_hair_over_the_stock_empty_it_and_no_more():
    """Two buyers ordering all of a supplier's stock plus rounding leave it at zero, not at -1e-17 t, and
    what they get adds up to what it held."""
    from sim.engine.shipping import ship_exports
    from sim.engine.stocks import Stocks

    held = np.array([[[0.3]], [[0.0]], [[0.0]]])                   # [C, Q, X]: 0.3 t at supplier 0
    stocks = Stocks(held.copy())
    shipped = np.zeros((3, 3, 1))
    shipped[1, 0, 0], shipped[2, 0, 0] = 0.1, 0.2 + 1e-15          # to buyers 1 and 2, a hair more in all
    state = type("S", (), {"pipeline": {"refinery": np.zeros((3, 1))}, "stocks": {"refinery": stocks}})()
    exports = ship_exports(state, "refinery", stocks, shipped, [])
    assert stocks.tagged.min() >= 0.0
    assert exports.leaving.sum() + stocks.tagged.sum() == pytest.approx(0.3, rel=1e-15)


def test_a_near_zero_magnet_yield_leaves_no_stock_negative(write):
    """A plant that keeps almost none of its oxide (yield 1e-6) draws vast amounts: every stock stays >= 0
    (the run checks it each step) and the balance holds."""
    path = write(f"""\
        extends: {SCENARIOS / "japan_ban.yaml"}
        name: tiny_yield
        facilities:
          magnet:
            jp_magnet_makers: {{material_yield: 0.000001}}
        """)
    results = run(load_scenario(path), end=dt.date(2027, 1, 1))
    assert results.table("inventory")["t"].min() >= 0.0
    b = results.table("balance")
    assert (b["residual_t"].abs() / (b["opening_t"] + b["mined_t"]).clip(lower=1)).max() < 1e-9


# ---------------------------------------------------------------- licences and determinism
LICENSED = """\
    extends: {base}
    name: licensed
    events:
      - type: export_licence
        exporter: CN
        stages: [refinery, magnet]
        elements: [Dy, Tb]
        start: 2025-04-04
        processing_days: {{dist: triangular, low: 20, mode: 45, high: 63}}
        approval: 0.7
    """


@pytest.mark.parametrize("enabled", [True, False])
def test_a_run_pauses_the_cycle_collector_and_leaves_it_as_it_found_it(enabled):
    """The engine's objects are not walked by CPython's collector while a run makes them: it is off during the
    run (every step sees it off) and as it was before once the run is over."""
    import gc

    seen = set()
    (gc.enable if enabled else gc.disable)()
    try:
        Simulation(load_scenario(SCENARIOS / "baseline.yaml"), end=dt.date(2025, 3, 31)).run(
            progress=lambda done, total: seen.add(gc.isenabled()))
        assert seen == {False}
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_same_seed_same_tables(write):
    """Two runs of a scenario with random licence decisions and one seed give identical tables."""
    path = write(LICENSED.format(base=SCENARIOS / "baseline.yaml"))
    a = run(path, seed=7, end=dt.date(2026, 6, 30))
    b = run(path, seed=7, end=dt.date(2026, 6, 30))
    for name in a.TABLES:
        pd.testing.assert_frame_equal(a.table(name), b.table(name))
    assert (a.table("licences")["outcome"] == "refused").any()


def test_another_seed_other_licence_decisions(write):
    """A different seed draws different processing times and approvals."""
    path = write(LICENSED.format(base=SCENARIOS / "baseline.yaml"))
    a = run(path, seed=1, end=dt.date(2026, 6, 30)).table("licences")
    b = run(path, seed=2, end=dt.date(2026, 6, 30)).table("licences")
    assert not a.equals(b)


def test_licences_hold_up_chinese_exports_and_refuse_some(write):
    """Under a licence requirement with 70% approval, goods wait 20-63 days for review (45 most often), so in
    the six weeks after the licences start China ships under a fifth of the Dy abroad it ships without them;
    and some applications are refused."""
    path = write(LICENSED.format(base=SCENARIOS / "baseline.yaml"))

    def dy_exports(results) -> float:
        f = results.table("flows", "step")
        f = f[(f["exporter"] == "CN") & (f["item"] == "Dy")]
        return float(f[(f["date"] >= "2025-04-07") & (f["date"] < "2025-05-19")]["t"].sum())
    licensed_run = run(path, end=dt.date(2025, 9, 30))
    licensed = dy_exports(licensed_run)
    free = dy_exports(run(SCENARIOS / "baseline.yaml", end=dt.date(2025, 9, 30)))
    assert licensed < 0.2 * free
    assert (licensed_run.table("licences")["outcome"] == "refused").any()


def test_at_sea_stop_turns_cargo_back(write):
    """With at_sea: stop, goods already at sea to Japan on the ban's first day go back to China."""
    path = write(f"""\
        extends: {SCENARIOS / 'baseline.yaml'}
        events:
          - type: export_ban
            exporter: CN
            importers: [JP]
            stages: [refinery]
            elements: [Dy]
            start: 2025-03-05
            at_sea: stop
        """)
    lic = run(path, end=dt.date(2025, 6, 30)).table("licences")
    assert (lic["outcome"] == "turned back at sea").any()


# ---------------------------------------------------------------- golden regression
def test_baseline_matches_the_golden_reference(baseline):
    """The baseline reproduces results/baseline/ (regenerate on purpose with: python -m sim golden)."""
    assert PORTABLE, "NumPy was loaded before tests/conftest.py could choose its code (sim.portable)"
    changes = differences(baseline)
    assert not changes, "baseline moved:\n" + "\n".join(changes[:20])


def _reference_copy(folder):
    """A copy of the committed reference in ``folder``, with old modification times to notice a rewrite by."""
    folder.mkdir()
    for name in ("summary.json", "monthly.csv"):
        (folder / name).write_bytes((REFERENCE / name).read_bytes())
        os.utime(folder / name, ns=(1_000_000_000, 1_000_000_000))
    return folder


def test_an_unchanged_baseline_leaves_the_reference_untouched(baseline, tmp_path):
    """Updating the reference with a run that matches it writes nothing: same bytes, same modification times."""
    folder = _reference_copy(tmp_path / "ref")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert update_reference(baseline, folder) == []
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before


def test_a_changed_baseline_rewrites_the_reference_and_says_what_moved(baseline, tmp_path):
    """A reference that no longer matches the run is reported and rewritten, after which the run matches it."""
    folder = _reference_copy(tmp_path / "ref")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["first_measure"] = "1999-01-01"
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    changes = update_reference(baseline, folder)
    assert any(c.startswith("summary first_measure: '1999-01-01' -> ") for c in changes)
    assert (folder / "summary.json").stat().st_mtime_ns > 1_000_000_000
    assert differences(baseline, folder) == []


def test_two_processes_give_identical_results_for_one_seed(tmp_path):
    """Same scenario and seed in two fresh processes (other object addresses, other hash seeds) give identical
    tables: the engine never lets the order of a set decide what happens (bans stopping goods awaiting
    licences, in suspension_expiry, once did)."""
    outs = []
    for n in range(2):
        out = tmp_path / f"run{n}"
        subprocess.run([sys.executable, "-m", "sim", str(SCENARIOS / "suspension_expiry.yaml"), "--end", "2027-06-30",
                        "--no-plots", "--quiet", "--out", str(out)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": str(n)})
        outs.append((out / "tables" / "unmet.csv").read_bytes() + (out / "tables" / "flows.csv").read_bytes())
    assert outs[0] == outs[1]
