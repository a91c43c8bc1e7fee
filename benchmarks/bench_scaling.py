"""How run time grows with network size and horizon: python benchmarks/bench_scaling.py [--quick] [--no-profile] [--facilities-only] [--sizes 1,10].

The target is run time linear in horizon and in network size. This
script times two axes of size, then prints Markdown tables and the fitted
log-log exponents (1 = linear, 2 = quadratic):

- countries and facilities together: N-times copies of the baseline world
  (N = 1, 2, 5, 10), also run over 1x, 2x and 4x the baseline's ten-year
  calendar. The countries grow too, and several arrays are [C, C, ...], so
  this axis is about quadratic in N;
- facilities only (``--facilities-only`` runs just this part; the default run
  does both): the same 20 countries, every facility split into N parts
  (N = 1, 2, 5, 10). See "The split world" below.

The N-times world
-----------------
N independent copies of the baseline, in one scenario:

- every country is repeated N times. The scenario checks want country codes of
  2-3 capital letters (``references.py``: ISO 3166 or ROW), so ``CN2`` is not
  valid; copy 1 keeps the original codes and copy k > 1 takes the code's first
  two letters plus one letter (``CN`` -> ``CNB``, ``CNC``, ...; ``ROW`` ->
  ``ROB``, ...). The codes are checked unique and well formed, and copy 1 keeps
  ``CN``, so everything that looks China up by code still works;
- groups (EU, G7) are repeated per copy (``EU`` -> ``EU_2`` with the copy's
  members), so the route ``CN-EU`` becomes ``CNB-EU_2`` within copy 2;
- every facility is repeated into each copy with the same capacity
  (``cn_bayan_obo`` -> ``cn_bayan_obo_2``), and so are end-use and other-use
  demand, stockpiles and per-country stock and rationing settings;
- supplier shares and routes are repeated within each copy: copy k of a
  country buys from copy k of its suppliers. The engine's spot buying
  (re-sourcing to any country's spare output; all of them in the spin-up)
  would still reach other copies: twins then trade the same oxide both ways
  and the 2x world goes short of Dy (30% fewer magnets). So the runs use
  ``CopiesSimulation``, the engine with one change: buyers count only their own
  copy's suppliers as qualified (a [C, C] boolean AND per stage and step).
  Each copy then runs exactly as the baseline (prices are world-wide but see
  the same scarcity), and world totals are N times the baseline's. The check
  printed first proves it: mined, magnets made and end use supplied of the
  N-times world against N times the baseline, each copy against the
  baseline, and the same 2x world on the plain engine (``--linked`` times
  every configuration on the plain engine);
- events (the baseline has none) are repeated per copy with their countries,
  facilities and event ids mapped to that copy (``all`` becomes the copy's own
  countries); an event naming no country or facility (a substitution) is kept
  once, since it already acts on every copy.

Horizon: ``calendar.end`` moves to 10h years after the start. Capacities,
demand and growth rates are parameters, not dated series, so past 2033 the
world simply carries on (the baseline has no growth, so it holds its 2024
size); the spin-up year comes on top of every horizon.

Every configuration is built and validated (sources included) outside the
timing, which covers ``Simulation(...)`` (network arrays, spin-up) and
``run()``: the median of 3 runs for small configurations, one run for the
big ones. Wall time (perf_counter) is what the table is about; process CPU time
is shown too, since on a loaded machine wall time includes waiting for a core.
The engine checks the mass balance every step and raises if it breaks, so a
configuration that finishes kept its balance.

The split world (facilities only)
---------------------------------
The baseline's countries, demand, stocks, trade and prices unchanged; every
facility (mine, refinery, magnet plant) is split into N parts of capacity
``capacity_t / N`` in the same country, with everything else the same
(utilisation, ramp-up and dates, recovery, grades, composition, shut-down
price). Part 1 keeps the id, parts 2..N are suffixed (``cn_bayan_obo`` ->
``cn_bayan_obo_2`` ...), so the world's capacity per country and stage, and
with it its totals, are the baseline's. Events naming a facility (the baseline
has none) are mapped to all its parts: a ``capacity_change`` to ``capacity_t / N``
on each part, an ``outage`` with the same ``share_lost`` on each; parts 2..N take
suffixed ids and happen ``together_with`` part 1 (which keeps any
``probability``), so all parts happen or not together. Any other event type
naming a facility is dropped with a note on stderr. The check printed first:
mined, magnets made and end use supplied of each split world against the
baseline (world totals and the worst country's relative difference; floating
point sums in another order, so ~1e-6 or less, not 0). Timing is the median of
3 runs of ``Simulation(...).run()`` (plain engine, 1x horizon) per N, built and
validated outside the timing, and the exponent is fitted against the number of
facilities.
"""
from __future__ import annotations

