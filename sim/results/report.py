"""A short, human-readable account of a run's summary, for the terminal."""
from __future__ import annotations


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _weeks(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


def headline(summary: dict, seconds: float | None = None) -> str:
    """A dozen lines: world shares, who goes short, when and how much, dependency, prices, mass balance."""
    s = summary
    took = f", {seconds:.1f} s" if seconds is not None else ""
    lines = [f"{s['scenario']}: {s.get('title') or ''}".rstrip(": "),
             f"  seed {s['seed']}, {s['start']} .. {s['end']}, step {s['step_days']} d{took}"]
    w = s["world"]
    lines.append(f"  first year: {w['mined_kt_first_year']:,.0f} kt REO mined; China mines "
                 f"{_pct(w['china_share_mining'])}, separates {_pct(w['china_share_refining'])}, makes "
                 f"{_pct(w['china_share_magnets'])} of magnets")
    lines.append(f"  first export measure: {s['first_measure'] or 'none'}")
    short = {c: v for c, v in s["countries"].items() if v["cumulative_unmet_t"] > 1e-6}
    if not short:
        lines.append("  no end-use shortfall in any country")
    else:
        lines.append("  shortfall of end-use magnet demand:")
        lines.append(f"    {'country':8}{'peak':>8}  {'on':10}  {'weeks to short (plants/users)':>30}  "
                     f"{'unmet t':>10}  {'recovers (weeks after peak)':>27}")
        for c, v in sorted(short.items(), key=lambda kv: -kv[1]["cumulative_unmet_t"])[:8]:
            lines.append(f"    {c:8}{_pct(v['peak_shortfall_share']):>8}  {v['peak_shortfall_date'] or '—':10}  "
                         f"{_weeks(v['weeks_to_plant_shortfall']) + ' / ' + _weeks(v['weeks_to_shortfall']):>30}  "
                         f"{v['cumulative_unmet_t']:>10,.0f}  {_weeks(v['weeks_to_recover_from_peak']):>27}")
    deps = []
    for c in ("JP", "KR", "US", "DE"):
        v = s["countries"].get(c)
        if not v:
            continue
        b, a = v["dependency_on_CN_before"].get("refinery", {}), v["dependency_on_CN_after"].get("refinery", {})
        if b:
            deps.append(f"{c} {_pct(b.get('direct'))}/{_pct(b.get('embedded'))} -> "
                        f"{_pct(a.get('direct'))}/{_pct(a.get('embedded'))}")
    if deps:
        lines.append("  oxide dependency on China, direct/embedded, before -> last year: " + "; ".join(deps))
    if s["prices"]:
        lines.append("  price peaks: " + ", ".join(f"{e} x{v['peak_multiple']:.2f} ({v['peak_date']})"
                                                  for e, v in s["prices"].items()))
    lines.append(f"  mass balance: largest relative residual {s['mass_balance_max_relative_residual']:.1e}")
    return "\n".join(lines)


def ensemble_report(ensemble, seconds: float | None = None) -> str:
    """The ensemble's headline bands for the countries that go short, and the priced elements' peaks."""
    bands = ensemble.headline_bands
    took = f", {seconds:.1f} s" if seconds is not None else ""
    lines = [f"{ensemble.scenario.name}: {ensemble.scenario.title or ''}".rstrip(": "),
             f"  {ensemble.replications} replications of seed {ensemble.seed} ({ensemble.ran} run now, "
             f"{ensemble.replications - ensemble.ran - len(ensemble.failures)} already on disk"
             f"{', ' + str(len(ensemble.failures)) + ' failed' if ensemble.failures else ''}){took}",
             f"  {'subject':8}{'figure':28}{'P5':>12}{'P50':>12}{'P95':>12}  happened in"]
    shown = bands[bands["figure"].isin(["peak_shortfall_share", "weeks_to_shortfall", "cumulative_unmet_t",
                                        "peak_price_multiple"])]
    for row in shown.itertuples():
        cells = [_band(getattr(row, f"p{p}"), row.unit) for p in (5, 50, 95)]
        lines.append(f"  {row.subject:8}{row.figure:28}{cells[0]:>12}{cells[1]:>12}{cells[2]:>12}  "
                     f"{100 * row.happened:.0f}%")
    return "\n".join(lines)


def _band(x, unit: str) -> str:
    if x is None or x != x:
        return "—"
    if unit == "share":
        return _pct(x)
    if unit.startswith("t"):
        return f"{x:,.0f}"
    if unit == "weeks":
        return f"{x:.1f}"
    return f"{x:.2f}" if isinstance(x, float) else str(x)
