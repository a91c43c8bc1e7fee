"""An export quota's allowance over calendar years, end to end: a baseline run with a quota and its flows table.

The rule (``ExportQuota.new_step``, ``sim.kernels.clearing.cut_to_quotas`` and the engine's step): at the start of every weekly step in which the
quota is in force, before that step's trade, the allowance grows by ``t_per_year x 7 / 365.25`` t; the first
step whose first day falls in a new calendar year empties it first. Each step's covered exports are cut to the
allowance left, and what a step leaves unused carries over to the next steps of the same year. So a year's
covered exports total at most ``t_per_year x 7 x n / 365.25``, n the steps starting in it while the quota is in
force, and exactly that when the quota binds throughout. With ``per_importer: true`` each importer has an
allowance of its own.

The baseline's calendar starts on Monday 1 January 2024: steps start on 1 Jan, 8 Jan, ... 30 Dec 2024
(53 steps, 2024 being a leap year), then 6 Jan ... 29 Dec 2025 (52) and 5 Jan ... 28 Dec 2026 (52).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim import run

from .conftest import SCENARIOS

BASE = SCENARIOS / "baseline.yaml"
TONNES = 40.0                   # Japan buys about four times this from China a year: the quota binds all year
WEEK = TONNES * 7 / 365.25      # 0.766598... t of allowance a step
QUOTA = """\
events:
  - type: export_quota
    exporter: CN
    importers: {importers}
    stages: [refinery]
    elements: [Dy]
    t_per_year: {tonnes}
    per_importer: {per_importer}
    start: 2024-01-01
"""
BAN = """\
  - type: export_ban
    exporter: CN
    importers: [JP]
    stages: [refinery]
    elements: [Dy]
    start: {start}
    end: {end}
"""


def quota_run(write, extra: str = "", end=dt.date(2026, 12, 31), importers="[JP]", tonnes=TONNES,
              per_importer="false"):
    body = QUOTA.format(importers=importers, tonnes=tonnes, per_importer=per_importer) + extra
    return run(write(f"extends: {BASE}\nname: quota\n{body}"), end=end)


def chinese_dy_oxide(results, importer: str | None = "JP") -> pd.Series | pd.DataFrame:
    """t of Dy oxide China exported in each step (to one importer, or by importer), zero where none."""
    f = results.table("flows", "step")
    f = f[(f["stage"] == "refinery") & (f["exporter"] == "CN") & (f["item"] == "Dy")]
    steps = pd.DatetimeIndex(results.dates)
    if importer is None:
        return f.pivot_table(index="date", columns="importer", values="t", aggfunc="sum").reindex(steps).fillna(0.0)
    return f[f["importer"] == importer].groupby("date")["t"].sum().reindex(steps, fill_value=0.0)


def accrued(steps: pd.DatetimeIndex, week: float) -> np.ndarray:
    """Allowance accrued since 1 January up to and including each step, for a quota in force throughout."""
    nth_of_year = pd.Series(1, index=steps).groupby(steps.year).cumsum().to_numpy()
    return week * nth_of_year


def test_a_binding_quota_lets_through_one_steps_allowance_a_step_and_its_accrual_a_year(write):
    """A quota that binds all year ships exactly a step's allowance every step: 53 steps' worth in 2024,
    52 in 2025 and in 2026."""
    jp = chinese_dy_oxide(quota_run(write))
    np.testing.assert_allclose(jp.to_numpy(), WEEK, rtol=1e-12)
    by_year = jp.groupby(jp.index.year).sum()
    # 40 x 7 / 365.25 = 0.7666 t a step: 2024 53 x 0.7666 = 40.63 t; 2025 and 2026 52 x 0.7666 = 39.86 t
    np.testing.assert_allclose(by_year.loc[[2024, 2025, 2026]], [53 * WEEK, 52 * WEEK, 52 * WEEK], rtol=1e-12)


def test_unused_allowance_carries_over_within_the_year_and_is_lost_on_1_january(write):
    """While a ban stops the covered exports the quota still accrues: after a spring ban the allowance saved is
    used up; the allowance of a ban over the new year is lost on 1 January; cumulative covered exports never
    exceed the allowance accrued since 1 January."""
    bans = BAN.format(start="2025-03-03", end="2025-06-02") + BAN.format(start="2025-10-06", end="2026-02-02")
    jp = chinese_dy_oxide(quota_run(write, bans))
    cumulative = jp.groupby(jp.index.year).cumsum().to_numpy()
    assert (cumulative <= accrued(jp.index, WEEK) * (1 + 1e-12)).all()

    # spring: the 13 steps of 3 Mar .. 26 May ship nothing; from 2 Jun the saved 13 steps' allowance is used up,
    # so 2 Jun .. 16 Jun ship 13 + 3 steps' worth, and every step after one step's worth again
    assert jp["2025-03-03":"2025-05-26"].sum() == 0
    assert jp["2025-06-02":"2025-06-16"].sum() == pytest.approx(16 * WEEK, rel=1e-12)
    np.testing.assert_allclose(jp["2025-06-23":"2025-09-29"].to_numpy(), WEEK, rtol=1e-12)
    # winter: 6 Oct .. 29 Dec 2025 (13 steps) ship nothing and their allowance is lost on 1 January;
    # 2025 keeps 52 - 13 = 39 steps' worth. 5 Jan .. 26 Jan 2026 (4 steps) ship nothing and carry over:
    # 2 Feb ships 4 + 1 = 5 steps' worth, and 2026 its full 52
    by_year = jp.groupby(jp.index.year).sum()
    assert by_year[2025] == pytest.approx(39 * WEEK, rel=1e-12)
    assert jp["2026-02-02"] == pytest.approx(5 * WEEK, rel=1e-12)
    assert by_year[2026] == pytest.approx(52 * WEEK, rel=1e-12)


@pytest.mark.parametrize("per_importer", ["true", "false"])
def test_a_quota_per_importer_gives_each_importer_an_allowance_of_its_own(write, per_importer):
    """With ``per_importer: true`` every importer gets up to the whole allowance (Japan, Korea, Germany and
    Vietnam, each buying more than 3 t a year of Chinese Dy oxide, get all of it); without it they share one."""
    tonnes = 3.0
    week = tonnes * 7 / 365.25
    results = quota_run(write, end=dt.date(2025, 12, 31), importers="all", tonnes=tonnes, per_importer=per_importer)
    by_importer = chinese_dy_oxide(results, importer=None)
    allowance = accrued(by_importer.index, week)                 # since 1 January, at each step
    cumulative = by_importer.groupby(by_importer.index.year).cumsum()
    if per_importer == "true":
        assert (cumulative.to_numpy() <= allowance[:, None] * (1 + 1e-12)).all()
        for importer in ("JP", "KR", "DE", "VN"):
            # 2024: 53 x 3 x 7 / 365.25 = 3.05 t each; 2025: 52 x ... = 2.99 t each
            totals = by_importer[importer].groupby(by_importer.index.year).sum()
            np.testing.assert_allclose(totals.loc[[2024, 2025]], [53 * week, 52 * week], rtol=1e-12)
    else:
        everyone = by_importer.sum(axis=1)
        np.testing.assert_allclose(everyone.to_numpy(), week, rtol=1e-12)   # one allowance, shared
        assert (by_importer["JP"] < week * (1 - 1e-3)).all()
