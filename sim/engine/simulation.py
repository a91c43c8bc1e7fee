"""The simulation: a SimPy environment, the world's stocks with their provenance, one step at a time.

``Simulation(scenario, seed).run()`` returns ``Results``. Each model step
(``calendar.step_days``, a week by default) works downstream, so that what a
stage asks of the stage above is known before that stage is cleared:

1. magnets: end uses draw on their country's magnet stock; importers order
   from suppliers; each country's plants plan what imports will not cover;
2. oxides: magnet plants (by grade recipe) and other uses draw on the oxide
   stock; importers order; plants make what the scarcest element allows;
3. concentrate: separation plants draw their feed; importers order; plants
   separate the feed into oxides with their recovery;
4. mines add concentrate; strategic stockpiles release when industry's cover
   falls below their trigger; oxides nobody needs (beyond working stocks) go
   to the "other uses" sink; prices follow scarcity.

What a stage makes in a step is available to the stage below from the next
step. Shipments travel for their route's lead time (SimPy processes) and are
usable from the first step after they arrive. Before the calendar starts the
world runs a spin-up year at its start-date conditions, so that stocks,
shipments at sea and provenance begin in steady state; accounts start at the
calendar's start, and the stocks then held are the opening balance.

Rules stated here because they shape results:
- orders follow an order-up-to rule: expected use over the step plus a quarter
  of the gap between the stock position (stock + on order) and its target
  (working stock days + lead time, of use including re-exports) each week;
- a supplier short of stock serves its own use and every order pro rata;
- supply relationships are per item: the scenario's supplier shares say where
  a buyer's imports of a stage come from in all; during the spin-up buyers
  fill each element (or grade) from whoever can deliver it, and from the
  calendar's start they order each item from the suppliers that delivered it
  over the spin-up's last quarter, in those proportions;
- an order to a usual supplier is capped by contract at its share of the
  buyer's normal use (a one-year average) plus 25%; what a buyer needs beyond
  that, like what is blocked, unfilled or refused, must be re-sourced;
- re-sourcing (DESIGN.md's switching delay): blocked, unfilled, refused or
  over-contract orders go to the spare output of countries that make the
  stage's product (stock beyond their working stock for their own use), but
  only once the buyer has qualified them, ``switching_days`` after it first
  went short;
- shipments at sea when a measure starts: ``at_sea: deliver`` lets them land,
  ``at_sea: stop`` turns them back to the exporter's stock;
- export licences: one application per exporter, importer and stage each
  step, a processing time drawn per application, approval with the measure's
  probability; goods wait at the exporter (counted as in transit) and return
  to its stock when refused.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import simpy

from ..errors import InvariantError
from ..results.recorder import Recorder
from ..scenario.distributions import realise
from ..scenario.schema import NO_RARE_EARTH, Scenario
from ..world.network import DAYS_PER_YEAR, TRADED, Network, build_network, items_holding
from ..world.provenance import Tags, add_rows, shares, sum_rows
from . import processes
from .market import clear
from .measures import ExportMeasure, ExportQuota, OriginRule, build_measures

SPIN_UP_DAYS = 364
LEARNING_STEPS = 13           # the spin-up's last quarter (weekly steps) settles per-item relationships
ORDER_ADJUST_DAYS = 28.0      # an order corrects 1/4 of its stock gap per week
USE_SMOOTHING_DAYS = 28.0     # expected use is a 4-week exponential average
NORMAL_USE_DAYS = 365.0       # normal use, the basis of contracts, is a one-year average
CONTRACT_FLEX = 0.25          # a usual supplier ships up to 25% more than its share of normal use
SCARCITY_SMOOTHING_DAYS = 28.0
BALANCE_TOLERANCE = 1e-9      # relative, per element
DAYS_PER_MONTH = 365.25 / 12
RESTART_MARGIN = 0.10         # an idled plant restarts once its price is 10% above its shut-down price ...
MIN_IDLE_DAYS = 182.0         # ... and it has stood idle for half a year (restarting a plant takes months)


@dataclass(eq=False)
class Shipment:
    """Goods of one stage on their way from suppliers to buyers, one row per route."""

    stage: str
    buyer: np.ndarray       # [n] country index
    supplier: np.ndarray    # [n] country index
    tagged: np.ndarray      # [n, Q, X] tagged mass


@dataclass
class Stocks:
    """Tagged stocks of one stage's product in every country."""

    tagged: np.ndarray      # [C, Q, X]

    @property
    def mass(self) -> np.ndarray:
        return self.tagged[:, 0, :]


@dataclass
class Coverage:
    """What the measures in force do to one stage's trade this step (shares of shipments [B, J, I])."""

    blocked: np.ndarray
    tariffed: np.ndarray
    licensed: list = field(default_factory=list)      # [(measure, share)]
    quotas: list = field(default_factory=list)        # [(measure, share)]
    extra_days: np.ndarray | float = 0.0              # [B, I] extra days of stock or pipeline buyers seek


@dataclass
class Accounts:
    """Cumulative element flows since the calendar's start, t REO by element: the mass balance terms."""

    opening: np.ndarray
    mined: np.ndarray
    recycled: np.ndarray     # oxides recovered from end-of-life magnets
    consumed: np.ndarray     # in end-use magnets and other (non-magnet) uses
    sunk: np.ndarray         # oxides nobody needed, to the "other uses" sink
    losses: np.ndarray       # separation tailings and magnet-making swarf
    in_transit: np.ndarray   # at sea or awaiting a licence (a level, not cumulative)


