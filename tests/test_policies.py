"""Every policy lever, one behaviour each, on the baseline world over a short horizon.

Each test writes a small scenario extending the baseline with the lever under
test and compares it with the same world without it (or with another setting).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim import run
from sim.engine.simulation import Simulation
from sim.engine.trade import order_routes
from sim.kernels.clearing import routes
from sim.kernels.tagged import over_origin_share
from sim.scenario import load_scenario
from sim.stages import REFINERY

from .conftest import SCENARIOS

BASE = SCENARIOS / "baseline.yaml"
END = dt.date(2026, 12, 31)
JAPAN_BAN = """\
  - type: export_ban
    id: japan_ban
    exporter: CN
    importers: [JP]
    stages: [refinery, magnet]
    elements: [Sm, Gd, Tb, Dy, Lu, Sc, Y]
    start: 2025-01-06
    end_users: {users}
"""


@pytest.fixture(scope="module")
def baseline():
    return run(BASE, end=END)


def scenario(write, body: str, name: str = "s.yaml"):
    """A scenario file extending the baseline with ``body`` (YAML at the top level)."""
    return write(f"extends: {BASE}\nname: {name.removesuffix('.yaml')}\n{body}", name)


def flows(results, stage: str, exporter: str, importer: str | None = None, item: str | None = None,
          frequency: str = "year") -> pd.Series:
    f = results.table("flows", frequency)
    f = f[(f["stage"] == stage) & (f["exporter"] == exporter)]
    if importer:
        f = f[f["importer"] == importer]
    if item:
        f = f[f["item"] == item]
    return f.groupby("date")["t"].sum()


def at(series: pd.Series, date: str) -> float:
    return float(series.get(pd.Timestamp(date), 0.0))


def steps_of(series: pd.Series, year: int) -> float:
    """A step series summed over the steps whose first day is in ``year``: the steps a measure starting on
    1 January is in force for (the step of 30 Dec 2024 began before it; a calendar year holds 5 of its days)."""
    return float(series[series.index.year == year].sum())


def unmet(results, country: str, defence: bool | None = None, since: str = "2025-01-01") -> float:
    u = results.table("unmet", "month")
    u = u[(u["country"] == country) & (u["date"] >= since)]
    if defence is not None:
        u = u[(u["end_user"] == "defence") == defence]
    return float(u["unmet_t"].sum())


def production(results, stage: str, country: str, frequency: str = "month") -> pd.Series:
    p = results.table("production", frequency)
    return p[(p["stage"] == stage) & (p["country"] == country)].groupby("date")["t"].sum()


DY_ORIGIN_RULE = """\
  - type: origin_rule
    exporter: CN
    stages: [magnet]
    elements: [Dy]
    start: 2025-01-06
"""


def simulated(write, events: str) -> Simulation:
    """The baseline with ``events`` (items of a YAML list) run to the end of March 2025, its state kept."""
    sim = Simulation(load_scenario(scenario(write, "events:\n" + events)), end=dt.date(2025, 3, 31))
    sim.run()
    return sim


# ---------------------------------------------------------------- quotas and tariffs
def test_an_export_quota_caps_chinas_dy_oxide_exports_at_its_tonnage(write, baseline):
    free = steps_of(flows(baseline, "refinery", "CN", item="Dy", frequency="step"), 2025)
    quota = round(free * 0.5)
    path = scenario(write, f"""\
events:
  - type: export_quota
    exporter: CN
    stages: [refinery]
    elements: [Dy]
    t_per_year: {quota}
    start: 2025-01-01
""")
    capped = steps_of(flows(run(path, end=END), "refinery", "CN", item="Dy", frequency="step"), 2025)
    assert capped <= quota * 1.001
    assert capped > 0.9 * quota           # the allowance is used, not wasted


def test_a_quota_per_importer_limits_each_importer_separately(write, baseline):
    path = scenario(write, """\
events:
  - type: export_quota
    exporter: CN
    stages: [refinery]
    elements: [Dy]
    t_per_year: 20
    per_importer: true
    start: 2025-01-01
