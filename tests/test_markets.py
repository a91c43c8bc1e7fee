"""Prices in two markets (``prices.home_market``): the home country's buyers and everyone else's. An export
measure of the home country opens a spread by itself; whoever reads a price reads its own market's; magnet
prices follow their recipe. Without a home market there is one world price, as there always was.

The world of these cases: China mines, separates and makes magnets for itself; Japan makes its own magnets
from Chinese oxide; both build the same number of EVs.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim import Summary, load_scenario, run, save
from sim.errors import ScenarioError
from sim.experiments.bands import SeriesStack, headline_bands, series_bands
from sim.experiments.manifest import read_manifest
from sim.experiments.runs import read_series
from sim.results.headlines import figures_for
from sim.results.report import run_report
from sim.results.series import MonthlySeries, monthly_series

from .conftest import MINIMAL, ROOT

TWO_MARKETS = """\
name: two_markets
calendar: {{start: 2025-01-01, end: 2026-12-31, step_days: 7}}
countries:
  CN: {{name: China}}
  JP: {{name: Japan}}
facilities:
  mine:
    cn_mine: {{name: A mine, country: CN, capacity_t: 2000, composition: {{NdPr: 0.3, Dy: 0.02, Ce: 0.68}},
               source: usgs25_mine_cn{mine}}}
  refinery:
    cn_ref: {{name: A refinery, country: CN, capacity_t: 2000, recovery: 0.9, source: separation_recovery}}
  magnet:
    cn_mag: {{name: A Chinese magnet plant, country: CN, capacity_t: 300, source: asm_magnet_plants}}
    jp_mag: {{name: A Japanese magnet plant, country: JP, capacity_t: 300, source: asm_magnet_plants}}
magnet_grades:
  standard: {{recipe: {{NdPr: 0.31, Dy: 0.005}}, source: asm_grade_recipes}}
{grades}sectors:
  ev: {{name: EVs, unit: vehicle, magnet_kg_per_unit: 1.5, grades: {{standard: 1.0}}, source: ev_magnet_kg}}
demand:
  CN: {{ev: {{units_per_year: 100000, source: asm_sector_split}}}}
  JP: {{ev: {{units_per_year: 100000, source: asm_sector_split}}}}
trade:
  suppliers:
    refinery:
      JP: {{shares: {{CN: 1.0}}, source: asm_trade_shares}}
prices:
  {home}
  initial_usd_per_kg: {{NdPr: 60, Dy: 250}}
  source: asm_grade_recipes
{prices}events:
  - type: export_ban
    exporter: CN
    importers: [JP]
    elements: [Dy]
    start: 2026-01-06
{events}"""
BEFORE, AFTER = "2025-10-01", "2026-07-01"      # the quarter before the ban, and one six months into it


def world(write, home: str | None = "CN", prices: str = "", mine: str = "", grades: str = "", events: str = "",
          name: str = "s.yaml"):
    """A run of the two-country world with China's ban on Dy to Japan (``home``: its home market, if any)."""
    text = TWO_MARKETS.format(home=f"home_market: {home}" if home else "", prices=prices, mine=mine,
                              grades=grades, events=events)
    return run(load_scenario(write(text, name)))


def by_market(frame: pd.DataFrame, key: str, item: str, column: str = "multiple") -> pd.DataFrame:
    """One item's prices, a row per date and a column per market."""
    return frame[frame[key] == item].pivot(index="date", columns="market", values=column)


# ---------------------------------------------------------------- the spread
def test_with_a_home_market_a_chinese_export_ban_on_dy_raises_the_outside_dy_price_and_not_the_home_one(write):
    """Japanese buyers go short of Dy and the price outside China rises many times over; Chinese buyers get
    all they order and China's own price stays where it was. NdPr, not banned, moves in neither."""
    prices = world(write).table("prices", "quarter")
    dy = by_market(prices, "element", "Dy")
    assert list(dy.loc[BEFORE]) == [1.0, 1.0]
    assert dy.loc[AFTER, "outside"] > 5.0
    assert dy.loc[AFTER, "home"] == 1.0
    assert (by_market(prices, "element", "NdPr") == 1.0).all().all()


