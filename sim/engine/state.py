"""The state of a run: what every country holds, has on order and at sea, uses, buys from whom, and what the
market remembers. The parts of the weekly step read and change it; the simulation owns it.

Tagged mass (``[..., Q, X]``, see ``sim.world.provenance``) carries provenance: row 0 is the mass (t REO
for concentrate and oxides, t magnet for magnets), the other rows split it by country of mining,
separation and magnet making. Per-stage quantities are dicts keyed by stage (``sim.stages``), with an
item axis: concentrate is one item, oxides one per element, magnets one per grade.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..kernels import end_use as end_use_kernels
from ..kernels.products import matmul, matvec, vecmat
from ..scenario import Scenario
from ..stages import MAGNET, MINE, REFINERY, STAGES
from ..world import Network
from .stocks import Stocks
from .transit import AtSea, Awaiting


@dataclass
class State:
    """Everything a run carries from one step to the next (see the module docstring for units)."""

    k: int                                   # the step under way; negative in the spin-up
    stocks: dict[str, Stocks]                # working stocks of concentrate, oxides and magnets
    pile: Stocks                             # strategic stockpiles of oxides
    pipeline: dict[str, np.ndarray]          # [C, I] shipped, not yet arrived (at sea or at a licence office)
    refused: dict[str, np.ndarray]           # [C, I] refused or cut last step: re-sourced this step
    use_own: dict[str, np.ndarray]           # [C, I] t/day each country uses itself (4-week average)
    use_all: dict[str, np.ndarray]           # [C, I] t/day it uses and sells on (4-week average): the basis of orders
    use_normal: dict[str, np.ndarray]        # [C, I] the same over a year: the basis of contracts
    order_shares: dict[str, np.ndarray]      # [B, J, I] where each buyer orders each item
    learnt: dict[str, np.ndarray]            # [B, J, I] deliveries over the spin-up's last quarter
    qualified: dict[str, np.ndarray]         # [B, J, I] bool: suppliers a buyer may re-source each item from
    qualifying: dict[str, np.ndarray]        # [B, G] bool: buyers that started qualifying a switching group
    # [C, I] how short each buyer went of each item, remembered: the largest unmet share of what it sought, fading
    # with after_shortage's memory_days; it raises the buyer's target cover and stretches its contracts. Stays
    # 0 without after_shortage, and in the spin-up, whose settling is no shortage anyone remembers
    shortage: dict[str, np.ndarray]
    running: dict[str, np.ndarray]           # [F] 1 while a plant runs, 0 while it idles below its price
    idle_days: dict[str, np.ndarray]         # [F] how long it has stood idle
    defence_share: dict[str, np.ndarray]     # [C, I] defence end users' share of each country's use
    sector_grades: np.ndarray                # [C, S, G] grade mix, moved by substitution
    substituted: np.ndarray                  # [events] share moved so far by each substitution event
    price_high_days: np.ndarray              # [events] days its element's price has stayed above the threshold
    price: np.ndarray                        # [M, E] USD/kg in each market (see sim.world.markets)
    scarcity: np.ndarray                     # [M, E] smoothed unmet share of the market's oxide orders
    surplus: np.ndarray                      # [M, E] smoothed share of the market's oxides nobody bought
    magnet_scarcity: np.ndarray              # [M, G] smoothed unmet share of the market's end-use magnet orders
    demand_multiplier: np.ndarray            # [C, S] end-use demand's answer to prices
    other_use_multiplier: np.ndarray         # [C, E] oxide use outside magnets: its answer to prices
    lasting_demand: np.ndarray | None = None  # [C, S] the part of end-use demand's answer that builds over years
    lasting_other_use: np.ndarray | None = None  # [C, E] the same for other uses (prices.long_run)
    recent_price: np.ndarray | None = None   # [M, E] exponential average of each market's prices (on_price_rise)
    log_multiple: np.ndarray | None = None   # [M, E] log of each price over its initial (adjustment_per_year)
    opening_cover: np.ndarray | None = None  # [M, E] days of cover at the calendar's start: the stock term's basis
    opening_surplus: np.ndarray | None = None
    opening_scarcity: np.ndarray | None = None  # [M, E] scarcity at the calendar's start: orders some supplier
                                                # cannot fill in a world at rest are not news
    # prices.expectations' memory (all None without it): [2, E] t/day of each element the mines (row 0, by ore
    # composition) and refineries (row 1, by recovery) can make at the calendar's start, and [E] the lost share
    # of it as last seen and as still expected (the news of a loss fades); [M, E] the share of each market's
    # orders announced measures are expected to leave unmet (fading once they start)
    capacity_base: np.ndarray | None = None
    capacity_lost: np.ndarray | None = None
    expected_loss: np.ndarray | None = None
    expected_cover: np.ndarray | None = None
    in_flight: AtSea | None = None                  # at sea, by voyage and arrival
    # the routes of order_shares by stage (``trade.order_routes``), dropped when the shares change
    order_routes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    awaiting: Awaiting | None = None                # awaiting a licence
    conc: Stocks = field(init=False)                # stocks[MINE], stocks[REFINERY], stocks[MAGNET] by name
    oxide: Stocks = field(init=False)
    magnet: Stocks = field(init=False)

    def __post_init__(self) -> None:
        self.conc, self.oxide, self.magnet = self.stocks[MINE], self.stocks[REFINERY], self.stocks[MAGNET]


def magnet_demand(net: Network, sector_grades: np.ndarray, day: int, multiplier: np.ndarray,
                  step_days: float) -> tuple[np.ndarray, np.ndarray]:
    """End-use demand this step: t magnet by country and sector [C, S], and rare-earth magnets by country and
    grade [C, G] (demand substituted to ferrite needs none)."""
    by_sector = end_use_kernels.demand_by_sector(net.demand_units_per_day[day], net.magnet_kg_per_unit,
                                                 float(step_days), multiplier)
    return by_sector, end_use_kernels.magnets_by_grade(by_sector, sector_grades)


def initial_state(net: Network, world: Scenario, start_k: int) -> State:
    """Stocks at target and expected use from a static plan of the start date, before the spin-up.

    Each country's use of a stage's product plus what others buy from it solves T = own + A^T T over the
    supplier shares A; stocks hold the working stock days of that use, tagged as made at home."""
    tags, C = net.tags, net.n_countries
    step_days = float(net.step_days)
    items = {s: net.items(s) for s in STAGES}
    identity = np.eye(C)
    sector_grades = np.repeat(net.sector_grades[None], C, axis=0)

    def throughput(stage: str, own: np.ndarray) -> np.ndarray:
        return np.linalg.solve(identity - net.offshore_shares[stage].T, own)

    magnets = magnet_demand(net, sector_grades, 0, np.ones((C, len(net.sectors))), step_days)[1] / step_days
    mag_all = throughput(MAGNET, magnets)
    made = np.diag(net.supplier_shares[MAGNET])[:, None] * mag_all
    oxide = matmul(made / net.country_yield[:, None], net.recipe) + net.non_magnet_t_per_day[0]
    ox_all = throughput(REFINERY, oxide)
    feed = matvec(net.members[REFINERY], net.refineries.rate_t_per_day[0])[:, None]
    conc_all = throughput(MINE, feed)
    mined = vecmat(net.mines.rate_t_per_day[0], net.composition)
    mix = mined / mined.sum() if mined.sum() > 0 else np.full(len(net.elements), 1 / len(net.elements))

    use_all = {MINE: conc_all, REFINERY: ox_all, MAGNET: mag_all}
    days = net.target_days
    conc = tags.originate(conc_all * days[MINE][:, None] * mix[None, :], "mined")
    oxides = tags.stamp(tags.originate(ox_all * days[REFINERY][:, None], "mined"), "refined")
    made_stock = tags.originate(mag_all * days[MAGNET][:, None], "mined")
    tags.stamp(made_stock, "refined")
    offshore = {s: np.repeat(net.offshore_shares[s][:, :, None], items[s], axis=2) for s in STAGES}
    stocks = {MINE: Stocks(conc), REFINERY: Stocks(oxides), MAGNET: Stocks(tags.stamp(made_stock, "made"))}
    return State(
        k=start_k,
        stocks=stocks,
        pile=Stocks(tags.new(C, len(net.elements))),
        pipeline={s: np.zeros((C, items[s])) for s in STAGES},
        refused={s: np.zeros((C, items[s])) for s in STAGES},
        use_own={MINE: feed.copy(), REFINERY: oxide.copy(), MAGNET: magnets.copy()},
        use_all=use_all,
        use_normal={s: v.copy() for s, v in use_all.items()},
        order_shares=offshore,        # learnt from the spin-up's deliveries at the calendar's start
        learnt={s: np.zeros((C, C, items[s])) for s in STAGES},
        # in the spin-up every supplier counts as qualified, so relationships settle on who can deliver
        qualified={s: np.ones((C, C, items[s]), dtype=bool) for s in STAGES},
        qualifying={s: np.zeros((C, len(net.switching_groups[s])), dtype=bool) for s in STAGES},
        shortage={s: np.zeros((C, items[s])) for s in STAGES},
        running={s: np.ones(len(net.facilities(s).ids)) for s in STAGES},
        idle_days={s: np.zeros(len(net.facilities(s).ids)) for s in STAGES},
        defence_share={s: np.zeros((C, items[s])) for s in STAGES},
        sector_grades=sector_grades,
        substituted=np.zeros(len(world.events)),
        price_high_days=np.zeros(len(world.events)),
        price=np.tile(net.initial_price, (len(net.markets), 1)),
        scarcity=np.zeros((len(net.markets), len(net.elements))),
        surplus=np.zeros((len(net.markets), len(net.elements))),
        magnet_scarcity=np.zeros((len(net.markets), len(net.grades))),
        demand_multiplier=np.ones((C, len(net.sectors))),
        other_use_multiplier=np.ones((C, len(net.elements))),
        in_flight=AtSea({s: held.tagged.shape[1:] for s, held in stocks.items()}, net.lead_days),
        awaiting=Awaiting({s: held.tagged.shape[1:] for s, held in stocks.items()}),
    )
