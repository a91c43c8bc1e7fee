"""The baseline's mine -> refinery -> magnet -> end-use network in SupplyNetPy, timed side by side with ours.

    python benchmarks/bench_supplynetpy.py [--repeats 3] [--variant daily|weekly|both]

Needs SupplyNetPy (``pip install -e '.[bench]'``, i.e. ``supplynetpy==0.5.1``).
Builds, from ``scenarios/baseline.yaml`` as this project loads it (facilities,
capacities, countries, supplier shares, lead times and demand are read from the
loaded scenario and its ``Network``; nothing is hard-coded), the equivalent
network in SupplyNetPy, then times in one process, median of ``--repeats``:

- ours: ``Simulation(scenario, seed=0).run()`` (constructor included, as in
  ``bench_run.py``): the one-year spin-up plus the ten-year calendar;
- SupplyNetPy: building the network plus ``simulate_sc_net`` over the same
  number of days (one SupplyNetPy time unit = one day), logging off.

and prints a table (nodes, links, simulated days, wall and CPU seconds,
simulated days/s, ratio to ours) and a work check: magnets demanded and delivered, concentrate mined,
in both models over the calendar (the spin-up excluded), so that neither side
is timed doing nothing.

The SupplyNetPy network
-----------------------
- one ``Supplier`` per mine (its own raw material, concentrate in t REO),
  mining its nameplate t/day (every day, or every 7 days in the weekly
  variant) until its yard is full;
- one ``Manufacturer`` per separation plant making oxide (t REO) from the
  concentrate of the mines its country buys from, in the scenario's supplier
  shares (each country's share split between its mines by expected output);
  t oxide per t feed is the recovery of the feed's composition; at most its
  nameplate feed per day;
- one ``Manufacturer`` per magnet plant making magnets (t) from the oxide of the
  refineries its country buys from; t oxide per t magnet is the recipe REO of
  the world's grade mix over the plant's material yield;
- one ``InventoryNode`` per country with magnet demand (its magnet stock),
  ordering from the magnet plants of its supplier countries in their shares;
- one ``Demand`` per country x end use (sector) at that country's stock, its
  daily baseline demand in t magnet, and one ``Demand`` ("other uses") per
  refinery for the oxide magnets do not take, so that mines and refineries
  run at their expected output as in our model;
- links along the chain with the scenario's lead times (``trade.routes``,
  ``lead_time_days``; 0 at home);
- (s, S) ordering reviewed every ``calendar.step_days``: order up to
  (working-stock days + lead time + review period) of expected use.

The plan behind it is the baseline as steady daily flows: end-use demand,
pulled up the chain through the supplier shares. Where those shares would
load a plant beyond 95% of its nameplate (Vietnam's separation and magnet
plants), the excess share moves to the buyer's other suppliers (our model
re-sources instead); refineries' "other uses" are cut where their mines
could not feed them at 95%. So SupplyNetPy mines about 5% less than ours.

A country that buys a stage's product from a country with no plant of that
stage (Korea's and the US's oxide "from Japan") buys, in SupplyNetPy, from
that country's own suppliers: re-exports become direct flows. Facilities no
flow reaches (the two magnet plants of US and Estonia, whose countries' magnets
nobody buys in the baseline's shares) are left out and listed.

What differs (read the ratio with this in mind)
-----------------------------------------------
- Our model carries 11 elements and 3 magnet grades through every stage, with
  provenance tags, prices, export measures, licences, stockpiles, contracts,
  re-sourcing and a mass-balance check each step; SupplyNetPy has one product
  per node (oxide is undifferentiated REO: the element balance, e.g. that
  magnets need NdPr and Dy rather than La and Ce, is not enforced), no
  provenance, no prices that respond, no policies.
- Our model steps weekly (a vectorised step over countries); SupplyNetPy is
  event-driven. In the ``daily`` variant demand, mining and production happen
  every day (ordering is reviewed weekly, as ours); in ``weekly`` every 7 days,
  i.e. at our model's resolution. Its run time scales with the number of
  events, ours with the number of steps.
- Trade: our model ships each step from every supplier country in
  proportion (with contracts, caps and re-sourcing); here each node orders
  from its suppliers in the same fixed proportions (a manufacturer needs all
  its inputs in recipe proportions, as SupplyNetPy's Manufacturer does).
- SupplyNetPy's ``Manufacturer`` buys only from raw-material suppliers; to
  chain refinery -> magnet plant, each refinery is given the ``raw_material``
  attribute a supplier has (the oxide it sells), and the country stocks use a
  small replenishment policy (``SplitOrderUpTo``, a subclass of SupplyNetPy's
  ``InventoryReplenishment``) that splits each order between its suppliers.
- Capacities and rates are averages over the calendar (three plants start in
  2025); our model follows the ramps step by step.
- Our side uses NumPy; SupplyNetPy is pure Python on SimPy. Both run in this
  one interpreter.
"""
from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPPLYNETPY_VERSION = "0.5.1"

