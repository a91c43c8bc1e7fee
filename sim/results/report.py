"""A short, human-readable account of a run's summary, for the terminal."""
from __future__ import annotations

from ..stages import REFINERY
from .summary import Dependency, PricePeak, StockpileHolding, Summary

NO_DEPENDENCY = Dependency(direct=None, embedded=None)


def percent(x: float | None) -> str:
    """A share for the terminal: '89.9%', or '—' where there is none."""
    return "—" if x is None else f"{100 * x:.1f}%"


def _weeks(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


def _peaks(prices: dict[str, PricePeak], cap: float | None) -> str:
    """Each item's peak multiple and date; one at the model's cap says so (the price says only 'scarce')."""
    def at_cap(v: PricePeak) -> bool:
        return cap is not None and v.peak_multiple >= cap * (1 - 1e-9)
    return ", ".join(f"{item} x{v.peak_multiple:.2f} ({v.peak_date}{', the cap' if at_cap(v) else ''})"
                     for item, v in prices.items())


DAYS_OF = {"oxide_use": "own oxide use", "end_use": "end users' magnet content"}


def _tonnes(t: float) -> str:
    return f"{t:,.0f}" if t >= 100 else f"{t:.3g}"


def _stockpile(pile: StockpileHolding) -> str:
    """'42 days of own oxide use: NdPr 617 t, Dy 18.1 t (= 54 days of end users' magnet content), ... at the
    start'; the days of the other measure for Dy, Tb and NdPr, where they have one."""
    other = "end_use" if pile.days_of == "oxide_use" else "oxide_use"
    other_days = pile.days_of_end_use_at_start if other == "end_use" else pile.days_of_oxide_use_at_start
    held = []
    for e, t in pile.t_at_start.items():
        days = other_days.get(e)
        held.append(f"{e} {_tonnes(t)} t" + (f" (= {days:.0f} days of {DAYS_OF[other]})"
                                              if days is not None and e in ("NdPr", "Dy", "Tb") else ""))
    size = f"{pile.days:g} days of {DAYS_OF[pile.days_of]}" if pile.sized_in == "days" else \
        f"given in t (its release days count {DAYS_OF[pile.days_of]})"
    return f"{size}: {', '.join(held)} at the start"


def run_report(summary: Summary, seconds: float | None = None, cap: float | None = None) -> str:
    """A dozen lines: world shares, who goes short, when and how much, dependency, prices (a peak at ``cap``,
    the scenario's prices.max_multiple, marked), mass balance."""
    s = summary
    took = f", {seconds:.1f} s" if seconds is not None else ""
    lines = [f"{s.scenario}: {s.title or ''}".rstrip(": "),
             f"  seed {s.seed}, {s.start} .. {s.end}, step {s.step_days} d{took}"]
    w = s.world
    lines.append(f"  first year: {w.mined_kt_first_year:,.0f} kt REO mined; China mines "
                 f"{percent(w.china_share_mining)}, separates {percent(w.china_share_refining)}, makes "
                 f"{percent(w.china_share_magnets)} of magnets")
    lines.append(f"  first export measure: {s.first_measure or 'none'}")
    short = {c: v for c, v in s.countries.items() if v.cumulative_unmet_t > 1e-6}
    if not short:
        lines.append("  no end-use shortfall in any country")
    else:
        lines.append("  shortfall of end-use magnet demand:")
        lines.append(f"    {'country':8}{'peak':>8}  {'on':10}  {'weeks to short (plants/users)':>30}  "
                     f"{'unmet t':>10}  {'recovers (weeks after peak)':>27}  {'output at risk':>24}")
        shown = sorted(short.items(), key=lambda kv: -kv[1].cumulative_unmet_t)[:8]
        for c, v in shown:
            peak_on = v.peak_shortfall_date.isoformat() if v.peak_shortfall_date else "—"
            lines.append(f"    {c:8}{percent(v.peak_shortfall_share):>8}  {peak_on:10}  "
                         f"{_weeks(v.weeks_to_plant_shortfall) + ' / ' + _weeks(v.weeks_to_shortfall):>30}  "
                         f"{v.cumulative_unmet_t:>10,.0f}  {_weeks(v.weeks_to_recover_from_peak):>27}  "
                         f"{v.at_risk_text:>24}")
        unvalued = sorted({s for _, v in shown for s in v.unvalued_sectors})
        lines.append("    output at risk: units not made (vehicles, MW) x each sector's sourced value per "
                     "unit; gross output, not GDP" + (f"; not valued: {', '.join(unvalued)}" if unvalued else ""))
    deps = []
    for c in ("JP", "KR", "US", "DE"):
        v = s.countries.get(c)
        if not v:
            continue
        b, a = v.dependency_on_CN_before.get(REFINERY), v.dependency_on_CN_after.get(REFINERY, NO_DEPENDENCY)
        if b:
            deps.append(f"{c} {percent(b.direct)}/{percent(b.embedded)} -> {percent(a.direct)}/{percent(a.embedded)}")
    if deps:
        lines.append("  oxide dependency on China, direct/embedded, before -> last year: " + "; ".join(deps))
    if s.prices:
        lines.append(f"  price peaks{' outside the home market' if s.home_prices else ''}: " + _peaks(s.prices, cap))
    if s.home_prices:
        lines.append("  price peaks in the home market: " + _peaks(s.home_prices, cap))
    for country, pile in s.stockpiles.items():
        lines.append(f"  stockpile {country}: {_stockpile(pile)}")
    lines.append(f"  mass balance: largest relative residual {s.mass_balance_max_relative_residual:.1e}")
    lines += [f"  warning: {w}" for w in s.warnings]
    return "\n".join(lines)