""")
    steps = run(path, end=END).table("flows")
    dy = steps[(steps["stage"] == "refinery") & (steps["exporter"] == "CN") & (steps["item"] == "Dy")
               & (steps["date"].dt.year == 2025)].groupby("importer")["t"].sum()    # the quota's steps
    assert (dy <= 20 * 1.001).all() and len(dy) >= 2
    assert dy.sum() > 20 * 1.5          # overall more than one importer's quota


def test_a_tariff_on_chinese_magnets_moves_us_imports_to_other_makers(write, baseline):
    path = scenario(write, """\
events:
  - type: tariff
    exporter: CN
    importers: [US]
    stages: [magnet]
    rate: 0.5
    start: 2025-01-01
""")
    tariffed = run(path, end=END)

    def china_share(results):
        f = results.table("flows", "year")
        f = f[(f["stage"] == "magnet") & (f["importer"] == "US") & (f["date"] == "2026-01-01")]
        return f.loc[f["exporter"] == "CN", "t"].sum() / f["t"].sum()
    assert china_share(tariffed) < china_share(baseline) - 0.05
    assert unmet(tariffed, "US") < 0.01 * unmet_demand_total(tariffed, "US")   # still supplied


def unmet_demand_total(results, country: str) -> float:
    u = results.table("unmet", "year")
    return float(u.loc[u["country"] == country, "demand_t"].sum())


# ---------------------------------------------------------------- origin rule
ORIGIN = """\
events:
  - type: origin_rule
    exporter: CN
    importers: [KR]
    stages: [magnet]
    elements: [Dy, Tb]
    threshold_share: {threshold}
    start: 2025-01-01
"""


def test_the_origin_rule_catches_japanese_magnets_made_from_chinese_oxide_bound_for_korea(write):
    results = run(scenario(write, ORIGIN.format(threshold=0.001)), end=dt.date(2025, 6, 30))
    lic = results.table("licences")
    from_japan = lic[(lic["exporter"] == "JP") & (lic["importer"] == "KR") & (lic["stage"] == "magnet")]
    assert (from_japan["outcome"] == "applied").any()
    assert not (lic["exporter"] == "CN").any()        # China's own exports are not what the rule covers


def test_the_origin_rule_spares_goods_below_its_threshold(write):
    results = run(scenario(write, ORIGIN.format(threshold=1.0)), end=dt.date(2025, 6, 30))
    assert results.table("licences").empty


@pytest.mark.parametrize("concentrate", [False, True])
def test_the_origin_share_is_read_as_the_rules_arithmetic_reads_it(concentrate):
    """The compiled origin share: a stock covered where one kind of origin (mined, refined) holds more than the
    threshold of its mass, the kind's rows added, a concentrate's elements together; an empty stock never."""
    rng = np.random.default_rng(7)
    tagged = rng.random((5, 9, 3)) * (rng.random((5, 9, 3)) < 0.6)
    tagged[:, 0] = tagged[:, 1:].sum(axis=1)
    tagged[2] = 0.0                                               # a country holding nothing
    rows = np.array([[1, 4], [6, 7]])                             # two kinds, two origin countries each
    stock = tagged.sum(axis=2, keepdims=True) if concentrate else tagged
    mass = stock[:, 0, :]
    share = np.zeros_like(mass)
    for kind in rows:
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.maximum(share, np.where(mass > 0, stock[:, kind, :].sum(axis=1) / np.where(mass > 0, mass, 1), 0))
    for threshold in (0.0, 0.2, 0.5):
        above = over_origin_share(tagged, rows, threshold, concentrate)
        assert np.array_equal(above, (share > threshold).astype(float))
        assert not above[2].any()


def test_re_exports_to_an_importer_the_origin_country_bans_are_refused(write):
    path = scenario(write, """\
events:
  - type: origin_rule
    exporter: CN
    stages: [refinery, magnet]
    elements: [Dy]
    approval: 1.0
    processing_days: 14
    start: 2025-01-01
  - type: export_ban
    exporter: CN
    importers: [JP]
    stages: [refinery, magnet]
    elements: [Dy]
    start: 2025-01-01