class Simulation:
    """One replication of a scenario: ``Simulation(scenario, seed=0).run() -> Results``; ``replication=r``
    gives replication r of an ensemble of that seed (its own independent random streams)."""

    def __init__(self, scenario: Scenario, seed: int | None = None, end: dt.date | None = None,
                 replication: int | None = None):
        self.seed = scenario.run.seed if seed is None else int(seed)
        self.replication = replication
        # replication r of an ensemble draws from SeedSequence(seed).spawn(n)[r], however many there are
        stream = np.random.SeedSequence(self.seed) if replication is None else \
            np.random.SeedSequence(self.seed, spawn_key=(int(replication),))
        world_seq, licence_seq = stream.spawn(2)
        self.scenario = scenario
        self.world = realise(scenario, np.random.default_rng(world_seq))
        self.licence_rng = np.random.default_rng(licence_seq)
        self.net: Network = build_network(self.world, end)
        self.measures: list[ExportMeasure] = build_measures(scenario, self.world, self.net)
        self._no_cover: dict[str, Coverage] = {}
        self.targets_end_users = any(m.event.end_users != "all" for m in self.measures)
        self.step_days = float(self.net.step_days)
        self.start = self.net.dates[0]
        self.tags = Tags(self.net.n_countries)
        self._setup_arrays()

    # ------------------------------------------------------------ set-up
    def _setup_arrays(self) -> None:
        net, C = self.net, self.net.n_countries
        self.items = {"mine": 1, "refinery": len(net.elements), "magnet": len(net.grades)}
        self.member = {"mine": net.mines.by_country(C), "refinery": net.refineries.by_country(C),
                       "magnet": net.magnet_plants.by_country(C)}
        self.offshore = {s: net.supplier_shares[s] * (1 - np.eye(C)) for s in TRADED}
        # average lead time of a buyer's supplies: sum_j share[b, j] * lead[j, b]
        self.buyer_lead = {s: (net.supplier_shares[s] * net.lead_days.T).sum(axis=1) for s in TRADED}
        # order shares per item [B, J, I]; learnt from the spin-up's deliveries at the calendar's start
        self.order_shares = {s: np.repeat(self.offshore[s][:, :, None], self.items[s], axis=2) for s in TRADED}
        self.learnt = {s: np.zeros((C, C, self.items[s])) for s in TRADED}
        # in the spin-up every supplier counts as qualified, so relationships settle on who can deliver
        self.qualified = {s: np.ones((C, C), dtype=bool) for s in TRADED}
        self.qualifying = {s: set() for s in TRADED}
        # re-sourcing turns to spare *output*: only countries with plants of the stage sell in pass 2
        self.makers = {s: (self.member[s] @ self._facilities(s).nameplate_t_per_day.max(axis=0)) > 0 for s in TRADED}
        self.pipeline = {s: np.zeros((C, self.items[s])) for s in TRADED}
        self.refused = {s: np.zeros((C, self.items[s])) for s in TRADED}
        # shipments at sea and awaiting a licence decision, kept in the order they started (dicts, not sets:
        # the order in which goods return to stock must not depend on object addresses, or runs differ)
        self.in_flight: dict[Shipment, None] = {}
        self.pending: dict[Shipment, None] = {}
        self.sector_grades = np.repeat(net.sector_grades[None], C, axis=0)   # [C, S, G]; substitution moves it
        self.substituted = np.zeros(len(self.world.events))                # share moved so far, per event
        self.price_high_days = np.zeros(len(self.world.events))
        self.running = {s: np.ones(len(self._facilities(s).ids)) for s in TRADED}
        self.idle_days = {s: np.zeros(len(self._facilities(s).ids)) for s in TRADED}
        defence = np.array([self.world.rationing.by_country.get(c, self.world.rationing.rule) == "defence_first"
                            for c in net.countries])
        self.defence_first = defence
        plants = self.member["magnet"]
        cap = plants @ net.magnet_plants.rate_t_per_day[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.country_yield = np.where(cap > 0, (plants @ (net.magnet_plants.rate_t_per_day[0]
                                                              * net.material_yield)) / cap, 1.0)
        self._initial_state()

    def _initial_state(self) -> None:
        """Stocks at target and expected use from a static plan of the start date, before the spin-up."""
        net, tags, C = self.net, self.tags, self.net.n_countries
        I = np.eye(C)

        def throughput(stage: str, own: np.ndarray) -> np.ndarray:
            # each country's use plus what others buy from it: T = own + A^T T
            return np.linalg.solve(I - self.offshore[stage].T, own)

        magnets = self._magnet_demand(0, np.ones((C, len(net.sectors))))[1] / self.step_days
        mag_all = throughput("magnet", magnets)
        made = np.diag(net.supplier_shares["magnet"])[:, None] * mag_all
        oxide = (made / self.country_yield[:, None]) @ net.recipe + net.non_magnet_t_per_day[0]
        ox_all = throughput("refinery", oxide)
        feed = (self.member["refinery"] @ net.refineries.rate_t_per_day[0])[:, None]
        conc_all = throughput("mine", feed)
        mined = net.mines.rate_t_per_day[0] @ net.composition
        mix = mined / mined.sum() if mined.sum() > 0 else np.full(len(net.elements), 1 / len(net.elements))

        self.use_own = {"mine": feed.copy(), "refinery": oxide.copy(), "magnet": magnets.copy()}
        self.use_all = {"mine": conc_all, "refinery": ox_all, "magnet": mag_all}
        self.use_normal = {s: v.copy() for s, v in self.use_all.items()}
        days = net.target_days
        self.conc = Stocks(tags.originate(conc_all * days["mine"][:, None] * mix[None, :], "mined"))
        self.oxide = Stocks(tags.stamp(tags.originate(ox_all * days["refinery"][:, None], "mined"), "refined"))
        made_stock = tags.originate(mag_all * days["magnet"][:, None], "mined")
        tags.stamp(made_stock, "refined")
        self.magnet = Stocks(tags.stamp(made_stock, "made"))
        self.pile = Stocks(tags.new(C, len(net.elements)))
        self._stocks = {"mine": self.conc, "refinery": self.oxide, "magnet": self.magnet}
        self.scarcity = np.zeros(len(net.elements))
        self.surplus = np.zeros(len(net.elements))
        self.last_sunk = np.zeros((C, len(net.elements)))
        self.defence_share = {s: np.zeros((C, self.items[s])) for s in TRADED}
        self.price = net.initial_price.copy()
        self.demand_multiplier = np.ones((C, len(net.sectors)))

    # ------------------------------------------------------------ public
    def run(self, progress: Callable[[int, int], None] | None = None):
        """Run the spin-up and the calendar; return the Results (mass balance checked every step).
        ``progress(done, total)`` is told of every step done (spin-up included)."""
        from ..results.tables import Results

        self.k = -math.ceil(SPIN_UP_DAYS / self.step_days)
        self.progress = progress
        self.steps = len(self.net.dates) - self.k          # spin-up and calendar
        self.env = simpy.Environment(initial_time=self.k * self.step_days)
        self.recorder = Recorder(self.net, self.tags)
        self.accounts: Accounts | None = None
        self.env.process(processes.step(self.env, self))
        for measure in self.measures:
            self.env.process(processes.enforce(self.env, self, measure))
        for event in self.world.events:
            if event.type == "offtake" and event.start > self.start:
                self.env.process(processes.on(self.env, self, event.start, self.sign_offtake, event))
        # ratios in the step guard their divisors (np.where(x > 0, a / np.where(x > 0, x, 1), ...)): the
        # masked lanes' warnings are silenced once for the run, not in every step
        with np.errstate(invalid="ignore", divide="ignore"):
            self.env.run(until=len(self.net.dates) * self.step_days)   # what is still pending at the end stays so
        return Results(self.scenario, self.world, self.net, self.seed, self.recorder, self.balance(),
                       self.replication)

    def day_of(self, date: dt.date) -> float:
        return float((date - self.start).days)

    def set_active(self, measure: ExportMeasure, active: bool, front_loading: bool = False) -> None:
        """Put a measure in or out of force. A new ban stops covered goods still awaiting a licence;
        with ``at_sea: stop`` it also turns back covered goods at sea."""
        was = measure.active
        measure.active, measure.announced = active, front_loading
        if active and not was and measure.effect == "block":
            self._turn_back(measure, self.pending, "stopped awaiting licence")
            if measure.event.at_sea == "stop":
                self._turn_back(measure, self.in_flight, "turned back at sea")

    # ------------------------------------------------------------ the step
    def next_step(self) -> bool:
        """Do the work of step ``k``; False when the calendar is done."""
        k = self.k
        if k >= len(self.net.dates):
            return False
        if k == 0:
            self._settle_relationships()
            for event in self.world.events:
                if event.type == "offtake" and event.start <= self.start:
                    self.sign_offtake(event)
            self._open_accounts()
        day = max(k, 0)
        dt_ = self.step_days
        for measure in self.measures:
            if isinstance(measure, ExportQuota) and measure.active:
                measure.accrue(self.net.dates[day], dt_)
        self._magnets(day, dt_)
        self._oxides(day, dt_)
        self._concentrate(day, dt_)
        self._mine(day, dt_)
        self._release_stockpiles(day, dt_)
        self._sink_surplus()
        self._update_prices(day, dt_)
        self._substitute(dt_)
        if k == -1:
            self._fill_stockpiles()
        if k >= 0:
            self.recorder.stocks(k, self)
            self.check_balance(k)
        self.k += 1
        if self.progress is not None:
            self.progress(self.steps - (len(self.net.dates) - self.k), self.steps)
        return True

    def _magnet_demand(self, day: int, multiplier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """End-use demand this step: t magnet by country and sector, and rare-earth magnets by country and grade."""
        net = self.net
        by_sector = net.demand_units_per_day[day] * net.magnet_kg_per_unit / 1000.0 * self.step_days * multiplier
        return by_sector, np.einsum("cs,csg->cg", by_sector, self.sector_grades)

    def _need(self, stage: str, stock: np.ndarray, extra_days: np.ndarray | float = 0.0) -> np.ndarray:
        """What each country wants to receive this step: use plus a share of the gap to its target position."""
        use = self.use_all[stage]
        target = use * ((self.net.target_days[stage] + self.buyer_lead[stage])[:, None] + extra_days)
        position = stock + self.pipeline[stage]
        return np.maximum(0.0, use * self.step_days + (target - position) * self.step_days / ORDER_ADJUST_DAYS)

    def _coverage(self, stage: str) -> Coverage:
        """What the measures in force (and those announced) do to the stage's trade this step.

        Buyers know the rules: before a measure they front-load its ``front_load_days``; while a licence
        is needed they add the review time they expect (its central value) to their target position."""
        C, I = self.net.n_countries, self.items[stage]
        acting = [m for m in self.measures if m.active or m.announced]
        if not acting:                      # most steps of most runs: one shared, never-written empty coverage
            if stage not in self._no_cover:
                self._no_cover[stage] = Coverage(blocked=np.zeros((C, C, I)), tariffed=np.zeros((C, C, I)))
            return self._no_cover[stage]
        cover = Coverage(blocked=np.zeros((C, C, I)), tariffed=np.zeros((C, C, I)))
        for m in acting:
            share = m.coverage(stage, self)
            if not share.any():
                continue
            if m.announced and not m.active:
                cover.extra_days = np.maximum(cover.extra_days, share.max(axis=1) * float(m.event.front_load_days))
            elif m.effect == "block":
                np.maximum(cover.blocked, share, out=cover.blocked)
            elif m.effect == "tariff":
                np.maximum(cover.tariffed, share, out=cover.tariffed)
            elif m.effect == "licence":
                cover.licensed.append((m, share))
                cover.extra_days = np.maximum(cover.extra_days, share.max(axis=1) * m.expected_days)
            elif m.effect == "quota":
                cover.quotas.append((m, share))
        return cover

    def _trade(self, stage: str, stocks: Stocks, own_use: np.ndarray, need: np.ndarray, cover: Coverage):
        """Clear a stage's market (quotas cap what is shipped); return the clearing. The caller takes its
        own use from stock, then ships the exports."""
        available = self._alloc_mass(stage, stocks.tagged)
        wanted = self.order_shares[stage] * need[:, None, :]
        contract = self.order_shares[stage] * self.use_normal[stage][:, None, :] * self.step_days * (1 + CONTRACT_FLEX)
        orders = np.minimum(wanted, contract)
        # what a supplier keeps for its own use (working stock plus licence buffers) is not spare
        reserve = self.use_own[stage] * (self.net.target_days[stage][:, None] + cover.extra_days)
        tariffed = cover.tariffed if cover.tariffed.any() else None
        result = clear(available, own_use, orders, cover.blocked, self.qualified[stage] & self.makers[stage][None],
                       reserve, self.refused[stage] + (wanted - orders).sum(axis=1), tariffed)
        self.refused[stage][:] = 0.0
        for quota, share in cover.quotas:
            cut = quota.cap(result.shipped, share)
            if cut.any():
                result = replace(result, shipped=result.shipped - cut, unmet=result.unmet + cut.sum(axis=1))
                self.refused[stage] += cut.sum(axis=1)
        if self.k >= -LEARNING_STEPS and self.k < 0:
            self.learnt[stage] += result.shipped
        # a buyer looks for new suppliers when it goes short, or when a tariff sends it looking
        moved = (orders * (1.0 - cover.blocked) * tariffed).sum(axis=1) if tariffed is not None else 0.0
        self._start_qualifying(stage, result.unmet + moved, need)
        throughput = (own_use + np.maximum(result.ordered, result.shipped.sum(axis=0))) / self.step_days
        for use, days in ((self.use_all[stage], USE_SMOOTHING_DAYS), (self.use_normal[stage], NORMAL_USE_DAYS)):
            use += (throughput - use) * min(1.0, self.step_days / days)
        return result

    def _ship_exports(self, stage: str, stocks: Stocks, shipped: np.ndarray, licensed: list) -> None:
        """Take exports out of the suppliers' stocks and send them: by sea, or the covered share to a
        licence office first (one application per exporter, importer, stage and measure)."""
        b, j = np.nonzero(shipped.sum(axis=2) > 0)
        if len(b) == 0:
            return
        available = self._alloc_mass(stage, stocks.tagged)
        frac = np.where(available[j] > 0,
                        np.minimum(1.0, shipped[b, j] / np.where(available[j] > 0, available[j], 1)), 0.0)
        tagged = frac[:, None, :] * stocks.tagged[j]
        stocks.tagged -= sum_rows(j, tagged, len(stocks.tagged))
        add_rows(self.pipeline[stage], b, self._alloc_mass(stage, tagged))
        self._in_transit(stage, tagged)
        for measure, share in licensed:
            held = tagged * share[b, j][:, None, :]
            tagged = tagged - held
            for r in np.flatnonzero(held[:, 0, :].sum(axis=1) > 0):
                one = Shipment(stage, b[r:r + 1], j[r:r + 1], held[r:r + 1])
                self.pending[one] = None
                self.recorder.licence_applied(self.k, one, self._alloc_mass(stage, one.tagged))
                self.env.process(processes.license(self.env, self, one, measure))
        rows = np.flatnonzero(tagged[:, 0, :].sum(axis=1) > 0)
        if len(rows) == len(b):                      # nothing held for a licence: no copy
            self._send(Shipment(stage, b, j, tagged))
        elif len(rows):
            self._send(Shipment(stage, b[rows], j[rows], tagged[rows]))

    def _send(self, shipment: Shipment) -> None:
        """Put goods to sea, grouped by lead time (one SimPy event per group)."""
        self.recorder.departed(self.k, shipment, self._alloc_mass(shipment.stage, shipment.tagged))
        lead = self.net.lead_days[shipment.supplier, shipment.buyer]
        groups: dict[float, list[int]] = {}
        for row, days in enumerate(lead.tolist()):
            groups.setdefault(days, []).append(row)
        if len(groups) == 1:
            processes.ship(self.env, self, shipment, float(lead[0]))
            return
        for days in sorted(groups):
            rows = groups[days]
            processes.ship(self.env, self, Shipment(shipment.stage, shipment.buyer[rows], shipment.supplier[rows],
                                                    shipment.tagged[rows]), float(days))

    def arrive(self, shipment: Shipment) -> None:
        """A shipment's lead time is over: deliver it, unless a ban turned it back at sea."""
        if shipment in self.in_flight:
            self.in_flight.pop(shipment)
            self.deliver(shipment)

    def deliver(self, shipment: Shipment) -> None:
        """Goods arrive: into the buyers' stocks, off their order books."""
        stocks = self.stocks_of(shipment.stage)
        add_rows(stocks.tagged, shipment.buyer, shipment.tagged)
        add_rows(self.pipeline[shipment.stage], shipment.buyer, -self._alloc_mass(shipment.stage, shipment.tagged))
        self._in_transit(shipment.stage, shipment.tagged, -1.0)

    def decide_licence(self, shipment: Shipment, approved: bool, measure: ExportMeasure) -> None:
        """A licence decision: approved goods go to sea; refused goods return to the exporter's stock.
        Under an origin rule, the share of re-exports its country bans outright to the importer is refused."""
        banned = self._banned_share(measure, shipment)
        if banned is not None and approved:
            part = Shipment(shipment.stage, shipment.buyer, shipment.supplier, shipment.tagged * banned[:, None, :])
            shipment.tagged = shipment.tagged - part.tagged
            self.pending[part] = None
            self.decide_licence(part, False, None)
        mass = self._alloc_mass(shipment.stage, shipment.tagged)
        self.pending.pop(shipment, None)
        if not mass.any():     # all of it stopped by a ban while it waited
            return
        self.recorder.licence_decided(self.k, shipment, mass, approved)
        if approved:
            self._send(shipment)
            return
        stocks = self.stocks_of(shipment.stage)
        add_rows(stocks.tagged, shipment.supplier, shipment.tagged)
        add_rows(self.pipeline[shipment.stage], shipment.buyer, -mass)
        add_rows(self.refused[shipment.stage], shipment.buyer, mass)
        self._in_transit(shipment.stage, shipment.tagged, -1.0)

    def _banned_share(self, measure: ExportMeasure | None, shipment: Shipment) -> np.ndarray | None:
        """[n, I] share of an origin-rule shipment that its origin country's bans in force cover for the importer."""
        if not isinstance(measure, OriginRule):
            return None
        share = np.zeros(shipment.tagged[:, 0, :].shape)
        for m in self.measures:
            if m.active and m.effect == "block" and set(m.exporters) & set(measure.exporters):
                cover = m.coverage(shipment.stage, self)
                for origin in measure.origin:
                    np.maximum(share, cover[shipment.buyer, origin], out=share)
        return share if share.any() else None

    def _settle_relationships(self) -> None:
        """From the calendar's start each item is ordered where it was delivered from late in the spin-up."""
        for stage in TRADED:
            learnt = self.learnt[stage]
            total = learnt.sum(axis=1, keepdims=True)
            offshore = self.offshore[stage].sum(axis=1)[:, None, None]
            self.order_shares[stage] = np.where(total > 0, offshore * learnt / np.where(total > 0, total, 1),
                                                self.order_shares[stage])
            self.qualified[stage][:] = False
            self.qualifying[stage].clear()

    def sign_offtake(self, event) -> None:
        """From now the buyer orders ``share`` of its imports of the covered items from the seller; with the
        seller its own country, it imports ``share`` less and its plants make the rest."""
        stage, net = event.stage, self.net
        b, j = net.index(event.buyer), net.index(event.seller)
        items = np.flatnonzero(items_holding(stage, event.elements, net))
        shares = self.order_shares[stage][b][:, items]               # [J, I]
        imported = shares.sum(axis=0)
        others = imported - shares[j]
        share = float(event.share)
        if b == j:    # from its own plants: imports shrink, own output makes up the rest (magnets are made to order)
            self.order_shares[stage][b][:, items] = shares * (1 - share)
            return
        scale = np.where(others > 0, (1 - share) * imported / np.where(others > 0, others, 1), 0.0)
        shares = shares * scale[None, :]
        shares[j] = np.where(imported > 0, share * imported, share)
        self.order_shares[stage][b][:, items] = shares
        self.qualified[stage][b, j] = True

    def _start_qualifying(self, stage: str, unmet: np.ndarray, need: np.ndarray) -> None:
        if self.k < 0:
            return
        short = np.flatnonzero((unmet > 1e-9 + 0.005 * need).any(axis=1))
        for b in short:
            if b not in self.qualifying[stage] and not self.qualified[stage][b].all():
                self.qualifying[stage].add(b)
                self.env.process(processes.qualify(self.env, self, stage, int(b)))

    # ------------------------------------------------------------ stages
    def _magnets(self, day: int, dt_: float) -> None:
        net = self.net
        by_sector, by_grade = self._magnet_demand(day, self.demand_multiplier)
        self.by_grade = by_grade
        if self.targets_end_users:
            self._end_user_shares(by_sector, by_grade, day)
        cover = self._coverage("magnet")
        need = self._need("magnet", self.magnet.mass, cover.extra_days)
        result = self._trade("magnet", self.magnet, by_grade, need, cover)
        got = by_grade * result.own_fill
        consumed = self._take(self.magnet, got)
        self._ship_exports("magnet", self.magnet, result.shipped, cover.licensed)
        supplied = self._ration(by_sector, got)
        self.use_own["magnet"] += (by_grade / dt_ - self.use_own["magnet"]) * min(1.0, dt_ / USE_SMOOTHING_DAYS)
        if self.accounts is not None:
            self.accounts.consumed += consumed[:, 0, :].sum(axis=0) @ net.recipe
        # plants make to order what imports this step did not bring, up to nameplate capacity
        rate = net.magnet_plants.nameplate_t_per_day[day] * self.running["magnet"] * dt_
        grade_cap = self.member["magnet"] @ (rate[:, None] * net.plant_grades)
        plan = np.minimum(np.maximum(0.0, need - result.shipped.sum(axis=1)), grade_cap)
        total_cap = self.member["magnet"] @ rate
        total = plan.sum(axis=1)
        plan *= np.where(total > total_cap, total_cap / np.where(total > 0, total, 1), 1.0)[:, None]
        self.plan = plan
        self.recorder.magnets(self.k, by_sector, supplied, consumed)

    def _ration(self, by_sector: np.ndarray, got: np.ndarray) -> np.ndarray:
        """Magnets each sector receives, t magnet [C, S]: a grade's supply shared pro rata among the sectors
        using it, or to defence sectors first where the country rations so; substituted (ferrite) demand is met."""
        wants = by_sector[:, :, None] * self.sector_grades                 # [C, S, G]
        total = wants.sum(axis=1)
        fill = np.where(total > 0, got / np.where(total > 0, total, 1.0), 1.0)
        share = np.broadcast_to(fill[:, None, :], wants.shape).copy()
        if self.defence_first.any():
            d = self.net.defence
            wants_d = wants[:, d, :].sum(axis=1)
            got_d = np.minimum(got, wants_d)
            rest = total - wants_d
            fill_d = np.where(wants_d > 0, got_d / np.where(wants_d > 0, wants_d, 1.0), 1.0)
            fill_c = np.where(rest > 0, (got - got_d) / np.where(rest > 0, rest, 1.0), 1.0)
            first = self.defence_first[:, None]
            share[:, d, :] = np.where(first, fill_d, fill)[:, None, :]
            share[:, ~d, :] = np.where(first, fill_c, fill)[:, None, :]
        no_magnet = 1.0 - self.sector_grades.sum(axis=2)
        return (wants * share).sum(axis=2) + by_sector * no_magnet

    def _end_user_shares(self, by_sector: np.ndarray, by_grade: np.ndarray, day: int) -> None:
        """Defence sectors' share of each country's use of magnets (by grade), oxides and concentrate."""
        net = self.net
        defence = np.einsum("cs,csg->cg", by_sector * net.defence[None], self.sector_grades)
        oxide = (by_grade / self.country_yield[:, None]) @ net.recipe + net.non_magnet_t_per_day[day] * self.step_days
        oxide_d = (defence / self.country_yield[:, None]) @ net.recipe
        self.defence_share["magnet"] = np.where(by_grade > 0, defence / np.where(by_grade > 0, by_grade, 1), 0.0)
        self.defence_share["refinery"] = np.where(oxide > 0, oxide_d / np.where(oxide > 0, oxide, 1), 0.0)
        total = oxide.sum(axis=1, keepdims=True)
        self.defence_share["mine"] = np.where(total > 0, oxide_d.sum(axis=1, keepdims=True)
                                              / np.where(total > 0, total, 1), 0.0)

    def _oxides(self, day: int, dt_: float) -> None:
        net = self.net
        self._recycle(day)
        for_magnets = (self.plan / self.country_yield[:, None]) @ net.recipe
        other = net.non_magnet_t_per_day[day] * dt_
        buy = self._stockpile_purchases(dt_)
        own = for_magnets + other + buy
        cover = self._coverage("refinery")
        need = self._need("refinery", self.oxide.mass, cover.extra_days)
        makers = np.flatnonzero(self.plan.any(axis=1))            # countries making magnets this step
        oxide_shares = shares(self.oxide.tagged[makers])
        result = self._trade("refinery", self.oxide, own, need, cover)
        fill = result.own_fill
        limit = np.where(net.recipe[None] > 0, fill[:, None, :], 1.0).min(axis=2)
        made = self.plan * limit
        into_magnets = (made / self.country_yield[:, None]) @ net.recipe
        other_used = other * fill
        taken = self._take(self.oxide, into_magnets + other_used)
        if buy.any():
            self.pile.tagged += self._take(self.oxide, buy * fill)
        self._ship_exports("refinery", self.oxide, result.shipped, cover.licensed)
        self.last_oxide_claims, self.last_oxide_supplied = own - buy, (own - buy) * fill
        self.use_own["refinery"] += ((own - buy) / dt_ - self.use_own["refinery"]) * min(1.0, dt_ / USE_SMOOTHING_DAYS)
        # a magnet's provenance is that of the oxides of its recipe, weighted by their REO content
        weight = net.recipe / net.recipe.sum(axis=1, keepdims=True)
        magnets = np.zeros_like(self.magnet.tagged)
        magnets[makers] = np.einsum("cqe,ge->cqg", oxide_shares, weight) * made[makers, None, :]
        magnets[:, 0, :] = made
        self.tags.stamp(magnets, "made")
        self.magnet.tagged += magnets
        self.recorder.made(self.k, magnets)
        content = made @ net.recipe
        if self.accounts is not None:
            self.accounts.consumed += other_used.sum(axis=0)
            self.accounts.losses += (into_magnets - content).sum(axis=0)
        self.recorder.oxides(self.k, own - buy, (own - buy) * fill, other_used, made, self.plan, taken)

    def _recycle(self, day: int) -> None:
        """Recycled oxide from end-of-life magnets: a share of the country's magnet rare-earth demand."""
        share = self.net.recycling_share[day]
        if not share.any():
            return
        recycled = share[:, None] * (self.by_grade @ self.net.recipe)
        self.oxide.tagged += self.tags.originate(recycled, "refined")
        if self.accounts is not None:
            self.accounts.recycled += recycled.sum(axis=0)
        self.recorder.recycling(self.k, recycled)

    def _stockpile_purchases(self, dt_: float) -> np.ndarray:
        """Oxides stockpiles buy this step [C, E]: from their first buying date, an even share of what is
        missing to reach their size by their build date; nothing once built, or while industry's cover is
        below the release trigger."""
        net = self.net
        steps_left = net.stockpile_build_step - self.k
        building = (self.k >= net.stockpile_build_from) & (steps_left > 0)
        if not building.any():
            return np.zeros_like(self.oxide.mass)
        use = self.use_own["refinery"]
        target = net.stockpile_days[:, None] * use * net.stockpile_elements
        gap = np.maximum(0.0, target - self.pile.mass)
        cover = np.where(use > 0, self.oxide.mass / np.where(use > 0, use, 1), np.inf)
        calm = (cover >= net.release_below_days[:, None]) | np.isinf(net.release_below_days)[:, None]
        return np.where(building[:, None] & calm, gap / np.maximum(steps_left, 1)[:, None], 0.0)

    def _concentrate(self, day: int, dt_: float) -> None:
        net = self.net
        rate = net.refineries.rate_t_per_day[day] * self.running["refinery"] * dt_
        feed_cap = (self.member["refinery"] @ rate)[:, None]
        cover = self._coverage("mine")
        need = self._need("mine", self._alloc_mass("mine", self.conc.tagged), cover.extra_days)
        result = self._trade("mine", self.conc, feed_cap, need, cover)
        feed = self._take(self.conc, feed_cap * result.own_fill)
        self._ship_exports("mine", self.conc, result.shipped, cover.licensed)
        self.use_own["mine"] += (feed_cap / dt_ - self.use_own["mine"]) * min(1.0, dt_ / USE_SMOOTHING_DAYS)
        recovery = np.where(feed_cap > 0, (self.member["refinery"] @ (rate[:, None] * net.recovery))
                            / np.where(feed_cap > 0, feed_cap, 1), 0.0)
        oxides = feed * recovery[:, None, :]
        self.tags.stamp(oxides, "refined")
        self.oxide.tagged += oxides
        if self.accounts is not None:
            self.accounts.losses += (feed[:, 0, :] - oxides[:, 0, :]).sum(axis=0)
        self.recorder.refining(self.k, feed, oxides)

    def _mine(self, day: int, dt_: float) -> None:
        net = self.net
        rate = net.mines.rate_t_per_day[day] * self.running["mine"]
        mined = self.member["mine"] @ (rate[:, None] * net.composition) * dt_
        self.conc.tagged += self.tags.originate(mined, "mined")
        if self.accounts is not None:
            self.accounts.mined += mined.sum(axis=0)
        self.recorder.mining(self.k, mined)

    def _release_stockpiles(self, day: int, dt_: float) -> None:
        """Stockpiles release when industry's cover falls below their trigger, or when an event says so."""
        net = self.net
        use = self.use_own["refinery"]
        cover = np.where(use > 0, self.oxide.mass / np.where(use > 0, use, 1), np.inf)
        triggered = cover < net.release_below_days[:, None]
        forced = net.forced_release_days_per_month[day] if self.k >= 0 else np.zeros(net.n_countries)
        days = np.where(triggered, net.release_days_per_month[:, None], 0.0) + forced[:, None]
        due = net.stockpile_elements & (days > 0)
        if not due.any():
            return
        amount = np.where(due, np.minimum(days * dt_ / DAYS_PER_MONTH * use, self.pile.mass), 0.0)
        self.oxide.tagged += self._take(self.pile, amount)

    def _sink_surplus(self) -> None:
        """Oxides beyond working stock (of use including exports) are sold to other uses."""
        keep = self.use_all["refinery"] * self.net.target_days["refinery"][:, None]
        surplus = np.maximum(0.0, self.oxide.mass - keep)
        sunk = self._take(self.oxide, surplus)
        self.last_sunk = sunk[:, 0, :]
        if self.accounts is not None:
            self.accounts.sunk += sunk[:, 0, :].sum(axis=0)
        self.recorder.sink(self.k, sunk[:, 0, :])

    def _fill_stockpiles(self) -> None:
        """Strategic stockpiles open with their initial days of the country's own use (full unless built
        up to a date), with the provenance of its oxide stock."""
        size = self.net.stockpile_initial_days[:, None] * self.use_own["refinery"] * self.net.stockpile_elements
        self.pile.tagged = shares(self.oxide.tagged) * size[:, None, :]

    def _update_prices(self, day: int, dt_: float) -> None:
        """Price per element: initial price x (1 - unmet share)^-scarcity x (cover / opening cover)^-stock
        x (1 - unsold share beyond the opening's)^surplus; plants idle below their shut-down price."""
        net = self.net
        claims = self.last_oxide_claims
        unmet = claims - self.last_oxide_supplied
        total = claims.sum(axis=0)
        smooth = min(1.0, dt_ / SCARCITY_SMOOTHING_DAYS)
        u = np.where(total > 0, unmet.sum(axis=0) / np.where(total > 0, total, 1), 0.0)
        self.scarcity += (u - self.scarcity) * smooth
        sunk = self.last_sunk.sum(axis=0)
        unsold = np.where(total + sunk > 0, sunk / np.where(total + sunk > 0, total + sunk, 1), 0.0)
        self.surplus += (unsold - self.surplus) * smooth
        use = self.use_own["refinery"].sum(axis=0)
        cover = np.where(use > 0, (self.oxide.mass.sum(axis=0) + self.pile.mass.sum(axis=0)) / use, np.nan)
        if self.k < 0:
            self.opening_cover = cover
            self.opening_surplus = self.surplus.copy()
        multiple = (1 - np.minimum(self.scarcity, 0.999)) ** (-net.scarcity_elasticity)
        if net.stock_elasticity:
            ratio = np.where(cover > 0, cover / self.opening_cover, 1.0)
            multiple *= np.nan_to_num(ratio, nan=1.0) ** (-net.stock_elasticity)
        if net.surplus_elasticity:
            extra = np.maximum(0.0, self.surplus - self.opening_surplus) / np.maximum(1e-9, 1 - self.opening_surplus)
            multiple *= (1 - np.minimum(extra, 0.999)) ** net.surplus_elasticity
        multiple = np.clip(multiple, 1 / net.max_price_multiple, net.max_price_multiple)
        self.price = net.initial_price * multiple
        if net.demand_elasticity:
            priced = ~np.isnan(net.initial_price)
            base = net.recipe[:, priced] @ net.initial_price[priced]
            grade = np.where(base > 0, (net.recipe[:, priced] @ self.price[priced]) / base, 1.0)
            self.demand_multiplier = np.broadcast_to((net.sector_grades @ grade) ** (-net.demand_elasticity),
                                                     self.demand_multiplier.shape).copy()
        self._curtail(day, dt_)
        self.recorder.prices(self.k, self.price, multiple)

    def _curtail(self, day: int, dt_: float) -> None:
        """A plant with a shut-down price idles once the price it gets (market, or its country's floor) is
        below it, and restarts once the price is RESTART_MARGIN above it and it has stood idle MIN_IDLE_DAYS."""
        for stage in TRADED:
            plants = self._facilities(stage)
            if not plants.shuts_below.any():
                continue
            market = np.nan_to_num(self.price[plants.price_element], nan=np.inf)
            floor = self.net.price_floor[day][plants.country, plants.price_element]
            price = np.maximum(market, floor)
            restart = plants.shuts_below * (1 + RESTART_MARGIN)
            idle = self.running[stage] == 0
            self.idle_days[stage] = np.where(idle, self.idle_days[stage] + dt_, 0.0)
            self.running[stage] = np.where(~idle, price >= plants.shuts_below,
                                           (price >= restart) & (self.idle_days[stage] >= MIN_IDLE_DAYS)).astype(float)

    def _substitute(self, dt_: float) -> None:
        """Sectors move from one grade to another (or to ferrite) once a price has stayed above a
        threshold for the delay, at up to the event's speed, up to its maximum share."""
        if self.k < 0:
            return
        grades = self.net.grades
        for n, event in enumerate(self.world.events):
            if event.type != "substitution":
                continue
            e = self.net.elements.index(event.element)
            high = self.price[e] > float(event.price_above_usd_per_kg)
            self.price_high_days[n] = self.price_high_days[n] + dt_ if high else 0.0
            if not high or self.price_high_days[n] < float(event.delay_days):
                continue
            step = min(float(event.max_share_per_year) * dt_ / DAYS_PER_YEAR,
                       float(event.max_share) - self.substituted[n])
            if step <= 0:
                continue
            self.substituted[n] += step
            s = [i for i, name in enumerate(self.net.sectors) if event.sectors == "all" or name in event.sectors]
            g = grades.index(event.from_grade)
            moved = np.minimum(self.net.sector_grades[s, g] * step, self.sector_grades[:, s, g])
            self.sector_grades[:, s, g] -= moved
            if event.to_grade != NO_RARE_EARTH:
                self.sector_grades[:, s, grades.index(event.to_grade)] += moved

    # ------------------------------------------------------------ helpers
    def _facilities(self, stage: str):
        return {"mine": self.net.mines, "refinery": self.net.refineries, "magnet": self.net.magnet_plants}[stage]

    def stocks_of(self, stage: str) -> Stocks:
        return self._stocks[stage]

    @staticmethod
    def _alloc_mass(stage: str, tagged: np.ndarray) -> np.ndarray:
        """Mass in the stage's traded items: concentrate is one item, t REO of all elements."""
        mass = tagged[..., 0, :]
        return mass.sum(axis=-1, keepdims=True) if stage == "mine" else mass

    def _take(self, stocks: Stocks, amount: np.ndarray) -> np.ndarray:
        """Take ``amount`` [C, I] of traded mass out of stocks, proportionally; return the tagged mass taken."""
        if not amount.any():
            return np.zeros_like(stocks.tagged)
        available = stocks.mass.sum(axis=-1, keepdims=True) if amount.shape[-1] == 1 else stocks.mass
        frac = np.where(available > 0, np.minimum(1.0, amount / np.where(available > 0, available, 1)), 0.0)
        taken = frac[:, None, :] * stocks.tagged
        stocks.tagged -= taken
        return taken

    def _element_mass(self, stage: str, tagged: np.ndarray) -> np.ndarray:
        """t REO by element of tagged mass of a stage (magnets: their recipe content)."""
        mass = tagged[..., 0, :]
        while mass.ndim > 1:
            mass = mass.sum(axis=0)
        return mass @ self.net.recipe if stage == "magnet" else mass

    def _in_transit(self, stage: str, tagged: np.ndarray, sign: float = 1.0) -> None:
        """Goods leave (sign 1) or come off (sign -1) the sea and the licence offices: the balance's in-transit term."""
        if self.accounts is not None:
            self.accounts.in_transit += sign * self._element_mass(stage, tagged)

    def _stock_elements(self) -> np.ndarray:
        return (self.conc.mass.sum(axis=0) + self.oxide.mass.sum(axis=0) + self.pile.mass.sum(axis=0)
                + self.magnet.mass.sum(axis=0) @ self.net.recipe)

    def _transit_elements(self) -> np.ndarray:
        total = np.zeros(len(self.net.elements))
        for shipment in [*self.in_flight, *self.pending]:
            total += self._element_mass(shipment.stage, shipment.tagged)
        return total

    def _open_accounts(self) -> None:
        E = len(self.net.elements)
        in_transit = self._transit_elements()
        self.accounts = Accounts(opening=self._stock_elements() + in_transit, mined=np.zeros(E), recycled=np.zeros(E),
                                 consumed=np.zeros(E), sunk=np.zeros(E), losses=np.zeros(E), in_transit=in_transit)

    def balance(self) -> dict[str, np.ndarray]:
        """Mass balance by element, t REO: opening + mined + recycled = stocks + in transit + consumed + sunk
        + losses."""
        a = self.accounts
        stocks = self._stock_elements()
        residual = a.opening + a.mined + a.recycled - (stocks + a.in_transit + a.consumed + a.sunk + a.losses)
        return {"opening": a.opening.copy(), "mined": a.mined.copy(), "recycled": a.recycled.copy(), "stocks": stocks, "in_transit": a.in_transit.copy(),
                "consumed": a.consumed.copy(), "sunk": a.sunk.copy(), "losses": a.losses.copy(), "residual": residual}

    def check_balance(self, k: int) -> None:
        """Raise InvariantError naming the element and the terms when mass is created or lost."""
        b = self.balance()
        scale = np.maximum(b["opening"] + b["mined"] + b["recycled"], 1.0)
        bad = np.flatnonzero(np.abs(b["residual"]) > BALANCE_TOLERANCE * scale)
        if bad.size:
            e = bad[0]
            terms = ", ".join(f"{name} {values[e]:.6g}" for name, values in b.items())
            raise InvariantError(f"mass balance broken for {self.net.elements[e]} at step {k} "
                                 f"({self.net.dates[k]}): {terms} t REO")

    # ------------------------------------------------------------ measures
    def _turn_back(self, measure: ExportMeasure, shipments: dict[Shipment, None], outcome: str) -> None:
        """Return the share of ``shipments`` a measure covers to the exporters' stocks."""
        for shipment in list(shipments):
            share = measure.coverage(shipment.stage, self)[shipment.buyer, shipment.supplier]   # [n, I]
            if not share.any():
                continue
            back = shipment.tagged * share[:, None, :]
            shipment.tagged = shipment.tagged - back
            stocks = self.stocks_of(shipment.stage)
            add_rows(stocks.tagged, shipment.supplier, back)
            add_rows(self.pipeline[shipment.stage], shipment.buyer, -self._alloc_mass(shipment.stage, back))
            self._in_transit(shipment.stage, back, -1.0)
            self.recorder.turned_back(self.k, shipment, self._alloc_mass(shipment.stage, back), outcome)