def test_dy_china_cannot_export_goes_unsold_at_home_and_the_home_price_falls(write):
    """With a surplus elasticity the spread opens both ways: home down, outside up."""
    dy = by_market(world(write, prices="  surplus_elasticity: 3.0\n").table("prices", "quarter"), "element", "Dy")
    assert dy.loc[AFTER, "home"] < 0.95 * dy.loc[BEFORE, "home"]
    assert dy.loc[AFTER, "outside"] > 5.0


def test_without_a_home_market_there_is_one_world_price_and_no_magnet_price(write):
    """The tables and the summary are those of a world market: no market column, no magnet price rows, no
    home peaks."""
    results = world(write, home=None)
    assert list(results.table("prices").columns) == ["date", "element", "usd_per_kg", "multiple"]
    assert results.table("magnet_prices").empty
    summary = results.summary()
    assert set(summary.prices) == {"NdPr", "Dy"} and "home_prices" not in summary.to_dict()


def test_markets_change_prices_only_and_the_world_price_hides_the_outside_buyers_shortage(write):
    """Prices feed back only where a price is read (nowhere here): every other table is the world market's,
    bit for bit. Under the ban the world price, diluted by China's own orders, all of them met, rises less
    than the price outside China."""
    world_run, markets = world(write, home=None, name="world.yaml"), world(write, name="markets.yaml")
    for name in ("production", "flows", "inventory", "unmet", "magnet_output", "licences"):
        pd.testing.assert_frame_equal(world_run.table(name), markets.table(name), check_exact=True)
    one = world_run.table("prices", "quarter").set_index(["date", "element"])["multiple"]
    outside = by_market(markets.table("prices", "quarter"), "element", "Dy")["outside"]
    assert one[(pd.Timestamp(BEFORE), "Dy")] == outside[BEFORE] == 1.0
    assert 1.0 < one[(pd.Timestamp(AFTER), "Dy")] < outside[AFTER]


# ---------------------------------------------------------------- who reads which price
def test_a_worldwide_substitution_follows_the_outside_price(write):
    """A substitution event names no country: the Dy price outside China moves Chinese EV makers to a
    Dy-free grade too, though their own Dy price never rises."""
    grades = "  dy_free: {recipe: {NdPr: 0.32}, source: asm_grade_recipes}\n"
    events = """\
  - type: substitution
    sectors: [ev]
    from_grade: standard
    to_grade: dy_free
    element: Dy
    price_above_usd_per_kg: 1000
    delay_days: 28
    max_share_per_year: 1.0
"""
    made = world(write, grades=grades, events=events).table("magnet_output", "quarter")
    free = made[made["grade"] == "dy_free"].set_index(["country", "date"])["made_t"]
    assert free.get(("CN", pd.Timestamp(BEFORE)), 0.0) == 0.0 < free[("CN", pd.Timestamp(AFTER))]


def test_a_chinese_mine_idles_at_its_home_price_whatever_the_price_outside(write):
    """A plant gets its own country's price: the Dy China can no longer sell abroad drives China's price
    below the mine's shut-down price, while Dy outside China costs many times more."""
    results = world(write, prices="  surplus_elasticity: 3.0\n",
                    mine=", shuts_below_usd_per_kg: 240, price_element: Dy")
    dates = pd.DatetimeIndex(results.dates)
    mined = results.table("production").query("stage == 'mine'").groupby("date")["t"].sum().reindex(dates,
                                                                                                     fill_value=0)
    idle = mined.index[mined == 0]
    assert len(idle) and idle[0] > pd.Timestamp("2026-01-06")
    dy = by_market(results.table("prices"), "element", "Dy", "usd_per_kg")
    week = dates[dates.get_loc(idle[0]) - 1]          # a plant idles from the step after the price it read
    assert dy.loc[week, "home"] < 240 < dy.loc[week, "outside"]


def test_demand_answers_the_price_of_the_buyers_market(write):
    """With a demand elasticity, Japanese EV makers buy fewer magnets as Dy outside China soars; Chinese ones
    buy as many as before."""
    unmet = world(write, prices="  demand_elasticity: 0.5\n").table("unmet", "quarter")
    demand = unmet.pivot_table(index="date", columns="country", values="demand_t", aggfunc="sum")
    assert demand.loc[AFTER, "JP"] < 0.9 * demand.loc[BEFORE, "JP"]
    assert demand.loc[AFTER, "CN"] == pytest.approx(demand.loc[BEFORE, "CN"], rel=1e-3)