import argparse
import copy
import cProfile
import datetime as dt
import io
import itertools
import math
import platform
import pstats
import re
import statistics
import string
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import Simulation
from sim.engine import SPIN_UP_DAYS
from sim.scenario import read_scenario, registry_for, validate_document
from sim.scenario.yamlfile import YamlDocument
from sim.stages import STAGES

BASELINE = ROOT / "scenarios" / "baseline.yaml"
COUNTRY_KEYS = ("exporter", "country", "buyer", "seller")       # event fields naming one country
COUNTRY_LIST_KEYS = ("importers", "countries")                   # event fields naming countries or 'all'
EVENT_ID_KEYS = ("id", "measure", "together_with")               # event fields naming an event


# ---------------------------------------------------------------- the N-times world
def copy_code(code: str, k: int) -> str:
    """Country code of copy k (0-based): the code itself for copy 0, else its first two letters plus a letter."""
    return code if k == 0 else code[:2] + string.ascii_uppercase[k]


def copy_name(name: str, k: int) -> str:
    """Id of copy k of a facility, group or event (0-based)."""
    return name if k == 0 else f"{name}_{k + 1}"


def scale_world(data: dict, n: int, horizon: int = 1) -> dict:
    """Merged scenario data of ``n`` copies of the world of ``data``, over ``horizon`` times its calendar."""
    d = copy.deepcopy(data)
    countries = list(d["countries"])
    groups = d.get("groups") or {}
    codes = {k: {c: copy_code(c, k) for c in countries} for k in range(n)}
    every = [code for k in range(n) for code in codes[k].values()]
    bad = [c for c in every if not re.fullmatch(r"[A-Z]{2,3}", c)]
    if len(set(every)) != len(every) or bad:
        raise ValueError(f"country codes of {n} copies clash or are malformed: {bad or 'duplicates'}")

    def name(code: str, k: int) -> str:        # a country or a group of copy k
        return copy_name(code, k) if code in groups else codes[k][code]

    def each_copy(mapping: dict | None) -> dict:   # a map keyed by country: one entry per copy
        return {codes[k][c]: copy.deepcopy(v) for k in range(n) for c, v in (mapping or {}).items()}

    d["countries"] = {codes[k][c]: {**v, "name": v["name"] + (f" #{k + 1}" if k else "")}
                      for k in range(n) for c, v in data["countries"].items()}
    d["groups"] = {copy_name(g, k): {**v, "members": [codes[k][m] for m in v["members"]]}
                   for k in range(n) for g, v in groups.items()}
    d["facilities"] = {stage: {copy_name(fid, k): {**f, "country": codes[k][f["country"]]}
                               for k in range(n) for fid, f in plants.items()}
                       for stage, plants in (data.get("facilities") or {}).items()}
    d["demand"] = each_copy(data.get("demand"))
    d["non_magnet_demand"] = each_copy(data.get("non_magnet_demand"))
    d["stockpiles"] = each_copy(data.get("stockpiles"))
    for key in ("inventories", "rationing"):
        if d.get(key) and d[key].get("by_country"):
            d[key]["by_country"] = each_copy(d[key]["by_country"])
    trade = d.get("trade") or {}
    if trade.get("suppliers"):
        trade["suppliers"] = {stage: {codes[k][buyer]: {**sup, "shares": {codes[k][s]: v
                                                                         for s, v in sup["shares"].items()}}
                                      for k in range(n) for buyer, sup in buyers.items()}
                              for stage, buyers in trade["suppliers"].items()}
    if trade.get("routes"):
        trade["routes"] = {f"{name(x, k)}-{name(m, k)}": copy.deepcopy(r)
                           for k in range(n) for key, r in trade["routes"].items() for x, m in [key.split("-")]}
    d["events"] = scale_events(data.get("events") or [], n, codes, name)
    if horizon != 1:
        cal = d["calendar"]
        start, end = _day(cal["start"]), _day(cal["end"])
        years = round((end - start).days / 365.25)
        cal["end"] = _add_years(start, years * horizon) - dt.timedelta(days=1)
    d["name"] = f"{data.get('name', 'baseline')}_x{n}_h{horizon}"
    return d


