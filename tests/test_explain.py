"""Why a country is short: its unmet demand in parts that add up to it, traced to maker, element, supplier
and measure; the command that explains a saved run."""
import datetime

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, save
from sim.cli import main
from sim.engine.simulation import Simulation
from sim.plots.explain import waterfall_figure
from sim.results.causes import MEASURE, PLANTS, RESOURCED, cause_parts
from sim.results.explain import PART_KEYS, explain, read_tables
from sim.results.headlines import usd

from .conftest import SCENARIOS

BAN = "cn_japan_dual_use_ban"


@pytest.fixture(scope="module")
def japan_ban():
    """A Japan ban run to the end of 2027: two years of the ban."""
    return Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end=datetime.date(2027, 12, 31)).run()


@pytest.fixture(scope="module")
def october_controls():
    """The October 2025 controls (with April's licences) to the end of 2026."""
    return Simulation(load_scenario(SCENARIOS / "october_2025_controls.yaml"), seed=0,
                      end=datetime.date(2026, 12, 31)).run()


def test_every_country_s_parts_add_up_to_its_unmet_demand_every_step(japan_ban):
    keys, parts = cause_parts(japan_ban)
    unmet = japan_ban.raw.demand.sum(axis=2) - japan_ban.raw.supplied.sum(axis=2)
    countries = japan_ban.countries
    summed = np.zeros_like(unmet)
    for key, column in zip(keys, parts.T):
        summed[:, countries.index(key[0])] += column
    assert np.abs(summed - unmet).max() < 1e-9
    assert unmet[:, countries.index("JP")].sum() > 1_000     # a shortfall to explain, not zeros adding to zero


def test_plants_short_record_the_element_they_ran_out_of(japan_ban):
    """What Japan's plants did not make is put down to the elements they lacked, and adds up to it."""
    raw, jp = japan_ban.raw, japan_ban.countries.index("JP")
    not_made = (raw.magnets_planned - raw.magnets_made).sum(axis=2)[:, jp]
    assert np.allclose(raw.short_of[:, jp].sum(axis=1), not_made, atol=1e-6)
    lacked = raw.short_of[:, jp].sum(axis=0)
    elements = japan_ban.net.elements
    assert elements[int(lacked.argmax())] in ("Dy", "Tb")
    assert lacked[elements.index("NdPr")] == 0.0            # NdPr keeps flowing to Japan


def test_a_ban_on_japan_traces_korea_s_lost_supply_to_chinese_dy_tb_through_japanese_plants(japan_ban):
    """Korea loses the magnets Japanese plants could not make without Chinese Dy and Tb, under the ban; it makes
    them up from China, so that its end users are not short."""
    why = japan_ban.explain("KR", "2026-01-01", "2027-12-31")
    lost = why.parts[why.parts["t"] > 0].iloc[0]
    assert (lost.maker, lost.cause, lost.oxide_from, lost.measure) == ("JP", PLANTS, "CN", BAN)
    assert lost.element in ("Dy", "Tb")
    assert lost.t > 100
    assert why.resourced["maker"].iloc[0] == "CN"
    assert abs(why.total_t - why.unmet_t) < 1e-9
    text = why.text()
    assert "JP's plants short of" in text and BAN in text and "ev_2026_01_06_japan_ban" in text


def test_japan_s_own_shortfall_is_its_plants_short_of_chinese_oxide_and_the_ban_on_magnets(japan_ban):
    why = japan_ban.explain("JP")
    assert why.unmet_t > 1_000 and abs(why.total_t - why.unmet_t) < 1e-9
    top = why.parts.head(2)
    assert set(top["measure"]) == {BAN}
    assert set(top["cause"]) == {PLANTS, MEASURE}
    assert top["t"].sum() > 0.9 * why.unmet_t
    assert set(why.parameters["subject"]) >= {"event", "stockpile", "magnet plants"}
    assert "jogmec_stockpile_days" in " ".join(why.parameters["source"])


def test_the_origin_rule_holds_a_third_country_s_japanese_magnets(october_controls):
    """The October 2025 rule covers Japanese magnets holding Chinese material: the US's lost Japanese magnets
    are put down to it, not to April's licences, which cover only China's own exports."""
    why = october_controls.explain("US", "2026-01-01", "2026-12-31")
    held = why.parts[(why.parts["maker"] == "JP") & (why.parts["cause"] == MEASURE)]
    assert set(held["measure"]) == {"october_2025_controls"}
    assert held["t"].sum() > 50
    from_china = why.parts[(why.parts["maker"] == "CN") & (why.parts["cause"] == MEASURE)]
    assert set(from_china["measure"]) == {"april_2025_licences"}
    assert abs(why.total_t - why.unmet_t) < 1e-9


def test_re_sourced_parts_are_negative_and_lost_ones_positive(japan_ban):
    parts = japan_ban.table("causes", "month")
    assert (parts.loc[parts["cause"] == RESOURCED, "t"] < 0).all()
    assert (parts.loc[parts["cause"] != RESOURCED, "t"] > 0).all()