""")
    lic = run(path, end=dt.date(2025, 12, 31)).table("licences")
    to_japan = lic[(lic["importer"] == "JP") & (lic["exporter"] != "CN")]
    elsewhere = lic[(lic["importer"] != "JP") & (lic["exporter"] != "CN")]
    assert (to_japan["outcome"] == "refused").any() and not (to_japan["outcome"] == "approved").any()
    assert (elsewhere["outcome"] == "approved").any() and not (elsewhere["outcome"] == "refused").any()


def test_a_ban_coming_into_force_between_two_steps_refuses_the_re_exports_decided_after_it(write):
    """What the origin country's bans forbid is read once for the decisions between two steps, and read anew
    when a ban comes into or out of force between them."""
    sim = simulated(write, JAPAN_BAN.format(users="all") + DY_ORIGIN_RULE)
    ban, origin = sim.measures
    japan = sim.net.index("JP")
    share, refusing = origin.refusals("magnet", sim.measures, sim.state, sim.net)
    assert refusing[japan] and share[japan].any()
    before = share[japan].copy()
    ban.active = False                          # lifted, between two steps
    share, refusing = origin.refusals("magnet", sim.measures, sim.state, sim.net)
    assert not refusing[japan] and not share[japan].any()
    ban.active = True
    share, refusing = origin.refusals("magnet", sim.measures, sim.state, sim.net)
    assert refusing[japan] and np.array_equal(share[japan], before)


@pytest.mark.parametrize("users", ["all", "defence"])
def test_what_an_origin_countrys_ban_forbids_is_read_once_while_in_force_unless_it_reads_users_shares(write, users):
    """A ban on all users forbids the same every step it stays in force: read once for all of them. A ban on
    defence users forbids their share of each importer's use, which the next step may move: read anew."""
    sim = simulated(write, JAPAN_BAN.format(users=users) + DY_ORIGIN_RULE)
    _, origin = sim.measures
    japan = sim.net.index("JP")
    share, _ = origin.refusals("magnet", sim.measures, sim.state, sim.net)
    sim.state.k += 1
    sim.state.defence_share["magnet"][japan] = 0.5          # the next step's shares of use
    again, refusing = origin.refusals("magnet", sim.measures, sim.state, sim.net)
    assert refusing[japan]
    if users == "all":
        assert again is share
    else:
        assert again is not share and set(again[japan][again[japan] > 0]) == {0.5}


# ---------------------------------------------------------------- end users and rationing
def test_the_defence_only_reading_of_the_japan_ban_leaves_japan_far_less_short(write):
    all_users = run(scenario(write, "events:\n" + JAPAN_BAN.format(users="all"), "all.yaml"), end=END)
    defence = run(scenario(write, "events:\n" + JAPAN_BAN.format(users="defence"), "def.yaml"), end=END)
    assert unmet(all_users, "JP") > 0
    assert unmet(defence, "JP") < 0.2 * unmet(all_users, "JP")


def test_defence_first_rationing_spares_japans_defence_users(write):
    ban = "events:\n" + JAPAN_BAN.format(users="all")
    pro_rata = run(scenario(write, ban, "pro.yaml"), end=END)
    first = run(scenario(write, ban + "rationing: {by_country: {JP: defence_first}}\n", "first.yaml"), end=END)
    assert unmet(pro_rata, "JP", defence=True) > 0
    assert unmet(first, "JP", defence=True) < 0.5 * unmet(pro_rata, "JP", defence=True)
    assert unmet(first, "JP", defence=False) >= unmet(pro_rata, "JP", defence=False)


def test_a_ban_on_oxides_leaves_magnets_flowing_to_the_us():
    results = run(SCENARIOS / "us_raw_material.yaml", end=END)
    oxides = flows(results, "refinery", "CN", "US", frequency="quarter")
    magnets = flows(results, "magnet", "CN", "US", frequency="quarter")
    assert at(oxides, "2026-04-01") == 0 < at(oxides, "2025-04-01")
    assert at(magnets, "2026-04-01") > 0.8 * at(magnets, "2025-04-01")


