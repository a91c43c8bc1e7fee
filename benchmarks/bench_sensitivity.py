"""Wall and CPU seconds of the README's sensitivity examples, as a user runs them: the whole command.

    python benchmarks/bench_sensitivity.py [rounds] [--workers W] [--only NAME]

Runs each example of the README's "What drives a shortfall" section ``rounds`` times (default 1: each takes
minutes) as ``python -m sim sensitivity ...`` in a fresh process writing to a temporary folder, and prints, per
example, the median and range of wall seconds, the CPU seconds of all its processes, the runs it made and the
wall seconds per run. The kernels are compiled before the first round.
"""
from __future__ import annotations

import argparse
import statistics

from bench_size import compile_kernels, once

KOREA = ["scenarios/korea_after_expiry.yaml", "--vary", "events.april_2025_licences.approval",
         "--vary", "events.october_2025_controls.approval",
         "--vary", "events.october_2025_controls.processing_days.mode=20..63",
         "--vary", "trade.switching_days_by_item.magnet.high_temp", "--vary", "stockpiles.KR.days",
         "--metric", "KR.cumulative_unmet_t", "--metric", "KR.peak_shortfall_share"]
EXAMPLES = {   # name: the command's arguments after 'sensitivity'
    "Korea, Sobol' N=64, 4 replications": KOREA + ["--samples", "64", "--replications", "4"],
    "Korea, Sobol' N=64": KOREA + ["--samples", "64"],
    "Korea, Morris 10 trajectories": KOREA + ["--samples", "10", "--method", "morris"],
    "Japan ban, declared inputs, Sobol' N=16": ["scenarios/japan_ban_uncertain.yaml", "--samples", "16",
                                                "--metric", "JP.cumulative_unmet_t"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=1)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--only", choices=list(EXAMPLES))
    args = parser.parse_args()
    compile_kernels()
    print(f"{'example':40}{'wall median':>12}{'(min-max)':>16}{'CPU':>9}{'runs':>7}{'s/run':>8}")
    for name, arguments in EXAMPLES.items():
        if args.only and name != args.only:
            continue
        got = [once("sensitivity", arguments, args.workers) for _ in range(args.rounds)]
        walls = [g[0] for g in got]
        wall, cpu, runs = statistics.median(walls), statistics.median(g[1] for g in got), got[0][2]["runs"]
        print(f"{name:40}{wall:>11.1f}s{f'({min(walls):.1f}-{max(walls):.1f})':>16}{cpu:>8.1f}s{runs:>7}"
              f"{wall / runs:>8.3f}", flush=True)


if __name__ == "__main__":
    main()