# ---------------------------------------------------------------- magnet prices
def test_a_grades_magnet_price_is_its_recipes_value_at_its_markets_prices_while_its_buyers_get_all_they_order(
        write):
    """In China, where end users are never short, a kilogram of the standard grade costs its 0.31 kg of NdPr
    and 0.005 kg of Dy at China's prices, every week, as the home Dy price falls; outside China it costs at
    least that (its buyers' shortage adds a scarcity term)."""
    results = world(write, prices="  surplus_elasticity: 3.0\n")
    usd = results.table("prices").pivot_table(index="date", columns=["market", "element"], values="usd_per_kg")
    magnets = results.table("magnet_prices")
    magnet = by_market(magnets, "grade", "standard", "usd_per_kg")
    for market in ("home", "outside"):
        value = 0.31 * usd[(market, "NdPr")] + 0.005 * usd[(market, "Dy")]
        if market == "home":
            np.testing.assert_allclose(magnet[market], value, rtol=1e-12)
        else:
            assert (magnet[market] >= value * (1 - 1e-12)).all()
    start = by_market(magnets, "grade", "standard").iloc[0]
    assert start["outside"] == 1.0 and magnet.iloc[0]["outside"] == pytest.approx(0.31 * 60 + 0.005 * 250)


def test_a_grade_with_an_unpriced_element_has_a_multiple_but_no_usd_price(write):
    """Tb has no price: the Tb grade's price moves with its Dy and NdPr content and its buyers' shortage, as a
    multiple of its start, and is given in no currency."""
    grades = "  tb_grade: {recipe: {NdPr: 0.30, Dy: 0.005, Tb: 0.002}, source: asm_grade_recipes}\n"
    magnets = world(write, grades=grades).table("magnet_prices", "quarter")
    tb = magnets[magnets["grade"] == "tb_grade"]
    assert tb["usd_per_kg"].isna().all() and tb["multiple"].notna().all()
    assert by_market(magnets, "grade", "tb_grade").loc[AFTER, "outside"] > 1.0
    assert magnets[magnets["grade"] == "standard"]["usd_per_kg"].notna().all()


def test_the_summary_gives_each_markets_peaks_of_elements_and_grades(write):
    """'prices' holds the outside market's peaks, 'home_prices' the home market's, each by element and grade;
    summary.json holds both and reads back as it was."""
    summary = world(write).summary()
    assert set(summary.prices) == set(summary.home_prices) == {"NdPr", "Dy", "standard"}
    assert summary.prices["Dy"].peak_multiple > 5.0 and summary.home_prices["Dy"].peak_multiple == 1.0
    assert summary.prices["Dy"].peak_date > dt.date(2026, 1, 6)
    assert "home_prices" in summary.to_dict() and Summary.from_dict(summary.to_dict()) == summary


# ---------------------------------------------------------------- bad input
def test_an_unknown_home_market_is_a_located_error(write):
    text = MINIMAL + "prices:\n  home_market: CHN\n"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(text))
    (p,) = caught.value.problems
    assert p.path == "prices.home_market" and "unknown country 'CHN'" in p.message and "did you mean CN?" in p.message
    assert p.line == text.splitlines().index("  home_market: CHN") + 1


# ---------------------------------------------------------------- what a run gives
@pytest.fixture
def two_markets(write):
    return world(write)


def test_the_monthly_series_and_headlines_follow_both_markets(two_markets):
    """price_multiple is the outside market's, home_price_multiple the home market's; the headline figures
    and the printed report name both."""
    series = monthly_series(two_markets)
    dy = series[series["element"] == "Dy"].pivot(index="date", columns="metric", values="value")
    assert dy.loc[AFTER, "price_multiple"] > 5.0 and dy.loc[AFTER, "home_price_multiple"] == 1.0
    keys = {f.key for f in figures_for([two_markets.summary()])}
    assert {"Dy.peak_price_multiple", "Dy.home_peak_price_multiple", "standard.peak_price_multiple"} <= keys
    report = run_report(two_markets.summary()).splitlines()
    assert [line.split(":")[0].strip() for line in report if "price peaks" in line] == [
        "price peaks outside the home market", "price peaks in the home market"]