# ---------------------------------------------------------------- time: suspension, announcement
def test_a_suspended_ban_lets_dy_flow_until_the_suspension_ends(write):
    path = scenario(write, "events:\n" + JAPAN_BAN.format(users="all") + """\
  - type: suspension
    measure: japan_ban
    start: 2025-04-01
    until: 2025-10-01
""")
    dy = flows(run(path, end=END), "refinery", "CN", "JP", "Dy", frequency="month")
    assert at(dy, "2025-02-01") == 0           # in force
    assert at(dy, "2025-06-01") > 0            # suspended
    assert at(dy, "2025-11-01") == 0           # in force again after the suspension's end


def test_a_second_suspension_extends_the_pause(write):
    path = scenario(write, "events:\n" + JAPAN_BAN.format(users="all") + """\
  - type: suspension
    measure: japan_ban
    start: 2025-04-01
    until: 2025-10-01
  - type: suspension
    measure: japan_ban
    start: 2025-10-01
    until: 2026-04-01
""")
    dy = flows(run(path, end=END), "refinery", "CN", "JP", "Dy", frequency="month")
    assert at(dy, "2025-11-01") > 0 and at(dy, "2026-06-01") == 0


def test_an_announced_ban_lets_japan_front_load_and_go_short_later(write):
    plain = "events:\n" + JAPAN_BAN.format(users="all")
    announced = plain + "    announced: 2024-10-01\n    front_load_days: 90\n"
    sudden = run(scenario(write, plain, "sudden.yaml"), end=END)
    warned = run(scenario(write, announced, "warned.yaml"), end=END)

    def magnet_stock(results):
        inv = results.table("inventory", "month")
        return inv[(inv["country"] == "JP") & (inv["stage"] == "magnet")].groupby("date")["t"].sum()
    assert at(magnet_stock(warned), "2024-12-01") > 1.3 * at(magnet_stock(sudden), "2024-12-01")
    assert first_short(warned, "JP") > first_short(sudden, "JP")


def first_short(results, country: str) -> pd.Timestamp:
    """First month in which the country misses more than 5% of its magnet demand."""
    u = results.table("unmet", "month")
    u = u[u["country"] == country].groupby("date")[["demand_t", "unmet_t"]].sum()
    return u.index[u["unmet_t"] > 0.05 * u["demand_t"]][0]


def test_a_measure_that_reads_nothing_of_the_state_covers_the_same_from_step_to_step(write):
    """A ban on all users covers the same shipments every step while it acts (made once, then shared); a ban on
    defence users reads the importers' shares of use and an origin rule the stocks, so theirs are made anew."""
    from sim.engine.measures import acting, coverage

    sim = simulated(write, JAPAN_BAN.format(users="all") + JAPAN_BAN.format(users="defence")
                    .replace("id: japan_ban", "id: defence_ban") + DY_ORIGIN_RULE)
    ban, defence, origin = sim.measures
    assert ban.active and defence.active and origin.active
    kept: dict = {}
    first = coverage([ban], "magnet", sim.state, sim.net, kept)
    assert coverage([ban], "magnet", sim.state, sim.net, kept) is first
    assert np.array_equal(first.blocked, ban.coverage("magnet", sim.state, sim.net)) and first.blocked.any()
    for reading in ([ban, defence], [origin]):
        a = coverage(reading, "magnet", sim.state, sim.net, kept)
        assert coverage(reading, "magnet", sim.state, sim.net, kept) is not a
    ban.active = False                         # lifted: nothing acts, nothing is covered
    assert not coverage(acting([ban]), "magnet", sim.state, sim.net, kept).blocked.any()


def test_a_measure_that_reads_nothing_of_the_state_works_out_its_share_once_beside_one_that_reads_it(write):
    """Acting beside an origin rule, whose coverage is made anew every step, a ban on all users still gives the
    share it gave first (and the most covered supplier of a licence too); the origin rule gives a new one."""
    from sim.engine.measures import coverage

    sim = simulated(write, JAPAN_BAN.format(users="all") + DY_ORIGIN_RULE)
    ban, origin = sim.measures
    shares = [(ban.covered("magnet", sim.state, sim.net), origin.covered("magnet", sim.state, sim.net))
              for _ in range(2)]
    assert shares[0][0] is shares[1][0] and np.array_equal(shares[0][0], ban.coverage("magnet", sim.state, sim.net))
    assert shares[0][1] is not shares[1][1] and np.array_equal(shares[0][1], shares[1][1])
    first, again = (coverage([ban, origin], "magnet", sim.state, sim.net, {}) for _ in range(2))
    assert first is not again and np.array_equal(first.blocked, again.blocked)
    assert np.array_equal(first.extra_days, again.extra_days)