try:
    import simpy
    import SupplyNetPy.Components as scm
except ImportError:
    sys.exit(f"bench_supplynetpy.py needs SupplyNetPy: pip install -e '.[bench]' "
             f"(or pip install supplynetpy=={SUPPLYNETPY_VERSION})")

import numpy as np

from sim import Simulation, load_scenario
from sim.engine.simulation import SPIN_UP_DAYS
from sim.scenario import realise
from sim.world import build_network

STAGES = ("mine", "refinery", "magnet")
HEADROOM = 0.95          # the plan loads a facility to at most this share of its nameplate


# ---------------------------------------------------------------- the plan: who buys what from whom, t/day
def effective_shares(shares: np.ndarray, makers: np.ndarray) -> np.ndarray:
    """[B, J] supplier shares in which a supplier country without plants of the stage (a re-exporter) is
    replaced by its own foreign suppliers; rows renormalised to 1 (0 where nothing can be bought)."""
    eff = shares.copy()
    for _ in range(len(makers)):
        if not (eff[:, ~makers] > 0).any():
            break
        for j in np.flatnonzero(~makers):
            via = eff[:, j].copy()
            if not via.any():
                continue
            eff[:, j] = 0.0
            own = shares[j].copy()
            own[j] = 0.0
            if own.sum() > 0:
                eff += np.outer(via, own / own.sum())
    eff[:, ~makers] = 0.0
    total = eff.sum(axis=1, keepdims=True)
    return np.divide(eff, total, out=np.zeros_like(eff), where=total > 0)


