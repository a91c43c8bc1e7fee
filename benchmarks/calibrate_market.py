"""Fit market parameters to the back-test's calibration targets, and show how the fit does out of sample.

    python benchmarks/calibrate_market.py --fit crisis_2010 \\
        --param prices.scarcity_elasticity=0.5..8 --param prices.stock_elasticity=0..4 \\
        --check april_2025_licensing myanmar_2024 [--targets ID,ID] [--method powell|differential_evolution] \\
        [--maxiter 40] [--replications 8] [--workers 2] [--out benchmarks/results/calibration.md]

The procedure, reproducible from the command line it records:

1. Every parameter is a key path of the scenario language, set in every fitted episode (``sim.backtest``'s
   ``settings``) within its bounds.
2. The misfit of a setting is the mean of the squared distances of the chosen targets (default: the
   calibration targets of the fitted episodes) from their observed figures, each in half-widths of its band
   (``Scorecard.misfit``: 1 at the band's edge; multiples on a log scale); a target the model gives no
   value for counts as 10 half-widths.
3. scipy.optimize minimises it: Powell's method from the middle of the bounds (default), or differential
   evolution with seed 0; both are deterministic, like every run of the model.
4. The best setting is then scored on the fitted episodes and, out of sample, on the ``--check`` episodes,
   and everything is written to ``--out`` as Markdown: bounds, best values, misfit, evaluations, time, and
   both scorecards. Record a fitted value in ``seeds/`` (an assumption with ``fitted_to:`` naming the
   targets) before a scenario uses it.

Runs take seconds each; a fit of two parameters takes some minutes. It needs scipy (``pip install -e
".[calibration]"``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402

from sim.backtest import backtest  # noqa: E402

NO_VALUE = 10.0            # half-widths charged for a target the model gives no value for


def parse_param(text: str) -> tuple[str, float, float]:
    """``prices.scarcity_elasticity=0.5..8`` -> (key path, low, high)."""
    key, _, bounds = text.partition("=")
    low, sep, high = bounds.partition("..")
    if not key or not sep:
        raise argparse.ArgumentTypeError(f"expected KEY.PATH=LOW..HIGH, got {text!r}")
    lo, hi = float(low), float(high)
    if not lo < hi:
        raise argparse.ArgumentTypeError(f"{key}: the low bound {lo} must be below the high one {hi}")
    return key, lo, hi


class Fit:
    """The misfit of settings on the fitted episodes, remembered per setting (scipy may ask twice)."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.keys = [p[0] for p in args.param]
        self.bounds = [(p[1], p[2]) for p in args.param]
        self.seen: dict[tuple[float, ...], float] = {}
        self.targets = args.targets.split(",") if args.targets else None

    def settings(self, x) -> dict[str, float]:
        return {k: float(np.clip(v, lo, hi)) for k, v, (lo, hi) in zip(self.keys, x, self.bounds)}

    def chosen(self, card) -> list[str]:
        if self.targets:
            return self.targets
        return list(card.table.loc[card.table["kind"] == "calibration", "target"])

    def __call__(self, x) -> float:
        key = tuple(round(float(v), 10) for v in x)
        if key not in self.seen:
            card = backtest(self.args.fit, replications=self.args.replications, workers=self.args.workers,
                            settings=self.settings(x), seeds=self.args.seeds)
            z = card.misfit(self.chosen(card)).to_numpy(dtype=float)
            z = np.where(np.isfinite(z), z, NO_VALUE)
            self.seen[key] = float(np.mean(z ** 2))
            print(f"  {self.settings(x)} -> misfit {self.seen[key]:.4g}", flush=True)
        return self.seen[key]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", nargs="+", required=True, metavar="EPISODE", help="episodes to fit on")
    parser.add_argument("--param", action="append", type=parse_param, required=True, metavar="KEY=LOW..HIGH")
    parser.add_argument("--check", nargs="*", default=[], metavar="EPISODE", help="episodes scored out of sample")
    parser.add_argument("--targets", metavar="ID,ID", help="targets to fit (default: the calibration targets)")
    parser.add_argument("--method", choices=("powell", "differential_evolution"), default="powell")
    parser.add_argument("--maxiter", type=int, default=40)
    parser.add_argument("--replications", type=int, default=8, help="of an uncertain episode, per evaluation")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "calibration.md")
    parser.add_argument("--seeds", type=Path, default=None,
                        help="a seeds/ folder (its scenarios/ beside it) other than the project's, for trials")
    args = parser.parse_args(argv)
    fit = Fit(args)
    started = time.perf_counter()
    if args.method == "powell":
        middle = [(lo + hi) / 2 for lo, hi in fit.bounds]
        result = optimize.minimize(fit, middle, method="Powell", bounds=fit.bounds,
                                   options={"maxiter": args.maxiter, "xtol": 1e-2, "ftol": 1e-3})
    else:
        result = optimize.differential_evolution(fit, fit.bounds, maxiter=args.maxiter, seed=0, polish=False,
                                                 tol=1e-3)
    seconds = time.perf_counter() - started
    best = fit.settings(result.x)
    fitted = backtest(args.fit, replications=args.replications, workers=args.workers, settings=best,
                      seeds=args.seeds)
    checked = (backtest(args.check, replications=args.replications, workers=args.workers, settings=best,
                        seeds=args.seeds) if args.check else None)
    report = render(args, fit, best, float(result.fun), seconds, fitted, checked, argv or sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


def render(args, fit: Fit, best: dict, misfit: float, seconds: float, fitted, checked, argv: list[str]) -> str:
    lines = [f"# Calibration of {', '.join(args.fit)} ({dt.date.today().isoformat()})", "",
             "Reproduce with:", "", "```", "python benchmarks/calibrate_market.py " + " ".join(argv), "```", "",
             f"Method {args.method}, {len(fit.seen)} settings evaluated in {seconds:.0f} s; "
             f"misfit (mean squared half-widths) {misfit:.4g} on "
             f"{', '.join(fit.chosen(fitted))}.", "",
             "| parameter | low | high | best |", "|---|---|---|---|"]
    lines += [f"| `{k}` | {lo:g} | {hi:g} | {best[k]:.4g} |" for k, (lo, hi) in zip(fit.keys, fit.bounds)]
    z = fitted.misfit(fit.chosen(fitted))
    lines += ["", "Misfit by target (half-widths of the band; 1 is its edge):", "",
              "| target | misfit |", "|---|---|"]
    lines += [f"| `{t}` | {v:+.2f} |" if math.isfinite(v) else f"| `{t}` | n/a |" for t, v in z.items()]
    lines += ["", "## Fitted episodes at the best setting", "", fitted.markdown()]
    if checked is not None:
        lines += ["## Out of sample at the best setting", "", checked.markdown()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
