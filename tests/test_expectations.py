"""Prices that move on news (``prices.expectations``): an announced measure and a fall of mine or refinery
capacity move prices at once, before any order goes unmet; the news fades as the orders take over; without
expectations, or with both weights 0, nothing changes.

The world of these cases: China mines a light ore (NdPr, Ce) and, at a smaller mine, a heavy one that holds all
the world's Dy; it separates both and makes magnets; Japan makes its own magnets from Chinese oxide. Both build
the same number of EVs; prices are formed in China (home) and outside it, on unmet orders. No price feeds back
on what is made or bought here (no demand elasticity, no shut-down price), so news changes prices only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.errors import ScenarioError

from .conftest import MINIMAL

WORLD = """\
name: news
calendar: {{start: 2025-01-01, end: 2026-06-30, step_days: 7}}
countries:
  CN: {{name: China}}
  JP: {{name: Japan}}
facilities:
  mine:
    cn_light: {{name: A light mine, country: CN, capacity_t: 2000, composition: {{NdPr: 0.3, Ce: 0.7}},
                source: usgs25_mine_cn}}
    cn_heavy: {{name: A heavy mine, country: CN, capacity_t: 150, composition: {{Dy: 0.05, Ce: 0.95}},
                source: usgs25_mine_cn}}
  refinery:
    cn_ref: {{name: A refinery, country: CN, capacity_t: 2500, recovery: 0.9, source: separation_recovery}}
  magnet:
    cn_mag: {{name: A Chinese magnet plant, country: CN, capacity_t: 300, source: asm_magnet_plants}}
    jp_mag: {{name: A Japanese magnet plant, country: JP, capacity_t: 300, source: asm_magnet_plants}}
magnet_grades:
  standard: {{recipe: {{NdPr: 0.31, Dy: 0.01}}, source: asm_grade_recipes}}
sectors:
  ev: {{name: EVs, unit: vehicle, magnet_kg_per_unit: 1.5, grades: {{standard: 1.0}}, source: ev_magnet_kg}}
demand:
  CN: {{ev: {{units_per_year: 100000, source: asm_sector_split}}}}
  JP: {{ev: {{units_per_year: 100000, source: asm_sector_split}}}}
trade:
  suppliers:
    refinery:
      JP: {{shares: {{CN: 1.0}}, source: asm_trade_shares}}
prices:
  home_market: CN
  scarcity_of: orders
  initial_usd_per_kg: {{NdPr: 60, Dy: 250}}
  source: asm_grade_recipes
{expectations}events:
{events}"""
ANNOUNCED, START = "2025-10-01", "2026-01-06"
BAN = f"""\
  - type: export_ban
    exporter: CN
    importers: [JP]
    elements: [Dy]
    announced: {ANNOUNCED}
    start: {START}
"""
OUTAGE_START, OUTAGE_END = "2025-04-02", "2025-12-31"     # both a step's first day (the calendar's Wednesdays)
OUTAGE = f"""\
  - type: outage
    facility: cn_heavy
    start: {OUTAGE_START}
    end: {OUTAGE_END}
    share_lost: 0.8