def test_a_new_ban_stops_goods_still_awaiting_a_licence(write):
    path = scenario(write, """\
events:
  - type: export_licence
    exporter: CN
    importers: [JP]
    stages: [refinery]
    elements: [Dy]
    processing_days: 60
    start: 2025-01-01
  - type: export_ban
    exporter: CN
    importers: [JP]
    stages: [refinery]
    elements: [Dy]
    start: 2025-02-01
""")
    results = run(path, end=dt.date(2025, 9, 30))
    assert (results.table("licences")["outcome"] == "stopped awaiting licence").any()
    dy = flows(results, "refinery", "CN", "JP", "Dy", frequency="month")
    assert at(dy, "2025-03-01") == at(dy, "2025-04-01") == 0


# ---------------------------------------------------------------- stockpiles
def test_a_stockpile_built_by_a_date_holds_its_days_then(write):
    path = scenario(write, """\
stockpiles:
  KR:
    elements: [Dy, Tb]
    days: 60
    build_by: 2025-07-01
    source: Test fixture 2026
""")
    inv = run(path, end=END).table("inventory", "month")
    pile = inv[(inv["country"] == "KR") & (inv["item"] == "Dy") & (inv["stage"] == "stockpile")].set_index("date")
    assert at(pile["t"], "2024-01-01") < 0.1 * at(pile["t"], "2025-07-01")
    assert 45 <= at(pile["days_of_cover"], "2025-07-01") <= 75


def test_a_stockpile_buys_only_from_its_first_buying_date(write):
    path = scenario(write, """\
stockpiles:
  KR:
    elements: [Dy]
    days: 60
    build_from: 2025-01-01
    build_by: 2025-07-01
    source: Test fixture 2026
""")
    inv = run(path, end=END).table("inventory", "month")
    pile = inv[(inv["country"] == "KR") & (inv["stage"] == "stockpile")].groupby("date")["t"].sum()
    assert at(pile, "2024-12-01") == 0 < at(pile, "2025-03-01") < at(pile, "2025-07-01")


def test_a_stockpile_release_decision_releases_whatever_the_cover(write, baseline):
    path = scenario(write, """\
events:
  - type: stockpile_release
    country: JP
    start: 2025-01-01
    days_per_month: 10
""")
    def pile(results):
        inv = results.table("inventory", "month")
        return inv[(inv["country"] == "JP") & (inv["item"] == "Dy") & (inv["stage"] == "stockpile")].set_index(
            "date")["t"]
    released = pile(run(path, end=END))
    assert at(released, "2025-06-01") < 0.5 * at(pile(baseline), "2025-06-01")


# ---------------------------------------------------------------- capacity
def test_a_closure_stops_a_mine_and_an_outage_pauses_it(write, baseline):
    path = scenario(write, """\
events:
  - type: capacity_change
    facility: au_mount_weld
    date: 2025-01-01
    capacity_t: 0
  - type: outage
    facility: us_mountain_pass
    start: 2025-03-01
    end: 2025-06-01
    share_lost: 0.5
""")
    results = run(path, end=END)
    au, us, us0 = (production(results, "mine", "AU"), production(results, "mine", "US"),
                   production(baseline, "mine", "US"))
    assert at(au, "2024-06-01") > 0 and at(au, "2025-02-01") == 0
    assert at(us, "2025-04-01") == pytest.approx(0.5 * at(us0, "2025-04-01"), rel=0.05)
    assert at(us, "2025-08-01") == pytest.approx(at(us0, "2025-08-01"), rel=1e-6)