def test_the_waterfall_ends_at_the_unmet_tonnes(japan_ban):
    why = japan_ban.explain("JP")
    fig = waterfall_figure(why)
    bars = fig.axes[0].patches
    assert sum(b.get_width() for b in bars[:-1]) == pytest.approx(bars[-1].get_width(), abs=1e-6)
    assert bars[-1].get_width() == pytest.approx(why.unmet_t, abs=1e-6)


def test_explain_reads_a_saved_run_and_writes_its_parts_and_chart(japan_ban, tmp_path, capsys):
    folder = save(japan_ban, tmp_path / "run", plots=False)
    assert main(["explain", str(folder), "--country", "KR", "--from", "2026-01-01", "--to", "2027-12-31"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Why KR was short, 2026-01 to 2027-12")
    assert "JP's plants short of" in out and BAN in out
    written = sorted(p.name for p in (folder / "explain").iterdir())
    assert written == ["KR_2026-01_2027-12.csv", "KR_2026-01_2027-12.png"]
    in_memory = japan_ban.explain("KR", "2026-01-01", "2027-12-31")
    from_folder = explain(read_tables(folder), "KR", datetime.date(2026, 1, 1), datetime.date(2027, 12, 31))
    pd.testing.assert_frame_equal(from_folder.parts, in_memory.parts)
    saved = pd.read_csv(folder / "explain" / "KR_2026-01_2027-12.csv", keep_default_na=False)
    assert saved["t"].sum() == pytest.approx(0.0, abs=1e-8 * saved["t"].abs().sum())     # nine figures a part


@pytest.mark.parametrize("args, said", [
    (["--country", "XX"], "no end-use demand of 'XX'"),
    (["--country", "JP", "--from", "2040-01-01"], "no period of the run starts"),
])
def test_explain_refuses_what_the_run_cannot_answer(japan_ban, tmp_path, capsys, args, said):
    folder = save(japan_ban, tmp_path / "run", plots=False)
    assert main(["explain", str(folder), *args]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
    assert not (folder / "explain").exists()


def test_explain_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["explain", str(tmp_path), "--country", "JP"]) == 2
    assert "not the folder of a run or an ensemble" in capsys.readouterr().err


# ---------------------------------------------------------------- ensembles
@pytest.fixture(scope="module")
def ensemble_folder(tmp_path_factory):
    """Four replications of the uncertain Japan ban (the ban read as all users' or as defence users' only) to
    mid-2027, on one worker."""
    from sim import run_ensemble

    folder = tmp_path_factory.mktemp("ensemble") / "japan_ban_uncertain_ensemble"
    run_ensemble(load_scenario(SCENARIOS / "japan_ban_uncertain.yaml"), 4, folder, end="2027-06-30", workers=1)
    return folder


def test_an_ensemble_explains_each_replication_over_the_same_periods_and_bands_the_parts(ensemble_folder):
    from sim.experiments.ensemble import explain_ensemble

    why = explain_ensemble(ensemble_folder, "JP")
    assert why.replications == [0, 1, 2, 3]
    assert len({(e.start, e.end) for e in why.explanations}) == 1
    for one in why.explanations:
        assert abs(one.total_t - one.unmet_t) < 1e-9
    matrix, parts = why.matrix(), why.parts.set_index(PART_KEYS)
    for key, row in parts.iterrows():
        assert (row["p5"], row["p50"], row["p95"]) == tuple(np.percentile(matrix.loc[key].to_numpy(), [5, 50, 95]))
    top = why.parts.iloc[0]
    assert top.measure == BAN and top.p95 > 0
    assert "over 4 replications" in why.text()
    values = [e.value_at_risk_usd for e in why.explanations]              # the output not made, in money
    assert all(v is not None and v >= 0 for v in values) and max(values) > 0
    assert f"P50 {usd(np.percentile(values, 50))}" in why.text()


def test_explain_on_an_ensemble_folder_writes_the_bands_of_the_parts(ensemble_folder, capsys):
    assert main(["explain", str(ensemble_folder), "--country", "JP", "--from", "2026-01-01",
                 "--to", "2026-12-31"]) == 0
    out = capsys.readouterr().out
    assert "Why JP was short, 2026-01 to 2026-12" in out and "P5" in out
    saved = pd.read_csv(ensemble_folder / "explain" / "JP_2026-01_2026-12.csv", keep_default_na=False)
    assert list(saved.columns) == [*PART_KEYS, "p5", "p50", "p95"]
    assert (saved["p5"] <= saved["p50"]).all() and (saved["p50"] <= saved["p95"]).all()


def test_elements_as_scarce_as_each_other_share_what_plants_did_not_make():
    """A grade of Dy and Tb, both served 40 % and NdPr 90 %: 6 t not made of a 10 t plan, 3 t put down to each."""
    from sim.engine.magnet_making import short_of

    plan, made = np.array([[10.0], [5.0]]), np.array([[4.0], [5.0]])
    recipe = np.array([[0.3, 0.02, 0.005]])                              # NdPr, Dy, Tb
    fill = np.array([[0.9, 0.4, 0.4], [1.0, 1.0, 1.0]])
    assert short_of(plan, made, fill, recipe).tolist() == [[0.0, 3.0, 3.0], [0.0, 0.0, 0.0]]
    assert short_of(plan, plan, fill, recipe) is None                   # all made: nothing to put down