def scale_events(events: list, n: int, codes: dict, name) -> list:
    """Events repeated per copy with their countries, facilities and ids mapped; events naming no
    country or facility are kept once (they act on every copy already)."""
    facilities_named = ("facility",)
    out = []
    for ev in events:
        local = any(k in ev for k in COUNTRY_KEYS + facilities_named) or any(
            isinstance(ev.get(k), list) for k in COUNTRY_LIST_KEYS)
        if not local:
            out.append(copy.deepcopy(ev))
            continue
        for k in range(n):
            e = copy.deepcopy(ev)
            for key in COUNTRY_KEYS:
                if key in e:
                    e[key] = name(e[key], k)
            for key in COUNTRY_LIST_KEYS:
                if e.get(key) == "all" or (key == "importers" and key not in e and "exporter" in e):
                    e[key] = list(codes[k].values())        # 'all' (explicit or by default): this copy's countries
                elif isinstance(e.get(key), list):
                    e[key] = [name(c, k) for c in e[key]]
            if "facility" in e:
                e["facility"] = copy_name(e["facility"], k)
            for key in EVENT_ID_KEYS:
                if e.get(key):
                    e[key] = copy_name(e[key], k)
            out.append(e)
    return out


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:       # 29 February
        return day.replace(year=day.year + years, day=28)


_BASES: dict = {}


def build_scenario(n: int, horizon: int = 1, file: Path = BASELINE):
    """A validated Scenario of ``n`` copies of the world of ``file`` over ``horizon`` times its calendar
    (sources checked against the seeds/ registry, like ``load_scenario``)."""
    if file not in _BASES:
        _BASES[file] = (read_scenario(file), registry_for(file))
    doc, registry = _BASES[file]
    data = scale_world(doc.data, n, horizon)
    return validate_document(YamlDocument(str(file), data, {}), registry)


class CopiesSimulation(Simulation):
    """The engine, with spot buying (re-sourcing) kept within each copy of an N-times world.

    Contracts (supplier shares) are within a copy already, but the engine lets a buyer re-source from
    any country that makes the stage's product: every one during the spin-up, every one once it has
    qualified them afterwards. Between copies that means twins trading the same oxide both ways (US
    buying from its twin while the twin buys from it) and the N-times world drifting away from N
    baselines (see ``--linked``). This class clears that: before each step, buyers count only their
    own copy's suppliers as qualified. One [C, C, I] boolean AND per stage and step; nothing else of the
    engine changes.
    """

    def __init__(self, scenario, copies: int = 1, **kwargs):
        super().__init__(scenario, **kwargs)
        per = self.net.n_countries // copies
        within = np.kron(np.eye(copies, dtype=bool), np.ones((per, per), dtype=bool))
        # whole [C, C, I] masks: an AND broadcast along the item axis took 0.5 ms a step at 200 countries,
        # a sixth of the run it measures
        self._within = {stage: np.repeat(within[:, :, None], self.state.qualified[stage].shape[2], axis=2)
                        for stage in STAGES}

    def next_step(self) -> bool:
        # qualifications change only between steps (SimPy events), so a mask at the step's start holds
        # for every market the step clears
        for stage in STAGES:
            np.logical_and(self.state.qualified[stage], self._within[stage], out=self.state.qualified[stage])
        return super().next_step()


def simulation(scenario, copies: int, linked: bool = False) -> Simulation:
    """A Simulation of an N-times world: copies kept apart (the default), or linked by the engine's spot buying."""
    return Simulation(scenario, seed=0) if linked or copies == 1 else CopiesSimulation(scenario, copies, seed=0)


