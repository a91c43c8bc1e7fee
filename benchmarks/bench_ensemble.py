"""Time a Monte Carlo ensemble end to end: python benchmarks/bench_ensemble.py [N] [--scenario NAME] [--workers W].

Default: 1,000 replications of japan_ban_uncertain (japan_ban with its uncertain
inputs drawn per replication; japan_ban itself has no random input, so its
replications would all be identical) on all local cores. Times what a user
waits for with ``python -m sim SCENARIO.yaml --replications N --no-plots``:
every replication run and written to disk, then the bands read back and
computed. Also reports the time of one replication alone in this process and
the ensemble's efficiency against it (the ideal being cores x replications per
second of one run). The ensemble is written to a temporary folder, removed at
the end unless ``--keep DIR``.

``--local-cluster`` runs the same ensemble on a Dask LocalCluster of ``--workers``
processes started by this script (its start-up is timed apart), the way
``--scheduler`` would on a real cluster; ``--both`` runs local workers and then
the LocalCluster in one process, for a ratio on the same machine state; ``--rounds K`` does that K times
(the cluster started once) and gives the median of the K paired ratios, steadier on a shared machine.
Each way also reports the CPU seconds per replication of every process it used (this one, its local
workers, or the cluster's scheduler, nannies and workers), which other work on the machine moves less
than the wall time.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sim import Simulation, load_scenario
from sim.experiments.ensemble import run_ensemble

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("replications", type=int, nargs="?", default=1000)
    parser.add_argument("--scenario", default="japan_ban_uncertain")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--scheduler", help="a Dask scheduler (tcp://HOST:PORT) instead of local processes")
    parser.add_argument("--local-cluster", action="store_true", help="on a Dask LocalCluster of --workers processes")
    parser.add_argument("--both", action="store_true", help="local workers, then a Dask LocalCluster")
    parser.add_argument("--rounds", type=int, default=1, help="with --both: this many pairs, for a median ratio")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the ensemble here and keep it")
    args = parser.parse_args()

    scenario = load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    singles = []
    for r in range(3):
        started = time.perf_counter()
        Simulation(scenario, replication=r).run()
        singles.append(time.perf_counter() - started)
    single = statistics.median(singles)

    n, failed, timings = args.replications, 0, {}
    ways = ["local", "cluster"] if args.both else ["cluster" if args.local_cluster else "local"]
    rounds = args.rounds if args.both else 1
    for _ in range(rounds):
        for way in ways:
            if way == "cluster":            # a new one each round: its workers import sim, as a fresh cluster's do
                with _local_cluster(args.workers) as cluster:
                    seconds, cpu, ensemble = _timed(scenario, n, args.keep, None, cluster.scheduler_address)
                where = f"a Dask LocalCluster of {args.workers} processes"
            elif args.scheduler:
                seconds, cpu, ensemble = _timed(scenario, n, args.keep, None, args.scheduler)
                where = args.scheduler
            else:
                seconds, cpu, ensemble = _timed(scenario, n, args.keep, args.workers, None)
                where = f"{args.workers} local worker{'s' if args.workers != 1 else ''}"
            timings.setdefault(way, []).append(seconds)
            failed += len(ensemble.failures)
            print(f"{args.scenario}: {n} replications on {where} in {seconds:.1f} s ({seconds / n:.3f} s each, "
                  f"{n / seconds:.1f} per second), bands included; {len(ensemble.failures)} failed; "
                  f"CPU of every process {cpu / n:.3f} s a replication")
            print(f"target: 1,000 replications in under 60 s -> {'met' if seconds * 1000 / n <= 60 else 'missed'} "
                  f"(at this rate 1,000 take {seconds * 1000 / n:.0f} s)", flush=True)
    ideal = n * single / (args.workers or 1)
    print(f"one replication alone: {single:.3f} s (median of 3); ideal on {args.workers} cores {ideal:.1f} s"
          + (f", efficiency of local workers {ideal / min(timings['local']):.0%}" if "local" in timings else ""))
    if len(timings) == 2:
        ratios = [there / here for here, there in zip(timings["local"], timings["cluster"])]
        print(f"LocalCluster / local workers: x{statistics.median(ratios):.2f}"
              + (f" (median of {rounds} pairs: {', '.join(f'x{r:.2f}' for r in ratios)})" if rounds > 1 else "")
              + " (target: within 20 %)")
    return 1 if failed else 0


@contextlib.contextmanager
def _local_cluster(workers: int):
    """A Dask LocalCluster of ``workers`` single-threaded processes; its start-up is not timed."""
    import distributed

    started = time.perf_counter()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        print(f"Dask LocalCluster of {workers} processes started in {time.perf_counter() - started:.1f} s "
              "(not counted)")
        yield cluster


def _timed(scenario, n: int, keep: Path | None, workers: int | None, scheduler: str | None):
    """(seconds, CPU seconds of every process, ensemble) of ``n`` replications written to ``keep`` or a temporary
    folder (then removed)."""
    folder = keep or Path(tempfile.mkdtemp(prefix="bench_ensemble_"))
    try:
        cpu = _cpu_seconds()
        started = time.perf_counter()
        ensemble = run_ensemble(scenario, n, folder / "ensemble", workers=workers, scheduler=scheduler)
        return time.perf_counter() - started, _cpu_seconds() - cpu, ensemble
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _cpu_seconds() -> float:
    """User and system seconds of this process, of its children that ended (a pool's workers), and of those
    still running (a LocalCluster's nannies and workers; psutil comes with dask.distributed)."""
    seconds = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    try:
        import psutil
    except ImportError:
        return seconds
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            seconds += sum(child.cpu_times()[:2])
    return seconds


if __name__ == "__main__":
    sys.exit(main())