def within_capacity(shares: np.ndarray, use: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """[B, F] shares of buyers using ``use`` [B] per day, moved off facilities loaded beyond ``capacity`` [F] to
    each buyer's other suppliers in proportion (the re-sourcing our model does; SupplyNetPy's shares are fixed)."""
    shares = shares.copy()
    for _ in range(50):
        load = use @ shares
        over = load > capacity * (1 + 1e-9)
        if not over.any():
            break
        before = shares.sum(axis=1)
        shares[:, over] *= capacity[over] / load[over]
        free = shares * ~over
        missing = before - shares.sum(axis=1)
        spare = free.sum(axis=1)
        shares += np.divide(free * missing[:, None], spare[:, None], out=np.zeros_like(free),
                            where=spare[:, None] > 0)
    return shares


@dataclass
class Plan:
    """The baseline as steady flows between facilities (t/day, calendar averages)."""

    net: object
    spin_days: int
    calendar_days: int
    mine_ids: tuple
    ref_ids: tuple
    mag_ids: tuple
    mine_nameplate: np.ndarray   # [Mi] t concentrate (REO)/day
    ref_nameplate: np.ndarray    # [R] t feed/day
    mag_nameplate: np.ndarray    # [P] t magnet/day
    demand_cs: np.ndarray        # [C, S] t magnet/day
    pi: np.ndarray               # [C, P] share of country c's magnets from plant p
    rho: np.ndarray              # [P, R] share of plant p's oxide from refinery r
    sigma: np.ndarray            # [R, Mi] share of refinery r's feed from mine m
    oxide_per_magnet: np.ndarray  # [P] t oxide per t magnet
    ref_yield: np.ndarray        # [R] t oxide per t feed
    magnets: np.ndarray          # [P] t magnet/day made
    oxide: np.ndarray            # [R] t oxide/day made (magnet plants + other uses)
    other_uses: np.ndarray       # [R] t oxide/day not taken by magnet plants
    mined: np.ndarray            # [Mi] t/day drawn from each mine
    target_days: dict            # stage -> [C] working stock, days

    @property
    def countries(self):
        return self.net.countries


def make_plan(scenario) -> Plan:
    world = realise(scenario, None)          # distributions at their central values (the baseline has none)
    net = build_network(world)
    C = net.n_countries
    groups = {"mine": net.mines, "refinery": net.refineries, "magnet": net.magnet_plants}
    rate = {s: groups[s].rate_t_per_day.mean(axis=0) for s in STAGES}          # expected output
    nameplate = {s: groups[s].nameplate_t_per_day.mean(axis=0) for s in STAGES}  # the most it can make

    def to_facilities(stage: str, country_shares: np.ndarray) -> np.ndarray:
        """[B, C] shares by supplier country -> [B, F] by facility (split within a country by expected output)."""
        fa, r = groups[stage], rate[stage]
        total = np.bincount(fa.country, weights=r, minlength=C)[fa.country]
        within = np.divide(r, total, out=np.zeros_like(r), where=total > 0)
        return country_shares[:, fa.country] * within

    makers = {s: np.bincount(groups[s].country, weights=rate[s], minlength=C) > 0 for s in STAGES}
    eff = {s: effective_shares(net.supplier_shares[s], makers[s]) for s in STAGES}

    # plans load plants to at most HEADROOM of nameplate, so that SupplyNetPy's nodes have some slack
    demand_cs = net.demand_units_per_day.mean(axis=0) * net.magnet_kg_per_unit / 1000.0   # [C, S] t magnet/day
    pi = within_capacity(to_facilities("magnet", eff["magnet"]), demand_cs.sum(axis=1),
                         HEADROOM * nameplate["magnet"])                                 # [C, P]
    magnets = demand_cs.sum(axis=1) @ pi                                                 # [P]
    grade_mix = demand_cs.sum(axis=0) @ net.sector_grades
    grade_mix = grade_mix / grade_mix.sum()
    oxide_per_magnet = float(grade_mix @ net.recipe.sum(axis=1)) / net.material_yield   # [P]
    sigma = to_facilities("mine", eff["mine"][net.refineries.country])                   # [R, Mi]
    ref_yield = ((sigma @ net.composition) * net.recovery).sum(axis=1)                   # [R]
    rho = within_capacity(to_facilities("refinery", eff["refinery"][net.magnet_plants.country]),
                          magnets * oxide_per_magnet, HEADROOM * nameplate["refinery"] * ref_yield)  # [P, R]
    for_magnets = (magnets * oxide_per_magnet) @ rho                                     # [R]
    starved = [net.refineries.ids[r] for r in np.flatnonzero((for_magnets > 0) & (ref_yield <= 0))]
    if starved:
        raise SystemExit(f"refineries {starved} supply magnet plants but have no mine to buy from")
    # the rest of a refinery's expected output goes to other uses, as far as its mines can feed it
    other_uses = np.where(ref_yield > 0, np.maximum(rate["refinery"] * ref_yield - for_magnets, 0.0), 0.0)
    mine_cap = HEADROOM * nameplate["mine"]
    for _ in range(100):
        feed = np.divide(for_magnets + other_uses, ref_yield, out=np.zeros_like(other_uses), where=ref_yield > 0)
        load = np.divide(feed @ sigma, mine_cap, out=np.zeros_like(mine_cap), where=mine_cap > 0)
        if load.max() <= 1 + 1e-9:
            break
        worst = np.where(sigma > 0, load[None, :], 0.0).max(axis=1)            # [R] most loaded of its mines
        cut = worst > 1
        other_uses[cut] = np.maximum(feed[cut] / worst[cut] * ref_yield[cut] - for_magnets[cut], 0.0)
    oxide = for_magnets + other_uses
    feed = np.divide(oxide, ref_yield, out=np.zeros_like(oxide), where=ref_yield > 0)
    mined = feed @ sigma
    if (mined > mine_cap * 1.001).any():
        raise SystemExit("magnet plants alone need more concentrate than the mines can give")

    step = scenario.calendar.step_days
    return Plan(net=net, spin_days=math.ceil(SPIN_UP_DAYS / step) * step, calendar_days=len(net.dates) * step,
                mine_ids=net.mines.ids, ref_ids=net.refineries.ids, mag_ids=net.magnet_plants.ids,
                mine_nameplate=nameplate["mine"], ref_nameplate=nameplate["refinery"],
                mag_nameplate=nameplate["magnet"], demand_cs=demand_cs, pi=pi, rho=rho, sigma=sigma,
                oxide_per_magnet=oxide_per_magnet, ref_yield=ref_yield, magnets=magnets, oxide=oxide,
                other_uses=other_uses, mined=mined, target_days=net.target_days)


# ---------------------------------------------------------------- the SupplyNetPy model
class SplitOrderUpTo(scm.InventoryReplenishment):
    """(s, S) reviewed every ``period``: orders S - position, split between the node's suppliers in ``shares``
    (by supplier ID). SupplyNetPy's own policies send a whole order to one supplier."""

    _param_keys = ("s", "S", "period", "shares")

    def run(self):
        s, S, period, shares = (self.params[k] for k in self._param_keys)
        while True:
            position = self.node.position()
            if position <= s:
                quantity = S - position
                for link in self.node.suppliers:
                    share = shares.get(link.source.ID, 0.0)
                    if share > 0 and link.can_take_order():
                        self.env.process(self.node.process_order(link, quantity * share))
            yield self.env.timeout(period)


@dataclass
class SnpModel:
    network: dict
    end_uses: list          # Demand nodes of countries x sectors
    other_uses: list        # Demand nodes of refineries
    mines: list             # Supplier nodes
    omitted: list           # facilities no flow reaches
    at_calendar_start: dict


def order_levels(use: float, days_of_stock: float, lead: float, review: float) -> tuple[float, float]:
    """(s, S) for a node using ``use`` per day: order up to working stock + lead time + one review of use."""
    S = use * (days_of_stock + lead + review)
    return S - 0.5 * use * review, S


def build_supplynetpy(plan: Plan, dt: float, review: float) -> SnpModel:
    """The plan as a SupplyNetPy network; demand, mining and production every ``dt`` days."""
    net, env = plan.net, simpy.Environment()
    countries, lead = net.countries, net.lead_days
    mine_c, ref_c, mag_c = net.mines.country, net.refineries.country, net.magnet_plants.country
    tau = {s: plan.target_days[s] for s in STAGES}
    quiet = {"logging": False}
    nodes, links, omitted = [], [], []

    def link(src, dst, days):
        links.append(scm.Link(env=env, ID=f"{src.ID}->{dst.ID}", source=src, sink=dst, cost=0.0,
                              lead_time=float(days)))

    # downstream first: each node's order sizes bound the capacity of the nodes that supply it
    buyers = [c for c in range(len(countries)) if plan.demand_cs[c].sum() > 0 and plan.pi[c].sum() > 0]
    dist_S = {}
    for c in buyers:
        use = plan.demand_cs[c].sum()
        L = max(lead[mag_c[p], c] for p in np.flatnonzero(plan.pi[c]))
        dist_S[c] = order_levels(use, tau["magnet"][c], L, review)
    mag_active = [p for p in range(len(plan.mag_ids)) if plan.magnets[p] > 0]
    omitted += [plan.mag_ids[p] for p in range(len(plan.mag_ids)) if p not in mag_active]
    mag_S = {}
    for p in mag_active:
        L = max(lead[ref_c[r], mag_c[p]] for r in np.flatnonzero(plan.rho[p])) + dt
        mag_S[p] = order_levels(plan.magnets[p], tau["magnet"][mag_c[p]], L, review)
    ref_active = [r for r in range(len(plan.ref_ids)) if plan.oxide[r] > 0]
    omitted += [plan.ref_ids[r] for r in range(len(plan.ref_ids)) if r not in ref_active]
    ref_S = {}
    for r in ref_active:
        L = max(lead[mine_c[m], ref_c[r]] for m in np.flatnonzero(plan.sigma[r])) + dt
        ref_S[r] = order_levels(plan.oxide[r], tau["refinery"][ref_c[r]], L, review)
    mine_active = [m for m in range(len(plan.mine_ids)) if plan.mined[m] > 0]
    omitted += [plan.mine_ids[m] for m in range(len(plan.mine_ids)) if m not in mine_active]

    # mines
    mine_node, concentrate = {}, {}
    for m in mine_active:
        biggest = sum(ref_S[r][1] * plan.sigma[r, m] / plan.ref_yield[r] for r in ref_active)
        capacity = 2.0 * biggest + plan.mine_nameplate[m] * dt
        concentrate[m] = scm.RawMaterial(ID=f"conc_{plan.mine_ids[m]}", name=f"concentrate of {plan.mine_ids[m]}",
                                         extraction_quantity=plan.mine_nameplate[m] * dt, extraction_time=dt,
                                         mining_cost=1.0, cost=1.0)
        mine_node[m] = scm.Supplier(env=env, ID=plan.mine_ids[m], name=plan.mine_ids[m], node_type="supplier",
                                    capacity=capacity, initial_level=0.5 * capacity, raw_material=concentrate[m],
                                    **quiet)
        nodes.append(mine_node[m])

    # refineries: oxide from concentrate; each also sells its oxide to magnet plants as a raw material
    ref_node, oxide = {}, {}
    for r in ref_active:
        feeds = [(concentrate[m], plan.sigma[r, m] / plan.ref_yield[r]) for m in np.flatnonzero(plan.sigma[r])]
        product = scm.Product(ID=f"oxide_{plan.ref_ids[r]}", name="oxide (t REO)", manufacturing_cost=1.0,
                              manufacturing_time=dt, sell_price=1.0, raw_materials=feeds,
                              batch_size=plan.ref_nameplate[r] * plan.ref_yield[r] * dt)
        s, S = ref_S[r]
        to_plants = sum(mag_S[p][1] * plan.oxide_per_magnet[p] * plan.rho[p, r] for p in mag_active)
        node = scm.Manufacturer(env=env, ID=plan.ref_ids[r], name=plan.ref_ids[r], capacity=4.0 * (S + to_plants),
                                initial_level=tau["refinery"][ref_c[r]] * plan.oxide[r], inventory_holding_cost=0.0,
                                product_sell_price=1.0, replenishment_policy=scm.SSReplenishment,
                                policy_param={"s": s, "S": S, "period": review}, product=product, **quiet)
        oxide[r] = scm.RawMaterial(ID=f"oxide_{plan.ref_ids[r]}", name=f"oxide of {plan.ref_ids[r]}",
                                   extraction_quantity=1.0, extraction_time=1.0, mining_cost=1.0, cost=1.0)
        node.raw_material = oxide[r]      # what a Manufacturer reads of its suppliers
        ref_node[r] = node
        nodes.append(node)
        for m in np.flatnonzero(plan.sigma[r]):
            link(mine_node[m], node, lead[mine_c[m], ref_c[r]])

    # magnet plants
    mag_node = {}
    for p in mag_active:
        inputs = [(oxide[r], plan.oxide_per_magnet[p] * plan.rho[p, r]) for r in np.flatnonzero(plan.rho[p])]
        product = scm.Product(ID=f"magnet_{plan.mag_ids[p]}", name="NdFeB/SmCo magnet (t)", manufacturing_cost=1.0,
                              manufacturing_time=dt, sell_price=1.0, raw_materials=inputs,
                              batch_size=plan.mag_nameplate[p] * dt)
        s, S = mag_S[p]
        to_countries = sum(dist_S[c][1] * plan.pi[c, p] for c in buyers)
        node = scm.Manufacturer(env=env, ID=plan.mag_ids[p], name=plan.mag_ids[p], capacity=4.0 * (S + to_countries),
                                initial_level=tau["magnet"][mag_c[p]] * plan.magnets[p], inventory_holding_cost=0.0,
                                product_sell_price=1.0, replenishment_policy=scm.SSReplenishment,
                                policy_param={"s": s, "S": S, "period": review}, product=product, **quiet)
        mag_node[p] = node
        nodes.append(node)
        for r in np.flatnonzero(plan.rho[p]):
            link(ref_node[r], node, lead[ref_c[r], mag_c[p]])

    # country magnet stocks and their end uses
    end_uses = []
    for c in buyers:
        s, S = dist_S[c]
        shares = {plan.mag_ids[p]: float(plan.pi[c, p]) for p in np.flatnonzero(plan.pi[c])}
        node = scm.InventoryNode(env=env, ID=f"{countries[c]}_magnets", name=f"magnet stock of {countries[c]}",
                                 node_type="distributor", capacity=4.0 * S,
                                 initial_level=tau["magnet"][c] * plan.demand_cs[c].sum(), inventory_holding_cost=0.0,
                                 replenishment_policy=SplitOrderUpTo,
                                 policy_param={"s": s, "S": S, "period": review, "shares": shares},
                                 product_sell_price=1.0, product_buy_price=1.0, **quiet)
        nodes.append(node)
        for p in np.flatnonzero(plan.pi[c]):
            link(mag_node[p], node, lead[mag_c[p], c])
        for k, sector in enumerate(net.sectors):
            if plan.demand_cs[c, k] > 0:
                end_uses.append(scm.Demand(env=env, ID=f"{countries[c]}_{sector}", name=f"{countries[c]} {sector}",
                                           order_arrival_model=dt, order_quantity_model=plan.demand_cs[c, k] * dt,
                                           demand_node=node, consume_available=True, **quiet))
    other_uses = [scm.Demand(env=env, ID=f"{plan.ref_ids[r]}_other_uses", name="oxide not used in magnets",
                             order_arrival_model=dt, order_quantity_model=plan.other_uses[r] * dt,
                             demand_node=ref_node[r], consume_available=True, **quiet)
                  for r in ref_active if plan.other_uses[r] > 0]

    network = scm.create_sc_net(nodes=nodes, links=links, demands=end_uses + other_uses, env=env)
    model = SnpModel(network, end_uses, other_uses, [mine_node[m] for m in mine_active], omitted, {})

    def snapshot():                     # totals at the calendar's start, to report the calendar alone
        yield env.timeout(plan.spin_days)
        model.at_calendar_start.update(totals(model))
    env.process(snapshot())
    return model


def totals(model: SnpModel) -> dict:
    return {"magnets_demanded": sum(d.stats.demand_placed[1] for d in model.end_uses),
            "magnets_delivered": sum(d.stats.fulfillment_received[1] for d in model.end_uses),
            "other_demanded": sum(d.stats.demand_placed[1] for d in model.other_uses),
            "other_delivered": sum(d.stats.fulfillment_received[1] for d in model.other_uses),
            "mined": sum(s.stats.total_raw_materials_mined for s in model.mines)}


# ---------------------------------------------------------------- timing
@dataclass
class Timing:
    build: float    # median wall seconds building the model
    wall: float     # median wall seconds, build + run
    cpu: float      # median CPU seconds of this process, build + run (steadier on a busy machine)


def median_run(fn, repeats: int):
    """Medians over ``repeats`` calls of ``fn() -> result`` timed as (build, run) by ``fn`` itself."""
    builds, walls, cpus, result = [], [], [], None
    for _ in range(repeats):
        gc.collect()
        c0 = time.process_time()
        build, run, result = fn()
        cpus.append(time.process_time() - c0)
        builds.append(build)
        walls.append(build + run)
    return Timing(statistics.median(builds), statistics.median(walls), statistics.median(cpus)), result


def run_ours(scenario):
    t0 = time.perf_counter()
    simulation = Simulation(scenario, seed=0)
    t1 = time.perf_counter()
    results = simulation.run()
    return t1 - t0, time.perf_counter() - t1, results


def run_supplynetpy(plan: Plan, dt: float, review: float):
    scm.set_seed(0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # capacities are sized above every order (see build_supplynetpy); the library's static check compares
        # a supplier's capacity with its buyer's whole capacity and would warn for every mine
        warnings.filterwarnings("ignore", message="Supplier .* can hold at most", category=UserWarning)
        model = build_supplynetpy(plan, dt, review)
    t1 = time.perf_counter()
    scm.simulate_sc_net(model.network, plan.spin_days + plan.calendar_days, logging=False)
    return t1 - t0, time.perf_counter() - t1, model


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variant", choices=("daily", "weekly", "both"), default="both",
                        help="SupplyNetPy demand/mining/production every day, every 7 days, or both (default)")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    args = parser.parse_args(argv)

    scenario = load_scenario(args.scenario)
    plan = make_plan(scenario)
    step = scenario.calendar.step_days
    days = plan.spin_days + plan.calendar_days
    variants = {"daily": 1.0, "weekly": float(step)}
    chosen = list(variants) if args.variant == "both" else [args.variant]

    ours, results = median_run(lambda: run_ours(scenario), args.repeats)
    net = results.net
    facilities = len(net.mines.ids) + len(net.refineries.ids) + len(net.magnet_plants.ids)
    demands = int((net.demand_units_per_day[0] > 0).sum())
    trade = int(sum((net.supplier_shares[s] * (1 - np.eye(net.n_countries)) > 0).sum() for s in STAGES))
    rows = [("ours (weekly steps)", f"{facilities}+{net.n_countries}", str(trade), demands, ours)]
    snp = {}
    for name in chosen:
        timing, model = median_run(lambda dt=variants[name]: run_supplynetpy(plan, dt, float(step)), args.repeats)
        snp[name] = model
        rows.append((f"SupplyNetPy {SUPPLYNETPY_VERSION} ({name})", str(len(model.network["nodes"])),
                     str(len(model.network["links"])), len(model.network["demands"]), timing))

    print(f"{scenario.name}: {days:,} simulated days ({plan.spin_days} spin-up + {plan.calendar_days} calendar), "
          f"median of {args.repeats}; Python {sys.version.split()[0]}, SimPy {simpy.__version__}, "
          f"NumPy {np.__version__}")
    print(f"{'model':28} {'nodes':>6} {'links':>6} {'demands':>7} {'wall s':>7} {'cpu s':>7} {'days/s':>7} "
          f"{'x ours (wall)':>13} {'x ours (cpu)':>12}")
    for label, n, links, d, t in rows:
        print(f"{label:28} {n:>6} {links:>6} {d:>7} {t.wall:7.2f} {t.cpu:7.2f} {days / t.wall:7,.0f} "
              f"{t.wall / ours.wall:13.1f} {t.cpu / ours.cpu:12.1f}")
    print(f"  wall and cpu: build + run (build: ours {ours.build:.2f} s, the Simulation constructor; SupplyNetPy "
          f"{', '.join(f'{r[4].build:.2f} s' for r in rows[1:]) or '-'}); days/s on wall time. Ours: nodes = "
          f"facilities + country stocks, links = foreign supplier countries with a share, all stages.")

    raw = results.raw
    print("work over the calendar (spin-up excluded):")
    print(f"  ours                  magnets demanded {raw.demand.sum() / 1e3:7.1f} kt, supplied "
          f"{raw.supplied.sum() / 1e3:7.1f} kt; mined {raw.mined.sum() / 1e3:7.1f} kt REO")
    for name, model in snp.items():
        end = totals(model)
        cal = {k: end[k] - model.at_calendar_start.get(k, 0.0) for k in end}
        print(f"  SupplyNetPy ({name + ')':7}    magnets demanded {cal['magnets_demanded'] / 1e3:7.1f} kt, delivered "
              f"{cal['magnets_delivered'] / 1e3:7.1f} kt; mined {cal['mined'] / 1e3:7.1f} kt REO; oxide to other "
              f"uses {cal['other_delivered'] / 1e3:.1f} of {cal['other_demanded'] / 1e3:.1f} kt")
    if snp:
        model = next(iter(snp.values()))
        print(f"  SupplyNetPy network: {len(model.mines)} mines, {model.network['num_manufacturers']} manufacturers "
              f"(refineries, magnet plants), {model.network['num_distributors']} country magnet stocks; "
              f"{len(model.end_uses)} end uses (country x sector) + {len(model.other_uses)} refinery other-uses "
              f"sinks; left out, no flow reaches them: {', '.join(model.omitted) or 'none'}")


if __name__ == "__main__":
    main()