# ---------------------------------------------------------------- the split world (facilities only)
SPLIT_EVENT_TYPES = ("capacity_change", "outage")          # facility events mapped to every part


def split_world(data: dict, n: int, notes: list | None = None) -> dict:
    """Scenario data of the world of ``data`` with every facility split into ``n`` parts of capacity / n
    (same country and everything else; parts 2..n suffixed ``_2``...). Countries and totals unchanged."""
    d = copy.deepcopy(data)
    if n == 1:
        return d
    fids = [fid for plants in (data.get("facilities") or {}).values() for fid in plants]
    parts = [copy_name(fid, k) for fid in fids for k in range(n)]
    if len(set(parts)) != len(parts):
        raise ValueError(f"facility ids of a {n}-way split clash")
    d["facilities"] = {stage: {copy_name(fid, k): {**copy.deepcopy(f), "capacity_t": float(f["capacity_t"]) / n,
                                                   "name": f"{f['name']} (part {k + 1}/{n})"}
                               for fid, f in plants.items() for k in range(n)}
                       for stage, plants in (data.get("facilities") or {}).items()}
    d["events"] = split_events(data.get("events") or [], n, set(fids), notes if notes is not None else [])
    d["name"] = f"{data.get('name', 'baseline')}_split{n}"
    return d


def split_events(events: list, n: int, fids: set, notes: list) -> list:
    """Events naming a facility mapped to each of its ``n`` parts (capacity_change: capacity_t / n; outage
    as is), parts 2..n ``together_with`` part 1; other events naming a facility dropped with a note."""
    out = []
    for i, ev in enumerate(events):
        if ev.get("facility") not in fids:
            out.append(copy.deepcopy(ev))
            continue
        if ev.get("type") not in SPLIT_EVENT_TYPES:
            notes.append(f"dropped event {ev.get('id') or i} ({ev.get('type')}) on facility {ev['facility']}: "
                         f"no rule to split it")
            continue
        first = copy.deepcopy(ev)
        if not first.get("id"):
            first["id"] = f"{ev['facility']}_split_event_{i}"       # so parts 2..n can go together with it
        for k in range(n):
            e = copy.deepcopy(first) if k == 0 else {key: copy.deepcopy(v) for key, v in first.items()
                                                      if key != "probability"}
            e["facility"] = copy_name(ev["facility"], k)
            if e["type"] == "capacity_change":
                e["capacity_t"] = float(ev["capacity_t"]) / n
            if k:
                e["id"] = copy_name(first["id"], k)
                e["together_with"] = first["id"]
            out.append(e)
    return out


def build_split_scenario(n: int, file: Path = BASELINE, notes: list | None = None):
    """A validated Scenario of the world of ``file`` with every facility split into ``n`` parts."""
    if file not in _BASES:
        _BASES[file] = (read_scenario(file), registry_for(file))
    doc, registry = _BASES[file]
    return validate_document(YamlDocument(str(file), split_world(doc.data, n, notes), {}), registry)