def test_a_saved_run_with_markets_reads_back_the_series_it_was_saved_with(two_markets, tmp_path):
    """A comparison reusing a run saved with weekly tables averages each market's prices by month on its own."""
    folder = save(two_markets, tmp_path / "run", frequency="step", plots=False)
    back = read_series(folder, read_manifest(folder)).reset_index(drop=True)
    mine = monthly_series(two_markets).reset_index(drop=True)
    keys = ["metric", "element", "date"]
    assert (back[keys].fillna("") == mine[keys].fillna("")).all().all()
    np.testing.assert_allclose(back["value"], mine["value"], rtol=1e-8)     # monthly.csv holds 9 digits


def test_the_price_plots_draw_each_market_in_its_line_style(two_markets, write, tmp_path):
    """The briefing's prices figure has an oxide and a magnet panel, each item in one colour, solid outside
    China and dashed in it; a comparison's overlay and an ensemble's bands dash the home market too, and the
    ensemble's peak prices give each market's."""
    import matplotlib.pyplot as plt

    from sim.plots.bands import band_prices_figure, headline_bands_figure
    from sim.plots.briefing import prices_figure
    from sim.plots.runs import overlay_prices_figure

    figure = prices_figure(two_markets)
    assert [ax.get_title(loc="left") for ax in figure.axes] == ["Oxides", "Magnets, by grade"]
    for ax in figure.axes:
        styles = {(line.get_color(), line.get_linestyle()) for line in ax.get_lines() if len(line.get_xdata()) > 2}
        colours = {c for c, _ in styles}
        assert styles == {(c, ls) for c in colours for ls in ("-", "--")}
    monthly = monthly_series(two_markets).assign(scenario="two_markets")
    overlay = overlay_prices_figure(monthly, ["two_markets"], {}, {"two_markets": "#000000"})
    assert {line.get_linestyle() for line in overlay.axes[0].get_lines() if len(line.get_xdata()) > 2} == {"-", "--"}
    bands = series_bands(SeriesStack.stack([0], [MonthlySeries.from_results(two_markets).banded()]))
    drawn = band_prices_figure(bands, {})
    assert {line.get_linestyle() for line in drawn.axes[0].get_lines() if len(line.get_xdata()) > 2} == {"-", "--"}
    ranges = headline_bands_figure(headline_bands([two_markets.summary()]))
    peaks = {label.get_text() for label in ranges.axes[2].get_yticklabels()}
    assert {"Dy outside", "Dy home", "standard outside", "standard home"} <= peaks
    for fig in (figure, overlay, drawn, ranges):
        plt.close(fig)


# ---------------------------------------------------------------- scarcity of orders
QUOTA = """\
  - type: export_quota
    exporter: CN
    stages: [refinery]
    t_per_year: 10
    start: 2025-07-01
"""


def test_with_scarcity_of_orders_a_quota_moves_the_outside_price_before_stocks_run_out(write):
    """Blocked import orders are what buyers face first: in the quarter a quota starts the outside price has
    more than doubled when scarcity counts orders, and barely moved when it counts unmet use alone, which
    waits for the stocks to run out."""
    orders = world(write, prices="  scarcity_of: orders\n", events=QUOTA, name="o.yaml")
    use = world(write, events=QUOTA, name="u.yaml")
    quarter = "2025-07-01"
    outside = {name: by_market(r.table("prices", "quarter"), "element", "NdPr").loc[quarter, "outside"]
               for name, r in (("orders", orders), ("use", use))}
    assert outside["orders"] > 2.0 and outside["use"] < 1.1


def test_the_baseline_at_rest_keeps_every_price_within_two_percent_for_ten_years():
    """Orders some supplier cannot fill in a world at rest are not news: the baseline, two markets and all its
    market's behaviour, holds every price within 2% of where it starts for ten years with no event."""
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert scenario.prices.home_market == "CN" and scenario.prices.adjustment_per_year
    assert (scenario.calendar.end - scenario.calendar.start).days >= 10 * 365 - 7
    prices = run(scenario).table("prices")
    assert prices["multiple"].between(0.98, 1.02).all()