"""
DY_LOST = 0.8 * 150 * 0.05 / (150 * 0.05)    # the heavy mine holds all of the world's Dy capacity: 0.8 of it lost


def prices(write, events: str, expectations: str | None = "{}", name: str = "s.yaml") -> pd.DataFrame:
    """Weekly price multiples of the world with ``events`` and ``prices.expectations`` (None: without), a
    column per (market, element)."""
    block = "" if expectations is None else f"  expectations: {expectations}\n"
    text = WORLD.format(expectations=block, events=events or "  []\n")
    table = run(load_scenario(write(text, name))).table("prices")
    return table.pivot_table(index="date", columns=["market", "element"], values="multiple")


def weeks(frame: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """The weeks from ``start`` up to, not including, ``end``."""
    return frame[(frame.index >= pd.Timestamp(start)) & (frame.index < pd.Timestamp(end))]


# ---------------------------------------------------------------- announced measures
def test_an_announced_ban_raises_the_outside_price_before_it_starts_and_leaves_the_home_price_alone(write):
    """From the week China announces a ban on Dy to Japan, the Dy price outside China stands well above its start
    until the ban starts; Chinese buyers, whom it does not cover, see no change, and NdPr moves nowhere."""
    news = prices(write, BAN)
    assert (weeks(news, "2025-01-01", ANNOUNCED).to_numpy() == 1.0).all()
    waiting = weeks(news, ANNOUNCED, START)
    assert (waiting[("outside", "Dy")] > 1.5).all()
    assert (waiting[("home", "Dy")] == 1.0).all()
    assert (waiting[[("home", "NdPr"), ("outside", "NdPr")]] == 1.0).all().all()


def test_when_the_ban_starts_the_orders_take_over_from_the_news_without_a_fall_back(write):
    """From its start the ban acts on Japan's orders, whose unmet share is a 4-week average; the news fades with
    memory_days meanwhile, so the outside Dy price never falls back towards its start in the quarter after."""
    news = prices(write, BAN)
    announced = weeks(news, ANNOUNCED, START)[("outside", "Dy")].iloc[-1]
    after = weeks(news, START, "2026-04-06")[("outside", "Dy")]
    assert after.min() > 0.8 * announced > 1.0


def test_without_expectations_nothing_moves_before_the_start(write):
    """The same announced ban without expectations: every price stays where it started until the ban starts,
    and only then does the outside Dy price rise, on orders Japan does not get."""
    plain = prices(write, BAN, expectations=None)
    assert (weeks(plain, "2025-01-01", START).to_numpy() == 1.0).all()
    assert plain[("outside", "Dy")].max() > 1.5


def test_the_announcement_weight_scales_what_the_news_counts_for(write):
    """With announced: 0.5 the outside Dy price rises on the announcement, but less than with the full weight."""
    full = weeks(prices(write, BAN, name="full.yaml"), ANNOUNCED, START)[("outside", "Dy")]
    half = weeks(prices(write, BAN, "{announced: 0.5}", name="half.yaml"), ANNOUNCED, START)[("outside", "Dy")]
    assert (1.0 < half).all() and (half < full).all()


# ---------------------------------------------------------------- supply losses
def test_a_mine_outage_raises_the_price_of_what_the_mine_supplies_before_any_order_goes_unmet(write):
    """In the week the heavy mine loses 80% of its capacity, the Dy price is 1 / (1 - 0.8) = 5 times its start in
    both markets (all the world's Dy comes from it), while without expectations, no order yet unmet, it has not
    moved; NdPr, which the mine does not hold, stays where it was."""
    news, plain = prices(write, OUTAGE, name="news.yaml"), prices(write, OUTAGE, None, name="plain.yaml")
    week = pd.Timestamp(OUTAGE_START)
    assert news.loc[week, ("home", "Dy")] == news.loc[week, ("outside", "Dy")] == pytest.approx(1 / (1 - DY_LOST))
    assert plain.loc[week, ("home", "Dy")] == plain.loc[week, ("outside", "Dy")] == 1.0
    assert (news.loc[:, (slice(None), "NdPr")] == plain.loc[:, (slice(None), "NdPr")]).all().all()
    assert (weeks(news, "2025-01-01", OUTAGE_START).to_numpy() == 1.0).all()


def test_expectations_fade_once_the_loss_is_realised(write):
    """The expectation of the loss falls by a factor e every 90 days: every week of the outage the Dy multiple is
    the larger of the realised one (the run without expectations) and 1 / (1 - 0.8 e^(-days since the loss / 90));
    late in the outage, once Dy orders go unmet, the realised one has taken over; with the capacity back, the
    news is over at once."""
    news, plain = prices(write, OUTAGE, name="news.yaml"), prices(write, OUTAGE, None, name="plain.yaml")
    during = weeks(news, OUTAGE_START, OUTAGE_END).index
    days = np.asarray((during - pd.Timestamp(OUTAGE_START)).days, dtype=float)
    expected = 1 / (1 - DY_LOST * np.exp(-days / 90.0))
    for market in ("home", "outside"):
        realised = plain.loc[during, (market, "Dy")].to_numpy()
        np.testing.assert_allclose(news.loc[during, (market, "Dy")], np.maximum(realised, expected), rtol=1e-12)
    late = during[days >= 180]
    realised = plain.loc[late, (slice(None), "Dy")]
    assert realised.max().max() > 1.2 and (news.loc[late, (slice(None), "Dy")] == realised).all().all()
    after = news.index >= pd.Timestamp(OUTAGE_END)
    assert (news.loc[after] == plain.loc[after]).all().all()


def test_a_refinery_capacity_cut_raises_the_price_of_every_element_it_separates(write):
    """Halving the only refinery's capacity halves the world's capacity to separate every element: in the week of
    the cut NdPr and Dy cost twice their start in both markets."""
    cut = """\
  - type: capacity_change
    facility: cn_ref
    date: 2025-04-02
    capacity_t: 1250
"""
    week = prices(write, cut).loc[pd.Timestamp("2025-04-02")]
    assert week.to_numpy() == pytest.approx(np.full(4, 2.0))


# ---------------------------------------------------------------- nothing changes without news
@pytest.mark.parametrize("expectations", ["{}", "{announced: 0, supply_loss: 0}"])
def test_without_news_or_with_no_weight_expectations_change_nothing(write, expectations):
    """A world with a ban that is never announced and no capacity change has no news: its prices are those of the
    run without expectations, bit for bit; with both weights 0, so are those of a world with both kinds of news."""
    events = BAN.replace(f"    announced: {ANNOUNCED}\n", "") if expectations == "{}" else BAN + OUTAGE
    with_, without = prices(write, events, expectations, "with.yaml"), prices(write, events, None, "without.yaml")
    pd.testing.assert_frame_equal(with_, without, check_exact=True)
    assert with_.to_numpy().max() > 1.5          # the ban itself still moves the outside price


# ---------------------------------------------------------------- bad input
def test_expectations_need_scarcity_of_orders_a_located_error(write):
    """Expectations are expected unmet orders: with scarcity of use alone they are refused at their key and line;
    with scarcity_of: orders the same record loads."""
    text = MINIMAL + "prices:\n  expectations: {memory_days: 60}\n"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(text, "use.yaml"))
    (p,) = caught.value.problems
    assert p.path == "prices.expectations" and "scarcity_of: orders" in p.message and "got scarcity_of: use" in p.message
    assert p.line == text.splitlines().index("  expectations: {memory_days: 60}") + 1
    good = load_scenario(write(MINIMAL + "prices:\n  scarcity_of: orders\n  expectations: {memory_days: 60}\n",
                               "orders.yaml"))
    assert good.prices.expectations.memory_days == 60 and good.prices.expectations.announced == 1.0
    assert load_scenario(write(MINIMAL, "none.yaml")).prices.expectations is None