# ---------------------------------------------------------------- checks and timing
def totals(results, copies: int = 1) -> np.ndarray:
    """[copies, 3]: t REO mined, t magnets made, t magnet supplied to end uses, per copy of the world."""
    C = results.net.n_countries
    return country_totals(results).reshape(copies, C // copies, 3).sum(axis=1)


def check_scaled(base, results, n: int, label: str = "") -> str:
    """A table row proving the N-times world is N baselines: totals and the worst copy against the baseline."""
    b = totals(base)[0]
    t = totals(results, n)
    world = t.sum(axis=0) / (n * b)
    worst = np.abs(t / b[None] - 1).max(axis=0)
    return (f"| {n}×{label} | {results.net.n_countries} | " + " | ".join(f"{w:.6f}" for w in world) + " | "
            + " | ".join(f"{x:.1e}" for x in worst) + " |")


def check_split(base, results, n: int) -> str:
    """A table row proving the split world has the baseline's totals: world ratio and worst country."""
    b = country_totals(base)
    t = country_totals(results)
    world = t.sum(axis=0) / b.sum(axis=0)
    worst = (np.abs(t - b) / np.where(b > 0, b, 1.0)).max(axis=0)
    return (f"| {n}× facilities | {results.net.n_countries} | {n_facilities(results.net)} | "
            + " | ".join(f"{w:.6f}" for w in world) + " | "
            + " | ".join(f"{abs(w - 1):.1e}" for w in world) + " | "
            + " | ".join(f"{x:.1e}" for x in worst) + " |")


def country_totals(results) -> np.ndarray:
    """[C, 3]: t REO mined, t magnets made, t magnet supplied to end uses, per country."""
    raw = results.raw
    return np.stack([raw.mined.sum(axis=(0, 2)), raw.magnets_made.sum(axis=(0, 2)),
                     raw.supplied.sum(axis=(0, 2))], axis=1)


def n_facilities(net) -> int:
    return len(net.mines.ids) + len(net.refineries.ids) + len(net.magnet_plants.ids)


def time_run(scenario, copies: int, repeats: int, linked: bool = False):
    walls, cpus, results = [], [], None
    for _ in range(repeats):
        results = None
        c0, t0 = time.process_time(), time.perf_counter()
        results = simulation(scenario, copies, linked).run()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), results


def recorder_mb(results) -> float:
    return results.raw.nbytes / 1e6


def slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0]) if len(x) > 1 else float("nan")


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (f"{dt.date.today()} | {os.cpu_count()} CPUs ({cpu}) | load average at start "
            f"{', '.join(f'{x:.1f}' for x in load)} | Python {platform.python_version()} | numpy {np.__version__}")


def profile(n: int, linked: bool = False, top: int = 10) -> str:
    scenario = build_scenario(n)
    prof = cProfile.Profile()
    prof.enable()
    simulation(scenario, n, linked).run()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("tottime")
    stats.print_stats(top)
    text = out.getvalue()
    body = text[text.find("   ncalls"):] if "   ncalls" in text else text
    head = next((line.strip() for line in text.splitlines() if "function calls" in line), "")
    out = io.StringIO()
    stats.stream = out
    stats.print_callers(2)          # who calls the two most expensive functions
    callers = out.getvalue()
    callers = callers[callers.find("Function "):] if "Function " in callers else callers
    return f"{head}\n\n{body.rstrip()}\n\nCallers of the top two:\n\n{callers.rstrip()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 1x, 2x, 3x and horizons 1x, 2x; no profile")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--linked", action="store_true",
                        help="plain engine: copies linked by spot buying (not N baselines; see CopiesSimulation)")
    parser.add_argument("--profile-size", type=int, default=5, help="copies of the world in the profiled run")
    parser.add_argument("--sizes", type=lambda text: tuple(int(x) for x in text.split(",")),
                        help="only these sizes of the N-times world (e.g. 1,10; 1 is always run, as the yardstick), "
                             "1x horizon, no facilities axis and no profile")
    parser.add_argument("--facilities-only", action="store_true",
                        help="only the facilities axis: the same countries, every facility split into N parts")
    args = parser.parse_args()
    print("# Run time against network size and horizon\n")
    print(machine() + "\n")
    if not args.facilities_only:
        countries_and_facilities(args)
    if args.sizes:
        return
    facilities_axis()
    if not (args.quick or args.no_profile or args.facilities_only):
        print(f"\n## Where the time goes: cProfile of one {args.profile_size}× run (1× horizon), top 10 by tottime\n")
        print("```")
        print(profile(args.profile_size, args.linked))
        print("```")