def test_a_capacity_addition_ramps_up_linearly(write, baseline):
    path = scenario(write, """\
events:
  - type: capacity_change
    facility: us_mountain_pass
    date: 2025-01-01
    capacity_t: 90000
    ramp_years: 1
""")
    us, us0 = production(run(path, end=END), "mine", "US", "year"), production(baseline, "mine", "US", "year")
    assert at(us, "2026-01-01") == pytest.approx(2 * at(us0, "2026-01-01"), rel=0.02)
    assert at(us0, "2025-01-01") * 1.3 < at(us, "2025-01-01") < at(us0, "2025-01-01") * 1.7


def test_an_offtake_agreement_makes_germany_buy_malaysian_ndpr_oxide(write, baseline):
    path = scenario(write, """\
events:
  - type: offtake
    buyer: DE
    seller: MY
    stage: refinery
    elements: [NdPr]
    share: 0.3
    start: 2025-07-01
""")
    f = run(path, end=END).table("flows", "quarter")
    ndpr = f[(f["stage"] == "refinery") & (f["importer"] == "DE") & (f["item"] == "NdPr")]
    by_source = ndpr.pivot_table(index="date", columns="exporter", values="t", aggfunc="sum").fillna(0.0)
    share = by_source.get("MY", 0.0) / by_source.sum(axis=1)
    assert at(share, "2025-01-01") < 0.1             # Germany's usual 5% from Malaysia
    assert 0.25 < at(share, "2026-04-01") < 0.35     # the agreed 30%


def test_an_offtake_with_a_seller_the_buyer_never_used_opens_that_route_for_trade(write):
    """Germany's NdPr oxide comes from China, Malaysia and Estonia; an offtake from the United States adds a route,
    and the routes trade clears along (found once, ``sim.engine.trade.order_routes``) are those of the order
    shares after it is signed."""
    path = scenario(write, """\
events:
  - type: offtake
    buyer: DE
    seller: US
    stage: refinery
    elements: [NdPr]
    share: 0.3
    start: 2025-07-01
""")
    simulation = Simulation(load_scenario(path), seed=0, end="2025-12-31")
    simulation.run()
    state, net = simulation.state, simulation.net
    first, supplier = order_routes(state, REFINERY)
    expected_first, expected_supplier = routes(state.order_shares[REFINERY])
    assert np.array_equal(first, expected_first)
    assert np.array_equal(supplier[:first[-1]], expected_supplier[:first[-1]])
    k = net.index("DE") * net.items(REFINERY) + net.elements.index("NdPr")
    assert net.index("US") in supplier[first[k]:first[k + 1]]


# ---------------------------------------------------------------- prices: shut-down and floors
SLUMP = """\
prices:
  home_market: null         # a world-wide slump: one world price
  surplus_elasticity: 3.0
facilities:
  mine:
    au_mount_weld: {{shuts_below_usd_per_kg: 50}}
events:
  - type: demand_shock
    start: 2025-01-01
    multiplier: 0.5
{floor}"""


def test_a_price_slump_idles_a_high_cost_mine_and_a_price_floor_keeps_it_running(write):
    floor = """\
  - type: price_floor
    countries: [AU]
    element: NdPr
    usd_per_kg: 60
    start: 2025-01-01
"""
    slump = run(scenario(write, SLUMP.format(floor=""), "slump.yaml"), end=END)
    floored = run(scenario(write, SLUMP.format(floor=floor), "floor.yaml"), end=END)
    prices = slump.table("prices", "month")
    ndpr = prices[prices["element"] == "NdPr"].set_index("date")["usd_per_kg"]
    assert at(ndpr, "2026-06-01") < 50 < at(ndpr, "2024-06-01")
    assert at(production(slump, "mine", "AU"), "2026-06-01") == 0
    assert at(production(floored, "mine", "AU"), "2026-06-01") > 0


def test_an_idled_mine_stays_idle_half_a_year_before_it_restarts():
    """Prices recover when high-cost mines idle; a mine restarts only after 26 weeks idle, not the next week."""
    results = run(SCENARIOS / "g7_no_floor.yaml", end=dt.date(2029, 12, 31))
    dates = pd.to_datetime(pd.Series(results.net.dates))
    weekly = production(results, "mine", "US", "step").reindex(dates, fill_value=0.0)
    idle = (weekly <= 1e-9).astype(int).to_numpy()
    spells, length = [], 0
    for flag in idle:
        if flag:
            length += 1
        elif length:
            spells.append(length)
            length = 0
    assert spells, "the slump should idle the US mine at least once and let it restart"
    assert min(spells) >= 26