CAP_2025_07 = """\
  - type: export_quota
    exporter: CN
    stages: [refinery]
    t_per_year: 10
    start: 2025-07-01
    end: 2026-01-01
"""


def test_with_adjustment_a_price_climbs_for_months_while_orders_go_unmet_and_falls_back_once_they_are_met(write):
    """Traders find a price by trial: under a half-year quota the outside price of NdPr climbs for months (its
    peak months after the start, not weeks), and once the quota ends and orders are met again it falls back
    towards where it started (half the way within a year) while the home price stays. At once, the price has jumped
    by half within the first month, where the gradual one has barely moved."""
    gradual = world(write, prices="  scarcity_of: orders\n  adjustment_per_year: 1\n  reversion_per_year: 1\n",
                    events=CAP_2025_07, name="g.yaml")
    at_once = world(write, prices="  scarcity_of: orders\n", events=CAP_2025_07, name="a.yaml")
    g = by_market(gradual.table("prices"), "element", "NdPr")
    a = by_market(at_once.table("prices"), "element", "NdPr")
    start, end = pd.Timestamp("2025-07-01"), pd.Timestamp("2026-01-01")
    first_month = slice(start, start + pd.Timedelta(days=28))
    assert a.loc[first_month, "outside"].max() > 1.5 and g.loc[first_month, "outside"].max() < 1.1
    assert g["outside"].idxmax() >= start + pd.Timedelta(days=90)
    peak = g["outside"].max()
    assert peak > 1.5
    assert g.loc[end + pd.Timedelta(days=330):, "outside"].max() < 1 + (peak - 1) / 2
    assert g["home"].max() <= 1.0 + 1e-9


# ---------------------------------------------------------------- demand that answers prices
OTHER_USES = """\
non_magnet_demand:
  JP: {t_per_year: {Ce: 300}, source: asm_non_magnet_demand}
"""
CE_BAN = """\
  - type: export_ban
    exporter: CN
    importers: [JP]
    elements: [Ce]
    start: 2025-07-01
    end: 2025-10-01
"""


def ce_consumed(write, prices: str, name: str, end: str) -> float:
    """t of Ce used up to ``end`` in the two-country world with Japan's other uses of Ce (its only use of Ce)."""
    text = TWO_MARKETS.format(home="home_market: CN", prices="  scarcity_of: orders\n" + prices, mine="",
                              grades="", events=CE_BAN).replace("trade:\n", OTHER_USES + "trade:\n")
    results = run(load_scenario(write(text, name)), end=dt.date.fromisoformat(end))
    return float(results.mass_balance.set_index("element").loc["Ce", "consumed_t"])


def test_other_uses_answer_the_price_of_their_element_and_destroyed_demand_returns_slowly(write):
    """A three-month Chinese ban on Ce to Japan raises the outside Ce price; with an elasticity Japan's other
    uses of Ce fall while it lasts and come back when it ends; with a recovery rate of 5% a year, what the
    price rise destroyed is still missing a year later."""
    for end in ("2025-09-30", "2026-09-30"):
        plain = ce_consumed(write, "", f"plain{end}.yaml", end)
        elastic = ce_consumed(write, "  other_uses_elasticity: 0.2\n", f"elastic{end}.yaml", end)
        sticky = ce_consumed(write, "  other_uses_elasticity: 0.2\n  demand_recovery_per_year: 0.05\n",
                             f"sticky{end}.yaml", end)
        assert sticky <= elastic < plain
    year_after = {name: ce_consumed(write, prices, f"{name}.yaml", "2026-09-30")
                  - ce_consumed(write, prices, f"{name}q.yaml", "2025-12-31")
                  for name, prices in (("elastic", "  other_uses_elasticity: 0.2\n"),
                                       ("sticky", "  other_uses_elasticity: 0.2\n  demand_recovery_per_year: 0.05\n"))}
    assert year_after["sticky"] < 0.99 * year_after["elastic"]