def countries_and_facilities(args) -> None:
    """The N-times world (countries and facilities repeated) over sizes and horizons: check, timing, exponents."""
    sizes = tuple(sorted({1, *args.sizes})) if args.sizes else (1, 2, 3) if args.quick else (1, 2, 5, 10)
    horizons = (1,) if args.sizes else (1, 2) if args.quick else (1, 2, 4)

    def repeats(n: int, h: int) -> int:
        return 3 if n * n * h <= 4 else 1        # median of 3 while a run is short, one run when it is not

    configs = [(n, 1) for n in sizes] + [(1, h) for h in horizons if h > 1]
    rows, base, checks = {}, None, []
    for n, h in configs:
        t0 = time.perf_counter()
        scenario = build_scenario(n, h)
        build = time.perf_counter() - t0
        wall, cpu, results = time_run(scenario, n, repeats(n, h), args.linked)
        if (n, h) == (1, 1):
            base = results
        elif h == 1:
            checks.append(check_scaled(base, results, n))
        net = results.net
        steps = len(net.dates) + math.ceil(SPIN_UP_DAYS / net.step_days)      # calendar steps + spin-up steps
        rows[(n, h)] = {"countries": net.n_countries, "facilities": len(net.mines.ids) + len(net.refineries.ids)
                        + len(net.magnet_plants.ids), "years": round((net.dates[-1] - net.dates[0]).days / 365.25), "steps": steps, "wall": wall, "cpu": cpu,
                        "days": steps * net.step_days, "build": build, "repeats": repeats(n, h),
                        "mb": recorder_mb(results)}
        print(f"  ran {n}x size, {h}x horizon: {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"(x{repeats(n, h)}; build+validate {build:.2f} s)", file=sys.stderr, flush=True)
        del results

    if not args.linked and 2 in sizes and not args.sizes:     # the same 2x world on the plain engine: what spot buying across copies does
        t0 = time.perf_counter()
        linked = simulation(build_scenario(2), 2, linked=True).run()
        checks.append(check_scaled(base, linked, 2, " linked (plain engine)"))
        print(f"  ran 2x linked: {time.perf_counter() - t0:.2f} s wall", file=sys.stderr, flush=True)
        del linked

    print("## Is the N× world N baselines?\n")
    print("World totals over ten years as a multiple of N × baseline (1 = exact), and the worst copy's relative "
          "difference from the baseline. The engine checks the mass balance every step, so every run here "
          "kept it. " + ("Copies linked: the plain engine's spot buying reaches every copy." if args.linked else
                         "Copies kept apart (`CopiesSimulation`: spot buying within a copy); the 'linked' row is "
                         "the same 2× world on the plain engine, where buyers also re-source from other copies.")
          + "\n")
    print("| size | countries | mined | magnets made | end use supplied | worst copy: mined | magnets | supplied |")
    print("|---|---|---|---|---|---|---|---|")
    for line in checks:
        print(line)
    if max(horizons) > 1:
        print(f"\nLonger horizons hold the 2024 world (no growth in the baseline): its calendar steps run to "
              f"{build_scenario(1, max(horizons)).calendar.end}.")

    one = rows[(1, 1)]
    print("\n## Timing\n")
    print("Time of `Simulation(...).run()` (network arrays, one-year spin-up, calendar), median of the runs; "
          "steps include the spin-up steps. Wall time is perf_counter; CPU time is this process's (on a loaded "
          "machine wall time also counts waiting for a core, so CPU time is the steadier measure of work). "
          "µs per country-step = time / (countries × steps); flat means linear in size and horizon. "
          "Recorder MB: what the run's record holds (``Recorder.nbytes``: dense arrays by country, the "
          "non-zero routes and provenance rows).\n")
    print("| size | countries | facilities | horizon (years) | steps | runs | wall s | CPU s | wall / 1× | CPU / 1× | "
          "sim days/s (wall) | µs per country-step (wall) | µs per country-step (CPU) | recorder MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (n, h), r in rows.items():
        cs = r["countries"] * r["steps"]
        print(f"| {n}× | {r['countries']} | {r['facilities']} | {r['years']} | {r['steps']} | {r['repeats']} | "
              f"{r['wall']:.2f} | {r['cpu']:.2f} | {r['wall'] / one['wall']:.2f} | {r['cpu'] / one['cpu']:.2f} | "
              f"{r['days'] / r['wall']:,.0f} | {1e6 * r['wall'] / cs:.0f} | {1e6 * r['cpu'] / cs:.0f} | "
              f"{r['mb']:.0f} |")

    print("\n## Fitted exponents (log-log slope of time; 1 = linear, 2 = quadratic)\n")
    print("| against | range | wall | CPU |")
    print("|---|---|---|---|")

    def fit(label: str, span: str, pts: list, key: str) -> None:
        x = [r[key] for r in pts]
        print(f"| {label} | {span} | {slope(x, [r['wall'] for r in pts]):.2f} | "
              f"{slope(x, [r['cpu'] for r in pts]):.2f} |")

    size_rows = [rows[(n, 1)] for n in sizes]
    hor_rows = [rows[(1, h)] for h in horizons]
    fit("countries", f"{sizes[0]}×–{sizes[-1]}× (all {len(sizes)} sizes)", size_rows, "countries")
    for a, b in itertools.pairwise(sizes):
        fit("countries", f"{a}× → {b}×", [rows[(a, 1)], rows[(b, 1)]], "countries")
    if len(hor_rows) > 1:
        fit("steps incl. spin-up", f"horizon {horizons[0]}×–{horizons[-1]}×", hor_rows, "steps")
        fit("horizon years", f"{horizons[0]}×–{horizons[-1]}×", hor_rows, "years")


def facilities_axis(splits=(1, 2, 5, 10), repeats: int = 3) -> None:
    """Facilities only: the baseline's countries, every facility split into N parts of capacity / N."""
    rows, base, checks, notes = {}, None, [], []
    for n in splits:
        t0 = time.perf_counter()
        scenario = build_split_scenario(n, notes=notes)
        build = time.perf_counter() - t0
        wall, cpu, results = time_run(scenario, 1, repeats)
        if n == 1:
            base = results
        else:
            checks.append(check_split(base, results, n))
        net = results.net
        steps = len(net.dates) + math.ceil(SPIN_UP_DAYS / net.step_days)
        rows[n] = {"countries": net.n_countries, "facilities": n_facilities(net), "steps": steps,
                   "wall": wall, "cpu": cpu, "mb": recorder_mb(results)}
        print(f"  ran facilities split {n}x: {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"(x{repeats}; build+validate {build:.2f} s)", file=sys.stderr, flush=True)
        del results
    for note in dict.fromkeys(notes):
        print(f"  note: {note}", file=sys.stderr)

    print("\n## Facilities only: the same countries, every facility split into N parts\n")
    print("Every facility split into N parts of capacity / N in its own country (ids suffixed `_2`…; "
          "see the docstring), so the world's capacity per country and stage is the baseline's. Check: "
          "totals over ten years against the baseline (N = 1): world ratio (1 = exact), its relative "
          "difference, and the worst country's relative difference.\n")
    print("| split | countries | facilities | mined | magnets made | end use supplied | rel. diff: mined | magnets | "
          "supplied | worst country: mined | magnets | supplied |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for line in checks:
        print(line)

    one = rows[splits[0]]
    print(f"\nTime of `Simulation(...).run()` (plain engine, 1× horizon), median of {repeats} runs, as in the "
          "timing above. µs per facility-step = wall time / (facilities × steps).\n")
    print("| split | countries | facilities | steps | runs | wall s | CPU s | wall / 1× | CPU / 1× | "
          "µs per facility-step (wall) | recorder MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, r in rows.items():
        print(f"| {n}× | {r['countries']} | {r['facilities']} | {r['steps']} | {repeats} | {r['wall']:.2f} | "
              f"{r['cpu']:.2f} | {r['wall'] / one['wall']:.2f} | {r['cpu'] / one['cpu']:.2f} | "
              f"{1e6 * r['wall'] / (r['facilities'] * r['steps']):.0f} | {r['mb']:.0f} |")

    print("\nFitted exponent (log-log slope of time against the number of facilities; 0 = flat, 1 = linear):\n")
    print("| against | range | wall | CPU |")
    print("|---|---|---|---|")
    pairs = [(f"{splits[0]}×–{splits[-1]}× (all {len(splits)} splits)", splits)] + [
        (f"{a}× → {b}×", (a, b)) for a, b in itertools.pairwise(splits)]
    for span, ns in pairs:
        x = [rows[n]["facilities"] for n in ns]
        print(f"| facilities | {span} | {slope(x, [rows[n]['wall'] for n in ns]):.2f} | "
              f"{slope(x, [rows[n]['cpu'] for n in ns]):.2f} |")


if __name__ == "__main__":
    main()