# ---------------------------------------------------------------- recycling, demand, substitution
def test_recycling_returns_a_growing_capped_share_of_magnet_demand_as_oxide(write):
    path = scenario(write, """\
events:
  - type: recycling
    countries: [JP]
    start: 2025-01-01
    share: 0.02
    growth_per_year: 1.0
    max_share: 0.03
""")
    results = run(path, end=END)
    recycled = production(results, "recycling", "JP", "year")
    assert at(recycled, "2024-01-01") == 0 < at(recycled, "2025-01-01") < at(recycled, "2026-01-01")
    assert at(recycled, "2026-01-01") <= 1.5 * at(recycled, "2025-01-01") * 1.01    # capped at 3% from 2%


def test_demand_growth_compounds_and_a_shock_multiplies_in_its_window(write, baseline):
    path = scenario(write, """\
events:
  - type: demand_growth
    sectors: [ev]
    start: 2025-01-01
    growth_per_year: 0.2
  - type: demand_shock
    countries: [DE]
    sectors: [wind_offshore]
    start: 2025-01-01
    end: 2026-01-01
    multiplier: 2.0
""")
    grown, base = run(path, end=END).table("unmet"), baseline.table("unmet")

    def demand(table, sector, country, year):
        """Over the steps whose first day is in ``year``: the window's steps, as the engine applies it."""
        t = table[(table["sector"] == sector) & (table["country"] == country)
                  & (table["date"].dt.year == int(year[:4]))]
        return float(t["demand_t"].sum())
    ratio = demand(grown, "ev", "CN", "2026-01-01") / demand(base, "ev", "CN", "2026-01-01")
    assert 1.2 < ratio < 1.44
    assert demand(grown, "wind_offshore", "DE", "2025-01-01") == pytest.approx(
        2 * demand(base, "wind_offshore", "DE", "2025-01-01"), rel=0.01)
    assert demand(grown, "wind_offshore", "DE", "2026-01-01") == pytest.approx(
        demand(base, "wind_offshore", "DE", "2026-01-01"), rel=1e-6)


SUBSTITUTION = """\
magnet_grades:
  gbd_lean:
    name: Dy-lean high-temperature grade by grain-boundary diffusion
    recipe: {{NdPr: 0.30, Dy: 0.005, Tb: 0.002}}
    source: Test fixture 2026
events:
  - type: export_ban
    exporter: CN
    stages: [refinery, magnet]
    elements: [Dy]
    start: 2025-01-06
  - type: substitution
    sectors: [ev]
    from_grade: high_temp
    to_grade: {to}
    element: Dy
    price_above_usd_per_kg: 270
    delay_days: 90
    max_share_per_year: 0.5
"""


def test_a_dy_price_spike_moves_ev_makers_to_dy_lean_magnets_at_a_limited_speed(write):
    results = run(scenario(write, SUBSTITUTION.format(to="gbd_lean")), end=END)
    made = results.table("magnet_output", "year")
    lean = made[made["grade"] == "gbd_lean"].groupby("date")["made_t"].sum()
    hot = made[made["grade"] == "high_temp"].groupby("date")["made_t"].sum()
    assert at(lean, "2024-01-01") == 0 < at(lean, "2025-01-01")
    # at most half the EV demand a year moves: high_temp is still made in 2025
    assert at(hot, "2025-01-01") > at(lean, "2025-01-01")


def test_substitution_by_ferrite_takes_demand_out_of_rare_earth_magnets(write):
    ferrite = run(scenario(write, SUBSTITUTION.format(to="ferrite"), "ferrite.yaml"), end=END)
    lean = run(scenario(write, SUBSTITUTION.format(to="gbd_lean"), "lean.yaml"), end=END)

    def made(results):
        t = results.table("magnet_output", "year")
        return t[t["date"] == "2026-01-01"]["made_t"].sum()
    assert made(ferrite) < made(lean)