def test_other_uses_answer_by_element_cerium_in_polishing_gives_way_where_another_element_need_not(write):
    """An elasticity by element: with 0.5 on Ce, Japan's other uses of Ce fall under the Ce ban as they do with
    0.5 on every element; with 0.5 on La alone, Ce's use does not answer its price at all."""
    end = "2025-12-31"
    plain = ce_consumed(write, "", "plain.yaml", end)
    every = ce_consumed(write, "  other_uses_elasticity: 0.5\n", "every.yaml", end)
    cerium = ce_consumed(write, "  other_uses_elasticity: {Ce: 0.5}\n", "ce.yaml", end)
    lanthanum = ce_consumed(write, "  other_uses_elasticity: {La: 0.5}\n", "la.yaml", end)
    assert cerium == pytest.approx(every, rel=1e-12) and cerium < 0.99 * plain
    assert lanthanum == pytest.approx(plain, rel=1e-12)


def test_a_price_that_lasts_destroys_more_demand_over_the_years_than_at_once(write):
    """Short run 0.1, long run 0.6 over a year: in the ban's first weeks Japan's other uses of Ce answer about
    as at 0.1 alone; over the three months of the ban and after, markedly more demand is lost."""
    short = "  other_uses_elasticity: 0.1\n"
    both = short + "  long_run: {other_uses_elasticity: 0.6, years: 1}\n"
    first_weeks = {name: ce_consumed(write, prices, f"{name}w.yaml", "2025-07-20")
                   - ce_consumed(write, prices, f"{name}0.yaml", "2025-06-30")
                   for name, prices in (("short", short), ("long", both))}
    assert first_weeks["long"] == pytest.approx(first_weeks["short"], rel=0.02)
    months = {name: ce_consumed(write, prices, f"{name}m.yaml", "2026-06-30")
              - ce_consumed(write, prices, f"{name}s.yaml", "2025-06-30")
              for name, prices in (("short", short), ("long", both))}
    assert months["long"] < 0.97 * months["short"]


def test_an_elasticity_for_an_unknown_element_is_a_located_error(write):
    text = MINIMAL + "prices:\n  other_uses_elasticity: {Nd: 0.3}\n"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(text))
    (p,) = caught.value.problems
    assert p.path == "prices.other_uses_elasticity.Nd" and "Nd" in p.message
    assert p.line == text.splitlines().index("  other_uses_elasticity: {Nd: 0.3}") + 1


# ---------------------------------------------------------------- stocks that follow prices
def test_buyers_hold_more_oxide_cover_while_their_markets_price_stands_above_its_recent_average():
    """60 days per doubling: a doubled price adds 60 days of cover, a halved one takes 60 off, an unpriced
    element none; concentrate and magnets have no price of their own here."""
    from types import SimpleNamespace

    from sim.engine.trade import speculation_days
    from sim.world.network import OnPriceRise
    net = SimpleNamespace(on_price_rise=OnPriceRise(60.0, 90.0), market_of=np.array([0, 1, 1]))
    state = SimpleNamespace(price=np.array([[10.0, np.nan], [20.0, 5.0]]),
                            recent_price=np.array([[10.0, np.nan], [10.0, 10.0]]))
    days = speculation_days(state, net, "refinery")
    assert days.tolist() == [[0.0, 0.0], [60.0, -60.0], [60.0, -60.0]]
    assert speculation_days(state, net, "magnet") == 0.0


def test_a_world_at_rest_with_stocks_that_follow_prices_runs_as_without(write):
    """Prices that do not move give buyers no reason to hold more or less: up to the ban every table is the
    same with the rule as without it."""
    rule = "  source: asm_grade_recipes\ninventories:\n  on_price_rise: {days_per_doubling: 60, memory_days: 120}\n"
    before_ban = dt.date(2025, 12, 31)
    texts = {name: TWO_MARKETS.format(home="home_market: CN", prices="", mine="", grades="", events="")
             for name in ("plain", "moving")}
    texts["moving"] = texts["moving"].replace("  source: asm_grade_recipes\n", rule, 1)
    plain, moving = (run(load_scenario(write(texts[n], f"{n}.yaml")), end=before_ban) for n in ("plain", "moving"))
    assert (plain.table("prices")["multiple"] == 1.0).all()
    for name in ("flows", "inventory", "prices", "unmet"):
        pd.testing.assert_frame_equal(plain.table(name), moving.table(name))
